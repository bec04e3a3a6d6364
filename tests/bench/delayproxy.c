/*
 * delayproxy.c: the benchmark's delay proxy, tests/integ/delayproxy.mjs
 * in C.  A plain HTTP/1.1 reverse proxy that holds every request for a
 * fixed time before it passes it on, to stand for the WAN round trip
 * between a server and the Liveblocks API in front of the dev server.
 * The Node proxy tops out near 3,900 requests/s at 256 connections and
 * 50 ms on this 2-core machine with nothing else running (the ideal is
 * 256 / 0.05 s = 5,120), below what the endpoints under test reach, so
 * the benchmark runs this one: one thread, epoll, a FIFO of held
 * requests (the delay is constant, so the FIFO is in due order), a pool
 * of kept-alive connections to the target.
 *
 * The counters are the Node proxy's:
 *   accepted     TCP connections accepted from clients (a connection
 *                whose first request is for /__delayproxy/ is not one)
 *   requests     requests proxied
 *   inflight     requests being held or forwarded right now
 *   maxInflight  the most there were at once
 *   upstreamConnects  connections opened to the target
 * GET /__delayproxy/stats answers them as JSON (never forwarded), POST
 * /__delayproxy/reset zeroes them (inflight excepted).
 *
 * Usage: delayproxy --target http://127.0.0.1:PORT [--delay MS] [--port P]
 * prints "delayproxy listening on PORT" once it listens on 127.0.0.1.
 * Requests and answers pass through as bytes; a message is framed by
 * Content-Length or chunked encoding (an answer without either ends at
 * close).  Benchmark and test tool only: loopback, no TLS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { LISTENER, CLIENT, UPSTREAM };
enum state { READING, HELD, FORWARDING, CONNECTING, SENDING, RECEIVING, IDLE };

struct conn {
	enum kind	 kind;
	enum state	 state;
	int		 fd;
	int		 dead;		/* client gone; freed when not referenced */
	int		 counted;	/* client: counted in "accepted" */
	int		 seen;		/* client: has sent a request */
	int		 closeafter;	/* close once the current exchange ends */
	char		*in;
	size_t		 inlen, incap;
	char		*out;
	size_t		 outlen, outoff, outcap;
	size_t		 reqlen;	/* client: length of the held request */
	struct conn	*peer;		/* client <-> upstream during a forward */
	struct conn	*qnext;		/* delay FIFO */
	struct conn	*pprev, *pnext;	/* idle pool */
	uint64_t	 due;
	uint32_t	 events;
};

static int			 ep;
static struct sockaddr_in	 target;
static uint64_t			 delay_ms = 50;
static struct conn		*qhead, *qtail, *pool;
static struct {
	unsigned long	 accepted, requests, inflight, maxinflight, upconnects;
} st;

static uint64_t
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
watch(struct conn *c, uint32_t ev)
{
	struct epoll_event	 e;

	if (c->fd < 0 || c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &e) == -1)
		die("epoll_ctl");
	c->events = ev;
}

static void
grow(char **buf, size_t *cap, size_t need)
{
	size_t	 n;

	if (need <= *cap)
		return;
	for (n = *cap ? *cap : 4096; n < need; n *= 2)
		;
	if ((*buf = realloc(*buf, n)) == NULL)
		die("realloc");
	*cap = n;
}

static void
conn_free(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

static void
pool_remove(struct conn *u)
{
	if (u->pprev)
		u->pprev->pnext = u->pnext;
	else
		pool = u->pnext;
	if (u->pnext)
		u->pnext->pprev = u->pprev;
	u->pprev = u->pnext = NULL;
}

/*
 * A header's value in the header block h (len bytes, lines ending in
 * CRLF), or NULL; *vlen_r gets its length.
 */
static const char *
header(const char *h, size_t len, const char *name, size_t *vlen_r)
{
	size_t		 nl = strlen(name);
	const char	*p = memchr(h, '\n', len), *end = h + len, *e, *v;

	while (p != NULL && p + 1 < end) {
		p++;
		e = memchr(p, '\n', (size_t)(end - p));
		if (e == NULL)
			break;
		if ((size_t)(e - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			for (v = p + nl + 1; v < e && (*v == ' ' || *v == '\t'); v++)
				;
			*vlen_r = (size_t)(e - v);
			if (*vlen_r && v[*vlen_r - 1] == '\r')
				(*vlen_r)--;
			return v;
		}
		p = e;
	}
	return NULL;
}

static int
has_token(const char *v, size_t vlen, const char *tok)
{
	size_t	 tl = strlen(tok), i;

	for (i = 0; v != NULL && i + tl <= vlen; i++)
		if (strncasecmp(v + i, tok, tl) == 0)
			return 1;
	return 0;
}

/*
 * The length of the complete message at the start of buf: 0 when more
 * bytes are needed, -1 when it cannot be framed.  *hlen_r gets the
 * header block's length.  A response (isresp) without a length ends at
 * close: it returns 0 and sets *eof_r.
 */
static long
framed(const char *buf, size_t len, int isresp, size_t *hlen_r, int *eof_r)
{
	const char	*e = memmem(buf, len, "\r\n\r\n", 4), *v;
	size_t		 hlen, vlen, off;
	unsigned long	 n;
	char		*end;
	int		 status;

	*eof_r = 0;
	if (e == NULL)
		return len > 65536 ? -1 : 0;
	hlen = (size_t)(e - buf) + 4;
	*hlen_r = hlen;
	if (isresp) {
		status = len > 12 ? atoi(buf + 9) : 0;
		if (status < 200 || status == 204 || status == 304)
			return (long)hlen;
	}
	if ((v = header(buf, hlen, "transfer-encoding", &vlen)) != NULL &&
	    has_token(v, vlen, "chunked")) {
		for (off = hlen;;) {
			e = memmem(buf + off, len - off, "\r\n", 2);
			if (e == NULL)
				return 0;
			n = strtoul(buf + off, &end, 16);
			off = (size_t)(e - buf) + 2;
			if (n == 0) {
				/* No trailers from the targets used here. */
				return len >= off + 2 ? (long)(off + 2) : 0;
			}
			off += n + 2;
			if (off > len)
				return 0;
		}
	}
	if ((v = header(buf, hlen, "content-length", &vlen)) != NULL) {
		n = strtoul(v, NULL, 10);
		return len >= hlen + n ? (long)(hlen + n) : 0;
	}
	if (isresp)
		*eof_r = 1;
	return isresp ? 0 : (long)hlen;
}

static void
send_bytes(struct conn *c, const char *b, size_t n)
{
	ssize_t	 w;

	if (c->fd < 0)
		return;
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		while (n > 0 && (w = write(c->fd, b, n)) > 0) {
			b += w;
			n -= (size_t)w;
		}
	}
	if (n > 0) {
		grow(&c->out, &c->outcap, c->outlen + n);
		memcpy(c->out + c->outlen, b, n);
		c->outlen += n;
		watch(c, EPOLLIN | EPOLLOUT);
	}
}

static void	client_input(struct conn *);

/* The current exchange of client c is over. */
static void
client_done(struct conn *c)
{
	st.inflight--;
	c->peer = NULL;
	if (c->dead) {
		conn_free(c);
		return;
	}
	memmove(c->in, c->in + c->reqlen, c->inlen - c->reqlen);
	c->inlen -= c->reqlen;
	c->reqlen = 0;
	c->state = READING;
	if (c->closeafter) {
		shutdown(c->fd, SHUT_WR);
		return;
	}
	client_input(c);
}

static void
reply(struct conn *c, int status, const char *body)
{
	char	 b[1024];
	int	 n;

	n = snprintf(b, sizeof(b), "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
	    "content-length: %zu\r\n\r\n%s", status, status == 200 ? "OK" : status == 204 ?
	    "No Content" : "Bad Gateway", strlen(body), body);
	send_bytes(c, b, (size_t)n);
}

static void
upstream_close(struct conn *u)
{
	if (u->state == IDLE)
		pool_remove(u);
	conn_free(u);
}

/* Upstream u failed before a whole answer: 502 to its client. */
static void
upstream_fail(struct conn *u)
{
	struct conn	*c = u->peer;

	upstream_close(u);
	if (c != NULL) {
		reply(c, 502, "{\"error\":\"delayproxy: upstream failed\"}");
		client_done(c);
	}
}

static void
upstream_start(struct conn *u)
{
	struct conn	*c = u->peer;
	ssize_t		 w;
	size_t		 off = 0;

	u->state = SENDING;
	u->inlen = 0;
	u->outlen = u->outoff = 0;
	while (off < c->reqlen && (w = write(u->fd, c->in + off, c->reqlen - off)) > 0)
		off += (size_t)w;
	if (off < c->reqlen) {
		if (errno != EAGAIN) {
			upstream_fail(u);
			return;
		}
		grow(&u->out, &u->outcap, c->reqlen - off);
		memcpy(u->out, c->in + off, c->reqlen - off);
		u->outlen = c->reqlen - off;
		watch(u, EPOLLIN | EPOLLOUT);
		return;
	}
	u->state = RECEIVING;
	watch(u, EPOLLIN);
}

/* The held request of client c is due: forward it. */
static void
forward(struct conn *c)
{
	struct conn	*u;
	int		 fd, one = 1;

	if (c->dead) {
		client_done(c);
		return;
	}
	c->state = FORWARDING;
	if ((u = pool) != NULL) {
		pool_remove(u);
		u->peer = c;
		c->peer = u;
		upstream_start(u);
		return;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((u = calloc(1, sizeof(*u))) == NULL)
		die("calloc");
	u->kind = UPSTREAM;
	u->fd = fd;
	u->peer = c;
	c->peer = u;
	st.upconnects++;
	if (connect(fd, (struct sockaddr *)&target, sizeof(target)) == -1 && errno != EINPROGRESS) {
		upstream_fail(u);
		return;
	}
	u->state = CONNECTING;
	watch(u, EPOLLIN | EPOLLOUT);
}

static void
stats(struct conn *c)
{
	char	 b[512];

	snprintf(b, sizeof(b), "{\"accepted\":%lu,\"requests\":%lu,\"inflight\":%lu,"
	    "\"maxInflight\":%lu,\"upstreamConnects\":%lu}", st.accepted, st.requests,
	    st.inflight, st.maxinflight, st.upconnects);
	reply(c, 200, b);
}

/* Frame what client c has sent; hold a whole request. */
static void
client_input(struct conn *c)
{
	size_t		 hlen, vlen;
	long		 n;
	int		 eof;
	const char	*v;

	if (c->state != READING || c->inlen == 0)
		return;
	if ((n = framed(c->in, c->inlen, 0, &hlen, &eof)) < 0) {
		reply(c, 502, "{\"error\":\"delayproxy: request too large\"}");
		shutdown(c->fd, SHUT_WR);
		return;
	}
	if (n == 0)
		return;
	c->reqlen = (size_t)n;
	if ((v = header(c->in, hlen, "connection", &vlen)) != NULL && has_token(v, vlen, "close"))
		c->closeafter = 1;
	if (hlen > 20 && memmem(c->in, 64 < hlen ? 64 : hlen, " /__delayproxy/", 15) != NULL) {
		if (!c->seen && c->counted) {
			c->counted = 0;
			st.accepted--;
		}
		c->seen = 1;
		if (memmem(c->in, hlen, "/__delayproxy/reset", 19) != NULL) {
			st.accepted = st.requests = st.upconnects = 0;
			st.maxinflight = st.inflight;
			reply(c, 204, "");
		} else
			stats(c);
		st.inflight++;
		client_done(c);
		return;
	}
	c->seen = 1;
	st.requests++;
	if (++st.inflight > st.maxinflight)
		st.maxinflight = st.inflight;
	c->state = HELD;
	c->due = now_ms() + delay_ms;
	c->qnext = NULL;
	if (qtail)
		qtail->qnext = c;
	else
		qhead = c;
	qtail = c;
}

static void
client_event(struct conn *c, uint32_t ev)
{
	ssize_t	 r;

	if (ev & EPOLLOUT) {
		while (c->outoff < c->outlen &&
		    (r = write(c->fd, c->out + c->outoff, c->outlen - c->outoff)) > 0)
			c->outoff += (size_t)r;
		if (c->outoff == c->outlen)
			watch(c, EPOLLIN);
		else if (errno != EAGAIN)
			goto gone;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			grow(&c->in, &c->incap, c->inlen + 4096);
			r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
			if (r > 0) {
				c->inlen += (size_t)r;
				continue;
			}
			if (r == 0 || errno != EAGAIN)
				goto gone;
			break;
		}
		client_input(c);
	}
	return;
gone:
	close(c->fd);
	c->fd = -1;
	c->dead = 1;
	if (c->state == READING)
		conn_free(c);
}

static void
upstream_event(struct conn *u, uint32_t ev)
{
	struct conn	*c = u->peer;
	ssize_t		 r;
	size_t		 hlen, vlen;
	long		 n;
	int		 eof = 0, err = 0, closed = 0;
	socklen_t	 sl = sizeof(err);
	const char	*v;

	if (u->state == IDLE) {		/* the target closed a kept-alive one */
		upstream_close(u);
		return;
	}
	if (u->state == CONNECTING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 || err != 0) {
			upstream_fail(u);
			return;
		}
		upstream_start(u);
		return;
	}
	if (u->state == SENDING && (ev & EPOLLOUT)) {
		while (u->outoff < u->outlen &&
		    (r = write(u->fd, u->out + u->outoff, u->outlen - u->outoff)) > 0)
			u->outoff += (size_t)r;
		if (u->outoff < u->outlen) {
			if (errno != EAGAIN)
				upstream_fail(u);
			return;
		}
		u->state = RECEIVING;
		watch(u, EPOLLIN);
	}
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		grow(&u->in, &u->incap, u->inlen + 8192);
		r = read(u->fd, u->in + u->inlen, u->incap - u->inlen);
		if (r > 0) {
			u->inlen += (size_t)r;
			continue;
		}
		if (r == 0 || errno != EAGAIN)
			closed = 1;
		break;
	}
	n = framed(u->in, u->inlen, 1, &hlen, &eof);
	if (n == 0 && eof && closed)
		n = (long)u->inlen;
	if (n <= 0) {
		if (closed || n < 0)
			upstream_fail(u);
		return;
	}
	send_bytes(c, u->in, (size_t)n);
	if ((v = header(u->in, hlen, "connection", &vlen)) != NULL && has_token(v, vlen, "close"))
		closed = 1;
	u->peer = NULL;
	if (closed || eof || (size_t)n != u->inlen)
		conn_free(u);
	else {
		u->state = IDLE;
		u->inlen = 0;
		u->pnext = pool;
		u->pprev = NULL;
		if (pool)
			pool->pprev = u;
		pool = u;
	}
	client_done(c);
}

static void
accept_all(int lfd)
{
	struct conn	*c;
	int		 fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			die("calloc");
		c->kind = CLIENT;
		c->fd = fd;
		c->counted = 1;
		st.accepted++;
		watch(c, EPOLLIN);
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sa;
	struct epoll_event	 evs[256];
	struct conn		 lc, *c;
	struct rlimit		 rl;
	socklen_t		 sl = sizeof(sa);
	const char		*tgt = NULL, *p;
	int			 i, n, port = 0, one = 1, timeout;
	uint64_t		 now;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--target") == 0)
			tgt = argv[i + 1];
		else if (strcmp(argv[i], "--delay") == 0)
			delay_ms = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
	}
	if (tgt == NULL || strncmp(tgt, "http://127.0.0.1:", 17) != 0) {
		fprintf(stderr, "usage: delayproxy --target http://127.0.0.1:PORT [--delay MS] [--port PORT]\n");
		return 2;
	}
	p = tgt + 17;
	memset(&target, 0, sizeof(target));
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(p));
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	if ((lc.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	setsockopt(lc.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lc.fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 || listen(lc.fd, 65535) == -1)
		die("bind");
	if (getsockname(lc.fd, (struct sockaddr *)&sa, &sl) == -1)
		die("getsockname");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1");
	lc.kind = LISTENER;
	lc.events = 0;
	watch(&lc, EPOLLIN);
	printf("delayproxy listening on %d\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (;;) {
		timeout = -1;
		if (qhead != NULL) {
			now = now_ms();
			timeout = qhead->due > now ? (int)(qhead->due - now) : 0;
		}
		n = epoll_wait(ep, evs, 256, timeout);
		if (n == -1 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c->kind == LISTENER)
				accept_all(c->fd);
			else if (c->kind == CLIENT)
				client_event(c, evs[i].events);
			else
				upstream_event(c, evs[i].events);
		}
		for (now = now_ms(); qhead != NULL && qhead->due <= now;) {
			c = qhead;
			if ((qhead = c->qnext) == NULL)
				qtail = NULL;
			forward(c);
		}
	}
}
