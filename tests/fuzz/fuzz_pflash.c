/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile guest's accesses to the CFI flash. Byte 0
 * picks the flash (bit 0: write-protected; bits 1-2: a block of 256,
 * 512, 4096 or 256 bytes; bits 3-5: 1 to 8 blocks), over a heap buffer
 * of exactly its size (ASan watches both ends). Then each access is an
 * opcode byte (bits 0-1: write, read, a command byte from a table,
 * write; bits 2-3: width 1, 2, 4 or 8; bits 4-6: where) and a 16-bit
 * offset: anywhere, the last bytes (wide ones straddle the end), past the
 * end, wrapping around 2^64, the identifier and CFI bytes; then a write's
 * bytes. Checked: set_rom_mode's calls alternate and the last one is the
 * flash's mode after every write; a read in read-array mode returns the
 * buffer (0xFF past it); a write changes no byte outside the blocks it
 * touched, and none outside its own bytes but to 0xFF (an erase); a
 * write-protected flash never changes its buffer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/pflash.h"

struct fz {
	const uint8_t *p;
	size_t n;
	struct pflash *pf;
	uint8_t *buf, *shadow;
	uint64_t size;
	uint32_t block;
	bool wp;
	bool mapped; /* as set_rom_mode left it */
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_pflash: %s\n", what);
	abort();
}

static uint8_t byte(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static void rom_mode(void *opaque, bool array)
{
	struct fz *f = opaque;
	if (array == f->mapped)
		die("set_rom_mode repeated a mode");
	f->mapped = array;
}

static uint64_t offset(struct fz *f, unsigned where)
{
	uint16_t w = byte(f);
	w |= (uint16_t)(byte(f) << 8);
	switch (where) {
	case 1:
		return f->size - 1 - (w & 7);
	case 2:
		return f->size + (w & 15);
	case 3:
		return UINT64_MAX - (w & 15);
	case 4:
		return w & 0x3f;
	default:
		return w % f->size;
	}
}

static bool touched(const struct fz *f, uint64_t off, uint32_t len, uint64_t at)
{
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		if (o >= off && o < f->size && o / f->block == at / f->block)
			return true;
	}
	return false;
}

/* What changed lies in the blocks the access touched: its own bytes,
 * or whole-block erases around them. */
static void check_changes(struct fz *f, uint64_t off, uint32_t len)
{
	if (!memcmp(f->buf, f->shadow, f->size))
		return;
	if (f->wp)
		die("a write-protected flash changed");
	for (uint64_t i = 0; i < f->size; i++) {
		if (f->buf[i] == f->shadow[i])
			continue;
		bool own = i - off < len;
		if (!touched(f, off, len, i) || (!own && f->buf[i] != 0xFF))
			die("a write changed a byte it did not reach");
	}
	memcpy(f->shadow, f->buf, f->size);
}

static void step(struct fz *f)
{
	static const uint8_t cmds[] = {0x00, 0x10, 0x20, 0x40, 0x50,
				       0x70, 0x90, 0x98, 0xD0, 0xFF};
	uint8_t op = byte(f), d[8];
	uint32_t len = 1u << ((op >> 2) & 3);
	uint64_t off = offset(f, (op >> 4) & 7);
	if ((op & 3) == 1) {
		pflash_bus_ops.read(f->pf, off, d, len);
		for (uint32_t i = 0; f->mapped && i < len; i++) {
			uint64_t o = off + i;
			bool in = o >= off && o < f->size;
			if (d[i] != (in ? f->buf[o] : 0xFF))
				die("a read in array mode is not the buffer");
		}
		return;
	}
	if ((op & 3) == 2) {
		len = 1;
		d[0] = cmds[byte(f) % sizeof(cmds)];
	} else {
		for (uint32_t i = 0; i < len; i++)
			d[i] = byte(f);
	}
	pflash_bus_ops.write(f->pf, off, d, len);
	if (f->mapped != pflash_array_mode(f->pf))
		die("set_rom_mode's last call is not the mode");
	check_changes(f, off, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t blocks[] = {256, 512, 4096, 256};
	struct fz f = {.p = data, .n = size, .mapped = true};
	uint8_t cfg = byte(&f);
	f.wp = cfg & 1;
	f.block = blocks[(cfg >> 1) & 3];
	f.size = (uint64_t)f.block * (((cfg >> 3) & 7) + 1);
	f.buf = malloc(f.size);
	f.shadow = malloc(f.size);
	if (!f.buf || !f.shadow)
		die("out of memory");
	for (uint64_t i = 0; i < f.size; i++)
		f.buf[i] = (uint8_t)(i * 131 + 7);
	memcpy(f.shadow, f.buf, f.size);

	struct pflash_params p = {.buf = f.buf,
				  .size = f.size,
				  .block_size = f.block,
				  .write_protect = f.wp,
				  .set_rom_mode = rom_mode,
				  .opaque = &f,
				  .name = "fuzz"};
	struct phy_error err;
	if (pflash_create(&f.pf, &p, &err))
		die(err.message);
	for (unsigned steps = 0; f.n && steps < 4096; steps++)
		step(&f);
	if (f.wp && pflash_take_dirty(f.pf))
		die("a write-protected flash is dirty");
	pflash_destroy(f.pf);
	free(f.shadow);
	free(f.buf);
	return 0;
}
