/*
 * test-upstream.c: lib/upstream.c against a local socket: a small
 * HTTP/1.1 server on a thread of this process (127.0.0.1, a port the
 * kernel picks) that counts the connections it accepts and answers
 * each POST after delay_ms.  The blocking post, then the engine: many
 * transfers in flight at once, connections kept and reused, an HTTP
 * error status passed through, a refused connection, and a stop that
 * waits for the transfers in flight.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/extern.h"
#include "../test.h"

static int		 lfd;
static atomic_int	 accepted, served;
static atomic_int	 delay_ms, status_code = 200;

/* Serves one connection: keep-alive POSTs until the peer closes. */
static void *
conn(void *arg)
{
	int	 fd = (int)(intptr_t)arg;
	char	 buf[8192], out[256], *e, *cl;
	size_t	 have = 0, need;
	ssize_t	 n;
	int	 len;

	for (;;) {
		buf[have] = '\0';
		if ((e = strstr(buf, "\r\n\r\n")) == NULL) {
			if (have >= sizeof(buf) - 1 ||
			    (n = read(fd, buf + have, sizeof(buf) - 1 - have)) <= 0)
				break;
			have += (size_t)n;
			continue;
		}
		cl = strcasestr(buf, "content-length:");
		need = (size_t)(e + 4 - buf) + (cl != NULL && cl < e ?
		    strtoul(cl + 15, NULL, 10) : 0);
		while (have < need && (n = read(fd, buf + have, need - have)) > 0)
			have += (size_t)n;
		if (have < need)
			break;
		if (delay_ms > 0)
			usleep((useconds_t)delay_ms * 1000);
		if (strstr(buf, "\"slow\"") != NULL)
			usleep(1000 * 1000);
		len = snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Type: "
		    "application/json\r\nContent-Length: 13\r\n\r\n"
		    "{\"token\":\"t\"}", status_code);
		if (write(fd, out, (size_t)len) != len)
			break;
		served++;
		memmove(buf, buf + need, have - need);
		have -= need;
	}
	close(fd);
	return NULL;
}

static void *
server(void *arg)
{
	pthread_t	 t;
	int		 fd;

	(void)arg;
	while ((fd = accept(lfd, NULL, NULL)) != -1) {
		accepted++;
		pthread_create(&t, NULL, conn, (void *)(intptr_t)fd);
		pthread_detach(t);
	}
	return NULL;
}

static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cv = PTHREAD_COND_INITIALIZER;
static int		 ndone, nok;
static struct lbx_xfer	*first;

static void
on_done(struct lbx_xfer *x)
{

	pthread_mutex_lock(&mu);
	if (ndone == 0)
		first = x;
	ndone++;
	if (x->rc == LBAUTH_OK && x->status == status_code &&
	    x->answer.len == 13 && memcmp(x->answer.p, "{\"token\":\"t\"}",
	    13) == 0)
		nok++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static struct lbx_xfer xs[40];

/* Submits n transfers and waits for all of them; returns how many ok. */
static int
batch(struct lbx_upstream *up, int n)
{
	int	 i, bad = 0;

	ndone = nok = 0;
	for (i = 0; i < n; i++) {
		xs[i].path = "/v2/authorize-user";
		xs[i].done = on_done;
		lbx_buf_reset(&xs[i].body);
		lbx_buf_puts(&xs[i].body, "{\"userId\":\"u\"}");
		if (lbx_upstream_submit(up, &xs[i]) != LBAUTH_OK)
			bad++;
	}
	pthread_mutex_lock(&mu);
	while (ndone < n - bad)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return nok;
}

int
main(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	struct lbx_upstream	 up, dead, fresh;
	struct lbx_buf		 ans;
	pthread_t		 t;
	char			 base[64], err[256];
	const char		*reason;
	long			 status, conns;
	int			 i, a0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 128) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) == -1)
		return 2;
	pthread_create(&t, NULL, server, NULL);
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", ntohs(sin.sin_port));
	for (i = 0; i < 40; i++) {
		lbx_buf_init(&xs[i].body);
		lbx_buf_init(&xs[i].answer);
		lbx_buf_init(&xs[i].url);
	}
	lbx_buf_init(&ans);

	test_assert(lbx_upstream_init(&up, base, NULL,
	    (const unsigned char *)"sk_test", 7, 5000, err, sizeof(err)) ==
	    LBAUTH_OK);
	/* Blocking post: an answer, then the same connection again. */
	test_assert(lbx_upstream_post(&up, "/v2/identify-user", "{}", 2,
	    &status, &ans, &conns, &reason) == LBAUTH_OK);
	test_assert(status == 200 && conns == 1 && ans.len == 13);
	test_assert(strcmp(lbx_upstream_url(&up), base) > 0);
	test_assert(lbx_upstream_post(&up, "/v2/identify-user", "{}", 2,
	    &status, &ans, &conns, &reason) == LBAUTH_OK);
	test_assert(status == 200 && conns == 0 && accepted == 1);

	/* The engine: 30 at once, each held 200 ms by the server. */
	test_assert(!lbx_upstream_started(&up));
	test_assert(lbx_upstream_start(&up, 64) == LBAUTH_OK);
	test_assert(lbx_upstream_started(&up));
	delay_ms = 200;
	a0 = accepted;
	test_assert(batch(&up, 30) == 30);
	/* HTTP/1.1: one connection per transfer in flight, at most. */
	test_assert(accepted - a0 >= 2 && accepted - a0 <= 30);
	/* Kept: the next ones reuse them. */
	a0 = accepted;
	delay_ms = 0;
	for (i = 0; i < 5; i++)
		test_assert_idx(batch(&up, 1) == 1, i);
	test_assert(accepted == a0);
	/* An error status is an answer, passed through. */
	status_code = 500;
	test_assert(batch(&up, 3) == 3);
	status_code = 200;
	/* stop waits for the transfers in flight. */
	delay_ms = 300;
	ndone = nok = 0;
	for (i = 0; i < 4; i++) {
		xs[i].path = "/v2/authorize-user";
		xs[i].done = on_done;
		test_assert_idx(lbx_upstream_submit(&up, &xs[i]) == LBAUTH_OK,
		    i);
	}
	lbx_upstream_stop(&up);
	test_assert(ndone == 4 && nok == 4);
	test_assert(!lbx_upstream_started(&up));
	lbx_upstream_clear(&up);

	/*
	 * A slow answer holds no other transfer: on a fresh engine, whose
	 * first connection has not answered yet, the second transfer opens
	 * its own instead of waiting to learn whether it could multiplex.
	 */
	test_assert(lbx_upstream_init(&fresh, base, NULL,
	    (const unsigned char *)"sk_test", 7, 5000, err, sizeof(err)) ==
	    LBAUTH_OK && lbx_upstream_start(&fresh, 8) == LBAUTH_OK);
	ndone = nok = 0;
	for (i = 0; i < 2; i++) {
		xs[i].path = "/v2/authorize-user";
		xs[i].done = on_done;
		lbx_buf_reset(&xs[i].body);
		lbx_buf_puts(&xs[i].body, i == 0 ? "{\"userId\":\"slow\"}" :
		    "{\"userId\":\"fast\"}");
		test_assert_idx(lbx_upstream_submit(&fresh, &xs[i]) == LBAUTH_OK,
		    i);
		if (i == 0)
			usleep(100 * 1000);
	}
	pthread_mutex_lock(&mu);
	while (ndone < 2)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	test_assert(nok == 2 && first == &xs[1]);
	lbx_upstream_clear(&fresh);

	/* Nobody listening: no answer, a reason, from both paths. */
	shutdown(lfd, SHUT_RDWR);	/* wakes accept(); then refused */
	pthread_join(t, NULL);
	close(lfd);
	test_assert(lbx_upstream_init(&dead, base, NULL,
	    (const unsigned char *)"sk_test", 7, 2000, err, sizeof(err)) ==
	    LBAUTH_OK);
	test_assert(lbx_upstream_post(&dead, "/v2/identify-user", "{}", 2,
	    &status, &ans, &conns, &reason) == LBAUTH_EUPSTREAM &&
	    reason != NULL);
	test_assert(lbx_upstream_start(&dead, 4) == LBAUTH_OK);
	ndone = nok = 0;
	xs[0].done = on_done;
	test_assert(lbx_upstream_submit(&dead, &xs[0]) == LBAUTH_OK);
	pthread_mutex_lock(&mu);
	while (ndone < 1)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	test_assert(xs[0].rc == LBAUTH_EUPSTREAM && xs[0].reason != NULL &&
	    nok == 0);
	lbx_upstream_clear(&dead);

	for (i = 0; i < 40; i++) {
		lbx_buf_clear(&xs[i].body);
		lbx_buf_clear(&xs[i].answer);
		lbx_buf_clear(&xs[i].url);
	}
	lbx_buf_clear(&ans);
	return test_done();
}
