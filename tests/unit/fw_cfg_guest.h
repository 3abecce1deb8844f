/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firmware's side of fw_cfg, for tests: what OVMF (edk2-stable202211)
 * does with the device, through its ports and DMA into guest RAM.
 * QemuFwCfgLib's file lookup and reads; AcpiPlatformDxe's processing of
 * "etc/table-loader" (OvmfPkg/AcpiPlatformDxe/QemuFwCfgAcpi.c) with every
 * check it makes, down to which tables it would hand to
 * EFI_ACPI_TABLE_PROTOCOL. A test of what the VMM puts in fw_cfg runs
 * this to see what OVMF would make of it without booting OVMF.
 *
 * Allocations are simulated: each ALLOCATE gets a host buffer and an
 * address, below 4 GiB (from FWG_LOW_BASE) when a pointer narrower than
 * 8 bytes points at the file, as OVMF restricts it, and from
 * FWG_HIGH_BASE otherwise, so that a pointer too narrow for its target
 * shows.
 */
#ifndef PHY_TESTS_FW_CFG_GUEST_H
#define PHY_TESTS_FW_CFG_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/guest_mem.h"
#include "devices/legacy/fw_cfg.h"

#define FWG_LOW_BASE 0x7f000000ull
#define FWG_HIGH_BASE 0x1000000000ull
#define FWG_MAX_BLOBS 32
#define FWG_MAX_TABLES 128 /* OVMF's INSTALLED_TABLES_MAX */

/* The firmware: the device, guest RAM, and `scratch_size` bytes of RAM at
 * `scratch` for its descriptor and bounce buffer (at least 4 KiB). */
struct fwg {
	struct fw_cfg *fw;
	const struct guest_mem *mem;
	uint64_t scratch;
	uint32_t scratch_size;
};

/* QemuFwCfgFindFile(): the directory read field by field over DMA. */
bool fwg_find_file(struct fwg *g, const char *name, uint16_t *key,
		   uint32_t *size);
/* SELECT + READ of an item's first `len` bytes, in scratch-sized DMA
 * reads; false when the device reported ERROR. */
bool fwg_read(struct fwg *g, uint16_t key, void *buf, uint32_t len);
/* SELECT + SKIP `offset` + WRITE, as ProcessCmdWritePointer() does. */
bool fwg_write(struct fwg *g, uint16_t key, uint32_t offset, const void *buf,
	       uint32_t len);

struct fwg_blob {
	char name[FW_CFG_NAME_SIZE];
	uint8_t *data; /* whole pages, zero past size, as OVMF leaves them */
	uint32_t size;
	uint64_t base; /* the address the firmware gave it */
	bool low;      /* restricted to 32-bit addresses */
};

struct fwg_table {
	char sig[5];
	uint64_t addr;
	const uint8_t *data; /* inside its blob */
	uint32_t len;
};

struct fwg_acpi {
	struct fwg_blob blobs[FWG_MAX_BLOBS];
	unsigned nr_blobs;
	/* What OVMF would install, in its order (RSDT and XSDT left out:
	 * the protocol makes its own). */
	struct fwg_table tables[FWG_MAX_TABLES];
	unsigned nr_tables;
	char error[256]; /* the rule the script broke */
};

/* Runs "etc/table-loader" as InstallQemuFwCfgTables() does; false with
 * acpi->error set where OVMF would fail (and install nothing). Free with
 * fwg_acpi_free() either way. */
bool fwg_load_acpi(struct fwg *g, struct fwg_acpi *acpi);
void fwg_acpi_free(struct fwg_acpi *acpi);

/* The installed table with this signature, or NULL. */
const struct fwg_table *fwg_acpi_table(const struct fwg_acpi *acpi,
				       const char *sig);

#endif
