/*
 * user.c: the user object, the verified identity a request runs as:
 * its id (the cookie's "sub", or REMOTE_USER), org, groups, rooms and
 * the serialized userInfo, filled by cookie.c from the session claims
 * or by lbx_user_remote() from the web server.  Here are its life
 * (init, clear), the accessors a policy calls (lbauth_user_*, see
 * lbauth.h) and the writers of its parts that token.c and apibody.c
 * put into tokens and API bodies.  It owns the claims object and the
 * REMOTE_USER copy; everything it hands out is borrowed from them.
 */
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* Makes u an empty user. */
void
lbx_user_init(struct lbauth_user *u)
{

	memset(u, 0, sizeof(*u));
	lbx_buf_init(&u->info);
}

/* Releases what u owns and makes it empty. */
void
lbx_user_clear(struct lbauth_user *u)
{

	json_object_put(u->claims);
	free(u->idbuf);
	lbx_buf_clear(&u->info);
	lbx_user_init(u);
}

/*
 * Makes u the user named by the web server's REMOTE_USER (only called
 * when trust_remote_user is set).  Returns LBAUTH_OK, LBAUTH_ECLAIM when
 * it is not 1..128 characters of text, or LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_user_remote(struct lbauth_user *u, const char *remote)
{

	if (!lbx_utf8_is_text(remote, strlen(remote), LBAUTH_USERID_MAX))
		return LBAUTH_ECLAIM;
	if ((u->idbuf = strdup(remote)) == NULL)
		return LBAUTH_ENOMEM;
	u->id = u->idbuf;
	return LBAUTH_OK;
}

/* Appends u's groups as a JSON array of strings ("[]" for none). */
void
lbx_user_write_groups(struct lbx_buf *b, const struct lbauth_user *u)
{
	size_t		 i, n = lbauth_user_ngroups(u);
	const char	*g;

	lbx_buf_putc(b, '[');
	for (i = 0; i < n; i++) {
		g = lbauth_user_group(u, i);
		if (i > 0)
			lbx_buf_putc(b, ',');
		lbx_jsonw_str(b, g, strlen(g));
	}
	lbx_buf_putc(b, ']');
}

/* --- the public accessors a policy uses ----------------------------- */

const char *
lbauth_user_id(const struct lbauth_user *u)
{

	return u->id;
}

const char *
lbauth_user_org(const struct lbauth_user *u)
{

	return u->org;
}

size_t
lbauth_user_ngroups(const struct lbauth_user *u)
{

	return u->groups == NULL ? 0 : json_object_array_length(u->groups);
}

const char *
lbauth_user_group(const struct lbauth_user *u, size_t i)
{

	if (i >= lbauth_user_ngroups(u))
		return NULL;
	return json_object_get_string(json_object_array_get_idx(u->groups, i));
}

bool
lbauth_user_may_enter(const struct lbauth_user *u, const char *room)
{
	size_t		 i, n, rlen = strlen(room), elen;
	const char	*e;

	if (u->rooms == NULL)
		return false;
	n = json_object_array_length(u->rooms);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(u->rooms, i);

		e = json_object_get_string(v);
		elen = (size_t)json_object_get_string_len(v);
		if (lbx_pattern_matches(e, elen, room, rlen))
			return true;
	}
	return false;
}

const char *
lbauth_user_claim(const struct lbauth_user *u, const char *name)
{

	if (u->claims == NULL)
		return NULL;
	return lbx_json_get_str(u->claims, name, NULL);
}
