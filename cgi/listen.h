/*
 * listen.h: binding the listening socket and dropping privileges
 * (listen.c), used by lbauth.c and, for the socket's removal at stop,
 * by master.c.
 */
#ifndef LBAUTH_LISTEN_H
#define LBAUTH_LISTEN_H

#include <sys/types.h>

/* The unix socket listen_bind() made, so that stop removes only it. */
struct listen_id {
	dev_t	 dev;
	ino_t	 ino;
};

/*
 * Binds addr ("unix:/path" or "host:port", "[v6]:port") and listens;
 * a unix socket gets mode and, unless -1, owner uid and group gid, and
 * its identity goes to *id.  A socket a live server listens on is never
 * replaced.  Returns the socket, or -1 after printing why.
 */
int	listen_bind(const char *addr, mode_t mode, uid_t uid, gid_t gid,
	    struct listen_id *id);
/* Removes addr's unix socket if it is still the one id names. */
void	listen_unlink(const char *addr, const struct listen_id *id);
/* Becomes user/group when root; 0, or -1 after printing why. */
int	listen_drop(const char *user, const char *group);
/* The uid and gid of --user/--group (-1 for those not given). */
void	listen_ids(const char *user, const char *group, uid_t *uid_r,
	    gid_t *gid_r);
/*
 * The listening socket systemd passed (sd_listen_fds(3): LISTEN_PID is
 * us, LISTEN_FDS >= 1, the first at fd 3), or -1; unsets LISTEN_*.
 */
int	listen_systemd(void);

#endif /* !LBAUTH_LISTEN_H */
