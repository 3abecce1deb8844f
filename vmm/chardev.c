// SPDX-License-Identifier: Apache-2.0
/* A console's host end: tty, file, null, pty, socket (chardev.h). */
#define _GNU_SOURCE
#include "vmm/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/error.h"
#include "common/sandbox.h"
#include "common/thread.h"

/* While no client has the pty's slave open, the master polls as hung
 * up: the thread looks again this often. */
#define PTY_ATTACH_POLL_MS 100

void chardev_init(struct chardev *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = c->listen_fd = c->wake_fd = c->client_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
}

/* ---- tty and file ---- */

static void write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed terminal must not stop the guest */
		buf += n;
		len -= (size_t)n;
	}
}

/* Writes out the line buffer (lock held). */
static void flush_line(struct chardev *c)
{
	if (c->line_len && c->fd >= 0)
		write_all(c->fd, c->line, c->line_len);
	c->st.out_bytes += c->line_len;
	c->line_len = 0;
}

void chardev_flush(struct chardev *c)
{
	pthread_mutex_lock(&c->lock);
	flush_line(c);
	pthread_mutex_unlock(&c->lock);
}

static void write_line_buffered(struct chardev *c, const uint8_t *buf,
				size_t len)
{
	/* Line-buffered into files; a terminal sees each byte at once so
	 * prompts and echo are interactive. */
	for (size_t i = 0; i < len; i++) {
		c->line[c->line_len++] = buf[i];
		if (c->unbuffered || buf[i] == '\n' || c->line_len == CHARDEV_LINE_SIZE)
			flush_line(c);
	}
}

/* ---- the output ring (lock held) ---- */

static void ring_put(struct chardev *c, const uint8_t *buf, size_t len)
{
	if (len > CHARDEV_RING_SIZE) {
		/* Only the newest bytes fit. */
		c->st.dropped_bytes += len - CHARDEV_RING_SIZE;
		buf += len - CHARDEV_RING_SIZE;
		len = CHARDEV_RING_SIZE;
	}
	size_t over = c->ring_len + len > CHARDEV_RING_SIZE ?
			      c->ring_len + len - CHARDEV_RING_SIZE : 0;
	c->st.dropped_bytes += over;
	c->ring_head = (c->ring_head + over) % CHARDEV_RING_SIZE;
	c->ring_len -= over;
	for (size_t i = 0; i < len;) {
		size_t tail = (c->ring_head + c->ring_len) % CHARDEV_RING_SIZE;
		size_t n = CHARDEV_RING_SIZE - tail;
		if (n > len - i)
			n = len - i;
		memcpy(c->ring + tail, buf + i, n);
		c->ring_len += n;
		i += n;
	}
}

static ssize_t send_or_write(struct chardev *c, const void *buf, size_t len)
{
	if (c->mode == SERIAL_SOCKET)
		return send(c->client_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	return write(c->client_fd, buf, len); /* the master is non-blocking */
}

/* Writes what the ring holds to the client until it would block.
 * Returns -1 when the client is gone. */
static int ring_flush(struct chardev *c)
{
	while (c->ring_len && c->client_fd >= 0) {
		size_t n = CHARDEV_RING_SIZE - c->ring_head;
		if (n > c->ring_len)
			n = c->ring_len;
		ssize_t w = send_or_write(c, c->ring + c->ring_head, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->st.out_bytes += (size_t)w;
		c->ring_head = (c->ring_head + (size_t)w) % CHARDEV_RING_SIZE;
		c->ring_len -= (size_t)w;
	}
	return 0;
}

static void wake(struct chardev *c)
{
	uint64_t one = 1;
	/* Non-blocking: a full counter means the thread is woken anyway. */
	if (write(c->wake_fd, &one, sizeof(one)) < 0)
		return;
}

void chardev_write(void *opaque, const uint8_t *buf, size_t len)
{
	struct chardev *c = opaque;
	if (c->fn) {
		c->fn(c->opaque, buf, len);
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (c->mode != SERIAL_PTY && c->mode != SERIAL_SOCKET) {
		if (c->fd >= 0)
			write_line_buffered(c, buf, len);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	bool was_empty = !c->ring_len;
	ring_put(c, buf, len);
	if (was_empty && c->client_fd >= 0 && ring_flush(c) == 0 && c->ring_len)
		wake(c); /* the thread waits for room */
	pthread_mutex_unlock(&c->lock);
}

/* ---- the thread: clients, input, output waiting for room ---- */

static void detach(struct chardev *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->mode == SERIAL_SOCKET && c->client_fd >= 0)
		close(c->client_fd);
	c->client_fd = -1;
	pthread_mutex_unlock(&c->lock);
}

static void attach(struct chardev *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	c->client_fd = fd;
	c->st.clients++;
	if (ring_flush(c) && c->mode == SERIAL_SOCKET) {
		close(c->client_fd);
		c->client_fd = -1;
	}
	pthread_mutex_unlock(&c->lock);
}

static void accept_client(struct chardev *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (c->client_fd >= 0) {
		pthread_mutex_lock(&c->lock);
		c->st.refused++;
		pthread_mutex_unlock(&c->lock);
		close(fd); /* one client at a time */
		return;
	}
	attach(c, fd);
}

/* Whether a client has the pty's slave open: the master polls as hung
 * up while none has. */
static bool pty_attached(struct chardev *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	return poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP);
}

/* Reads from the client while the input buffer has room; false when it
 * is gone. */
static bool read_client(struct chardev *c, int fd)
{
	size_t room = CHARDEV_INPUT_SIZE - c->in_len;
	if (!room)
		return true;
	ssize_t n = read(fd, c->in + c->in_len, room);
	if (n > 0)
		c->in_len += (size_t)n;
	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

/* Offers what the client typed to the guest. */
static void feed(struct chardev *c)
{
	if (!c->in_len || !c->input)
		return;
	size_t n = c->input(c->input_opaque, c->in, c->in_len);
	if (n > c->in_len)
		n = c->in_len;
	memmove(c->in, c->in + n, c->in_len - n);
	c->in_len -= n;
	pthread_mutex_lock(&c->lock);
	c->st.in_bytes += n;
	pthread_mutex_unlock(&c->lock);
}

/* One poll() over the wake eventfd, the client (or the pty's master)
 * and the listening socket; false when told to stop. */
static bool serve_once(struct chardev *c)
{
	struct pollfd p[3] = { { .fd = c->wake_fd, .events = POLLIN } };
	nfds_t n = 1;
	int timeout = c->in_len ? CHARDEV_RETRY_MS : -1;

	pthread_mutex_lock(&c->lock);
	int client = c->client_fd;
	short ev = (c->in_len < CHARDEV_INPUT_SIZE ? POLLIN : 0) |
		   (c->ring_len ? POLLOUT : 0);
	pthread_mutex_unlock(&c->lock);
	if (client >= 0)
		p[n++] = (struct pollfd){ .fd = client, .events = ev };
	if (c->mode == SERIAL_SOCKET)
		p[n++] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
	else if (client < 0 && (timeout < 0 || timeout > PTY_ATTACH_POLL_MS))
		timeout = PTY_ATTACH_POLL_MS;

	if (poll(p, n, timeout) < 0 && errno != EINTR)
		return false;
	if (p[0].revents) {
		uint64_t v;
		if (read(c->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return false;
		pthread_mutex_lock(&c->lock);
		bool stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			return false;
	}
	if (client >= 0) {
		short re = p[1].revents;
		bool gone = (re & (POLLERR | POLLNVAL)) ||
			    ((re & POLLHUP) && !(re & POLLIN));
		if (!gone && (re & POLLIN))
			gone = !read_client(c, client);
		if (!gone && (re & POLLOUT)) {
			pthread_mutex_lock(&c->lock);
			gone = ring_flush(c) < 0;
			pthread_mutex_unlock(&c->lock);
		}
		if (gone || (c->mode == SERIAL_PTY && (re & POLLHUP)))
			detach(c);
	} else if (c->mode == SERIAL_PTY && pty_attached(c)) {
		attach(c, c->fd);
	}
	if (c->mode == SERIAL_SOCKET && (p[n - 1].revents & POLLIN))
		accept_client(c);
	feed(c);
	return true;
}

static void *chardev_thread(void *arg)
{
	struct chardev *c = arg;
	char name[16];
	snprintf(name, sizeof(name), "phy-%s", c->opt); /* phy-serial, phy-console */
	pthread_setname_np(pthread_self(), name);
	sandbox_enter(c->sandbox, SANDBOX_CHARDEV);
	while (serve_once(c))
		;
	return NULL;
}

/* ---- opening ---- */

static int open_pty(struct chardev *c, struct phy_error *err)
{
	c->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0 || grantpt(c->fd) || unlockpt(c->fd))
		return phy_err_errno(err, PHY_E_IO, errno,
				     "--%s: pty: cannot open a pseudo-terminal",
				     c->opt);
	char name[128];
	if (ptsname_r(c->fd, name, sizeof(name)))
		return phy_err_errno(err, PHY_E_IO, errno, "--%s: pty: ptsname",
				     c->opt);
	/* Raw mode, set through the slave once: the guest's bytes pass
	 * untouched, and closing it leaves the master hung up until a
	 * client opens the slave. */
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct termios tio;
	if (slave < 0 || tcgetattr(slave, &tio)) {
		int e = errno;
		if (slave >= 0)
			close(slave);
		return phy_err_errno(err, PHY_E_IO, e, "--%s: pty: %s", c->opt,
				     name);
	}
	cfmakeraw(&tio);
	tcsetattr(slave, TCSANOW, &tio);
	close(slave);
	c->path = strdup(name);
	return c->path ? 0 : phy_err(err, PHY_E_NOMEM, "--%s: out of memory", c->opt);
}

static int open_socket(struct chardev *c, const char *path,
		       struct phy_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return phy_err(err, PHY_E_INVALID,
			       "--%s: socket=%s: the path is longer than %zu bytes",
			       c->opt, path, sizeof(sa.sun_path) - 1);
	struct stat st;
	if (lstat(path, &st) == 0)
		return phy_err(err, PHY_E_INVALID, "--%s: socket=%s: the path exists",
			       c->opt, path);
	strcpy(sa.sun_path, path);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno, "--%s: socket", c->opt);
	if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)))
		return phy_err_errno(err, PHY_E_INVALID, errno,
				     "--%s: socket=%s: cannot bind", c->opt, path);
	c->path = strdup(path);
	if (!c->path) {
		unlink(path);
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", c->opt);
	}
	if (listen(c->listen_fd, 4))
		return phy_err_errno(err, PHY_E_IO, errno,
				     "--%s: socket=%s: listen", c->opt, path);
	return 0;
}

static int start_thread(struct chardev *c, struct phy_error *err)
{
	c->ring = malloc(CHARDEV_RING_SIZE);
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!c->ring || c->wake_fd < 0)
		return phy_err(err, PHY_E_NOMEM, "--%s: out of memory", c->opt);
	int r = phy_thread_create(&c->thread, chardev_thread, c);
	if (r)
		return phy_err_errno(err, PHY_E_IO, r, "--%s: thread", c->opt);
	c->thread_started = true;
	return 0;
}

int chardev_open(struct chardev *c, enum serial_mode mode, const char *path,
		 const char *opt, chardev_input_fn input, void *input_opaque,
		 struct phy_error *err)
{
	int ret = 0;
	c->mode = mode;
	c->opt = opt;
	c->input = input;
	c->input_opaque = input_opaque;
	switch (mode) {
	case SERIAL_TTY:
		c->fd = STDOUT_FILENO;
		c->unbuffered = isatty(STDOUT_FILENO);
		break;
	case SERIAL_FILE:
		c->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->fd < 0)
			return phy_err_errno(err, PHY_E_INVALID, errno,
					     "--%s: cannot open '%s'", opt, path);
		c->fd_owned = true;
		break;
	case SERIAL_PTY:
		c->fd_owned = true;
		ret = open_pty(c, err);
		break;
	case SERIAL_SOCKET:
		ret = open_socket(c, path, err);
		break;
	case SERIAL_NULL:
	case SERIAL_OFF:
		break;
	}
	if (!ret && (mode == SERIAL_PTY || mode == SERIAL_SOCKET))
		ret = start_thread(c, err);
	return ret;
}

void chardev_close(struct chardev *c)
{
	if (c->thread_started) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_mutex_unlock(&c->lock);
		wake(c);
		pthread_join(c->thread, NULL);
		c->thread_started = false;
	}
	chardev_flush(c);
	/* The guest's last words, as far as the client takes them now. */
	if (c->ring && c->client_fd >= 0)
		ring_flush(c);
	if (c->mode == SERIAL_SOCKET && c->client_fd >= 0)
		close(c->client_fd);
	c->client_fd = -1;
	if (c->listen_fd >= 0) {
		close(c->listen_fd);
		if (c->path)
			unlink(c->path);
	}
	c->listen_fd = -1;
	if (c->fd_owned && c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->fd_owned = false;
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	c->wake_fd = -1;
	free(c->ring);
	c->ring = NULL;
	free(c->path);
	c->path = NULL;
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_init(&c->lock, NULL);
}

const char *chardev_path(const struct chardev *c)
{
	return c->mode == SERIAL_PTY || c->mode == SERIAL_SOCKET ? c->path : NULL;
}

void chardev_stats(struct chardev *c, struct chardev_stats *st)
{
	pthread_mutex_lock(&c->lock);
	*st = c->st;
	st->buffered = c->ring_len;
	pthread_mutex_unlock(&c->lock);
}
