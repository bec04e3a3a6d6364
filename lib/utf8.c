/*
 * utf8.c: measuring strings the way the Liveblocks servers do.
 *
 * Liveblocks limits room ids, patterns and user ids to 128 characters
 * of a JavaScript string, i.e. UTF-16 code units: a code point above
 * U+FFFF counts twice.
 */
#include "extern.h"

/*
 * Returns the length of s (len bytes) in UTF-16 code units, or
 * SIZE_MAX if s is not valid UTF-8 (RFC 3629: no overlong forms, no
 * code points above U+10FFFF, no encoded surrogates U+D800..U+DFFF).
 * A lone "\udxxx" escape in JSON text is fine (lbx_json_parse() checks
 * the text, not the strings); the string json-c makes of it holds an
 * encoded surrogate, which this refuses, so such a room id, user id or
 * group is refused as invalid text.
 */
size_t
lbx_utf8_len16(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, n = 0, k, need;
	unsigned		 cp, min;

	while (i < len) {
		unsigned char c = u[i];

		if (c < 0x80) {
			i++;
			n++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else
			return SIZE_MAX;
		if (need >= len - i)
			return SIZE_MAX;
		for (k = 1; k <= need; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return SIZE_MAX;
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return SIZE_MAX;
		n += cp >= 0x10000 ? 2 : 1;
		i += need + 1;
	}
	return n;
}

/*
 * Returns whether s (len bytes) holds a control character: C0 (NUL
 * included), DEL, or C1 (U+0080..U+009F, encoded 0xc2 0x80..0x9f).
 */
bool
lbx_utf8_has_ctl(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return true;
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 &&
		    u[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/*
 * Whether s (len bytes) is 1..max UTF-16 units of text (valid UTF-8,
 * so no lone surrogate either), no controls.
 */
bool
lbx_utf8_is_text(const char *s, size_t len, size_t max)
{
	size_t	 n;

	n = lbx_utf8_len16(s, len);
	return n >= 1 && n <= max && !lbx_utf8_has_ctl(s, len);
}
