/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The table-loader script: a small script byte for byte against the
 * layout of edk2's QemuLoader.h (and QEMU's BiosLinkerLoaderEntry), the
 * rules the builder refuses, and a small ACPI set (RSDP, XSDT, FADT,
 * DSDT, MADT) through fw_cfg and OVMF's processing of it (fw_cfg_guest.h):
 * the tables it would install, and what it silently leaves out.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "devices/legacy/fw_cfg_loader.h"
#include "fw_cfg_guest.h"

/* Offsets from OvmfPkg/Include/IndustryStandard/QemuLoader.h: Type (4),
 * then the packed command. */
enum {
	TYPE = 0,
	ALLOC_FILE = 4,
	ALLOC_ALIGN = 60,
	ALLOC_ZONE = 64,
	PTR_FILE = 4,
	PTR_POINTEE = 60,
	PTR_OFFSET = 116,
	PTR_SIZE = 120,
	CK_FILE = 4,
	CK_RESULT = 60,
	CK_START = 64,
	CK_LENGTH = 68,
	WP_FILE = 4,
	WP_POINTEE = 60,
	WP_OFFSET = 116,
	WP_POINTEE_OFFSET = 120,
	WP_SIZE = 124,
};

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void name(uint8_t *p, const char *s)
{
	memcpy(p, s, strlen(s));
}

static void want_allocate(uint8_t *w, const char *file, uint32_t align,
			  uint8_t zone)
{
	le32(w + TYPE, 1);
	name(w + ALLOC_FILE, file);
	le32(w + ALLOC_ALIGN, align);
	w[ALLOC_ZONE] = zone;
}

static void test_layout(void)
{
	struct phy_error err = {0};
	struct fw_cfg_loader *l = fw_cfg_loader_create();
	REQUIRE(l);
	size_t len = 1;
	fw_cfg_loader_data(l, &len);
	CHECK_EQ_U64(len, 0);
	CHECK(fw_cfg_loader_allocate(l, "etc/acpi/rsdp", 16,
				     FW_CFG_LOADER_ZONE_FSEG, &err) == 0);
	CHECK(fw_cfg_loader_allocate(l, "etc/acpi/tables", 64,
				     FW_CFG_LOADER_ZONE_HIGH, &err) == 0);
	CHECK(fw_cfg_loader_add_pointer(l, "etc/acpi/rsdp", 24, 8,
					"etc/acpi/tables", &err) == 0);
	CHECK(fw_cfg_loader_add_checksum(l, "etc/acpi/rsdp", 0, 20, 8, &err) ==
	      0);
	CHECK(fw_cfg_loader_write_pointer(l, "etc/vmgenid_addr", 0, 8,
					  "etc/acpi/tables", 0x28, &err) == 0);

	uint8_t want[5][128] = {{0}};
	want_allocate(want[0], "etc/acpi/rsdp", 16, 2);
	want_allocate(want[1], "etc/acpi/tables", 64, 1);
	le32(want[2] + TYPE, 2);
	name(want[2] + PTR_FILE, "etc/acpi/rsdp");
	name(want[2] + PTR_POINTEE, "etc/acpi/tables");
	le32(want[2] + PTR_OFFSET, 24);
	want[2][PTR_SIZE] = 8;
	le32(want[3] + TYPE, 3);
	name(want[3] + CK_FILE, "etc/acpi/rsdp");
	le32(want[3] + CK_RESULT, 8);
	le32(want[3] + CK_START, 0);
	le32(want[3] + CK_LENGTH, 20);
	le32(want[4] + TYPE, 4);
	name(want[4] + WP_FILE, "etc/vmgenid_addr");
	name(want[4] + WP_POINTEE, "etc/acpi/tables");
	le32(want[4] + WP_OFFSET, 0);
	le32(want[4] + WP_POINTEE_OFFSET, 0x28);
	want[4][WP_SIZE] = 8;

	const uint8_t *got = fw_cfg_loader_data(l, &len);
	CHECK_EQ_U64(len, sizeof(want));
	for (int i = 0; i < 5 && len == sizeof(want); i++) {
		if (memcmp(got + 128 * i, want[i], 128)) {
			fprintf(stderr, "command %d differs\n", i);
			CHECK(0);
		}
	}
	/* A first byte of 'e', spot-checked against a hand-counted offset:
	 * the pointee name of command 2 starts at byte 128 * 2 + 60. */
	CHECK(len == sizeof(want) && got[316] == 'e' && got[317] == 't');
	fw_cfg_loader_destroy(l);
	fw_cfg_loader_destroy(NULL);
}

/* Every refusal appends nothing. */
static void test_rules(void)
{
	struct phy_error err = {0};
	struct fw_cfg_loader *l = fw_cfg_loader_create();
	REQUIRE(l);
	char long_name[57];
	memset(long_name, 'n', 56);
	long_name[56] = 0;
	const enum fw_cfg_loader_zone high = FW_CFG_LOADER_ZONE_HIGH;

	CHECK(fw_cfg_loader_allocate(l, long_name, 4, high, &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "1 to 55 characters");
	CHECK(fw_cfg_loader_allocate(l, "", 4, high, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_allocate(l, "t", 0, high, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_allocate(l, "t", 3, high, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_allocate(l, "t", 8192, high, &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "power of two up to 4096");
	CHECK(fw_cfg_loader_allocate(l, "t", 4, 0, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_allocate(l, "t", 4, 3, &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_pointer(l, "t", 0, 4, "t", &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "\"t\" is used before it is allocated");
	CHECK(fw_cfg_loader_add_checksum(l, "t", 0, 4, 0, &err) ==
	      -PHY_E_INVALID);
	size_t len = 1;
	fw_cfg_loader_data(l, &len);
	CHECK_EQ_U64(len, 0);

	long_name[55] = 0; /* 55 characters: fine */
	CHECK(fw_cfg_loader_allocate(l, long_name, 4096, high, &err) == 0);
	CHECK(fw_cfg_loader_allocate(l, "t", 1, high, &err) == 0);
	CHECK(fw_cfg_loader_allocate(l, "t", 1, high, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "\"t\" allocated twice");
	CHECK(fw_cfg_loader_add_pointer(l, "t", 0, 3, long_name, &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_pointer(l, "t", 0, 16, "t", &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_pointer(l, "t", 0, 4, "u", &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_pointer(l, "t", UINT32_MAX - 3, 8, "t", &err) ==
	      -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "runs past 4 GiB");
	CHECK(fw_cfg_loader_add_pointer(l, "t", UINT32_MAX - 4, 4, "t", &err) ==
	      0);
	CHECK(fw_cfg_loader_add_checksum(l, "t", 16, UINT32_MAX - 15, 0,
					 &err) == -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_checksum(l, "u", 0, 1, 0, &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_add_checksum(l, "t", 16, UINT32_MAX - 16, 0,
					 &err) == 0);
	/* WRITE_POINTER's destination is a fw_cfg file, not allocated; its
	 * source must be. */
	CHECK(fw_cfg_loader_write_pointer(l, "w", 0, 8, "t", 0, &err) == 0);
	CHECK(fw_cfg_loader_write_pointer(l, "w", 0, 8, "w", 0, &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_write_pointer(l, "w", 0, 5, "t", 0, &err) ==
	      -PHY_E_INVALID);
	CHECK(fw_cfg_loader_write_pointer(l, "", 0, 8, "t", 0, &err) ==
	      -PHY_E_INVALID);
	fw_cfg_loader_data(l, &len);
	CHECK_EQ_U64(len, 5 * FW_CFG_LOADER_ENTRY_SIZE);
	fw_cfg_loader_destroy(l);
}

/* ---- A small ACPI set, as OVMF would load it ---------------------------- */

#define RSDP "etc/acpi/rsdp"
#define TABLES "etc/acpi/tables"
/* Offsets in TABLES. */
enum { XSDT = 0, FADT = 64, DSDT = 384, MADT = 448, TABLES_LEN = 492 };
enum { FADT_LEN = 276, FADT_DSDT = 40, FADT_X_DSDT = 140 };

static void header(uint8_t *p, const char *sig, uint32_t len)
{
	memcpy(p, sig, 4);
	le32(p + 4, len);
	p[8] = 2;
	memcpy(p + 10, "PHYLLO", 6);
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

/* The files as a VMM writes them: pointers hold offsets into their
 * target file, checksum bytes are 0. */
static void acpi_files(uint8_t *rsdp, uint8_t *tables)
{
	memset(rsdp, 0, 36);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "PHYLLO", 6);
	rsdp[15] = 2;
	le32(rsdp + 20, 36);
	le64(rsdp + 24, XSDT);
	memset(tables, 0, TABLES_LEN);
	header(tables + XSDT, "XSDT", 36 + 2 * 8);
	le64(tables + XSDT + 36, FADT);
	le64(tables + XSDT + 44, MADT);
	header(tables + FADT, "FACP", FADT_LEN);
	le32(tables + FADT + FADT_DSDT, DSDT);
	le64(tables + FADT + FADT_X_DSDT, DSDT);
	header(tables + DSDT, "DSDT", 40);
	header(tables + MADT, "APIC", 44);
}

static void checksums(struct fw_cfg_loader *l, struct phy_error *err)
{
	static const uint32_t at[][2] = {
		{XSDT, 52}, {FADT, FADT_LEN}, {DSDT, 40}, {MADT, 44}};
	for (int i = 0; i < 4; i++)
		CHECK(fw_cfg_loader_add_checksum(l, TABLES, at[i][0], at[i][1],
						 at[i][0] + 9, err) == 0);
}

/* The script QEMU would write for these files; with checksums_first,
 * the tables' checksums come before the pointers inside them. */
static struct fw_cfg_loader *acpi_script(bool checksums_first)
{
	struct phy_error err = {0};
	struct fw_cfg_loader *l = fw_cfg_loader_create();
	if (!l)
		return NULL;
	CHECK(fw_cfg_loader_allocate(l, RSDP, 16, FW_CFG_LOADER_ZONE_FSEG,
				     &err) == 0);
	CHECK(fw_cfg_loader_allocate(l, TABLES, 64, FW_CFG_LOADER_ZONE_HIGH,
				     &err) == 0);
	if (checksums_first)
		checksums(l, &err);
	CHECK(fw_cfg_loader_add_pointer(l, TABLES, XSDT + 36, 8, TABLES,
					&err) == 0);
	CHECK(fw_cfg_loader_add_pointer(l, TABLES, XSDT + 44, 8, TABLES,
					&err) == 0);
	CHECK(fw_cfg_loader_add_pointer(l, TABLES, FADT + FADT_DSDT, 4, TABLES,
					&err) == 0);
	CHECK(fw_cfg_loader_add_pointer(l, TABLES, FADT + FADT_X_DSDT, 8,
					TABLES, &err) == 0);
	if (!checksums_first)
		checksums(l, &err);
	CHECK(fw_cfg_loader_add_pointer(l, RSDP, 24, 8, TABLES, &err) == 0);
	CHECK(fw_cfg_loader_add_checksum(l, RSDP, 0, 20, 8, &err) == 0);
	CHECK(fw_cfg_loader_add_checksum(l, RSDP, 0, 36, 32, &err) == 0);
	return l;
}

struct rig {
	struct guest_mem mem;
	struct fw_cfg *fw;
	struct fwg g;
};

/* A device holding the files and the script (patched by `tweak`). */
static bool rig_up(struct rig *r, bool checksums_first,
		   void (*tweak)(uint8_t *script, uint8_t *tables))
{
	struct phy_error err = {0};
	memset(r, 0, sizeof(*r));
	if (guest_mem_create(&r->mem, 1 << 20, 1 << 20, 1 << 20, 0, &err))
		return false;
	r->fw = fw_cfg_create(&r->mem);
	r->g = (struct fwg){r->fw, &r->mem, 0x10000, 0x4000};
	struct fw_cfg_loader *l = acpi_script(checksums_first);
	uint8_t rsdp[36], tables[TABLES_LEN];
	acpi_files(rsdp, tables);
	size_t len = 0;
	const uint8_t *s = l ? fw_cfg_loader_data(l, &len) : NULL;
	uint8_t *script = s ? malloc(len) : NULL;
	if (script) {
		memcpy(script, s, len);
		if (tweak)
			tweak(script, tables);
	}
	bool ok =
		r->fw && script &&
		!fw_cfg_add_file(r->fw, RSDP, rsdp, 36, 0, &err) &&
		!fw_cfg_add_file(r->fw, TABLES, tables, TABLES_LEN, 0, &err) &&
		!fw_cfg_add_file(r->fw, FW_CFG_FILE_TABLE_LOADER, script, len,
				 0, &err);
	free(script);
	fw_cfg_loader_destroy(l);
	return ok;
}

static void rig_down(struct rig *r)
{
	fw_cfg_destroy(r->fw);
	guest_mem_destroy(&r->mem);
}

static bool sums_to_zero(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

static void test_ovmf_loads(void)
{
	struct rig r;
	struct fwg_acpi a;
	REQUIRE(rig_up(&r, false, NULL));
	CHECK(fwg_load_acpi(&r.g, &a));
	CHECK_STR_CONTAINS(a.error[0] ? a.error : "ok", "ok");
	/* In pointer order, the DSDT once (two pointers reach it), no XSDT,
	 * no RSDP (nothing points at it). */
	CHECK_EQ_U64(a.nr_tables, 3);
	const char *order[] = {"FACP", "APIC", "DSDT"};
	for (unsigned i = 0; i < 3 && i < a.nr_tables; i++) {
		CHECK(!strcmp(a.tables[i].sig, order[i]));
		CHECK(sums_to_zero(a.tables[i].data, a.tables[i].len));
	}
	/* The 4-byte DSDT pointer kept the tables below 4 GiB; both of the
	 * FADT's pointers hold the DSDT's address. */
	const struct fwg_table *facp = fwg_acpi_table(&a, "FACP");
	const struct fwg_table *dsdt = fwg_acpi_table(&a, "DSDT");
	REQUIRE(facp && dsdt);
	CHECK(dsdt->addr < (1ull << 32) &&
	      dsdt->addr == facp->addr - FADT + DSDT);
	uint32_t d32;
	uint64_t d64;
	memcpy(&d32, facp->data + FADT_DSDT, 4);
	memcpy(&d64, facp->data + FADT_X_DSDT, 8);
	CHECK(d32 == dsdt->addr && d64 == dsdt->addr);
	CHECK_EQ_U64(facp->len, FADT_LEN);
	/* The RSDP was patched and checksummed too, in its own blob. */
	REQUIRE(a.nr_blobs == 2 && !strcmp(a.blobs[0].name, RSDP));
	CHECK(sums_to_zero(a.blobs[0].data, 20) &&
	      sums_to_zero(a.blobs[0].data, 36));
	uint64_t xsdt;
	memcpy(&xsdt, a.blobs[0].data + 24, 8);
	CHECK_EQ_U64(xsdt, a.blobs[1].base);
	fwg_acpi_free(&a);
	rig_down(&r);
}

/* A checksum computed before the pointers in its range are patched is
 * wrong afterwards: OVMF then leaves the table out, silently. */
static void test_ovmf_checksum_order(void)
{
	struct rig r;
	struct fwg_acpi a;
	REQUIRE(rig_up(&r, true, NULL));
	CHECK(fwg_load_acpi(&r.g, &a));
	/* The FADT holds pointers; the MADT and the DSDT hold none. */
	CHECK_EQ_U64(a.nr_tables, 2);
	CHECK(!fwg_acpi_table(&a, "FACP"));
	CHECK(fwg_acpi_table(&a, "APIC") && fwg_acpi_table(&a, "DSDT"));
	fwg_acpi_free(&a);
	rig_down(&r);
}

/* A checksum byte that is not 0 in the file: OVMF stores 0 - sum over a
 * range that includes it, so the table's sum ends up off. */
static void dirty_dsdt_checksum(uint8_t *script, uint8_t *tables)
{
	tables[DSDT + 9] = 0x55;
}

static void align_8192(uint8_t *script, uint8_t *tables)
{
	le32(script + 128 + ALLOC_ALIGN, 8192);
}

/* The DSDT pointer holding an offset past the end of its target. */
static void pointer_past_end(uint8_t *script, uint8_t *tables)
{
	le32(tables + FADT + FADT_DSDT, TABLES_LEN);
}

static void test_ovmf_refuses(void)
{
	struct rig r;
	struct fwg_acpi a;
	REQUIRE(rig_up(&r, false, dirty_dsdt_checksum));
	CHECK(fwg_load_acpi(&r.g, &a));
	CHECK(!fwg_acpi_table(&a, "DSDT") && fwg_acpi_table(&a, "FACP"));
	fwg_acpi_free(&a);
	rig_down(&r);

	REQUIRE(rig_up(&r, false, align_8192));
	CHECK(!fwg_load_acpi(&r.g, &a));
	CHECK_STR_CONTAINS(a.error, "alignment 0x2000");
	CHECK_EQ_U64(a.nr_tables, 0);
	fwg_acpi_free(&a);
	rig_down(&r);

	REQUIRE(rig_up(&r, false, pointer_past_end));
	CHECK(!fwg_load_acpi(&r.g, &a));
	CHECK_STR_CONTAINS(a.error, "past the end of \"etc/acpi/tables\"");
	fwg_acpi_free(&a);
	rig_down(&r);
}

int main(void)
{
	test_layout();
	test_rules();
	test_ovmf_loads();
	test_ovmf_checksum_order();
	test_ovmf_refuses();
	return check_report("test_fw_cfg_loader");
}
