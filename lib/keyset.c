/*
 * keyset.c: the keys a config's tokens are checked with: its
 * signing_key_file, then each of its published_key_files (earlier
 * signing keys, kept after a rotation), each loaded for its public key
 * (key.c's lbx_key_load_any()).  One loader for every place that needs
 * that list: "lbauthctl jwks" publishes it, "lbauthctl verify" checks a
 * token against it, and lbauth_app_new() refuses to start when one of
 * the published files is unusable.  Owns the keys it loads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/*
 * Loads into ks the signing key of c (when signing is true and c names
 * one) and then every published key of c, in that order.  Returns
 * LBAUTH_OK; LBAUTH_EKEYFILE with "file:line: key: path: reason" in
 * err (lbx_conf_error()); or LBAUTH_ENOMEM.  ks is empty on failure;
 * release it with lbx_keyset_clear() either way.
 */
enum lbauth_err
lbx_keyset_load(struct lbx_keyset *ks, const struct lbauth_conf *c,
    bool signing, char *err, size_t errsz)
{
	const char	*path;
	enum lbx_conf_key k;
	char		 why[512];
	enum lbauth_err	 rc;
	size_t		 i, n;

	ks->keys = NULL;
	ks->nkeys = 0;
	signing = signing && c->signing_key_file != NULL;
	if ((n = c->npublished + (signing ? 1 : 0)) == 0)
		return LBAUTH_OK;
	if ((ks->keys = calloc(n, sizeof(*ks->keys))) == NULL) {
		snprintf(err, errsz, "%s: out of memory", c->file);
		return LBAUTH_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (signing && i == 0) {
			path = c->signing_key_file;
			k = LBX_CONF_SIGNING_KEY_FILE;
		} else {
			path = c->published[i - (signing ? 1 : 0)];
			k = LBX_CONF_PUBLISHED_KEY_FILES;
		}
		if ((rc = lbx_key_load_any(&ks->keys[i], path, why,
		    sizeof(why))) != LBAUTH_OK) {
			lbx_conf_error(c, k, why, err, errsz);
			lbx_keyset_clear(ks);
			return rc;
		}
		ks->nkeys++;
	}
	return LBAUTH_OK;
}

/* Wipes and frees the keys of ks and makes it empty. */
void
lbx_keyset_clear(struct lbx_keyset *ks)
{
	size_t	 i;

	for (i = 0; i < ks->nkeys; i++)
		lbx_key_clear(&ks->keys[i]);
	free(ks->keys);
	ks->keys = NULL;
	ks->nkeys = 0;
}
