// SPDX-License-Identifier: Apache-2.0
/*
 * The host side of virtio-vsock's connections: the listening socket and
 * its CONNECT lines, each connection's Unix socket polled (one-shot
 * polls on the device loop's io_uring) for reading when the guest has
 * credit and for writing when guest data waits in its buffer, the
 * credit counts, and the timer that ends lines and connects that take
 * too long. Runs under v->dev.lock, on the loop thread unless said.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <liburing.h>

#include "devices/virtio/virtio_vsock_int.h"
#include "common/clock.h"

unsigned vsock_iov_slice(const struct iovec *iov, unsigned nr, size_t off,
			 size_t max, struct iovec *out, unsigned out_max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nr && max && n < out_max; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t len = iov[i].iov_len - off;
		if (len > max)
			len = max;
		out[n++] = (struct iovec){(uint8_t *)iov[i].iov_base + off, len};
		max -= len;
		off = 0;
	}
	return n;
}

/* ---- connections ---- */

static void conn_op_done(struct io_op *op, int res);

struct vsock_conn *conn_find(struct virtio_vsock *v, uint32_t guest_port,
			     uint32_t host_port)
{
	struct vsock_conn *c;
	TAILQ_FOREACH(c, &v->conns, link)
		if (c->guest_port == guest_port && c->host_port == host_port &&
		    c->state != CONN_LINE)
			return c;
	return NULL;
}

struct vsock_conn *conn_new(struct virtio_vsock *v, int fd)
{
	struct vsock_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->v = v;
	c->fd = fd;
	c->rd = (struct vsock_op){.op.done = conn_op_done, .v = v, .conn = c};
	c->wr = c->rd;
	TAILQ_INSERT_TAIL(&v->conns, c, link);
	v->nr_conns++;
	return c;
}

static void conn_free_if_idle(struct vsock_conn *c)
{
	if (c->rd.busy || c->wr.busy)
		return;
	TAILQ_REMOVE(&c->v->dead, c, link);
	free(c->buf);
	free(c);
}

/* Ends c: the socket closes now, the struct goes when its polls are
 * back. From a vCPU thread (a reset) the loop cancels them later. */
static void conn_end(struct vsock_conn *c, bool rst, bool from_loop)
{
	struct virtio_vsock *v = c->v;
	if (c->state == CONN_DEAD)
		return;
	if (rst && c->state != CONN_LINE && vsock_serving(v))
		vsock_queue_rst(v, c->guest_port, c->host_port);
	if (rst)
		v->st.resets++;
	if (c->on_ready)
		TAILQ_REMOVE(&v->ready, c, ready);
	c->on_ready = false;
	TAILQ_REMOVE(&v->conns, c, link);
	v->nr_conns--;
	TAILQ_INSERT_TAIL(&v->dead, c, link);
	c->state = CONN_DEAD;
	close(c->fd);
	c->fd = -1;
	if (!from_loop)
		return;
	if (c->rd.busy) {
		io_loop_cancel(v->loop, &c->rd.op);
		c->rd.cancelled = true;
	}
	if (c->wr.busy) {
		io_loop_cancel(v->loop, &c->wr.op);
		c->wr.cancelled = true;
	}
	/* Not freed here: the caller may still look at c (its state says
	 * CONN_DEAD). conn_reap() frees it at the end of the loop's call. */
}

void conn_kill(struct vsock_conn *c, bool rst)
{
	conn_end(c, rst, true);
}

void conn_kill_all(struct virtio_vsock *v, bool from_loop)
{
	while (!TAILQ_EMPTY(&v->conns))
		conn_end(TAILQ_FIRST(&v->conns), false, from_loop);
}

/* Frees the ended connections whose polls are back, and cancels those
 * of connections a reset closed from another thread. The loop's entry
 * points call it last, once nothing they hold points at a connection. */
void conn_reap(struct virtio_vsock *v)
{
	struct vsock_conn *c, *next;
	for (c = TAILQ_FIRST(&v->dead); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->rd.busy && !c->rd.cancelled) {
			io_loop_cancel(v->loop, &c->rd.op);
			c->rd.cancelled = true;
		}
		if (c->wr.busy && !c->wr.cancelled) {
			io_loop_cancel(v->loop, &c->wr.op);
			c->wr.cancelled = true;
		}
		conn_free_if_idle(c);
	}
}

/* The loop is stopping: cancel every poll and the timer. */
void conn_cancel_all(struct virtio_vsock *v)
{
	struct vsock_conn *c;
	TAILQ_FOREACH(c, &v->conns, link) {
		if (c->rd.busy)
			io_loop_cancel(v->loop, &c->rd.op);
		if (c->wr.busy)
			io_loop_cancel(v->loop, &c->wr.op);
	}
	conn_reap(v);
	if (v->accept_op.busy)
		io_loop_cancel(v->loop, &v->accept_op.op);
	if (v->timer_op.busy)
		io_loop_cancel(v->loop, &v->timer_op.op);
}

uint32_t conn_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

bool conn_wants_read(const struct vsock_conn *c)
{
	return c->state == CONN_ESTABLISHED && !c->host_eof && !c->guest_no_rcv &&
	       !c->rd.busy && conn_peer_credit(c) > 0;
}

void conn_kick(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	if (c->on_ready || c->state == CONN_DEAD || c->state == CONN_LINE)
		return;
	if (c->pend || conn_wants_read(c)) {
		TAILQ_INSERT_TAIL(&v->ready, c, ready);
		c->on_ready = true;
	}
}

static bool arm_poll(struct vsock_conn *c, struct vsock_op *op, unsigned mask)
{
	if (op->busy)
		return true;
	struct io_uring_sqe *sqe = io_loop_sqe(c->v->loop, &op->op);
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, c->fd, mask);
	op->busy = true;
	op->cancelled = false;
	return true;
}

void conn_arm_read(struct vsock_conn *c)
{
	if (!arm_poll(c, &c->rd, POLLIN))
		conn_kill(c, true);
}

/* Both directions are over (or the guest will read nothing more and
 * the host wrote its last): RST ends it, as Linux's driver expects. */
void conn_check_done(struct vsock_conn *c)
{
	if (c->state != CONN_ESTABLISHED || c->pend)
		return;
	bool guest_done = c->guest_no_send && !c->buf_len;
	if (guest_done && (c->host_eof || c->guest_no_rcv))
		conn_kill(c, true);
}

/* ---- guest data to the host socket ---- */

static void maybe_credit(struct vsock_conn *c)
{
	/* A quarter of the buffer forwarded: say so. The guest has three
	 * quarters left meanwhile, so it never waits on this. */
	if (c->fwd_cnt - c->fwd_cnt_sent >= c->v->buf_alloc / 4)
		c->pend |= PEND_CREDIT;
}

static ssize_t send_iov(int fd, struct iovec *iov, unsigned n)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = n};
	ssize_t r = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return r;
}

/* Writes what the buffer holds; true unless the socket failed. */
static bool flush_buf(struct vsock_conn *c)
{
	uint32_t cap = c->v->buf_alloc;
	while (c->buf_len) {
		uint32_t first = cap - c->buf_head;
		if (first > c->buf_len)
			first = c->buf_len;
		struct iovec iov[2] = {
			{c->buf + c->buf_head, first},
			{c->buf, c->buf_len - first},
		};
		ssize_t r = send_iov(c->fd, iov, iov[1].iov_len ? 2 : 1);
		if (r < 0)
			return false;
		if (r == 0)
			break;
		c->buf_head = (uint32_t)((c->buf_head + (uint32_t)r) % cap);
		c->buf_len -= (uint32_t)r;
		c->fwd_cnt += (uint32_t)r;
	}
	return true;
}

void conn_flush(struct vsock_conn *c)
{
	if (c->state != CONN_ESTABLISHED)
		return;
	if (!flush_buf(c)) {
		conn_kill(c, true);
		return;
	}
	maybe_credit(c);
	if (c->buf_len) {
		if (!arm_poll(c, &c->wr, POLLOUT))
			conn_kill(c, true);
		return;
	}
	if (c->guest_no_send && !c->host_shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
}

void conn_deliver(struct vsock_conn *c, const struct iovec *iov, unsigned nr,
		  size_t off, uint32_t len)
{
	struct virtio_vsock *v = c->v;
	uint32_t cap = v->buf_alloc;
	if (len > cap - c->buf_len) {
		/* More than the credit we gave: the guest broke the rules. */
		conn_kill(c, true);
		return;
	}
	uint32_t done = 0;
	if (!c->buf_len) {
		struct iovec s[VSOCK_MAX_IOV];
		unsigned n = vsock_iov_slice(iov, nr, off, len, s, VSOCK_MAX_IOV);
		ssize_t r = send_iov(c->fd, s, n);
		if (r < 0) {
			conn_kill(c, true);
			return;
		}
		done = (uint32_t)r;
		c->fwd_cnt += done;
	}
	if (done < len) {
		if (!c->buf && !(c->buf = malloc(cap))) {
			conn_kill(c, true);
			return;
		}
		uint32_t tail = (c->buf_head + c->buf_len) % cap;
		uint32_t left = len - done;
		uint32_t first = cap - tail < left ? cap - tail : left;
		iov_to_buf(iov, nr, off + done, c->buf + tail, first);
		iov_to_buf(iov, nr, off + done + first, c->buf, left - first);
		c->buf_len += left;
	}
	conn_flush(c);
}

/* ---- the host program's side ---- */

void conn_established(struct vsock_conn *c)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %u\n", c->host_port);
	c->state = CONN_ESTABLISHED;
	c->deadline_ns = 0;
	c->v->st.host_connects++;
	/* The socket's buffer is empty: the line fits, or the host
	 * program is gone. */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		conn_kill(c, true);
}

static uint32_t alloc_port(struct virtio_vsock *v, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = v->next_port++;
		if (v->next_port == 0)
			v->next_port = 1u << 30;
		if (!conn_find(v, guest_port, p))
			return p;
	}
}

/* "CONNECT <port>\n" with a decimal port: 0 and *port, or -1. */
static int parse_connect(const char *line, size_t len, uint32_t *port)
{
	static const char verb[] = "CONNECT ";
	size_t vl = sizeof(verb) - 1;
	if (len < vl + 2 || memcmp(line, verb, vl) || line[len - 1] != '\n')
		return -1;
	uint64_t val = 0;
	size_t i = vl;
	for (; i < len - 1; i++) {
		if (line[i] < '0' || line[i] > '9' || i - vl >= 10)
			return -1;
		val = val * 10 + (uint64_t)(line[i] - '0');
	}
	if (i == vl || val > UINT32_MAX)
		return -1;
	*port = (uint32_t)val;
	return 0;
}

/* Takes bytes of the CONNECT line off the socket into c->line, never
 * one past its newline (what follows is the stream's): 1 when the line
 * is complete, 0 when more is to come, -1 when the socket failed, ended
 * or sent more than VIRTIO_VSOCK_MAX_LINE bytes without a newline. */
static int take_line(struct vsock_conn *c)
{
	char peek[VIRTIO_VSOCK_MAX_LINE];
	size_t room = sizeof(c->line) - c->line_len;
	ssize_t r = recv(c->fd, peek, room, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return -1;
	char *nl = memchr(peek, '\n', (size_t)r);
	size_t n = nl ? (size_t)(nl - peek) + 1 : (size_t)r;
	/* Consumed, so that the next poll waits for new bytes. */
	if (recv(c->fd, c->line + c->line_len, n, MSG_DONTWAIT) != (ssize_t)n)
		return -1;
	c->line_len += (uint8_t)n;
	if (nl)
		return 1;
	return c->line_len < sizeof(c->line) ? 0 : -1;
}

/* The host socket has bytes while its CONNECT line is awaited. */
static void read_line(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	int r = take_line(c);
	if (r == 0) {
		conn_arm_read(c);
		return;
	}
	uint32_t port;
	if (r < 0 || parse_connect(c->line, c->line_len, &port) || !vsock_serving(v)) {
		conn_kill(c, false);
		return;
	}
	c->guest_port = port;
	c->host_port = alloc_port(v, port);
	c->state = CONN_CONNECTING;
	c->deadline_ns = phy_monotonic_ns() + (uint64_t)v->timeout_ms * 1000000;
	c->peer_buf_alloc = 0;
	c->pend |= PEND_REQUEST;
	conn_kick(c);
	vsock_fill_rx(v);
}

static void conn_op_done(struct io_op *op, int res)
{
	struct vsock_op *o = (struct vsock_op *)op;
	struct vsock_conn *c = o->conn;
	struct virtio_vsock *v = o->v;

	pthread_mutex_lock(&v->dev.lock);
	o->busy = false;
	if (c->state == CONN_DEAD) {
		conn_free_if_idle(c);
	} else if (res == -ECANCELED || v->stopping) {
		/* the loop is stopping */
	} else if (res < 0) {
		conn_kill(c, true);
	} else if (o == &c->wr) {
		conn_flush(c);
		if (c->state != CONN_DEAD) {
			conn_check_done(c);
			if (c->state != CONN_DEAD)
				conn_kick(c);
		}
		vsock_fill_rx(v);
	} else if (c->state == CONN_LINE) {
		read_line(c);
	} else {
		conn_kick(c);
		vsock_fill_rx(v);
	}
	conn_reap(v);
	pthread_mutex_unlock(&v->dev.lock);
}

/* ---- the listener and the timer ---- */

void vsock_arm_accept(struct virtio_vsock *v)
{
	if (v->accept_op.busy || v->stopping)
		return;
	struct io_uring_sqe *sqe = io_loop_sqe(v->loop, &v->accept_op.op);
	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, v->listen_fd, POLLIN);
	v->accept_op.busy = true;
}

void vsock_accept_done(struct io_op *op, int res)
{
	struct virtio_vsock *v = ((struct vsock_op *)op)->v;

	pthread_mutex_lock(&v->dev.lock);
	v->accept_op.busy = false;
	for (;;) {
		if (res < 0 || v->stopping)
			break;
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (v->nr_conns >= v->max_conns) {
			close(fd);
			continue;
		}
		struct vsock_conn *c = conn_new(v, fd);
		if (!c)
			continue;
		c->state = CONN_LINE;
		c->host_port = 0;
		c->deadline_ns = phy_monotonic_ns() + (uint64_t)v->timeout_ms * 1000000;
		conn_arm_read(c);
	}
	vsock_arm_timer(v);
	if (res >= 0 || res == -EINTR)
		vsock_arm_accept(v);
	conn_reap(v);
	pthread_mutex_unlock(&v->dev.lock);
}

static bool any_deadline(struct virtio_vsock *v)
{
	struct vsock_conn *c;
	TAILQ_FOREACH(c, &v->conns, link)
		if (c->deadline_ns)
			return true;
	return false;
}

/* Wakes every quarter of the timeout while a deadline is set. */
void vsock_arm_timer(struct virtio_vsock *v)
{
	if (v->timer_op.busy || v->stopping || !any_deadline(v))
		return;
	struct io_uring_sqe *sqe = io_loop_sqe(v->loop, &v->timer_op.op);
	if (!sqe)
		return;
	uint64_t ns = (uint64_t)v->timeout_ms * 1000000 / 4;
	v->ts = phy_kernel_timespec(ns);
	io_uring_prep_timeout(sqe, &v->ts, 0, 0);
	v->timer_op.busy = true;
}

void vsock_timer_done(struct io_op *op, int res)
{
	struct virtio_vsock *v = ((struct vsock_op *)op)->v;
	(void)res;

	pthread_mutex_lock(&v->dev.lock);
	v->timer_op.busy = false;
	uint64_t now = phy_monotonic_ns();
	struct vsock_conn *c, *next;
	for (c = TAILQ_FIRST(&v->conns); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->deadline_ns && c->deadline_ns <= now)
			conn_kill(c, c->state == CONN_CONNECTING);
	}
	vsock_arm_timer(v);
	vsock_fill_rx(v);
	conn_reap(v);
	pthread_mutex_unlock(&v->dev.lock);
}
