/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The register windows: PCI configuration space (ECAM and 0xCF8/0xCFC),
 * every memory BAR (virtio common, ISR, device config, notify, MSI-X table
 * and PBA), the UART and the ACPI ports, with edge and random values at
 * random offsets and widths, unaligned ones included.
 */
#include "hostile.h"

static unsigned width(int pio)
{
	unsigned w = 1u << (hrand() % 4);
	return pio && w == 8 ? 4 : w;
}

static int overlaps(uint32_t off, unsigned len, uint32_t at, unsigned n)
{
	return off < at + n && at < off + len;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window, aimed at the common configuration: a
 * write through it could point a queue into the image (guard_queue). */
static int cfg_window_risky(const struct pci_fn *f, uint32_t off, unsigned w)
{
	if (!f->cfg_cap || !overlaps(off, w, f->cfg_cap + 16u, 4))
		return 0;
	uint8_t bar = rd8(ECAM + f->ecam + f->cfg_cap + 4);
	uint32_t at = rd32(ECAM + f->ecam + f->cfg_cap + 8);
	return bar == f->common_bar && at - f->common_off < 0x40;
}

static void config_one(const struct pci_fn *f)
{
	uint32_t off = hrand() & 3 ? hrand() & 0xff : hrand() & 0xfff;
	int pio = hrand() & 1, write = hrand() & 1;
	unsigned w = width(pio);
	if (write && cfg_window_risky(f, off, w)) {
		write = 0;
		cnt.excluded++;
	}
	if (!pio) {
		mmio_access(ECAM + f->ecam + off, w, write, hvalue());
		return;
	}
	outl(0xcf8, 0x80000000u | (f->ecam >> 12) << 8 | (off & 0xfc) |
			    (off >> 8) << 24);
	pio_access((uint16_t)(0xcfc + (off & 3)), w, write, (uint32_t)hvalue());
}

/* Anywhere in ECAM and any 0xCF8 address; writes only off bus 0, where
 * nothing of ours lives. */
static void config_anywhere(void)
{
	uint64_t off = hrand() % 0x10000000ull;
	int write = (off >> 20) && (hrand() & 1);
	mmio_access(ECAM + off, width(0), write, hvalue());
	uint32_t a = (uint32_t)hvalue();
	outl(0xcf8, a);
	write = ((a >> 16) & 0xff) && (hrand() & 1);
	pio_access((uint16_t)(0xcfc + (hrand() & 3)), width(1), write,
		   (uint32_t)hvalue());
}

void fuzz_config(uint64_t n)
{
	for (unsigned i = 0; i < nr_fns; i++)
		for (uint64_t k = 0; k < n; k++)
			config_one(&fns[i]);
	for (uint64_t k = 0; k < n; k++)
		config_anywhere();
	pci_restore();
}

/* ------------------------------------------------------------------ BARs */
struct region {
	uint64_t at, len;
	int kind; /* 1: common, 2: MSI-X table, 0: other */
};

static uint64_t bar_base(const struct pci_fn *f, unsigned bar)
{
	uint32_t lo = f->saved[4 + bar];
	if (bar > 5 || (lo & 1))
		return 0;
	if ((lo & 6) == 4 && (bar == 5 || f->saved[5 + bar]))
		return 0; /* above 4 GiB: out of our page tables' reach */
	return lo & ~0xfull;
}

static uint64_t bar_size(const struct pci_fn *f, unsigned bar)
{
	uint64_t reg = ECAM + f->ecam + 0x10 + 4 * bar;
	wr32(reg, 0xffffffff);
	uint32_t m = rd32(reg) & ~0xfu;
	wr32(reg, f->saved[4 + bar]);
	return m ? (uint64_t)(~m + 1u) : 0;
}

static unsigned regions_of(const struct pci_fn *f, struct region *r)
{
	unsigned n = 0;
	for (unsigned b = 0; b < 6; b++) {
		uint64_t at = bar_base(f, b), size = at ? bar_size(f, b) : 0;
		if (size)
			r[n++] = (struct region){at, size, 0};
	}
	unsigned ptr = rd8(ECAM + f->ecam + 0x34) & ~3u;
	for (int k = 0; ptr && k < 48 && n < 14; k++) {
		uint64_t c = ECAM + f->ecam + ptr;
		uint8_t id = rd8(c), type = rd8(c + 3);
		if (id == 0x09 && type >= 1 && type <= 4) {
			uint64_t at = bar_base(f, rd8(c + 4));
			if (at)
				r[n++] = (struct region){at + rd32(c + 8),
							 rd32(c + 12),
							 type == 1};
		} else if (id == 0x11) {
			uint32_t entries = (rd16(c + 2) & 0x7ff) + 1u;
			uint32_t t = rd32(c + 4), p = rd32(c + 8);
			uint64_t ta = bar_base(f, t & 7),
				 pa = bar_base(f, p & 7);
			if (ta)
				r[n++] = (struct region){ta + (t & ~7u),
							 16ull * entries, 2};
			if (pa)
				r[n++] = (struct region){
					pa + (p & ~7u),
					8ull * ((entries + 63) / 64), 0};
		}
		ptr = rd8(c + 1) & ~3u;
	}
	return n;
}

/* Fixed delivery only: NMI, SMI or INIT would reset or kill the vCPU of
 * the test itself, which is not what is being tested. */
static void guard_msix(const struct region *t, uint64_t a)
{
	for (uint64_t e = (a - t->at) / 16; e <= (a - t->at) / 16 + 1; e++) {
		if (16 * e >= t->len)
			break;
		uint64_t data = t->at + 16 * e + 8;
		uint32_t d = rd32(data);
		if (d & 0x700) {
			wr32(data, d & ~0x700u);
			cnt.excluded++;
		}
	}
}

static void bars_of(const struct pci_fn *f, uint64_t n)
{
	struct region r[16];
	unsigned nr = regions_of(f, r);
	if (!nr)
		return;
	uint64_t cmd = ECAM + f->ecam + 4, common = 0;
	wr16(cmd, (uint16_t)(rd16(cmd) | 6));
	if (f->msix_cap)
		wr16(ECAM + f->ecam + f->msix_cap + 2, 0x8000);
	for (unsigned i = 0; i < nr; i++)
		if (r[i].kind == 1)
			common = r[i].at;
	for (uint64_t k = 0; k < n; k++) {
		const struct region *g = &r[hrand() % nr];
		uint64_t a = g->at + hrand() % (g->len + 8);
		unsigned w = width(0);
		int write = hrand() & 1;
		mmio_access(a, w, write, hvalue());
		/* status, queue select and the selected queue's fields,
		 * through their region or the whole BAR */
		if (write && common && a + w > common + 0x14 &&
		    a < common + 0x38)
			guard_queue(common);
		if (write && g->kind == 2)
			guard_msix(g, a);
	}
	if (common)
		wr8(common + CC_STATUS, 0);
	for (unsigned i = 0; i < nr; i++)
		for (uint64_t e = 0; r[i].kind == 2 && e < r[i].len / 16; e++)
			wr32(r[i].at + 16 * e + 12, 1); /* masked */
}

void fuzz_bars(uint64_t n)
{
	for (unsigned i = 0; i < nr_fns; i++)
		if ((fns[i].saved[0] & 0xffff) == 0x1af4)
			bars_of(&fns[i], n);
	pci_restore();
}

/* ----------------------------------------------------------------- ports */
static const struct {
	uint16_t base, len;
} port_windows[] = {
	{0x3f8, 8}, /* COM1 */
	{0x600, 8}, /* ACPI sleep control and status, GED */
	{0xcf9, 1}, /* the reset register */
};

/* The writes that reset or power off the machine, made harmless: the
 * lifecycle tests cover those; here they would end the run. */
static uint32_t defuse(uint16_t port, unsigned w, uint32_t v)
{
	if (port == 0x600 && (v & 0x20) && ((v >> 2) & 7) == 5) {
		cnt.excluded++;
		return v & ~0x20u;
	}
	if (port == 0xcf9 && w == 1 && (v & 4)) {
		cnt.excluded++;
		return v & ~4u;
	}
	return v;
}

void fuzz_ports(uint64_t n)
{
	for (unsigned i = 0; i < ARRAY_SIZE(port_windows); i++)
		for (uint64_t k = 0; k < n; k++) {
			uint16_t port =
				(uint16_t)(port_windows[i].base +
					   hrand() % port_windows[i].len);
			unsigned w = width(1);
			int write = hrand() & 1;
			uint32_t v =
				write ? defuse(port, w, (uint32_t)hvalue()) : 0;
			pio_access(port, w, write, v);
		}
	/* COM1 back to 8N1, no interrupts, no loopback: the markers follow. */
	outb(0x3fb, 0x03);
	outb(0x3f9, 0);
	outb(0x3fc, 0x08);
	outb(0x3fa, 0);
}
