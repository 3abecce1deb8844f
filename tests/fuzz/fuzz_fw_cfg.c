/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile firmware on fw_cfg's ports. Each input
 * builds a device with a fixed set of items and files (one writable) plus
 * up to four files whose names come from the input (too long, empty,
 * duplicates: refused), then is a program of steps, one opcode byte and
 * its arguments each: port reads and writes of any width at any offset
 * of the 12-byte range (as the bus delivers them: never past its end),
 * selections, bursts of data-port reads, and DMA accesses with any
 * control word, length and target, their descriptors anywhere (in RAM,
 * across the end of either region, outside it), started by the two
 * 32-bit halves, a lone low half or one 64-bit write. The device must
 * neither crash nor touch a byte outside guest RAM (heap regions of the
 * exact size: ASan watches both regions' edges); afterwards the
 * directory lists every file, sorted, and no read-only item changed.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy/fw_cfg.h"
#include "fuzz_prog.h"
#include "virtio_sim.h"

#define FZ_RAM 0x10000
#define FZ_HIGH_RAM 0x1000
#define FZ_BIG 5000 /* a file longer than most targets */

static void die(const char *what)
{
	fprintf(stderr, "fuzz_fw_cfg: %s\n", what);
	abort();
}

struct fz {
	struct virtio_sim *sim;
	struct fw_cfg *fw;
	uint8_t big[FZ_BIG];
};

static const char *const fixed_names[] = {"etc/table-loader", "etc/acpi/tables",
					  "bootorder", "etc/e820", "opt/empty"};
#define NR_FIXED (sizeof(fixed_names) / sizeof(fixed_names[0]))

static void build(struct fz *f, struct prog *g)
{
	struct phy_error err;
	f->fw = fw_cfg_create(&f->sim->mem);
	if (!f->fw)
		die("out of memory");
	for (size_t i = 0; i < NR_FIXED; i++) {
		size_t len = i == 0 ? FZ_BIG : i == 4 ? 0 : 40 * i + 3;
		if (fw_cfg_add_file(f->fw, fixed_names[i], f->big, len, 0,
				    &err))
			die(err.message);
	}
	if (fw_cfg_add_file(f->fw, "etc/rw", f->big, 16, FW_CFG_FILE_WRITABLE,
			    &err) ||
	    fw_cfg_add_u16(f->fw, FW_CFG_NB_CPUS, 2, &err) ||
	    fw_cfg_add_u64(f->fw, FW_CFG_RAM_SIZE, FZ_RAM, &err))
		die(err.message);
	/* Names from the input: any bytes, 0 to 63 of them. */
	for (unsigned n = prog_byte(g) & 3; n; n--) {
		char name[64];
		unsigned len = prog_byte(g) & 63;
		for (unsigned i = 0; i < len; i++)
			name[i] = (char)(prog_byte(g) | 1);
		name[len] = 0;
		fw_cfg_add_file(f->fw, name, f->big, prog_byte(g), 0, &err);
	}
}

/* Mostly around the items' sizes, sometimes huge. */
static uint32_t length(struct prog *g)
{
	uint8_t l = prog_byte(g);
	if (l < 0xe0)
		return l;
	if (l < 0xf0)
		return (uint32_t)prog_word(g) << (l & 15);
	return UINT32_MAX - prog_byte(g);
}

static uint32_t control(struct prog *g)
{
	uint8_t k = prog_byte(g);
	uint32_t c = k & 0x1f;
	if (k & 0x20) /* a select: a real key or any */
		c |= FW_CFG_DMA_SELECT |
		     (uint32_t)((k & 0x40) ? prog_word(g)
					   : FW_CFG_FILE_FIRST + (k >> 7) * 3 +
						     (prog_byte(g) & 7))
			     << 16;
	return c;
}

static void dma(struct fz *f, struct prog *g)
{
	uint64_t at = prog_address(g, FZ_RAM);
	uint32_t c = control(g), len = length(g);
	uint64_t addr = prog_address(g, FZ_RAM);
	struct fw_cfg_dma_access d = {htobe32(c), htobe32(len), htobe64(addr)};
	void *p = guest_mem_ptr(&f->sim->mem, at, sizeof(d));
	if (p)
		memcpy(p, &d, sizeof(d));
	uint8_t how = prog_byte(g) % 3;
	uint32_t hi = htobe32((uint32_t)(at >> 32)), lo = htobe32((uint32_t)at);
	uint64_t whole = htobe64(at);
	if (how == 0)
		fw_cfg_bus_ops.write(f->fw, FW_CFG_REG_DMA_HIGH, (uint8_t *)&hi,
				     4);
	if (how < 2)
		fw_cfg_bus_ops.write(f->fw, FW_CFG_REG_DMA_LOW, (uint8_t *)&lo,
				     4);
	else
		fw_cfg_bus_ops.write(f->fw, FW_CFG_REG_DMA_HIGH,
				     (uint8_t *)&whole, 8);
}

/* An access of 1, 2, 4 or 8 bytes inside the range, as bus_find allows. */
static void port(struct fz *f, struct prog *g, bool write)
{
	uint8_t k = prog_byte(g);
	uint32_t width = 1u << (k & 3);
	uint64_t off = (k >> 2) % FW_CFG_PORT_SIZE;
	uint8_t b[8];
	for (unsigned i = 0; i < 8; i++)
		b[i] = prog_byte(g);
	if (off + width > FW_CFG_PORT_SIZE)
		return;
	if (write)
		fw_cfg_bus_ops.write(f->fw, off, b, width);
	else
		fw_cfg_bus_ops.read(f->fw, off, b, width);
}

static void step(struct fz *f, uint8_t op, struct prog *g)
{
	switch (op % 6) {
	case 0:
	case 1:
		dma(f, g);
		break;
	case 2:
		port(f, g, true);
		break;
	case 3:
		port(f, g, false);
		break;
	case 4: {
		uint16_t key = prog_byte(g) & 0x3f;
		fw_cfg_bus_ops.write(f->fw, FW_CFG_REG_SELECTOR,
				     (uint8_t *)&key, 2);
		break;
	}
	case 5: /* a burst, as OVMF's rep insb */
		for (unsigned n = prog_byte(g); n; n--) {
			uint8_t b;
			fw_cfg_bus_ops.read(f->fw, FW_CFG_REG_DATA, &b, 1);
		}
		break;
	}
}

/* The directory through the device's own API: every file in it, sorted,
 * and the fixed files' bytes as they were. */
static void check(struct fz *f)
{
	uint8_t dir[4 + 16 * sizeof(struct fw_cfg_dir_entry)];
	size_t n =
		fw_cfg_read_item(f->fw, FW_CFG_FILE_DIR, 0, dir, sizeof(dir));
	uint32_t count;
	memcpy(&count, dir, 4);
	count = be32toh(count);
	if (n < 4 || n != 4 + count * sizeof(struct fw_cfg_dir_entry))
		die("the directory's size and count disagree");
	for (uint32_t i = 1; i < count; i++) {
		const char *a = (const char *)dir + 4 + (i - 1) * 64 + 8;
		if (strcmp(a, a + 64) >= 0)
			die("the directory is not sorted");
	}
	static uint8_t got[FZ_BIG];
	for (size_t i = 0; i < NR_FIXED; i++) {
		uint16_t key;
		uint32_t size;
		if (!fw_cfg_find_file(f->fw, fixed_names[i], &key, &size) ||
		    fw_cfg_read_item(f->fw, key, 0, got, size) != size ||
		    memcmp(got, f->big, size))
			die("a read-only file changed");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	if (!f.sim) {
		f.sim = sim_create(FZ_RAM, FZ_HIGH_RAM);
		if (!f.sim)
			die("no simulator (io_uring?)");
		for (size_t i = 0; i < FZ_BIG; i++)
			f.big[i] = (uint8_t)(i * 13 + 5);
	}
	struct prog g = {data, size};
	memset(f.sim->low, 0, FZ_RAM);
	memset(f.sim->high, 0, FZ_HIGH_RAM);
	build(&f, &g);
	for (unsigned steps = 0; g.n && steps < 256; steps++)
		step(&f, prog_byte(&g), &g);
	check(&f);
	fw_cfg_destroy(f.fw);
	f.fw = NULL;
	return 0;
}
