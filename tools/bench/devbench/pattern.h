/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's disk pattern, shared by the guest payload and the host's
 * devbench-host: every 512-byte sector identifies itself. Words 0-2 hold
 * the sector number, the generation that wrote it (0: the host's fill, then
 * one per write job) and a magic; words 3-63 follow from the generation
 * alone, so a sector read from the wrong place, a stale one and a torn one
 * all fail the check.
 */
#ifndef DEVBENCH_PATTERN_H
#define DEVBENCH_PATTERN_H

#include <stdint.h>

#define DB_SECTOR 512u
#define DB_WORDS (DB_SECTOR / 8)
#define DB_MAGIC 0x68636e6562766564ull /* "devbench" */

static inline uint64_t db_word(uint64_t gen, unsigned i)
{
	return gen * 0x9e3779b97f4a7c15ull + i * 0xbf58476d1ce4e5b9ull + 1;
}

static inline void db_fill(uint64_t *w, uint64_t sector, uint64_t gen)
{
	w[0] = sector;
	w[1] = gen;
	w[2] = DB_MAGIC;
	for (unsigned i = 3; i < DB_WORDS; i++)
		w[i] = db_word(gen, i);
}

/* 0 if the sector at w is sector `sector` of a generation <= max_gen
 * (its generation in *gen), else -1. */
static inline int db_check(const uint64_t *w, uint64_t sector, uint64_t max_gen,
			   uint64_t *gen)
{
	if (w[0] != sector || w[2] != DB_MAGIC || w[1] > max_gen)
		return -1;
	*gen = w[1];
	uint64_t v = db_word(w[1], 3), step = 0xbf58476d1ce4e5b9ull;
	for (unsigned i = 3; i < DB_WORDS; i++, v += step)
		if (w[i] != v)
			return -1;
	return 0;
}

#endif
