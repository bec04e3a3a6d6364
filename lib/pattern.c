/*
 * pattern.c: room patterns as Liveblocks writes them, pure functions
 * over (buf, len): the syntax ^([*]|[^*]{1,128}[*]?)$ of
 * @liveblocks/node's Session.allow(), which session.c applies to what
 * a policy grants and cookie.c to the "rooms" claim, and the match of
 * a room against a pattern ("prefix*" matches every room that begins
 * with prefix, "*" every room, anything else only itself), which
 * lbauth_user_may_enter() applies.
 */
#include <string.h>

#include "extern.h"

/*
 * Whether p (len bytes) matches ^([*]|[^*]{1,128}[*]?)$ with lengths
 * counted in UTF-16 units, as the JavaScript regex counts them.  p must
 * be valid UTF-8.  Pure.
 */
bool
lbx_pattern_is_valid(const char *p, size_t len)
{
	size_t	 n;

	if (len == 1 && p[0] == '*')
		return true;
	if (len > 0 && p[len - 1] == '*')
		len--;
	if (len == 0 || memchr(p, '*', len) != NULL)
		return false;
	n = lbx_utf8_len16(p, len);
	return n >= 1 && n <= LBAUTH_ROOM_MAX;
}

/*
 * Whether the room (rlen bytes) matches the pattern p (plen bytes): p
 * ends in '*' and room begins with what comes before it, or p is room.
 * Pure.
 */
bool
lbx_pattern_matches(const char *p, size_t plen, const char *room,
    size_t rlen)
{

	if (plen > 0 && p[plen - 1] == '*')
		return rlen >= plen - 1 && memcmp(room, p, plen - 1) == 0;
	return plen == rlen && memcmp(room, p, rlen) == 0;
}
