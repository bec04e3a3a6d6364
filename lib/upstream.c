/*
 * upstream.c: HTTP POSTs to the Liveblocks API (backend = liveblocks).
 *
 * libcurl is loaded with dlopen() when the liveblocks backend is
 * configured, not linked: linking it makes every exec of lbauth load
 * some thirty libraries (TLS, HTTP/2, IDN, LDAP, Kerberos...), which
 * measured 4.8 ms per CGI start against 0.7 ms without it, a cost the
 * local backend would pay for nothing.
 *
 * One easy handle per process, made on first use (so that a process
 * forked after start-up never shares a handle with its parent) and kept:
 * libcurl then reuses the connection (keep-alive), the TLS session and
 * the DNS answer across requests.  TLS peer and host verification stay
 * on (libcurl's defaults, set again explicitly); only http and https
 * are allowed; redirects are not followed; every transfer is bounded by
 * upstream_timeout_ms, connect included; the answer is capped at
 * LBX_UPSTREAM_MAX bytes.
 *
 * The secret reaches libcurl once, as the Authorization header line of
 * a curl_slist.  XXX: libcurl copies header lines into its own buffers
 * for each request and frees them without wiping; we wipe our list on
 * exit, but cannot wipe libcurl's copies.
 */
#define CURL_DISABLE_TYPECHECK 1

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "extern.h"

struct lbx_curl {
	CURLcode	 (*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_perform)(CURL *);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char	*(*easy_strerror)(CURLcode);
	void		 (*easy_cleanup)(CURL *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
};

/* The libcurl sonames to try, newest ABI first. */
static const char *const sonames[] = {
	"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"
};

/*
 * Loads libcurl and prepares up to POST to base (borrowed: must outlive
 * up) with the API secret (len bytes, copied into the header list) and
 * a timeout of timeout_ms, trusting the CAs in the PEM file ca_file
 * (borrowed too) or, when it is NULL, the system's.  Nothing touches the network yet.  Returns
 * LBAUTH_OK; LBAUTH_ECONFIG with a sentence in err when libcurl cannot
 * be loaded; LBAUTH_ENOMEM.
 */
enum lbauth_err
lbx_upstream_init(struct lbx_upstream *up, const char *base,
    const char *ca_file, const unsigned char *secret, size_t len,
    long timeout_ms, char *err, size_t errsz)
{
	struct lbx_curl	*c;
	struct lbx_buf	 auth;
	size_t		 i;

	memset(up, 0, sizeof(*up));
	up->base = base;
	up->ca_file = ca_file;
	up->timeout_ms = timeout_ms;
	lbx_buf_init(&up->url);
	if ((c = up->curl = calloc(1, sizeof(*c))) == NULL)
		return LBAUTH_ENOMEM;
	for (i = 0; i < sizeof(sonames) / sizeof(sonames[0]) &&
	    up->dl == NULL; i++)
		up->dl = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (up->dl == NULL) {
		snprintf(err, errsz, "backend = liveblocks needs libcurl "
		    "(Debian package libcurl4): %s", dlerror());
		return LBAUTH_ECONFIG;
	}
#define SYM(f, name) do {						\
	if ((*(void **)&c->f = dlsym(up->dl, name)) == NULL) {		\
		snprintf(err, errsz, "libcurl lacks %s", name);		\
		return LBAUTH_ECONFIG;					\
	}								\
} while (0)
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	if (c->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsz, "libcurl failed to initialise");
		return LBAUTH_ECONFIG;
	}
	lbx_buf_init(&auth);
	lbx_buf_puts(&auth, "Authorization: Bearer ");
	lbx_buf_put(&auth, secret, len);
	if (auth.oom ||
	    (up->headers = c->slist_append(NULL, auth.p)) == NULL ||
	    c->slist_append(up->headers, "Content-Type: application/json") ==
	    NULL ||
	    /* No "Expect: 100-continue" wait on bodies over 1 KiB. */
	    c->slist_append(up->headers, "Expect:") == NULL) {
		lbx_buf_clear(&auth);
		return LBAUTH_ENOMEM;
	}
	lbx_buf_clear(&auth);
	return LBAUTH_OK;
}

/* Wipes the header lines (the secret) and releases everything. */
void
lbx_upstream_clear(struct lbx_upstream *up)
{
	struct lbx_curl		*c = up->curl;
	struct curl_slist	*l;

	if (c != NULL) {
		for (l = up->headers; l != NULL; l = l->next)
			sodium_memzero(l->data, strlen(l->data));
		if (up->headers != NULL)
			c->slist_free_all(up->headers);
		if (up->h != NULL)
			c->easy_cleanup(up->h);
	}
	/* libcurl stays loaded: unloading it under OpenSSL is unsafe. */
	free(c);
	lbx_buf_clear(&up->url);
	memset(up, 0, sizeof(*up));
}

/* libcurl write callback: appends to the lbx_buf, capped. */
static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct lbx_buf	*b = arg;
	size_t		 len = size * n;	/* size is always 1 */

	if (len > LBX_UPSTREAM_MAX || b->len + len > LBX_UPSTREAM_MAX)
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	lbx_buf_put(b, p, len);
	return b->oom ? 0 : len;
}

/* Makes the process's easy handle with the options that never change. */
static int
handle(struct lbx_upstream *up)
{
	struct lbx_curl	*c = up->curl;
	CURL		*h;

	if (up->h != NULL)
		return 0;
	if ((h = c->easy_init()) == NULL)
		return -1;
	c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	c->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	c->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	c->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	/* upstream_ca_file: those CAs only, not the system's too. */
	if (up->ca_file != NULL) {
		c->easy_setopt(h, CURLOPT_CAINFO, up->ca_file);
		c->easy_setopt(h, CURLOPT_CAPATH, (char *)NULL);
	}
	c->easy_setopt(h, CURLOPT_TIMEOUT_MS, up->timeout_ms);
	c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, up->timeout_ms);
	c->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	c->easy_setopt(h, CURLOPT_HTTPHEADER, up->headers);
	c->easy_setopt(h, CURLOPT_USERAGENT, "lbauth");
	c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	c->easy_setopt(h, CURLOPT_POST, 1L);
	up->h = h;
	return 0;
}

/*
 * POSTs body (len bytes of JSON) to base + path and stores the HTTP
 * status in *status_r and the answer in resp (reset first).  Returns
 * LBAUTH_OK when an HTTP answer arrived, whatever its status, and
 * LBAUTH_EUPSTREAM when none did (connection refused or reset,
 * timeout, TLS failure, an answer over LBX_UPSTREAM_MAX bytes), with a
 * static sentence in *reason_r; LBAUTH_ENOMEM.  *conns_r gets the number
 * of new connections the transfer opened (0 when one was reused).
 */
enum lbauth_err
lbx_upstream_post(struct lbx_upstream *up, const char *path,
    const char *body, size_t len, long *status_r, struct lbx_buf *resp,
    long *conns_r, const char **reason_r)
{
	struct lbx_curl	*c = up->curl;
	CURLcode	 rc;

	*status_r = 0;
	*conns_r = 0;
	*reason_r = NULL;
	lbx_buf_reset(resp);
	if (handle(up) == -1)
		return LBAUTH_ENOMEM;
	lbx_buf_reset(&up->url);
	lbx_buf_puts(&up->url, up->base);
	lbx_buf_puts(&up->url, path);
	if (up->url.oom)
		return LBAUTH_ENOMEM;
	c->easy_setopt(up->h, CURLOPT_URL, up->url.p);
	c->easy_setopt(up->h, CURLOPT_POSTFIELDS, body);
	c->easy_setopt(up->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	c->easy_setopt(up->h, CURLOPT_WRITEDATA, resp);
	rc = c->easy_perform(up->h);
	c->easy_getinfo(up->h, CURLINFO_NUM_CONNECTS, conns_r);
	if (rc != CURLE_OK) {
		*reason_r = rc == CURLE_WRITE_ERROR ?
		    "the answer was too large" : c->easy_strerror(rc);
		if (resp->oom)
			return LBAUTH_ENOMEM;
		return LBAUTH_EUPSTREAM;
	}
	c->easy_getinfo(up->h, CURLINFO_RESPONSE_CODE, status_r);
	return LBAUTH_OK;
}

/* The URL of the last request, for messages; "" before any. */
const char *
lbx_upstream_url(const struct lbx_upstream *up)
{

	return up->url.len > 0 ? up->url.p : "";
}
