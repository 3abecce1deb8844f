/* SPDX-License-Identifier: Apache-2.0 */
#include "virtio.h"

#include "rt.h"

#define BAR_WINDOW 0xc0000000ull
#define BAR_WINDOW_END 0xe0000000ull

static uint64_t cfg_addr(unsigned slot, unsigned off)
{
	return ECAM | (uint64_t)slot << 15 | off;
}

static uint8_t cfg8(unsigned slot, unsigned off)
{
	return (uint8_t)(rd32(cfg_addr(slot, off & ~3u)) >> (8 * (off & 3)));
}

/* Shared by every device: BARs are handed out from the bottom up. */
static uint64_t bar_next = BAR_WINDOW;

/* The BAR's address, assigning one from the window if it has none. */
static uint64_t bar_address(struct virtio_dev *d, unsigned bar)
{
	if (bar > 5)
		fail("bad-bar-index", bar);
	if (d->bar[bar])
		return d->bar[bar];
	unsigned off = 0x10 + 4 * bar;
	uint32_t lo = rd32(cfg_addr(d->slot, off));
	int is64 = (lo & 6) == 4;
	if (lo & 1)
		fail("io-bar", bar);
	uint64_t a = lo & ~0xfull;
	if (is64)
		a |= (uint64_t)rd32(cfg_addr(d->slot, off + 4)) << 32;
	if (!a) {
		wr32(cfg_addr(d->slot, off), 0xffffffff);
		uint64_t size =
			~(uint64_t)(rd32(cfg_addr(d->slot, off)) & ~0xfu) + 1;
		size &= 0xffffffffull;
		if (!size)
			fail("bar-size", bar);
		a = (bar_next + size - 1) & ~(size - 1);
		if (a + size > BAR_WINDOW_END)
			fail("bar-window-full", size);
		bar_next = a + size;
		wr32(cfg_addr(d->slot, off), (uint32_t)a);
		if (is64)
			wr32(cfg_addr(d->slot, off + 4), 0);
	}
	d->bar[bar] = a;
	return a;
}

static void find_caps(struct virtio_dev *d)
{
	unsigned ptr = cfg8(d->slot, 0x34) & ~3u;
	for (int n = 0; ptr && n < 48; n++) {
		uint8_t id = cfg8(d->slot, ptr), next = cfg8(d->slot, ptr + 1);
		if (id == 0x09) { /* vendor-specific: virtio_pci_cap */
			uint8_t type = cfg8(d->slot, ptr + 3);
			uint8_t bar = cfg8(d->slot, ptr + 4);
			uint64_t off = rd32(cfg_addr(d->slot, ptr + 8));
			if (type == 1)
				d->common = bar_address(d, bar) + off;
			else if (type == 2) {
				d->notify = bar_address(d, bar) + off;
				d->notify_mult =
					rd32(cfg_addr(d->slot, ptr + 16));
			} else if (type == 4)
				d->device = bar_address(d, bar) + off;
		}
		ptr = next & ~3u;
	}
	/* No device configuration is fine: virtio-rng has none. */
	if (!d->common || !d->notify)
		fail("virtio-caps-missing", d->slot);
}

static void find_function(struct virtio_dev *d, uint16_t id)
{
	for (unsigned slot = 0; slot < 32; slot++)
		if (rd32(cfg_addr(slot, 0)) == ((uint32_t)id << 16 | 0x1af4)) {
			d->slot = slot;
			return;
		}
	fail("no-such-virtio-device-on-bus-0", id);
}

static void wr64(uint64_t a, uint64_t v)
{
	wr32(a, (uint32_t)v);
	wr32(a + 4, (uint32_t)(v >> 32));
}

static void negotiate(struct virtio_dev *d, uint64_t want)
{
	uint64_t c = d->common, have;
	wr32(c + CC_DFSELECT, 0);
	have = rd32(c + CC_DF);
	wr32(c + CC_DFSELECT, 1);
	have |= (uint64_t)rd32(c + CC_DF) << 32;
	if (!(have >> VIRTIO_F_VERSION_1 & 1))
		fail("no-version-1", have);
	want |= 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_RING_EVENT_IDX;
	d->features = have & want;
	wr32(c + CC_GFSELECT, 0);
	wr32(c + CC_GF, (uint32_t)d->features);
	wr32(c + CC_GFSELECT, 1);
	wr32(c + CC_GF, (uint32_t)(d->features >> 32));
	wr8(c + CC_STATUS, DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK);
	if (!(rd8(c + CC_STATUS) & DEV_FEATURES_OK))
		fail("features-refused", d->features);
}

static void setup_queue(struct virtio_dev *d, uint16_t i,
			struct vring_mem *ring)
{
	uint64_t c = d->common;
	struct virtq *q = &d->q[i];
	wr16(c + CC_Q_SELECT, i);
	uint16_t max = rd16(c + CC_Q_SIZE);
	if (!max)
		fail("no-queue", i);
	q->ring = ring;
	q->index = i;
	q->size = max < QSIZE_MAX ? max : QSIZE_MAX;
	q->event_idx = (d->features >> VIRTIO_F_RING_EVENT_IDX) & 1;
	wr16(c + CC_Q_SIZE, q->size);
	wr16(c + CC_Q_MSIX, 0xffff); /* no vector: we poll */
	wr64(c + CC_Q_DESC, (uintptr_t)ring->desc);
	wr64(c + CC_Q_AVAIL, (uintptr_t)&ring->avail);
	wr64(c + CC_Q_USED, (uintptr_t)&ring->used);
	q->notify = d->notify + (uint64_t)rd16(c + CC_Q_NOFF) * d->notify_mult;
	if (!q->event_idx)
		ring->avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT */
	wr16(c + CC_Q_ENABLE, 1);
}

void virtio_init(struct virtio_dev *d, uint16_t id, uint64_t want, unsigned nq,
		 struct vring_mem *rings)
{
	if (nq > VIRTIO_QUEUES_MAX)
		fail("too-many-queues", nq);
	find_function(d, id);
	find_caps(d);
	/* memory space, bus master */
	wr32(cfg_addr(d->slot, 4), rd32(cfg_addr(d->slot, 4)) | 0x6);
	uint64_t c = d->common;
	wr8(c + CC_STATUS, 0);
	for (int i = 0; rd8(c + CC_STATUS) && i < 1000000; i++)
		;
	wr8(c + CC_STATUS, DEV_ACK);
	wr8(c + CC_STATUS, DEV_ACK | DEV_DRIVER);
	negotiate(d, want);
	for (unsigned i = 0; i < nq; i++)
		setup_queue(d, (uint16_t)i, &rings[i]);
	wr8(c + CC_STATUS,
	    DEV_ACK | DEV_DRIVER | DEV_FEATURES_OK | DEV_DRIVER_OK);
	virtio_check(d, "device-needs-reset-at-start");
}

void virtio_check(struct virtio_dev *d, const char *what)
{
	uint8_t s = rd8(d->common + CC_STATUS);
	if (s & DEV_NEEDS_RESET)
		fail(what, s);
}

void vq_publish(struct virtq *q)
{
	struct vring_mem *r = q->ring;
	uint16_t old = r->avail.idx, new = q->avail_idx;
	if (old == new)
		return;
	barrier();
	*(volatile uint16_t *)&r->avail.idx = new;
	mb(); /* the index out before avail_event / flags are read */
	int kick;
	if (q->event_idx) {
		uint16_t ev = *(volatile uint16_t *)&r->used.ring[q->size];
		kick = (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
	} else {
		kick = !(*(volatile uint16_t *)&r->used.flags & 1);
	}
	if (kick) {
		wr16(q->notify, q->index);
		q->kicks++;
	}
}

uint16_t vq_wait_used(struct virtq *q, const char *what)
{
	uint16_t used;
	uint64_t spins = 0;
	while ((used = vq_used_idx(q)) == q->last_used)
		if (++spins == (1ull << 34))
			fail(what, q->last_used);
	barrier();
	return used;
}
