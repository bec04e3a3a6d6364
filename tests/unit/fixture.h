/*
 * fixture.h: library objects the unit tests build as lbauth builds
 * them, shared so that each is written once.  Include after
 * ../../lib/extern.h.
 */
#ifndef LBAUTH_FIXTURE_H
#define LBAUTH_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The "now" the fixtures check claims at (2023-11-14). */
#define FIXTURE_NOW	1700000000

/*
 * Fills u from the session claims json, checked as the cookie's claims
 * are (60 s skew, no issuer or audience); exits 2 when they are not
 * valid, since that is a bug in the test itself.
 */
static inline void
test_user(struct lbauth_user *u, const char *json)
{
	struct lbx_claims_rules	 r = { FIXTURE_NOW, 60, NULL, NULL };
	struct json_object	*o;
	const char		*reason;

	lbx_user_init(u);
	if (lbx_json_parse(json, strlen(json), &o) != LBAUTH_OK ||
	    lbx_cookie_claims(u, o, &r, &reason) != LBAUTH_OK) {
		fprintf(stderr, "bad test claims: %s\n", json);
		exit(2);
	}
}

#endif /* !LBAUTH_FIXTURE_H */
