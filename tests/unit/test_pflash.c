/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CFI flash: OVMF's probe and its program and erase sequences, replayed
 * access by access through a model of the guest's view (reads come from the
 * buffer while set_rom_mode says the read-only slot is mapped, from the
 * device otherwise); the status register, identifier and CFI modes; a
 * write-protected flash; garbage against guard pages; several vCPUs.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "devices/legacy/pflash.h"

/* OVMF_VARS_4M.fd (edk2-stable202211, OvmfPkg/OvmfPkgDefines.fdf.inc):
 * 0x84 blocks of 4 KiB, mapped at 0xFFC00000 below the code. */
#define VARS_SIZE 0x84000
#define VARS_BLOCK 0x1000

enum { SR_READY = 0x80, SR_ERASE = 0x20, SR_PROGRAM = 0x10, SR_LOCK = 0x02 };

/* What the guest sees at the flash's addresses: the device, or, while the
 * slot is mapped, its buffer. RAM and ROM stand in for other firmware
 * devices, to check the probe's replica itself. */
enum kind { FLASH, RAM, ROM };

struct guest {
	enum kind kind;
	struct pflash *pf;
	uint8_t *mem;
	bool mapped;	  /* as set_rom_mode left it */
	bool log[16];	  /* its calls, in order */
	unsigned nlog;	  /* how many (log keeps the first 16) */
	unsigned repeats; /* calls that reported the mode already reported */
};

static void rom_mode(void *opaque, bool array)
{
	struct guest *g = opaque;
	if (array == g->mapped)
		g->repeats++;
	g->mapped = array;
	if (g->nlog < 16)
		g->log[g->nlog] = array;
	g->nlog++;
}

static int guest_init(struct guest *g, enum kind kind, uint8_t *mem,
		      uint64_t size, uint32_t block, bool wp)
{
	*g = (struct guest){.kind = kind, .mem = mem, .mapped = true};
	if (kind != FLASH)
		return 0;
	struct pflash_params p = {.buf = mem,
				  .size = size,
				  .block_size = block,
				  .write_protect = wp,
				  .set_rom_mode = rom_mode,
				  .opaque = g,
				  .name = "test"};
	struct phy_error err;
	return pflash_create(&g->pf, &p, &err);
}

/* A writable flash of 256-byte blocks over m, filled with `fill`. */
static bool small_flash(struct guest *g, uint8_t *m, size_t size, uint8_t fill)
{
	memset(m, fill, size);
	return guest_init(g, FLASH, m, size, 256, false) == 0;
}

static uint8_t rd(struct guest *g, uint64_t off)
{
	if (g->kind != FLASH || g->mapped)
		return g->mem[off];
	uint8_t v;
	pflash_bus_ops.read(g->pf, off, &v, 1);
	return v;
}

static void wr(struct guest *g, uint64_t off, uint8_t v)
{
	if (g->kind == RAM)
		g->mem[off] = v;
	else if (g->kind == FLASH)
		pflash_bus_ops.write(g->pf, off, &v, 1);
}

static void rd_n(struct guest *g, uint64_t off, uint8_t *d, uint32_t n)
{
	pflash_bus_ops.read(g->pf, off, d, n);
}

static void wr_n(struct guest *g, uint64_t off, const uint8_t *d, uint32_t n)
{
	pflash_bus_ops.write(g->pf, off, d, n);
}

enum probe { P_NONE, P_RAM, P_ROM, P_FLASH, P_FLASH_WP };

/*
 * QemuFlashDetected() (OvmfPkg/QemuFlashFvbServicesRuntimeDxe/QemuFlash.c),
 * one byte access at a time: find a byte in block 0 that is none of 0x50,
 * 0x70, 0x00 (in a variable store, offset 16: the FV header's GUID
 * follows 16 zero bytes); write 0x50 and read it back (0x50 back: RAM);
 * write 0x70 and read: the original byte is ROM, 0x70 RAM, 0x00 flash,
 * then 0xFF. Later edk2 (not stable202211) then programs the original
 * byte over itself and reads the status: SR.4 means write-protected.
 */
static enum probe ovmf_probe(struct guest *g, bool check_wp)
{
	uint64_t off;
	for (off = 0; off < VARS_BLOCK; off++) {
		uint8_t b = rd(g, off);
		if (b != 0x50 && b != 0x70 && b != 0x00)
			break;
	}
	if (off >= VARS_BLOCK)
		return P_NONE;
	uint8_t orig = rd(g, off);
	wr(g, off, 0x50);
	uint8_t probe = rd(g, off);
	if (orig != 0x50 && probe == 0x50) {
		wr(g, off, orig);
		return P_RAM;
	}
	wr(g, off, 0x70);
	probe = rd(g, off);
	if (probe == orig)
		return P_ROM;
	if (probe == 0x70) {
		wr(g, off, orig);
		return P_RAM;
	}
	if (probe != 0x00)
		return P_NONE;
	if (!check_wp) {
		wr(g, off, 0xFF);
		return P_FLASH;
	}
	wr(g, off, 0x10);
	wr(g, off, orig);
	wr(g, off, 0x70);
	probe = rd(g, off);
	wr(g, off, 0xFF);
	return probe & 0x10 ? P_FLASH_WP : P_FLASH;
}

/* QemuFlashWrite(): program setup and data for each byte, then read
 * array at the last one. */
static void ovmf_write(struct guest *g, uint64_t off, const uint8_t *d,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		wr(g, off + i, 0x10);
		wr(g, off + i, d[i]);
	}
	if (n)
		wr(g, off + n - 1, 0xFF);
}

/* QemuFlashEraseBlock(): setup and confirm at the block's start, and
 * nothing after. */
static void ovmf_erase(struct guest *g, uint64_t lba)
{
	wr(g, lba * VARS_BLOCK, 0x20);
	wr(g, lba * VARS_BLOCK, 0xD0);
}

/* A fresh OVMF_VARS_4M.fd's start (OvmfPkg/VarStore.fdf.inc): the FV
 * header's zero vector, file system GUID (gEfiSystemNvDataFvGuid), length
 * and signature; all else erased. */
static uint8_t *vars_image(void)
{
	static const char guid[] = "\x8D\x2B\xF1\xFF\x96\x76\x8B\x4C"
				   "\xA9\x85\x27\x47\x07\x5B\x4F\x50";
	static const char len_sig[] = "\x00\x40\x08\x00\x00\x00\x00\x00_FVH";
	uint8_t *m = malloc(VARS_SIZE);
	if (!m)
		return NULL;
	memset(m, 0xFF, VARS_SIZE);
	memset(m, 0, 16);
	memcpy(m + 16, guid, 16);
	memcpy(m + 32, len_sig, 12);
	return m;
}

static void test_ovmf_probe(void)
{
	uint8_t *m = vars_image(), *copy = vars_image();
	REQUIRE(m && copy);
	struct guest g;
	REQUIRE(guest_init(&g, FLASH, m, VARS_SIZE, VARS_BLOCK, false) == 0);
	CHECK(ovmf_probe(&g, false) == P_FLASH);
	CHECK(g.mapped && pflash_array_mode(g.pf));
	/* 0x50 stays in array mode (no call), 0x70 leaves it, 0xFF back. */
	CHECK(g.nlog == 2 && !g.log[0] && g.log[1]);
	CHECK(memcmp(m, copy, VARS_SIZE) == 0);
	CHECK(!pflash_take_dirty(g.pf));
	CHECK(ovmf_probe(&g, true) == P_FLASH);
	CHECK(memcmp(m, copy, VARS_SIZE) == 0);
	CHECK(g.mapped && pflash_array_mode(g.pf) && g.repeats == 0);
	pflash_destroy(g.pf);

	/* The replica tells RAM and ROM apart, as OVMF does. */
	CHECK(guest_init(&g, RAM, m, VARS_SIZE, VARS_BLOCK, false) == 0);
	CHECK(ovmf_probe(&g, true) == P_RAM);
	CHECK(memcmp(m, copy, VARS_SIZE) == 0);
	CHECK(guest_init(&g, ROM, m, VARS_SIZE, VARS_BLOCK, false) == 0);
	CHECK(ovmf_probe(&g, true) == P_ROM);
	free(m);
	free(copy);
}

static void test_ovmf_write_erase(void)
{
	uint8_t *m = vars_image();
	REQUIRE(m);
	struct guest g;
	REQUIRE(guest_init(&g, FLASH, m, VARS_SIZE, VARS_BLOCK, false) == 0);
	REQUIRE(ovmf_probe(&g, false) == P_FLASH);

	/* The FTW working block's header into an erased block. */
	static const uint8_t ftw[] = {0x2b, 0x29, 0x58, 0x9e, 0x68, 0x7c,
				      0x7d, 0x49, 0xa0, 0xce, 0x65, 0x00};
	ovmf_erase(&g, 0x41);
	CHECK(!g.mapped);
	/* Until read array, reads return the status, as in QEMU. */
	CHECK(rd(&g, 0x41000) == SR_READY && rd(&g, 0x10) == SR_READY);
	ovmf_write(&g, 0x41000, ftw, sizeof(ftw));
	CHECK(g.mapped && pflash_array_mode(g.pf));
	uint8_t back[sizeof(ftw)];
	for (size_t i = 0; i < sizeof(ftw); i++)
		back[i] = rd(&g, 0x41000 + i);
	CHECK(memcmp(back, ftw, sizeof(ftw)) == 0);
	CHECK(m[0x41000 + sizeof(ftw)] == 0xFF);
	CHECK(pflash_take_dirty(g.pf) && !pflash_take_dirty(g.pf));

	/* A variable's state byte moves by clearing bits (edk2's
	 * VAR_ADDED & VAR_IN_DELETED_TRANSITION), which is all flash can do. */
	uint8_t state = 0x3F;
	ovmf_write(&g, 0x41100, &state, 1);
	state = 0x3F & 0xFE;
	ovmf_write(&g, 0x41100, &state, 1);
	CHECK(rd(&g, 0x41100) == 0x3E);
	/* Setting a bit takes an erase: programming only clears. */
	state = 0xC1;
	ovmf_write(&g, 0x41100, &state, 1);
	CHECK(rd(&g, 0x41100) == 0x00);

	/* The last block; the one before it is left alone. */
	m[VARS_SIZE - VARS_BLOCK - 1] = 0x12;
	memset(m + VARS_SIZE - VARS_BLOCK, 0x34, VARS_BLOCK);
	ovmf_erase(&g, VARS_SIZE / VARS_BLOCK - 1);
	CHECK(m[VARS_SIZE - VARS_BLOCK - 1] == 0x12);
	CHECK(m[VARS_SIZE - VARS_BLOCK] == 0xFF && m[VARS_SIZE - 1] == 0xFF);
	wr(&g, 0, 0xFF);
	CHECK(g.mapped && g.repeats == 0);
	pflash_destroy(g.pf);
	free(m);
}

static void test_program_status(void)
{
	uint8_t m[1024];
	struct guest g;
	REQUIRE(small_flash(&g, m, sizeof(m), 0xFF));
	wr(&g, 0, 0x70);
	CHECK(rd(&g, 5) == SR_READY); /* ready from the start */
	wr(&g, 0, 0x50);
	CHECK(g.mapped && rd(&g, 5) == 0xFF);
	wr(&g, 0, 0x70);
	CHECK(rd(&g, 5) == 0x00);
	/* 0x40 is program setup too; the data cycle's offset counts. */
	wr(&g, 7, 0x40);
	CHECK(!g.mapped && rd(&g, 7) == 0x00);
	wr(&g, 300, 0x5A);
	CHECK(m[300] == 0x5A && m[7] == 0xFF);
	CHECK(rd(&g, 0) == SR_READY && rd(&g, 1023) == SR_READY);
	uint8_t w[8];
	rd_n(&g, 100, w, 8);
	CHECK(w[0] == SR_READY && w[7] == SR_READY);
	wr(&g, 0, 0x00); /* read array, as 0xFF */
	CHECK(g.mapped && rd(&g, 300) == 0x5A);
	/* The other commands: identifier, CFI, an unknown one. */
	wr(&g, 0, 0x90);
	CHECK(!g.mapped && rd(&g, 0) == 0x89 && rd(&g, 1) == 0x17);
	CHECK(rd(&g, 2) == 0 && rd(&g, 256 + 1) == 0x17 && rd(&g, 3) == 0);
	wr(&g, 0, 0xE8); /* buffered write: unsupported, read array */
	CHECK(g.mapped && pflash_array_mode(g.pf));
	wr(&g, 0, 0x60); /* lock setup: likewise, and 0x01 after it too */
	wr(&g, 0, 0x01);
	CHECK(g.mapped && m[0] == 0xFF && g.repeats == 0);
	pflash_destroy(g.pf);
}

static void test_erase_errors(void)
{
	uint8_t m[1024];
	struct guest g;
	REQUIRE(small_flash(&g, m, sizeof(m), 0x11));
	/* The confirm's offset picks the block. */
	wr(&g, 0, 0x20);
	wr(&g, 600, 0xD0);
	CHECK(m[511] == 0x11 && m[512] == 0xFF && m[767] == 0xFF);
	CHECK(m[768] == 0x11);
	CHECK(rd(&g, 0) == SR_READY);
	/* Any other byte after the setup is a sequence error, 0xFF too. */
	wr(&g, 0, 0x20);
	wr(&g, 0, 0xFF);
	CHECK(rd(&g, 0) == (SR_READY | SR_ERASE | SR_PROGRAM));
	CHECK(!g.mapped && m[0] == 0x11);
	/* The bits stay through other commands until 0x50. */
	wr(&g, 0, 0xFF);
	CHECK(g.mapped);
	wr(&g, 0, 0x70);
	CHECK(rd(&g, 0) == (SR_READY | SR_ERASE | SR_PROGRAM));
	wr(&g, 0, 0x50);
	CHECK(g.mapped && m[0] == 0x11);
	wr(&g, 0, 0x70);
	CHECK(rd(&g, 0) == 0);
	wr(&g, 0, 0x20);
	wr(&g, 0, 0x20);
	CHECK(rd(&g, 0) == (SR_READY | SR_ERASE | SR_PROGRAM) && m[0] == 0x11);
	wr(&g, 0, 0xFF);
	CHECK(g.mapped && g.repeats == 0);
	pflash_destroy(g.pf);
}

/* Wide accesses are byte cycles in address order; bytes past the end
 * read 0xFF and do nothing. */
static void test_wide_and_end(void)
{
	uint8_t m[512];
	struct guest g;
	REQUIRE(small_flash(&g, m, sizeof(m), 0xFF));
	const uint8_t prog[2] = {0x10, 0x0F};
	wr_n(&g, 10, prog, 2); /* setup at 10, data at 11 */
	CHECK(m[10] == 0xFF && m[11] == 0x0F && !g.mapped);
	uint8_t w[4];
	rd_n(&g, 8, w, 4);
	CHECK(w[0] == SR_READY && w[3] == SR_READY);
	/* Straddling the end: the setup lands, its data byte does not. */
	const uint8_t tail[8] = {0x10, 0x00, 0x00, 0x00};
	wr_n(&g, 511, tail, 8);
	CHECK(m[511] == 0xFF);
	wr(&g, 511, 0x3C);
	CHECK(m[511] == 0x3C);
	wr(&g, 0, 0xFF);
	rd_n(&g, 509, w, 4);
	CHECK(w[0] == 0xFF && w[2] == 0x3C && w[3] == 0xFF);
	/* Wholly outside, and where offset + length wraps. */
	wr_n(&g, 512, prog, 2);
	wr_n(&g, UINT64_MAX, prog, 2);
	CHECK(g.mapped && pflash_array_mode(g.pf));
	rd_n(&g, UINT64_MAX - 1, w, 4);
	CHECK(w[0] == 0xFF && w[3] == 0xFF);
	/* CFI, as a 4-byte read: "QRY" then command set 0x0001. */
	wr(&g, 0, 0x98);
	rd_n(&g, 0x10, w, 4);
	CHECK(memcmp(w, "QRY\x01", 4) == 0);
	pflash_destroy(g.pf);
}

static void test_cfi(void)
{
	uint8_t *m = vars_image();
	REQUIRE(m);
	struct guest g;
	REQUIRE(guest_init(&g, FLASH, m, VARS_SIZE, VARS_BLOCK, false) == 0);
	wr(&g, 0x55, 0x98);
	CHECK(!g.mapped);
	CHECK(rd(&g, 0x10) == 'Q' && rd(&g, 0x11) == 'R' &&
	      rd(&g, 0x12) == 'Y');
	CHECK(rd(&g, 0x13) == 1 && rd(&g, 0x14) == 0);
	CHECK(rd(&g, VARS_BLOCK + 0x10) == 'Q'); /* in every block */
	/* 540672 bytes: 2^20 rounds it up; the region is exact. */
	CHECK(rd(&g, 0x27) == 20);
	CHECK(rd(&g, 0x28) == 0 && rd(&g, 0x29) == 0); /* x8 */
	CHECK(rd(&g, 0x2C) == 1);
	unsigned blocks = rd(&g, 0x2D) + 256u * rd(&g, 0x2E) + 1;
	unsigned bsize = 256u * (rd(&g, 0x2F) + 256u * rd(&g, 0x30));
	CHECK(blocks == VARS_SIZE / VARS_BLOCK && bsize == VARS_BLOCK);
	unsigned ext = rd(&g, 0x15) + 256u * rd(&g, 0x16);
	CHECK(ext > 0x30 && rd(&g, ext) == 'P' && rd(&g, ext + 2) == 'I');
	CHECK(rd(&g, 0x100) == 0);
	wr(&g, 0x55, 0xFF);
	CHECK(g.mapped && rd(&g, 16) == 0x8D);
	pflash_destroy(g.pf);
	free(m);
}

static void test_write_protect(void)
{
	uint8_t *m = vars_image(), *copy = vars_image();
	REQUIRE(m && copy);
	struct guest g;
	REQUIRE(guest_init(&g, FLASH, m, VARS_SIZE, VARS_BLOCK, true) == 0);
	/* stable202211 takes it for writable flash; later edk2 not. */
	CHECK(ovmf_probe(&g, false) == P_FLASH);
	CHECK(ovmf_probe(&g, true) == P_FLASH_WP);
	wr(&g, 0, 0x50);
	const uint8_t zero = 0;
	ovmf_write(&g, 0x100, &zero, 1);
	wr(&g, 0, 0x70);
	CHECK(rd(&g, 0) == (SR_READY | SR_PROGRAM | SR_LOCK));
	wr(&g, 0, 0x50);
	ovmf_erase(&g, 0);
	CHECK(rd(&g, 0) == (SR_READY | SR_ERASE | SR_LOCK));
	wr(&g, 0, 0x90);
	CHECK(rd(&g, 2) == 1 && rd(&g, VARS_BLOCK + 2) == 1);
	wr(&g, 0, 0xFF);
	CHECK(memcmp(m, copy, VARS_SIZE) == 0);
	CHECK(!pflash_take_dirty(g.pf) && g.mapped && g.repeats == 0);
	pflash_destroy(g.pf);
	free(m);
	free(copy);
}

static void test_params(void)
{
	uint8_t m[4096];
	struct pflash *pf = (struct pflash *)1;
	struct phy_error err;
	struct pflash_params p = {
		.buf = m, .size = 4096, .block_size = 1024, .name = "vars.fd"};
	CHECK(pflash_create(&pf, &p, &err) == 0 && pf);
	pflash_destroy(pf);
	pflash_destroy(NULL);
	const struct {
		uint64_t size;
		uint32_t block;
	} bad[] = {
		{4096, 0}, {4096, 128},	 {4096, 768},	       {4096, 1u << 24},
		{0, 1024}, {4000, 1024}, {65537ull * 256, 256}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p.size = bad[i].size;
		p.block_size = bad[i].block;
		CHECK(pflash_create(&pf, &p, &err) == -PHY_E_INVALID && !pf);
		CHECK_STR_CONTAINS(err.message, "vars.fd");
	}
	p = (struct pflash_params){.size = 4096, .block_size = 1024};
	CHECK(pflash_create(&pf, &p, &err) == -PHY_E_INVALID);
	/* The limits themselves are fine (no buffer is touched). */
	p = (struct pflash_params){
		.buf = m, .size = 65536ull * 256, .block_size = 256};
	CHECK(pflash_create(&pf, &p, &err) == 0);
	pflash_destroy(pf);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t garbage_offset(uint64_t *s, uint64_t size)
{
	switch (rnd(s) % 6) {
	case 0:
		return size - 1 - rnd(s) % 8; /* the end, wide ones straddle */
	case 1:
		return size + rnd(s) % 16; /* past it */
	case 2:
		return UINT64_MAX - rnd(s) % 16; /* wrapping */
	case 3:
		return rnd(s) % 64; /* ID and CFI data */
	default:
		return rnd(s) % size;
	}
}

static uint8_t garbage_value(uint64_t *s)
{
	static const uint8_t cmds[] = {0x00, 0x10, 0x20, 0x40, 0x50, 0x60,
				       0x70, 0x90, 0x98, 0xD0, 0xE8, 0xFF};
	uint64_t r = rnd(s);
	return r & 1 ? cmds[(r >> 1) % sizeof(cmds)] : (uint8_t)(r >> 8);
}

/* Random accesses of any width; the slot always matches the mode. */
static void garbage(struct guest *g, uint64_t size, uint64_t seed, unsigned n)
{
	static const uint32_t widths[] = {1, 2, 3, 4, 8, 16};
	unsigned mismatches = 0;
	for (unsigned i = 0; i < n; i++) {
		uint8_t d[16];
		uint32_t w = widths[rnd(&seed) % 6];
		uint64_t off = garbage_offset(&seed, size);
		if (rnd(&seed) % 3) {
			for (uint32_t k = 0; k < w; k++)
				d[k] = garbage_value(&seed);
			wr_n(g, off, d, w);
		} else {
			rd_n(g, off, d, w);
		}
		mismatches += g->mapped != pflash_array_mode(g->pf);
	}
	CHECK(mismatches == 0 && g->repeats == 0);
}

/* After anything: 0xFF (a no-op program, or a confirm that fails) and
 * 0x50 bring back read array with a clear status; then it programs and
 * erases. */
static void still_works(struct guest *g, uint64_t size, uint32_t block)
{
	wr(g, 0, 0xFF);
	wr(g, 0, 0x50);
	CHECK(g->mapped && pflash_array_mode(g->pf));
	ovmf_write(g, size - 1, (const uint8_t[]){0}, 1);
	CHECK(g->mem[size - 1] == 0 && rd(g, size - 1) == 0);
	wr(g, size - 1, 0x20);
	wr(g, size - 1, 0xD0);
	CHECK(rd(g, 0) == SR_READY);
	wr(g, 0, 0xFF);
	CHECK(g->mem[size - block] == 0xFF && g->mem[size - 1] == 0xFF);
}

/* The buffer's end abuts a PROT_NONE page and its start follows one, or
 * (a size that is no multiple of the page) canary bytes. */
static void test_garbage(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t span = 4 * (size_t)page;
	uint8_t *base = mmap(NULL, span + 2 * page, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	REQUIRE(base != MAP_FAILED);
	REQUIRE(mprotect(base, page, PROT_NONE) == 0);
	REQUIRE(mprotect(base + page + span, page, PROT_NONE) == 0);
	uint8_t *m = base + page;
	struct guest g;
	memset(m, 0xA5, span);
	REQUIRE(guest_init(&g, FLASH, m, span, 4096, false) == 0);
	garbage(&g, span, 0x9e3779b97f4a7c15ull, 200000);
	still_works(&g, span, 4096);
	pflash_destroy(g.pf);

	/* 768 bytes at the end of the span, canaries before. */
	uint8_t *small = m + span - 768;
	memset(m, 0xC3, span);
	REQUIRE(guest_init(&g, FLASH, small, 768, 256, false) == 0);
	garbage(&g, 768, 12345, 100000);
	still_works(&g, 768, 256);
	size_t bad = 0;
	for (uint8_t *c = m; c < small; c++)
		bad += *c != 0xC3;
	CHECK(bad == 0);
	pflash_destroy(g.pf);

	/* Write-protected: not a byte changes. */
	uint8_t *copy = malloc(span);
	REQUIRE(copy);
	for (size_t i = 0; i < span; i++)
		m[i] = (uint8_t)(i * 7 + 3);
	memcpy(copy, m, span);
	REQUIRE(guest_init(&g, FLASH, m, span, 4096, true) == 0);
	garbage(&g, span, 777, 100000);
	CHECK(memcmp(m, copy, span) == 0 && !pflash_take_dirty(g.pf));
	pflash_destroy(g.pf);
	free(copy);
	munmap(base, span + 2 * page);
}

struct hammer {
	struct guest *g;
	uint64_t seed;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t v = garbage_value(&h->seed);
		uint64_t off = rnd(&h->seed) % 8192;
		if (rnd(&h->seed) & 1)
			wr_n(h->g, off, &v, 1);
		else
			rd_n(h->g, off, &v, 1);
	}
	return NULL;
}

/* vCPUs at once: the calls never repeat a mode, and once all is quiet
 * the last one matches the flash. */
static void test_threads(void)
{
	uint8_t *m = malloc(8192);
	REQUIRE(m);
	memset(m, 0xFF, 8192);
	struct guest g;
	REQUIRE(guest_init(&g, FLASH, m, 8192, 4096, false) == 0);
	pthread_t t[4];
	struct hammer h[4];
	for (int i = 0; i < 4; i++) {
		h[i] = (struct hammer){&g, 0x1234567ull * (i + 1)};
		REQUIRE(pthread_create(&t[i], NULL, hammer_thread, &h[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(g.repeats == 0 && g.nlog > 0);
	CHECK(g.mapped == pflash_array_mode(g.pf));
	pflash_destroy(g.pf);
	free(m);
}

int main(void)
{
	test_ovmf_probe();
	test_ovmf_write_erase();
	test_program_status();
	test_erase_errors();
	test_wide_and_end();
	test_cfi();
	test_write_protect();
	test_params();
	test_garbage();
	test_threads();
	return check_report("test_pflash");
}
