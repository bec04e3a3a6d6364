/*
 * master.h: the --workers supervisor (master.c), used by lbauth.c only.
 */
#ifndef LBAUTH_MASTER_H
#define LBAUTH_MASTER_H

#include <sys/types.h>

#include "../lib/lbauth.h"
#include "listen.h"

struct master_opts {
	const char	*listen;	/* --listen, or NULL (socket given) */
	struct listen_id lid;		/* the unix socket it made */
	const char	*config;	/* the config file, for reloads */
	int		 workers;	/* --workers */
};

/* A worker: serves on fd 0 until told to stop; returns exit status. */
typedef int	(*master_worker_fn)(struct lbauth_app *);

/*
 * Forks o->workers workers running run(app) on the listening socket at
 * fd 0 and supervises them until SIGTERM/SIGINT (see master.c).  Takes
 * app over (frees it, or the one a reload replaced it with).  Returns
 * the exit status.
 */
int	master_run(const struct master_opts *, struct lbauth_app *,
	    master_worker_fn);

#endif /* !LBAUTH_MASTER_H */
