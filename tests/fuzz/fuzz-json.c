/*
 * fuzz-json.c: the JSON reader and writer, json.c and jsonw.c.
 *
 * Input: JSON text.  What lbx_json_parse() accepts is written back with
 * lbx_jsonw_value(), and that output must be accepted again and
 * written back to the very same bytes: JSON.stringify(JSON.parse(x)) is
 * a fixed point after one round, and a value that does not survive the
 * trip (a number, an escape, a key order) aborts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/extern.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*obj, *again;
	struct lbx_buf		 b1, b2;
	enum lbauth_err		 rc;

	if (lbx_json_parse((const char *)data, size, &obj) != LBAUTH_OK) {
		if (obj != NULL)
			abort();
		return 0;
	}
	lbx_buf_init(&b1);
	lbx_buf_init(&b2);
	lbx_jsonw_value(&b1, obj);
	json_object_put(obj);
	if (b1.oom)
		abort();
	/*
	 * A number too large for a double ("1e400") is Infinity, which
	 * JSON.stringify writes as null, as we do; json-c has no object
	 * for a top-level null, so only that output may not read back.
	 */
	if (b1.len == 4 && memcmp(b1.p, "null", 4) == 0) {
		lbx_buf_clear(&b1);
		return 0;
	}
	if ((rc = lbx_json_parse(b1.p, b1.len, &again)) != LBAUTH_OK) {
		fprintf(stderr, "fuzz-json: own output rejected (%s): %.*s\n",
		    lbauth_strerror(rc), (int)b1.len, b1.p);
		abort();
	}
	lbx_jsonw_value(&b2, again);
	json_object_put(again);
	if (b2.oom)
		abort();
	if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len) != 0) {
		fprintf(stderr, "fuzz-json: not a fixed point:\n  %.*s\n"
		    "  %.*s\n", (int)b1.len, b1.p, (int)b2.len, b2.p);
		abort();
	}
	lbx_buf_clear(&b1);
	lbx_buf_clear(&b2);
	return 0;
}
