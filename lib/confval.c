/*
 * confval.c: the syntaxes of config values, pure functions over (v, n)
 * bytes that conf.c's set_value() picks by the key's type: a word of a
 * {name, value} table, a decimal number in a range, a path joined to
 * the config's folder, a blank-separated list (of paths, or of origins
 * as browsers send them), an http(s) URL.  A bad value gives a static
 * reason that conf.c puts after "file:line: key".
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * The value of the word v (n bytes) in the NULL-terminated list l;
 * -1 when it is none of them.
 */
int
lbx_confval_word(const struct lbx_confval_word *l, const char *v, size_t n)
{

	for (; l->name != NULL; l++)
		if (strlen(l->name) == n && strncmp(l->name, v, n) == 0)
			return l->value;
	return -1;
}

/* A new NUL-terminated copy of s (n bytes); NULL when out of memory. */
char *
lbx_confval_dup(const char *s, size_t n)
{
	char	*p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Whether o (n bytes) is an origin as browsers send it (RFC 6454
 * section 6.1): "http" or "https", "://", a host of letters, digits,
 * '-', '.', or a bracketed IPv6 literal, and an optional ":port"; no
 * path, no trailing slash, lower case.
 */
bool
lbx_confval_origin(const char *o, size_t n)
{
	size_t	 i;

	if (n > 7 && strncmp(o, "http://", 7) == 0)
		i = 7;
	else if (n > 8 && strncmp(o, "https://", 8) == 0)
		i = 8;
	else
		return false;
	if (o[i] == '[') {
		for (i++; i < n && o[i] != ']'; i++)
			if (!((o[i] >= '0' && o[i] <= '9') ||
			    (o[i] >= 'a' && o[i] <= 'f') || o[i] == ':'))
				return false;
		if (i == n)
			return false;
		i++;
	} else {
		size_t start = i;

		for (; i < n && o[i] != ':'; i++)
			if (!((o[i] >= 'a' && o[i] <= 'z') ||
			    (o[i] >= '0' && o[i] <= '9') ||
			    o[i] == '-' || o[i] == '.'))
				return false;
		if (i == start)
			return false;
	}
	if (i == n)
		return true;
	if (o[i] != ':' || i + 1 == n || n - i > 6)
		return false;
	for (i++; i < n; i++)
		if (o[i] < '0' || o[i] > '9')
			return false;
	return true;
}

/*
 * A new copy of v (n bytes) joined to the folder dir (dirlen bytes)
 * unless it is absolute or dir is empty; NULL when out of memory.
 */
char *
lbx_confval_path(const char *v, size_t n, const char *dir, size_t dirlen)
{
	char	*s;

	if (v[0] == '/' || dirlen == 0)
		return lbx_confval_dup(v, n);
	if ((s = malloc(dirlen + 1 + n + 1)) != NULL) {
		memcpy(s, dir, dirlen);
		s[dirlen] = '/';
		memcpy(s + dirlen + 1, v, n);
		s[dirlen + 1 + n] = '\0';
	}
	return s;
}

/*
 * Splits v (n bytes) at blanks and appends each word to the
 * NULL-terminated list *list_r of *n_r entries (at most 64): checked
 * by ok when given (origins), else as a path joined to dir.  Returns
 * NULL or a static reason; sets *oom.
 */
const char *
lbx_confval_list(char ***list_r, size_t *n_r, const char *v, size_t n,
    bool (*ok)(const char *, size_t), const char *dir, size_t dirlen,
    int *oom)
{
	size_t	 i, j;
	char	**l;

	for (i = 0; i < n; i = j) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (j = i; j < n && v[j] != ' ' && v[j] != '\t'; j++)
			continue;
		if (j == i)
			break;
		if (ok != NULL && !ok(v + i, j - i))
			return "must list origins such as "
			    "https://app.example.com (scheme, host, "
			    "optional port; lower case; no path)";
		if (*n_r >= 64)
			return "lists more than 64 entries";
		if ((l = realloc(*list_r, (*n_r + 2) * sizeof(*l))) == NULL) {
			*oom = 1;
			return NULL;
		}
		*list_r = l;
		l[*n_r] = ok != NULL ? lbx_confval_dup(v + i, j - i) :
		    lbx_confval_path(v + i, j - i, dir, dirlen);
		if (l[*n_r] == NULL) {
			*oom = 1;
			return NULL;
		}
		l[++*n_r] = NULL;
	}
	return NULL;
}

/*
 * Reads v (n bytes) as a decimal number in [min, max] into *l_r.
 * Returns NULL, or a static reason.
 */
const char *
lbx_confval_long(const char *v, size_t n, long min, long max, long *l_r)
{
	long	 l;
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return "is not a non-negative decimal number";
	if (n == 0)	/* conf.c refuses an empty value before */
		return "is not a non-negative decimal number";
	if (n > 9)
		return "is out of range";
	/*
	 * Not strtol(): v is not NUL-terminated, and on a last line
	 * without a newline it would read past the buffer (found by
	 * tests/fuzz/fuzz-conf, tests/regress/conf-long-eof.bin).
	 */
	for (l = 0, i = 0; i < n; i++)
		l = l * 10 + (v[i] - '0');
	if (l < min || l > max)
		return "is out of range";
	*l_r = l;
	return NULL;
}

/*
 * Checks that v (*n_r bytes) is an http:// or https:// URL without
 * blanks, query or fragment, and drops its trailing slashes from *n_r
 * (the API paths begin with '/').  Returns NULL, or a static reason.
 */
const char *
lbx_confval_url(const char *v, size_t *n_r)
{
	size_t	 i, n = *n_r;

	if (!((n > 7 && strncmp(v, "http://", 7) == 0) ||
	    (n > 8 && strncmp(v, "https://", 8) == 0)))
		return "must begin with https:// (or http://)";
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '?' ||
		    v[i] == '#' || (unsigned char)v[i] >= 0x7f)
			return "must be a URL without blanks, query or fragment";
	while (n > 0 && v[n - 1] == '/')
		n--;
	*n_r = n;
	return NULL;
}
