/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What virtio_vsock.c (the queues and the packets) and
 * virtio_vsock_conn.c (the connections and their host sockets) share.
 * Everything here runs under v->dev.lock.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_VSOCK_INT_H
#define PHY_DEVICES_VIRTIO_VIRTIO_VSOCK_INT_H

#include <sys/queue.h>
#include <sys/uio.h>

#include <linux/time_types.h>
#include <linux/virtio_vsock.h>

#include "common/io_loop.h"
#include "devices/virtio/virtio_vsock.h"

#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2
#define VSOCK_NR_QUEUES 3
#define VSOCK_HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define VSOCK_MAX_IOV 64
#define VSOCK_MAX_RSTS 64 /* RST replies waiting for an rx buffer */

/* Control packets a connection owes the guest (conn.pend). */
enum {
	PEND_REQUEST = 1 << 0,
	PEND_RESPONSE = 1 << 1,
	PEND_SHUTDOWN = 1 << 2,
	PEND_CREDIT = 1 << 3,
};

enum conn_state {
	CONN_LINE,        /* host socket accepted, reading CONNECT <port> */
	CONN_CONNECTING,  /* REQUEST sent to the guest, RESPONSE awaited */
	CONN_ESTABLISHED,
	CONN_DEAD,        /* socket closed, polls being cancelled */
};

struct vsock_conn;

struct vsock_op {
	struct io_op op;
	struct virtio_vsock *v;
	struct vsock_conn *conn; /* NULL: the listener's, the timer's */
	bool busy;
	bool cancelled; /* a cancel is on its way for the busy op */
};

struct vsock_conn {
	TAILQ_ENTRY(vsock_conn) link;  /* v->conns, or v->dead */
	TAILQ_ENTRY(vsock_conn) ready; /* v->ready while on_ready */
	bool on_ready;
	struct virtio_vsock *v;
	int fd;
	enum conn_state state;
	uint32_t guest_port, host_port;
	uint64_t deadline_ns; /* 0: none */
	struct vsock_op rd, wr;
	char line[VIRTIO_VSOCK_MAX_LINE]; /* CONN_LINE: what came of it */
	uint8_t line_len;
	unsigned pend;
	bool host_eof;       /* the host socket read its end */
	bool guest_no_send;  /* guest's SHUTDOWN SEND */
	bool guest_no_rcv;   /* guest's SHUTDOWN RCV */
	bool host_shut_wr;   /* shutdown(SHUT_WR) done on the socket */
	/* Credit: the guest's, and what we sent it. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Ours: bytes written to the host socket, and what the guest knows. */
	uint32_t fwd_cnt, fwd_cnt_sent;
	/* Guest data not yet written to the host socket: a ring of
	 * v->buf_alloc bytes, allocated at the first need. */
	uint8_t *buf;
	uint32_t buf_head, buf_len;
};

struct vsock_rst {
	uint32_t guest_port, host_port;
};

TAILQ_HEAD(conn_list, vsock_conn);

struct virtio_vsock {
	struct virtio_dev dev;
	struct virtqueue vqs[VSOCK_NR_QUEUES];
	uint8_t config[8]; /* le64 guest_cid */
	const struct guest_mem *mem;
	struct io_loop *loop;
	char *name, *path;
	int listen_fd, wake_fd;
	uint64_t cid;
	uint32_t buf_alloc, timeout_ms;
	unsigned max_conns;

	struct vsock_op accept_op, timer_op;
	struct __kernel_timespec ts;
	struct conn_list conns, dead, ready;
	unsigned nr_conns;
	uint32_t next_port;
	struct vsock_rst rsts[VSOCK_MAX_RSTS];
	unsigned nr_rsts;
	bool event_pending; /* a transport reset event not yet posted */
	bool dirty[VSOCK_NR_QUEUES];
	bool stopping;
	bool wake_watched; /* wake_fd is on the loop: a reset may use it */
	struct vq_chain chain;
	struct iovec iov[VSOCK_MAX_IOV];
	struct virtio_vsock_stats st;
};

bool vsock_serving(const struct virtio_vsock *v);
void vsock_fill_rx(struct virtio_vsock *v);
void vsock_queue_rst(struct virtio_vsock *v, uint32_t guest_port,
		     uint32_t host_port);

/* virtio_vsock_conn.c */
struct vsock_conn *conn_find(struct virtio_vsock *v, uint32_t guest_port,
			     uint32_t host_port);
struct vsock_conn *conn_new(struct virtio_vsock *v, int fd);
/* Closes the socket; with rst, the guest is sent RST. */
void conn_kill(struct vsock_conn *c, bool rst);
void conn_kill_all(struct virtio_vsock *v, bool from_loop);
void conn_reap(struct virtio_vsock *v);
void conn_cancel_all(struct virtio_vsock *v);
/* Puts c on the ready list when it owes the guest a packet or may read. */
void conn_kick(struct vsock_conn *c);
bool conn_wants_read(const struct vsock_conn *c);
uint32_t conn_peer_credit(const struct vsock_conn *c);
/* Data from the guest (len bytes of iov at off). */
void conn_deliver(struct vsock_conn *c, const struct iovec *iov, unsigned nr,
		  size_t off, uint32_t len);
/* The guest's RESPONSE to our REQUEST: tell the host program. */
void conn_established(struct vsock_conn *c);
/* Closes c when both directions are done. */
void conn_check_done(struct vsock_conn *c);
void conn_flush(struct vsock_conn *c);
void conn_arm_read(struct vsock_conn *c);
void vsock_arm_accept(struct virtio_vsock *v);
void vsock_arm_timer(struct virtio_vsock *v);
void vsock_accept_done(struct io_op *op, int res);
void vsock_timer_done(struct io_op *op, int res);

/* Copies up to max bytes of iov[0..nr) from off into out (at most
 * out_max entries); returns the entries used. */
unsigned vsock_iov_slice(const struct iovec *iov, unsigned nr, size_t off,
			 size_t max, struct iovec *out, unsigned out_max);

#endif
