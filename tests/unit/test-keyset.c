/*
 * test-keyset.c: lib/keyset.c, a config's signing key and then its
 * published keys, from key files written into a mkdtemp() folder: the
 * order, private and public PEM alike, the signing key left out when
 * not asked for, and a bad published file named with the config line.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

static char	 dir[] = "/tmp/lbauth-test-keyset.XXXXXX";

/* Writes b to dir/name with mode; exits on failure. */
static void
put(const char *name, const struct lbx_buf *b, mode_t mode)
{
	char	 path[512];
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, b->p, b->len) != (ssize_t)b->len || close(fd) == -1) {
		perror(path);
		exit(2);
	}
}

/* Parses the config text as dir/lbauth.conf into c. */
static void
conf(struct lbauth_conf *c, const char *text)
{
	char	 file[512], err[256];

	snprintf(file, sizeof(file), "%s/lbauth.conf", dir);
	if (lbx_conf_parse(c, file, text, strlen(text), err, sizeof(err)) !=
	    LBAUTH_OK) {
		fprintf(stderr, "%s\n", err);
		exit(2);
	}
}

int
main(void)
{
	struct lbauth_conf	 c;
	struct lbx_keyset	 ks;
	struct lbx_key		 k[3];
	struct lbx_buf		 b;
	unsigned char		 seed[32];
	char			 err[1024], want[600];
	size_t			 i;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 1;
	lbx_buf_init(&b);
	for (i = 0; i < 3; i++) {
		memset(seed, 'a' + (int)i, sizeof(seed));
		test_assert_idx(lbx_key_ed25519_seed(&k[i], seed) == LBAUTH_OK,
		    i);
	}
	lbx_key_pem_sk(&b, &k[0]);
	put("sign.key", &b, 0600);
	lbx_buf_reset(&b);
	lbx_key_pem_sk(&b, &k[1]);
	put("old.key", &b, 0600);
	lbx_buf_reset(&b);
	lbx_key_pem_pk(&b, &k[2]);
	put("older.pub", &b, 0644);
	lbx_buf_reset(&b);
	lbx_buf_puts(&b, "not a key\n");
	put("bad.key", &b, 0600);

	/* Signing key first, then the published ones in their order. */
	conf(&c, "signing_key_file = sign.key\n"
	    "published_key_files = old.key older.pub\n");
	test_assert(lbx_keyset_load(&ks, &c, true, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(ks.nkeys == 3);
	for (i = 0; i < ks.nkeys && i < 3; i++) {
		test_assert_idx(strcmp(ks.keys[i].kid, k[i].kid) == 0, i);
		test_assert_idx(memcmp(ks.keys[i].pk, k[i].pk, 32) == 0, i);
	}
	lbx_keyset_clear(&ks);
	test_assert(ks.nkeys == 0 && ks.keys == NULL);
	/* Without the signing key (what lbauth_app_new() checks). */
	test_assert(lbx_keyset_load(&ks, &c, false, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(ks.nkeys == 2 && strcmp(ks.keys[0].kid, k[1].kid) == 0);
	lbx_keyset_clear(&ks);
	lbx_conf_clear(&c);

	/* Nothing configured: an empty set, no error. */
	conf(&c, "");
	test_assert(lbx_keyset_load(&ks, &c, true, err, sizeof(err)) ==
	    LBAUTH_OK && ks.nkeys == 0);
	lbx_keyset_clear(&ks);
	lbx_conf_clear(&c);

	/* A bad published file: named, with the config line, set empty. */
	conf(&c, "signing_key_file = sign.key\n\n"
	    "published_key_files = old.key bad.key\n");
	test_assert(lbx_keyset_load(&ks, &c, true, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE);
	snprintf(want, sizeof(want), "%s/lbauth.conf:3: published_key_files: "
	    "%s/bad.key: not an Ed25519 private key", dir, dir);
	test_assert(strncmp(err, want, strlen(want)) == 0);
	test_assert(ks.nkeys == 0 && ks.keys == NULL);
	lbx_conf_clear(&c);
	/* A missing signing key file: its own key named. */
	conf(&c, "signing_key_file = gone.key\n");
	test_assert(lbx_keyset_load(&ks, &c, true, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE);
	snprintf(want, sizeof(want), "%s/lbauth.conf:1: signing_key_file: "
	    "%s/gone.key: ", dir, dir);
	test_assert(strncmp(err, want, strlen(want)) == 0);
	lbx_conf_clear(&c);
	/* A secret key file others can read is refused, as lbauth does. */
	lbx_buf_reset(&b);
	lbx_key_pem_sk(&b, &k[1]);
	put("open.key", &b, 0644);
	conf(&c, "published_key_files = open.key\n");
	test_assert(lbx_keyset_load(&ks, &c, true, err, sizeof(err)) ==
	    LBAUTH_EKEYFILE && strstr(err, "chmod 600") != NULL);
	lbx_conf_clear(&c);

	for (i = 0; i < 3; i++)
		lbx_key_clear(&k[i]);
	lbx_buf_clear(&b);
	{
		static const char *const names[] = { "sign.key", "old.key",
		    "older.pub", "bad.key", "open.key" };
		char path[512];

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return test_done();
}
