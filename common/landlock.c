// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "common/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's headers stop at ABI 2; the bits are fixed by the kernel's
 * ABI, so later rights are spelled here. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif

#define FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE ... MAKE_SYM */

/* Rights that make sense on a file rather than a directory. */
#define FS_FILE                                                         \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |  \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |  \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Ioctls on device files go with both: a read-only block device still
 * answers BLKGETSIZE64, a tap TUNSETIFF. */
#define FS_READ                                                         \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |  \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_WRITE                                                        \
	((FS_ABI1 & ~(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
		      LANDLOCK_ACCESS_FS_READ_DIR)) |                   \
	 LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE |       \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Binding a Unix socket makes a file, closing it removes the file. */
#define FS_SOCKETS (LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE)

int landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0,
			 LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? -errno : (int)v;
}

static uint64_t handled_by(int abi)
{
	uint64_t h = FS_ABI1;
	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		h |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return h;
}

int landlock_ruleset_open(struct landlock_ruleset *rs, int abi,
			  const char *opt, struct phy_error *err)
{
	rs->fd = -1;
	if (abi < 1)
		return phy_err_errno(err, PHY_E_INVALID, -abi,
				     "--%s: this kernel has no Landlock (needs Linux 5.13 "
				     "with landlock in its lsm= list)", opt);
	struct landlock_ruleset_attr attr = { .handled_access_fs = handled_by(abi) };
	long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_INTERNAL, errno,
				     "--%s: cannot create a Landlock ruleset", opt);
	rs->fd = (int)fd;
	rs->handled = attr.handled_access_fs;
	return 0;
}

int landlock_allow(struct landlock_ruleset *rs, const char *path,
		   unsigned access, const char *opt, struct phy_error *err)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return phy_err_errno(err, PHY_E_INVALID, e, "--%s: '%s'", opt, path);
	}
	uint64_t want = ((access & LANDLOCK_R) ? FS_READ : 0) |
			((access & LANDLOCK_W) ? FS_WRITE : 0) |
			((access & LANDLOCK_SOCKETS) ? FS_SOCKETS : 0);
	if (!S_ISDIR(st.st_mode))
		want &= FS_FILE;
	struct landlock_path_beneath_attr pb = {
		.allowed_access = want & rs->handled,
		.parent_fd = fd,
	};
	long r = pb.allowed_access ?
		syscall(SYS_landlock_add_rule, rs->fd, LANDLOCK_RULE_PATH_BENEATH,
			&pb, 0) : 0;
	int e = errno;
	close(fd);
	if (r)
		return phy_err_errno(err, PHY_E_INTERNAL, e,
				     "--%s: cannot add a Landlock rule for '%s'", opt,
				     path);
	return 0;
}

int landlock_restrict_fd(int ruleset_fd)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_landlock_restrict_self, ruleset_fd, 0))
		return -errno;
	return 0;
}

void landlock_ruleset_close(struct landlock_ruleset *rs)
{
	if (rs->fd >= 0)
		close(rs->fd);
	rs->fd = -1;
}
