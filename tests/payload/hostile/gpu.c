/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-gpu command sequences: well-formed 2D commands (create, attach
 * backing, set scanout, transfer, flush, detach, unref) on a few resource
 * IDs, every size, rectangle, offset and backing entry an edge value, so
 * that the device's own arithmetic is what gets attacked, not only its
 * parsing of the ring.
 */
#include "hostile.h"

#define CMDS (SCRATCH + 0x200000) /* the requests, 4 KiB each */
#define ANSWERS (SCRATCH + 0x300000)

static uint32_t dim(void)
{
	static const uint32_t edge[] = {
		0, 1, 64, 4096, 0xffff, 0x10000, 0x7fffffff, 0xffffffff};
	uint64_t r = hrand();
	return r & 1 ? edge[(r >> 1) % ARRAY_SIZE(edge)]
		     : (uint32_t)(r >> 32) % 2048;
}

/* One command: its words after the 24-byte header. */
static uint32_t command(uint32_t *c, uint32_t type)
{
	static const uint32_t formats[] = {1,  2,   3,	 4, 67,
					   68, 121, 134, 0, 0xffffffff};
	uint32_t n = 6, res = 1 + (uint32_t)(hrand() % 3);
	memset(c, 0, 24);
	c[0] = type;
	switch (type) {
	case 0x101: /* RESOURCE_CREATE_2D: id, format, width, height */
		c[n++] = res;
		c[n++] = formats[hrand() % ARRAY_SIZE(formats)];
		c[n++] = dim();
		c[n++] = dim();
		break;
	case 0x106: { /* RESOURCE_ATTACH_BACKING: id, entries, {addr, len} */
		uint32_t e = (uint32_t)(hrand() % 4);
		c[n++] = res;
		c[n++] = hrand() % 5 ? e : (uint32_t)hvalue();
		for (uint32_t i = 0; i < e; i++) {
			uint64_t a = hrand() & 1 ? CMDS + 0x100000 : haddr();
			uint32_t len = hrand() & 1 ? dim() : hlen();
			if (a < IMAGE_END)
				a += IMAGE_END;
			c[n++] = (uint32_t)a;
			c[n++] = (uint32_t)(a >> 32);
			c[n++] = len;
			c[n++] = 0;
		}
		break;
	}
	case 0x103: /* SET_SCANOUT: rect, scanout, id */
	case 0x104: /* RESOURCE_FLUSH: rect, id */
	case 0x105: /* TRANSFER_TO_HOST_2D: rect, offset, id */
		for (unsigned i = 0; i < 4; i++)
			c[n++] = dim();
		if (type == 0x103)
			c[n++] = (uint32_t)(hrand() % 3);
		if (type == 0x105) {
			uint64_t off = hvalue();
			c[n++] = (uint32_t)off;
			c[n++] = (uint32_t)(off >> 32);
		}
		c[n++] = hrand() % 4 ? res : 0;
		c[n++] = 0;
		break;
	default: /* DETACH_BACKING, UNREF: id */
		c[n++] = res;
		c[n++] = 0;
	}
	return 4 * n;
}

static unsigned gpu_sent;

void gpu_answers(void)
{
	for (unsigned k = 0; k < gpu_sent; k++) {
		uint32_t t = *(volatile uint32_t *)(ANSWERS + 4096 * k);
		if (t >= 0x1100 && t < 0x1200)
			cnt.gpu_ok++;
		else if (t >= 0x1200 && t < 0x1300)
			cnt.gpu_err++;
	}
	gpu_sent = 0;
}

void gpu_sequence(struct virtq *q)
{
	static const uint32_t order[] = {0x101, 0x106, 0x103, 0x105,
					 0x104, 0x107, 0x102};
	unsigned k = 0;
	gpu_sent = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(order) && 2 * k + 1 < q->size;
	     i++) {
		if (hrand() % 5 == 0)
			continue;
		uint32_t *c = (uint32_t *)(CMDS + 4096 * k);
		struct vring_desc *d = &q->ring->desc[2 * k];
		d[0] = (struct vring_desc){(uintptr_t)c, command(c, order[i]),
					   DESC_F_NEXT, (uint16_t)(2 * k + 1)};
		d[1] = (struct vring_desc){ANSWERS + 4096 * k, 4096,
					   DESC_F_WRITE, 0};
		vq_add(q, (uint16_t)(2 * k));
		k++;
	}
	gpu_sent = k;
	*(volatile uint16_t *)&q->ring->avail.idx = q->avail_idx;
	mb();
	wr16(q->notify, q->index);
}
