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
 * Two ways to make a request.  lbx_upstream_post() blocks in
 * curl_easy_perform(): a CGI run or a test makes one request and exits,
 * and starts no thread.  A FastCGI worker instead starts the engine
 * (lbx_upstream_start): ONE thread per process running a curl multi
 * handle, to which the request threads hand transfers
 * (lbx_upstream_submit) and which calls each transfer's done function
 * when it ends.  A worker then keeps hundreds of requests in flight over
 * few connections: the multi handle keeps its connections (CURLMOPT_
 * MAXCONNECTS) and its DNS answers for all its transfers, multiplexes
 * them over HTTP/2 where the server offers it over TLS (CURLPIPE_
 * MULTIPLEX, and over https CURLOPT_PIPEWAIT, so that a new transfer
 * waits for a connection being set up rather than opening another), and
 * opens one HTTP/1.1 connection per transfer in flight only where
 * HTTP/2 is not offered.  The alternative, a thread per request in flight each
 * blocking in curl_easy_perform(), holds one connection to the API per
 * request in flight and one stack per thread.  The multi handle is only
 * touched by the engine thread; others reach it through the queue
 * (under a mutex) and curl_multi_wakeup(), libcurl's one thread-safe
 * multi call.
 *
 * The secret reaches libcurl once, as the Authorization header line of
 * a curl_slist.  XXX: libcurl copies header lines into its own buffers
 * for each request and frees them without wiping; we wipe our list on
 * exit, but cannot wipe libcurl's copies.
 */
#define CURL_DISABLE_TYPECHECK 1

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
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
	CURLM		*(*multi_init)(void);
	CURLMcode	 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_perform)(CURLM *, int *);
	CURLMcode	 (*multi_poll)(CURLM *, struct curl_waitfd *,
			    unsigned int, int, int *);
	CURLMcode	 (*multi_wakeup)(CURLM *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	 (*multi_cleanup)(CURLM *);
};

/*
 * The engine of a worker: the multi handle, its thread and the queue
 * of submitted transfers not yet added to it.
 */
struct lbx_engine {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	CURLM			*multi;
	struct lbx_xfer		*queue;		/* under lock, LIFO */
	int			 stopping;	/* under lock */
	long			 maxconns;
};

/* The libcurl sonames to try, newest ABI first. */
static const char *const sonames[] = {
	"libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"
};

/*
 * Opens libcurl (the first of sonames there is) into up->dl and fills
 * c's function pointers.  Returns LBAUTH_OK, or LBAUTH_ECONFIG with a
 * sentence in err.  up->dl is never closed (lbx_upstream_clear() says
 * why).
 */
static enum lbauth_err
load_curl(struct lbx_upstream *up, struct lbx_curl *c, char *err,
    size_t errsz)
{
	const struct lbx_dl_sym syms[] = {
		{ "curl_global_init", (void **)&c->global_init },
		{ "curl_easy_init", (void **)&c->easy_init },
		{ "curl_easy_setopt", (void **)&c->easy_setopt },
		{ "curl_easy_perform", (void **)&c->easy_perform },
		{ "curl_easy_getinfo", (void **)&c->easy_getinfo },
		{ "curl_easy_strerror", (void **)&c->easy_strerror },
		{ "curl_easy_cleanup", (void **)&c->easy_cleanup },
		{ "curl_slist_append", (void **)&c->slist_append },
		{ "curl_slist_free_all", (void **)&c->slist_free_all },
		{ "curl_multi_init", (void **)&c->multi_init },
		{ "curl_multi_setopt", (void **)&c->multi_setopt },
		{ "curl_multi_add_handle", (void **)&c->multi_add_handle },
		{ "curl_multi_remove_handle",
		    (void **)&c->multi_remove_handle },
		{ "curl_multi_perform", (void **)&c->multi_perform },
		{ "curl_multi_poll", (void **)&c->multi_poll },
		{ "curl_multi_wakeup", (void **)&c->multi_wakeup },
		{ "curl_multi_info_read", (void **)&c->multi_info_read },
		{ "curl_multi_cleanup", (void **)&c->multi_cleanup },
	};
	size_t		 i;

	for (i = 0; i < sizeof(sonames) / sizeof(sonames[0]) &&
	    up->dl == NULL; i++)
		up->dl = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
	if (up->dl == NULL) {
		snprintf(err, errsz, "backend = liveblocks needs libcurl "
		    "(Debian package libcurl4): %s", dlerror());
		return LBAUTH_ECONFIG;
	}
	if (lbx_dl_syms(up->dl, "libcurl", syms, sizeof(syms) /
	    sizeof(syms[0]), err, errsz) == -1)
		return LBAUTH_ECONFIG;
	return LBAUTH_OK;
}

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
	enum lbauth_err	 rc;

	memset(up, 0, sizeof(*up));
	up->base = base;
	up->ca_file = ca_file;
	up->timeout_ms = timeout_ms;
	lbx_buf_init(&up->url);
	if ((c = up->curl = calloc(1, sizeof(*c))) == NULL)
		return LBAUTH_ENOMEM;
	if ((rc = load_curl(up, c, err, errsz)) != LBAUTH_OK)
		return rc;
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

	lbx_upstream_stop(up);
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

/* Sets the options every transfer has on the easy handle h. */
static void
options(struct lbx_upstream *up, CURL *h)
{
	struct lbx_curl	*c = up->curl;

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
	/*
	 * Smaller buffers than libcurl's 16 KiB (download) and 64 KiB
	 * (upload): an API answer is a few hundred bytes and a request
	 * body at most a few KiB, and a worker holds up to max_inflight
	 * handles at once.
	 */
	c->easy_setopt(h, CURLOPT_BUFFERSIZE, 4096L);
	c->easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	/* HTTP/2 over TLS where offered (HTTP/1.1 otherwise). */
	c->easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
}

/* Makes the process's easy handle for lbx_upstream_post(). */
static int
handle(struct lbx_upstream *up)
{
	CURL	*h;

	if (up->h != NULL)
		return 0;
	if ((h = up->curl->easy_init()) == NULL)
		return -1;
	options(up, h);
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

/* Maps a finished transfer's result into x (engine thread). */
static void
finished(struct lbx_upstream *up, struct lbx_xfer *x, CURLcode rc)
{
	struct lbx_curl	*c = up->curl;

	c->easy_getinfo(x->h, CURLINFO_NUM_CONNECTS, &x->conns);
	if (rc != CURLE_OK) {
		x->reason = rc == CURLE_WRITE_ERROR ?
		    "the answer was too large" : c->easy_strerror(rc);
		x->rc = x->answer.oom ? LBAUTH_ENOMEM : LBAUTH_EUPSTREAM;
	} else {
		c->easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->status);
		x->rc = LBAUTH_OK;
	}
}

/* Adds the queued transfers to the multi handle (engine thread). */
static void
add_queued(struct lbx_upstream *up, struct lbx_xfer *q)
{
	struct lbx_curl	*c = up->curl;
	struct lbx_xfer	*x, *next;

	for (x = q; x != NULL; x = next) {
		next = x->next;
		x->next = NULL;
		if (c->multi_add_handle(up->eng->multi, x->h) != CURLM_OK) {
			x->rc = LBAUTH_EUPSTREAM;
			x->reason = "libcurl refused the transfer";
			c->easy_cleanup(x->h);
			x->h = NULL;
			x->done(x);
		}
	}
}

/*
 * The engine thread: adds what was submitted, drives the transfers and
 * hands each finished one to its done function, until stopped with
 * nothing left in flight.
 */
static void *
engine(void *arg)
{
	struct lbx_upstream	*up = arg;
	struct lbx_engine	*e = up->eng;
	struct lbx_curl		*c = up->curl;
	struct lbx_xfer		*q, *x;
	CURLMsg			*m;
	int			 running = 0, left, stop;
	CURLcode		 rc;

	for (;;) {
		pthread_mutex_lock(&e->lock);
		q = e->queue;
		e->queue = NULL;
		stop = e->stopping;
		pthread_mutex_unlock(&e->lock);
		add_queued(up, q);
		c->multi_perform(e->multi, &running);
		while ((m = c->multi_info_read(e->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			x = NULL;
			c->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
			rc = m->data.result;
			c->multi_remove_handle(e->multi, m->easy_handle);
			finished(up, x, rc);
			c->easy_cleanup(x->h);
			x->h = NULL;
			x->done(x);
		}
		if (stop && running == 0 && q == NULL)
			break;
		/*
		 * curl_multi_poll() returns at once when it fails (no memory,
		 * an unrecoverable poll(2) error): without a pause this loop
		 * would spin a core until it recovers.  Transfers still move
		 * and time out, at 10 ms steps, through multi_perform().
		 */
		if (c->multi_poll(e->multi, NULL, 0, 1000, NULL) != CURLM_OK)
			poll(NULL, 0, 10);
	}
	return NULL;
}

/*
 * Starts up's engine in the calling process (a worker, after fork:
 * threads do not survive fork): a multi handle that keeps up to maxconns
 * connections open, and its thread.  Signals that the calling thread
 * blocks stay blocked in the engine.  Returns LBAUTH_OK, LBAUTH_ENOMEM or
 * LBAUTH_ESYS (no thread).
 */
enum lbauth_err
lbx_upstream_start(struct lbx_upstream *up, long maxconns)
{
	struct lbx_curl		*c = up->curl;
	struct lbx_engine	*e;

	if (up->eng != NULL)
		return LBAUTH_OK;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return LBAUTH_ENOMEM;
	if ((e->multi = c->multi_init()) == NULL) {
		free(e);
		return LBAUTH_ENOMEM;
	}
	c->multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	c->multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, maxconns);
	e->maxconns = maxconns;
	pthread_mutex_init(&e->lock, NULL);
	up->eng = e;
	if ((errno = pthread_create(&e->thread, NULL, engine, up)) != 0) {
		pthread_mutex_destroy(&e->lock);
		c->multi_cleanup(e->multi);
		free(e);
		up->eng = NULL;
		return LBAUTH_ESYS;
	}
	return LBAUTH_OK;
}

/*
 * Stops the engine once every transfer in flight or queued has ended
 * (each is bounded by upstream_timeout_ms) and its done function has
 * run; then joins its thread.  No transfer may be submitted after.  A
 * never-started engine is a no-op.
 */
void
lbx_upstream_stop(struct lbx_upstream *up)
{
	struct lbx_engine	*e = up->eng;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	e->stopping = 1;
	pthread_mutex_unlock(&e->lock);
	up->curl->multi_wakeup(e->multi);
	pthread_join(e->thread, NULL);
	pthread_mutex_destroy(&e->lock);
	up->curl->multi_cleanup(e->multi);
	free(e);
	up->eng = NULL;
}

/* Whether the engine runs in this process. */
bool
lbx_upstream_started(const struct lbx_upstream *up)
{

	return up->eng != NULL;
}

/*
 * Hands x to the engine (any thread): POSTs x->body to base + x->path.
 * x->done(x) is called exactly once, from the engine thread, when the
 * transfer has ended, with x->rc, x->status, x->answer and x->reason set
 * as lbx_upstream_post() sets its out-parameters.  x stays the caller's
 * (done may free it); x->body must stay valid until done.  Returns
 * LBAUTH_OK; LBAUTH_ENOMEM (done is then not called).
 */
enum lbauth_err
lbx_upstream_submit(struct lbx_upstream *up, struct lbx_xfer *x)
{
	struct lbx_curl		*c = up->curl;
	struct lbx_engine	*e = up->eng;
	CURL			*h;

	x->rc = LBAUTH_EUPSTREAM;
	x->status = 0;
	x->conns = 0;
	x->reason = NULL;
	lbx_buf_reset(&x->answer);
	lbx_buf_reset(&x->url);
	lbx_buf_puts(&x->url, up->base);
	lbx_buf_puts(&x->url, x->path);
	if (x->url.oom || (h = c->easy_init()) == NULL)
		return LBAUTH_ENOMEM;
	options(up, h);
	c->easy_setopt(h, CURLOPT_URL, x->url.p);
	c->easy_setopt(h, CURLOPT_POSTFIELDS, x->body.p);
	c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)x->body.len);
	c->easy_setopt(h, CURLOPT_WRITEDATA, &x->answer);
	c->easy_setopt(h, CURLOPT_PRIVATE, x);
	/*
	 * Over https, wait for a connection being set up that may turn out
	 * to multiplex (HTTP/2, learnt from ALPN) rather than open another.
	 * Not over http: there HTTP/1.1 is all there is, and libcurl would
	 * hold the new transfer until the first one's answer arrives.
	 */
	if (strncmp(up->base, "https:", 6) == 0)
		c->easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	x->h = h;
	pthread_mutex_lock(&e->lock);
	x->next = e->queue;
	e->queue = x;
	pthread_mutex_unlock(&e->lock);
	c->multi_wakeup(e->multi);
	return LBAUTH_OK;
}

/* The URL of the last request, for messages; "" before any. */
const char *
lbx_upstream_url(const struct lbx_upstream *up)
{

	return up->url.len > 0 ? up->url.p : "";
}
