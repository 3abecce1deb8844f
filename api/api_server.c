/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "api/api_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/thread.h"
#include "api/api_socket.h"
#include "api/http.h"

#define ACCEPT_BATCH 64
#define ACCEPT_BACKOFF_MS 100 /* after EMFILE: the backlog waits, no busy loop */
#define READ_CHUNK 4096

enum conn_state {
	CONN_FREE,
	CONN_READING,  /* gathering the next request */
	CONN_WRITING,  /* an answer waits for the socket to drain */
	CONN_DRAINING, /* answered and shut down for writing: discard input */
};

struct conn {
	enum conn_state state;
	int fd;
	char *in;
	size_t in_len, in_cap;
	size_t want;      /* the parser's hint: wait for this many bytes */
	struct json_buf out;
	size_t out_off;
	bool close_after; /* close once `out` is written */
	bool peer_done;   /* the client shut down its side */
	int64_t deadline; /* CLOCK_MONOTONIC ms */
	/* Descriptors received (SCM_RIGHTS) since the last request: they go
	 * with the next one and are closed after its answer. */
	int fds[API_MAX_FDS];
	unsigned nr_fds;
	bool fds_lost; /* more came than fit: that request is refused */
};

struct api_server {
	int listen_fd;
	int wake_fd;
	char *path;
	struct stat id;
	const struct api_backend *backend; /* the caller's: its desc may change between requests */
	struct api_server_limits limits;
	pthread_t thread;
	bool running;
	enum sandbox_mode sandbox;
	int64_t listen_paused_until;
	struct api_reply reply; /* reused for every request */
	struct conn conns[API_MAX_CONNECTIONS];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fds(struct conn *c)
{
	for (unsigned i = 0; i < c->nr_fds; i++)
		close(c->fds[i]);
	c->nr_fds = 0;
	c->fds_lost = false;
}

static void conn_close(struct conn *c)
{
	close_fds(c);
	close(c->fd);
	free(c->in);
	json_buf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void queue_response(struct conn *c, int status, const char *allow,
			   const char *body, size_t len, bool close)
{
	json_buf_reset(&c->out);
	http_write_response(&c->out, status, allow, body, len, close);
	c->out_off = 0;
	c->state = CONN_WRITING;
	c->close_after |= close;
	if (c->out.failed) { /* out of memory: nothing sensible to send */
		c->out.len = 0;
		c->close_after = true;
	}
}

static void queue_error(struct conn *c, int status, const char *message)
{
	char storage[256];
	struct json_buf body;
	json_buf_init_fixed(&body, storage, sizeof(storage));
	json_lit(&body, "{\"error\":");
	json_str(&body, message);
	json_lit(&body, "}");
	if (body.failed)
		body.len = 0;
	queue_response(c, status, NULL, storage, body.len, true);
}

/* Best effort, one try, for a connection about to be closed. */
static void send_once(int fd, int status, const char *message)
{
	char storage[512], body[256];
	struct json_buf out, b;
	json_buf_init_fixed(&b, body, sizeof(body));
	json_lit(&b, "{\"error\":");
	json_str(&b, message);
	json_lit(&b, "}");
	json_buf_init_fixed(&out, storage, sizeof(storage));
	http_write_response(&out, status, NULL, body, b.len, true);
	if (!out.failed && send(fd, storage, out.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return; /* the client is gone or not reading: nothing to do */
}

/* 1: all written, 0: the socket is full, -1: the client is gone. */
static int flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off,
				 c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
	}
	return 1;
}

/* Parses and answers the next buffered request: true when an answer was
 * queued, false when more input is needed. */
static bool next_request(struct api_server *s, struct conn *c)
{
	if (!c->in_len || (c->want && c->in_len < c->want))
		return false;
	struct http_request req;
	struct http_error perr;
	long r = http_parse_request(c->in, c->in_len, &req, &perr);
	if (r == 0) {
		c->want = req.want;
		return false;
	}
	c->want = 0;
	if (r < 0) {
		c->in_len = 0; /* the framing is lost: nothing after it counts */
		queue_error(c, perr.status, perr.message);
		return true;
	}
	struct api_reply *rep = &s->reply;
	req.fds = c->fds;
	req.nr_fds = c->nr_fds;
	if (c->fds_lost)
		api_reply_error(rep, 400, "more descriptors than a request may carry");
	else
		api_route(s->backend, &req, rep);
	close_fds(c);
	if (rep->body.failed)
		queue_error(c, 500, "out of memory");
	else /* no endpoint takes HEAD, but its 405 must come without a body */
		queue_response(c, rep->status, rep->allow, rep->body.data,
			       req.method == HTTP_HEAD ? 0 : rep->body.len,
			       !req.keep_alive);
	c->in_len -= (size_t)r;
	memmove(c->in, c->in + r, c->in_len);
	return true;
}

static void start_drain(struct conn *c, int64_t now)
{
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAINING;
	c->in_len = 0;
	c->deadline = now + API_DRAIN_TIMEOUT_MS;
}

/* Answers buffered requests, in order, until an answer has to wait for
 * the socket or more input is needed. */
static void serve(struct api_server *s, struct conn *c, int64_t now)
{
	for (;;) {
		if (c->state == CONN_WRITING) {
			int r = flush(c);
			if (r < 0) {
				conn_close(c);
				return;
			}
			if (r == 0)
				return;
			if (c->close_after) {
				start_drain(c, now);
				return;
			}
			c->state = CONN_READING;
			c->deadline = now + s->limits.request_timeout_ms;
		}
		if (c->state != CONN_READING)
			return;
		if (!next_request(s, c)) {
			if (c->peer_done)
				conn_close(c);
			return;
		}
	}
}

/* recv() that also takes the descriptors sent with the bytes. */
static ssize_t recv_with_fds(struct conn *c, char *dst, size_t room)
{
	union {
		char buf[CMSG_SPACE(API_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = dst, .iov_len = room };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(cm);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (c->nr_fds < API_MAX_FDS && c->state == CONN_READING) {
				c->fds[c->nr_fds++] = fd;
			} else {
				close(fd);
				c->fds_lost = true;
			}
		}
	}
	/* The kernel closed what did not fit. */
	if (msg.msg_flags & MSG_CTRUNC)
		c->fds_lost = true;
	return n;
}

static void on_readable(struct api_server *s, struct conn *c, int64_t now)
{
	char scratch[READ_CHUNK];
	char *dst = scratch;
	size_t room = sizeof(scratch);
	if (c->state == CONN_READING) {
		if (c->in_cap - c->in_len < READ_CHUNK && c->in_cap < HTTP_MAX_REQUEST) {
			size_t cap = c->in_cap ? c->in_cap * 2 : READ_CHUNK;
			if (cap > HTTP_MAX_REQUEST)
				cap = HTTP_MAX_REQUEST;
			char *in = realloc(c->in, cap);
			if (!in) {
				conn_close(c);
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		dst = c->in + c->in_len;
		room = c->in_cap - c->in_len;
	}
	ssize_t n = room ? recv_with_fds(c, dst, room) : 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (c->state == CONN_DRAINING) {
		if (n <= 0)
			conn_close(c);
		return;
	}
	if (n < 0) {
		conn_close(c);
		return;
	}
	if (n == 0 && room)
		c->peer_done = true;
	c->in_len += (size_t)n;
	serve(s, c, now);
	/* A full buffer the parser accepts cannot happen (its limits are
	 * below it); never spin on one anyway. */
	if (c->state == CONN_READING && c->in_len == HTTP_MAX_REQUEST)
		conn_close(c);
}

static struct conn *free_slot(struct api_server *s)
{
	for (unsigned i = 0; i < s->limits.max_connections; i++)
		if (s->conns[i].state == CONN_FREE)
			return &s->conns[i];
	return NULL;
}

/*
 * Frees the slots of clients that have hung up with nothing left to read.
 * Clients that connect and close faster than the server accepts them
 * leave dead connections in the backlog: accepted, they would fill every
 * slot ahead of a live client behind them, which would get a 503.
 */
static void reap_hung_up(struct api_server *s)
{
	for (unsigned i = 0; i < s->limits.max_connections; i++) {
		struct conn *c = &s->conns[i];
		char b;
		if (c->state != CONN_READING)
			continue;
		ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			       errno != EINTR))
			conn_close(c);
	}
}

static void accept_all(struct api_server *s, int64_t now)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(s->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				s->listen_paused_until = now + ACCEPT_BACKOFF_MS;
			return;
		}
		struct conn *c = free_slot(s);
		if (!c) {
			reap_hung_up(s);
			c = free_slot(s);
		}
		if (!c) {
			send_once(fd, 503, "too many connections");
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->state = CONN_READING;
		c->deadline = now + s->limits.request_timeout_ms;
		json_buf_init(&c->out, API_MAX_REPLY + HTTP_MAX_HEAD);
	}
}

static void expire(struct api_server *s, int64_t now)
{
	for (unsigned i = 0; i < s->limits.max_connections; i++) {
		struct conn *c = &s->conns[i];
		if (c->state == CONN_FREE || c->deadline > now)
			continue;
		if (c->state == CONN_READING && c->in_len)
			send_once(c->fd, 408, "the request did not arrive in time");
		conn_close(c);
	}
}

/* The poll set: wake eventfd, the listener (unless backing off), clients. */
static int build_pollset(struct api_server *s, int64_t now, struct pollfd *pfd,
			 struct conn **map, int *listen_idx, int64_t *next)
{
	int n = 0;
	pfd[n++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
	*listen_idx = -1;
	*next = INT64_MAX;
	if (now >= s->listen_paused_until) {
		*listen_idx = n;
		pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
	} else {
		*next = s->listen_paused_until;
	}
	for (unsigned i = 0; i < s->limits.max_connections; i++) {
		struct conn *c = &s->conns[i];
		if (c->state == CONN_FREE)
			continue;
		map[n] = c;
		pfd[n++] = (struct pollfd){
			.fd = c->fd,
			.events = c->state == CONN_WRITING ? POLLOUT : POLLIN,
		};
		if (c->deadline < *next)
			*next = c->deadline;
	}
	return n;
}

static void *server_main(void *arg)
{
	struct api_server *s = arg;
	pthread_setname_np(pthread_self(), "phy-api");
	/* It builds VMs (vm.boot): the builders' union. */
	sandbox_enter(s->sandbox, SANDBOX_API);
	struct pollfd pfd[2 + API_MAX_CONNECTIONS];
	struct conn *map[2 + API_MAX_CONNECTIONS];
	for (;;) {
		int64_t now = now_ms(), next;
		int listen_idx;
		int n = build_pollset(s, now, pfd, map, &listen_idx, &next);
		int timeout = -1;
		if (next != INT64_MAX)
			timeout = next <= now ? 0 : (int)(next - now > 60000 ? 60000 : next - now);
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno != EINTR)
				usleep(10000); /* ENOMEM: try again shortly */
			continue;
		}
		if (pfd[0].revents)
			break;
		now = now_ms();
		for (int i = listen_idx < 0 ? 1 : listen_idx + 1; i < n; i++) {
			struct conn *c = map[i];
			short ev = pfd[i].revents;
			if (!ev || c->state == CONN_FREE)
				continue;
			if (ev & POLLNVAL)
				conn_close(c);
			else if (c->state == CONN_WRITING)
				serve(s, c, now);
			else
				on_readable(s, c, now);
		}
		if (listen_idx >= 0 && pfd[listen_idx].revents)
			accept_all(s, now);
		expire(s, now_ms());
	}
	return NULL;
}

static void server_free(struct api_server *s)
{
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		if (s->conns[i].state != CONN_FREE)
			conn_close(&s->conns[i]);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->path)
			api_socket_unlink(s->path, &s->id);
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	api_reply_free(&s->reply);
	free(s->path);
	free(s);
}

/* path NULL: serve the caller's socket fd instead. */
static int server_listen(const char *path, int fd, const struct api_backend *b,
			 const struct api_server_limits *limits,
			 struct api_server **out, struct phy_error *err)
{
	*out = NULL;
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s)
		return phy_err(err, PHY_E_NOMEM, "--api-socket: out of memory");
	s->listen_fd = s->wake_fd = -1;
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		s->conns[i].fd = -1;
	api_reply_init(&s->reply);
	s->backend = b;
	s->limits = (struct api_server_limits){ API_MAX_CONNECTIONS,
						API_REQUEST_TIMEOUT_MS };
	if (limits && limits->max_connections &&
	    limits->max_connections <= API_MAX_CONNECTIONS)
		s->limits.max_connections = limits->max_connections;
	if (limits && limits->request_timeout_ms > 0)
		s->limits.request_timeout_ms = limits->request_timeout_ms;
	s->path = path ? strdup(path) : NULL;
	if (path && !s->path) {
		server_free(s);
		return phy_err(err, PHY_E_NOMEM, "--api-socket: out of memory");
	}
	int ret = path ? api_socket_listen(path, &s->listen_fd, &s->id, err)
		       : api_socket_adopt(fd, &s->listen_fd, err);
	if (ret) {
		server_free(s);
		return ret;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		ret = phy_err_errno(err, PHY_E_IO, errno, "--api-socket: eventfd");
		server_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void api_server_set_sandbox(struct api_server *s, enum sandbox_mode mode)
{
	s->sandbox = mode;
}

int api_server_run(struct api_server *s, struct phy_error *err)
{
	int r = s->running ? EBUSY : phy_thread_create(&s->thread, server_main, s);
	if (r)
		return phy_err_errno(err, PHY_E_INTERNAL, r,
				     "--api-socket: cannot start the server thread");
	s->running = true;
	return 0;
}

int api_server_listen(const char *path, int fd, const struct api_backend *b,
		      const struct api_server_limits *limits,
		      struct api_server **out, struct phy_error *err)
{
	return server_listen(path, path ? -1 : fd, b, limits, out, err);
}

/* Listens, then serves. */
static int server_start(const char *path, int fd, const struct api_backend *b,
			const struct api_server_limits *limits,
			struct api_server **out, struct phy_error *err)
{
	int ret = server_listen(path, fd, b, limits, out, err);
	if (!ret && (ret = api_server_run(*out, err))) {
		api_server_stop(*out);
		*out = NULL;
	}
	return ret;
}

int api_server_start(const char *path, const struct api_backend *b,
		     const struct api_server_limits *limits,
		     struct api_server **out, struct phy_error *err)
{
	return server_start(path, -1, b, limits, out, err);
}

int api_server_start_fd(int fd, const struct api_backend *b,
			const struct api_server_limits *limits,
			struct api_server **out, struct phy_error *err)
{
	return server_start(NULL, fd, b, limits, out, err);
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	uint64_t one = 1;
	ssize_t w = write(s->wake_fd, &one, sizeof(one));
	(void)w;
	if (s->running)
		pthread_join(s->thread, NULL);
	server_free(s);
}
