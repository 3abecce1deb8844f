/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What virtio_net.c (device, features, config, reset, link),
 * virtio_net_rx.c, virtio_net_tx.c and virtio_net_ctrl.c share.
 * Everything here is guarded by dev.lock.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_NET_INTERNAL_H
#define PHY_DEVICES_VIRTIO_VIRTIO_NET_INTERNAL_H

#include <linux/time_types.h>
#include <linux/virtio_net.h>

#include "devices/virtio/irq_hold.h"
#include "devices/virtio/virtio_net.h"
#include "common/io_loop.h"

/* Buffers one chain may have. Linux uses at most MAX_SKB_FRAGS + 2. */
#define NET_CHAIN_IOV 64
/* Frames one receive queue reads before the loop's other work goes first
 * (virtio_net_rx.c). */
#define NET_RX_BUDGET 64
/* Transmitted chains a queue returns before it publishes the used index,
 * which it also does at the end of each pass (vq_push_batch()): as
 * vhost-net's VHOST_NET_BATCH. Receive publishes each frame at once: a
 * batch there was 3-6% slower (docs/performance.md). */
#define NET_TX_USED_BATCH 64
/* ... or once the chains held back carry this many frame bytes: a
 * driver with only a few large (TSO) frames out would otherwise get
 * none back before the device wrote them all, and the tap would idle
 * while it refilled and kicked (devbench's 64 KiB net-tx-tso, 64 in
 * flight: 1.08-1.10x, kicks 0.016 to 0 per frame). */
#define NET_TX_USED_BYTES (256u << 10)
/* A receive pass that read at least NET_RX_PACE_MIN frames before the
 * backend ran dry is part of a stream: the queue reads again after
 * NET_RX_PACE_US rather than at the backend's next frame, so a wake-up
 * takes a batch, not the one or two frames that came meanwhile. So is a
 * pass of one frame that follows another pass's frames within the pause
 * while the guest sent nothing: a one-way stream whose sender, sharing
 * a CPU with the device thread, hands it frames one by one. A request
 * and its answer alternate directions, and sparse traffic comes further
 * apart: their frames poll as before and wait for nothing. devbench's
 * net-rx-64: 3 frames a wake-up and 1.6 system calls a frame before;
 * 1.96x the frames at 50 us, 1.42x at 20 us. net-rx (1514 bytes): a
 * wake-up per frame for a fifth of them until one-frame passes paced
 * too (docs/performance.md). */
#define NET_RX_PACE_MIN 2
#define NET_RX_PACE_US 50
/* Chains one received frame may span (num_buffers). */
#define NET_RX_FRAME_CHAINS 256
/* The largest frame either way: a 64 KiB GSO frame with its Ethernet
 * and VLAN headers. */
#define NET_MAX_FRAME (65535u + 18u)

/* Interrupt moderation against a stream (virtio_net_irq.c): an
 * interrupt waits at most this long, or until this many frames are used,
 * once the other direction of the pair moved this much since. */
#ifndef NET_HOLD_US
#define NET_HOLD_US 2000
#endif
#define NET_HOLD_FRAMES 8
#define NET_HOLD_STREAM_BYTES (16u * 1024)

struct net_rxq;

/* A poll on the backend for a queue whose read or write found it not
 * ready (EAGAIN: the tap's fds are non-blocking, and the device thread
 * reads and writes them itself), or whose read used up its budget. The
 * poll holds the queue's slot (inflight) while armed. */
struct net_poll {
	struct io_op op;
	void *q;
	struct __kernel_timespec ts; /* a paced read's wait (NET_RX_PACE_US) */
	bool busy;
};

/* A read of the backend: into the guest's next chain, and with mergeable
 * buffers on into the queue's bounce buffer for what does not fit there.
 * A frame that went past the chain waits here (frame > 0) until the ring
 * has the chains to take the rest. */
struct net_rx_read {
	unsigned nr_chains, nr_iov;
	uint32_t direct;   /* bytes the first chain takes straight from the read */
	uint64_t capacity; /* bytes the read can take: direct + bounce */
	uint32_t frame;    /* a frame longer than direct, waiting for chains */
	uint64_t held;     /* bytes the chains held so far can take */
	uint16_t heads[NET_RX_FRAME_CHAINS];
	struct iovec iov[NET_CHAIN_IOV + 1];
};

struct net_rxq {
	struct virtio_net *net;
	unsigned pair;
	struct vq_chain *chains; /* by head: popped chains' buffers */
	struct vq_chain scratch; /* vq_pop() target, swapped into chains[] */
	/* Chains taken off the ring and not yet in a read, oldest first (a
	 * ring of heads): they go into the next read. */
	uint16_t *spare;
	unsigned spare_first, spare_count;
	/* The rest of a frame longer than the chain it was read into; read
	 * there so that a small frame costs the backend one buffer and the
	 * loop one chain, not the 64 KiB of chains the largest one needs. */
	uint8_t *bounce;
	struct net_rx_read read; /* frame > 0: its frame waits for chains */
	struct net_poll poll;
	unsigned inflight; /* 0 or 1: the poll for the backend's next frame */
	bool paced;   /* ... which is a wait of rx_pace_us, then a read */
	bool stalled; /* the backend refused reads: wait for the driver */
	/* The last pass that ran the backend dry: when, its frames, and the
	 * frames the pair had sent by then (struct net_txq's frames). */
	uint64_t dry_ns, dry_tx;
	unsigned dry_frames;
	struct irq_hold hold; /* its interrupt (virtio_net_irq.c) */
	uint64_t received_since_tx; /* frame bytes since the pair's last tx interrupt */
};

struct net_tx_req {
	struct net_txq *q;
	struct vq_chain chain;
	uint32_t len; /* frame bytes after the header */
};

struct net_txq {
	struct virtio_net *net;
	unsigned pair;
	struct net_tx_req *reqs; /* by head */
	struct vq_chain scratch;
	struct net_poll poll;
	unsigned inflight; /* 0 or 1: the poll for room on the tap */
	/* Frames taken off the ring and waiting for the write before them,
	 * oldest first (a ring of heads). */
	uint16_t *waiting;
	unsigned waiting_first, waiting_count;
	struct irq_hold hold; /* its interrupt (virtio_net_irq.c) */
	uint64_t sent_since_rx; /* frame bytes since the pair's last rx interrupt */
	uint64_t sent_since_tx; /* ... and since its own last interrupt */
	uint64_t frames; /* written to the backend, ever: a receive stream is one-way while this stays */
	uint32_t unpublished_bytes; /* in the chains used, not yet published */
};

struct net_link_watch {
	struct io_op op;
	struct virtio_net *net;
	bool armed;
};

struct virtio_net {
	struct virtio_dev dev;
	struct net_backend be;
	struct io_loop *loop;
	const struct guest_mem *mem;
	struct virtqueue *vqs; /* rx0, tx0, rx1, tx1, ..., ctrl */
	unsigned nr_pairs, nr_vqs;
	uint16_t queue_size;
	struct net_rxq rxq[VIRTIO_NET_MAX_PAIRS];
	struct net_txq txq[VIRTIO_NET_MAX_PAIRS];
	struct vq_chain ctrl_chain;
	struct iovec *iov_pool;
	struct net_link_watch link;
	int wake_fd;       /* a reset asks the loop to cancel its polls */
	unsigned inflight; /* polls on the backend */
	unsigned active_pairs;
	uint32_t dirty;    /* queues with used entries not yet signalled */
	bool quiescing;
	bool stopping;     /* the loop is stopping: post nothing more */
	bool mergeable;    /* MRG_RXBUF negotiated */
	uint32_t rx_need;  /* bytes a read needs to hold any frame */
	uint32_t hold_us;  /* NET_HOLD_US; 0: no moderation */
	uint32_t rx_pace_us; /* NET_RX_PACE_US; 0: no pacing */
	char *name;
	struct virtio_net_config config; /* as the guest reads it */
};

static inline unsigned net_rx_vq(unsigned pair) { return 2 * pair; }
static inline unsigned net_tx_vq(unsigned pair) { return 2 * pair + 1; }

#define NET_STAT_ADD(field, n) \
	__atomic_fetch_add(&(field), (n), __ATOMIC_RELAXED)

/* virtio_net.c: arms p on fd for `events` (POLLIN, POLLOUT); counts it
 * in flight. Returns false when the ring is full (the next kick or
 * completion tries again). */
bool net_poll_arm(struct virtio_net *net, struct net_poll *p, int fd, unsigned events);
/* Arms p as a wait of `us` microseconds instead (a paced read). */
bool net_poll_arm_wait(struct virtio_net *net, struct net_poll *p, uint32_t us);
/* Takes the poll out of flight after it completed; false when the device
 * is being reset or stopped and the caller must do nothing more. */
bool net_poll_done(struct virtio_net *net, struct net_poll *p, unsigned *q_inflight);
void net_poll_cancel(struct virtio_net *net, struct net_poll *p);

/* virtio_net_rx.c: reads frames while the queue has buffers. */
void net_rx_fill(struct net_rxq *q);
/* Forgets the chains held (reset); no poll may be in flight. */
void net_rx_clear(struct net_rxq *q);
void net_rx_cancel(struct net_rxq *q);
void net_rx_poll_done(struct io_op *op, int res);

/* virtio_net_irq.c: raises rx or tx queue q's interrupt, or holds it for
 * a bounded time while the other direction carries a stream. */
void net_signal(struct virtio_net *net, unsigned q);
void net_rx_hold_done(struct io_op *op, int res);
void net_tx_hold_done(struct io_op *op, int res);

/* virtio_net_tx.c */
void net_tx_drain(struct net_txq *q);
/* Forgets the frames waiting (reset); no write may be in flight. */
void net_tx_clear(struct net_txq *q);
void net_tx_poll_done(struct io_op *op, int res);
void net_tx_cancel(struct net_txq *q);
/* Whether a frame's header is one the device may pass on, given the
 * negotiated features and the frame's length after the header. */
bool net_tx_hdr_ok(const struct virtio_net_hdr_v1 *h, uint64_t features,
		   uint32_t frame_len);

/* virtio_net_ctrl.c */
void net_ctrl_drain(struct virtio_net *net);
/* Makes `pairs` queue pairs active (1..nr_pairs); returns 0 or -1. */
int net_set_active_pairs(struct virtio_net *net, unsigned pairs);

#endif
