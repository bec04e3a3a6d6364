/*
 * sqluser.c: the user from the app's database (identity_query).
 *
 * The query gets :session (the id from the session cookie, sid.c) and
 * returns one row with the columns (any case, any order)
 *	id	required: the user id
 *	org, name, avatar	optional text
 *	info	optional: a JSON object as text (the userInfo)
 *	groups	optional: a JSON array of strings as text
 * NULL is the same as a missing column.  The row is checked by exactly
 * the rules a session JWT's claims are (cookie.c): id as "sub", org,
 * groups, info or name and avatar; a row they refuse is the app's data
 * or the query at fault, not the user's session, so it is a 500 with
 * the reason in the log, not a 401.  0 rows: LBAUTH_ENOUSER (401); more
 * than one: LBAUTH_EROWS (500, the count in the log).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

struct rows {
	size_t			 n;
	struct json_object	*claims;	/* from the first row */
	const char		*bad;		/* static: a bad column */
};

static const char *const strcols[] = { "org", "name", "avatar" };

/* Whether lbauth reads the column called name. */
static bool
used(const char *name)
{
	size_t	 k;

	if (strcasecmp(name, "id") == 0 || strcasecmp(name, "info") == 0 ||
	    strcasecmp(name, "groups") == 0)
		return true;
	for (k = 0; k < sizeof(strcols) / sizeof(strcols[0]); k++)
		if (strcasecmp(name, strcols[k]) == 0)
			return true;
	return false;
}

static int
row(void *arg, size_t ncols, const char *const *names,
    const char *const *vals, const size_t *lens)
{
	struct rows		*r = arg;
	struct json_object	*o, *v;
	size_t			 i, k;
	bool			 has_id = false;

	if (r->n++ > 0)
		return 0;
	if ((o = r->claims = json_object_new_object()) == NULL)
		return -1;
	/* cookie.c's rules want an exp; a row has none, so it never ends. */
	json_object_object_add(o, "exp", json_object_new_int(1));
	for (i = 0; i < ncols; i++) {
		if (vals[i] == NULL)
			continue;
		/*
		 * A NUL would cut the value short: "ann\0x" is not "ann".
		 * A column lbauth does not read may hold anything.
		 */
		if (memchr(vals[i], '\0', lens[i]) != NULL && used(names[i])) {
			r->bad = "a column holds a NUL byte";
			continue;
		}
		if (strcasecmp(names[i], "id") == 0) {
			json_object_object_add(o, "sub",
			    json_object_new_string_len(vals[i], (int)lens[i]));
			has_id = true;
			continue;
		}
		for (k = 0; k < sizeof(strcols) / sizeof(strcols[0]); k++)
			if (strcasecmp(names[i], strcols[k]) == 0)
				json_object_object_add(o, strcols[k],
				    json_object_new_string_len(vals[i],
				    (int)lens[i]));
		if (strcasecmp(names[i], "info") == 0 ||
		    strcasecmp(names[i], "groups") == 0) {
			if (lbx_json_parse(vals[i], lens[i], &v) != LBAUTH_OK) {
				r->bad = "info and groups must be JSON text";
				continue;
			}
			json_object_object_add(o, strcasecmp(names[i],
			    "info") == 0 ? "info" : "groups", v);
		}
	}
	if (!has_id && r->bad == NULL)
		r->bad = "the row has no id (or it is NULL)";
	return 0;
}

/*
 * Looks the session id sid up with identity_query and fills u.  Returns
 * LBAUTH_OK; LBAUTH_ENOUSER; LBAUTH_EROWS; LBAUTH_EIDDOWN when the
 * database is down or slow; LBAUTH_ESQL when the query fails or its row
 * breaks the claim rules; LBAUTH_ENOMEM.  why (whysz bytes)
 * gets a sentence for the log on failure (never the session id).
 */
enum lbauth_err
lbx_sqluser_lookup(struct lbauth_user *u, struct lbx_sql *sql,
    const char *sid, char *why, size_t whysz)
{
	static const struct lbx_claims_rules rules = { 0, 0, NULL, NULL };
	const char		*vals[LBX_SQLP__MAX] = { NULL };
	const char		*reason = NULL;
	struct rows		 r;
	enum lbx_sql_rc		 rc;
	enum lbauth_err		 err;

	memset(&r, 0, sizeof(r));
	why[0] = '\0';
	vals[LBX_SQLP_SESSION] = sid;
	rc = lbx_sql_run(sql, LBX_SQLQ_IDENTITY, vals, row, &r, why, whysz);
	if (rc != LBX_SQL_OK) {
		json_object_put(r.claims);
		if (rc == LBX_SQL_NOMATCH)
			return LBAUTH_ENOUSER;	/* why says what */
		return rc == LBX_SQL_FAIL ? LBAUTH_ESQL : LBAUTH_EIDDOWN;
	}
	if (r.n == 0)
		return LBAUTH_ENOUSER;
	if (r.n > 1) {
		json_object_put(r.claims);
		snprintf(why, whysz, "identity_query returned %zu rows for "
		    "one session", r.n);
		return LBAUTH_EROWS;
	}
	if (r.claims == NULL)
		return LBAUTH_ENOMEM;
	if (r.bad != NULL) {
		json_object_put(r.claims);
		snprintf(why, whysz, "identity_query: %s", r.bad);
		return LBAUTH_ESQL;
	}
	if ((err = lbx_cookie_claims(u, r.claims, &rules, &reason)) !=
	    LBAUTH_OK) {
		snprintf(why, whysz, "identity_query: %s", reason != NULL ?
		    reason : lbauth_strerror(err));
		if (err != LBAUTH_ENOMEM)
			err = LBAUTH_ESQL;
	}
	return err;
}
