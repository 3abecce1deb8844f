/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest's phases. After each: a marker line on COM1 with the
 * counts so far, once a virtio-blk write read back and an entropy read
 * have worked (the devices that were not attacked still work, and those
 * that were can be reset and used again). It ends spinning:
 * test-hostile.sh asks the API a last time and shuts the VMM down.
 *
 * Command line: seed=N (the generator's seed) ops=N (accesses per window
 * and function; an eighth of that in malformed rings per device).
 */
#include "hostile.h"

#define SANE (SCRATCH + 0x80000) /* a ring and buffers of the checks */
#define BLK_T_IN 0
#define BLK_T_OUT 1

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
	uint8_t data[512];
	uint8_t status;
};

static struct virtio_dev dev;

static struct virtq *sane_init(uint16_t id)
{
	struct vring_mem *ring = (struct vring_mem *)SANE;
	memset(ring, 0, sizeof(*ring));
	memset(&dev, 0, sizeof(dev));
	virtio_init(&dev, id, 0, 1, ring);
	return &dev.q[0];
}

static uint32_t sane_wait(struct virtq *q, const char *what)
{
	uint32_t len;
	vq_publish(q);
	vq_wait_used(q, what);
	vq_pop_used(q, &len);
	vq_consumed(q);
	virtio_check(&dev, what);
	return len;
}

static void blk_rw(struct virtq *q, struct blk_req *r, uint32_t type,
		   uint64_t sector)
{
	struct vring_desc *d = q->ring->desc;
	r->type = type;
	r->sector = sector;
	r->status = 0xff;
	d[0] = (struct vring_desc){(uintptr_t)r, 16, DESC_F_NEXT, 1};
	d[1] = (struct vring_desc){
		(uintptr_t)r->data, 512,
		(uint16_t)(DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0)),
		2};
	d[2] = (struct vring_desc){(uintptr_t)&r->status, 1, DESC_F_WRITE, 0};
	vq_add(q, 0);
	sane_wait(q, "sane-blk-no-answer");
	if (r->status)
		fail("sane-blk-status", r->status);
}

static void sane_blk(void)
{
	struct virtq *q = sane_init(0x1042);
	struct blk_req *w = (struct blk_req *)(SANE + 0x4000);
	struct blk_req *r = (struct blk_req *)(SANE + 0x5000);
	uint64_t sector = hrand() % 64, tag = hrand();
	for (unsigned i = 0; i < 512; i++)
		w->data[i] = (uint8_t)(tag >> (8 * (i % 8))) ^ (uint8_t)i;
	blk_rw(q, w, BLK_T_OUT, sector);
	memset(r->data, 0, 512);
	blk_rw(q, r, BLK_T_IN, sector);
	for (unsigned i = 0; i < 512; i++)
		if (r->data[i] != w->data[i])
			fail("sane-blk-readback", i);
}

static void sane_rng(void)
{
	struct virtq *q = sane_init(0x1044);
	uint8_t *buf = (uint8_t *)(SANE + 0x6000);
	memset(buf, 0, 64);
	q->ring->desc[0] =
		(struct vring_desc){(uintptr_t)buf, 64, DESC_F_WRITE, 0};
	vq_add(q, 0);
	uint32_t len = sane_wait(q, "sane-rng-no-answer");
	uint8_t any = 0;
	for (unsigned i = 0; i < 64; i++)
		any |= buf[i];
	if (!len || len > 64 || !any)
		fail("sane-rng", len);
}

static void phase_done(const char *name)
{
	sane_blk();
	sane_rng();
	puts("\nHOSTILE phase=");
	puts(name);
	kv("accesses", cnt.accesses);
	kv("rings", cnt.rings);
	kv("excluded", cnt.excluded);
	kv("needs_reset", cnt.needs_reset);
	puts(" sane=ok\n");
}

void __attribute__((noreturn)) devbench_main(void)
{
	static const struct {
		uint16_t id;
		const char *name;
	} devices[] = {
		{0x1042, "rings-blk"},	   {0x1041, "rings-net"},
		{0x1043, "rings-console"}, {0x1044, "rings-rng"},
		{0x1045, "rings-balloon"}, {0x1050, "rings-gpu"},
		{0x1052, "rings-input"},   {0x1053, "rings-vsock"},
	};
	parse_cmdline();
	hrand_seed(opt.seed);
	uint64_t n = opt.ops;
	puts("HOSTILE start");
	kv("seed", opt.seed);
	kv("ops", n);
	putc('\n');
	phase_done("start");
	pci_scan();
	puts("HOSTILE functions");
	for (unsigned i = 0; i < nr_fns; i++) {
		putc(' ');
		puthex(fns[i].saved[0]);
	}
	putc('\n');
	fuzz_config(n);
	phase_done("pci-config");
	fuzz_bars(n);
	phase_done("bars");
	fuzz_ports(n);
	phase_done("ports");
	for (unsigned i = 0; i < ARRAY_SIZE(devices); i++) {
		uint64_t before = cnt.rings;
		fuzz_rings(devices[i].id, n / 8);
		if (devices[i].id == 0x1053 && cnt.rings != before)
			vsock_handshake();
		if (cnt.rings != before)
			phase_done(devices[i].name);
	}
	puts("\nHOSTILE-RESULT pass");
	kv("accesses", cnt.accesses);
	kv("rings", cnt.rings);
	kv("excluded", cnt.excluded);
	kv("needs_reset", cnt.needs_reset);
	kv("gpu_ok", cnt.gpu_ok);
	kv("gpu_err", cnt.gpu_err);
	kv("vsock_connected", cnt.vsock_connected);
	putc('\n');
	/* The host asks the API once more, then ends the VMM (vmm.shutdown). */
	for (;;)
		barrier();
}
