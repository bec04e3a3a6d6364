/*
 * jsonw.c: the JSON writer.  Everything lbauth writes as JSON (tokens'
 * payloads, the Liveblocks API request bodies, error bodies) is written
 * here exactly as JavaScript's JSON.stringify() writes it, so that
 * lbauth's upstream requests equal those of @liveblocks/node byte for
 * byte: lbx_jsonw_str() for one string, lbx_jsonw_value() for a parsed
 * json-c value.  Appends go to an lbx_buf (buf.c) and share its sticky
 * oom flag.  Reading JSON is json.c's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * Appends s (len bytes of UTF-8) as a JSON string with quotes, escaped
 * exactly as JavaScript's JSON.stringify() does (ECMA-262
 * QuoteJSONString): '"' and '\\' escaped, \b \f \n \r \t by name, other
 * controls below 0x20 as \u00xx, everything else as is.  A surrogate
 * code point encoded in UTF-8 (which json-c produces for a lone
 * "\ud800" escape) is written back as \udxxx, as JavaScript writes a
 * lone surrogate.  This is what makes lbauth's upstream requests equal,
 * byte for byte, to those of @liveblocks/node.
 */
void
lbx_jsonw_str(struct lbx_buf *b, const char *s, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, run;
	char			 esc[7];

	lbx_buf_putc(b, '"');
	for (i = run = 0; i < len; i++) {
		unsigned char c = u[i];
		const char *e = NULL;
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0xed)
			continue;
		if (c == 0xed && (i + 2 >= len || u[i + 1] < 0xa0))
			continue;
		lbx_buf_put(b, s + run, i - run);
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case 0xed: {
			unsigned cp = 0xd000 | ((u[i + 1] & 0x3fu) << 6) |
			    (u[i + 2] & 0x3fu);
			esc[0] = '\\'; esc[1] = 'u';
			esc[2] = hex[(cp >> 12) & 0xf];
			esc[3] = hex[(cp >> 8) & 0xf];
			esc[4] = hex[(cp >> 4) & 0xf];
			esc[5] = hex[cp & 0xf];
			e = esc;
			elen = 6;
			i += 2;
			break;
		}
		default:
			esc[0] = '\\'; esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			e = esc;
			elen = 6;
			break;
		}
		lbx_buf_put(b, e, elen);
		run = i + 1;
	}
	lbx_buf_put(b, s + run, len - run);
	lbx_buf_putc(b, '"');
}

/*
 * Writes the finite number d as JavaScript's Number.prototype.toString
 * does (ECMA-262 Number::toString): the shortest digits that read back
 * as d, fixed notation for exponents -7 < n <= 21, else "1.5e+22".
 */
static void
write_number(struct lbx_buf *b, double d)
{
	char	 e[40], digits[20];
	int	 p, exp, n, k, i;
	char	*m;

	if (!isfinite(d)) {
		lbx_buf_puts(b, "null");
		return;
	}
	if (d == 0) {
		lbx_buf_putc(b, '0');
		return;
	}
	if (d < 0) {
		lbx_buf_putc(b, '-');
		d = -d;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, d);
		if (strtod(e, NULL) == d)
			break;
	}
	/* e is "D.DDDDe+XX": collect the digits and the exponent. */
	for (k = 0, m = e; *m != 'e'; m++)
		if (*m >= '0' && *m <= '9')
			digits[k++] = *m;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	exp = atoi(m + 1);
	n = exp + 1;
	if (k <= n && n <= 21) {
		lbx_buf_put(b, digits, (size_t)k);
		for (i = k; i < n; i++)
			lbx_buf_putc(b, '0');
	} else if (0 < n && n <= 21) {
		lbx_buf_put(b, digits, (size_t)n);
		lbx_buf_putc(b, '.');
		lbx_buf_put(b, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		lbx_buf_puts(b, "0.");
		for (i = 0; i < -n; i++)
			lbx_buf_putc(b, '0');
		lbx_buf_put(b, digits, (size_t)k);
	} else {
		lbx_buf_putc(b, digits[0]);
		if (k > 1) {
			lbx_buf_putc(b, '.');
			lbx_buf_put(b, digits + 1, (size_t)(k - 1));
		}
		lbx_buf_printf(b, "e%c%d", n - 1 < 0 ? '-' : '+',
		    abs(n - 1));
	}
}

/*
 * Whether key is an array index in ECMA-262's sense ("0", or digits
 * without a leading zero below 2^32 - 1): JavaScript orders such keys
 * first, ascending, in every object.
 */
static bool
is_index(const char *key, unsigned long *v_r)
{
	unsigned long	 v = 0;
	const char	*p;

	if (key[0] == '\0' || (key[0] == '0' && key[1] != '\0'))
		return false;
	for (p = key; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - key >= 10)
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v >= 4294967295UL)
		return false;
	*v_r = v;
	return true;
}

struct idx {
	unsigned long		 v;
	const char		*key;
	struct json_object	*val;
};

static int
idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;

	return x->v < y->v ? -1 : x->v > y->v;
}

static void
write_member(struct lbx_buf *b, bool *first, const char *key,
    struct json_object *val)
{

	if (!*first)
		lbx_buf_putc(b, ',');
	*first = false;
	lbx_jsonw_str(b, key, strlen(key));
	lbx_buf_putc(b, ':');
	lbx_jsonw_value(b, val);
}

/*
 * Appends obj to b exactly as JSON.stringify(JSON.parse(text)) would
 * write it in JavaScript, text being what obj was parsed from: no white
 * space, strings escaped as JSON.stringify escapes them, numbers in
 * JavaScript's shortest form (integers beyond 2^53 lose precision as
 * they do there), member order preserved except that array-index keys
 * come first in ascending order.  NULL is written as null.
 */
void
lbx_jsonw_value(struct lbx_buf *b, struct json_object *obj)
{
	struct idx	*ix = NULL;
	size_t		 nix = 0, i;
	unsigned long	 v;
	bool		 first = true;

	switch (json_object_get_type(obj)) {
	case json_type_null:
		lbx_buf_puts(b, "null");
		break;
	case json_type_boolean:
		lbx_buf_puts(b, json_object_get_boolean(obj) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		write_number(b, json_object_get_double(obj));
		break;
	case json_type_string:
		lbx_jsonw_str(b, json_object_get_string(obj),
		    (size_t)json_object_get_string_len(obj));
		break;
	case json_type_array:
		lbx_buf_putc(b, '[');
		for (i = 0; i < json_object_array_length(obj); i++) {
			if (i > 0)
				lbx_buf_putc(b, ',');
			lbx_jsonw_value(b,
			    json_object_array_get_idx(obj, i));
		}
		lbx_buf_putc(b, ']');
		break;
	case json_type_object:
		lbx_buf_putc(b, '{');
		json_object_object_foreach(obj, k1, v1) {
			(void)v1;
			if (is_index(k1, &v))
				nix++;
		}
		if (nix > 0) {
			if ((ix = calloc(nix, sizeof(*ix))) == NULL) {
				b->oom = 1;
				return;
			}
			nix = 0;
			json_object_object_foreach(obj, k2, v2)
				if (is_index(k2, &v)) {
					ix[nix].v = v;
					ix[nix].key = k2;
					ix[nix++].val = v2;
				}
			qsort(ix, nix, sizeof(*ix), idx_cmp);
			for (i = 0; i < nix; i++)
				write_member(b, &first, ix[i].key, ix[i].val);
			free(ix);
		}
		json_object_object_foreach(obj, k3, v3)
			if (!is_index(k3, &v))
				write_member(b, &first, k3, v3);
		lbx_buf_putc(b, '}');
		break;
	}
}
