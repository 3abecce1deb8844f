/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QEMU's firmware configuration device (fw_cfg), x86 I/O-port flavour, as
 * OVMF's QemuFwCfgLib drives it (QEMU docs/specs/fw_cfg.rst): the VMM
 * hands the firmware blobs ("items") under 16-bit keys, and named files
 * listed in a directory.
 *
 * Registers, FW_CFG_PORT_SIZE bytes of PIO at FW_CFG_PORT_BASE:
 *   0x510  selector, 16-bit little-endian write: selects an item, offset 0
 *   0x511  data: a byte read returns the item's next byte, 0 past its
 *          end; a byte written goes into a writable file the same way and
 *          is dropped for any other item (QEMU drops them all). One-byte
 *          accesses at 0x510 act on the data too, as in QEMU
 *   0x514  DMA address, high half (32-bit write, big-endian), or the whole
 *          address (64-bit write, big-endian), which starts the access
 *   0x518  DMA address, low half: the write starts the access
 *   reads at 0x514..0x51b return the bytes of "QEMU CFG" (the DMA
 *   signature); 0x512 and 0x513 read 0 and ignore writes.
 *
 * A DMA access is a struct fw_cfg_dma_access in guest RAM at the written
 * address: SELECT first (the key in control's high 16 bits), then one of
 * READ (item bytes to guest RAM at `address`), WRITE (guest RAM into a
 * writable file) or SKIP (advance the offset), by that priority; then the
 * device stores 0, or FW_CFG_DMA_ERROR, in `control`. An access runs to
 * its end before the port write returns.
 *
 * What a guest cannot do (each one sets FW_CFG_DMA_ERROR and changes
 * nothing but `control` and a SELECT's selection, where QEMU may have
 * moved part of the bytes first; a length of 0 is success anywhere):
 *  - a descriptor that is not all in RAM (ERROR lands in `control` when
 *    those 4 bytes are in RAM; otherwise nothing is written);
 *  - a READ or WRITE whose target range [address, address + length) is
 *    not inside one RAM region: no byte outside RAM is ever touched;
 *  - a READ past the item's end longer than FW_CFG_DMA_MAX_ZERO_FILL
 *    bytes. QEMU zero-fills the whole tail; here a tail up to the cap is
 *    zero-filled and a longer one refused, so a 4 GiB length costs a
 *    vCPU microseconds, not seconds of memset under the device's lock.
 *    (OVMF and Linux never read past an item's end.) Item bytes
 *    themselves are copied whatever their size: the VMM chose them;
 *  - a WRITE to an item not added with FW_CFG_FILE_WRITABLE, or one that
 *    runs past the item's end (as QEMU).
 * A SKIP of any length is arithmetic: the offset stops at the item's end.
 *
 * OVMF (edk2-stable202211, OvmfPkgX64) polls `control` until it reads 0 and
 * never clears ERROR: an access that fails leaves the firmware spinning,
 * as it would on QEMU.
 *
 * Items are added before the guest runs; each add copies the bytes. Files
 * get keys FW_CFG_FILE_FIRST + their index in the directory, which is
 * sorted by name (strcmp) as QEMU sorts it, so a file's key is known once
 * all are added (fw_cfg_find_file()).
 *
 * Threads: the bus ops run on any vCPU thread; the device's own mutex
 * serialises them and the add and lookup calls.
 */
#ifndef PHY_DEVICES_LEGACY_FW_CFG_H
#define PHY_DEVICES_LEGACY_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/bus.h"

#define FW_CFG_PORT_BASE 0x510
#define FW_CFG_PORT_SIZE 12
/* Offsets inside the range. */
#define FW_CFG_REG_SELECTOR 0
#define FW_CFG_REG_DATA 1
#define FW_CFG_REG_DMA_HIGH 4
#define FW_CFG_REG_DMA_LOW 8

/* File names, NUL included: a name has at most 55 characters. */
#define FW_CFG_NAME_SIZE 56
#define FW_CFG_MAX_FILES 1024
#define FW_CFG_DMA_MAX_ZERO_FILL (1u << 20)

/*
 * Keys. OVMF 2022.11 reads SIGNATURE, ID and FILE_DIR (QemuFwCfgLib),
 * NB_CPUS (PlatformInitLib/Platform.c: the boot CPU count, le16),
 * BOOT_MENU (QemuBootOrderLib: le16, nonzero for a menu) and, for a kernel
 * booted through fw_cfg (X86QemuLoadImageLib), the KERNEL_*, SETUP_*,
 * CMDLINE_* and INITRD_* sizes (le32) and data.
 */
enum {
	FW_CFG_SIGNATURE = 0x00,      /* "QEMU", the device's own */
	FW_CFG_ID = 0x01,	      /* le32 FW_CFG_ID_*, the device's own */
	FW_CFG_UUID = 0x02,	      /* 16 bytes */
	FW_CFG_RAM_SIZE = 0x03,	      /* le64 */
	FW_CFG_NOGRAPHIC = 0x04,      /* le16 */
	FW_CFG_NB_CPUS = 0x05,	      /* le16: CPUs at boot */
	FW_CFG_MACHINE_ID = 0x06,     /* le32 */
	FW_CFG_KERNEL_ADDR = 0x07,    /* le32 */
	FW_CFG_KERNEL_SIZE = 0x08,    /* le32 */
	FW_CFG_KERNEL_CMDLINE = 0x09, /* le32 */
	FW_CFG_INITRD_ADDR = 0x0a,    /* le32 */
	FW_CFG_INITRD_SIZE = 0x0b,    /* le32 */
	FW_CFG_BOOT_DEVICE = 0x0c,    /* le16 */
	FW_CFG_NUMA = 0x0d,
	FW_CFG_BOOT_MENU = 0x0e,       /* le16 */
	FW_CFG_MAX_CPUS = 0x0f,	       /* le16 */
	FW_CFG_KERNEL_ENTRY = 0x10,    /* le32 */
	FW_CFG_KERNEL_DATA = 0x11,     /* the kernel after its setup sectors */
	FW_CFG_INITRD_DATA = 0x12,     /* the initrd */
	FW_CFG_CMDLINE_ADDR = 0x13,    /* le32 */
	FW_CFG_CMDLINE_SIZE = 0x14,    /* le32, NUL included */
	FW_CFG_CMDLINE_DATA = 0x15,    /* NUL-terminated */
	FW_CFG_SETUP_ADDR = 0x16,      /* le32 */
	FW_CFG_SETUP_SIZE = 0x17,      /* le32 */
	FW_CFG_SETUP_DATA = 0x18,      /* the kernel's setup sectors */
	FW_CFG_FILE_DIR = 0x19,	       /* the directory, the device's own */
	FW_CFG_FILE_FIRST = 0x20,      /* the first file's key */
	FW_CFG_WRITE_CHANNEL = 0x4000, /* a bit QEMU ignores in a selector */
	FW_CFG_ARCH_LOCAL = 0x8000,    /* x86's own keys: 0x8000 | 0..0x1f */
};

/* FW_CFG_ID bits */
#define FW_CFG_ID_TRADITIONAL 0x1 /* always set */
#define FW_CFG_ID_DMA 0x2

/* struct fw_cfg_dma_access.control bits */
#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08 /* the key in bits 16..31 */
#define FW_CFG_DMA_WRITE 0x10

/* The guest's DMA descriptor; every field big-endian. */
struct fw_cfg_dma_access {
	uint32_t control;
	uint32_t length;
	uint64_t address;
} __attribute__((packed));

/* "QEMU CFG": what a 64-bit big-endian read at 0x514 returns. */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull

/* One directory entry (FW_CFG_FILE_DIR is a be32 count, then these). */
struct fw_cfg_dir_entry {
	uint32_t size;	 /* big-endian */
	uint16_t select; /* big-endian: the key */
	uint16_t reserved;
	char name[FW_CFG_NAME_SIZE];
} __attribute__((packed));

/*
 * Well-known file names, with their format, as OVMF 2022.11 reads them:
 *  "etc/e820"              struct fw_cfg_e820_entry[]: OVMF sizes RAM
 *                          below 4 GiB (the highest end of a type-1 entry
 *                          under 4 GiB) and adds RAM at or above 4 GiB
 *                          from the type-1 entries only (MemDetect.c);
 *                          without the file it falls back to CMOS
 *  "etc/table-loader"      the ACPI linker/loader script
 *                          (fw_cfg_loader.h)
 *  "etc/acpi/tables"       the ACPI tables the script allocates
 *  "etc/acpi/rsdp"         the RSDP (OVMF builds its own: it installs
 *                          the tables the script's pointers reach)
 *  "bootorder"             OpenFirmware device paths, one a line
 *  "etc/boot-menu-wait"    le16 milliseconds, with FW_CFG_BOOT_MENU
 *  "etc/boot-fail-wait"    le32 seconds (SeaBIOS; OVMF does not read it)
 *  "etc/reserved-memory-end" le64: the end of memory hot-plug space
 *  "etc/extra-pci-roots"   le64: extra PCI root buses
 *  "etc/system-states"     6 bytes: S3/S4 enables (S3 needs bit 7 of [3])
 *  "etc/smbios/smbios-anchor", "etc/smbios/smbios-tables"  SMBIOS
 *  "etc/msr_feature_control" le64: IA32_FEATURE_CONTROL for every CPU
 *  "opt/ovmf/X-PciMmio64Mb" decimal string: the 64-bit PCI window in MiB
 *  "opt/ovmf/PcdSetNxForStack" "y"/"n" and the like
 */
#define FW_CFG_FILE_E820 "etc/e820"
#define FW_CFG_FILE_TABLE_LOADER "etc/table-loader"
#define FW_CFG_FILE_ACPI_TABLES "etc/acpi/tables"
#define FW_CFG_FILE_ACPI_RSDP "etc/acpi/rsdp"
#define FW_CFG_FILE_BOOTORDER "bootorder"
#define FW_CFG_FILE_BOOT_FAIL_WAIT "etc/boot-fail-wait"

/* An "etc/e820" entry, little-endian, 20 bytes (edk2's EFI_E820_ENTRY64). */
struct fw_cfg_e820_entry {
	uint64_t addr;
	uint64_t len;
	uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI, 4 NVS */
} __attribute__((packed));

/* fw_cfg_add_file() flags */
#define FW_CFG_FILE_WRITABLE 0x1 /* DMA WRITE and data-port writes allowed */

struct fw_cfg;

/* A device with the signature, the ID (DMA on) and an empty directory;
 * `mem` is where DMA descriptors and buffers live. NULL when out of
 * memory. */
struct fw_cfg *fw_cfg_create(const struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *fw);

/*
 * Adds a numbered item: a copy of `len` bytes under `key`, a key below
 * FW_CFG_FILE_FIRST, plain or with FW_CFG_ARCH_LOCAL, that is not the
 * device's own (SIGNATURE, ID, FILE_DIR) and not added before.
 */
int fw_cfg_add_item(struct fw_cfg *fw, uint16_t key, const void *data,
		    size_t len, struct phy_error *err);
/* The same for a little-endian integer, as QEMU's fw_cfg_add_i16 .. i64. */
int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t value,
		   struct phy_error *err);
int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t value,
		   struct phy_error *err);
int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t value,
		   struct phy_error *err);

/*
 * Adds a file: a copy of `len` bytes (below 4 GiB) named `name` (1 to
 * FW_CFG_NAME_SIZE - 1 characters, not added before), read-only unless
 * `flags` has FW_CFG_FILE_WRITABLE. At most FW_CFG_MAX_FILES files.
 */
int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    size_t len, unsigned flags, struct phy_error *err);

/* The key and size of file `name`; false when there is none. */
bool fw_cfg_find_file(struct fw_cfg *fw, const char *name, uint16_t *key,
		      uint32_t *size);

/* Copies up to `len` bytes of item `key` from `offset` into buf (a
 * writable file as the guest left it); returns how many, 0 for no item. */
size_t fw_cfg_read_item(struct fw_cfg *fw, uint16_t key, uint64_t offset,
			void *buf, size_t len);

/* Register FW_CFG_PORT_SIZE bytes at FW_CFG_PORT_BASE, opaque the device. */
extern const struct bus_device_ops fw_cfg_bus_ops;

#endif
