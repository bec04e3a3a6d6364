/*
 * ownjson.c: a test policy plugin linked with its own (shared) json-c.
 * lbauth links json-c statically but exports only lbauth_* symbols, so
 * the plugin's json_* calls must bind to the libjson-c.so it was linked
 * with, not to lbauth's copy.  decide checks that with dladdr() and
 * parses policy_arg, a JSON object {"room": FULL_ACCESS pattern}, with
 * json-c: the room named there is granted, anything else denied; a
 * json-c bound to the wrong copy is an error (500).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "../../lib/lbauth.h"

static int
oj_init(const char *arg, void **ctx_r, char *err, size_t errsz)
{
	struct json_object	*o, *room;

	if (arg == NULL || (o = json_tokener_parse(arg)) == NULL ||
	    !json_object_object_get_ex(o, "room", &room)) {
		snprintf(err, errsz, "policy_arg must be {\"room\": ...}");
		return -1;
	}
	*ctx_r = strdup(json_object_get_string(room));
	json_object_put(o);
	return *ctx_r == NULL ? -1 : 0;
}

/* Whether json-c's json_tokener_parse is libjson-c.so's. */
static int
own_jsonc(void)
{
	struct json_object *(*fn)(const char *) = json_tokener_parse;
	Dl_info	 info;
	void	*p;

	memcpy(&p, &fn, sizeof(p));	/* ISO C: no function pointer casts */
	return dladdr(p, &info) != 0 &&
	    info.dli_fname != NULL && strstr(info.dli_fname, "libjson-c") !=
	    NULL;
}

static enum lbauth_decision
oj_decide(void *ctx, const struct lbauth_request *req,
    const struct lbauth_user *user, struct lbauth_session *session)
{
	const char		*room = lbauth_request_room(req);
	struct json_object	*o;
	int			 ok;

	if (!own_jsonc())
		return LBAUTH_DECISION_ERROR;
	/* Some json-c work of its own, on every call. */
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(room ?
	    room : ""));
	ok = strcmp(json_object_get_string(json_object_object_get(o, "room")),
	    (const char *)ctx) == 0;
	json_object_put(o);
	if (!ok)
		return LBAUTH_DECISION_DENY;
	return lbauth_session_allow(session, room, lbauth_full_access) ==
	    LBAUTH_OK ? LBAUTH_DECISION_ALLOW : LBAUTH_DECISION_ERROR;
}

static void
oj_fini(void *ctx)
{

	free(ctx);
}

LBAUTH_API const struct lbauth_policy_ops lbauth_policy_module = {
	.abi = LBAUTH_POLICY_ABI,
	.name = "ownjson",
	.init = oj_init,
	.decide = oj_decide,
	.fini = oj_fini,
};
