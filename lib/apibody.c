/*
 * apibody.c: the JSON bodies lbauth POSTs to the Liveblocks API, byte
 * for byte what @liveblocks/node 3.x sends for the same session:
 * JSON.stringify() of
 *
 *	/v2/authorize-user  {userId, permissions, userInfo[, organizationId]}
 *	/v2/identify-user   {userId, groupIds, userInfo[, organizationId]}
 *
 * where JSON.stringify leaves out members whose value is undefined (no
 * userInfo, no groups claim) and keeps the others in that order.
 */
#include <string.h>

#include "extern.h"

static void
user_id(struct lbx_buf *b, const struct lbauth_user *u)
{

	lbx_buf_puts(b, "{\"userId\":");
	lbx_jsonw_str(b, u->id, strlen(u->id));
}

static void
tail(struct lbx_buf *b, const struct lbauth_user *u, const char *org)
{

	if (u->info.len > 0) {
		lbx_buf_puts(b, ",\"userInfo\":");
		lbx_buf_put(b, u->info.p, u->info.len);
	}
	if (org != NULL) {
		lbx_buf_puts(b, ",\"organizationId\":");
		lbx_jsonw_str(b, org, strlen(org));
	}
	lbx_buf_putc(b, '}');
}

/*
 * Appends the /v2/authorize-user body for user u with the permissions
 * of s; org (NULL: none) becomes organizationId.  Check b->oom.
 */
void
lbx_apibody_authorize(struct lbx_buf *b, const struct lbauth_user *u,
    const struct lbauth_session *s, const char *org)
{

	user_id(b, u);
	lbx_buf_puts(b, ",\"permissions\":");
	lbx_session_write(b, s);
	tail(b, u, org);
}

/*
 * Appends the /v2/identify-user body for user u: groupIds is the groups
 * claim when the cookie has one (even empty), absent otherwise.
 */
void
lbx_apibody_identify(struct lbx_buf *b, const struct lbauth_user *u,
    const char *org)
{

	user_id(b, u);
	if (u->groups != NULL) {
		lbx_buf_puts(b, ",\"groupIds\":");
		lbx_user_write_groups(b, u);
	}
	tail(b, u, org);
}
