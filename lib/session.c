/*
 * session.c: the permission model, exactly @liveblocks/node 3.x's
 * Session: allow(pattern, scopes) with the same checks in the same
 * order, scopes adding up per pattern, at most 10 patterns, and the
 * same serialization ({"pattern":["scope",...]}, in first-granted
 * order, as Map/Set iteration order gives it in JavaScript).
 */
#include <string.h>

#include "extern.h"

/* Every permission Liveblocks knows (@liveblocks/core Permission). */
static const char *const scopes[LBX_SCOPES] = {
	"*:read", "*:write",
	"room:read", "room:write", "room:presence:write",
	"storage:read", "storage:write", "storage:none",
	"comments:read", "comments:write", "comments:none",
	"comments:public:read", "comments:public:write",
	"comments:public:none",
	"comments:private:read", "comments:private:write",
	"comments:private:none",
	"feeds:read", "feeds:write", "feeds:none",
};

const char *const lbauth_full_access[] = { "*:write", NULL };
const char *const lbauth_read_access[] = { "*:read", NULL };

/* Makes s a session with no permissions. */
void
lbx_session_init(struct lbauth_session *s)
{

	s->ngrants = 0;
}

static int
scope_index(const char *name)
{
	int	 i;

	for (i = 0; i < LBX_SCOPES; i++)
		if (strcmp(scopes[i], name) == 0)
			return i;
	return -1;
}

/* See lbauth.h. */
enum lbauth_err
lbauth_session_allow(struct lbauth_session *s, const char *pattern,
    const char *const *list)
{
	struct lbx_grant	*g = NULL;
	unsigned char		 idx[LBX_SCOPES];
	size_t			 i, j, n = 0, plen;
	int			 k;

	if (pattern == NULL)
		return LBAUTH_EPATTERN;
	plen = strlen(pattern);
	if (!lbx_pattern_is_valid(pattern, plen))
		return LBAUTH_EPATTERN;
	if (list == NULL || list[0] == NULL)
		return LBAUTH_EEMPTY;
	for (i = 0; list[i] != NULL; i++) {
		if ((k = scope_index(list[i])) == -1)
			return LBAUTH_ESCOPE;
		for (j = 0; j < n && idx[j] != k; j++)
			continue;
		if (j == n)
			idx[n++] = (unsigned char)k;
	}
	for (i = 0; i < s->ngrants; i++)
		if (strcmp(s->grants[i].pattern, pattern) == 0) {
			g = &s->grants[i];
			break;
		}
	if (g == NULL) {
		if (s->ngrants >= LBAUTH_PATTERNS_MAX)
			return LBAUTH_ETOOMANY;
		g = &s->grants[s->ngrants++];
		memcpy(g->pattern, pattern, plen + 1);
		g->nscopes = 0;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < g->nscopes && g->scopes[j] != idx[i]; j++)
			continue;
		if (j == g->nscopes)
			g->scopes[g->nscopes++] = idx[i];
	}
	return LBAUTH_OK;
}

size_t
lbauth_session_npatterns(const struct lbauth_session *s)
{

	return s->ngrants;
}

/*
 * Appends the permissions as JSON, {"pattern":["scope",...],...}, as
 * @liveblocks/node's serializePermissions() and JSON.stringify() write
 * them.
 */
void
lbx_session_write(struct lbx_buf *b, const struct lbauth_session *s)
{
	size_t	 i, j;

	lbx_buf_putc(b, '{');
	for (i = 0; i < s->ngrants; i++) {
		const struct lbx_grant *g = &s->grants[i];

		if (i > 0)
			lbx_buf_putc(b, ',');
		lbx_jsonw_str(b, g->pattern, strlen(g->pattern));
		lbx_buf_puts(b, ":[");
		for (j = 0; j < g->nscopes; j++) {
			if (j > 0)
				lbx_buf_putc(b, ',');
			lbx_buf_putc(b, '"');
			lbx_buf_puts(b, scopes[g->scopes[j]]);
			lbx_buf_putc(b, '"');
		}
		lbx_buf_putc(b, ']');
	}
	lbx_buf_putc(b, '}');
}

/* The name of scope number i (an index of struct lbx_grant's scopes). */
const char *
lbx_session_scope(unsigned i)
{

	return i < LBX_SCOPES ? scopes[i] : "?";
}
