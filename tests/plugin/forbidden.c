/*
 * forbidden.c: a policy plugin that misbehaves on request, to prove the
 * worker sandbox (cgi/sandbox.c).  Asked for the room "sandbox:execve"
 * it tries to run a program, which an auth worker never does: seccomp
 * must kill the worker (SIGSYS) before the program runs, and the master
 * must replace it.  Any other room is allowed with FULL_ACCESS.
 */
#include <string.h>
#include <unistd.h>

#include "../../lib/lbauth.h"

static enum lbauth_decision
decide(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	const char	*room = lbauth_request_room(req);
	char		*argv[] = { "touch", "/tmp/lbauth-sandbox-escaped", NULL };
	char		*envp[] = { NULL };

	(void)ctx;
	(void)user;
	if (room == NULL)
		return LBAUTH_DECISION_DENY;
	if (strcmp(room, "sandbox:execve") == 0) {
		execve("/usr/bin/touch", argv, envp);
		return LBAUTH_DECISION_ERROR;	/* reached only unconfined */
	}
	return lbauth_session_allow(session, room, lbauth_full_access) ==
	    LBAUTH_OK ? LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
}

LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
	.abi = LBAUTH_POLICY_ABI,
	.name = "forbidden",
	.decide = decide,
};
