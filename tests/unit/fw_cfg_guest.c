/* SPDX-License-Identifier: Apache-2.0 */
#include "fw_cfg_guest.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/fw_cfg_loader.h"

#define PAGE 4096u
#define BUF_OFF 64    /* the bounce buffer, after the descriptor */
#define FACS_MIN 64   /* EFI_ACPI_1_0_FIRMWARE_ACPI_CONTROL_STRUCTURE */
#define HEADER_LEN 36 /* EFI_ACPI_DESCRIPTION_HEADER */

/* ---- QemuFwCfgLib -------------------------------------------------------- */

static void select_key(struct fwg *g, uint16_t key)
{
	uint8_t b[2] = {(uint8_t)key, (uint8_t)(key >> 8)};
	fw_cfg_bus_ops.write(g->fw, FW_CFG_REG_SELECTOR, b, 2);
}

/* One access, its descriptor at the start of scratch; OVMF's loop waits
 * for control to read 0. */
static bool dma(struct fwg *g, uint32_t control, uint32_t len)
{
	struct fw_cfg_dma_access d = {htobe32(control), htobe32(len),
				      htobe64(g->scratch + BUF_OFF)};
	uint32_t hi = htobe32((uint32_t)(g->scratch >> 32));
	uint32_t lo = htobe32((uint32_t)g->scratch);
	uint32_t c = 1;
	if (guest_mem_write(g->mem, g->scratch, &d, sizeof(d)))
		return false;
	fw_cfg_bus_ops.write(g->fw, FW_CFG_REG_DMA_HIGH, (uint8_t *)&hi, 4);
	fw_cfg_bus_ops.write(g->fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&lo, 4);
	guest_mem_read(g->mem, g->scratch, &c, 4);
	return c == 0;
}

/* QemuFwCfgReadBytes() at the current offset. */
static bool read_bytes(struct fwg *g, void *out, uint32_t len)
{
	uint32_t room = g->scratch_size - BUF_OFF;
	for (uint8_t *p = out; len;) {
		uint32_t n = len < room ? len : room;
		if (!dma(g, FW_CFG_DMA_READ, n) ||
		    guest_mem_read(g->mem, g->scratch + BUF_OFF, p, n))
			return false;
		p += n;
		len -= n;
	}
	return true;
}

bool fwg_find_file(struct fwg *g, const char *name, uint16_t *key,
		   uint32_t *size)
{
	uint32_t count;
	select_key(g, FW_CFG_FILE_DIR);
	if (!read_bytes(g, &count, 4))
		return false;
	for (uint32_t i = 0; i < be32toh(count); i++) {
		uint32_t fsize;
		uint16_t select, reserved;
		char fname[FW_CFG_NAME_SIZE];
		if (!read_bytes(g, &fsize, 4) || !read_bytes(g, &select, 2) ||
		    !read_bytes(g, &reserved, 2) ||
		    !read_bytes(g, fname, sizeof(fname)))
			return false;
		if (!strncmp(name, fname, sizeof(fname))) {
			*key = be16toh(select);
			*size = be32toh(fsize);
			return true;
		}
	}
	return false;
}

bool fwg_read(struct fwg *g, uint16_t key, void *buf, uint32_t len)
{
	select_key(g, key);
	return read_bytes(g, buf, len);
}

bool fwg_write(struct fwg *g, uint16_t key, uint32_t offset, const void *buf,
	       uint32_t len)
{
	select_key(g, key);
	return len <= g->scratch_size - BUF_OFF &&
	       dma(g, FW_CFG_DMA_SKIP, offset) &&
	       !guest_mem_write(g->mem, g->scratch + BUF_OFF, buf, len) &&
	       dma(g, FW_CFG_DMA_WRITE, len);
}

/* ---- AcpiPlatformDxe: QemuFwCfgAcpi.c ------------------------------------ */

/* The parts of a command (QemuLoader.h). */
struct cmd {
	uint32_t type;
	const char *file, *file2; /* inside the command */
	bool names_ok;		  /* each ends within its 56 bytes */
	uint32_t u32[3];	  /* the integers after the names */
	uint8_t size;		  /* a pointer's size; ALLOCATE's zone */
};

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static struct cmd parse(const uint8_t *e)
{
	struct cmd c = {.type = le32_at(e)};
	const uint8_t *n1 = e + 4, *n2 = n1 + FW_CFG_NAME_SIZE;
	c.file = (const char *)n1;
	c.names_ok = !n1[FW_CFG_NAME_SIZE - 1];
	bool two = c.type == FW_CFG_LOADER_ADD_POINTER ||
		   c.type == FW_CFG_LOADER_WRITE_POINTER;
	const uint8_t *ints = two ? n2 + FW_CFG_NAME_SIZE : n2;
	if (two) {
		c.file2 = (const char *)n2;
		c.names_ok &= !n2[FW_CFG_NAME_SIZE - 1];
	}
	unsigned nr = c.type == FW_CFG_LOADER_ALLOCATE	     ? 1
		      : c.type == FW_CFG_LOADER_ADD_POINTER  ? 1
		      : c.type == FW_CFG_LOADER_ADD_CHECKSUM ? 3
							     : 2;
	for (unsigned i = 0; i < nr; i++)
		c.u32[i] = le32_at(ints + 4 * i);
	c.size = ints[4 * nr];
	return c;
}

static bool fail(struct fwg_acpi *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return false;
}

static struct fwg_blob *blob(struct fwg_acpi *a, const char *name)
{
	for (unsigned i = 0; i < a->nr_blobs; i++)
		if (!strcmp(a->blobs[i].name, name))
			return &a->blobs[i];
	return NULL;
}

/* CollectAllocationsRestrictedTo32Bit(). */
static bool restricted(const uint8_t *script, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		struct cmd c = parse(script + i * FW_CFG_LOADER_ENTRY_SIZE);
		if (c.type == FW_CFG_LOADER_ADD_POINTER && c.size < 8 &&
		    c.names_ok && !strcmp(c.file2, name))
			return true;
	}
	return false;
}

static bool cmd_allocate(struct fwg *g, struct fwg_acpi *a, const struct cmd *c,
			 bool low, uint64_t *next)
{
	uint16_t key;
	uint32_t size;
	if (c->u32[0] > PAGE)
		return fail(a, "ALLOCATE \"%s\": alignment 0x%x", c->file,
			    c->u32[0]);
	if (!fwg_find_file(g, c->file, &key, &size))
		return fail(a, "ALLOCATE \"%s\": no such fw_cfg file", c->file);
	if (blob(a, c->file))
		return fail(a, "ALLOCATE \"%s\": allocated twice", c->file);
	if (a->nr_blobs == FWG_MAX_BLOBS)
		return fail(a, "more than %d blobs (the simulation's limit)",
			    FWG_MAX_BLOBS);
	size_t pages = ((size_t)size + PAGE - 1) / PAGE;
	struct fwg_blob *b = &a->blobs[a->nr_blobs++];
	strcpy(b->name, c->file);
	b->size = size;
	b->low = low;
	b->base = *next;
	*next += pages * PAGE;
	b->data = calloc(pages ? pages : 1, PAGE);
	if (!b->data || !fwg_read(g, key, b->data, size))
		return fail(a, "ALLOCATE \"%s\": reading it failed", c->file);
	return true;
}

static bool valid_size(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool cmd_add_pointer(struct fwg_acpi *a, const struct cmd *c)
{
	struct fwg_blob *b = blob(a, c->file), *b2 = blob(a, c->file2);
	uint32_t off = c->u32[0];
	if (!b || !b2)
		return fail(a, "ADD_POINTER \"%s\" -> \"%s\": not allocated",
			    c->file, c->file2);
	if (!valid_size(c->size) || b->size < c->size ||
	    b->size - c->size < off)
		return fail(a,
			    "ADD_POINTER \"%s\" at 0x%x, %u bytes: outside it",
			    c->file, off, c->size);
	uint64_t v = get_le(b->data + off, c->size);
	if (v >= b2->size)
		return fail(a,
			    "ADD_POINTER \"%s\" at 0x%x: 0x%llx is past the "
			    "end of \"%s\"",
			    c->file, off, (unsigned long long)v, c->file2);
	v += b2->base;
	if (c->size < 8 && v >> (c->size * 8))
		return fail(a,
			    "ADD_POINTER \"%s\" at 0x%x: 0x%llx does not fit",
			    c->file, off, (unsigned long long)v);
	put_le(b->data + off, v, c->size);
	return true;
}

static bool cmd_add_checksum(struct fwg_acpi *a, const struct cmd *c)
{
	struct fwg_blob *b = blob(a, c->file);
	uint32_t result = c->u32[0], start = c->u32[1], len = c->u32[2];
	if (!b)
		return fail(a, "ADD_CHECKSUM \"%s\": not allocated", c->file);
	if (b->size <= result || b->size < len || b->size - len < start)
		return fail(a, "ADD_CHECKSUM \"%s\": range outside it",
			    c->file);
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += b->data[start + i];
	b->data[result] = (uint8_t)-sum;
	return true;
}

static bool cmd_write_pointer(struct fwg *g, struct fwg_acpi *a,
			      const struct cmd *c)
{
	uint16_t key;
	uint32_t size, off = c->u32[0];
	struct fwg_blob *b2 = blob(a, c->file2);
	if (!fwg_find_file(g, c->file, &key, &size) || !b2)
		return fail(a, "WRITE_POINTER \"%s\" -> \"%s\": unknown",
			    c->file, c->file2);
	if (!valid_size(c->size) || size < c->size || size - c->size < off)
		return fail(a, "WRITE_POINTER \"%s\" at 0x%x: outside it",
			    c->file, off);
	if (c->u32[1] >= b2->size)
		return fail(a, "WRITE_POINTER \"%s\": offset past \"%s\"",
			    c->file, c->file2);
	uint64_t v = b2->base + c->u32[1];
	if (c->size < 8 && v >> (c->size * 8))
		return fail(a, "WRITE_POINTER \"%s\": 0x%llx does not fit",
			    c->file, (unsigned long long)v);
	uint8_t le[8];
	put_le(le, v, 8);
	if (!fwg_write(g, key, off, le, c->size))
		return fail(a, "WRITE_POINTER \"%s\": the device refused it",
			    c->file);
	return true;
}

static bool first_pass(struct fwg *g, struct fwg_acpi *a, const uint8_t *script,
		       size_t n)
{
	uint64_t low = FWG_LOW_BASE, high = FWG_HIGH_BASE;
	for (size_t i = 0; i < n; i++) {
		struct cmd c = parse(script + i * FW_CFG_LOADER_ENTRY_SIZE);
		bool ok = true;
		if (c.type >= FW_CFG_LOADER_ALLOCATE &&
		    c.type <= FW_CFG_LOADER_WRITE_POINTER && !c.names_ok)
			return fail(a, "command %zu: malformed file name", i);
		if (c.type == FW_CFG_LOADER_ALLOCATE) {
			bool r = restricted(script, n, c.file);
			ok = cmd_allocate(g, a, &c, r, r ? &low : &high);
		} else if (c.type == FW_CFG_LOADER_ADD_POINTER) {
			ok = cmd_add_pointer(a, &c);
		} else if (c.type == FW_CFG_LOADER_ADD_CHECKSUM) {
			ok = cmd_add_checksum(a, &c);
		} else if (c.type == FW_CFG_LOADER_WRITE_POINTER) {
			ok = cmd_write_pointer(g, a, &c);
		} /* anything else: skipped */
		if (!ok)
			return false;
	}
	return true;
}

/* Process2ndPassCmdAddPointer(): is there an ACPI table where the patched
 * pointer points? */
static bool second_pass_one(struct fwg_acpi *a, const struct cmd *c,
			    uint64_t *seen, unsigned *nr_seen)
{
	struct fwg_blob *b = blob(a, c->file), *b2 = blob(a, c->file2);
	uint64_t v = get_le(b->data + c->u32[0], c->size);
	for (unsigned i = 0; i < *nr_seen; i++)
		if (seen[i] == v)
			return true;
	seen[(*nr_seen)++] = v;
	const uint8_t *p = b2->data + (v - b2->base);
	uint64_t remaining = b2->base + b2->size - v;
	uint32_t len = 0;
	if (remaining >= FACS_MIN && !memcmp(p, "FACS", 4) &&
	    le32_at(p + 4) >= FACS_MIN && le32_at(p + 4) <= remaining)
		len = le32_at(p + 4);
	if (!len && remaining >= HEADER_LEN) {
		uint32_t l = le32_at(p + 4);
		uint8_t sum = 0;
		for (uint32_t i = 0; l >= HEADER_LEN && l <= remaining && i < l;
		     i++)
			sum += p[i];
		if (l >= HEADER_LEN && l <= remaining && !sum) {
			if (!memcmp(p, "RSDT", 4) || !memcmp(p, "XSDT", 4))
				return true;
			len = l;
		}
	}
	if (!len)
		return true; /* not a table: OVMF keeps the blob, no error */
	if (a->nr_tables == FWG_MAX_TABLES)
		return fail(a, "more than %d tables", FWG_MAX_TABLES);
	struct fwg_table *t = &a->tables[a->nr_tables++];
	memcpy(t->sig, p, 4);
	t->sig[4] = 0;
	t->addr = v;
	t->data = p;
	t->len = len;
	return true;
}

bool fwg_load_acpi(struct fwg *g, struct fwg_acpi *a)
{
	memset(a, 0, sizeof(*a));
	uint16_t key;
	uint32_t size;
	if (!fwg_find_file(g, FW_CFG_FILE_TABLE_LOADER, &key, &size))
		return fail(a, "no \"etc/table-loader\"");
	if (size % FW_CFG_LOADER_ENTRY_SIZE)
		return fail(a, "\"etc/table-loader\" has %u bytes", size);
	uint8_t *script = malloc(size ? size : 1);
	size_t n = size / FW_CFG_LOADER_ENTRY_SIZE;
	uint64_t *seen = calloc(n ? n : 1, sizeof(*seen));
	unsigned nr_seen = 0;
	bool ok = script && seen && fwg_read(g, key, script, size);
	if (!ok)
		fail(a, "reading \"etc/table-loader\" failed");
	ok = ok && first_pass(g, a, script, n);
	for (size_t i = 0; ok && i < n; i++) {
		struct cmd c = parse(script + i * FW_CFG_LOADER_ENTRY_SIZE);
		if (c.type == FW_CFG_LOADER_ADD_POINTER)
			ok = second_pass_one(a, &c, seen, &nr_seen);
	}
	if (!ok)
		a->nr_tables = 0; /* rolled back */
	free(seen);
	free(script);
	return ok;
}

void fwg_acpi_free(struct fwg_acpi *a)
{
	for (unsigned i = 0; i < a->nr_blobs; i++)
		free(a->blobs[i].data);
	a->nr_blobs = 0;
	a->nr_tables = 0;
}

const struct fwg_table *fwg_acpi_table(const struct fwg_acpi *a,
				       const char *sig)
{
	for (unsigned i = 0; i < a->nr_tables; i++)
		if (!strcmp(a->tables[i].sig, sig))
			return &a->tables[i];
	return NULL;
}
