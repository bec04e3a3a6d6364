/*
 * policy.c: access policies.  The config's "policy" names a built-in
 * (a row of the builtins table, registered here as Dovecot registers
 * its passdb drivers) or, when it contains a '/', a shared object to
 * dlopen() (Dovecot's module-dir.c): it must define
 * lbauth_policy_module with our LBAUTH_POLICY_ABI.  Any failure stops
 * start-up; a policy is never silently replaced by another.
 *
 * The built-in "org" policy is the Liveblocks guide's endpoint logic:
 *	room asked for, and the user may enter it (a "rooms" claim entry
 *	matches it, or it begins with "<org>:")	-> FULL_ACCESS on the room
 *	else, the user has an org		-> READ_ACCESS on "<org>:*"
 *	else					-> deny (403)
 * The guide writes the read pattern as `${org}*`; we add the ':' so
 * that org "acme" cannot read the rooms of org "acmecorp".  It keeps no
 * state, so its decide is thread-safe.
 *
 * The loader also runs a plugin's per-worker hooks and serializes the
 * decide of a plugin that declares LBAUTH_POLICY_SERIAL (lbauth.h).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "extern.h"

static enum lbauth_decision
org_decide(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	char		 pattern[LBX_PATTERN_BYTES];
	const char	*room = lbauth_request_room(req);
	const char	*org = lbauth_user_org(user);
	size_t		 olen = org == NULL ? 0 : strlen(org);

	(void)ctx;
	if (room != NULL && (lbauth_user_may_enter(user, room) ||
	    (org != NULL && strncmp(room, org, olen) == 0 &&
	    room[olen] == ':'))) {
		if (lbauth_session_allow(session, room, lbauth_full_access) !=
		    LBAUTH_OK)
			return LBAUTH_DECISION_ERROR;
		return LBAUTH_DECISION_ALLOW;
	}
	if (org == NULL)
		return LBAUTH_DECISION_DENY;
	snprintf(pattern, sizeof(pattern), "%s:*", org);
	if (lbauth_session_allow(session, pattern, lbauth_read_access) !=
	    LBAUTH_OK)
		return LBAUTH_DECISION_ERROR;
	return LBAUTH_DECISION_ALLOW;
}

static const struct lbauth_policy_ops policy_org = {
	.abi = LBAUTH_POLICY_ABI,
	.name = "org",
	.decide = org_decide,
};

static const struct lbauth_policy_ops *const builtins[] = {
	&policy_org,
};

/*
 * Opens the policy called name (a built-in, or a path to a plugin) and
 * runs its init with arg.  Returns LBAUTH_OK; LBAUTH_ECONFIG with a
 * sentence in err when it is unknown, cannot be loaded, has another ABI
 * or its init fails.  Release p with lbx_policy_close() either way.
 */
enum lbauth_err
lbx_policy_open(struct lbx_policy *p, const char *name, const char *arg,
    char *err, size_t errsz)
{
	const struct lbauth_policy_ops	*ops = NULL;
	char				 why[256];
	size_t				 i;

	memset(p, 0, sizeof(*p));
	if (strchr(name, '/') == NULL) {
		for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
			if (strcmp(builtins[i]->name, name) == 0)
				ops = builtins[i];
		if (ops == NULL) {
			snprintf(err, errsz, "unknown policy \"%s\" (the "
			    "built-in one is \"org\"; a plugin is named by "
			    "its path, e.g. /usr/lib/lbauth/mine.so)", name);
			return LBAUTH_ECONFIG;
		}
	} else {
		if ((p->dl = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
			snprintf(err, errsz, "policy %s: %s", name, dlerror());
			return LBAUTH_ECONFIG;
		}
		ops = dlsym(p->dl, "lbauth_policy_module");
		if (ops == NULL) {
			snprintf(err, errsz, "policy %s: no "
			    "lbauth_policy_module symbol", name);
			return LBAUTH_ECONFIG;
		}
		if (ops->abi != LBAUTH_POLICY_ABI) {
			snprintf(err, errsz, "policy %s: built for policy ABI "
			    "%u, this lbauth has ABI %u; rebuild it against "
			    "this lbauth.h", name, ops->abi, LBAUTH_POLICY_ABI);
			return LBAUTH_ECONFIG;
		}
		if (ops->decide == NULL) {
			snprintf(err, errsz, "policy %s: no decide function",
			    name);
			return LBAUTH_ECONFIG;
		}
	}
	if (ops->init != NULL) {
		why[0] = '\0';
		if (ops->init(arg, &p->ctx, why, sizeof(why)) != 0) {
			why[sizeof(why) - 1] = '\0';
			snprintf(err, errsz, "policy %s: init failed: %s", name,
			    why[0] != '\0' ? why : "no reason given");
			return LBAUTH_ECONFIG;
		}
	}
	if ((ops->flags & LBAUTH_POLICY_SERIAL) != 0 &&
	    pthread_mutex_init(&p->serial, NULL) != 0) {
		snprintf(err, errsz, "policy %s: no mutex", name);
		if (ops->fini != NULL)
			ops->fini(p->ctx);
		return LBAUTH_ECONFIG;
	}
	p->ops = ops;
	return LBAUTH_OK;
}

/*
 * Runs the policy's worker_init in this worker.  Returns LBAUTH_OK, or
 * LBAUTH_ECONFIG with "policy NAME: worker init failed: why" in err.
 */
enum lbauth_err
lbx_policy_worker_init(struct lbx_policy *p, char *err, size_t errsz)
{
	char	 why[256];

	if (p->ops == NULL || p->worker)
		return LBAUTH_OK;
	if (p->ops->worker_init != NULL) {
		why[0] = '\0';
		if (p->ops->worker_init(p->ctx, why, sizeof(why)) != 0) {
			why[sizeof(why) - 1] = '\0';
			snprintf(err, errsz, "policy %s: worker init failed: "
			    "%s", p->ops->name, why[0] != '\0' ? why :
			    "no reason given");
			return LBAUTH_ECONFIG;
		}
	}
	p->worker = true;
	return LBAUTH_OK;
}

/* Runs the policy's worker_fini when worker_init ran. */
void
lbx_policy_worker_fini(struct lbx_policy *p)
{

	if (p->ops == NULL || !p->worker)
		return;
	if (p->ops->worker_fini != NULL)
		p->ops->worker_fini(p->ctx);
	p->worker = false;
}

/* Calls the policy's decide, one thread at a time when it says so. */
enum lbauth_decision
lbx_policy_decide(struct lbx_policy *p, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	enum lbauth_decision	 d;

	if ((p->ops->flags & LBAUTH_POLICY_SERIAL) == 0)
		return p->ops->decide(p->ctx, req, user, session);
	pthread_mutex_lock(&p->serial);
	d = p->ops->decide(p->ctx, req, user, session);
	pthread_mutex_unlock(&p->serial);
	return d;
}

/* Runs the policy's fini and unloads it.  A zeroed p is a no-op. */
void
lbx_policy_close(struct lbx_policy *p)
{

	if (p->ops != NULL && p->ops->fini != NULL)
		p->ops->fini(p->ctx);
	if (p->ops != NULL && (p->ops->flags & LBAUTH_POLICY_SERIAL) != 0)
		pthread_mutex_destroy(&p->serial);
	if (p->dl != NULL)
		dlclose(p->dl);
	memset(p, 0, sizeof(*p));
}
