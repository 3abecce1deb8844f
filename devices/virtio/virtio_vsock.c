// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-vsock device's queues: packets from the guest (tx) checked
 * and dispatched to their connection, packets to the guest (rx) built
 * from what the connections owe it, and the event queue. The host
 * sockets are virtio_vsock_conn.c's; virtio_vsock.h describes the
 * device.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_vsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"
#include "devices/virtio/virtio_vsock_int.h"

static struct virtio_vsock *to_vsock(struct virtio_dev *dev)
{
	return dev->opaque;
}

bool vsock_serving(const struct virtio_vsock *v)
{
	return virtio_dev_running(&v->dev) && !v->stopping;
}

static void fail(struct virtio_vsock *v, int q, const char *why)
{
	virtio_dev_fail(&v->dev, q, why);
	conn_kill_all(v, true);
}

void vsock_queue_rst(struct virtio_vsock *v, uint32_t guest_port,
		     uint32_t host_port)
{
	/* A full queue drops the reply: the guest's connect times out. */
	if (v->nr_rsts < VSOCK_MAX_RSTS)
		v->rsts[v->nr_rsts++] = (struct vsock_rst){guest_port, host_port};
}

/* The next chain: 1, 0 when the ring is empty (the driver is then asked
 * to notify its next buffer: with EVENT_IDX it would not otherwise), -1
 * when it is malformed. */
static int pop(struct virtio_vsock *v, struct virtqueue *vq)
{
	for (;;) {
		int r = vq_pop(vq, v->mem, &v->chain);
		if (r || !vq_set_notify(vq, true))
			return r;
	}
}

/* ---- to the guest (rx) ---- */

static void fill_hdr(struct virtio_vsock *v, struct virtio_vsock_hdr *h,
		     uint32_t guest_port, uint32_t host_port, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = htole64(VIRTIO_VSOCK_HOST_CID);
	h->dst_cid = htole64(v->cid);
	h->src_port = htole32(host_port);
	h->dst_port = htole32(guest_port);
	h->type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h->op = htole16(op);
	h->buf_alloc = htole32(v->buf_alloc);
}

/* A control packet c owes, or data read from its socket into the chain
 * after the header. Returns the bytes of the packet, 0 for none. */
static uint32_t conn_packet(struct vsock_conn *c, struct virtio_vsock_hdr *h)
{
	struct virtio_vsock *v = c->v;
	struct vq_chain *ch = &v->chain;
	static const struct {
		unsigned bit;
		uint16_t op;
	} ctrl[] = {
		{PEND_REQUEST, VIRTIO_VSOCK_OP_REQUEST},
		{PEND_RESPONSE, VIRTIO_VSOCK_OP_RESPONSE},
		{PEND_CREDIT, VIRTIO_VSOCK_OP_CREDIT_UPDATE},
	};
	for (size_t i = 0; i < sizeof(ctrl) / sizeof(ctrl[0]); i++) {
		if (c->pend & ctrl[i].bit) {
			c->pend &= ~ctrl[i].bit;
			fill_hdr(v, h, c->guest_port, c->host_port, ctrl[i].op);
			return VSOCK_HDR;
		}
	}
	if (conn_wants_read(c)) {
		struct iovec iov[VSOCK_MAX_IOV];
		size_t max = ch->in_len - VSOCK_HDR;
		uint32_t credit = conn_peer_credit(c);
		if (max > credit)
			max = credit;
		if (max > VIRTIO_VSOCK_MAX_PKT)
			max = VIRTIO_VSOCK_MAX_PKT;
		unsigned n = vsock_iov_slice(ch->iov, ch->nr_in, VSOCK_HDR, max,
					     iov, VSOCK_MAX_IOV);
		ssize_t r = readv(c->fd, iov, (int)n);
		if (r > 0) {
			fill_hdr(v, h, c->guest_port, c->host_port, VIRTIO_VSOCK_OP_RW);
			h->len = htole32((uint32_t)r);
			c->tx_cnt += (uint32_t)r;
			v->st.rx_bytes += (uint64_t)r;
			return VSOCK_HDR + (uint32_t)r;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			conn_arm_read(c);
		} else if (r < 0) {
			conn_kill(c, true);
			return 0;
		} else {
			/* The host program is done writing. */
			c->host_eof = true;
			c->pend |= PEND_SHUTDOWN;
		}
	}
	if (c->pend & PEND_SHUTDOWN) {
		c->pend &= ~PEND_SHUTDOWN;
		fill_hdr(v, h, c->guest_port, c->host_port, VIRTIO_VSOCK_OP_SHUTDOWN);
		h->flags = htole32(VIRTIO_VSOCK_SHUTDOWN_SEND);
		return VSOCK_HDR;
	}
	return 0;
}

/* Builds the next packet for the chain just taken: an RST reply first,
 * then the first ready connection's. Returns its length, 0 for none. */
static uint32_t next_packet(struct virtio_vsock *v, struct virtio_vsock_hdr *h)
{
	if (v->nr_rsts) {
		struct vsock_rst r = v->rsts[0];
		memmove(v->rsts, v->rsts + 1, --v->nr_rsts * sizeof(v->rsts[0]));
		fill_hdr(v, h, r.guest_port, r.host_port, VIRTIO_VSOCK_OP_RST);
		return VSOCK_HDR;
	}
	/* Each connection once at most: one with nothing to send after
	 * all goes to the back and must not be tried forever. */
	for (unsigned n = v->nr_conns; n-- && !TAILQ_EMPTY(&v->ready);) {
		struct vsock_conn *c = TAILQ_FIRST(&v->ready);
		TAILQ_REMOVE(&v->ready, c, ready);
		c->on_ready = false;
		uint32_t len = conn_packet(c, h);
		if (c->state == CONN_DEAD) {
			if (v->nr_rsts)
				return next_packet(v, h);
			continue;
		}
		h->fwd_cnt = htole32(c->fwd_cnt);
		c->fwd_cnt_sent = c->fwd_cnt;
		conn_check_done(c);
		if (c->state != CONN_DEAD)
			conn_kick(c); /* round robin: to the back */
		if (len)
			return len;
	}
	return 0;
}

static bool rx_work(const struct virtio_vsock *v)
{
	return v->nr_rsts || !TAILQ_EMPTY(&v->ready);
}

void vsock_fill_rx(struct virtio_vsock *v)
{
	struct virtqueue *vq = &v->vqs[VSOCK_RXQ];

	while (vsock_serving(v) && vq->ready && rx_work(v)) {
		int r = pop(v, vq);
		if (r < 0) {
			fail(v, VSOCK_RXQ, vq->error);
			return;
		}
		if (r == 0)
			return; /* the driver's kick brings us back */
		if (v->chain.nr_out || v->chain.in_len <= VSOCK_HDR) {
			fail(v, VSOCK_RXQ, "rx buffer not writable or no longer than the header");
			return;
		}
		struct virtio_vsock_hdr h;
		uint32_t len = next_packet(v, &h);
		if (!len) {
			vq_unpop(vq);
			return;
		}
		iov_from_buf(v->chain.iov, v->chain.nr_in, 0, &h, VSOCK_HDR);
		vq_push(vq, v->chain.head, len);
		v->dirty[VSOCK_RXQ] = true;
	}
}

/* ---- from the guest (tx) ---- */

static void update_credit(struct vsock_conn *c, const struct virtio_vsock_hdr *h)
{
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
}

static void guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *h)
{
	uint32_t gport = le32toh(h->src_port), hport = le32toh(h->dst_port);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->path, hport);
	int fd = -1;
	if (n > 0 && (size_t)n < sizeof(sa.sun_path) && v->nr_conns < v->max_conns)
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	struct vsock_conn *c = fd >= 0 ? conn_new(v, fd) : NULL;
	if (!c) {
		vsock_queue_rst(v, gport, hport);
		return;
	}
	c->guest_port = gport;
	c->host_port = hport;
	c->state = CONN_ESTABLISHED;
	c->pend |= PEND_RESPONSE;
	update_credit(c, h);
	v->st.guest_connects++;
	conn_kick(c);
}

static void bad_packet(struct virtio_vsock *v, const struct virtio_vsock_hdr *h,
		       struct vsock_conn *c)
{
	if (c) {
		v->st.bad_packets++;
		conn_kill(c, true);
	} else if (le16toh(h->op) != VIRTIO_VSOCK_OP_RST) {
		/* An RST for nothing is no one's error: it is dropped. */
		v->st.bad_packets++;
		vsock_queue_rst(v, le32toh(h->src_port), le32toh(h->dst_port));
	}
}

static void shutdown_from_guest(struct vsock_conn *c, uint32_t flags)
{
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->guest_no_send = true;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_no_rcv = true;
	conn_flush(c); /* SHUT_WR once what it sent is written */
	conn_check_done(c);
}

static void dispatch(struct virtio_vsock *v, const struct virtio_vsock_hdr *h,
		     uint32_t len)
{
	uint16_t op = le16toh(h->op);
	struct vsock_conn *c = conn_find(v, le32toh(h->src_port), le32toh(h->dst_port));

	if (le64toh(h->src_cid) != v->cid || le64toh(h->dst_cid) != VIRTIO_VSOCK_HOST_CID ||
	    le16toh(h->type) != VIRTIO_VSOCK_TYPE_STREAM) {
		bad_packet(v, h, c);
		return;
	}
	if (op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c)
			bad_packet(v, h, c);
		else
			guest_connect(v, h);
		return;
	}
	if (!c || (c->state == CONN_LINE)) {
		bad_packet(v, h, c);
		return;
	}
	if (op == VIRTIO_VSOCK_OP_RST) {
		v->st.resets++;
		conn_kill(c, false);
		return;
	}
	bool connecting = c->state == CONN_CONNECTING;
	if (connecting != (op == VIRTIO_VSOCK_OP_RESPONSE)) {
		bad_packet(v, h, c);
		return;
	}
	update_credit(c, h);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		conn_established(c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		shutdown_from_guest(c, le32toh(h->flags));
		break;
	case VIRTIO_VSOCK_OP_RW:
		if (c->guest_no_send) {
			bad_packet(v, h, c);
			return;
		}
		v->st.tx_bytes += len;
		conn_deliver(c, v->chain.iov, v->chain.nr_out, VSOCK_HDR, len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->pend |= PEND_CREDIT;
		break;
	default:
		bad_packet(v, h, c);
		return;
	}
	if (c->state != CONN_DEAD)
		conn_kick(c);
}

/* One packet from the guest: the header and len bytes after it in the
 * chain's readable buffers. Returns false when the chain is malformed. */
static bool tx_packet(struct virtio_vsock *v)
{
	struct vq_chain *ch = &v->chain;
	struct virtio_vsock_hdr h;
	if (ch->out_len < VSOCK_HDR) {
		fail(v, VSOCK_TXQ, "tx packet shorter than its header");
		return false;
	}
	iov_to_buf(ch->iov, ch->nr_out, 0, &h, VSOCK_HDR);
	uint32_t len = le32toh(h.len);
	if (len > ch->out_len - VSOCK_HDR) {
		fail(v, VSOCK_TXQ, "tx packet's len is past its buffers");
		return false;
	}
	if (le16toh(h.op) != VIRTIO_VSOCK_OP_RW)
		len = 0;
	dispatch(v, &h, len);
	return true;
}

static void drain_tx(struct virtio_vsock *v)
{
	struct virtqueue *vq = &v->vqs[VSOCK_TXQ];

	while (vsock_serving(v) && vq->ready) {
		int r = pop(v, vq);
		if (r < 0) {
			fail(v, VSOCK_TXQ, vq->error);
			return;
		}
		if (r == 0)
			return;
		if (!tx_packet(v))
			return;
		vq_push(vq, v->chain.head, 0);
		v->dirty[VSOCK_TXQ] = true;
	}
}

/* ---- the event queue ---- */

static void post_event(struct virtio_vsock *v)
{
	struct virtqueue *vq = &v->vqs[VSOCK_EVQ];
	if (!v->event_pending || !vsock_serving(v) || !vq->ready)
		return;
	int r = pop(v, vq);
	if (r < 0) {
		fail(v, VSOCK_EVQ, vq->error);
		return;
	}
	if (r == 0)
		return; /* posted when the driver gives a buffer */
	uint32_t id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	if (v->chain.nr_out || v->chain.in_len < sizeof(id)) {
		fail(v, VSOCK_EVQ, "event buffer not writable or too short");
		return;
	}
	iov_from_buf(v->chain.iov, v->chain.nr_in, 0, &id, sizeof(id));
	vq_push(vq, v->chain.head, sizeof(id));
	v->dirty[VSOCK_EVQ] = true;
	v->event_pending = false;
}

void virtio_vsock_transport_reset(struct virtio_vsock *v)
{
	pthread_mutex_lock(&v->dev.lock);
	conn_kill_all(v, true);
	v->nr_rsts = 0;
	v->event_pending = true;
	post_event(v);
	pthread_mutex_unlock(&v->dev.lock);
}

/* ---- loop hooks ---- */

static void vsock_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_vsock *v = to_vsock(dev);

	pthread_mutex_lock(&dev->lock);
	if (q == VSOCK_TXQ)
		drain_tx(v);
	else if (q == VSOCK_EVQ)
		post_event(v);
	vsock_fill_rx(v);
	conn_reap(v);
	pthread_mutex_unlock(&dev->lock);
}

static void vsock_flush(void *opaque)
{
	struct virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->dev.lock);
	for (unsigned q = 0; q < VSOCK_NR_QUEUES; q++) {
		if (v->dirty[q] && vsock_serving(v))
			virtio_dev_signal_queue(&v->dev, q);
		v->dirty[q] = false;
	}
	pthread_mutex_unlock(&v->dev.lock);
}

/* A reset closed connections: cancel their polls here. */
static void vsock_wake(void *opaque)
{
	struct virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->dev.lock);
	conn_reap(v);
	pthread_mutex_unlock(&v->dev.lock);
}

static void vsock_stop(void *opaque)
{
	struct virtio_vsock *v = opaque;

	pthread_mutex_lock(&v->dev.lock);
	v->stopping = true;
	conn_cancel_all(v);
	pthread_mutex_unlock(&v->dev.lock);
}

/* ---- virtio_dev ops (vCPU threads, dev.lock held) ---- */

static void vsock_reset(struct virtio_dev *dev)
{
	struct virtio_vsock *v = to_vsock(dev);

	/* No packet can reach the guest any more: every connection ends,
	 * its host socket closed now; the loop cancels the polls. */
	conn_kill_all(v, false);
	v->nr_rsts = 0;
	v->event_pending = false;
	memset(v->dirty, 0, sizeof(v->dirty));
	uint64_t one = 1;
	if (v->wake_watched && write(v->wake_fd, &one, sizeof(one)) < 0) {
		/* Fails only on overflow: it is set. */
	}
}

static const struct virtio_dev_ops vsock_ops = {
	.reset = vsock_reset,
	.queue_notify = vsock_queue_notify,
};

/* ---- the device ---- */

struct virtio_dev *virtio_vsock_dev(struct virtio_vsock *v)
{
	return &v->dev;
}

void virtio_vsock_stats(struct virtio_vsock *v, struct virtio_vsock_stats *st)
{
	pthread_mutex_lock(&v->dev.lock);
	*st = v->st;
	st->conns = v->nr_conns;
	pthread_mutex_unlock(&v->dev.lock);
}

static void free_vsock(struct virtio_vsock *v)
{
	if (v->wake_fd >= 0)
		close(v->wake_fd);
	free(v->name);
	free(v->path);
	free(v);
}

static int check_params(const struct virtio_vsock_params *p, const char *name,
			struct phy_error *err)
{
	if (!p)
		return phy_err(err, PHY_E_INVALID, "%s: no parameters", name);
	if (p->guest_cid <= VIRTIO_VSOCK_HOST_CID || p->guest_cid > VIRTIO_VSOCK_MAX_CID)
		return phy_err(err, PHY_E_INVALID, "%s: cid %llu is reserved (3..%llu)",
			       name, (unsigned long long)p->guest_cid,
			       VIRTIO_VSOCK_MAX_CID);
	if (!p->path || p->listen_fd < 0)
		return phy_err(err, PHY_E_INVALID, "%s: no listening socket", name);
	return 0;
}

static int hook_up(struct virtio_vsock *v, struct phy_error *err)
{
	int r = io_loop_add_flush(v->loop, vsock_flush, v, err);
	if (!r)
		r = io_loop_add_stop_hook(v->loop, vsock_stop, v, err);
	if (!r)
		r = io_loop_watch_eventfd(v->loop, v->wake_fd, vsock_wake, v, err);
	if (r) {
		io_loop_remove_flush(v->loop, vsock_flush, v);
		io_loop_remove_stop_hook(v->loop, vsock_stop, v);
	}
	return r;
}

int virtio_vsock_create(struct virtio_vsock **out,
			const struct virtio_vsock_params *p, const char *name,
			const struct guest_mem *mem, struct io_loop *loop,
			struct phy_error *err)
{
	int r = check_params(p, name, err);
	if (r)
		return r;
	struct virtio_vsock *v = calloc(1, sizeof(*v));
	if (!v)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	v->mem = mem;
	v->loop = loop;
	v->listen_fd = p->listen_fd;
	v->cid = p->guest_cid;
	v->buf_alloc = p->buf_alloc ? p->buf_alloc : VIRTIO_VSOCK_BUF_ALLOC;
	v->max_conns = p->max_conns ? p->max_conns : VIRTIO_VSOCK_MAX_CONNS;
	v->timeout_ms = p->timeout_ms ? p->timeout_ms : VIRTIO_VSOCK_TIMEOUT_MS;
	v->next_port = 1u << 30;
	v->name = strdup(name);
	v->path = strdup(p->path);
	v->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!v->name || !v->path || v->wake_fd < 0) {
		int e = errno;
		free_vsock(v);
		return phy_err_errno(err, PHY_E_NOMEM, e, "%s: set-up", name);
	}
	TAILQ_INIT(&v->conns);
	TAILQ_INIT(&v->dead);
	TAILQ_INIT(&v->ready);
	v->accept_op = (struct vsock_op){.op.done = vsock_accept_done, .v = v};
	v->timer_op = (struct vsock_op){.op.done = vsock_timer_done, .v = v};
	v->chain.iov = v->iov;
	v->chain.max_iov = VSOCK_MAX_IOV;
	uint64_t cid = htole64(v->cid);
	memcpy(v->config, &cid, sizeof(cid));
	virtio_dev_init(&v->dev, v->name, VIRTIO_ID_VSOCK,
			1ull << VIRTIO_RING_F_EVENT_IDX |
				1ull << VIRTIO_RING_F_INDIRECT_DESC,
			sizeof(v->config), v->vqs, VSOCK_NR_QUEUES,
			VIRTIO_VSOCK_QUEUE_SIZE, mem, &vsock_ops, v);
	v->dev.config = v->config;
	r = hook_up(v, err);
	if (r) {
		virtio_dev_destroy(&v->dev);
		free_vsock(v);
		return r;
	}
	v->wake_watched = true;
	vsock_arm_accept(v);
	*out = v;
	return 0;
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	if (!v)
		return;
	io_loop_remove_flush(v->loop, vsock_flush, v);
	io_loop_remove_stop_hook(v->loop, vsock_stop, v);
	conn_kill_all(v, false);
	while (!TAILQ_EMPTY(&v->dead)) {
		struct vsock_conn *c = TAILQ_FIRST(&v->dead);
		TAILQ_REMOVE(&v->dead, c, link);
		free(c->buf);
		free(c);
	}
	virtio_dev_destroy(&v->dev);
	free_vsock(v);
}
