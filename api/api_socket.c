/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "api/api_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/error.h"

#define API_BACKLOG 128

/* Is a process listening on the socket file at sa? A full backlog
 * (EAGAIN) is a live one too. */
static int probe(const struct sockaddr_un *sa, const char *path,
		 struct phy_error *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno, "--api-socket: socket");
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: '%s' is in use: another process listens on it",
			       path);
	if (e != ECONNREFUSED)
		return phy_err_errno(err, PHY_E_INVALID, e,
				     "--api-socket: cannot check '%s'", path);
	/* Nobody listens: a VMM that died left it. */
	if (unlink(path) && errno != ENOENT)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--api-socket: cannot remove the stale socket '%s'",
				     path);
	return 0;
}

static int make_listener(const struct sockaddr_un *sa, const char *path,
			 int *out, struct phy_error *err)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno, "--api-socket: socket");
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		int e = errno;
		close(fd);
		return phy_err_errno(err, PHY_E_INVALID, e,
				     "--api-socket: cannot bind '%s'", path);
	}
	/* Nobody can connect before listen(), so tightening the mode here,
	 * whatever the umask made it, leaves no window. */
	if (chmod(path, 0600) || listen(fd, API_BACKLOG)) {
		int e = errno;
		unlink(path);
		close(fd);
		return phy_err_errno(err, PHY_E_IO, e,
				     "--api-socket: cannot set up '%s'", path);
	}
	*out = fd;
	return 0;
}

int api_socket_listen(const char *path, int *fd, struct stat *id,
		      struct phy_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(sa.sun_path))
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: the path must be 1 to %zu bytes long",
			       sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, len + 1);

	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return phy_err(err, PHY_E_INVALID,
				       "--api-socket: '%s' exists and is not a socket",
				       path);
		int ret = probe(&sa, path, err);
		if (ret)
			return ret;
	} else if (errno != ENOENT) {
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--api-socket: cannot check '%s'", path);
	}
	int ret = make_listener(&sa, path, fd, err);
	if (ret)
		return ret;
	if (lstat(path, id)) {
		int e = errno;
		close(*fd);
		return phy_err_errno(err, PHY_E_IO, e, "--api-socket: '%s'", path);
	}
	return 0;
}

void api_socket_unlink(const char *path, const struct stat *id)
{
	struct stat st;
	if (lstat(path, &st) == 0 && st.st_dev == id->st_dev &&
	    st.st_ino == id->st_ino)
		unlink(path);
}

int api_socket_adopt(int passed, int *fd, struct phy_error *err)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	if (getsockname(passed, (struct sockaddr *)&sa, &len))
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--api-socket: fd=%d is not a socket", passed);
	/* listen() would bind an unbound one to a random abstract name
	 * that no client could know. */
	if (sa.sun_family != AF_UNIX || len <= sizeof(sa.sun_family))
		return phy_err(err, PHY_E_INVALID,
			       "--api-socket: fd=%d is not bound to an address",
			       passed);
	/* Our own descriptor: the VM closes it, the caller keeps theirs. */
	int d = fcntl(passed, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--api-socket: fd=%d", passed);
	int on = 0;
	socklen_t olen = sizeof(on);
	int fl = fcntl(d, F_GETFL);
	if (getsockopt(d, SOL_SOCKET, SO_ACCEPTCONN, &on, &olen) ||
	    (!on && listen(d, API_BACKLOG)) || fl < 0 ||
	    fcntl(d, F_SETFL, fl | O_NONBLOCK)) {
		int e = errno;
		close(d);
		return phy_err_errno(err, PHY_E_INVALID, e,
				     "--api-socket: cannot listen on fd=%d", passed);
	}
	*fd = d;
	return 0;
}
