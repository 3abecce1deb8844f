// SPDX-License-Identifier: Apache-2.0
/*
 * The receive path: a readv() of the backend lands in the guest's next
 * chain. With mergeable buffers the same read goes on into the queue's
 * bounce buffer, and a frame longer than the chain is copied from there
 * into as many further chains as it needs (the header's num_buffers
 * tells the driver how many). Small frames, ACKs above all, so cost one
 * chain and a two-entry read; a read spanning the 64 KiB of chains the
 * largest frame needs (40 and more of Linux's buffers) cost the kernel an
 * iovec import and the loop a walk over every chain for every frame,
 * which made receiving the device's main cost. Without buffers nothing
 * is read: frames wait in the backend and the queue asks the driver for
 * a notification; a frame already read waits for chains the same way.
 *
 * The device thread reads the non-blocking tap itself, frame after frame,
 * until it is empty (then the queue polls it for the next frame, struct
 * net_poll, or in a stream waits NET_RX_PACE_US and reads again) or
 * NET_RX_BUDGET frames were read (then the same poll, which
 * completes at once, lets the loop's other work and the interrupts go
 * first). One io_uring read at a time cost the device 0.3-0.7 us a frame
 * more than a plain readv(), as on the transmit path (docs/performance.md);
 * several posted reads were all woken by each frame, and all but one
 * retried.
 */
#include "devices/virtio/virtio_net_internal.h"

#include "common/clock.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>

static bool rx_live(const struct net_rxq *q)
{
	const struct virtio_net *net = q->net;
	return !net->quiescing && !net->stopping && !q->stalled && q->pair < net->active_pairs &&
	       virtio_dev_running(&net->dev);
}

static struct virtqueue *rx_vq(const struct net_rxq *q)
{
	return &q->net->vqs[net_rx_vq(q->pair)];
}

static void spare_push_front(struct net_rxq *q, uint16_t head)
{
	unsigned size = q->net->queue_size;
	q->spare_first = (q->spare_first + size - 1) % size;
	q->spare[q->spare_first] = head;
	q->spare_count++;
}

static uint16_t spare_pop_front(struct net_rxq *q)
{
	uint16_t head = q->spare[q->spare_first];
	q->spare_first = (q->spare_first + 1) % q->net->queue_size;
	q->spare_count--;
	return head;
}

/* Gives a read's chains back for the next read, in their order. */
static void return_chains(struct net_rxq *q, struct net_rx_read *r)
{
	while (r->nr_chains)
		spare_push_front(q, r->heads[--r->nr_chains]);
}

/* A receive chain must be writable and hold something. */
static bool chain_ok(const struct vq_chain *c)
{
	return c->nr_out == 0 && c->in_len > 0;
}

/* The next chain: a kept one first, else from the ring. Returns 1, 0 when
 * there is none, -1 when the ring is malformed (the device failed). */
static int next_chain(struct net_rxq *q, uint16_t *head)
{
	struct virtio_net *net = q->net;
	if (q->spare_count) {
		*head = spare_pop_front(q);
		return 1;
	}
	for (;;) {
		struct virtqueue *vq = rx_vq(q);
		int r = vq_pop(vq, net->mem, &q->scratch);
		if (r <= 0) {
			if (r < 0)
				virtio_dev_fail(&net->dev, (int)net_rx_vq(q->pair),
						vq->error);
			return r;
		}
		/* The slot named by the head takes the buffers; its old
		 * array becomes the next scratch. */
		struct vq_chain *slot = &q->chains[q->scratch.head];
		struct iovec *spare_iov = slot->iov;
		*slot = q->scratch;
		q->scratch.iov = spare_iov;
		if (chain_ok(slot)) {
			*head = slot->head;
			return 1;
		}
		/* Unusable: handed back empty, which the driver drops. */
		vq_push(vq, slot->head, 0);
		net->dirty |= 1u << net_rx_vq(q->pair);
		NET_STAT_ADD(net->be.stats[q->pair].rx_drops, 1);
	}
}

/* Takes the next chain for a read: its buffers, then (mergeable) the
 * bounce buffer up to the largest frame. Returns 1, 0 when the ring has
 * no chain, -1 when the device failed. */
static int gather(struct net_rxq *q, struct net_rx_read *r)
{
	struct virtio_net *net = q->net;
	uint16_t head;
	r->nr_chains = r->nr_iov = 0;
	int g = next_chain(q, &head);
	if (g <= 0)
		return g;
	const struct vq_chain *c = &q->chains[head];
	memcpy(r->iov, c->iov, c->nr_in * sizeof(struct iovec));
	r->nr_iov = c->nr_in;
	r->heads[r->nr_chains++] = head;
	r->direct = c->in_len;
	r->capacity = c->in_len;
	if (net->mergeable && c->in_len < net->rx_need) {
		r->iov[r->nr_iov++] = (struct iovec){
			.iov_base = q->bounce, .iov_len = net->rx_need - c->in_len
		};
		r->capacity = net->rx_need;
	}
	return 1;
}

/* The header's num_buffers: written into the read's buffers (the first
 * chain, or the bounce buffer where that chain is shorter than the
 * header) before the bounce buffer is copied out. */
static void write_num_buffers(struct net_rx_read *r, uint16_t n)
{
	uint16_t nb = htole16(n);
	iov_from_buf(r->iov, r->nr_iov, offsetof(struct virtio_net_hdr_v1, num_buffers),
		     &nb, sizeof(nb));
}

/* Hands a frame of `len` bytes (header included, num_buffers written)
 * to the driver: its chains, in order, each filled but the last. A read
 * holds exactly the chains its frame needs. */
static void push_frame(struct net_rxq *q, struct net_rx_read *r, uint32_t len)
{
	struct virtio_net *net = q->net;
	struct virtqueue *vq = rx_vq(q);
	uint32_t left = len;
	for (unsigned i = 0; i < r->nr_chains; i++) {
		uint32_t in = q->chains[r->heads[i]].in_len;
		uint32_t n = in < left ? in : left;
		vq_push(vq, r->heads[i], n);
		left -= n;
	}
	r->nr_chains = 0;
	struct phy_net_queue_stats *st = &net->be.stats[q->pair];
	NET_STAT_ADD(st->rx_packets, 1);
	NET_STAT_ADD(st->rx_bytes, (uint64_t)len - VIRTIO_NET_HDR_LEN);
	net->dirty |= 1u << net_rx_vq(q->pair);
	q->hold.count++;
	q->received_since_tx += (uint64_t)len - VIRTIO_NET_HDR_LEN;
}

static void drop_frame(struct net_rxq *q, struct net_rx_read *r)
{
	return_chains(q, r);
	r->frame = 0;
	NET_STAT_ADD(q->net->be.stats[q->pair].rx_drops, 1);
}

/* The read's frame, longer than its first chain: takes chains for the part in the bounce
 * buffer, copies it there and hands the frame over. Returns false while
 * the ring has too few chains (or the device failed). */
static bool finish_frame(struct net_rxq *q)
{
	struct virtio_net *net = q->net;
	struct net_rx_read *r = &q->read;
	unsigned most = net->queue_size < NET_RX_FRAME_CHAINS ? net->queue_size
							       : NET_RX_FRAME_CHAINS;
	while (r->held < r->frame) {
		if (r->nr_chains >= most) {
			/* More than the whole ring: the driver's buffers are
			 * too small for what it negotiated. */
			drop_frame(q, r);
			return true;
		}
		uint16_t head;
		int g = next_chain(q, &head);
		if (g < 0)
			return false;
		if (g == 0) {
			if (vq_set_notify(rx_vq(q), true))
				continue;
			return false;
		}
		r->heads[r->nr_chains++] = head;
		r->held += q->chains[head].in_len;
	}
	write_num_buffers(r, (uint16_t)r->nr_chains);
	uint32_t off = 0, rest = r->frame - r->direct;
	for (unsigned i = 1; i < r->nr_chains && off < rest; i++) {
		const struct vq_chain *c = &q->chains[r->heads[i]];
		off += (uint32_t)iov_from_buf(c->iov, c->nr_in, 0, q->bounce + off, rest - off);
	}
	push_frame(q, r, r->frame);
	r->frame = 0;
	return true;
}

/* Polls the backend for its next frame; the completion reads on. When
 * the loop's ring has no room, net_rx_fill() asks the driver for a
 * notification instead, whose kick reads again. */
static void rx_poll(struct net_rxq *q)
{
	struct virtio_net *net = q->net;
	if (net_poll_arm(net, &q->poll, net->be.fds[q->pair], POLLIN))
		q->inflight++;
}

/* Whether a pass that read `n` frames before the backend ran dry is
 * part of a stream (NET_RX_PACE_MIN); notes the pass for the next one. */
static bool rx_stream(struct net_rxq *q, unsigned n)
{
	uint64_t now = phy_monotonic_ns(), tx = q->net->txq[q->pair].frames;
	bool one_way = n == 1 && q->dry_frames && tx == q->dry_tx &&
		       now - q->dry_ns < (uint64_t)q->net->rx_pace_us * 1000;
	q->dry_ns = now;
	q->dry_tx = tx;
	q->dry_frames = n;
	return n >= NET_RX_PACE_MIN || one_way;
}

/* The backend ran dry after `n` frames this pass: a stream reads again
 * after a pause (NET_RX_PACE_US), anything else at the next frame. */
static void rx_wait(struct net_rxq *q, unsigned n)
{
	struct virtio_net *net = q->net;
	if (net->rx_pace_us && rx_stream(q, n) &&
	    net_poll_arm_wait(net, &q->poll, net->rx_pace_us)) {
		q->inflight++;
		q->paced = true;
		return;
	}
	rx_poll(q);
}

/* What one read of the backend gave (bytes, or -errno) into r's chains,
 * the pass's n-th: a frame handed over, or waiting for more chains, or
 * none. Returns whether to read on. */
static bool take(struct net_rxq *q, struct net_rx_read *r, ssize_t res, unsigned n)
{
	struct virtio_net *net = q->net;
	if (res >= VIRTIO_NET_HDR_LEN && (uint64_t)res <= r->capacity) {
		if ((uint32_t)res <= r->direct) {
			write_num_buffers(r, 1);
			push_frame(q, r, (uint32_t)res);
		} else {
			/* finish_frame() hands it over, now or once the
			 * driver adds buffers. */
			r->frame = (uint32_t)res;
			r->held = r->direct;
		}
		return true;
	}
	return_chains(q, r);
	if (res == -EAGAIN || res == -EINTR) {
		/* Nothing to read: read again once the backend has a frame,
		 * or after a pause in a stream. */
		rx_wait(q, n);
		return false;
	}
	if (res > 0) {
		NET_STAT_ADD(net->be.stats[q->pair].rx_drops, 1); /* too large, or cut short */
		return true;
	}
	/* A detached queue (EBADFD), a backend failing reads or at its end
	 * (0): no retry loop; the driver's next kick tries again, so ask for
	 * one at its next buffer (the ring may hold some already). One added
	 * meanwhile counts as that kick: read again. */
	if (vq_notify_next(rx_vq(q)))
		return true;
	q->stalled = true;
	return false;
}

/* Reads frames while the queue has chains and the backend has frames. */
void net_rx_fill(struct net_rxq *q)
{
	struct virtio_net *net = q->net;
	struct virtqueue *vq = rx_vq(q);
	if (q->read.frame && (!rx_live(q) || !finish_frame(q)))
		return;
	for (unsigned n = 0; !q->inflight && rx_live(q);) {
		if (n == NET_RX_BUDGET) {
			rx_poll(q);
			break;
		}
		struct net_rx_read *r = &q->read;
		int g = gather(q, r);
		if (g < 0)
			return;
		if (g == 0) {
			/* The ring is empty: go on once the driver adds
			 * buffers. */
			if (!vq_set_notify(vq, true))
				return;
			continue;
		}
		ssize_t res = readv(net->be.fds[q->pair], r->iov, (int)r->nr_iov);
		if (!take(q, r, res < 0 ? -errno : res, n))
			break;
		n++;
		if (q->read.frame && !finish_frame(q))
			return;
	}
	/* Polling the backend: the driver's buffers are taken as frames
	 * come, so a notification per buffer would be waste. */
	if (rx_live(q))
		vq_set_notify(vq, !q->inflight);
}

void net_rx_poll_done(struct io_op *op, int res)
{
	struct net_rxq *q = ((struct net_poll *)op)->q;
	struct virtio_net *net = q->net;
	(void)res; /* the read that follows tells what the backend has */
	pthread_mutex_lock(&net->dev.lock);
	q->paced = false;
	if (net_poll_done(net, &q->poll, &q->inflight))
		net_rx_fill(q);
	pthread_mutex_unlock(&net->dev.lock);
}

void net_rx_cancel(struct net_rxq *q)
{
	net_poll_cancel(q->net, &q->poll);
}

void net_rx_clear(struct net_rxq *q)
{
	q->spare_first = q->spare_count = 0;
	q->stalled = q->paced = false;
	q->dry_ns = q->dry_tx = 0;
	q->dry_frames = 0;
	irq_hold_clear(&q->hold);
	q->received_since_tx = 0;
	q->read.nr_chains = q->read.frame = 0;
}
