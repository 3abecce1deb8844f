/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a fuzz input as a program for a hostile driver: bytes and
 * words, taken in order (zeros past the end), and guest addresses that
 * land in, across the end of, or outside the simulated RAM.
 */
#ifndef PHY_TESTS_FUZZ_PROG_H
#define PHY_TESTS_FUZZ_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_sim.h"

struct prog {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t prog_byte(struct prog *g)
{
	if (!g->n)
		return 0;
	g->n--;
	return *g->p++;
}

static inline uint16_t prog_word(struct prog *g)
{
	uint16_t lo = prog_byte(g);
	return (uint16_t)(lo | prog_byte(g) << 8);
}

/* Low RAM is `ram` bytes at 0; high RAM starts at SIM_HIGH_GPA. */
static inline uint64_t prog_address(struct prog *g, uint64_t ram)
{
	uint16_t a = prog_word(g);
	switch (a >> 14) {
	case 3:
		return SIM_HIGH_GPA + (a & 0x1fff);
	case 2:
		return ram - (a & 0xff);
	default:
		return a & 0xfff8;
	}
}

#endif
