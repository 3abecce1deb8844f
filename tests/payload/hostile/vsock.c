/* SPDX-License-Identifier: Apache-2.0 */
/*
 * After its malformed rings, virtio-vsock must still connect: a request
 * to host port 1234 (test-hostile.sh listens there) from a freshly reset
 * device, answered by RESPONSE (or already by the listener's data).
 */
#include "hostile.h"

#define VS (SCRATCH + 0x400000) /* rings, then buffers */
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RW 5

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

void vsock_handshake(void)
{
	static struct virtio_dev d;
	struct vring_mem *rings = (struct vring_mem *)VS;
	struct vsock_hdr *tx = (struct vsock_hdr *)(VS + 0x10000);
	struct vsock_hdr *rx = (struct vsock_hdr *)(VS + 0x11000);
	memset(rings, 0, 2 * sizeof(*rings));
	memset(&d, 0, sizeof(d));
	memset(rx, 0, sizeof(*rx));
	virtio_init(&d, 0x1053, 0, 2, rings);
	rings[0].desc[0] =
		(struct vring_desc){(uintptr_t)rx, 4096, DESC_F_WRITE, 0};
	vq_add(&d.q[0], 0);
	vq_publish(&d.q[0]);
	*tx = (struct vsock_hdr){.src_cid = 3,
				 .dst_cid = 2,
				 .src_port = 77,
				 .dst_port = 1234,
				 .type = 1,
				 .op = OP_REQUEST,
				 .buf_alloc = 65536};
	rings[1].desc[0] =
		(struct vring_desc){(uintptr_t)tx, sizeof(*tx), 0, 0};
	vq_add(&d.q[1], 0);
	vq_publish(&d.q[1]);
	vq_wait_used(&d.q[0], "vsock-no-response");
	if (rx->op != OP_RESPONSE && rx->op != OP_RW)
		fail("vsock-not-connected", rx->op);
	wr8(d.common + CC_STATUS, 0);
	cnt.vsock_connected++;
}
