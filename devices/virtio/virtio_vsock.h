/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-vsock (virtio 1.2 § 5.10) with Cloud Hypervisor's and
 * Firecracker's hybrid host side: the device lives in the VMM and the
 * host end of every connection is a Unix stream socket.
 *
 * - A host program connects to the listening socket (PATH) and sends
 *   `CONNECT <port>\n`; the device sends the guest a REQUEST from a
 *   fresh host port and, once the guest answers RESPONSE, writes
 *   `OK <hostport>\n` on the socket, which then carries the stream. A
 *   line that is garbage, longer than VIRTIO_VSOCK_MAX_LINE or not ended
 *   within VIRTIO_VSOCK_TIMEOUT_MS, and a guest that resets or does not
 *   answer in that time, close the socket.
 * - A guest connecting to host port P (CID 2) gets a connection to the
 *   Unix socket `PATH_P`, or RST when nothing listens there.
 *
 * Queues: rx (0, device to driver), tx (1), event (2); the configuration
 * space is the guest's CID (le64). Stream sockets only.
 *
 * Flow control is the spec's credit: the device tells the guest
 * `buf_alloc` bytes of buffer per connection and counts what it wrote to
 * the host socket (fwd_cnt); data beyond that credit resets the
 * connection. It sends the guest no more than the guest's credit, and
 * stops reading the host socket while that credit is spent, so the host
 * program's writes block in its kernel: neither side buffers without
 * bound. Control packets are flags on their connection, and RST replies
 * to packets of no connection go through a small fixed queue.
 *
 * Malformed packets: a chain shorter than the header, or whose header's
 * len exceeds its buffers, or an rx buffer that is not writable, is a
 * driver error (DEVICE_NEEDS_RESET); a wrong CID, type or op, or a
 * packet for no connection, gets RST.
 *
 * Threads: everything runs on the device loop under dev->lock, except
 * the virtio_dev ops from vCPU threads (dev->lock held). A driver reset
 * closes every connection's socket at once and hands the cancelling of
 * their polls to the loop (an eventfd); no I/O here touches guest memory
 * outside the loop thread holding the lock, so the reset need not wait.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_VSOCK_H
#define PHY_DEVICES_VIRTIO_VIRTIO_VSOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_vsock;

#define VIRTIO_VSOCK_HOST_CID 2
#define VIRTIO_VSOCK_MAX_CID 0xfffffffeull /* 2^32 - 2 */
#define VIRTIO_VSOCK_QUEUE_SIZE 256
#define VIRTIO_VSOCK_BUF_ALLOC (256u * 1024u) /* credit per connection */
#define VIRTIO_VSOCK_MAX_CONNS 1024
#define VIRTIO_VSOCK_MAX_LINE 32        /* "CONNECT 4294967295\n" and room */
#define VIRTIO_VSOCK_TIMEOUT_MS 5000    /* CONNECT line, guest's RESPONSE */
#define VIRTIO_VSOCK_MAX_PKT (64u * 1024u) /* data per packet to the guest */

struct virtio_vsock_params {
	uint64_t guest_cid; /* 3 .. VIRTIO_VSOCK_MAX_CID */
	/* A listening Unix stream socket (PATH); the caller keeps owning
	 * it and closes it after virtio_vsock_destroy(). */
	int listen_fd;
	const char *path;   /* PATH, for PATH_P; copied */
	uint32_t buf_alloc; /* 0: the default */
	unsigned max_conns; /* 0: the default */
	uint32_t timeout_ms; /* 0: the default */
};

/* Creates the device; mem and loop must outlive it. Call before the
 * loop thread starts (it adds hooks and an eventfd). */
int virtio_vsock_create(struct virtio_vsock **out,
			const struct virtio_vsock_params *p, const char *name,
			const struct guest_mem *mem, struct io_loop *loop,
			struct phy_error *err);

struct virtio_dev *virtio_vsock_dev(struct virtio_vsock *v);

struct virtio_vsock_stats {
	uint64_t host_connects;  /* connections the host opened */
	uint64_t guest_connects; /* connections the guest opened */
	uint64_t conns;          /* open now */
	uint64_t rx_bytes;       /* data bytes given to the guest */
	uint64_t tx_bytes;       /* data bytes taken from the guest */
	uint64_t resets;         /* connections ended by RST either way */
	uint64_t bad_packets;    /* packets answered RST: cid, type, op */
};
void virtio_vsock_stats(struct virtio_vsock *v, struct virtio_vsock_stats *st);

/* Ends every connection and posts VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
 * on the event queue (the guest's CID may have changed under it).
 * Loop thread, or before the loop starts. */
void virtio_vsock_transport_reset(struct virtio_vsock *v);

/* With the loop stopped (or never started) and no transport using it.
 * NULL is allowed. */
void virtio_vsock_destroy(struct virtio_vsock *v);

#endif
