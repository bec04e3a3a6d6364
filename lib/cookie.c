/*
 * cookie.c: the session cookie.  Cookie header (RFC 6265 section 5.4)
 * -> the one cookie named cookie_name -> JWT verified with the pinned
 * key (jwt.c) -> claims checked (RFC 7519 section 4.1) -> the user
 * object they fill (user.c).  The cookie's own limits are its:
 * LBX_COOKIE_HEADER_MAX for the header, LBX_COOKIE_TOKEN_MAX for the
 * value, whatever jwt.c would parse.
 *
 * Claims (README "Session cookie"):
 *	sub	user id, required, 1..128 characters of text (no
 *		controls, no lone surrogates: so for every id below)
 *	exp	required; nbf optional; both with clock_skew seconds leeway
 *	iss/aud	checked when cookie_issuer/cookie_audience are set
 *	org	organization, optional, 1..126 characters without '*'
 *	groups	optional array of up to 64 group ids (ID tokens' gids),
 *		1..128 characters each
 *	rooms	optional array of up to 64 room ids or "prefix*" patterns
 *	info	optional object: the userInfo, at most 1024 characters
 *	name, avatar	optional strings: userInfo {name, avatar} when no info
 *
 * A claim that breaks its rule refuses the whole cookie (nothing is
 * skipped), and so does a claims object that repeats a member name
 * (jwt.c, json.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* A cookie value jwt.c would refuse is refused here, with our reason. */
_Static_assert(LBX_COOKIE_TOKEN_MAX <= LBX_JWT_MAX,
    "a session cookie value fits the JWS bound");

static bool
is_blank(char c)
{

	return c == ' ' || c == '\t';
}

/* lbx_cookie_find(), with a static detail for the log in *reason_r. */
static enum lbauth_err
find_cookie(const char *hdr, const char *name, const char **val_r,
    size_t *len_r, const char **reason_r)
{
	const char	*p, *end, *semi, *eq, *v, *found = NULL;
	size_t		 nlen = strlen(name), klen, vlen, flen = 0;

	*val_r = NULL;
	*len_r = 0;
	*reason_r = "no Cookie header";
	if (hdr == NULL)
		return LBAUTH_ENOSESSION;
	*reason_r = "Cookie header over 16384 bytes";
	if (strlen(hdr) > LBX_COOKIE_HEADER_MAX)
		return LBAUTH_ECOOKIE;
	end = hdr + strlen(hdr);
	for (p = hdr; p < end; p = semi + 1) {
		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			semi = end;
		while (p < semi && is_blank(*p))
			p++;
		if ((eq = memchr(p, '=', (size_t)(semi - p))) == NULL)
			continue;
		klen = (size_t)(eq - p);
		while (klen > 0 && is_blank(p[klen - 1]))
			klen--;
		if (klen != nlen || memcmp(p, name, nlen) != 0)
			continue;
		v = eq + 1;
		vlen = (size_t)(semi - v);
		while (vlen > 0 && is_blank(*v)) {
			v++;
			vlen--;
		}
		while (vlen > 0 && is_blank(v[vlen - 1]))
			vlen--;
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		*reason_r = "the session cookie appears twice";
		if (found != NULL)
			return LBAUTH_ECOOKIE;
		found = v;
		flen = vlen;
	}
	*reason_r = found == NULL ? "no session cookie" :
	    "the session cookie is empty";
	if (found == NULL || flen == 0)
		return LBAUTH_ENOSESSION;
	*reason_r = "the session cookie is over 4096 bytes";
	if (flen > LBX_COOKIE_TOKEN_MAX)
		return LBAUTH_ECOOKIE;
	*val_r = found;
	*len_r = flen;
	*reason_r = NULL;
	return LBAUTH_OK;
}

/*
 * Finds the cookie called name in the Cookie header hdr (RFC 6265
 * section 5.4): pairs split at ';' only (a ',' is part of a value, as
 * RFC 6265 has it, not a separator as in RFC 2965), blanks around names
 * and values dropped.  On success *val_r points into hdr (borrowed) and
 * *len_r is the value's length, without the optional double quotes of
 * RFC 6265's cookie-value.  Returns LBAUTH_OK; LBAUTH_ENOSESSION when
 * hdr is NULL, lacks the cookie or holds it empty; LBAUTH_ECOOKIE when
 * hdr is over LBX_COOKIE_HEADER_MAX bytes, holds the cookie more than
 * once (which of two sessions was meant cannot be known, and a sibling
 * domain can plant the second one), or the value is over
 * LBX_COOKIE_TOKEN_MAX.  Pure.
 */
enum lbauth_err
lbx_cookie_find(const char *hdr, const char *name, const char **val_r,
    size_t *len_r)
{
	const char	*reason;

	return find_cookie(hdr, name, val_r, len_r, &reason);
}

/*
 * Checks the optional member key of claims: absent, or an array of at
 * most max strings each accepted by ok.  Stores it in *arr_r.  Returns
 * NULL when it passes, else the reason: shape when it is no array or
 * too long, entry when an entry fails.
 */
static const char *
str_array(struct json_object *claims, const char *key, size_t max,
    bool (*ok)(const char *, size_t), struct json_object **arr_r,
    const char *shape, const char *entry)
{
	struct json_object	*a, *e;
	size_t			 i, n;

	*arr_r = NULL;
	if (!json_object_object_get_ex(claims, key, &a))
		return NULL;
	if (!json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) > max)
		return shape;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    !ok(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e)))
			return entry;
	}
	*arr_r = a;
	return NULL;
}

static bool
is_group(const char *s, size_t len)
{

	return lbx_utf8_is_text(s, len, LBAUTH_USERID_MAX);
}

static bool
is_room_entry(const char *s, size_t len)
{

	return lbx_pattern_is_valid(s, len) && !lbx_utf8_has_ctl(s, len);
}

/* Reads the optional NumericDate key; false when present but no number. */
static bool
numeric_date(struct json_object *claims, const char *key, bool *has_r,
    double *v_r)
{
	struct json_object	*v;

	*has_r = false;
	if (!json_object_object_get_ex(claims, key, &v))
		return true;
	if (!json_object_is_type(v, json_type_int) &&
	    !json_object_is_type(v, json_type_double))
		return false;
	*v_r = json_object_get_double(v);
	*has_r = true;
	return isfinite(*v_r);
}

/* Whether the "aud" claim is aud or an array holding it (RFC 7519 4.1.3). */
static bool
has_audience(struct json_object *claims, const char *aud)
{
	struct json_object	*v, *e;
	size_t			 i;

	if (!json_object_object_get_ex(claims, "aud", &v))
		return false;
	if (json_object_is_type(v, json_type_string))
		return strcmp(json_object_get_string(v), aud) == 0;
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (i = 0; i < json_object_array_length(v); i++) {
		e = json_object_array_get_idx(v, i);
		if (json_object_is_type(e, json_type_string) &&
		    strcmp(json_object_get_string(e), aud) == 0)
			return true;
	}
	return false;
}

/*
 * Checks the time claims against rules: exp required, nbf optional,
 * both NumericDates with rules->skew seconds of leeway.  Returns
 * LBAUTH_OK; LBAUTH_EEXPIRED when now >= exp + skew; LBAUTH_ENOTYET
 * when now < nbf - skew; LBAUTH_ECLAIM when either is no finite
 * number; *reason_r names the rule on a refusal.
 */
static enum lbauth_err
check_times(struct json_object *claims, const struct lbx_claims_rules *rules,
    const char **reason_r)
{
	double	 d;
	bool	 has;

	if (!numeric_date(claims, "exp", &has, &d) || !has) {
		*reason_r = "exp must be present and a finite number";
		return LBAUTH_ECLAIM;
	}
	if ((double)rules->now >= d + (double)rules->skew) {
		*reason_r = "exp has passed (clock_skew included)";
		return LBAUTH_EEXPIRED;
	}
	if (!numeric_date(claims, "nbf", &has, &d)) {
		*reason_r = "nbf must be a finite number";
		return LBAUTH_ECLAIM;
	}
	if (has && (double)rules->now < d - (double)rules->skew) {
		*reason_r = "nbf is still ahead (clock_skew included)";
		return LBAUTH_ENOTYET;
	}
	return LBAUTH_OK;
}

/*
 * Serializes the userInfo of claims into u->info: the "info" object,
 * else {name, avatar} from those strings when present, else nothing.
 * Returns LBAUTH_OK; LBAUTH_ECLAIM (with *reason_r) when info is no
 * object, name or avatar no string of at most 1024 bytes, or the
 * userInfo over 1024 characters; LBAUTH_ENOMEM.
 */
static enum lbauth_err
user_info(struct lbauth_user *u, struct json_object *claims,
    const char **reason_r)
{
	struct json_object	*info, *v;
	const char		*s;
	size_t			 len;

	if (json_object_object_get_ex(claims, "info", &info)) {
		if (!json_object_is_type(info, json_type_object)) {
			*reason_r = "info must be an object";
			return LBAUTH_ECLAIM;
		}
		lbx_jsonw_value(&u->info, info);
	} else {
		const char *keys[] = { "name", "avatar" };
		size_t i, n = 0;

		for (i = 0; i < 2; i++) {
			if (!json_object_object_get_ex(claims, keys[i], &v))
				continue;
			if ((s = lbx_json_get_str(claims, keys[i], &len)) ==
			    NULL || len > LBX_CLAIM_STR_MAX) {
				*reason_r = "name and avatar must be strings "
				    "of at most 1024 bytes";
				return LBAUTH_ECLAIM;
			}
			lbx_buf_putc(&u->info, n++ == 0 ? '{' : ',');
			lbx_buf_printf(&u->info, "\"%s\":", keys[i]);
			lbx_jsonw_str(&u->info, s, len);
		}
		if (n > 0)
			lbx_buf_putc(&u->info, '}');
	}
	if (u->info.oom)
		return LBAUTH_ENOMEM;
	if (u->info.len > 0 &&
	    lbx_utf8_len16(u->info.p, u->info.len) > LBAUTH_USERINFO_MAX) {
		*reason_r = "userInfo exceeds 1024 characters";
		return LBAUTH_ECLAIM;
	}
	return LBAUTH_OK;
}

/*
 * Checks the verified claims object against rules and the claim rules
 * above and fills u.  claims is handed over: on every return it belongs
 * to u (lbx_user_clear() puts it).  Returns LBAUTH_OK; LBAUTH_EEXPIRED
 * when now >= exp + skew; LBAUTH_ENOTYET when now < nbf - skew;
 * LBAUTH_EISSUER; LBAUTH_EAUDIENCE; LBAUTH_ECLAIM for any claim of the
 * wrong type or size; LBAUTH_ENOMEM.  On every refusal but the last,
 * *reason_r names the rule that failed.  Pure.
 */
enum lbauth_err
lbx_cookie_claims(struct lbauth_user *u, struct json_object *claims,
    const struct lbx_claims_rules *rules, const char **reason_r)
{
	struct json_object	*v;
	const char		*s;
	size_t			 len;
	enum lbauth_err		 rc;

	u->claims = claims;
	*reason_r = NULL;
	if ((s = lbx_json_get_str(claims, "sub", &len)) == NULL ||
	    !lbx_utf8_is_text(s, len, LBAUTH_USERID_MAX)) {
		*reason_r = "sub must be a string of 1 to 128 characters "
		    "without control characters or lone surrogates";
		return LBAUTH_ECLAIM;
	}
	u->id = s;
	if ((rc = check_times(claims, rules, reason_r)) != LBAUTH_OK)
		return rc;
	if (rules->issuer != NULL &&
	    ((s = lbx_json_get_str(claims, "iss", NULL)) == NULL ||
	    strcmp(s, rules->issuer) != 0)) {
		*reason_r = "iss is not cookie_issuer";
		return LBAUTH_EISSUER;
	}
	if (rules->audience != NULL &&
	    !has_audience(claims, rules->audience)) {
		*reason_r = "aud does not hold cookie_audience";
		return LBAUTH_EAUDIENCE;
	}
	if (json_object_object_get_ex(claims, "org", &v)) {
		if ((s = lbx_json_get_str(claims, "org", &len)) == NULL ||
		    !lbx_utf8_is_text(s, len, LBX_ORG_MAX) ||
		    memchr(s, '*', len) != NULL) {
			*reason_r = "org must be a string of 1 to 126 "
			    "characters without '*', control characters or "
			    "lone surrogates";
			return LBAUTH_ECLAIM;
		}
		u->org = s;
	}
	if ((*reason_r = str_array(claims, "groups", LBX_GROUPS_MAX,
	    is_group, &u->groups, "groups must be an array of at most 64 "
	    "entries", "a group id must be a string of 1 to 128 characters "
	    "without control characters or lone surrogates")) != NULL)
		return LBAUTH_ECLAIM;
	if ((*reason_r = str_array(claims, "rooms", LBX_ROOMS_MAX,
	    is_room_entry, &u->rooms, "rooms must be an array of at most 64 "
	    "entries", "a rooms entry must be a room id or a prefix* "
	    "pattern: a string of 1 to 128 characters (before a final '*') "
	    "without another '*', control characters or lone surrogates")) !=
	    NULL)
		return LBAUTH_ECLAIM;
	return user_info(u, claims, reason_r);
}

/*
 * Authenticates the request from its Cookie header hdr: finds the
 * cookie called name, verifies it as a JWT with key (whose algorithm is
 * the only one accepted) and fills u from its claims.  Returns as
 * lbx_cookie_find(), lbx_jwt_parse(), lbx_jwt_verify() and
 * lbx_cookie_claims() do; *reason_r may get a static detail for the
 * log (never any part of the cookie).
 */
enum lbauth_err
lbx_cookie_verify(struct lbauth_user *u, const char *hdr, const char *name,
    const struct lbx_key *key, const struct lbx_claims_rules *rules,
    const char **reason_r)
{
	struct lbx_jwt		 jwt;
	struct json_object	*claims = NULL;
	const char		*tok;
	size_t			 len;
	enum lbauth_err		 rc;

	*reason_r = NULL;
	if ((rc = find_cookie(hdr, name, &tok, &len, reason_r)) != LBAUTH_OK)
		return rc;
	rc = lbx_jwt_parse(&jwt, tok, len, key->alg, reason_r);
	if (rc == LBAUTH_OK && (rc = lbx_jwt_verify(&jwt, key)) != LBAUTH_OK)
		*reason_r = "signature does not verify with the configured key";
	if (rc == LBAUTH_OK)
		rc = lbx_jwt_claims(&jwt, &claims, reason_r);
	lbx_jwt_clear(&jwt);
	if (rc != LBAUTH_OK)
		return rc;
	return lbx_cookie_claims(u, claims, rules, reason_r);
}
