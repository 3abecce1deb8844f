// SPDX-License-Identifier: Apache-2.0
/*
 * The transmit path: each chain the driver makes available is one frame,
 * header first, written to the backend with one writev straight from
 * guest memory. Frames the device must not pass on (no room for the
 * header, larger than any frame, an offload the driver did not negotiate,
 * a checksum position outside the frame) are dropped and counted; the
 * backend checks the rest of the header itself.
 *
 * Frames are written in ring order by the thread that takes them, with
 * a plain writev() on the non-blocking tap: writes once ran in parallel
 * (on io_uring workers, when the tap was blocking), and frames reached
 * the host out of order (TCP saw ~1200 out-of-order segments per 10 s
 * stream in the rig); then one io_uring write at a time, which cost
 * ~0.5 us a frame more than writev() and 1.25-1.35x the throughput in
 * devbench's net-tx jobs (docs/performance.md). When a tap without room
 * answers EAGAIN, the frame goes first again and the queue polls for
 * room (struct net_poll); the others wait behind it, in order. (Writing
 * a kick's frames as one io_uring link chain was no faster in the rig:
 * 0.94x-1.03x.)
 */
#include "devices/virtio/virtio_net_internal.h"

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <sys/uio.h>


static bool has(uint64_t features, unsigned bit)
{
	return features & (1ull << bit);
}

bool net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t f,
		   uint32_t frame_len)
{
	if (frame_len == 0 || frame_len > NET_MAX_FRAME)
		return false;
	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = le16toh(h->csum_start);
		uint32_t off = le16toh(h->csum_offset);
		if (!has(f, VIRTIO_NET_F_CSUM) || start + off + 2 > frame_len)
			return false;
	}
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !has(f, VIRTIO_NET_F_HOST_TSO4)) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !has(f, VIRTIO_NET_F_HOST_TSO6)) ||
	    (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(f, VIRTIO_NET_F_HOST_ECN))
		return false;
	/* Segmentation needs the checksum to be left to the host. */
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && le16toh(h->gso_size) > 0;
}

static void tx_finish(struct net_txq *q, struct net_tx_req *req, bool sent)
{
	struct virtio_net *net = q->net;
	struct phy_net_queue_stats *st = &net->be.stats[q->pair];
	struct virtqueue *vq = &net->vqs[net_tx_vq(q->pair)];
	if (vq->published_used == vq->used_idx) /* published elsewhere */
		q->unpublished_bytes = 0;
	vq_push_batch(vq, req->chain.head, 0, NET_TX_USED_BATCH);
	q->unpublished_bytes += req->len;
	if (q->unpublished_bytes >= NET_TX_USED_BYTES) {
		vq_publish_used(vq);
		q->unpublished_bytes = 0;
	}
	net->dirty |= 1u << net_tx_vq(q->pair);
	q->hold.count++;
	if (sent) {
		NET_STAT_ADD(st->tx_packets, 1);
		NET_STAT_ADD(st->tx_bytes, req->len);
		q->sent_since_rx += req->len;
		q->sent_since_tx += req->len;
		q->frames++;
	} else {
		NET_STAT_ADD(st->tx_drops, 1);
	}
}

/* Writes the waiting frames to the tap, oldest first, until the tap
 * has no room (then the queue polls for it: inflight). */
static void tx_next(struct net_txq *q)
{
	struct virtio_net *net = q->net;
	unsigned size = net->queue_size;
	while (!q->inflight && q->waiting_count) {
		struct net_tx_req *req = &q->reqs[q->waiting[q->waiting_first]];
		ssize_t n = writev(net->be.fds[q->pair], req->chain.iov,
				   (int)req->chain.nr_out);
		if (n < 0 && errno == EAGAIN) {
			/* The tap's send buffer is full: the frame stays
			 * first until it has room. */
			if (net_poll_arm(net, &q->poll, net->be.fds[q->pair], POLLOUT))
				q->inflight++;
			return;
		}
		q->waiting_first = (q->waiting_first + 1) % size;
		q->waiting_count--;
		tx_finish(q, req, n == (ssize_t)(req->len + VIRTIO_NET_HDR_LEN));
	}
}

/* Checks the frame just popped into q->scratch and queues it. */
static void tx_start(struct net_txq *q)
{
	struct virtio_net *net = q->net;
	struct net_tx_req *req = &q->reqs[q->scratch.head];
	struct iovec *spare_iov = req->chain.iov;
	req->chain = q->scratch;
	q->scratch.iov = spare_iov;

	const struct vq_chain *c = &req->chain;
	struct virtio_net_hdr_v1 h;
	bool ok = c->nr_in == 0 && c->out_len >= VIRTIO_NET_HDR_LEN &&
		  iov_to_buf(c->iov, c->nr_out, 0, &h, sizeof(h)) == sizeof(h) &&
		  net_tx_hdr_ok(&h, net->dev.driver_features,
				c->out_len - VIRTIO_NET_HDR_LEN);
	req->len = ok ? c->out_len - VIRTIO_NET_HDR_LEN : 0;
	if (!ok) {
		tx_finish(q, req, false);
		return;
	}
	unsigned size = net->queue_size;
	q->waiting[(q->waiting_first + q->waiting_count) % size] = req->chain.head;
	q->waiting_count++;
	tx_next(q);
}

void net_tx_cancel(struct net_txq *q)
{
	net_poll_cancel(q->net, &q->poll);
}

void net_tx_clear(struct net_txq *q)
{
	q->waiting_first = q->waiting_count = 0;
	q->sent_since_rx = q->sent_since_tx = 0;
	q->unpublished_bytes = 0;
	irq_hold_clear(&q->hold);
}

/* Takes what the driver made available and writes it. While the queue
 * works, or polls the tap for room, the driver is asked for no
 * notification: the poll's completion looks at the ring again, and so
 * does the drain itself before it asks for one, so a busy queue costs the
 * guest no exit per frame. In the rig a notification asked for at once
 * after each kick had the guest kick ~9x as often per GB as under QEMU,
 * whose transmit bottom half keeps them off while it works. */
static void tx_drain(struct net_txq *q)
{
	struct virtio_net *net = q->net;
	struct virtqueue *vq = &net->vqs[net_tx_vq(q->pair)];
	for (;;) {
		vq_set_notify(vq, false);
		for (;;) {
			if (!virtio_dev_running(&net->dev) || net->quiescing)
				return;
			int r = vq_pop(vq, net->mem, &q->scratch);
			if (r == 0)
				break;
			if (r < 0) {
				virtio_dev_fail(&net->dev, (int)net_tx_vq(q->pair),
						vq->error);
				return;
			}
			tx_start(q);
		}
		if (q->inflight)
			return;
		if (!vq_set_notify(vq, true))
			return;
	}
}

void net_tx_drain(struct net_txq *q)
{
	tx_drain(q);
	vq_publish_used(&q->net->vqs[net_tx_vq(q->pair)]);
}

void net_tx_poll_done(struct io_op *op, int res)
{
	struct net_txq *q = ((struct net_poll *)op)->q;
	struct virtio_net *net = q->net;
	(void)res; /* the write that follows tells */
	pthread_mutex_lock(&net->dev.lock);
	if (net_poll_done(net, &q->poll, &q->inflight)) {
		tx_next(q);
		/* Room again: what the driver added meanwhile, or a
		 * notification. */
		if (!q->inflight)
			tx_drain(q);
		vq_publish_used(&net->vqs[net_tx_vq(q->pair)]);
	}
	pthread_mutex_unlock(&net->dev.lock);
}
