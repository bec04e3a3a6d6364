/*
 * fuzz-conf.c: the config file parser, conf.c.
 *
 * Input: a config file's bytes, named /etc/lbauth/fuzz.conf so that
 * relative key-file names are joined to its folder.  lbx_conf_parse()
 * is pure; whatever it returns, lbx_conf_clear() must free all it set.
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 file[] = "/etc/lbauth/fuzz.conf";
	struct lbauth_conf	 c;
	char			 err[1024];
	size_t			 i;
	enum lbauth_err		 rc;

	err[0] = '\0';
	rc = lbx_conf_parse(&c, file, (const char *)data, size, err,
	    sizeof(err));
	switch (rc) {
	case LBAUTH_OK:
		/* The defaults are always there. */
		if (c.cookie_name == NULL || c.policy == NULL ||
		    c.project_id == NULL || c.liveblocks_base_url == NULL)
			abort();
		if (c.norigins > 0 && c.origins[c.norigins] != NULL)
			abort();
		for (i = 0; i < c.norigins; i++)
			if (c.origins[i] == NULL || c.origins[i][0] == '\0')
				abort();
		/* Relative names are joined to the config's folder. */
		if (c.cookie_secret_file != NULL &&
		    c.cookie_secret_file[0] != '/')
			abort();
		break;
	case LBAUTH_ECONFIG:
		/* Every message names the file. */
		if (strncmp(err, file, sizeof(file) - 1) != 0)
			abort();
		break;
	case LBAUTH_ENOMEM:
		break;
	default:
		abort();
	}
	lbx_conf_clear(&c);
	return 0;
}
