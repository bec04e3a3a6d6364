/*
 * listen.c: the listening socket of a self-managed lbauth, before the
 * master starts (master.c only supervises): "--listen" binds a unix
 * socket or a TCP address, or systemd hands one over (LISTEN_FDS), and
 * then root's privileges are dropped to --user/--group.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listen.h"

/*
 * The listen queue.  A worker accepts as fast as it can and answers 503
 * past max_inflight, but a burst (make bench's overload run: 4096
 * connections from nginx at once) can outrun the accept loop; a full
 * queue makes a unix socket's connect() fail with EAGAIN, which nginx
 * answers with its own 502 page instead of lbauth's 503 JSON.  Linux
 * caps the value at net.core.somaxconn (4096 by default since 5.4).
 */
#define LISTEN_BACKLOG	65535

/*
 * Clears the way for binding the unix socket sun (path addr): a socket
 * left there by a process that is gone (connect(2) refused) is removed;
 * one that a live server answers on is not, for binding over it would
 * leave that server running but unreachable, its clients silently sent
 * to us.  Anything that is not a socket stays too (bind then fails with
 * EADDRINUSE).  Returns 0, or -1 after printing why.
 */
static int
stale_unlink(const char *addr, const struct sockaddr_un *sun)
{
	struct stat	 st;
	int		 fd, rc, e;

	if (lstat(addr, &st) == -1 || !S_ISSOCK(st.st_mode))
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		fprintf(stderr, "lbauth: socket: %s\n", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (rc == -1 && (e == ECONNREFUSED || e == ENOENT)) {
		if (unlink(addr) == -1 && errno != ENOENT) {
			fprintf(stderr, "lbauth: --listen unix:%s: stale "
			    "socket: %s\n", addr, strerror(errno));
			return -1;
		}
		return 0;
	}
	/* Accepted, or its queue is full (EAGAIN): someone serves there. */
	fprintf(stderr, "lbauth: --listen unix:%s: a running server is "
	    "listening on it; stop it first, or choose another path\n", addr);
	return -1;
}

/*
 * Removes the unix socket addr ("unix:/path") at stop, if it is still
 * the one listen_bind() made (id): a later lbauth may have replaced it
 * after ours was removed by hand, and its socket is not ours to remove.
 */
void
listen_unlink(const char *addr, const struct listen_id *id)
{
	struct stat	 st;

	if (addr == NULL || strncmp(addr, "unix:", 5) != 0)
		return;
	addr += 5;
	if (lstat(addr, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == id->dev && st.st_ino == id->ino)
		unlink(addr);
}

/*
 * Binds addr ("unix:/path" or "host:port", "[v6]:port") and listens.
 * A unix socket gets mode and, when given, owner uid/gid (so that the
 * web server's user can connect: a socket it cannot write is nginx's
 * "502 Bad Gateway"), and its device and inode go to *id (unless NULL)
 * for listen_unlink(); a socket already there is replaced only if no
 * one listens on it (stale_unlink()).  Returns the socket, or -1 after
 * printing why.
 */
int
listen_bind(const char *addr, mode_t mode, uid_t uid, gid_t gid,
    struct listen_id *id)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct addrinfo		 hints, *res = NULL, *ai;
	char			 host[256], *port;
	int			 fd = -1, one = 1, rc;

	if (strncmp(addr, "unix:", 5) == 0) {
		addr += 5;
		if (strlen(addr) >= sizeof(sun.sun_path)) {
			fprintf(stderr, "lbauth: %s: socket path too long\n",
			    addr);
			return -1;
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, addr);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			goto syserr;
		if (stale_unlink(addr, &sun) == -1) {
			close(fd);
			return -1;
		}
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    chmod(addr, mode) == -1 ||
		    ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
		    chown(addr, uid, gid) == -1) ||
		    listen(fd, LISTEN_BACKLOG) == -1)
			goto syserr;
		if (id != NULL && lstat(addr, &st) == 0) {
			id->dev = st.st_dev;
			id->ino = st.st_ino;
		}
		return fd;
	}
	if (strlen(addr) >= sizeof(host))
		goto usage;
	strcpy(host, addr);
	if ((port = strrchr(host, ':')) == NULL)
		goto usage;
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) !=
	    0) {
		fprintf(stderr, "lbauth: %s: %s\n", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, LISTEN_BACKLOG) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		goto syserr;
	return fd;
usage:
	fprintf(stderr, "lbauth: --listen %s: expected unix:/path or "
	    "host:port\n", addr);
	return -1;
syserr:
	fprintf(stderr, "lbauth: --listen %s: %s\n", addr, strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

/*
 * Becomes user (and group, else the user's primary group) when running
 * as root.  Returns 0 or -1 after printing why.
 */
int
listen_drop(const char *user, const char *group)
{
	struct passwd	*pw = NULL;
	struct group	*gr = NULL;
	gid_t		 gid;

	if (user == NULL && group == NULL)
		return 0;
	if (geteuid() != 0) {
		fprintf(stderr, "lbauth: --user/--group need root\n");
		return -1;
	}
	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "lbauth: no user %s\n", user);
		return -1;
	}
	if (group != NULL && (gr = getgrnam(group)) == NULL) {
		fprintf(stderr, "lbauth: no group %s\n", group);
		return -1;
	}
	gid = gr != NULL ? gr->gr_gid : pw->pw_gid;
	if (setgroups(0, NULL) == -1 || setgid(gid) == -1 ||
	    (pw != NULL && setuid(pw->pw_uid) == -1)) {
		fprintf(stderr, "lbauth: dropping privileges: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Looks up the uid and gid --user/--group name, for the socket. */
void
listen_ids(const char *user, const char *group, uid_t *uid_r, gid_t *gid_r)
{
	struct passwd	*pw;
	struct group	*gr;

	*uid_r = (uid_t)-1;
	*gid_r = (gid_t)-1;
	if (user != NULL && (pw = getpwnam(user)) != NULL) {
		*uid_r = pw->pw_uid;
		*gid_r = pw->pw_gid;
	}
	if (group != NULL && (gr = getgrnam(group)) != NULL)
		*gid_r = gr->gr_gid;
}

/* See listen.h. */
int
listen_systemd(void)
{
	const char	*pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || strtol(pid, NULL, 10) != getpid() ||
	    strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return 3;
}
