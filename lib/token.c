/*
 * token.c: Liveblocks tokens minted and signed here (backend = local).
 *
 * The payloads have the shape the Liveblocks servers issue and
 * @liveblocks/core's parseAuthToken() reads (k, pid, uid, perms, iat,
 * exp):
 *	access	{"k":"acc","pid":P,"uid":U,"perms":{...},"ui":{...},
 *		 "iat":N,"exp":N+ttl,"jti":J}
 *	ID	{"k":"id","pid":P,"uid":U,"gids":[...],"ui":{...},
 *		 "iat":N,"exp":N+ttl,"jti":J}
 * "ui" and "gids" are left out when the user has none.  jti is 128
 * random bits: the Liveblocks client refuses a token it has seen
 * before, so no two tokens may be equal even within one second.  The
 * JWS header ({"alg":"EdDSA","typ":"JWT","kid":<RFC 7638 thumbprint>})
 * is encoded once, at start-up.
 *
 * A minter is read-only once initialised, so threads may share it:
 * each call builds its payload in the caller's scratch buffer.
 */
#include <string.h>

#include "extern.h"

#define JTI_BYTES	16

/*
 * Prepares m to sign with key (an Ed25519 key with its secret half;
 * borrowed: it must outlive m) for project_id (borrowed) with tokens
 * valid ttl seconds.  Returns LBAUTH_OK or LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_token_minter_init(struct lbx_minter *m, const struct lbx_key *key,
    const char *project_id, long ttl)
{

	m->key = key;
	m->project_id = project_id;
	m->ttl = ttl;
	lbx_buf_init(&m->header);
	lbx_jwt_header(&m->header, key);
	return m->header.oom ? LBAUTH_ENOMEM : LBAUTH_OK;
}

/* Releases what m owns (not its key). */
void
lbx_token_minter_clear(struct lbx_minter *m)
{

	lbx_buf_clear(&m->header);
}

/* Starts a payload: kind k, pid and uid. */
static void
begin(struct lbx_buf *p, const struct lbx_minter *m, const char *k,
    const struct lbauth_user *u)
{

	lbx_buf_reset(p);
	lbx_buf_puts(p, "{\"k\":\"");
	lbx_buf_puts(p, k);
	lbx_buf_puts(p, "\",\"pid\":");
	lbx_jsonw_str(p, m->project_id, strlen(m->project_id));
	lbx_buf_puts(p, ",\"uid\":");
	lbx_jsonw_str(p, u->id, strlen(u->id));
}

/* Ends payload p with ui, iat, exp and jti, then signs it into out. */
static void
finish(struct lbx_buf *out, struct lbx_buf *p, const struct lbx_minter *m,
    const struct lbauth_user *u, time_t now)
{
	unsigned char	 jti[JTI_BYTES];

	if (u->info.len > 0) {
		lbx_buf_puts(p, ",\"ui\":");
		lbx_buf_put(p, u->info.p, u->info.len);
	}
	randombytes_buf(jti, sizeof(jti));
	lbx_buf_printf(p, ",\"iat\":%lld,\"exp\":%lld,\"jti\":\"",
	    (long long)now, (long long)now + m->ttl);
	lbx_buf_b64url(p, jti, sizeof(jti));
	lbx_buf_puts(p, "\"}");
	if (p->oom) {
		out->oom = 1;
		return;
	}
	lbx_jwt_sign(out, m->header.p, m->header.len, p->p, p->len, m->key);
}

/*
 * Appends a signed access token for user u with the permissions of s,
 * issued at now, to out; scratch (the caller's, reset here) holds the
 * payload meanwhile.  Check out->oom afterwards.
 */
void
lbx_token_access(struct lbx_buf *out, struct lbx_buf *scratch,
    const struct lbx_minter *m, const struct lbauth_user *u,
    const struct lbauth_session *s, time_t now)
{

	begin(scratch, m, "acc", u);
	lbx_buf_puts(scratch, ",\"perms\":");
	lbx_session_write(scratch, s);
	finish(out, scratch, m, u, now);
}

/*
 * Appends a signed ID token for user u (with u's groups as gids),
 * issued at now, to out, as lbx_token_access().
 */
void
lbx_token_id(struct lbx_buf *out, struct lbx_buf *scratch,
    const struct lbx_minter *m, const struct lbauth_user *u, time_t now)
{

	begin(scratch, m, "id", u);
	if (lbauth_user_ngroups(u) > 0) {
		lbx_buf_puts(scratch, ",\"gids\":");
		lbx_user_write_groups(scratch, u);
	}
	finish(out, scratch, m, u, now);
}
