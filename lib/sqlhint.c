/*
 * sqlhint.c: who a session turned out to be the last time this process
 * saw it.  The hint lets a room query that finds the user by :user or
 * :org go out together with the identity query, one round trip to the
 * database instead of two (sql.c, lbx_sql_ahead).
 *
 * A hint is only a guess, and it is checked before it counts: the rows
 * of a query sent on a hint are read only when the query went out with
 * exactly the values the identity query then gave (sql.c, run_held), and
 * are dropped otherwise.  A stale or wrong hint therefore costs one query
 * the database runs for nothing, and never changes an answer: a member
 * removed from a room, or a session signed out, is seen at the next
 * request as before.  A hint that went out and was not used is forgotten
 * (a session with no user any more costs that once).
 *
 * The table holds no session id, since one is a credential: an entry is
 * keyed by the id's SipHash-2-4 (libsodium's crypto_shorthash) under a
 * key drawn when the table is made, in the process that uses it.  Two
 * ids with one hash share an entry, which is again only a wrong guess.
 * LBX_SQL_HINTS entries, one place per hash: a new session takes the
 * place of the one there.  A user or org of LBX_SQL_HINT_MAX bytes or
 * more gets no hint.
 *
 * One table per process (struct lbx_sql), shared by its request
 * threads under the lock sql.c keeps beside it; nothing here locks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * A new, empty table with a fresh key, or NULL when out of memory.
 * Freed with lbx_sqlhint_free().
 */
struct lbx_sql_hints *
lbx_sqlhint_new(void)
{
	struct lbx_sql_hints	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	crypto_shorthash_keygen(t->key);
	return t;
}

/* Wipes and frees t (NULL: nothing). */
void
lbx_sqlhint_free(struct lbx_sql_hints *t)
{

	if (t == NULL)
		return;
	sodium_memzero(t, sizeof(*t));
	free(t);
}

/* The hash of session id sid under t's key; never 0 (an empty entry). */
static uint64_t
hash(const struct lbx_sql_hints *t, const char *sid)
{
	unsigned char	 out[crypto_shorthash_BYTES];
	uint64_t	 h;

	crypto_shorthash(out, (const unsigned char *)sid, strlen(sid), t->key);
	memcpy(&h, out, sizeof(h));
	return h == 0 ? 1 : h;
}

/*
 * The entry for session id sid, where its hint is or would go, with the
 * id's hash in *h_r.
 */
static struct lbx_sql_hint *
place(struct lbx_sql_hints *t, const char *sid, uint64_t *h_r)
{

	*h_r = hash(t, sid);
	return &t->e[*h_r % LBX_SQL_HINTS];
}

/*
 * The hint for session id sid, or NULL.  Borrowed from t until its next
 * change.
 */
const struct lbx_sql_hint *
lbx_sqlhint_find(struct lbx_sql_hints *t, const char *sid)
{
	uint64_t		 h;
	struct lbx_sql_hint	*e = place(t, sid, &h);

	return e->hash == h ? e : NULL;
}

/*
 * Records that session id sid was user user (not NULL) of org org (NULL:
 * none), in place of what its place held.  A user or org too long for
 * the fields leaves no hint for sid.
 */
void
lbx_sqlhint_store(struct lbx_sql_hints *t, const char *sid, const char *user,
    const char *org)
{
	uint64_t		 h;
	struct lbx_sql_hint	*e = place(t, sid, &h);
	size_t			 ul = strlen(user), ol;

	ol = org != NULL ? strlen(org) : 0;
	if (ul >= sizeof(e->user) || ol >= sizeof(e->org)) {
		if (e->hash == h)
			e->hash = 0;
		return;
	}
	e->hash = h;
	memcpy(e->user, user, ul + 1);
	e->has_org = org != NULL;
	memcpy(e->org, org != NULL ? org : "", ol + 1);
}

/* Forgets the hint for session id sid, if there is one. */
void
lbx_sqlhint_forget(struct lbx_sql_hints *t, const char *sid)
{
	uint64_t		 h;
	struct lbx_sql_hint	*e = place(t, sid, &h);

	if (e->hash == h)
		e->hash = 0;
}
