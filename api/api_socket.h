/* SPDX-License-Identifier: Apache-2.0 */
/* The control API's listening Unix socket: created private (0600), never
 * stealing a live VMM's path, cleaned up only while it is still ours. */
#ifndef PHY_API_SOCKET_H
#define PHY_API_SOCKET_H

#include <sys/stat.h>

#include <phyllome/vmm.h>

/*
 * Listens (non-blocking, close-on-exec) on a Unix socket at path with mode
 * 0600. An existing socket file that nobody listens on (a VMM that
 * crashed) is replaced; a live one, or a path that is not a socket, is a
 * PHY_E_INVALID error naming --api-socket. *id identifies the file for
 * api_socket_unlink().
 */
int api_socket_listen(const char *path, int *fd, struct stat *id,
		      struct phy_error *err);

/*
 * Serves a Unix stream socket the caller bound (--api-socket fd=N): *fd
 * becomes a close-on-exec, non-blocking duplicate, listening (listen() is
 * called if the caller did not). The caller's descriptor and the socket's
 * file are left alone. An unbound socket is a PHY_E_INVALID error.
 */
int api_socket_adopt(int passed, int *fd, struct phy_error *err);

/* Removes path if it is still the socket file api_socket_listen() made,
 * not one a later VMM put there. */
void api_socket_unlink(const char *path, const struct stat *id);

#endif
