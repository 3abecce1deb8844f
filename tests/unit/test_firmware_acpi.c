/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Firmware boot's ACPI tables as OVMF would take them from fw_cfg: the
 * script runs through the simulated firmware (fw_cfg_guest.h) with all of
 * OVMF's checks, and what it would install is checked table by table.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "check.h"
#include "common/aml.h"
#include "fw_cfg_guest.h"
#include "vmm/machine/firmware_acpi.h"
#include "vmm/machine/firmware_bootorder.h"

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void emit_nothing(void *opaque, struct aml *a)
{
	aml_name_integer(a, "TEST", 1);
}

static void test_tables(unsigned cpus)
{
	struct phy_error err = { 0 };
	struct guest_mem mem;
	REQUIRE(guest_mem_create(&mem, 1 << 20, 1 << 20, 1 << 20, 0, &err) == 0);
	struct fw_cfg *fw = fw_cfg_create(&mem);
	REQUIRE(fw);
	struct x86_acpi_part part = { "test", emit_nothing, NULL };
	struct x86_acpi_config c = x86_acpi_virt_config(cpus, 1ull << 30);
	c.ecam_gpa = 0;
	c.cmos_rtc = true;
	c.mmio32_gpa = 1ull << 30;
	c.mmio32_size = X86_FW_PCI_MMIO32_END - c.mmio32_gpa;
	c.parts = &part;
	c.nr_parts = 1;
	REQUIRE(firmware_acpi_add(fw, &c, &err) == 0);
	/* A second time: the files exist, which is an error, not a crash. */
	CHECK(firmware_acpi_add(fw, &c, &err) < 0);

	struct fwg g = { fw, &mem, 0x10000, 0x4000 };
	struct fwg_acpi a;
	bool ok = fwg_load_acpi(&g, &a);
	if (!ok)
		fprintf(stderr, "table-loader: %s\n", a.error);
	CHECK(ok);
	/* FADT, MADT and the DSDT through the FADT; no MCFG without ECAM;
	 * OVMF makes its own RSDP and XSDT. */
	CHECK_EQ_U64(a.nr_tables, 3);
	const struct fwg_table *fadt = fwg_acpi_table(&a, "FACP");
	const struct fwg_table *madt = fwg_acpi_table(&a, "APIC");
	const struct fwg_table *dsdt = fwg_acpi_table(&a, "DSDT");
	CHECK(!fwg_acpi_table(&a, "MCFG") && !fwg_acpi_table(&a, "XSDT"));
	REQUIRE(fadt && madt && dsdt);
	CHECK_EQ_U64(sum8(fadt->data, fadt->len), 0);
	CHECK_EQ_U64(sum8(madt->data, madt->len), 0);
	CHECK_EQ_U64(sum8(dsdt->data, dsdt->len), 0);
	CHECK_EQ_U64(rd(fadt->data + 140, 8), dsdt->addr); /* X_DSDT */
	CHECK(!(rd(fadt->data + 109, 2) & (1u << 5)));     /* CMOS present */
	/* One local APIC entry per CPU. */
	unsigned lapics = 0;
	for (uint32_t off = 44; off + 2 <= madt->len && madt->data[off + 1];
	     off += madt->data[off + 1])
		lapics += madt->data[off] == 0;
	CHECK_EQ_U64(lapics, cpus);
	CHECK(memmem(dsdt->data, dsdt->len, "TEST", 4) != NULL);
	fwg_acpi_free(&a);
	fw_cfg_destroy(fw);
	guest_mem_destroy(&mem);
}

/* "bootorder": the disks' OpenFirmware paths, as QEMU writes them. */
static void test_bootorder(void)
{
	char buf[128];
	const unsigned slots[] = { 2, 0x1f };
	size_t n = firmware_bootorder_format(slots, 2, buf, sizeof(buf));
	const char want[] = "/pci@i0cf8/scsi@2/disk@0,0\n/pci@i0cf8/scsi@1f/disk@0,0";
	CHECK_EQ_U64(n, sizeof(want));
	CHECK(n && !memcmp(buf, want, sizeof(want)));
	CHECK(firmware_bootorder_format(slots, 2, buf, 40) == 0); /* too small */
	CHECK(firmware_bootorder_format(slots, 0, buf, sizeof(buf)) == 0);

	struct phy_error err;
	struct guest_mem mem;
	REQUIRE(guest_mem_create(&mem, 1 << 20, 1 << 20, 1 << 20, 0, &err) == 0);
	struct fw_cfg *fw = fw_cfg_create(&mem);
	REQUIRE(fw);
	CHECK(firmware_bootorder_add(fw, slots, 0, &err) == 0);
	uint16_t key;
	uint32_t size;
	CHECK(!fw_cfg_find_file(fw, FW_CFG_FILE_BOOTORDER, &key, &size));
	CHECK(firmware_bootorder_add(fw, slots, 1, &err) == 0);
	CHECK(fw_cfg_find_file(fw, FW_CFG_FILE_BOOTORDER, &key, &size) &&
	      size == sizeof("/pci@i0cf8/scsi@2/disk@0,0"));
	fw_cfg_destroy(fw);
	guest_mem_destroy(&mem);
}

int main(void)
{
	test_bootorder();
	test_tables(1);
	test_tables(8);
	return check_report("test_firmware_acpi");
}
