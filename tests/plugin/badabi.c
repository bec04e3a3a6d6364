/*
 * badabi.c: a policy plugin built for another policy ABI.  lbauth must
 * refuse to start with it and say so, naming the file: loading it would
 * call functions through a table whose layout it does not know.
 */
#include "../../lib/lbauth.h"

static enum lbauth_decision
allow_nothing(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{

	(void)ctx; (void)req; (void)user; (void)session;
	return LBAUTH_DECISION_DENY;
}

LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
	.abi = LBAUTH_POLICY_ABI + 1,
	.name = "badabi",
	.decide = allow_nothing,
};
