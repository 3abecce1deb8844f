/* SPDX-License-Identifier: Apache-2.0 */
/* The hostile guest's values and its one-access primitives. */
#include "hostile.h"

struct counts cnt;
static uint64_t state;

void hrand_seed(uint64_t seed)
{
	state = seed;
}

/* splitmix64: any seed, 0 included, gives a full-period stream. */
uint64_t hrand(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t hvalue(void)
{
	static const uint64_t edge[] = {
		0,	     ~0ull,
		1,	     0x7f,
		0x80,	     0xff,
		0x7fff,	     0x8000,
		0xffff,	     0x7fffffff,
		0x80000000,  0xffffffff,
		0x100000000, 0x8000000000000000ull,
	};
	uint64_t r = hrand();
	if (r & 1)
		return edge[(r >> 1) % ARRAY_SIZE(edge)];
	if (r & 2)
		return 1ull << ((r >> 2) % 64);
	return hrand();
}

uint64_t haddr(void)
{
	uint64_t r = hrand();
	switch ((r >> 8) % 10) {
	case 0:
	case 1:
	case 2:
		return SCRATCH + hrand() % (RAM_END - SCRATCH);
	case 3: /* straddling the end of RAM */
		return RAM_END - (r & 0xff);
	case 4:
		return OUTSIDE_RAM + (r & 0xffffff);
	case 5: /* the BAR window, ECAM, the IOAPIC and LAPIC */
		return 0xc0000000ull + hrand() % 0x3f000000ull;
	case 6: /* the top of the address space: a length wraps */
		return ~0ull - (r & 0xfff);
	case 7: /* the 4 GiB boundary */
		return 0x100000000ull - (r & 0xff);
	case 8:
		return hvalue();
	default:
		return hrand();
	}
}

uint32_t hlen(void)
{
	static const uint32_t edge[] = {
		0,    1,     2,	       15,	   16,	       512,
		4096, 65536, 1u << 20, 0x7fffffff, 0x80000000, 0xffffffff};
	uint64_t r = hrand();
	if (r & 1)
		return edge[(r >> 1) % ARRAY_SIZE(edge)];
	return (uint32_t)(r >> 32) % 8192;
}

static void mmio_write(uint64_t a, unsigned width, uint64_t v)
{
	if (width == 1)
		wr8(a, (uint8_t)v);
	else if (width == 2)
		wr16(a, (uint16_t)v);
	else if (width == 4)
		wr32(a, (uint32_t)v);
	else
		*(volatile uint64_t *)a = v;
}

void mmio_access(uint64_t a, unsigned width, int write, uint64_t v)
{
	cnt.accesses++;
	if (write)
		mmio_write(a, width, v);
	else if (width == 1)
		(void)rd8(a);
	else if (width == 2)
		(void)rd16(a);
	else if (width == 4)
		(void)rd32(a);
	else
		(void)*(volatile uint64_t *)a;
}

void pio_access(uint16_t port, unsigned width, int write, uint32_t v)
{
	cnt.accesses++;
	if (write && width == 1)
		outb(port, (uint8_t)v);
	else if (write && width == 2)
		outw(port, (uint16_t)v);
	else if (write)
		outl(port, v);
	else if (width == 1)
		(void)inb(port);
	else if (width == 2)
		(void)inw(port);
	else
		(void)inl(port);
}
