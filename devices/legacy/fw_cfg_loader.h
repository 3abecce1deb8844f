/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QEMU's ACPI linker/loader script, the fw_cfg file "etc/table-loader": a
 * list of FW_CFG_LOADER_ENTRY_SIZE-byte commands that tell the firmware to
 * download fw_cfg files into its memory, patch pointers between them and
 * fix checksums (QEMU hw/acpi/bios-linker-loader.c; OVMF
 * OvmfPkg/AcpiPlatformDxe/QemuFwCfgAcpi.c, SeaBIOS romfile_loader.c).
 * This builds the script; the files are the caller's.
 *
 * Each command: le32 type, then (every integer little-endian, names
 * NUL-padded to FW_CFG_NAME_SIZE, the rest of the 128 bytes zero)
 *   1 ALLOCATE       file[56], align le32, zone u8
 *   2 ADD_POINTER    dst file[56], src file[56], dst offset le32, size u8:
 *                    the `size` bytes at dst offset in dst file hold an
 *                    offset into src file; the firmware adds src file's
 *                    address to them
 *   3 ADD_CHECKSUM   file[56], checksum offset le32, start le32, length le32
 *   4 WRITE_POINTER  dst file[56], src file[56], dst offset le32,
 *                    src offset le32, size u8: the firmware writes src
 *                    file's address + src offset into the writable fw_cfg
 *                    file dst (through DMA WRITE), not into memory
 *
 * What OVMF 2022.11 does with it (QemuFwCfgAcpi.c), and so the rules a
 * script must keep:
 *  - "etc/table-loader"'s size is a multiple of 128 or nothing is loaded;
 *    commands of unknown type are skipped.
 *  - ALLOCATE: align at most 4096 (a page; more is refused); the zone is
 *    ignored: every file goes to whole pages of ACPI NVS memory, below
 *    4 GiB only when some ADD_POINTER of size 1, 2 or 4 points at it.
 *    (SeaBIOS honours FSEG: QEMU allocates "etc/acpi/rsdp" there, the
 *    tables HIGH.) A file allocated twice fails the script.
 *  - ADD_POINTER: both files allocated by an earlier command; size 1, 2,
 *    4 or 8; dst offset + size within dst file; the value already there
 *    (the offset into src) below src file's size; the sum must fit.
 *  - ADD_CHECKSUM: file allocated earlier; checksum offset inside it and
 *    [start, start + length) too. OVMF stores 0 - (byte sum of the range)
 *    at the checksum offset, the range including it: the checksum byte
 *    must be 0 in the file (QEMU asserts it), and the command must come
 *    after every ADD_POINTER that patches bytes of the range.
 *  - Any failure rolls back everything: no tables at all.
 *  - Which tables OVMF installs: it does not walk RSDP/XSDT. In a second
 *    pass, for each ADD_POINTER in script order, it looks at the address
 *    the patched pointer holds (each address once): a FACS there (its
 *    signature, a length within what is left of the file) or a table whose
 *    header length fits and whose bytes sum to 0 is installed with
 *    EFI_ACPI_TABLE_PROTOCOL, except RSDT and XSDT, which the protocol
 *    builds itself (as it does the RSDP). A table no pointer reaches, or
 *    one with a bad checksum, is silently left out. At most 128 tables.
 *    So: the RSDP points to the XSDT, the XSDT to every table, the FADT
 *    to the DSDT (and FACS), all through ADD_POINTERs, and checksums
 *    are fixed before (ADD_CHECKSUMs come after the pointers in them).
 */
#ifndef PHY_DEVICES_LEGACY_FW_CFG_LOADER_H
#define PHY_DEVICES_LEGACY_FW_CFG_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define FW_CFG_LOADER_ENTRY_SIZE 128
#define FW_CFG_LOADER_MAX_ALIGN 4096 /* OVMF refuses more */

enum {
	FW_CFG_LOADER_ALLOCATE = 1,
	FW_CFG_LOADER_ADD_POINTER = 2,
	FW_CFG_LOADER_ADD_CHECKSUM = 3,
	FW_CFG_LOADER_WRITE_POINTER = 4,
};

enum fw_cfg_loader_zone {
	FW_CFG_LOADER_ZONE_HIGH = 1, /* anywhere */
	FW_CFG_LOADER_ZONE_FSEG = 2, /* 0xE0000..0xFFFFF (SeaBIOS; not OVMF) */
};

struct fw_cfg_loader;

/* An empty script; NULL when out of memory. */
struct fw_cfg_loader *fw_cfg_loader_create(void);
void fw_cfg_loader_destroy(struct fw_cfg_loader *l);

/*
 * Each call appends one command, or fails (PHY_E_INVALID naming the rule,
 * PHY_E_NOMEM) and appends nothing. Every name has 1 to 55 characters;
 * the rules above that the script alone can check are checked: align a
 * power of two up to FW_CFG_LOADER_MAX_ALIGN, a known zone, a file
 * allocated once and before any command names it (WRITE_POINTER's dst is
 * a fw_cfg file, not allocated), a pointer size of 1, 2, 4 or 8, no range
 * wrapping past 4 GiB. Offsets against the files' sizes are the caller's.
 */
int fw_cfg_loader_allocate(struct fw_cfg_loader *l, const char *file,
			   uint32_t align, enum fw_cfg_loader_zone zone,
			   struct phy_error *err);
int fw_cfg_loader_add_pointer(struct fw_cfg_loader *l, const char *dst_file,
			      uint32_t dst_offset, uint8_t size,
			      const char *src_file, struct phy_error *err);
int fw_cfg_loader_add_checksum(struct fw_cfg_loader *l, const char *file,
			       uint32_t start, uint32_t len,
			       uint32_t checksum_offset, struct phy_error *err);
int fw_cfg_loader_write_pointer(struct fw_cfg_loader *l, const char *dst_file,
				uint32_t dst_offset, uint8_t size,
				const char *src_file, uint32_t src_offset,
				struct phy_error *err);

/* The script so far: *len bytes (a multiple of FW_CFG_LOADER_ENTRY_SIZE),
 * for fw_cfg_add_file(FW_CFG_FILE_TABLE_LOADER); valid until the next
 * call on l. */
const uint8_t *fw_cfg_loader_data(const struct fw_cfg_loader *l, size_t *len);

#endif
