/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-net (virtio 1.2 § 5.1) on a backend that speaks virtio-net
 * headers: a tap with IFF_VNET_HDR, or a socketpair in tests. Frames move
 * on the device loop's thread: the transmit path writes each chain from
 * guest memory with one writev, the receive path reads each frame with
 * one readv straight into the guest's next chain (with mergeable buffers
 * the rest of a longer frame goes through a bounce buffer into further
 * chains), the loop's io_uring polls the backend when it is not ready,
 * and the interrupt for a queue goes once per completion batch.
 *
 * When the guest has no receive buffers the device stops reading: frames
 * wait in the backend (the tap's queue), and reading resumes when the
 * guest adds buffers. Malformed frames and chains are dropped and counted
 * (struct phy_net_queue_stats); only a malformed ring needs a reset.
 *
 * Threads: as virtio-blk. Queue work, completions and link changes run
 * on the loop thread; the transport calls the virtio_dev ops on vCPU
 * threads with dev->lock held. A reset cancels the queues' polls on the
 * tap and waits for them, so the loop must be running (or be driven)
 * meanwhile.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_NET_H
#define PHY_DEVICES_VIRTIO_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

#define VIRTIO_NET_MAX_PAIRS 8
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */

struct io_loop;
struct virtio_net;

/* What the device needs from the other end of the wire. */
struct net_backend_ops {
	/* Offloads for frames towards the guest, from its features. */
	int (*set_offload)(void *opaque, uint64_t guest_features);
	/* Frames should arrive on the first `pairs` fds only. */
	int (*set_queues)(void *opaque, unsigned pairs);
	/* link_fd was readable: drain it; returns whether the link is up. */
	bool (*poll_link)(void *opaque);
};

struct net_backend {
	int fds[VIRTIO_NET_MAX_PAIRS]; /* one per queue pair */
	unsigned nr_pairs;
	bool offloads; /* takes checksum/TSO offloads both ways */
	bool link_up;
	int link_fd;   /* readable when the link may have changed; -1: none */
	/* nr_pairs entries, relaxed atomics; they outlive the device. */
	struct phy_net_queue_stats *stats;
	const struct net_backend_ops *ops;
	void *opaque;
};

/*
 * Creates the device: be->nr_pairs queue pairs (plus a control queue when
 * there are several) of up to queue_size entries. `be`'s contents, mem and
 * loop must outlive the device; `name` is copied. Registers the loop's
 * hooks: call before the loop thread starts.
 */
int virtio_net_create(struct virtio_net **out, const struct net_backend *be,
		      const uint8_t mac[6], unsigned queue_size,
		      const char *name, const struct guest_mem *mem,
		      struct io_loop *loop, struct phy_error *err);

struct virtio_dev *virtio_net_dev(struct virtio_net *net);

/* Operations posted and not yet completed (reads, writes, link watch). */
unsigned virtio_net_inflight(struct virtio_net *net);

/* Cancels every posted operation (what the loop's stop hook does); loop
 * thread. Drive the loop until virtio_net_inflight() is 0 afterwards. */
void virtio_net_cancel_all(struct virtio_net *net);

/* Frees the device; nothing may be in flight (stop the loop first). */
void virtio_net_destroy(struct virtio_net *net);

#endif
