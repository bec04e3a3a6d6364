/*
 * sandbox.h: seccomp confinement of a worker (sandbox.c).
 */
#ifndef LBAUTH_SANDBOX_H
#define LBAUTH_SANDBOX_H

#include <stddef.h>

#include "../lib/lbauth.h"

/*
 * Confines the calling process, for good, to profile.  Returns 0, or -1
 * with a sentence in err (the caller must not serve unconfined when
 * confinement was asked for).
 */
int	sandbox_enter(enum lbauth_confine, char *, size_t);

#endif /* !LBAUTH_SANDBOX_H */
