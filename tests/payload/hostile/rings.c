/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Malformed rings: descriptors outside RAM, in the MMIO holes or wrapping
 * the address space, lengths 0 and 2^32-1, loops in chains, indirect
 * tables that nest or loop, an available index far ahead, queue sizes
 * that are not powers of two, queues enabled at bad addresses, and resets
 * while requests are in flight. Each attack starts from a freshly reset
 * device (devbench's virtio_init) and leaves it to settle.
 */
#include "hostile.h"

#define DESC_F_INDIRECT 4
#define RINGS SCRATCH		   /* three queues' rings */
#define TABLES (SCRATCH + 0x10000) /* indirect tables */
#define BUFS (SCRATCH + 0x100000)  /* request buffers */

static struct vring_mem *const rings = (struct vring_mem *)RINGS;

/* No device may be pointed at the image: a range that would reach into
 * it is moved above, one that wraps the address space is cut at its top. */
static void safe_range(uint64_t *addr, uint32_t *len)
{
	if (*addr<IMAGE_END && * addr + *len> 0x100000)
		*addr += IMAGE_END;
	uint64_t end = *addr + *len;
	if (end < *addr && end > 0x100000)
		*len = (uint32_t)(~*addr);
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	safe_range(&addr, &len);
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Plausible requests where a buffer lands in scratch: the device's own
 * command codes, the rest edge values. The balloon's buffers are pfns:
 * they stay the scratch fill, all outside RAM. */
static void plant(uint16_t id, uint64_t a, uint32_t len)
{
	static const uint32_t blk[] = {0, 1, 4, 8, 11, 13, 0xffffffff};
	static const uint32_t gpu[] = {0x100, 0x101, 0x102, 0x103, 0x104,
				       0x105, 0x106, 0x107, 0x108, 0x109,
				       0x10a, 0x10b, 0x300, 0x301, 0x1200};
	if (id == 0x1045 || a < SCRATCH || a > RAM_END - len || len < 8)
		return;
	uint32_t *p = (uint32_t *)a;
	for (uint32_t i = 0; i < len / 4; i++)
		p[i] = hrand() & 1 ? (uint32_t)hvalue()
				   : (uint32_t)(hrand() % 16);
	if (id == 0x1042)
		p[0] = blk[hrand() % ARRAY_SIZE(blk)];
	else if (id == 0x1050)
		p[0] = gpu[hrand() % ARRAY_SIZE(gpu)];
	else if (id == 0x1053 && len >= 44) {
		/* A stream packet to host CID 2, mostly a connection request
		 * to port 1234, where test-hostile.sh listens, then anything
		 * on the same ports with a small len. */
		p[0] = 3, p[1] = 0, p[2] = 2, p[3] = 0;
		p[4] = (uint32_t)(hrand() % 2);
		if (hrand() & 1)
			p[5] = 1234;
		if (hrand() & 1)
			p[6] = (uint32_t)(hrand() % 64);
		uint32_t op = hrand() & 1 ? 1 : 1 + (uint32_t)(hrand() % 7);
		p[7] = 1u | op << 16;
	}
}

static void plant_header(uint16_t id, uint64_t a)
{
	plant(id, a, 64);
}

static void random_desc(uint16_t id, struct vring_desc *d, uint16_t size)
{
	uint64_t a = haddr();
	plant_header(id, a);
	set_desc(d, a, hlen(), (uint16_t)(hrand() & 7),
		 (uint16_t)(hrand() % (size + 2u)));
}

static void kick(struct virtq *q)
{
	*(volatile uint16_t *)&q->ring->avail.idx = q->avail_idx;
	mb();
	wr16(q->notify, q->index);
}

static void attack_random(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	(void)d;
	for (unsigned i = 0, n = 1 + hrand() % 8; i < n; i++) {
		uint16_t h = (uint16_t)(hrand() % q->size);
		random_desc(id, &q->ring->desc[h], q->size);
		vq_add(q, hrand() & 7 ? h : (uint16_t)hrand());
	}
	kick(q);
}

static void attack_loop(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	(void)d;
	unsigned n = 1 + hrand() % 3;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = BUFS + 4096 * i;
		plant_header(id, a);
		set_desc(&q->ring->desc[i], a, 512,
			 (uint16_t)(DESC_F_NEXT | (hrand() & DESC_F_WRITE)),
			 (uint16_t)((i + 1) % n));
	}
	vq_add(q, 0);
	kick(q);
}

static void attack_indirect(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	(void)d;
	static const uint32_t lens[] = {0, 15, 16, 24, 0xffffffff};
	struct vring_desc *t = (struct vring_desc *)TABLES;
	unsigned n = 1 + hrand() % 8;
	for (unsigned i = 0; i < n; i++) {
		if (hrand() % 3 == 0) /* nested, or the table itself */
			set_desc(&t[i], TABLES, 16 * n,
				 (uint16_t)(DESC_F_INDIRECT | (hrand() & 3)),
				 (uint16_t)(hrand() % n));
		else
			random_desc(id, &t[i], (uint16_t)n);
		if (hrand() & 1) /* a loop back to the start */
			t[i].next = (uint16_t)((i + 1) % n),
			t[i].flags |= DESC_F_NEXT;
	}
	uint32_t len = hrand() & 1 ? 16 * n : lens[hrand() % ARRAY_SIZE(lens)];
	set_desc(&q->ring->desc[0], TABLES, len,
		 (uint16_t)(DESC_F_INDIRECT | (hrand() & 3)), 1);
	random_desc(id, &q->ring->desc[1], q->size);
	vq_add(q, 0);
	kick(q);
}

static void attack_avail_jump(uint16_t id, struct virtio_dev *d,
			      struct virtq *q)
{
	(void)d;
	for (unsigned i = 0; i < q->size; i++)
		q->ring->avail.ring[i] = (uint16_t)hrand();
	random_desc(id, &q->ring->desc[0], q->size);
	q->avail_idx = (uint16_t)(q->avail_idx + 0x100 + hrand() % 0xff00);
	kick(q);
}

/* Well-formed chains of plausible requests: what gets past the ring's
 * checks into the device's own parsing. Three shapes: a request (readable
 * header, data either way, a writable answer), a transmission (all
 * readable) and a receive buffer (all writable). */
static void attack_plausible(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	(void)d;
	for (unsigned k = 0, n = 1 + hrand() % 4; k < n; k++) {
		struct vring_desc *dt = &q->ring->desc[3 * k];
		uint64_t req = BUFS + 0x10000 * k, data = req + 0x1000;
		uint32_t len = 16 + (uint32_t)(hrand() % 1024), dlen = hlen();
		unsigned shape = (unsigned)(hrand() % 3);
		uint16_t w = shape == 2 ? DESC_F_WRITE : 0;
		if (dlen > 0x8000)
			dlen = 0x8000;
		plant(id, req, len);
		plant(id, data, dlen);
		set_desc(&dt[0], req, len, (uint16_t)(DESC_F_NEXT | w),
			 (uint16_t)(3 * k + 1));
		if (shape == 0 && (hrand() & 1))
			w = DESC_F_WRITE;
		set_desc(&dt[1], data, dlen,
			 (uint16_t)(w | (shape == 1 ? 0 : DESC_F_NEXT)),
			 (uint16_t)(3 * k + 2));
		set_desc(&dt[2], req + 0x9000, 1 + (uint32_t)(hrand() % 4096),
			 DESC_F_WRITE, 0);
		vq_add(q, (uint16_t)(3 * k));
	}
	kick(q);
}

/* The queue set up by hand: a size and addresses of the attack's choice. */
static void setup_raw(struct virtio_dev *d, struct virtq *q, uint16_t size,
		      uint64_t desc, uint64_t avail, uint64_t used)
{
	uint64_t c = d->common;
	wr8(c + CC_STATUS, 0);
	wr8(c + CC_STATUS, DEV_ACK | DEV_DRIVER);
	wr32(c + CC_GFSELECT, 1);
	wr32(c + CC_GF, 1); /* VERSION_1 */
	wr8(c + CC_STATUS, DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK);
	wr16(c + CC_Q_SELECT, q->index);
	wr16(c + CC_Q_SIZE, size);
	const uint64_t regs[] = {CC_Q_DESC, CC_Q_AVAIL, CC_Q_USED};
	const uint64_t vals[] = {desc, avail, used};
	for (unsigned i = 0; i < 3; i++) {
		wr32(c + regs[i], (uint32_t)vals[i]);
		wr32(c + regs[i] + 4, (uint32_t)(vals[i] >> 32));
	}
	guard_queue(c);
	wr16(c + CC_Q_ENABLE, 1);
	wr8(c + CC_STATUS,
	    DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK | DEV_DRIVER_OK);
	cnt.accesses += 12;
}

static void attack_qsize(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	static const uint16_t sizes[] = {0,   1,   3,	   100,
					 255, 257, 0x8000, 0xffff};
	struct vring_mem *r = q->ring;
	setup_raw(d, q, sizes[hrand() % ARRAY_SIZE(sizes)], (uintptr_t)r->desc,
		  (uintptr_t)&r->avail, (uintptr_t)&r->used);
	for (unsigned i = 0; i < 4; i++)
		random_desc(id, &r->desc[i], 4);
	r->avail.ring[0] = 0;
	q->avail_idx = (uint16_t)(1 + hrand() % 4);
	kick(q);
}

static uint64_t bad_ring_addr(void)
{
	uint64_t a = haddr() + (hrand() & 1); /* sometimes unaligned */
	uint32_t len = 4096;
	safe_range(&a, &len);
	return a;
}

static void attack_bad_addr(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	(void)id;
	setup_raw(d, q, q->size, bad_ring_addr(), bad_ring_addr(),
		  bad_ring_addr());
	q->avail_idx = (uint16_t)hrand();
	wr16(q->notify, q->index);
}

/* A plausible request, then the device reset under it. */
static void attack_reset(uint16_t id, struct virtio_dev *d, struct virtq *q)
{
	plant_header(id, BUFS);
	set_desc(&q->ring->desc[0], BUFS, 16, DESC_F_NEXT, 1);
	set_desc(&q->ring->desc[1], BUFS + 4096, 1u << 20,
		 (uint16_t)(DESC_F_NEXT | (hrand() & DESC_F_WRITE)), 2);
	set_desc(&q->ring->desc[2], BUFS + 64, 1, DESC_F_WRITE, 0);
	vq_add(q, 0);
	kick(q);
	for (uint64_t i = hrand() % 5000; i; i--)
		barrier();
	wr8(d->common + CC_STATUS, 0);
}

/* All words with the top bit set: as pfns, as lengths and as addresses
 * everything a device might read from scratch is far outside RAM. */
static void fill_scratch(void)
{
	uint32_t *p = (uint32_t *)SCRATCH;
	for (uint64_t i = 0; i < (RAM_END - SCRATCH) / 4; i++)
		p[i] = (uint32_t)hrand() | 0x80000000u;
}

/* The queues attacked and the features asked for, so that the paths
 * behind them run: the offloads' headers of virtio-net, indirect tables
 * everywhere, the balloon's statistics queue. */
static void profile(uint16_t id, unsigned *nq, uint64_t *want)
{
	*want = 1ull << 28; /* INDIRECT_DESC */
	*nq = 2;
	if (id == 0x1042 || id == 0x1044)
		*nq = 1;
	if (id == 0x1045 || id == 0x1053)
		*nq = 3;
	if (id == 0x1045)
		*want |= 1ull << 1; /* STATS_VQ */
	if (id == 0x1041)	    /* CSUM, GUEST_CSUM, TSO, ECN, MRG_RXBUF */
		*want |= 0xbb83ull;
}

static int present(uint16_t id)
{
	for (unsigned i = 0; i < nr_fns; i++)
		if (fns[i].device == id && (fns[i].saved[0] & 0xffff) == 0x1af4)
			return 1;
	return 0;
}

/* Until the device uses a buffer, asks for a reset or was reset, for up
 * to 2^19 polls (a millisecond or so: a sanitizer build's device loop may
 * need that long to get to a request). */
static void settle(struct virtio_dev *d, struct virtq *q)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < (1u << 19) && vq_used_idx(q) == q->last_used;
	     i++) {
		if (i & 0x3fff) /* a status read is an exit: ~40 us */
			continue;
		s = rd8(d->common + CC_STATUS);
		if ((s & DEV_NEEDS_RESET) || !(s & DEV_DRIVER_OK))
			break;
	}
	if (rd8(d->common + CC_STATUS) & DEV_NEEDS_RESET)
		cnt.needs_reset++;
}

typedef void attack_fn(uint16_t id, struct virtio_dev *d, struct virtq *q);
static attack_fn *const attacks[] = {
	attack_random,	 attack_avail_jump, attack_loop,
	attack_indirect, attack_qsize,	    attack_bad_addr,
	attack_reset,	 attack_plausible,  attack_plausible,
};

void fuzz_rings(uint16_t id, uint64_t n)
{
	unsigned nq;
	uint64_t want;
	if (!present(id))
		return;
	profile(id, &nq, &want);
	fill_scratch();
	for (uint64_t k = 0; k < n; k++) {
		static struct virtio_dev d;
		memset(&d, 0, sizeof(d));
		memset(rings, 0, VIRTIO_QUEUES_MAX * sizeof(*rings));
		virtio_init(&d, id, want, nq, rings);
		struct virtq *q = &d.q[hrand() % nq];
		if (id == 0x1050 && q->index == 0 && hrand() % 3 == 0)
			gpu_sequence(q);
		else
			attacks[hrand() % ARRAY_SIZE(attacks)](id, &d, q);
		cnt.rings++;
		settle(&d, q);
		gpu_answers();
	}
}
