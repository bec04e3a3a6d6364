/*
 * fuzz-sqlparams.c: named query parameters, lbx_sql_translate()
 * (sql.c).
 *
 * Input: a query.  It is translated for each placeholder style, with
 * every parameter allowed and with none; what must hold: at most 16
 * placeholders, each a known parameter, the text no longer than the
 * input plus three bytes a placeholder, and the same parameters found
 * for every style (the styles differ only in how a placeholder looks).
 */
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum lbx_placeholder ph[] = {
		LBX_PH_QNUM, LBX_PH_DOLLAR, LBX_PH_QMARK
	};
	struct lbx_sql_query	 q[3], none;
	const char		*why;
	enum lbauth_err		 rc[3];
	size_t			 i, j;

	for (i = 0; i < 3; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		rc[i] = lbx_sql_translate(&q[i], (const char *)data, size,
		    ph[i], 0xf, &why);
		if (rc[i] == LBAUTH_ECONFIG && why == NULL)
			abort();
		if (rc[i] != LBAUTH_OK)
			continue;
		if (q[i].nparams > LBX_SQL_PARAMS_MAX ||
		    strlen(q[i].sql) > size + 3 * q[i].nparams)
			abort();
		for (j = 0; j < q[i].nparams; j++)
			if (q[i].params[j] >= LBX_SQLP__MAX)
				abort();
	}
	/* Backslashes escape only in MariaDB's strings: compare 0 and 1. */
	if (rc[0] != rc[1] || (rc[0] == LBAUTH_OK &&
	    (q[0].nparams != q[1].nparams ||
	    memcmp(q[0].params, q[1].params, q[0].nparams) != 0)))
		abort();
	memset(&none, 0, sizeof(none));
	if (lbx_sql_translate(&none, (const char *)data, size, LBX_PH_QNUM,
	    0, &why) == LBAUTH_OK && none.nparams != 0)
		abort();
	free(none.sql);
	for (i = 0; i < 3; i++)
		free(q[i].sql);
	return 0;
}
