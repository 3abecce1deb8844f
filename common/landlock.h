/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock through its raw system calls: a ruleset of paths, each readable
 * or also writable, that a thread then restricts itself to (it and the
 * threads it creates afterwards; files it opened before stay usable).
 * Best effort across kernels: the rights a kernel does not know (its ABI
 * is older) are neither handled nor granted.
 */
#ifndef PHY_COMMON_LANDLOCK_H
#define PHY_COMMON_LANDLOCK_H

#include <stdint.h>

#include "common/error.h"

#define LANDLOCK_R 1u /* read files, list directories */
#define LANDLOCK_W 2u /* write, create, remove, truncate */
#define LANDLOCK_SOCKETS 4u /* a directory: make and remove sockets */

struct landlock_ruleset {
	int fd;           /* -1: none */
	uint64_t handled; /* the rights this kernel's ABI restricts */
};

/* The kernel's Landlock ABI version (>= 1), or -errno (ENOSYS: not built
 * in, EOPNOTSUPP: not enabled at boot). */
int landlock_abi(void);

/* Opens an empty ruleset for the rights of ABI `abi` (landlock_abi()'s
 * answer, passed in so that a test can stand in for an old kernel); a
 * kernel without Landlock gives one line naming `opt`. */
int landlock_ruleset_open(struct landlock_ruleset *rs, int abi,
			  const char *opt, struct phy_error *err);

/* Allows `access` (LANDLOCK_R, _W, _SOCKETS) beneath `path`, a directory,
 * or on it alone, a file; a missing path gives one line naming `opt`. */
int landlock_allow(struct landlock_ruleset *rs, const char *path,
		   unsigned access, const char *opt, struct phy_error *err);

/* Restricts the calling thread to the ruleset (after PR_SET_NO_NEW_PRIVS,
 * which Landlock needs without CAP_SYS_ADMIN). Returns 0 or -errno. */
int landlock_restrict_fd(int ruleset_fd);

void landlock_ruleset_close(struct landlock_ruleset *rs);

#endif
