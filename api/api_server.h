/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API's server: one thread, poll() over the listening socket
 * and at most API_MAX_CONNECTIONS clients. Connections persist (HTTP/1.1
 * keep-alive, pipelined requests answered in order) until the client
 * closes, asks for Connection: close, or stays silent for the request
 * timeout. Each request must arrive whole within that timeout of the
 * previous answer (or of connecting): a partial one gets 408, an idle
 * connection is closed. A malformed or oversized request gets its 4xx and
 * the connection is closed after it. Past the connection cap a client gets
 * 503 at once. Requests are answered one at a time on this thread, through
 * the backend's calls only: nothing here runs on the VM's threads.
 * Descriptors sent with a request (SCM_RIGHTS) are the request's: the
 * backend sees them and the server closes them once it has answered, so
 * a request that takes none leaks none.
 */
#ifndef PHY_API_SERVER_H
#define PHY_API_SERVER_H

#include <phyllome/vmm.h>

#include "api/api_routes.h"
#include "common/sandbox.h"

#define API_MAX_CONNECTIONS 32
#define API_REQUEST_TIMEOUT_MS 5000
#define API_DRAIN_TIMEOUT_MS 1000 /* reading what follows a rejected request */
/* Descriptors one request may carry (SCM_RIGHTS): vm.add-net's taps, one
 * per queue pair. More are closed and the request is refused. */
#define API_MAX_FDS 16

struct api_server_limits {
	unsigned max_connections; /* 1..API_MAX_CONNECTIONS */
	int request_timeout_ms;
};

struct api_server;

/*
 * Listens on path (see api_socket_listen) and serves b, which must stay
 * valid until api_server_stop(). limits NULL: the defaults above.
 */
int api_server_start(const char *path, const struct api_backend *b,
		     const struct api_server_limits *limits,
		     struct api_server **out, struct phy_error *err);

/* The same on a socket the caller bound (see api_socket_adopt); no file
 * is ever removed for it. */
int api_server_start_fd(int fd, const struct api_backend *b,
			const struct api_server_limits *limits,
			struct api_server **out, struct phy_error *err);

/* The two halves of the above, for a caller with work between taking the
 * socket and serving it: listen on path, or on fd when path is NULL (no
 * thread yet: a client's connection waits in the backlog); then serve. */
int api_server_listen(const char *path, int fd, const struct api_backend *b,
		      const struct api_server_limits *limits,
		      struct api_server **out, struct phy_error *err);
int api_server_run(struct api_server *s, struct phy_error *err);
/* The seccomp filter the server's thread installs (common/sandbox.h);
 * before api_server_run(). */
void api_server_set_sandbox(struct api_server *s, enum sandbox_mode mode);

/* Stops the thread, closes every connection and removes the socket file.
 * NULL is a no-op. Not from the server's own thread (a backend call). */
void api_server_stop(struct api_server *s);

#endif
