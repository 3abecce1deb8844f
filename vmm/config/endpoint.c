// SPDX-License-Identifier: Apache-2.0
/* --api-socket and --event-monitor values: path=PATH, fd=N or PATH. */
#include "vmm/config/endpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vmm/config/parse.h"

struct endpoint {
	char *path;
	int fd;
};

static int endpoint_kv(void *target, const char *opt, const char *key,
		       const char *val, struct phy_error *err)
{
	struct endpoint *e = target;
	if (e->path || e->fd >= 0)
		return phy_err(err, PHY_E_INVALID,
			       "--%s: give one of path= and fd=", opt);
	if (!strcmp(key, "path"))
		return parse_path(opt, key, val, &e->path, err);
	if (strcmp(key, "fd"))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: unknown key '%s' (path= or fd=)", opt, key);
	unsigned long n;
	if (parse_uint(val, INT_MAX, &n))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: fd='%s' is not a descriptor number", opt, val);
	e->fd = (int)n;
	return 0;
}

/* Checked when the option is set, so a wrong number is a usage error
 * naming the option rather than a failure deep in VM creation. */
static int check_fd(int fd, const char *opt, enum endpoint_kind kind,
		    struct phy_error *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--%s: fd=%d is not an open descriptor", opt, fd);
	if (kind == ENDPOINT_WRITABLE && (fl & O_ACCMODE) == O_RDONLY)
		return phy_err(err, PHY_E_INVALID,
			       "--%s: fd=%d is not open for writing", opt, fd);
	if (kind == ENDPOINT_UNIX_STREAM) {
		int type = 0, domain = 0;
		socklen_t len = sizeof(type), dlen = sizeof(domain);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) ||
		    type != SOCK_STREAM || domain != AF_UNIX)
			return phy_err(err, PHY_E_INVALID,
				       "--%s: fd=%d is not a Unix stream socket", opt, fd);
	}
	/* Children the VMM starts (none today) must not inherit it. */
	int fdfl = fcntl(fd, F_GETFD);
	if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC))
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--%s: fd=%d: cannot set close-on-exec", opt, fd);
	return 0;
}

int config_set_endpoint(char **path, int *fd, const char *opt,
			const char *value, enum endpoint_kind kind,
			struct phy_error *err)
{
	struct endpoint e = { .path = NULL, .fd = -1 };
	int ret;
	if (!strchr(value, '='))
		ret = parse_path(opt, "path", value, &e.path, err);
	else
		ret = parse_kv_list(&e, opt, value, endpoint_kv, err);
	if (!ret && e.fd >= 0)
		ret = check_fd(e.fd, opt, kind, err);
	if (ret) {
		free(e.path);
		return ret;
	}
	free(*path);
	*path = e.path;
	*fd = e.fd;
	return 0;
}
