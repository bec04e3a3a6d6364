/*
 * explain.c: "lbauthctl explain", a dry run of one request.
 *
 * The identify and decide steps of call.c run on a call of their own,
 * exactly as for a real request (the same session cookie rules, the
 * same identity query, the same policy), and then it stops: no token is
 * minted and no API is called.  What comes out is who the user is and
 * which source said so, what the policy granted, and, for a room, what
 * the user may do there per feature, with the grants resolved as
 * Liveblocks resolves a token's permissions for a room: the pattern
 * equal to the room if there is one, else the first "prefix*" pattern
 * (in the token's order) that the room begins with, never a union (the
 * Liveblocks dev server's rule).
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

struct explain_arg {
	const char	*cookie;	/* "name=value", or NULL */
};

static const char *
explain_param(void *arg, const char *name)
{
	const struct explain_arg *e = arg;

	if (strcmp(name, "HTTP_COOKIE") == 0)
		return e->cookie;
	return NULL;
}

/*
 * The grant Liveblocks applies to room, or NULL: the pattern equal to
 * room, else the first that matches it (pattern.c's rule; once no
 * pattern equals room, only a "prefix*" one can).
 */
static const struct lbx_grant *
resolve(const struct lbauth_session *s, const char *room)
{
	const char	*p;
	size_t		 i, rlen = strlen(room);

	for (i = 0; i < s->ngrants; i++)
		if (strcmp(s->grants[i].pattern, room) == 0)
			return &s->grants[i];
	for (i = 0; i < s->ngrants; i++) {
		p = s->grants[i].pattern;
		if (lbx_pattern_matches(p, strlen(p), room, rlen))
			return &s->grants[i];
	}
	return NULL;
}

static bool
has(const struct lbx_grant *g, const char *scope)
{
	size_t	 i;

	for (i = 0; i < g->nscopes; i++)
		if (strcmp(lbx_session_scope(g->scopes[i]), scope) == 0)
			return true;
	return false;
}

/*
 * A feature's access under g: its own scope ("storage:write") when
 * granted, else what "*:write"/"*:read" or the legacy room scopes give.
 */
static const char *
level(const struct lbx_grant *g, const char *feature)
{
	static const char *const lv[] = { "write", "read", "none" };
	char	 scope[48];
	size_t	 i;

	for (i = 0; i < 3; i++) {
		snprintf(scope, sizeof(scope), "%s:%s", feature, lv[i]);
		if (has(g, scope))
			return lv[i];
	}
	if (has(g, "*:write") || has(g, "room:write"))
		return "write";
	if (strcmp(feature, "room") == 0 && has(g, "room:presence:write"))
		return "read, presence write";
	if (has(g, "*:read") || has(g, "room:read") ||
	    has(g, "room:presence:write"))
		return "read";
	return "none";
}

/* Which identity source this config uses, in words. */
static void
source(struct lbx_buf *b, const struct lbauth_app *a, bool cmdline)
{
	static const char *const fmt[] = { "raw", "express", "laravel" };

	if (cmdline)
		lbx_buf_puts(b, "the command line (--user)");
	else if (a->sql_identity)
		lbx_buf_printf(b, "identity_query (sql_driver = %s, "
		    "session_format = %s%s%s, cookie %s)", a->sql.drv->name,
		    fmt[a->conf.session_format], a->conf.session_format ==
		    LBX_SID_LARAVEL ? ", laravel_cipher = " : "",
		    a->conf.session_format == LBX_SID_LARAVEL ?
		    lbx_lvcipher_name(a->conf.laravel_cipher) : "",
		    a->conf.cookie_name);
	else if (a->cookie_key.alg == LBX_ALG_HS256)
		lbx_buf_printf(b, "the session cookie %s, a JWT (HS256, "
		    "cookie_secret_file)", a->conf.cookie_name);
	else
		lbx_buf_printf(b, "the session cookie %s, a JWT (EdDSA, "
		    "cookie_public_key_file)", a->conf.cookie_name);
}

/*
 * The room checked as a request's body is: {"room": room} written and
 * then read by lbx_req_body() into c->req.  body (the caller's, cleared
 * by it) holds the JSON.  LBAUTH_OK, LBAUTH_ENOMEM, or the request's
 * error with a sentence in err.
 */
static enum lbauth_err
read_room(struct lbx_call *c, const char *room, struct lbx_buf *body,
    char *err, size_t errsz)
{
	struct json_object	*o;
	const char		*reason = NULL;
	enum lbauth_err		 rc;

	if ((o = json_object_new_object()) == NULL)
		return LBAUTH_ENOMEM;
	json_object_object_add(o, "room", json_object_new_string(room));
	lbx_jsonw_value(body, o);
	json_object_put(o);
	if (body->oom)
		return LBAUTH_ENOMEM;
	if ((rc = lbx_req_body(&c->req, body->p, body->len, &reason)) !=
	    LBAUTH_OK)
		snprintf(err, errsz, "--room: %s", reason != NULL ?
		    reason : lbauth_strerror(rc));
	return rc;
}

/*
 * The user into c->user: from --user/--org as claims (a sentence in err
 * when they are not valid claims), or from the session cookie value
 * cookie through call.c's identify step, with the cookie header built in
 * hdr (the caller's, cleared by it) and served by c->arg.  Appends
 * "user: " to out, and when the cookie identifies no one, the reason
 * and the source.  LBAUTH_OK, or the error the request would end with.
 */
static enum lbauth_err
identify(struct lbx_call *c, const char *cookie, const char *user,
    const char *org, struct lbx_buf *hdr, struct lbx_buf *out, char *err,
    size_t errsz)
{
	static const struct lbx_claims_rules rules = { 0, 0, NULL, NULL };
	struct explain_arg	*e = c->arg;
	struct json_object	*claims;
	const char		*reason = NULL;
	enum lbauth_err		 rc;

	lbx_buf_puts(out, "user: ");
	if (user != NULL) {
		if ((claims = json_object_new_object()) == NULL)
			return LBAUTH_ENOMEM;
		json_object_object_add(claims, "sub",
		    json_object_new_string(user));
		json_object_object_add(claims, "exp", json_object_new_int(1));
		if (org != NULL)
			json_object_object_add(claims, "org",
			    json_object_new_string(org));
		if ((rc = lbx_cookie_claims(&c->user, claims, &rules,
		    &reason)) != LBAUTH_OK)
			snprintf(err, errsz, "--user/--org: %s", reason !=
			    NULL ? reason : lbauth_strerror(rc));
		return rc;
	}
	lbx_buf_printf(hdr, "%s=%s", c->app->conf.cookie_name, cookie);
	if (hdr->oom)
		return LBAUTH_ENOMEM;
	e->cookie = hdr->p;
	if ((rc = lbx_app_identify(c)) != LBAUTH_OK) {
		lbx_buf_printf(out, "none: %d %s (%s)\n",
		    lbauth_err_status(rc), lbauth_err_code(rc),
		    c->reason != NULL ? c->reason : lbauth_strerror(rc));
		lbx_buf_puts(out, "  source: ");
		source(out, c->app, false);
		lbx_buf_putc(out, '\n');
	}
	return rc;
}

/*
 * Appends who u is (id, source, org, groups, info) and the room (NULL:
 * none) to out; cmdline: the user came from --user.
 */
static void
write_user(struct lbx_buf *out, const struct lbauth_app *a,
    const struct lbauth_user *u, bool cmdline, const char *room)
{

	lbx_buf_puts(out, lbauth_user_id(u));
	lbx_buf_puts(out, "\n  source: ");
	source(out, a, cmdline);
	lbx_buf_printf(out, "\n  org: %s\n", lbauth_user_org(u) != NULL ?
	    lbauth_user_org(u) : "-");
	lbx_buf_puts(out, "  groups: ");
	lbx_user_write_groups(out, u);
	lbx_buf_printf(out, "\n  info: %s\n", u->info.len > 0 ?
	    u->info.p : "-");
	lbx_buf_printf(out, "room: %s\n", room != NULL ? room :
	    "(none: a request for {})");
}

/* Appends the session's grants, one pattern and its scopes a line. */
static void
write_grants(struct lbx_buf *out, const struct lbauth_session *s)
{
	size_t	 i, j;

	lbx_buf_puts(out, "grants:");
	if (s->ngrants == 0)
		lbx_buf_puts(out, " none");
	lbx_buf_putc(out, '\n');
	for (i = 0; i < s->ngrants; i++) {
		lbx_buf_printf(out, "  %s ", s->grants[i].pattern);
		for (j = 0; j < s->grants[i].nscopes; j++)
			lbx_buf_printf(out, "%s%s", j > 0 ? "," : "",
			    lbx_session_scope(s->grants[i].scopes[j]));
		lbx_buf_putc(out, '\n');
	}
}

/*
 * Appends what the session allows in room, per feature, from the one
 * grant Liveblocks applies there (resolve()).
 */
static void
write_room(struct lbx_buf *out, const struct lbauth_session *s,
    const char *room)
{
	static const char *const features[] = {
		"room", "storage", "comments", "feeds"
	};
	const struct lbx_grant	*g;
	size_t			 i;

	if ((g = resolve(s, room)) == NULL) {
		lbx_buf_printf(out, "in %s: nothing (no pattern "
		    "matches it)\n", room);
		return;
	}
	lbx_buf_printf(out, "in %s (pattern %s):\n", room, g->pattern);
	for (i = 0; i < 4; i++)
		lbx_buf_printf(out, "  %-9s %s\n", features[i],
		    level(g, features[i]));
}

/*
 * Explains one request of the user holding session cookie value cookie
 * (or, instead, the user id user with organization org, as a policy
 * would see them) for room (NULL: a request without one) under app a,
 * appending the explanation to out.  Returns LBAUTH_OK when a token
 * would be issued, else the error the request would end with (also
 * written out).  err (errsz bytes) gets a sentence when the arguments
 * themselves are wrong (LBAUTH_EROOM, LBAUTH_ECLAIM).
 */
enum lbauth_err
lbx_explain(struct lbauth_app *a, const char *cookie, const char *user,
    const char *org, const char *room, struct lbx_buf *out, char *err,
    size_t errsz)
{
	struct lbx_call		 c;
	struct explain_arg	 e;
	struct lbx_buf		 hdr, body;
	const char		*pol;
	enum lbauth_err		 rc = LBAUTH_OK;

	err[0] = '\0';
	memset(&c, 0, sizeof(c));
	lbx_buf_init(&hdr);
	lbx_buf_init(&body);
	lbx_user_init(&c.user);
	lbx_session_init(&c.sess);
	c.app = a;
	c.param = explain_param;
	c.arg = &e;
	c.req.param = explain_param;
	c.req.arg = &e;
	e.cookie = NULL;
	if ((room != NULL &&
	    (rc = read_room(&c, room, &body, err, errsz)) != LBAUTH_OK) ||
	    (rc = identify(&c, cookie, user, org, &hdr, out, err, errsz)) !=
	    LBAUTH_OK)
		goto out;
	write_user(out, a, &c.user, user != NULL, room);
	pol = a->sql_policy ? "sql" : a->conf.policy;
	if (a->conf.token == LBX_TOKEN_ID) {
		lbx_buf_printf(out, "policy: %s, not asked (token = id: an ID "
		    "token carries no permissions)\n", pol);
		goto out;
	}
	lbx_buf_printf(out, "policy: %s", pol);
	if (a->sql_policy)
		lbx_buf_puts(out, room != NULL ? " (room_query)" :
		    " (roomless_query)");
	lbx_buf_putc(out, '\n');
	if (user != NULL && a->sql_policy && lbx_sql_names(&a->sql, room !=
	    NULL ? LBX_SQLQ_ROOM : LBX_SQLQ_ROOMLESS, LBX_SQLP_SESSION)) {
		snprintf(err, errsz, "--user: %s names :session, which only a "
		    "session cookie gives: use --cookie", room != NULL ?
		    "room_query" : "roomless_query");
		rc = LBAUTH_ECLAIM;
		goto out;
	}
	rc = lbx_app_decide(&c);
	write_grants(out, &c.sess);
	if (rc != LBAUTH_OK) {
		lbx_buf_printf(out, "result: %d %s (%s)\n",
		    lbauth_err_status(rc), lbauth_err_code(rc),
		    c.reason != NULL ? c.reason : lbauth_strerror(rc));
		goto out;
	}
	if (room != NULL)
		write_room(out, &c.sess, room);
	lbx_buf_puts(out, "result: 200, a token would be issued\n");
out:
	sodium_memzero(c.sid, sizeof(c.sid));
	lbx_user_clear(&c.user);
	lbx_req_clear(&c.req);
	lbx_buf_clear(&hdr);
	lbx_buf_clear(&body);
	return out->oom ? LBAUTH_ENOMEM : rc;
}
