/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI tables for the x86_64 "virt" machine: RSDP, XSDT, FADT (hardware
 * reduced, with sleep control/status and reset registers), MADT, MCFG and a
 * DSDT with the PCIe host bridge, the motherboard's reserved resources,
 * and whatever the machine's devices describe of themselves (parts).
 */
#ifndef PHY_ARCH_X86_64_ACPI_H
#define PHY_ARCH_X86_64_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

struct aml;

/* A device's own description in the DSDT, emitted inside \_SB (a name
 * with a root prefix, like \_S5, lands in the root). A part that cannot
 * be encoded calls aml_fail(); the build then fails naming it. */
struct x86_acpi_part {
	const char *name; /* for messages: "com1", "acpi-ged" */
	void (*emit)(void *opaque, struct aml *a);
	void *opaque;
};

/* I/O ports the motherboard resources device (PNP0C02) reserves: device
 * registers that no _CRS of their own claims. */
struct x86_acpi_io_range {
	uint16_t base;
	uint16_t len;
};

struct x86_acpi_config {
	unsigned nr_cpus;           /* APIC IDs 0 .. nr_cpus-1 */
	uint64_t lapic_gpa;
	uint64_t ioapic_gpa;
	uint8_t ioapic_id;
	uint64_t ecam_gpa; /* 0: none (configuration through 0xCF8 only) */
	uint8_t bus_start, bus_end;
	uint64_t mmio32_gpa, mmio32_size;
	uint64_t mmio64_gpa, mmio64_size;
	uint16_t sleep_control_port;
	uint16_t sleep_status_port;
	uint16_t reset_port;
	uint8_t reset_value;
	bool cmos_rtc; /* a PC's CMOS clock at 0x70 (firmware boot) */
	const struct x86_acpi_part *parts;
	unsigned nr_parts;
	const struct x86_acpi_io_range *reserved;
	unsigned nr_reserved;
};

/* The configuration of this project's "virt" machine (layout.h) for a guest
 * with nr_cpus vCPUs and ram_size bytes of RAM; no parts, nothing reserved
 * beyond ECAM. */
struct x86_acpi_config x86_acpi_virt_config(unsigned nr_cpus,
					    uint64_t ram_size);

/*
 * Writes all tables into buf, which the guest will see at buf_gpa. The RSDP
 * is at buf_gpa (16-byte aligned). Returns the number of bytes used, or a
 * negative PHY_E_* code if buf is too small.
 */
long x86_acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf,
		    size_t buf_size, uint64_t buf_gpa, struct phy_error *err);

/*
 * Where tables built at address 0 point at each other, for a loader that
 * places them itself (the firmware's, through fw_cfg's table-loader):
 * each pointer field holds its target's offset in the buffer and must
 * have the buffer's address added; each checksum must then be redone.
 * The RSDP is the first rsdp_size bytes.
 */
#define X86_ACPI_MAX_LINKS 12

struct x86_acpi_links {
	uint32_t rsdp_size;
	struct {
		uint32_t offset;
		uint8_t size;
	} pointers[X86_ACPI_MAX_LINKS];
	unsigned nr_pointers;
	struct {
		uint32_t start, length, checksum;
	} checksums[X86_ACPI_MAX_LINKS];
	unsigned nr_checksums;
};

/* x86_acpi_build() at address 0, saying what a loader must patch. */
long x86_acpi_build_links(const struct x86_acpi_config *cfg, uint8_t *buf,
			  size_t buf_size, struct x86_acpi_links *links,
			  struct phy_error *err);

#endif
