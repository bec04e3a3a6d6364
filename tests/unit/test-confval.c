/*
 * test-confval.c: lib/confval.c, the syntaxes of config values, called
 * directly (test-conf.c checks them through whole config texts):
 * origins as browsers send them (RFC 6454), bounded decimals, http(s)
 * URLs, table words, paths joined to the config's folder, and
 * blank-separated lists with their 64-entry cap.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

static const struct {
	const char	*o;
	bool		 ok;
} origins[] = {
	{ "https://app.example.com", true },
	{ "http://localhost:8080", true },
	{ "https://[::1]:443", true },
	{ "http://a-b.c", true },
	{ "https://app.example.com/", false },	/* no path */
	{ "https://App.example.com", false },	/* lower case */
	{ "ftp://x", false },
	{ "https://", false },
	{ "https://:80", false },
	{ "https://x:", false },
	{ "https://x:123456", false },
	{ "https://x:8a", false },
	{ "https://[::1", false },
	{ "https://[g::1]", false },
	{ "https://x y", false },
};

static const struct {
	const char	*v;
	long		 min, max;
	const char	*why;		/* NULL: reads as want */
	long		 want;
} longs[] = {
	{ "0", 0, 600, NULL, 0 },
	{ "600", 0, 600, NULL, 600 },
	{ "601", 0, 600, "is out of range", 0 },
	{ "59", 60, 86400, "is out of range", 0 },
	{ "999999999", 0, 999999999, NULL, 999999999 },
	{ "1000000000", 0, 2000000000, "is out of range", 0 },	/* 10 digits */
	{ "-1", 0, 600, "is not a non-negative decimal number", 0 },
	{ "1e3", 0, 6000, "is not a non-negative decimal number", 0 },
	{ "", 0, 600, "is not a non-negative decimal number", 0 },
};

static const struct {
	const char	*v;
	const char	*why;		/* NULL: accepted as want */
	const char	*want;
} urls[] = {
	{ "https://api.liveblocks.io", NULL, "https://api.liveblocks.io" },
	{ "http://127.0.0.1:1153//", NULL, "http://127.0.0.1:1153" },
	{ "https://x/base/", NULL, "https://x/base" },
	{ "ftp://x", "must begin with https:// (or http://)", NULL },
	{ "https://", "must begin with https:// (or http://)", NULL },
	{ "https://x/?a=1", "must be a URL without blanks, query or fragment",
	  NULL },
	{ "https://x/#f", "must be a URL without blanks, query or fragment",
	  NULL },
	{ "https://x y", "must be a URL without blanks, query or fragment",
	  NULL },
	{ "https://x\x7f", "must be a URL without blanks, query or fragment",
	  NULL },
};

static const struct lbx_confval_word words[] = {
	{ "yes", 1 }, { "no", 0 }, { "local", 7 }, { NULL, 0 }
};

int
main(void)
{
	char		**list = NULL, *s;
	const char	*why;
	size_t		 i, n, nlist = 0;
	long		 l;
	int		 oom = 0;
	char		 many[64 * 3 + 8];

	for (i = 0; i < sizeof(origins) / sizeof(origins[0]); i++)
		test_assert_idx(lbx_confval_origin(origins[i].o,
		    strlen(origins[i].o)) == origins[i].ok, i);
	/* Only n bytes are read: the rest of the buffer does not count. */
	test_assert(lbx_confval_origin("https://a.b/path", 11));

	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		l = -42;
		why = lbx_confval_long(longs[i].v, strlen(longs[i].v),
		    longs[i].min, longs[i].max, &l);
		if (longs[i].why == NULL)
			test_assert_idx(why == NULL && l == longs[i].want, i);
		else
			test_assert_idx(why != NULL &&
			    strcmp(why, longs[i].why) == 0 && l == -42, i);
	}
	/* Digits up to n only (tests/regress/conf-long-eof.bin). */
	test_assert(lbx_confval_long("12x", 2, 0, 100, &l) == NULL && l == 12);

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		n = strlen(urls[i].v);
		why = lbx_confval_url(urls[i].v, &n);
		if (urls[i].why == NULL)
			test_assert_idx(why == NULL &&
			    n == strlen(urls[i].want) &&
			    strncmp(urls[i].v, urls[i].want, n) == 0, i);
		else
			test_assert_idx(why != NULL &&
			    strcmp(why, urls[i].why) == 0, i);
	}

	test_assert(lbx_confval_word(words, "yes", 3) == 1);
	test_assert(lbx_confval_word(words, "no", 2) == 0);
	test_assert(lbx_confval_word(words, "local", 5) == 7);
	test_assert(lbx_confval_word(words, "localx", 5) == 7);	/* n bytes */
	test_assert(lbx_confval_word(words, "loc", 3) == -1);
	test_assert(lbx_confval_word(words, "", 0) == -1);

	/* Paths: relative to the folder, absolute ones as they are. */
	s = lbx_confval_path("k.key", 5, "/etc/lbauth", 11);
	test_assert(s != NULL && strcmp(s, "/etc/lbauth/k.key") == 0);
	free(s);
	s = lbx_confval_path("/k.key", 6, "/etc/lbauth", 11);
	test_assert(s != NULL && strcmp(s, "/k.key") == 0);
	free(s);
	s = lbx_confval_path("k.keyXX", 5, "/", 1);
	test_assert(s != NULL && strcmp(s, "//k.key") == 0);
	free(s);
	s = lbx_confval_path("k.key", 5, NULL, 0);
	test_assert(s != NULL && strcmp(s, "k.key") == 0);
	free(s);
	s = lbx_confval_dup("abc", 2);
	test_assert(s != NULL && strcmp(s, "ab") == 0);
	free(s);

	/* Lists: split at blanks, appended, NULL-terminated. */
	why = lbx_confval_list(&list, &nlist, " a.key\tb.key  ", 14, NULL,
	    "/d", 2, &oom);
	test_assert(why == NULL && !oom && nlist == 2 && list != NULL);
	test_assert(list != NULL && strcmp(list[0], "/d/a.key") == 0 &&
	    strcmp(list[1], "/d/b.key") == 0 && list[2] == NULL);
	why = lbx_confval_list(&list, &nlist, "/c.key", 6, NULL, "/d", 2,
	    &oom);
	test_assert(why == NULL && nlist == 3 && strcmp(list[2], "/c.key") ==
	    0 && list[3] == NULL);
	for (i = 0; i < nlist; i++)
		free(list[i]);
	free(list);
	list = NULL;
	nlist = 0;
	why = lbx_confval_list(&list, &nlist, "https://a http://b:1", 20,
	    lbx_confval_origin, NULL, 0, &oom);
	test_assert(why == NULL && nlist == 2 && strcmp(list[1], "http://b:1")
	    == 0);
	why = lbx_confval_list(&list, &nlist, "https://c/", 10,
	    lbx_confval_origin, NULL, 0, &oom);
	test_assert(why != NULL && strncmp(why, "must list origins", 17) == 0
	    && nlist == 2);
	for (i = 0; i < nlist; i++)
		free(list[i]);
	free(list);
	list = NULL;
	nlist = 0;
	/* At most 64 entries. */
	for (i = 0, n = 0; i < 65; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%c%c ",
		    'a' + (int)(i / 26), 'a' + (int)(i % 26));
	why = lbx_confval_list(&list, &nlist, many, n, NULL, NULL, 0, &oom);
	test_assert(why != NULL && strcmp(why, "lists more than 64 entries") ==
	    0 && nlist == 64);
	for (i = 0; i < nlist; i++)
		free(list[i]);
	free(list);
	return test_done();
}
