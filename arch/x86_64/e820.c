/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The e820 memory map handed to the guest (zero page or PVH memmap).
 *
 * [EBDA, 1 MiB) is backed by guest RAM but reported as a hole or reserved,
 * as on a PC: Linux treats 640K..1M as the legacy BIOS area whatever the
 * map says, and the ACPI tables live there.
 */
#include "arch/x86_64/layout.h"

#include <phyllome/vmm.h>

/* Start of the legacy VGA window; [EBDA, here) is the EBDA proper. */
#define E820_VGA_GPA 0xA0000ULL

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Appends [addr, end) unless it is empty; n < 0 carries an earlier error. */
static int e820_add(struct x86_e820_entry *out, int n, int max,
		    uint64_t addr, uint64_t end, enum x86_e820_type type)
{
	if (n < 0 || end <= addr)
		return n;
	if (n >= max)
		return -PHY_E_INTERNAL;
	out[n].addr = addr;
	out[n].size = end - addr;
	out[n].type = type;
	return n + 1;
}

int x86_e820_build(uint64_t ram_size, struct x86_e820_entry *out, int max)
{
	uint64_t low_end = min_u64(ram_size, X86_MMIO_HOLE_GPA);
	int n = 0;

	n = e820_add(out, n, max, 0, min_u64(low_end, X86_EBDA_GPA),
		     X86_E820_RAM);
	n = e820_add(out, n, max, X86_EBDA_GPA, E820_VGA_GPA,
		     X86_E820_RESERVED);
	/*
	 * The ACPI tables are reported as reserved, not as type 3 (ACPI
	 * reclaimable): type 3 tells the OS it may reuse the range once it
	 * has read the tables, yet the DSDT's AML must stay reachable for
	 * the guest's whole life. Linux finds the RSDP through
	 * acpi_rsdp_addr / start_info (or the legacy 0xE0000 scan), which
	 * works for any type, and it reserves 640K..1M regardless.
	 */
	n = e820_add(out, n, max, X86_ACPI_GPA, X86_BIOS_AREA_END,
		     X86_E820_RESERVED);
	n = e820_add(out, n, max, X86_HIMEM_GPA, low_end, X86_E820_RAM);
	/* Linux only trusts MMCONFIG when the e820 map reserves it. */
	n = e820_add(out, n, max, X86_ECAM_GPA, X86_ECAM_GPA + X86_ECAM_SIZE,
		     X86_E820_RESERVED);
	n = e820_add(out, n, max, X86_HIGH_RAM_GPA,
		     X86_HIGH_RAM_GPA + (ram_size - low_end), X86_E820_RAM);
	return n;
}

uint64_t x86_pci_mmio64_base(uint64_t ram_size)
{
	uint64_t low_end = min_u64(ram_size, X86_MMIO_HOLE_GPA);
	uint64_t top = X86_HIGH_RAM_GPA + (ram_size - low_end);

	return (top + X86_PCI_MMIO64_ALIGN - 1) & ~(X86_PCI_MMIO64_ALIGN - 1);
}

uint64_t x86_low_ram_end(uint64_t ram_size)
{
	return min_u64(ram_size, X86_MMIO_HOLE_GPA);
}

int x86_e820_firmware_build(uint64_t ram_size, struct x86_e820_entry *out,
			    int max)
{
	uint64_t low_end = x86_low_ram_end(ram_size);
	int n = e820_add(out, 0, max, 0, low_end, X86_E820_RAM);
	return e820_add(out, n, max, X86_HIGH_RAM_GPA,
			X86_HIGH_RAM_GPA + (ram_size - low_end), X86_E820_RAM);
}

uint64_t x86_fw_pci_mmio64_size(uint64_t ram_size)
{
	uint64_t base = x86_pci_mmio64_base(ram_size);
	return base + X86_PCI_MMIO64_SIZE > X86_FW_PCI_MMIO64_END ?
		       X86_PCI_MMIO64_SIZE :
		       X86_FW_PCI_MMIO64_END - base;
}
