// SPDX-License-Identifier: Apache-2.0
/*
 * The receive path: reads posted on the backend land straight in the
 * guest's buffers. With mergeable buffers one read spans as many chains
 * as the largest frame needs (the header's num_buffers tells the driver
 * how many it got); chains a short frame did not fill are kept, in
 * order, for the next read. Without buffers no read is posted: frames
 * wait in the backend and the queue asks the driver for a notification.
 *
 * One read per queue is posted at a time (NET_RX_READS): several waiting
 * reads are all woken by each frame, and all but one retry and sleep
 * again, which under the rig's emulated kernel cost more than the round
 * trip they save. Reads with RWF_NOWAIT to drain a backlog did not pay
 * either (each imports its whole iovec to find the tap empty).
 */
#include "devices/virtio/virtio_net_internal.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <liburing.h>

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

/* Fills a read with chains until it can hold any frame (one chain without
 * mergeable buffers). Returns 1 when it can, 0 when the ring ran out
 * first (r keeps what it got), -1 when the device failed. */
static int gather(struct net_rxq *q, struct net_rx_read *r)
{
	struct virtio_net *net = q->net;
	uint64_t bytes = 0;
	r->nr_chains = r->nr_iov = 0;
	do {
		uint16_t head;
		int g = next_chain(q, &head);
		if (g <= 0)
			return g;
		const struct vq_chain *c = &q->chains[head];
		if (r->nr_iov + c->nr_in > NET_RX_READ_IOV) {
			spare_push_front(q, head);
			return 1;
		}
		memcpy(&r->iov[r->nr_iov], c->iov, c->nr_in * sizeof(struct iovec));
		r->nr_iov += c->nr_in;
		r->heads[r->nr_chains++] = head;
		bytes += c->in_len;
	} while (net->mergeable && bytes < net->rx_need);
	return 1;
}

static struct net_rx_read *free_read(struct net_rxq *q)
{
	for (unsigned i = 0; i < NET_RX_READS; i++)
		if (!q->reads[i].busy)
			return &q->reads[i];
	return NULL;
}

static bool post(struct net_rxq *q, struct net_rx_read *r)
{
	struct virtio_net *net = q->net;
	struct io_uring_sqe *sqe = io_loop_sqe(net->loop, &r->op);
	if (!sqe) {
		return_chains(q, r); /* the next kick tries again */
		return false;
	}
	io_uring_prep_readv(sqe, net->be.fds[q->pair], r->iov, r->nr_iov, 0);
	r->busy = true;
	q->inflight++;
	net->inflight++;
	return true;
}

void net_rx_fill(struct net_rxq *q)
{
	struct virtqueue *vq = rx_vq(q);
	while (q->inflight < NET_RX_READS && rx_live(q)) {
		struct net_rx_read *r = free_read(q);
		int g = gather(q, r);
		if (g < 0)
			return;
		if (g > 0) {
			if (!post(q, r))
				return;
			continue;
		}
		/* Short of buffers for the largest frame. With no read
		 * posted, what there is goes out anyway (small frames fit,
		 * and the driver adds buffers only once it gets some back);
		 * otherwise wait for more. */
		if (r->nr_chains && !q->inflight) {
			if (!post(q, r))
				return;
		} else {
			return_chains(q, r);
		}
		if (!vq_set_notify(vq, true))
			return;
	}
	/* Enough posted: a notification per buffer added would be waste. */
	if (rx_live(q))
		vq_set_notify(vq, false);
}

/* Hands a frame of `len` bytes (header included) to the driver: the
 * chains it filled, in order; the rest are kept for the next read. */
static void deliver(struct net_rxq *q, struct net_rx_read *r, uint32_t len)
{
	struct virtio_net *net = q->net;
	struct virtqueue *vq = rx_vq(q);
	uint32_t left = len;
	uint16_t used = 0;
	while (used < r->nr_chains && left) {
		uint32_t in = q->chains[r->heads[used]].in_len;
		left -= in < left ? in : left;
		used++;
	}
	uint16_t nb = htole16(used);
	iov_from_buf(r->iov, r->nr_iov, offsetof(struct virtio_net_hdr_v1, num_buffers),
		     &nb, sizeof(nb));
	left = len;
	for (uint16_t i = 0; i < used; i++) {
		uint32_t in = q->chains[r->heads[i]].in_len;
		uint32_t n = in < left ? in : left;
		vq_push(vq, r->heads[i], n);
		left -= n;
	}
	/* Keep the rest, first chain first. */
	for (unsigned i = r->nr_chains; i > used; i--)
		spare_push_front(q, r->heads[i - 1]);
	r->nr_chains = 0;
	net->dirty |= 1u << net_rx_vq(q->pair);
}

static uint64_t read_capacity(const struct net_rxq *q, const struct net_rx_read *r)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < r->nr_chains; i++)
		n += q->chains[r->heads[i]].in_len;
	return n;
}

void net_rx_done(struct io_op *op, int res)
{
	struct net_rx_read *r = (struct net_rx_read *)op;
	struct net_rxq *q = r->q;
	struct virtio_net *net = q->net;
	struct phy_net_queue_stats *st = &net->be.stats[q->pair];

	pthread_mutex_lock(&net->dev.lock);
	r->busy = false;
	q->inflight--;
	net->inflight--;
	if (net->quiescing || !virtio_dev_running(&net->dev)) {
		/* The chains go with the reset that is coming or waiting. */
		r->nr_chains = 0;
		pthread_cond_broadcast(&net->dev.cond);
		pthread_mutex_unlock(&net->dev.lock);
		return;
	}
	if (res >= VIRTIO_NET_HDR_LEN && (uint64_t)res <= read_capacity(q, r)) {
		deliver(q, r, (uint32_t)res);
		NET_STAT_ADD(st->rx_packets, 1);
		NET_STAT_ADD(st->rx_bytes, (uint64_t)res - VIRTIO_NET_HDR_LEN);
	} else {
		return_chains(q, r);
		if (res == -EBADFD || res == -EBADF || res == -EINVAL)
			q->stalled = true; /* a detached queue: no retry loop */
		else if (res != -EAGAIN && res != -EINTR && res != -ECANCELED)
			NET_STAT_ADD(st->rx_drops, 1); /* too large, or cut short */
	}
	net_rx_fill(q);
	pthread_mutex_unlock(&net->dev.lock);
}

void net_rx_cancel(struct net_rxq *q)
{
	for (unsigned i = 0; i < NET_RX_READS; i++)
		if (q->reads[i].busy)
			io_loop_cancel(q->net->loop, &q->reads[i].op);
}

void net_rx_clear(struct net_rxq *q)
{
	q->spare_first = q->spare_count = 0;
	q->stalled = false;
	for (unsigned i = 0; i < NET_RX_READS; i++)
		q->reads[i].nr_chains = 0;
}
