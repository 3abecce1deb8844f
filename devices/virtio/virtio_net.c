// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-net device: what it offers (features, configuration space),
 * where queue notifications go, one interrupt per queue per loop batch,
 * link changes, activation and reset. The receive and transmit paths are
 * in virtio_net_rx.c and virtio_net_tx.c, the control queue in
 * virtio_net_ctrl.c.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_net_internal.h"

#include <endian.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/clock.h"
#include "common/error.h"

/* mac, status and max_virtqueue_pairs; the MTU and later fields belong
 * to features not offered. */
#define NET_CONFIG_SIZE 10

static struct virtio_net *to_net(struct virtio_dev *dev)
{
	return dev->opaque;
}

/* The MAC is writable only with VIRTIO_F_VERSION_1 absent (legacy),
 * which this device does not offer. */
static void net_config_write(struct virtio_dev *dev, uint32_t off,
			     const void *data, uint32_t len)
{
}

static uint32_t rx_need(const struct virtio_net *net, uint64_t f)
{
	uint64_t gso = 1ull << VIRTIO_NET_F_GUEST_TSO4 |
		       1ull << VIRTIO_NET_F_GUEST_TSO6 |
		       1ull << VIRTIO_NET_F_GUEST_UFO;
	/* Without receive offloads the tap hands over frames of its MTU;
	 * 1500 is what Linux's small buffers hold, and a larger MTU on the
	 * tap is for guests that take GSO frames anyway. */
	return VIRTIO_NET_HDR_LEN + ((f & gso) ? NET_MAX_FRAME : 1500u + 18u);
}

static int net_activate(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);
	uint64_t f = dev->driver_features;
	net->mergeable = f & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	net->rx_need = rx_need(net, f);
	net->active_pairs = 1;
	if (net->be.ops->set_offload(net->be.opaque, f) ||
	    net->be.ops->set_queues(net->be.opaque, 1))
		return -1;
	return 0;
}

static void net_reset(struct virtio_dev *dev)
{
	struct virtio_net *net = to_net(dev);

	/* Polls on the backend may never finish on their own: the loop
	 * cancels them (it alone may touch the ring), and the reset returns
	 * once none can go on to read into the driver's buffers. */
	net->quiescing = true;
	uint64_t one = 1;
	if (net->inflight && write(net->wake_fd, &one, sizeof(one)) < 0) {
		/* An eventfd write fails only on overflow: it is set. */
	}
	while (net->inflight)
		pthread_cond_wait(&dev->cond, &dev->lock);
	net->quiescing = false;
	net->dirty = 0;
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		net_rx_clear(&net->rxq[p]);
		net_tx_clear(&net->txq[p]);
	}
	net->active_pairs = 1;
	net->be.ops->set_queues(net->be.opaque, 1);
}

static void net_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_net *net = to_net(dev);

	pthread_mutex_lock(&dev->lock);
	if (!net->quiescing && virtio_dev_running(dev)) {
		if (q == 2 * net->nr_pairs && net->nr_vqs > q)
			net_ctrl_drain(net);
		else if (q < 2 * net->nr_pairs && q % 2 == 0) {
			net->rxq[q / 2].stalled = false;
			net_rx_fill(&net->rxq[q / 2]);
		}
		else if (q < 2 * net->nr_pairs)
			net_tx_drain(&net->txq[q / 2]);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* After each batch of loop completions: one interrupt per queue that
 * got used entries. */
static void net_flush(void *opaque)
{
	struct virtio_net *net = opaque;

	pthread_mutex_lock(&net->dev.lock);
	uint32_t dirty = net->dirty;
	net->dirty = 0;
	for (unsigned q = 0; dirty; q++, dirty >>= 1) {
		if (!(dirty & 1) || !virtio_dev_running(&net->dev))
			continue;
		if (q < 2 * net->nr_pairs)
			net_signal(net, q);
		else
			virtio_dev_signal_queue(&net->dev, q);
	}
	pthread_mutex_unlock(&net->dev.lock);
}

bool net_poll_arm(struct virtio_net *net, struct net_poll *p, int fd, unsigned events)
{
	struct io_uring_sqe *sqe = io_loop_sqe(net->loop, &p->op);
	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, fd, events);
	p->busy = true;
	net->inflight++;
	return true;
}

bool net_poll_arm_wait(struct virtio_net *net, struct net_poll *p, uint32_t us)
{
	struct io_uring_sqe *sqe = io_loop_sqe(net->loop, &p->op);
	if (!sqe)
		return false;
	p->ts = phy_kernel_timespec((uint64_t)us * 1000);
	io_uring_prep_timeout(sqe, &p->ts, 0, 0);
	p->busy = true;
	net->inflight++;
	return true;
}

bool net_poll_done(struct virtio_net *net, struct net_poll *p, unsigned *q_inflight)
{
	p->busy = false;
	(*q_inflight)--;
	net->inflight--;
	if (net->quiescing || !virtio_dev_running(&net->dev)) {
		pthread_cond_broadcast(&net->dev.cond);
		return false;
	}
	return true;
}

void net_poll_cancel(struct virtio_net *net, struct net_poll *p)
{
	if (p->busy)
		io_loop_cancel(net->loop, &p->op);
}

/* Asks the kernel to cancel every queue's polls on the tap and
 * its interrupt holds' timeouts. */
static void cancel_backend_ops(struct virtio_net *net)
{
	for (unsigned p = 0; p < net->nr_pairs; p++) {
		net_rx_cancel(&net->rxq[p]);
		irq_hold_cancel(&net->rxq[p].hold, net->loop);
		irq_hold_cancel(&net->txq[p].hold, net->loop);
		net_tx_cancel(&net->txq[p]);
	}
}

/* A reset is waiting: take back the guest's buffers from the backend. */
static void net_wake(void *opaque)
{
	struct virtio_net *net = opaque;

	pthread_mutex_lock(&net->dev.lock);
	if (net->quiescing)
		cancel_backend_ops(net);
	pthread_mutex_unlock(&net->dev.lock);
}

static void link_arm(struct virtio_net *net)
{
	struct io_uring_sqe *sqe = io_loop_sqe(net->loop, &net->link.op);
	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, net->be.link_fd, POLLIN);
	net->link.armed = true;
}

static void set_link(struct virtio_net *net, bool up)
{
	uint16_t status = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (le16toh(net->config.status) == status)
		return;
	net->config.status = htole16(status);
	virtio_dev_config_changed(&net->dev);
}

static void link_done(struct io_op *op, int res)
{
	struct virtio_net *net = ((struct net_link_watch *)op)->net;

	pthread_mutex_lock(&net->dev.lock);
	net->link.armed = false;
	if (res >= 0 && !net->stopping) {
		set_link(net, net->be.ops->poll_link(net->be.opaque));
		link_arm(net);
	}
	pthread_mutex_unlock(&net->dev.lock);
}

void virtio_net_cancel_all(struct virtio_net *net)
{
	pthread_mutex_lock(&net->dev.lock);
	net->stopping = true;
	cancel_backend_ops(net);
	if (net->link.armed)
		io_loop_cancel(net->loop, &net->link.op);
	pthread_mutex_unlock(&net->dev.lock);
}

static void net_stop(void *opaque)
{
	virtio_net_cancel_all(opaque);
}

static const struct virtio_dev_ops net_ops = {
	.config_write = net_config_write,
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
};

static uint64_t net_features(const struct virtio_net *net)
{
	uint64_t f = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
		     1ull << VIRTIO_NET_F_MRG_RXBUF |
		     1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (net->be.offloads)
		f |= 1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_GUEST_CSUM |
		     1ull << VIRTIO_NET_F_HOST_TSO4 |
		     1ull << VIRTIO_NET_F_HOST_TSO6 |
		     1ull << VIRTIO_NET_F_HOST_ECN |
		     1ull << VIRTIO_NET_F_GUEST_TSO4 |
		     1ull << VIRTIO_NET_F_GUEST_TSO6 |
		     1ull << VIRTIO_NET_F_GUEST_ECN;
	if (net->nr_pairs > 1)
		f |= 1ull << VIRTIO_NET_F_CTRL_VQ | 1ull << VIRTIO_NET_F_MQ;
	return f;
}

/* Chains' buffer arrays, allocated once: serving a frame allocates
 * nothing. */
static int alloc_queues(struct virtio_net *net)
{
	unsigned size = net->queue_size, pairs = net->nr_pairs;
	/* Per pair: rx chains + scratch, tx requests + scratch; + ctrl. */
	size_t per_pair = 2 * ((size_t)size + 1) * NET_CHAIN_IOV;
	net->vqs = calloc(net->nr_vqs, sizeof(*net->vqs));
	net->iov_pool = calloc(pairs * per_pair + NET_CHAIN_IOV, sizeof(struct iovec));
	if (!net->vqs || !net->iov_pool)
		return -1;
	struct iovec *iov = net->iov_pool;
	for (unsigned p = 0; p < pairs; p++) {
		struct net_rxq *rq = &net->rxq[p];
		struct net_txq *tq = &net->txq[p];
		rq->net = tq->net = net;
		rq->pair = tq->pair = p;
		rq->chains = calloc(size, sizeof(*rq->chains));
		rq->spare = calloc(size, sizeof(*rq->spare));
		rq->bounce = malloc(VIRTIO_NET_HDR_LEN + NET_MAX_FRAME);
		tq->reqs = calloc(size, sizeof(*tq->reqs));
		tq->waiting = calloc(size, sizeof(*tq->waiting));
		if (!rq->chains || !rq->spare || !rq->bounce || !tq->reqs || !tq->waiting)
			return -1;
		rq->poll = (struct net_poll){ .op.done = net_rx_poll_done, .q = rq };
		rq->hold = (struct irq_hold){ .op.done = net_rx_hold_done, .owner = rq };
		tq->poll = (struct net_poll){ .op.done = net_tx_poll_done, .q = tq };
		tq->hold = (struct irq_hold){ .op.done = net_tx_hold_done, .owner = tq };
		rq->scratch = (struct vq_chain){ .iov = iov, .max_iov = NET_CHAIN_IOV };
		iov += NET_CHAIN_IOV;
		tq->scratch = (struct vq_chain){ .iov = iov, .max_iov = NET_CHAIN_IOV };
		iov += NET_CHAIN_IOV;
		for (unsigned i = 0; i < size; i++) {
			rq->chains[i] = (struct vq_chain){ .iov = iov, .max_iov = NET_CHAIN_IOV };
			iov += NET_CHAIN_IOV;
			tq->reqs[i].q = tq;
			tq->reqs[i].chain = (struct vq_chain){ .iov = iov, .max_iov = NET_CHAIN_IOV };
			iov += NET_CHAIN_IOV;
		}
	}
	net->ctrl_chain = (struct vq_chain){ .iov = iov, .max_iov = NET_CHAIN_IOV };
	return 0;
}

static void free_net(struct virtio_net *net)
{
	for (unsigned p = 0; p < VIRTIO_NET_MAX_PAIRS; p++) {
		free(net->rxq[p].chains);
		free(net->rxq[p].spare);
		free(net->rxq[p].bounce);
		free(net->txq[p].reqs);
		free(net->txq[p].waiting);
	}
	if (net->wake_fd >= 0)
		close(net->wake_fd);
	free(net->vqs);
	free(net->iov_pool);
	free(net->name);
	free(net);
}

int virtio_net_create(struct virtio_net **out, const struct net_backend *be,
		      const uint8_t mac[6], unsigned queue_size,
		      const char *name, const struct guest_mem *mem,
		      struct io_loop *loop, struct phy_error *err)
{
	if (queue_size < 2 || queue_size > VQ_MAX_SIZE || (queue_size & (queue_size - 1)))
		return phy_err(err, PHY_E_INVALID,
			       "--net: queue_size=%u is not a power of two", queue_size);
	if (be->nr_pairs < 1 || be->nr_pairs > VIRTIO_NET_MAX_PAIRS)
		return phy_err(err, PHY_E_INVALID, "--net: %u queue pairs", be->nr_pairs);

	struct virtio_net *net = calloc(1, sizeof(*net));
	if (!net)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	net->wake_fd = -1;
	net->be = *be;
	net->loop = loop;
	net->mem = mem;
	net->nr_pairs = be->nr_pairs;
	net->nr_vqs = 2 * be->nr_pairs + (be->nr_pairs > 1);
	net->queue_size = (uint16_t)queue_size;
	net->active_pairs = 1;
	net->rx_need = rx_need(net, 0);
	net->hold_us = NET_HOLD_US;
	net->rx_pace_us = NET_RX_PACE_US;
	net->link.net = net;
	net->link.op.done = link_done;
	net->name = strdup(name);
	net->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!net->name || net->wake_fd < 0 || alloc_queues(net)) {
		free_net(net);
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	}
	memcpy(net->config.mac, mac, 6);
	net->config.status = htole16(be->link_up ? VIRTIO_NET_S_LINK_UP : 0);
	net->config.max_virtqueue_pairs = htole16((uint16_t)net->nr_pairs);
	virtio_dev_init(&net->dev, net->name, VIRTIO_ID_NET, net_features(net),
			NET_CONFIG_SIZE, net->vqs, net->nr_vqs, net->queue_size,
			mem, &net_ops, net);
	net->dev.config = &net->config;
	int r = io_loop_add_flush(loop, net_flush, net, err);
	if (!r)
		r = io_loop_add_stop_hook(loop, net_stop, net, err);
	if (!r)
		r = io_loop_watch_eventfd(loop, net->wake_fd, net_wake, net, err);
	if (r) {
		io_loop_remove_flush(loop, net_flush, net);
		virtio_dev_destroy(&net->dev);
		free_net(net);
		return r;
	}
	if (be->link_fd >= 0)
		link_arm(net);
	*out = net;
	return 0;
}

struct virtio_dev *virtio_net_dev(struct virtio_net *net)
{
	return &net->dev;
}

unsigned virtio_net_inflight(struct virtio_net *net)
{
	pthread_mutex_lock(&net->dev.lock);
	unsigned n = net->inflight + net->link.armed;
	pthread_mutex_unlock(&net->dev.lock);
	return n;
}

void virtio_net_destroy(struct virtio_net *net)
{
	if (!net)
		return;
	io_loop_remove_flush(net->loop, net_flush, net);
	io_loop_remove_stop_hook(net->loop, net_stop, net);
	virtio_dev_destroy(&net->dev);
	free_net(net);
}
