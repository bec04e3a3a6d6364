/*
 * test-token.c: lib/token.c, Liveblocks access and ID tokens signed
 * here: the JWS verifies with the signing key's public half, and the
 * payload has exactly the members @liveblocks/core reads (k, pid, uid,
 * perms or gids, ui, iat, exp) plus a fresh 128-bit jti.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"
#include "fixture.h"

#define NOW	1700000000
#define TTL	3600

static struct lbx_key	 key, pub;

/*
 * Checks tok as a JWS of ours and stores its payload's JSON text (the
 * decoded bytes) in payload (size bytes) and its parsed claims in
 * *claims_r.  Returns 0, or -1 after a failed check.
 */
static int
open_token(const char *tok, size_t len, char *payload, size_t size,
    struct json_object **claims_r)
{
	struct lbx_jwt	 jwt;
	const char	*reason, *s;
	char		 hdr[256];
	size_t		 n;
	int		 rc = -1;

	*claims_r = NULL;
	if (lbx_jwt_parse(&jwt, tok, len, LBX_ALG_EDDSA, &reason) !=
	    LBAUTH_OK)
		goto out;
	/* {"alg":"EdDSA","typ":"JWT","kid":<thumbprint>} */
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\","
	    "\"kid\":\"%s\"}", key.kid);
	if ((s = lbx_json_get_str(jwt.header, "kid", NULL)) == NULL ||
	    strcmp(s, key.kid) != 0)
		goto out;
	if (lbx_b64url_decode((unsigned char *)payload, size - 1, &n, tok,
	    (size_t)(strchr(tok, '.') - tok)) != LBAUTH_OK ||
	    n != strlen(hdr) || memcmp(payload, hdr, n) != 0)
		goto out;
	if (lbx_jwt_verify(&jwt, &pub) != LBAUTH_OK ||
	    lbx_jwt_verify(&jwt, &key) != LBAUTH_OK)
		goto out;
	if (lbx_b64url_decode((unsigned char *)payload, size - 1, &n,
	    jwt.payload_b64, jwt.payload_b64_len) != LBAUTH_OK)
		goto out;
	payload[n] = '\0';
	if (lbx_jwt_payload(&jwt, claims_r) != LBAUTH_OK)
		goto out;
	rc = 0;
out:
	lbx_jwt_clear(&jwt);
	return rc;
}

/* Whether the payload text ends in ,"jti":"<22 base64url chars>"}. */
static bool
jti_ok(const char *payload, const char **jti_r)
{
	const char	*j = strstr(payload, ",\"jti\":\"");

	if (j == NULL)
		return false;
	j += 8;
	*jti_r = j;
	return strlen(j) == 24 && strspn(j, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == 22 &&
	    strcmp(j + 22, "\"}") == 0;
}

int
main(void)
{
	unsigned char		 seed[32];
	struct lbx_minter	 m;
	struct lbauth_user	 u;
	struct lbauth_session	 s;
	struct lbx_buf		 out, out2, scratch;
	struct json_object	*c, *v;
	char			 p1[2048], p2[2048], want[1024];
	const char		*j1, *j2;
	size_t			 i;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(0xa0 + i);
	test_assert(lbx_key_ed25519_seed(&key, seed) == LBAUTH_OK);
	test_assert(lbx_key_ed25519_pk(&pub, key.pk) == LBAUTH_OK);
	test_assert(lbx_token_minter_init(&m, &key, "proj_\"1", TTL) == LBAUTH_OK);
	lbx_buf_init(&out);
	lbx_buf_init(&out2);
	lbx_buf_init(&scratch);

	/* --- An access token with userInfo. */
	test_user(&u, "{\"sub\":\"u1\",\"exp\":1800000000,\"name\":\"Ada\","
	    "\"avatar\":\"https://x/a.png\",\"groups\":[\"g1\"]}");
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "acme:*", lbauth_read_access) ==
	    LBAUTH_OK);
	test_assert(lbauth_session_allow(&s, "acme:doc", (const char *[]){
	    "*:write", "comments:read", NULL }) == LBAUTH_OK);
	lbx_buf_puts(&out, "{\"token\":\"");		/* appends */
	lbx_token_access(&out, &scratch, &m, &u, &s, NOW);
	test_assert(!out.oom);
	test_assert(strncmp(out.p, "{\"token\":\"", 10) == 0);
	test_assert(open_token(out.p + 10, out.len - 10, p1, sizeof(p1), &c) ==
	    0);
	snprintf(want, sizeof(want), "{\"k\":\"acc\",\"pid\":\"proj_\\\"1\","
	    "\"uid\":\"u1\",\"perms\":{\"acme:*\":[\"*:read\"],\"acme:doc\":"
	    "[\"*:write\",\"comments:read\"]},\"ui\":{\"name\":\"Ada\","
	    "\"avatar\":\"https://x/a.png\"},\"iat\":%d,\"exp\":%d,\"jti\":\"",
	    NOW, NOW + TTL);
	test_assert(strncmp(p1, want, strlen(want)) == 0);
	test_assert(jti_ok(p1, &j1));
	/* The same through the JSON parser. */
	test_assert(c != NULL && strcmp(lbx_json_get_str(c, "k", NULL),
	    "acc") == 0 && strcmp(lbx_json_get_str(c, "pid", NULL),
	    "proj_\"1") == 0 && strcmp(lbx_json_get_str(c, "uid", NULL),
	    "u1") == 0);
	test_assert(json_object_object_get_ex(c, "iat", &v) &&
	    json_object_get_int64(v) == NOW);
	test_assert(json_object_object_get_ex(c, "exp", &v) &&
	    json_object_get_int64(v) == NOW + TTL);
	test_assert(json_object_object_get_ex(c, "perms", &v) &&
	    json_object_is_type(v, json_type_object));
	test_assert(!json_object_object_get_ex(c, "gids", NULL));
	json_object_put(c);

	/* Two tokens in the same second differ (jti). */
	lbx_token_access(&out2, &scratch, &m, &u, &s, NOW);
	test_assert(!out2.oom);
	test_assert(open_token(out2.p, out2.len, p2, sizeof(p2), &c) == 0);
	json_object_put(c);
	test_assert(jti_ok(p2, &j2));
	test_assert(strncmp(p2, want, strlen(want)) == 0);
	test_assert(strcmp(j1, j2) != 0);
	test_assert(strcmp(out.p + 10, out2.p) != 0);
	lbx_user_clear(&u);

	/* --- No userInfo: no "ui". */
	test_user(&u, "{\"sub\":\"u\\\"2\",\"exp\":1800000000}");
	lbx_session_init(&s);
	test_assert(lbauth_session_allow(&s, "*", lbauth_full_access) ==
	    LBAUTH_OK);
	lbx_buf_reset(&out);
	lbx_token_access(&out, &scratch, &m, &u, &s, NOW + 5);
	test_assert(open_token(out.p, out.len, p1, sizeof(p1), &c) == 0);
	json_object_put(c);
	snprintf(want, sizeof(want), "{\"k\":\"acc\",\"pid\":\"proj_\\\"1\","
	    "\"uid\":\"u\\\"2\",\"perms\":{\"*\":[\"*:write\"]},\"iat\":%d,"
	    "\"exp\":%d,\"jti\":\"", NOW + 5, NOW + 5 + TTL);
	test_assert(strncmp(p1, want, strlen(want)) == 0);
	test_assert(strstr(p1, "\"ui\"") == NULL);
	test_assert(jti_ok(p1, &j1));

	/* --- ID tokens: gids when the user has groups. */
	lbx_buf_reset(&out);
	lbx_token_id(&out, &scratch, &m, &u, NOW);
	test_assert(open_token(out.p, out.len, p1, sizeof(p1), &c) == 0);
	json_object_put(c);
	snprintf(want, sizeof(want), "{\"k\":\"id\",\"pid\":\"proj_\\\"1\","
	    "\"uid\":\"u\\\"2\",\"iat\":%d,\"exp\":%d,\"jti\":\"", NOW,
	    NOW + TTL);
	test_assert(strncmp(p1, want, strlen(want)) == 0 && jti_ok(p1, &j1));
	lbx_user_clear(&u);

	test_user(&u, "{\"sub\":\"u3\",\"exp\":1800000000,\"groups\":[\"g1\","
	    "\"g\\\"2\"],\"info\":{\"color\":\"red\",\"1\":1}}");
	lbx_buf_reset(&out);
	lbx_token_id(&out, &scratch, &m, &u, NOW);
	test_assert(open_token(out.p, out.len, p1, sizeof(p1), &c) == 0);
	snprintf(want, sizeof(want), "{\"k\":\"id\",\"pid\":\"proj_\\\"1\","
	    "\"uid\":\"u3\",\"gids\":[\"g1\",\"g\\\"2\"],\"ui\":{\"1\":1,"
	    "\"color\":\"red\"},\"iat\":%d,\"exp\":%d,\"jti\":\"", NOW,
	    NOW + TTL);
	test_assert(strncmp(p1, want, strlen(want)) == 0 && jti_ok(p1, &j1));
	test_assert(json_object_object_get_ex(c, "gids", &v) &&
	    json_object_array_length(v) == 2);
	test_assert(!json_object_object_get_ex(c, "perms", NULL));
	json_object_put(c);
	lbx_user_clear(&u);

	/* Empty groups: no gids. */
	test_user(&u, "{\"sub\":\"u4\",\"exp\":1800000000,\"groups\":[]}");
	lbx_buf_reset(&out);
	lbx_token_id(&out, &scratch, &m, &u, NOW);
	test_assert(open_token(out.p, out.len, p1, sizeof(p1), &c) == 0);
	json_object_put(c);
	test_assert(strstr(p1, "gids") == NULL);
	lbx_user_clear(&u);

	/* A REMOTE_USER user (no claims) mints too. */
	lbx_user_init(&u);
	test_assert(lbx_user_remote(&u, "remote") == LBAUTH_OK);
	lbx_buf_reset(&out);
	lbx_token_id(&out, &scratch, &m, &u, NOW);
	test_assert(open_token(out.p, out.len, p1, sizeof(p1), &c) == 0);
	json_object_put(c);
	test_assert(strstr(p1, "\"uid\":\"remote\",\"iat\"") != NULL);
	lbx_user_clear(&u);

	/* Another key does not verify it. */
	{
		struct lbx_key	 other;
		struct lbx_jwt	 jwt;
		const char	*reason;

		seed[0] ^= 1;
		test_assert(lbx_key_ed25519_seed(&other, seed) == LBAUTH_OK);
		test_assert(lbx_jwt_parse(&jwt, out.p, out.len, LBX_ALG_EDDSA,
		    &reason) == LBAUTH_OK);
		test_assert(lbx_jwt_verify(&jwt, &other) == LBAUTH_ESIG);
		lbx_jwt_clear(&jwt);
		lbx_key_clear(&other);
	}

	lbx_token_minter_clear(&m);
	lbx_key_clear(&key);
	lbx_key_clear(&pub);
	lbx_buf_clear(&out);
	lbx_buf_clear(&out2);
	lbx_buf_clear(&scratch);
	return test_done();
}
