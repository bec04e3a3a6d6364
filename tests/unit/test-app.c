/*
 * test-app.c: lib/app.c, the request pipeline (preflight, read,
 * identify, decide, issue, answer), driven through lbauth_app_serve()
 * and lbauth_app_start() with a fake parameter table and body, on a
 * real config (backend = local, the built-in "org" policy) written into
 * a mkdtemp() folder.  Each row ends at one step with its status.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

static char	 dir[] = "/tmp/lbauth-test-app-XXXXXX";

/* One request: CGI parameters (name, value pairs) and a body. */
struct req {
	const char	*params[16];
	const char	*body;
};

/* A request being read. */
struct fake {
	const struct req *r;
	size_t		 off;
};

static const char *
fake_param(void *arg, const char *name)
{
	struct fake	*f = arg;
	size_t		 i;

	for (i = 0; f->r->params[i] != NULL; i += 2)
		if (strcmp(f->r->params[i], name) == 0)
			return f->r->params[i + 1];
	return NULL;
}

static long
fake_read(void *arg, char *buf, size_t len)
{
	struct fake	*f = arg;
	size_t		 left = strlen(f->r->body) - f->off;

	if (len > left)
		len = left;
	memcpy(buf, f->r->body + f->off, len);
	f->off += len;
	return (long)len;
}

/* Writes len bytes to dir/name with mode; returns the path (static). */
static const char *
put(const char *name, const char *data, size_t len, mode_t mode)
{
	static char	 path[256];
	int		 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

/* A session cookie "session=<HS256 JWT of claims>". */
static void
cookie(struct lbx_buf *out, const struct lbx_key *key, const char *claims)
{
	struct lbx_buf	 hdr;

	lbx_buf_init(&hdr);
	lbx_jwt_header(&hdr, key);
	lbx_buf_puts(out, "session=");
	lbx_jwt_sign(out, hdr.p, hdr.len, claims, strlen(claims), key);
	lbx_buf_clear(&hdr);
}

static int	 dones;
static enum lbauth_err done_rc;

static void
on_done(void *arg, enum lbauth_err rc)
{

	(void)arg;
	dones++;
	done_rc = rc;
}

int
main(void)
{
	static const char secret[] = "0123456789abcdef0123456789abcdef-test";
	unsigned char	 seed[32];
	struct lbx_key	 sk, hs;
	struct lbx_buf	 pem, conf, ok, noorg, bad;
	struct lbauth_app *app;
	struct lbauth_resp *resp;
	const char	*reason, *out;
	char		 err[512], claims[256];
	size_t		 i, len;
	enum lbauth_err	 rc;
	long		 now = (long)time(NULL);

	if (sodium_init() < 0 || mkdtemp(dir) == NULL)
		return 2;
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 3 + 5);
	lbx_buf_init(&pem);
	lbx_buf_init(&conf);
	lbx_buf_init(&ok);
	lbx_buf_init(&noorg);
	lbx_buf_init(&bad);
	test_assert(lbx_key_ed25519_seed(&sk, seed) == LBAUTH_OK);
	lbx_key_pem_sk(&pem, &sk);
	put("sign.key", pem.p, pem.len, 0600);
	put("cookie.secret", secret, sizeof(secret) - 1, 0600);
	lbx_buf_puts(&conf, "backend = local\nsigning_key_file = sign.key\n"
	    "project_id = p1\ncookie_secret_file = cookie.secret\n"
	    "log_requests = no\nmax_body = 64\nsandbox = no\n");
	put("lbauth.conf", conf.p, conf.len, 0644);
	snprintf(claims, sizeof(claims), "%s/lbauth.conf", dir);
	rc = lbauth_app_new(claims, &app, err, sizeof(err));
	test_assert(rc == LBAUTH_OK);
	if (rc != LBAUTH_OK) {
		fprintf(stderr, "%s\n", err);
		return test_done();
	}
	test_assert(!lbauth_app_concurrent(app));
	test_assert(lbauth_app_confinement(app) == LBAUTH_CONFINE_OFF);
	test_assert(lbx_key_hs256(&hs, (const unsigned char *)secret,
	    sizeof(secret) - 1, &reason) == LBAUTH_OK);
	snprintf(claims, sizeof(claims), "{\"sub\":\"ada\",\"org\":\"acme\","
	    "\"iat\":%ld,\"exp\":%ld}", now, now + 600);
	cookie(&ok, &hs, claims);
	snprintf(claims, sizeof(claims), "{\"sub\":\"bob\",\"iat\":%ld,"
	    "\"exp\":%ld}", now, now + 600);
	cookie(&noorg, &hs, claims);
	lbx_buf_puts(&bad, "session=abc.def.ghi");
	resp = lbauth_resp_new();
	test_assert(resp != NULL);

	{
#define P(m, ct, cl, ck)	{ "REQUEST_METHOD", m, "CONTENT_TYPE", ct, \
	"CONTENT_LENGTH", cl, "HTTP_HOST", "example.test", "HTTP_COOKIE", ck, \
	NULL }
#define J	"application/json"
		const struct {
			struct req	 f;
			int		 status;
			enum lbauth_err	 rc;
		} rows[] = {
			/* preflight */
			{ { { "REQUEST_METHOD", "OPTIONS", NULL }, "" },
			    204, LBAUTH_OK },
			{ { P("GET", J, "0", ok.p), "" }, 405, LBAUTH_EMETHOD },
			{ { { "REQUEST_METHOD", "POST", "HTTP_HOST",
			    "example.test", "HTTP_ORIGIN", "https://evil.test",
			    NULL }, "" }, 403, LBAUTH_EORIGIN },
			/* read */
			{ { P("POST", "text/plain", "2", ok.p), "{}" }, 415,
			    LBAUTH_ECTYPE },
			{ { P("POST", J, "x2", ok.p), "{}" }, 400,
			    LBAUTH_ELENGTH },
			{ { P("POST", J, "65", ok.p), "{}" }, 413,
			    LBAUTH_ETOOBIG },
			{ { P("POST", J, "10", ok.p), "{}" }, 400,
			    LBAUTH_ESHORT },
			{ { P("POST", J, "2", ok.p), "[]" }, 400, LBAUTH_EJSON },
			/* identify */
			{ { { "REQUEST_METHOD", "POST", "CONTENT_TYPE", J,
			    "CONTENT_LENGTH", "2", "HTTP_HOST", "example.test",
			    NULL }, "{}" }, 401, LBAUTH_ENOSESSION },
			{ { P("POST", J, "2", bad.p), "{}" }, 401,
			    LBAUTH_ETOKEN },
			/* decide: no org, no room the user may enter */
			{ { P("POST", J, "2", noorg.p), "{}" }, 403,
			    LBAUTH_EDENIED },
			/* issue + answer */
			{ { P("POST", J, "2", ok.p), "{}" }, 200, LBAUTH_OK },
			{ { P("POST", J, "19", ok.p), "{\"room\":\"acme:x\"}  " },
			    200, LBAUTH_OK },
		};
#undef P
#undef J

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct fake f = { &rows[i].f, 0 };

			rc = lbauth_app_serve(app, fake_param, fake_read, &f,
			    resp, -1);
			test_assert_idx(rc == rows[i].rc, i);
			test_assert_idx(lbauth_resp_status(resp) ==
			    rows[i].status, i);
			out = lbauth_resp_data(resp, &len);
			test_assert_idx(len > 0 && strstr(out, "Cache-Control: "
			    "no-store\r\n") != NULL, i);
			if (rows[i].status == 200)
				test_assert_idx(strstr(out, "{\"token\":\"ey") !=
				    NULL, i);
			else if (rows[i].status != 204)
				test_assert_idx(strstr(out, "{\"error\":\"") !=
				    NULL, i);

			/* lbauth_app_start: the same answer, done once. */
			f.off = 0;
			dones = 0;
			test_assert_idx(lbauth_app_start(app, fake_param,
			    fake_read, &f, resp, -1, on_done, NULL) ==
			    LBAUTH_OK, i);
			test_assert_idx(dones == 1 && done_rc == rows[i].rc, i);
			test_assert_idx(lbauth_resp_status(resp) ==
			    rows[i].status, i);
		}
	}
	/* A 5xx carries Retry-After; the fixed 500s are well formed. */
	out = lbauth_resp_fixed_500(LBAUTH_ENOMEM, &len);
	test_assert(len == strlen(out) && strncmp(out, "Status: 500 ", 12) ==
	    0 && strstr(out, "Retry-After: 1\r\n") != NULL);
	out = lbauth_resp_fixed_500(LBAUTH_ECONFIG, &len);
	test_assert(len == strlen(out) && strstr(out, "\"misconfigured\"") !=
	    NULL);
	/* worker start/stop without threads (local): no-ops that succeed. */
	test_assert(lbauth_app_worker_start(app, true, err, sizeof(err)) ==
	    LBAUTH_OK);
	lbauth_app_worker_stop(app);

	/*
	 * The master's stop grace: 30 s, or the longest wait plus 5 s.  The
	 * longest wait is reading the request (request_timeout_ms, 5000 by
	 * default) and then the API call (upstream_timeout_ms): 64001 ms
	 * rounds up to 65 s, plus 5.
	 */
	test_assert(lbauth_app_stop_grace(app) == 30);
	lbauth_app_free(app);
	lbx_buf_puts(&conf, "upstream_timeout_ms = 59001\n");
	put("lbauth.conf", conf.p, conf.len, 0644);
	snprintf(claims, sizeof(claims), "%s/lbauth.conf", dir);
	rc = lbauth_app_new(claims, &app, err, sizeof(err));
	test_assert(rc == LBAUTH_OK);
	test_assert(rc != LBAUTH_OK || lbauth_app_stop_grace(app) == 70);
	lbauth_app_free(app);
	lbx_buf_puts(&conf, "request_timeout_ms = 60000\n");
	put("lbauth.conf", conf.p, conf.len, 0644);
	rc = lbauth_app_new(claims, &app, err, sizeof(err));
	test_assert(rc == LBAUTH_OK);
	test_assert(rc != LBAUTH_OK || lbauth_app_stop_grace(app) == 125);

	lbauth_resp_free(resp);
	lbauth_app_free(app);
	lbx_key_clear(&sk);
	lbx_key_clear(&hs);
	lbx_buf_clear(&pem);
	lbx_buf_clear(&conf);
	lbx_buf_clear(&ok);
	lbx_buf_clear(&noorg);
	lbx_buf_clear(&bad);
	return test_done();
}
