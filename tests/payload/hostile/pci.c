/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile guest's view of bus 0: what there is, and putting it back. */
#include "hostile.h"

struct pci_fn fns[FUNCS_MAX];
unsigned nr_fns;

static uint8_t ecam8(uint32_t off)
{
	return rd8(ECAM + off);
}

static void find_caps(struct pci_fn *f)
{
	unsigned ptr = ecam8(f->ecam + 0x34) & ~3u;
	for (int n = 0; ptr && n < 48; n++) {
		uint8_t id = ecam8(f->ecam + ptr);
		uint8_t type = ecam8(f->ecam + ptr + 3);
		if (id == 0x11)
			f->msix_cap = (uint8_t)ptr;
		if (id == 0x09 && type == 1) {
			f->common_bar = ecam8(f->ecam + ptr + 4);
			f->common_off = rd32(ECAM + f->ecam + ptr + 8);
		}
		if (id == 0x09 && type == 5)
			f->cfg_cap = (uint8_t)ptr;
		ptr = ecam8(f->ecam + ptr + 1) & ~3u;
	}
}

void pci_scan(void)
{
	nr_fns = 0;
	for (uint32_t devfn = 0; devfn < 256 && nr_fns < FUNCS_MAX; devfn++) {
		uint32_t off = devfn << 12;
		uint32_t id = rd32(ECAM + off);
		if (id == 0xffffffff || id == 0)
			continue;
		struct pci_fn *f = &fns[nr_fns++];
		memset(f, 0, sizeof(*f));
		f->ecam = off;
		f->device = (uint16_t)(id >> 16);
		for (unsigned i = 0; i < 16; i++)
			f->saved[i] = rd32(ECAM + off + 4 * i);
		find_caps(f);
	}
}

/* Through 0xCF8, not ECAM: a fuzzed BAR may now sit anywhere. */
static void cf8_select(const struct pci_fn *f, unsigned reg)
{
	outl(0xcf8, 0x80000000u | (f->ecam >> 12) << 8 | reg);
}

void pci_restore(void)
{
	for (unsigned i = 0; i < nr_fns; i++) {
		const struct pci_fn *f = &fns[i];
		for (unsigned bar = 0; bar < 6; bar++) {
			cf8_select(f, 0x10 + 4 * bar);
			outl(0xcfc, f->saved[4 + bar]);
		}
		if (f->msix_cap) {
			cf8_select(f, f->msix_cap);
			outw(0xcfe, 0); /* MSI-X off, function unmasked */
		}
		cf8_select(f, 4);
		outw(0xcfc, (uint16_t)f->saved[1]);
	}
}

static uint64_t rd64(uint64_t a)
{
	return rd32(a) | (uint64_t)rd32(a + 4) << 32;
}

void guard_queue(uint64_t common)
{
	static const unsigned regs[] = {CC_Q_DESC, CC_Q_AVAIL, CC_Q_USED};
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		uint64_t a = rd64(common + regs[i]);
		if (a >= 0x100000 && a < IMAGE_END) {
			wr32(common + regs[i], (uint32_t)a | OUTSIDE_RAM);
			wr32(common + regs[i] + 4, 0);
			cnt.excluded++;
		}
	}
}
