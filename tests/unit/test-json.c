/*
 * test-json.c: lib/json.c and lib/jsonw.c.  lbx_json_parse() is strict
 * RFC 8259 with our caps; lbx_jsonw_value() must write what JavaScript's
 * JSON.stringify(JSON.parse(text)) writes.  Every expected output below
 * was checked with Node 20:
 *	node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1])))' TEXT
 */
#include <string.h>

#include "../../lib/extern.h"
#include "../test.h"

#define S(s)	s, sizeof(s) - 1

/* Texts lbx_json_parse() must accept (ok) or refuse with LBAUTH_EJSON. */
static const struct {
	const char	*text;
	size_t		 len;
	bool		 ok;
} parse[] = {
	{ S("{}"), true },				/* empty object */
	/* Scalars that end the text (fuzz: tests/regress/json-top-scalar). */
	{ S("4"), true },				/* number at the end */
	{ S("1e5"), true },				/* exponent at the end */
	{ S("-0.5"), true },				/* fraction at the end */
	{ S("true"), true },				/* literal at the end */
	{ S("null"), false },		/* json-c has no object for null: refused */
	{ S("4\r"), true },				/* number + CR */
	{ S("tru"), false },				/* cut literal */
	{ S("1e"), false },				/* cut exponent */
	{ S("-"), false },				/* lone minus */
	{ S("[]"), true },				/* empty array */
	{ S("{\"a\":[1,2,{\"b\":null}]}"), true },	/* nested */
	{ S("{} \t\r\n"), true },			/* trailing white space */
	{ S("[1]\n"), true },				/* array + newline */
	{ S(" \n{ \"a\" : 1 }"), true },		/* leading white space */
	{ S("{} x"), false },				/* trailing garbage */
	{ S("{}{}"), false },				/* two values */
	{ S("[1],"), false },				/* trailing comma after */
	{ S("{\"a\":\"b\0\"}"), false },		/* NUL byte in a string */
	{ S("{}\0"), false },				/* NUL byte after */
	{ S("{\"a\":'b'}"), false },			/* single-quoted value */
	{ S("{'a':1}"), false },			/* single-quoted name */
	{ S("[1,]"), false },				/* trailing comma, array */
	{ S("{\"a\":1,}"), false },			/* trailing comma, object */
	{ S("{\"a\" 1}"), false },			/* missing ':' */
	{ S("{\"a\":1"), false },			/* unterminated */
	{ S("[\"a"), false },				/* unterminated string */
	{ S(""), false },				/* empty text */
	{ S("[\"\xff\"]"), false },			/* invalid UTF-8 byte */
	{ S("[\"\xc3(\"]"), false },			/* bad continuation */
	{ S("[\"\xc0\x80\"]"), false },			/* overlong NUL */
	{ S("[\"\xc0\xaf\"]"), false },			/* overlong '/' */
	{ S("[\"\xf4\x90\x80\x80\"]"), false },		/* above U+10FFFF */
	{ S("[\"\xc3\"]"), false },			/* truncated sequence */
	{ S("{\"\xff\":1}"), false },			/* invalid UTF-8 in a name */
	{ S("[\"a\tb\"]"), false },			/* raw TAB in a string */
	{ S("[\"a\nb\"]"), false },			/* raw LF in a string */
	{ S("[NaN]"), false },				/* not JSON */
	/* A byte order mark: RFC 8259 section 8.1 lets a parser refuse it. */
	{ S("\xef\xbb\xbf{}"), false },
	{ S("[\"\xef\xbb\xbf\"]"), true },		/* U+FEFF inside: text */
	/*
	 * A member name twice in one object (issue 12): refused at any
	 * depth.  JSON.parse() keeps the last value, other parsers the
	 * first, so two readers of one text could disagree.
	 */
	{ S("{\"a\":1,\"a\":1}"), false },
	{ S("{\"a\":1,\"b\":2,\"a\":3}"), false },
	{ S("{\"a\":1,\"\\u0061\":2}"), false },		/* one name, escaped */
	{ S("{\"\":1,\"\":2}"), false },			/* the empty name */
	{ S("{\"x\":{\"a\":1,\"a\":2}}"), false },		/* nested */
	{ S("[{},{\"a\":[{\"b\":1,\"b\":{}}]}]"), false },	/* deeper */
	{ S("{\"a\":{\"c\":1},\"a\":{\"c\":2}}"), false },	/* objects */
	{ S("{\"a\":1,\"A\":2}"), true },		/* names are case-sensitive */
	{ S("{\"a\":{\"a\":{\"a\":1}}}"), true },	/* one per object */
	{ S("[{\"a\":1},{\"a\":2}]"), true },		/* two objects */
	{ S("{\"a\":\"a:\",\"b\":[\"a\",\"b\"]}"), true },	/* strings */
	{ S("[Infinity]"), false },			/* not JSON */
	{ S("[-Infinity]"), false },			/* not JSON */
	{ S("[True]"), false },				/* case of literals */
	{ S("[nul]"), false },				/* truncated literal */
	{ S("[01]"), false },				/* leading zero */
	{ S("[0123456789012345678901]"), false },	/* leading zero, long */
	{ S("[+1]"), false },				/* plus sign */
	{ S("[-]"), false },				/* sign alone */
	{ S("[-01]"), false },				/* negative leading zero */
	{ S("[00]"), false },				/* two zeros */
	{ S("[1e]"), false },				/* no exponent digits */
	{ S("[1e+]"), false },				/* signed, none */
	{ S("[1.e5]"), false },				/* empty fraction */
	{ S("[-0.0e-0,0,1E+2]"), true },		/* odd but valid */
	{ S("[.5]"), false },				/* no integer part */
	{ S("[1.]"), false },				/* no fraction digits */
	{ S("[0x10]"), false },				/* hex */
	{ S("[\"\\x41\"]"), false },			/* bad escape */
	{ S("[\"\\u12\"]"), false },			/* short \\u escape */
	{ S("/*c*/{}"), false },			/* comment */
	{ S("{\"a\\u0000b\":1}"), false },		/* NUL in a member name */
	{ S("[\"a\\u0000b\"]"), true },			/* NUL in a value is fine */
	/* 16 nested arrays holding a scalar: at the cap. */
	{ S("[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]"), true },
	/* 17: over it. */
	{ S("[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]"), false },
	/* 17 empty arrays: over it too. */
	{ S("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]"), false },
	/* 16 nested objects. */
	{ S("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
	    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1"
	    "}}}}}}}}}}}}}}}}"), true },
	/* 17 nested objects. */
	{ S("{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
	    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
	    "{\"a\":1}}}}}}}}}}}}}}}}}"), false },
};

/* JSON.stringify(JSON.parse(in)) in Node 20. */
static const struct {
	const char	*in;
	const char	*out;
} str[] = {
	/* Numbers: Number.prototype.toString. */
	{ "[1.0]", "[1]" },
	{ "[1e21]", "[1e+21]" },
	{ "[1e20]", "[100000000000000000000]" },
	{ "[1e-7]", "[1e-7]" },
	{ "[0.000001]", "[0.000001]" },
	{ "[2e-6]", "[0.000002]" },
	{ "[1.5e-7]", "[1.5e-7]" },
	{ "[123456789012345680000]", "[123456789012345680000]" },
	{ "[-123456789012345680000]", "[-123456789012345680000]" },
	{ "[12345678901234567890123]", "[1.2345678901234568e+22]" },
	{ "[18446744073709551615]", "[18446744073709552000]" },
	{ "[9223372036854775807]", "[9223372036854776000]" },
	{ "[123456789012345678]", "[123456789012345680]" },
	{ "[9007199254740993]", "[9007199254740992]" },
	{ "[-0]", "[0]" },
	{ "[-0.0]", "[0]" },
	{ "[0.1]", "[0.1]" },
	{ "[1.5e300]", "[1.5e+300]" },
	{ "[5e-324]", "[5e-324]" },
	{ "[1.7976931348623157e308]", "[1.7976931348623157e+308]" },
	{ "[123e-20]", "[1.23e-18]" },
	{ "[100e-2]", "[1]" },
	{ "[1E2,1e+2,-1.5]", "[100,100,-1.5]" },
	{ "[4294967295]", "[4294967295]" },
	/* Literals and white space. */
	{ " [ true , false , null , [ ] , { } ] ",
	    "[true,false,null,[],{}]" },
	/* String escapes: QuoteJSONString. */
	{ "[\"\\\"\\\\\\b\\f\\n\\r\\t\"]", "[\"\\\"\\\\\\b\\f\\n\\r\\t\"]" },
	{ "[\"\\u0001\"]", "[\"\\u0001\"]" },
	{ "[\"\\u001F\"]", "[\"\\u001f\"]" },	/* lower-case hex */
	{ "[\"a\\u0000b\"]", "[\"a\\u0000b\"]" },
	{ "[\"\\/\"]", "[\"/\"]" },		/* '/' not escaped */
	{ "[\"/\"]", "[\"/\"]" },
	{ "[\"\\u007f\\u0085\\u2028\"]",	/* DEL, C1, LS raw */
	    "[\"\x7f\xc2\x85\xe2\x80\xa8\"]" },
	{ "[\"\\u00e9\\u20ac\"]", "[\"\xc3\xa9\xe2\x82\xac\"]" }, /* raw */
	{ "[\"\xc3\xa9\xf0\x9f\x98\x80\"]", "[\"\xc3\xa9\xf0\x9f\x98\x80\"]" },
	{ "[\"\\ud83d\\ude00\"]", "[\"\xf0\x9f\x98\x80\"]" }, /* a pair */
	{ "[\"\\uDBFF\\uDFFF\"]", "[\"\xf4\x8f\xbf\xbf\"]" },
	{ "[\"\\ud800\"]", "[\"\\ud800\"]" },	/* lone high surrogate */
	{ "[\"\\udc00\"]", "[\"\\udc00\"]" },	/* lone low surrogate */
	{ "[\"\\ud800\\u0041\"]", "[\"\\ud800A\"]" },
	{ "[\"\\ud800x\"]", "[\"\\ud800x\"]" },
	{ "[\"\\ud800\\ud800\"]", "[\"\\ud800\\ud800\"]" },
	{ "[\"\\udc00\\ud800\"]", "[\"\\udc00\\ud800\"]" },
	{ "{\"\\ud800\":1}", "{\"\\ud800\":1}" },	/* in a name */
	{ "[\"\\\\ud800\"]", "[\"\\\\ud800\"]" },	/* escaped backslash */
	/* Key order: array indexes first, ascending. */
	{ "{\"b\":1,\"2\":2,\"1\":3,\"01\":4}",
	    "{\"1\":3,\"2\":2,\"b\":1,\"01\":4}" },
	{ "{\"10\":1,\"9\":2,\"x\":3,\"0\":4,\"-1\":5,\"1.5\":6}",
	    "{\"0\":4,\"9\":2,\"10\":1,\"x\":3,\"-1\":5,\"1.5\":6}" },
	{ "{\"4294967295\":1,\"4294967294\":2,\"0\":3}",
	    "{\"0\":3,\"4294967294\":2,\"4294967295\":1}" },
	/* Duplicate names: the last value, in the first one's place. */
	{ "{\"a\":{\"b\":[1,{\"c\":null}]}}", "{\"a\":{\"b\":[1,{\"c\":null}]}}" },
};

int
main(void)
{
	struct json_object	*o;
	struct lbx_buf		 b;
	const char		*s;
	size_t			 i, n;
	enum lbauth_err		 rc;

	for (i = 0; i < sizeof(parse) / sizeof(parse[0]); i++) {
		o = (struct json_object *)&o;	/* must become NULL on error */
		rc = lbx_json_parse(parse[i].text, parse[i].len, &o);
		test_assert_idx(rc == (parse[i].ok ? LBAUTH_OK : LBAUTH_EJSON),
		    i);
		test_assert_idx(parse[i].ok ? o != NULL : o == NULL, i);
		json_object_put(o);
	}

	lbx_buf_init(&b);
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
		lbx_buf_reset(&b);
		rc = lbx_json_parse(str[i].in, strlen(str[i].in), &o);
		test_assert_idx(rc == LBAUTH_OK, i);
		if (rc != LBAUTH_OK)
			continue;
		lbx_jsonw_value(&b, o);
		test_assert_idx(!b.oom, i);
		test_assert_idx(strcmp(b.p, str[i].out) == 0, i);
		if (strcmp(b.p, str[i].out) != 0)
			fprintf(stderr, "  got %s\n  want %s\n", b.p, str[i].out);
		json_object_put(o);
	}

	/* NULL is JSON null. */
	lbx_buf_reset(&b);
	lbx_jsonw_value(&b, NULL);
	test_assert(strcmp(b.p, "null") == 0);

	/*
	 * Duplicate names, e.g. in a JOSE header: refused (issue 12), with
	 * *dup_r set only when that is the one fault.
	 */
	{
		static const struct {
			const char		*text;
			size_t			 len;
			enum lbx_json_fault	 want;
		} faults[] = {
			{ S("{\"alg\":\"none\",\"alg\":\"EdDSA\"}"),
			    LBX_JSON_FAULT_DUP },
			{ S("{\"a\":\"\\ud800\",\"a\":2}"),
			    LBX_JSON_FAULT_DUP },		/* rewritten text */
			{ S("{\"a\":null,\"a\":null}"), LBX_JSON_FAULT_DUP },
			{ S("{\"alg\":\"EdDSA\"}"), LBX_JSON_FAULT_NONE },
			{ S("{\"a\":1,\"a\":2"), LBX_JSON_FAULT_SYNTAX },
			{ S("\xef\xbb\xbf{}"), LBX_JSON_FAULT_SYNTAX },	/* BOM */
			{ S("{\"a\":\"\xff\"}"), LBX_JSON_FAULT_SYNTAX },
			{ S("{}\0"), LBX_JSON_FAULT_SYNTAX },
			{ S("null x"), LBX_JSON_FAULT_SYNTAX },
			{ S("[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]"),
			    LBX_JSON_FAULT_DEEP },		/* 17 */
			{ S("[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"),
			    LBX_JSON_FAULT_NONE },		/* 16 */
			{ S("{\"a\\u0000\":1}"), LBX_JSON_FAULT_NULNAME },
			{ S("null"), LBX_JSON_FAULT_NULL },
			{ S(" null\n"), LBX_JSON_FAULT_NULL },
		};
		enum lbx_json_fault f;

		for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
			f = LBX_JSON_FAULT__MAX;
			rc = lbx_json_parse_ex(faults[i].text, faults[i].len,
			    &o, &f);
			test_assert_idx(f == faults[i].want, i);
			test_assert_idx((rc == LBAUTH_OK) ==
			    (faults[i].want == LBX_JSON_FAULT_NONE), i);
			test_assert_idx((o != NULL) == (rc == LBAUTH_OK), i);
			json_object_put(o);
		}
		test_assert(lbx_json_parse_ex(S("{\"a\":1,\"a\":2}"), &o,
		    NULL) == LBAUTH_EJSON && o == NULL);
	}

	/* lbx_json_get_str: strings only, length with an inner NUL. */
	test_assert(lbx_json_parse(S("{\"s\":\"a\\u0000b\",\"n\":1,"
	    "\"z\":null,\"o\":{}}"), &o) == LBAUTH_OK);
	test_assert((s = lbx_json_get_str(o, "s", &n)) != NULL && n == 3 &&
	    memcmp(s, "a\0b", 3) == 0);
	test_assert(lbx_json_get_str(o, "s", NULL) != NULL);
	test_assert(lbx_json_get_str(o, "n", &n) == NULL);
	test_assert(lbx_json_get_str(o, "z", &n) == NULL);
	test_assert(lbx_json_get_str(o, "o", &n) == NULL);
	test_assert(lbx_json_get_str(o, "missing", &n) == NULL);
	json_object_put(o);

	/* Only len bytes are parsed. */
	test_assert(lbx_json_parse("{}garbage", 2, &o) == LBAUTH_OK);
	json_object_put(o);

	lbx_buf_clear(&b);
	return test_done();
}
