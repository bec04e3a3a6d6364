/*
 * json.c: the strict JSON reader: json-c with our limits, reading every
 * text as JavaScript's JSON.parse() reads it, or refusing it (lex()
 * below says how).  Writing JSON is jsonw.c's.
 *
 * Ownership (json-c): the object from lbx_json_parse() is the caller's,
 * released with json_object_put() exactly once; objects reached with
 * json_object_object_get_ex() are borrowed from their parent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* The value of the four hex digits at s, or -1. */
static int
hex4(const char *s)
{
	int	 i, v = 0;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= s[i] - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * XXX: json-c 0.16 in strict mode is not RFC 8259 and does not read
 * every text as JavaScript's JSON.parse() does (see its
 * json_tokener.c).  It accepts single-quoted member names, NaN,
 * Infinity, "1." and raw control characters in strings; it turns a lone
 * surrogate escape ("\ud800") into U+FFFD and an integer beyond 64 bits
 * into INT64_MIN or UINT64_MAX; it cuts a member name at "\u0000" (its
 * keys are C strings, so {"sub\u0000":1} would read as "sub"); and it
 * counts the scalar inside the innermost array as one more nesting
 * level.  lex() reads the text (len bytes, no NUL, valid UTF-8) before
 * json-c does.  It rejects what RFC 8259 forbids (numbers by the RFC's
 * grammar), a member name holding "\u0000" and more than LBX_JSON_DEPTH
 * nested arrays and objects.  It rewrites what json-c would change into
 * a form json-c reads as JavaScript does: a lone surrogate escape
 * becomes its 3-byte UTF-8 form, which json-c keeps and
 * lbx_jsonw_str() writes back as \udxxx; an integer of 19 or more
 * digits gets ".0", so that json-c reads it as the nearest double.  The
 * rewritten text goes to out (unless NULL) and its length to *n_r; the
 * number of member names (strings followed by ':') to *names_r, which
 * json-c's objects hold fewer of when a name repeats in one object.
 * Returns -1 to reject a text that is not JSON, -2 one nested too
 * deep, -3 one with "\u0000" in a member name, 1 when the text must be
 * rewritten, else 0.
 */
static int
lex(const char *buf, size_t len, char *out, size_t *n_r, size_t *names_r)
{
	size_t		 i = 0, j, d, n = 0, depth = 0, names = 0;
	int		 u, lo, changed = 0;
	bool		 nul, big;
	unsigned char	 c, cesu[3];

#define EMIT(p, k) do {							\
	if (out != NULL)						\
		memcpy(out + n, (p), (k));				\
	n += (k);							\
} while (0)
	while (i < len) {
		c = (unsigned char)buf[i];
		if (c == '"') {
			nul = false;
			EMIT(buf + i, 1);
			i++;
			while (i < len && buf[i] != '"') {
				if ((unsigned char)buf[i] < 0x20)
					return -1;
				if (buf[i] != '\\') {
					EMIT(buf + i, 1);
					i++;
					continue;
				}
				if (i + 6 > len || buf[i + 1] != 'u' ||
				    (u = hex4(buf + i + 2)) == -1) {
					/* Another escape: json-c checks it. */
					j = i + 1 < len ? 2 : 1;
					EMIT(buf + i, j);
					i += j;
					continue;
				}
				if (u == 0)
					nul = true;
				if (u >= 0xd800 && u <= 0xdbff &&
				    i + 12 <= len &&
				    buf[i + 6] == '\\' && buf[i + 7] == 'u' &&
				    (lo = hex4(buf + i + 8)) >= 0xdc00 &&
				    lo <= 0xdfff) {
					EMIT(buf + i, 12);	/* a pair */
					i += 12;
				} else if (u >= 0xd800 && u <= 0xdfff) {
					cesu[0] = 0xed;
					cesu[1] = 0x80 | ((u >> 6) & 0x3f);
					cesu[2] = 0x80 | (u & 0x3f);
					EMIT(cesu, 3);
					i += 6;
					changed = 1;
				} else {
					EMIT(buf + i, 6);
					i += 6;
				}
			}
			if (i < len) {
				EMIT(buf + i, 1);
				i++;
			}
			for (j = i; j < len && strchr(" \t\n\r", buf[j]); j++)
				continue;
			if (j < len && buf[j] == ':') {
				if (nul)
					return -3;	/* "\u0000" in a name */
				names++;
			}
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
			j = i + (c == '-');
			for (d = 0; j + d < len &&
			    isdigit((unsigned char)buf[j + d]); d++)
				continue;
			if (d == 0 || (d > 1 && buf[j] == '0'))
				return -1;
			big = d >= 19;
			j += d;
			if (j < len && buf[j] == '.') {
				for (d = 0, j++; j < len &&
				    isdigit((unsigned char)buf[j]); d++, j++)
					continue;
				if (d == 0)
					return -1;
				big = false;
			}
			if (j < len && (buf[j] == 'e' || buf[j] == 'E')) {
				if (++j < len &&
				    (buf[j] == '+' || buf[j] == '-'))
					j++;
				for (d = 0; j < len &&
				    isdigit((unsigned char)buf[j]); d++, j++)
					continue;
				if (d == 0)
					return -1;
				big = false;
			}
			EMIT(buf + i, j - i);
			i = j;
			if (big) {
				EMIT(".0", 2);
				changed = 1;
			}
		} else if (c == '{' || c == '[') {
			if (++depth > LBX_JSON_DEPTH)
				return -2;
			EMIT(buf + i, 1);
			i++;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
			EMIT(buf + i, 1);
			i++;
		} else if (strchr(" \t\n\r,:truefalsn", c) != NULL) {
			/* Blanks, separators, the letters of literals. */
			EMIT(buf + i, 1);
			i++;
		} else
			return -1;
	}
#undef EMIT
	*n_r = n;
	*names_r = names;
	return changed;
}

/* The number of members of all objects in v, nested ones included. */
static size_t
count_members(struct json_object *v)
{
	size_t	 i, n = 0;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, k, m) {
			(void)k;
			n += 1 + count_members(m);
		}
		break;
	}
	case json_type_array:
		for (i = 0; i < json_object_array_length(v); i++)
			n += count_members(json_object_array_get_idx(v, i));
		break;
	default:
		break;
	}
	return n;
}

/*
 * Parses len bytes of untrusted JSON at buf.  Strict RFC 8259 syntax,
 * UTF-8 validated, nesting capped at LBX_JSON_DEPTH arrays and objects,
 * nothing but white space after the value, no NUL byte anywhere, no
 * "\u0000" in a member name; values read as JSON.parse() reads them
 * (see lex()).  An object that holds a member name twice (after
 * unescaping: "a" and "\u0061" are one name) is refused, at any depth:
 * JSON.parse() keeps the last value and other parsers the first, so
 * two readers of the same text could disagree on what it says (RFC 8259
 * section 4; RFC 7515 section 5.2 and RFC 7519 section 4 allow refusing
 * such JOSE headers and claims).  On success stores a new reference in
 * *obj_r (the caller puts it) and returns LBAUTH_OK; otherwise returns
 * LBAUTH_EJSON (or LBAUTH_ENOMEM) and *obj_r is NULL; *fault_r (NULL
 * allowed) says which rule the text broke, LBX_JSON_FAULT_NONE on
 * success and on LBAUTH_ENOMEM.  Pure.
 */
enum lbauth_err
lbx_json_parse_ex(const char *buf, size_t len, struct json_object **obj_r,
    enum lbx_json_fault *fault_r)
{
	enum lbx_json_fault	 dummy;
	struct json_tokener	*tok = NULL;
	struct json_object	*obj = NULL;
	char			*copy = NULL;
	size_t			 off, n = 0, names = 0;
	int			 lx;
	enum lbauth_err		 rc = LBAUTH_EJSON;

	*obj_r = NULL;
	if (fault_r == NULL)
		fault_r = &dummy;
	*fault_r = LBX_JSON_FAULT_SYNTAX;
	/* The UTF-8 check: json-c's lets overlong forms through. */
	if (len > INT32_MAX / 2 || memchr(buf, '\0', len) != NULL ||
	    lbx_utf8_len16(buf, len) == SIZE_MAX)
		return LBAUTH_EJSON;
	if ((lx = lex(buf, len, NULL, &n, &names)) < 0) {
		if (lx == -2)
			*fault_r = LBX_JSON_FAULT_DEEP;
		else if (lx == -3)
			*fault_r = LBX_JSON_FAULT_NULNAME;
		return LBAUTH_EJSON;
	}
	if (lx == 1) {
		if ((copy = malloc(n)) == NULL) {
			*fault_r = LBX_JSON_FAULT_NONE;
			return LBAUTH_ENOMEM;
		}
		(void)lex(buf, len, copy, &n, &names);
		buf = copy;
		len = n;
	}
	/* + 1: json-c counts the innermost scalar as a level; lex() counted. */
	if ((tok = json_tokener_new_ex(LBX_JSON_DEPTH + 1)) == NULL) {
		*fault_r = LBX_JSON_FAULT_NONE;
		rc = LBAUTH_ENOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	off = json_tokener_get_parse_end(tok);
	if (obj == NULL &&
	    json_tokener_get_error(tok) == json_tokener_continue) {
		/*
		 * A number or literal that ends the text ("4", "true"):
		 * json-c waits for more.  Its end of input is a NUL byte.
		 */
		obj = json_tokener_parse_ex(tok, "", 1);
		off = len;
	}
	if (json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	for (; off < len; off++)
		if (buf[off] != ' ' && buf[off] != '\t' &&
		    buf[off] != '\n' && buf[off] != '\r')
			goto out;
	if (obj == NULL) {
		/* The literal null: json-c's null is no object. */
		*fault_r = LBX_JSON_FAULT_NULL;
		goto out;
	}
	if (count_members(obj) != names) {
		*fault_r = LBX_JSON_FAULT_DUP;
		goto out;
	}
	*fault_r = LBX_JSON_FAULT_NONE;
	*obj_r = obj;
	obj = NULL;
	rc = LBAUTH_OK;
out:
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	if (copy != NULL) {
		/* It may be a token's claims. */
		sodium_memzero(copy, n);
		free(copy);
	}
	return rc;
}

/* lbx_json_parse_ex() without the detail. */
enum lbauth_err
lbx_json_parse(const char *buf, size_t len, struct json_object **obj_r)
{

	return lbx_json_parse_ex(buf, len, obj_r, NULL);
}

/*
 * Returns the string member key of the object obj, borrowed from obj,
 * and its length in *len_r (NULL allowed); NULL when obj has no such
 * member or it is not a string.
 */
const char *
lbx_json_get_str(const struct json_object *obj, const char *key,
    size_t *len_r)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	if (len_r != NULL)
		*len_r = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}
