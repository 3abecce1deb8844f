/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86_64 "virt" machine's guest physical address map.
 *
 *   0x0000_0000  RAM (low); fixed boot structures below 1 MiB (see below)
 *   0x000E_0000  ACPI tables (RSDP first, so a legacy scan finds it)
 *   0x000F_FFF0  the reset vector: a stub that resets through 0xCF9
 *   0x0010_0000  RAM continues up to min(ram, 3 GiB)
 *   0xC000_0000  32-bit PCI BAR window (512 MiB)
 *   0xE000_0000  PCIe ECAM (256 buses x 1 MiB)
 *   0xFEC0_0000  IOAPIC
 *   0xFEE0_0000  LAPIC
 *   0xFEFF_C000  KVM's identity-map page and TSS (Intel VMX)
 *   0xFF00_0000  firmware boot: the image and its variables, up to 4 GiB
 *   0x1_0000_0000 RAM above 4 GiB (whatever did not fit below the hole)
 *   above RAM    64-bit PCI BAR window, 1 GiB aligned
 */
#ifndef PHY_ARCH_X86_64_LAYOUT_H
#define PHY_ARCH_X86_64_LAYOUT_H

#include <stdint.h>

/* Boot structures in low memory. */
#define X86_GDT_GPA             0x500ULL
#define X86_IDT_GPA             0x520ULL  /* an empty IDT for the boot state */
#define X86_PVH_START_INFO_GPA  0x6000ULL /* struct hvm_start_info + memmap */
#define X86_ZERO_PAGE_GPA       0x7000ULL /* struct boot_params */
#define X86_PML4_GPA            0x9000ULL
#define X86_PDPT_GPA            0xA000ULL
#define X86_PD_GPA              0xB000ULL /* 4 pages: identity map of 4 GiB */
#define X86_CMDLINE_GPA         0x20000ULL
#define X86_CMDLINE_MAX         0x10000ULL /* 64 KiB including the NUL */
#define X86_EBDA_GPA            0x9FC00ULL /* RAM below here is usable */
#define X86_ACPI_GPA            0xE0000ULL
#define X86_ACPI_SIZE           0x10000ULL
#define X86_RESET_VECTOR_GPA    0xFFFF0ULL /* F000:FFF0, a stub: see machine.c */
#define X86_BIOS_AREA_END       0x100000ULL
#define X86_HIMEM_GPA           0x100000ULL /* 1 MiB: default kernel load */

/* The 32-bit hole. */
#define X86_MMIO_HOLE_GPA       0xC0000000ULL
#define X86_PCI_MMIO32_GPA      0xC0000000ULL
#define X86_PCI_MMIO32_SIZE     0x20000000ULL
#define X86_ECAM_GPA            0xE0000000ULL
#define X86_ECAM_SIZE           0x10000000ULL
#define X86_ECAM_BUS_END        255
#define X86_IOAPIC_GPA          0xFEC00000ULL
#define X86_LAPIC_GPA           0xFEE00000ULL
#define X86_HIGH_RAM_GPA        0x100000000ULL
#define X86_PCI_MMIO64_ALIGN    0x40000000ULL
#define X86_PCI_MMIO64_SIZE     0x1000000000ULL /* 64 GiB */
/* Pages Intel VMX needs inside the guest's address space, where nothing
 * else is: QEMU's addresses, below the firmware's 16 MiB. */
#define X86_KVM_IDENTITY_MAP_GPA 0xFEFFC000ULL
#define X86_KVM_TSS_GPA         0xFEFFD000ULL /* 3 pages */

/*
 * Firmware boot: an i440FX-like machine as OVMF knows it. No ECAM (PCI
 * configuration through 0xCF8); OVMF puts 32-bit BARs between the top of
 * low RAM (2 GiB at least) and 0xFC000000, and 64-bit BARs in a window
 * above RAM aligned to its size (32 GiB by default), all of which the
 * host bridge's windows cover.
 */
#define X86_FW_PCI_MMIO32_END   0xFC000000ULL
#define X86_FW_PCI_MMIO64_END   0x10000000000ULL /* 1 TiB */
#define X86_FW_PM_PORT          0xB000 /* PMBA, OVMF's i440FX value */
#define X86_FW_PM_S5_SLP_TYP    0      /* a PIIX4's soft-off */
#define X86_CMOS_CENTURY        0x32   /* the CMOS byte the FADT names */

/* Legacy I/O ports. */
#define X86_COM1_PORT           0x3F8
#define X86_COM1_IRQ            4
#define X86_PCI_CONFIG_PORT     0xCF8 /* type 1 config: 0xCF8..0xCFF */
#define X86_RESET_PORT          0xCF9 /* also the ACPI reset register */
#define X86_RESET_VALUE         0x06
/* Hardware-reduced ACPI sleep registers (one byte each). */
#define X86_SLEEP_CONTROL_PORT  0x600
#define X86_SLEEP_STATUS_PORT   0x601
#define X86_S5_SLP_TYP          5   /* the _S5 value the DSDT advertises */
/* The ACPI Generic Event Device: its event register (4 bytes, read to
 * clear) and its interrupt, an IOAPIC pin no ISA or PCI device uses. */
#define X86_GED_PORT            0x604
#define X86_GED_GSI             23
#define X86_IOAPIC_PINS         24

#define X86_MAX_VCPUS           255

/* e820 memory map. */
enum x86_e820_type {
	X86_E820_RAM = 1,
	X86_E820_RESERVED = 2,
	X86_E820_ACPI = 3,
};

struct x86_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

#define X86_E820_MAX 16

/*
 * Fills `out` with the memory map of a guest with ram_size bytes of RAM.
 * Returns the number of entries (sorted by address, non-overlapping).
 */
int x86_e820_build(uint64_t ram_size, struct x86_e820_entry *out, int max);

/* Start of the 64-bit PCI window for a guest with ram_size bytes. */
uint64_t x86_pci_mmio64_base(uint64_t ram_size);

/* Firmware boot's 64-bit PCI window for a guest with ram_size bytes:
 * from x86_pci_mmio64_base() to 1 TiB, or X86_PCI_MMIO64_SIZE when RAM
 * reaches beyond that. */
uint64_t x86_fw_pci_mmio64_size(uint64_t ram_size);

/* End of the RAM below the 32-bit hole for a guest with ram_size bytes. */
uint64_t x86_low_ram_end(uint64_t ram_size);

/* The memory map firmware is given (fw_cfg's etc/e820): RAM only, as
 * the firmware reserves what it uses itself. */
int x86_e820_firmware_build(uint64_t ram_size, struct x86_e820_entry *out,
			    int max);

#endif
