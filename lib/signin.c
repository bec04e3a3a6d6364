/*
 * signin.c: minting the session cookie, what an app does when a user
 * signs in: the one minter behind "lbauthctl cookie" and the demo's
 * sign-in helper (demo/login.c), the inverse of cookie.c.  The claims
 * are those README "The session cookie" lists and cookie.c checks:
 * sub, iat, exp, then iss and aud from the config (so that lbauth
 * accepts the cookie), then whichever of org, groups, rooms, name,
 * avatar and info the caller gives, in that order.  Signed with the
 * caller's key (HS256 cookie secret or Ed25519 private key) by jwt.c.
 */
#include <string.h>

#include "extern.h"

/* Appends ",\"key\":" and s as a JSON string when s is not NULL. */
static void
put_str(struct lbx_buf *b, const char *key, const char *s)
{

	if (s == NULL)
		return;
	lbx_buf_printf(b, ",\"%s\":", key);
	lbx_jsonw_str(b, s, strlen(s));
}

/* Appends ",\"key\":[...]" from the comma-separated list when not NULL. */
static void
put_list(struct lbx_buf *b, const char *key, const char *list)
{
	const char	*p, *c;

	if (list == NULL)
		return;
	lbx_buf_printf(b, ",\"%s\":[", key);
	for (p = list; *p != '\0'; p = *c == ',' ? c + 1 : c) {
		if ((c = strchr(p, ',')) == NULL)
			c = p + strlen(p);
		if (p != list)
			lbx_buf_putc(b, ',');
		lbx_jsonw_str(b, p, (size_t)(c - p));
	}
	lbx_buf_putc(b, ']');
}

/*
 * Appends to tok the session cookie value (a compact JWS) for the user
 * in, issued at now and expiring in->ttl seconds later, with c's
 * cookie_issuer and cookie_audience, signed with key.  in->info, when
 * not NULL, must be the text of a JSON object; it is written back as
 * JSON.stringify() writes it.  Returns LBAUTH_OK; LBAUTH_ECLAIM when
 * in->info is not a JSON object; LBAUTH_ENOMEM (tok may then hold part
 * of a token: reset it).
 */
enum lbauth_err
lbx_signin_cookie(struct lbx_buf *tok, const struct lbx_signin *in,
    const struct lbauth_conf *c, const struct lbx_key *key, time_t now)
{
	struct json_object	*info = NULL;
	struct lbx_buf		 claims, hdr;
	enum lbauth_err		 rc = LBAUTH_ENOMEM;

	if (in->info != NULL && (lbx_json_parse(in->info, strlen(in->info),
	    &info) != LBAUTH_OK || !json_object_is_type(info,
	    json_type_object))) {
		json_object_put(info);
		return LBAUTH_ECLAIM;
	}
	lbx_buf_init(&claims);
	lbx_buf_init(&hdr);
	lbx_buf_puts(&claims, "{\"sub\":");
	lbx_jsonw_str(&claims, in->sub, strlen(in->sub));
	lbx_buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld",
	    (long long)now, (long long)now + in->ttl);
	put_str(&claims, "iss", c->cookie_issuer);
	put_str(&claims, "aud", c->cookie_audience);
	put_str(&claims, "org", in->org);
	put_list(&claims, "groups", in->groups);
	put_list(&claims, "rooms", in->rooms);
	put_str(&claims, "name", in->name);
	put_str(&claims, "avatar", in->avatar);
	if (info != NULL) {
		lbx_buf_puts(&claims, ",\"info\":");
		lbx_jsonw_value(&claims, info);
	}
	lbx_buf_putc(&claims, '}');
	lbx_jwt_header(&hdr, key);
	if (!claims.oom && !hdr.oom) {
		lbx_jwt_sign(tok, hdr.p, hdr.len, claims.p, claims.len, key);
		if (!tok->oom && tok->len > 0)
			rc = LBAUTH_OK;
	}
	lbx_buf_clear(&claims);
	lbx_buf_clear(&hdr);
	json_object_put(info);
	return rc;
}
