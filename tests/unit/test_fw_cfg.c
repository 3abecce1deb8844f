/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fw_cfg: the signature and ID through the data port and through DMA, the
 * file directory and its order, items read in pieces, DMA READ, SKIP,
 * SELECT and WRITE into real guest RAM (guest_mem_create: a low region
 * and one above 4 GiB), and every refused access: ERROR set, and no byte
 * of RAM changed but the descriptor's control word.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "common/guest_mem.h"
#include "devices/legacy/fw_cfg.h"

#define MiB (1ull << 20)
#define LOW_RAM (4 * MiB)
#define HIGH_GPA (4ull << 30)
#define RAM (6 * MiB) /* 2 MiB above 4 GiB */
#define DESC 0x1000   /* where the tests put descriptors */
#define BUF 0x2000    /* and buffers */

struct t {
	struct guest_mem mem;
	struct fw_cfg *fw;
	uint8_t *snap; /* RAM as it was, for "nothing else changed" */
};

static bool setup(struct t *t)
{
	struct phy_error err = {0};
	memset(t, 0, sizeof(*t));
	if (guest_mem_create(&t->mem, RAM, LOW_RAM, HIGH_GPA, 0, &err))
		return false;
	for (size_t i = 0; i < RAM; i += 4096) /* a pattern, not zeros */
		memset(t->mem.base + i, 0xa5 ^ (int)(i >> 12), 4096);
	t->fw = fw_cfg_create(&t->mem);
	t->snap = malloc(RAM);
	return t->fw && t->snap;
}

static void teardown(struct t *t)
{
	fw_cfg_destroy(t->fw);
	free(t->snap);
	guest_mem_destroy(&t->mem);
}

static void snapshot(struct t *t)
{
	memcpy(t->snap, t->mem.base, RAM);
}

/* Whether RAM is as snapshot() saw it, but for [gpa, gpa + len). */
static bool same_but(struct t *t, uint64_t gpa, uint64_t len)
{
	uint8_t *p = len ? guest_mem_ptr(&t->mem, gpa, len) : NULL;
	size_t lo = p ? (size_t)(p - t->mem.base) : RAM;
	size_t hi = p ? lo + len : RAM;
	return !memcmp(t->mem.base, t->snap, lo) &&
	       !memcmp(t->mem.base + hi, t->snap + hi, RAM - hi);
}

static void sel(struct t *t, uint16_t key)
{
	uint8_t b[2] = {(uint8_t)key, (uint8_t)(key >> 8)};
	fw_cfg_bus_ops.write(t->fw, FW_CFG_REG_SELECTOR, b, 2);
}

static uint8_t rd8(struct t *t)
{
	uint8_t v = 0x5a;
	fw_cfg_bus_ops.read(t->fw, FW_CFG_REG_DATA, &v, 1);
	return v;
}

static void rd(struct t *t, void *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)buf)[i] = rd8(t);
}

static void put_desc(struct t *t, uint64_t gpa, uint32_t control, uint32_t len,
		     uint64_t addr)
{
	struct fw_cfg_dma_access d = {htobe32(control), htobe32(len),
				      htobe64(addr)};
	uint8_t *p = guest_mem_ptr(&t->mem, gpa, sizeof(d));
	if (p)
		memcpy(p, &d, sizeof(d));
}

/* The guest's two 32-bit writes, high half first, as OVMF does them. */
static void kick(struct t *t, uint64_t gpa)
{
	uint32_t hi = htobe32((uint32_t)(gpa >> 32));
	uint32_t lo = htobe32((uint32_t)gpa);
	fw_cfg_bus_ops.write(t->fw, FW_CFG_REG_DMA_HIGH, (uint8_t *)&hi, 4);
	fw_cfg_bus_ops.write(t->fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&lo, 4);
}

static uint32_t control_at(struct t *t, uint64_t gpa)
{
	uint32_t c = 0;
	guest_mem_read(&t->mem, gpa, &c, 4);
	return be32toh(c);
}

/* One access with its descriptor at DESC; returns the control word the
 * device left there. */
static uint32_t dma(struct t *t, uint32_t control, uint32_t len, uint64_t addr)
{
	put_desc(t, DESC, control, len, addr);
	snapshot(t);
	kick(t, DESC);
	return control_at(t, DESC);
}

/* After dma(): whether it changed nothing but the control word and
 * [gpa, gpa + len). */
static bool dma_changed_only(struct t *t, uint64_t gpa, uint64_t len)
{
	uint8_t *c = guest_mem_ptr(&t->mem, DESC, 4);
	memcpy(t->snap + (c - t->mem.base), c, 4);
	return same_but(t, gpa, len);
}

static uint32_t select_ctl(uint16_t key, uint32_t op)
{
	return (uint32_t)key << 16 | FW_CFG_DMA_SELECT | op;
}

static uint8_t *ram(struct t *t, uint64_t gpa)
{
	return guest_mem_ptr(&t->mem, gpa, 1);
}

static void test_signature(void)
{
	struct t t;
	REQUIRE(setup(&t));
	/* Selected at reset: the signature. */
	char sig[6] = {0};
	rd(&t, sig, 5);
	CHECK(!memcmp(sig, "QEMU\0", 5));
	uint32_t id;
	sel(&t, FW_CFG_ID);
	rd(&t, &id, 4);
	CHECK_EQ_U64(le32toh(id), FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	/* 0x510 reads as data too; 0x512/0x513 read 0. */
	sel(&t, FW_CFG_SIGNATURE);
	uint8_t b = 0;
	fw_cfg_bus_ops.read(t.fw, FW_CFG_REG_SELECTOR, &b, 1);
	CHECK(b == 'Q');
	fw_cfg_bus_ops.read(t.fw, 2, &b, 1);
	CHECK(b == 0);
	/* The DMA register reads "QEMU CFG", whatever the width. */
	uint8_t dsig[8];
	fw_cfg_bus_ops.read(t.fw, FW_CFG_REG_DMA_HIGH, dsig, 4);
	fw_cfg_bus_ops.read(t.fw, FW_CFG_REG_DMA_LOW, dsig + 4, 4);
	CHECK(!memcmp(dsig, "QEMU CFG", 8));
	uint64_t be;
	fw_cfg_bus_ops.read(t.fw, FW_CFG_REG_DMA_HIGH, (uint8_t *)&be, 8);
	CHECK_EQ_U64(be64toh(be), FW_CFG_DMA_SIGNATURE);
	fw_cfg_bus_ops.read(t.fw, FW_CFG_REG_DMA_HIGH + 5, &b, 1);
	CHECK(b == 'C');

	/* Through DMA: SELECT + READ. */
	CHECK_EQ_U64(
		dma(&t, select_ctl(FW_CFG_SIGNATURE, FW_CFG_DMA_READ), 4, BUF),
		0);
	CHECK(!memcmp(ram(&t, BUF), "QEMU", 4));
	CHECK(dma_changed_only(&t, BUF, 4));
	CHECK_EQ_U64(dma(&t, select_ctl(FW_CFG_ID, FW_CFG_DMA_READ), 4, BUF),
		     0);
	memcpy(&id, ram(&t, BUF), 4);
	CHECK_EQ_U64(le32toh(id), 3);
	teardown(&t);
}

static const char *const names[] = {"zeta", "etc/e820", "bootorder",
				    "etc/acpi/tables", "etc/acpi/rsdp"};
static const char *const sorted[] = {"bootorder", "etc/acpi/rsdp",
				     "etc/acpi/tables", "etc/e820", "zeta"};

static size_t size_of(const char *name)
{
	return strlen(name) * 10 + 1;
}

/* Each file's bytes: its name's first letter, then a counter. */
static void fill(uint8_t *b, const char *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		b[i] = i ? (uint8_t)(i * 7) : (uint8_t)name[0];
}

static void add_files(struct t *t)
{
	struct phy_error err = {0};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint8_t b[1024];
		fill(b, names[i], size_of(names[i]));
		CHECK(fw_cfg_add_file(t->fw, names[i], b, size_of(names[i]), 0,
				      &err) == 0);
	}
}

static void test_directory(void)
{
	struct t t;
	REQUIRE(setup(&t));
	/* Empty: a count of 0. */
	uint32_t count = 1;
	sel(&t, FW_CFG_FILE_DIR);
	rd(&t, &count, 4);
	CHECK_EQ_U64(count, 0);
	add_files(&t);
	sel(&t, FW_CFG_FILE_DIR);
	rd(&t, &count, 4);
	CHECK_EQ_U64(be32toh(count), 5);
	for (unsigned i = 0; i < 5; i++) {
		struct fw_cfg_dir_entry e;
		rd(&t, &e, sizeof(e));
		CHECK_EQ_U64(be32toh(e.size), size_of(sorted[i]));
		CHECK_EQ_U64(be16toh(e.select), FW_CFG_FILE_FIRST + i);
		CHECK_EQ_U64(e.reserved, 0);
		CHECK(!strcmp(e.name, sorted[i]));
		uint16_t key;
		uint32_t size;
		CHECK(fw_cfg_find_file(t.fw, sorted[i], &key, &size));
		CHECK_EQ_U64(key, FW_CFG_FILE_FIRST + i);
		CHECK_EQ_U64(size, size_of(sorted[i]));
	}
	CHECK(rd8(&t) == 0); /* past the end */
	uint16_t key = 0;
	uint32_t size = 0;
	CHECK(!fw_cfg_find_file(t.fw, "etc/e82", &key, &size));
	CHECK(key == 0 && size == 0);
	teardown(&t);
}

/* A file read in pieces: data port, DMA READ continuing at the offset,
 * SKIP, more reads, then zeros past the end. */
static void test_pieces(void)
{
	struct t t;
	REQUIRE(setup(&t));
	add_files(&t);
	uint16_t key;
	uint32_t size;
	REQUIRE(fw_cfg_find_file(t.fw, "etc/acpi/tables", &key, &size));
	uint8_t want[200];
	fill(want, "etc/acpi/tables", size);
	sel(&t, key);
	uint8_t got[200];
	rd(&t, got, 3);
	CHECK(!memcmp(got, want, 3));
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_READ, 10, BUF), 0);
	CHECK(!memcmp(ram(&t, BUF), want + 3, 10));
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_SKIP, 7, 0), 0);
	CHECK(rd8(&t) == want[20]);
	/* The rest and 16 bytes more: zero-filled. */
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_READ, size - 21 + 16, BUF), 0);
	CHECK(dma_changed_only(&t, BUF, size - 21 + 16));
	CHECK(!memcmp(ram(&t, BUF), want + 21, size - 21));
	uint8_t zeros[16] = {0};
	CHECK(!memcmp(ram(&t, BUF + size - 21), zeros, 16));
	CHECK(rd8(&t) == 0);
	/* Reading the whole item through the API too. */
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, key, 0, got, sizeof(got)), size);
	CHECK(!memcmp(got, want, size));
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, key, size, got, 1), 0);
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, 0x7ff, 0, got, 1), 0);
	teardown(&t);
}

static void test_select_skip(void)
{
	struct t t;
	REQUIRE(setup(&t));
	add_files(&t);
	struct phy_error err = {0};
	CHECK(fw_cfg_add_u16(t.fw, FW_CFG_NB_CPUS, 4, &err) == 0);
	CHECK(fw_cfg_add_u64(t.fw, FW_CFG_ARCH_LOCAL | 3, 0x1122334455667788,
			     &err) == 0);
	/* SELECT alone: control 0, offset 0. */
	sel(&t, FW_CFG_SIGNATURE);
	rd8(&t);
	CHECK_EQ_U64(dma(&t, select_ctl(FW_CFG_NB_CPUS, 0), 100, 0), 0);
	CHECK(rd8(&t) == 4 && rd8(&t) == 0 && rd8(&t) == 0);
	/* SKIP + SELECT, then a READ: the skip applies after the select. */
	CHECK_EQ_U64(dma(&t, select_ctl(FW_CFG_ARCH_LOCAL | 3, FW_CFG_DMA_SKIP),
			 2, 0),
		     0);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_READ, 2, BUF), 0);
	CHECK(ram(&t, BUF)[0] == 0x66 && ram(&t, BUF)[1] == 0x55);
	/* A 4 GiB skip is arithmetic: the offset stops at the end. */
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_SKIP, UINT32_MAX, 0), 0);
	CHECK(rd8(&t) == 0);
	/* The write-channel bit selects the same item (as in QEMU). */
	sel(&t, FW_CFG_NB_CPUS | FW_CFG_WRITE_CHANNEL);
	CHECK(rd8(&t) == 4);
	/* A key with no item reads as empty: READ zero-fills, SKIP is fine. */
	CHECK_EQ_U64(dma(&t, select_ctl(0x1f, FW_CFG_DMA_READ), 8, BUF), 0);
	CHECK(!memcmp(ram(&t, BUF), "\0\0\0\0\0\0\0\0", 8));
	CHECK(dma_changed_only(&t, BUF, 8));
	CHECK_EQ_U64(dma(&t, select_ctl(0x7fff, FW_CFG_DMA_SKIP), 8, 0), 0);
	CHECK(rd8(&t) == 0);
	/* READ wins over WRITE and SKIP; zero length does nothing. */
	CHECK_EQ_U64(dma(&t,
			 select_ctl(FW_CFG_SIGNATURE, FW_CFG_DMA_READ |
							      FW_CFG_DMA_WRITE |
							      FW_CFG_DMA_SKIP),
			 1, BUF),
		     0);
	CHECK(ram(&t, BUF)[0] == 'Q');
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_READ, 0, 0xffffffffffff), 0);
	CHECK(rd8(&t) == 'E');
	teardown(&t);
}

/* The descriptor and the buffer above 4 GiB, an 8-byte address write,
 * and a lone low half after an access: the high half was forgotten. */
static void test_high_ram(void)
{
	struct t t;
	REQUIRE(setup(&t));
	uint64_t d = HIGH_GPA + 0x100, b = HIGH_GPA + 0x1000;
	put_desc(&t, d, select_ctl(FW_CFG_SIGNATURE, FW_CFG_DMA_READ), 4, b);
	kick(&t, d);
	CHECK_EQ_U64(control_at(&t, d), 0);
	CHECK(!memcmp(ram(&t, b), "QEMU", 4));

	put_desc(&t, d, select_ctl(FW_CFG_ID, FW_CFG_DMA_READ), 4, b);
	uint64_t be = htobe64(d);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DMA_HIGH, (uint8_t *)&be, 8);
	CHECK_EQ_U64(control_at(&t, d), 0);
	CHECK(ram(&t, b)[0] == 3);

	put_desc(&t, DESC, select_ctl(FW_CFG_SIGNATURE, FW_CFG_DMA_READ), 4,
		 BUF);
	uint32_t lo = htobe32(DESC);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&lo, 4);
	CHECK_EQ_U64(control_at(&t, DESC), 0);
	CHECK(!memcmp(ram(&t, BUF), "QEMU", 4));
	/* Other widths and offsets start nothing. */
	put_desc(&t, DESC, select_ctl(FW_CFG_ID, FW_CFG_DMA_READ), 4, BUF);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&lo, 2);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DMA_HIGH + 1, (uint8_t *)&lo, 4);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&be, 8);
	CHECK_EQ_U64(control_at(&t, DESC),
		     select_ctl(FW_CFG_ID, FW_CFG_DMA_READ));
	teardown(&t);
}

/* Descriptors that are not all in RAM. */
static void test_bad_descriptor(void)
{
	struct t t;
	REQUIRE(setup(&t));
	snapshot(&t);
	/* In the hole, past the end of high RAM, at the top of the space. */
	kick(&t, LOW_RAM + 0x1000);
	kick(&t, HIGH_GPA + 2 * MiB);
	kick(&t, UINT64_MAX - 7);
	CHECK(same_but(&t, 0, 0));
	/* Across the end of low RAM, control inside: ERROR there only. */
	uint64_t d = LOW_RAM - 8;
	kick(&t, d);
	CHECK_EQ_U64(control_at(&t, d), FW_CFG_DMA_ERROR);
	CHECK(same_but(&t, d, 4));
	/* Control itself across the end: nothing written. */
	snapshot(&t);
	kick(&t, LOW_RAM - 2);
	kick(&t, HIGH_GPA + 2 * MiB - 3);
	CHECK(same_but(&t, 0, 0));
	/* Across the end of high RAM (the end of the mapping). */
	d = HIGH_GPA + 2 * MiB - 12;
	kick(&t, d);
	CHECK_EQ_U64(control_at(&t, d), FW_CFG_DMA_ERROR);
	CHECK(same_but(&t, d, 4));
	teardown(&t);
}

/* READ targets outside RAM or across an end, and lengths past the
 * zero-fill cap: ERROR, nothing written, the offset where it was. */
static void test_bad_target(void)
{
	struct t t;
	REQUIRE(setup(&t));
	const uint32_t rd_sig = select_ctl(FW_CFG_SIGNATURE, FW_CFG_DMA_READ);
	const struct {
		uint32_t len;
		uint64_t addr;
	} bad[] = {
		{4, LOW_RAM},		       /* the hole */
		{16, LOW_RAM - 4},	       /* across low RAM's end */
		{16, HIGH_GPA - 8},	       /* into high RAM */
		{16, HIGH_GPA + 2 * MiB - 15}, /* across the mapping's end */
		{4, UINT64_MAX - 1},	       /* wrapping */
		{UINT32_MAX, 0},	       /* 4 GiB: more than RAM */
		{2 * MiB, 0}, /* in RAM, but past the zero-fill cap */
		{4 + FW_CFG_DMA_MAX_ZERO_FILL + 1, 0},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_U64(dma(&t, rd_sig, bad[i].len, bad[i].addr),
			     FW_CFG_DMA_ERROR);
		CHECK(dma_changed_only(&t, 0, 0));
		CHECK(rd8(&t) == 'Q'); /* the offset did not move */
	}
	/* Exactly at the cap: fine, and zero-filled. */
	CHECK_EQ_U64(dma(&t, rd_sig, 4 + FW_CFG_DMA_MAX_ZERO_FILL, BUF), 0);
	CHECK(!memcmp(ram(&t, BUF), "QEMU", 4));
	CHECK(ram(&t, BUF + 4)[0] == 0 &&
	      ram(&t, BUF + 3 + FW_CFG_DMA_MAX_ZERO_FILL)[0] == 0);
	CHECK(ram(&t, BUF + 4 + FW_CFG_DMA_MAX_ZERO_FILL)[0] != 0);
	/* The last byte of each region is a valid target. */
	CHECK_EQ_U64(dma(&t, rd_sig, 4, LOW_RAM - 4), 0);
	CHECK(!memcmp(ram(&t, LOW_RAM - 4), "QEMU", 4));
	CHECK_EQ_U64(dma(&t, rd_sig, 4, HIGH_GPA + 2 * MiB - 4), 0);
	teardown(&t);
}

static void test_writes(void)
{
	struct t t;
	REQUIRE(setup(&t));
	struct phy_error err = {0};
	uint8_t zero8[8] = {0};
	CHECK(fw_cfg_add_file(t.fw, "etc/vmgenid_addr", zero8, 8,
			      FW_CFG_FILE_WRITABLE, &err) == 0);
	CHECK(fw_cfg_add_file(t.fw, "etc/ro", "abcd", 4, 0, &err) == 0);
	uint16_t rw, ro;
	uint32_t size;
	REQUIRE(fw_cfg_find_file(t.fw, "etc/vmgenid_addr", &rw, &size));
	REQUIRE(fw_cfg_find_file(t.fw, "etc/ro", &ro, &size));
	memcpy(ram(&t, BUF), "\x11\x22\x33\x44\x55\x66\x77\x88\x99", 9);

	/* Read-only items refuse DMA writes and ignore the data port. */
	const uint16_t ro_keys[] = {ro, FW_CFG_SIGNATURE, FW_CFG_FILE_DIR,
				    0x1f};
	for (size_t i = 0; i < sizeof(ro_keys) / sizeof(ro_keys[0]); i++) {
		CHECK_EQ_U64(dma(&t, select_ctl(ro_keys[i], FW_CFG_DMA_WRITE),
				 2, BUF),
			     FW_CFG_DMA_ERROR);
		CHECK(dma_changed_only(&t, 0, 0));
	}
	sel(&t, ro);
	uint8_t x = 'X';
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DATA, &x, 1);
	uint8_t got[9];
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, ro, 0, got, 9), 4);
	CHECK(!memcmp(got, "abcd", 4));

	/* A writable file: SKIP then WRITE; past its end refused whole. */
	CHECK_EQ_U64(dma(&t, select_ctl(rw, FW_CFG_DMA_SKIP), 2, 0), 0);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_WRITE, 4, BUF), 0);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_WRITE, 3, BUF + 4), FW_CFG_DMA_ERROR);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_WRITE, 2, LOW_RAM - 1),
		     FW_CFG_DMA_ERROR);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_WRITE, 2, BUF + 4), 0);
	CHECK_EQ_U64(dma(&t, FW_CFG_DMA_WRITE, 1, BUF), FW_CFG_DMA_ERROR);
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, rw, 0, got, 9), 8);
	CHECK(!memcmp(got, "\0\0\x11\x22\x33\x44\x55\x66", 8));
	/* And through the data port, up to the end. */
	sel(&t, rw);
	rd8(&t);
	for (int i = 0; i < 10; i++)
		fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DATA, &x, 1);
	CHECK_EQ_U64(fw_cfg_read_item(t.fw, rw, 0, got, 9), 8);
	CHECK(!memcmp(got, "\0XXXXXXX", 8));
	/* A 2-byte write at the data port, a 4-byte one at the selector:
	 * neither selects nor writes. */
	sel(&t, rw);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_DATA, (const uint8_t *)"\1\0", 2);
	fw_cfg_bus_ops.write(t.fw, FW_CFG_REG_SELECTOR,
			     (const uint8_t *)"\1\0\0\0", 4);
	CHECK(rd8(&t) == 0);
	teardown(&t);
}

static void test_add_errors(void)
{
	struct t t;
	REQUIRE(setup(&t));
	struct phy_error err = {0};
	char long_name[FW_CFG_NAME_SIZE + 1];
	memset(long_name, 'a', sizeof(long_name));
	long_name[FW_CFG_NAME_SIZE] = 0;
	CHECK(fw_cfg_add_file(t.fw, long_name, "x", 1, 0, &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "1 to 55 characters");
	long_name[FW_CFG_NAME_SIZE - 1] = 0; /* 55: fine */
	CHECK(fw_cfg_add_file(t.fw, long_name, "x", 1, 0, &err) == 0);
	CHECK(fw_cfg_add_file(t.fw, "", "x", 1, 0, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_add_file(t.fw, NULL, "x", 1, 0, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_add_file(t.fw, "a", NULL, 0, 0, &err) == 0);
	CHECK(fw_cfg_add_file(t.fw, "a", "x", 1, 0, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "\"a\" added twice");
	CHECK(fw_cfg_add_file(t.fw, "b", "x", 1, 0x2, &err) == -PHY_E_INVALID);
	const uint16_t bad_keys[] = {
		FW_CFG_SIGNATURE, FW_CFG_ID, FW_CFG_FILE_DIR, FW_CFG_FILE_FIRST,
		0x0005 | 0x4000,  0x8020,    0xffff};
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++)
		CHECK(fw_cfg_add_u32(t.fw, bad_keys[i], 1, &err) ==
		      -PHY_E_INVALID);
	CHECK(fw_cfg_add_u16(t.fw, FW_CFG_NB_CPUS, 1, &err) == 0);
	CHECK(fw_cfg_add_u16(t.fw, FW_CFG_NB_CPUS, 2, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "0x0005 added twice");
	CHECK(fw_cfg_add_u16(t.fw, FW_CFG_ARCH_LOCAL | FW_CFG_NB_CPUS, 2,
			     &err) == 0);
	/* An empty file is listed with size 0 and reads as nothing. */
	uint16_t key;
	uint32_t size = 1;
	CHECK(fw_cfg_find_file(t.fw, "a", &key, &size) && size == 0);
	sel(&t, key);
	CHECK(rd8(&t) == 0);
	teardown(&t);
	fw_cfg_destroy(NULL);
}

/* Many files: the directory stays sorted whatever the insertion order,
 * and the cap holds. */
static void test_many_files(void)
{
	struct t t;
	REQUIRE(setup(&t));
	struct phy_error err = {0};
	for (unsigned i = 0; i < FW_CFG_MAX_FILES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "opt/f%04u", (i * 389) % 1024);
		CHECK(fw_cfg_add_file(t.fw, name, &i, sizeof(i), 0, &err) == 0);
	}
	CHECK(fw_cfg_add_file(t.fw, "opt/more", "x", 1, 0, &err) ==
	      -PHY_E_INVALID);
	uint32_t count;
	sel(&t, FW_CFG_FILE_DIR);
	rd(&t, &count, 4);
	CHECK_EQ_U64(be32toh(count), FW_CFG_MAX_FILES);
	char prev[FW_CFG_NAME_SIZE] = "";
	bool ordered = true;
	for (unsigned i = 0; i < FW_CFG_MAX_FILES; i++) {
		struct fw_cfg_dir_entry e;
		rd(&t, &e, sizeof(e));
		ordered &= strcmp(prev, e.name) < 0 &&
			   be16toh(e.select) == FW_CFG_FILE_FIRST + i;
		memcpy(prev, e.name, sizeof(prev));
	}
	CHECK(ordered);
	teardown(&t);
}

/* vCPU threads at once: each SELECT+READ access is atomic under the
 * device's lock (8-byte address writes: the two halves are shared). */
struct racer {
	struct t *t;
	uint64_t desc, buf;
	uint16_t key;
	const char *want;
	unsigned bad;
};

static void *race(void *opaque)
{
	struct racer *r = opaque;
	for (int i = 0; i < 2000; i++) {
		put_desc(r->t, r->desc, select_ctl(r->key, FW_CFG_DMA_READ), 4,
			 r->buf);
		uint64_t be = htobe64(r->desc);
		fw_cfg_bus_ops.write(r->t->fw, FW_CFG_REG_DMA_HIGH,
				     (uint8_t *)&be, 8);
		if (control_at(r->t, r->desc) ||
		    memcmp(ram(r->t, r->buf), r->want, 4))
			r->bad++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct t t;
	REQUIRE(setup(&t));
	struct phy_error err = {0};
	CHECK(fw_cfg_add_file(t.fw, "one", "1111", 4, 0, &err) == 0);
	CHECK(fw_cfg_add_file(t.fw, "two", "2222", 4, 0, &err) == 0);
	struct racer r[3] = {
		{&t, 0x3000, 0x3100, FW_CFG_SIGNATURE, "QEMU", 0},
		{&t, 0x3200, 0x3300, FW_CFG_FILE_FIRST, "1111", 0},
		{&t, 0x3400, 0x3500, FW_CFG_FILE_FIRST + 1, "2222", 0},
	};
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, race, &r[i]);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_U64(r[i].bad, 0);
	}
	teardown(&t);
}

int main(void)
{
	test_signature();
	test_directory();
	test_pieces();
	test_select_skip();
	test_high_ram();
	test_bad_descriptor();
	test_bad_target();
	test_writes();
	test_add_errors();
	test_many_files();
	test_threads();
	return check_report("test_fw_cfg");
}
