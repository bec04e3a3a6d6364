/*
 * example.c: an example access-policy plugin (README "Writing a policy").
 *
 * Build:	cc -shared -fPIC -o example.so example.c
 * Config:	policy = /usr/local/lib/lbauth/example.so
 *		policy_arg = admins
 *
 * Policy: rooms are named "<group>:<name>".  A member of that group
 * (the session cookie's "groups" claim) gets FULL_ACCESS on the room,
 * a member of "<group>:viewer" READ_ACCESS; members of the admin group
 * named by policy_arg get FULL_ACCESS on every room ("*"); anyone else
 * is denied.  Asked for no room, a user gets READ_ACCESS on "<group>:*"
 * for each of their first 10 groups.
 *
 * The tests also use it to reach the error path: a room beginning with
 * "fail:" makes decide() report an error, which lbauth must answer with
 * a 500, never with a token or a 403.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "../../lib/lbauth.h"

struct example {
	char	*admin_group;
};

static int
example_init(const char *arg, void **ctx_r, char *err, size_t errsz)
{
	struct example	*ex;

	if (arg == NULL || *arg == '\0') {
		snprintf(err, errsz, "policy_arg must name the admin group");
		return -1;
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL ||
	    (ex->admin_group = strdup(arg)) == NULL) {
		free(ex);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	*ctx_r = ex;
	return 0;
}

static int
in_group(const struct lbauth_user *user, const char *group, size_t len)
{
	size_t		 i;
	const char	*g;

	for (i = 0; (g = lbauth_user_group(user, i)) != NULL; i++)
		if (strlen(g) == len && strncmp(g, group, len) == 0)
			return 1;
	return 0;
}

static enum lbauth_decision
example_decide(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	struct example	*ex = ctx;
	const char	*room = lbauth_request_room(req), *colon, *g;
	char		 pattern[300];
	size_t		 i;

	if (room != NULL && strncmp(room, "fail:", 5) == 0)
		return LBAUTH_DECISION_ERROR;
	if (in_group(user, ex->admin_group, strlen(ex->admin_group)))
		return lbauth_session_allow(session, "*", lbauth_full_access) ==
		    LBAUTH_OK ? LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
	if (room == NULL) {
		for (i = 0; i < 10 && (g = lbauth_user_group(user, i)) != NULL;
		    i++) {
			snprintf(pattern, sizeof(pattern), "%s:*", g);
			if (lbauth_session_allow(session, pattern,
			    lbauth_read_access) != LBAUTH_OK)
				return LBAUTH_DECISION_ERROR;
		}
		return LBAUTH_DECISION_ALLOW;
	}
	if ((colon = strchr(room, ':')) == NULL)
		return LBAUTH_DECISION_DENY;
	if (in_group(user, room, (size_t)(colon - room)))
		return lbauth_session_allow(session, room,
		    lbauth_full_access) == LBAUTH_OK ?
		    LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
	snprintf(pattern, sizeof(pattern), "%.*s:viewer",
	    (int)(colon - room), room);
	if (in_group(user, pattern, strlen(pattern)))
		return lbauth_session_allow(session, room,
		    lbauth_read_access) == LBAUTH_OK ?
		    LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
	return LBAUTH_DECISION_DENY;
}

static void
example_fini(void *ctx)
{
	struct example	*ex = ctx;

	if (ex != NULL)
		free(ex->admin_group);
	free(ex);
}

LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
	.abi = LBAUTH_POLICY_ABI,
	.name = "example",
	.init = example_init,
	.decide = example_decide,
	.fini = example_fini,
};
