/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel loaders and the e820 map. The images are synthesized here with the
 * boot protocol's raw offsets (not the loader's structs), so a wrong field
 * offset in the loader shows up as a failed check rather than agreeing with
 * itself.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "boot/boot.h"
#include "check.h"
#include "common/guest_mem.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define PAGE 4096ULL

/* boot_params offsets, from Documentation/arch/x86/zero-page.rst. */
#define ZP_ACPI_RSDP_ADDR    0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0C0
#define ZP_EXT_RAMDISK_SIZE  0x0C4
#define ZP_EXT_CMD_LINE_PTR  0x0C8
#define ZP_E820_ENTRIES      0x1E8
#define ZP_SENTINEL          0x1EF
#define ZP_E820_TABLE        0x2D0
/* Setup header offsets, from Documentation/arch/x86/boot.rst. */
#define HDR_SETUP_SECTS      0x1F1
#define HDR_SYSSIZE          0x1F4
#define HDR_BOOT_FLAG        0x1FE
#define HDR_JUMP             0x200
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21C
#define HDR_HEAP_END_PTR     0x224
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22C
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE      0x234
#define HDR_XLOADFLAGS       0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE        0x260
#define HDR_END              0x26C

#define XLF_KERNEL_64              0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define LOADED_HIGH                0x01
#define CAN_USE_HEAP               0x80

#define LEGACY_HOLE (X86_HIMEM_GPA - X86_EBDA_GPA)

/* ---- helpers ------------------------------------------------------------- */

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static uint64_t rd(const struct guest_mem *mem, uint64_t gpa, unsigned len)
{
	uint64_t v = 0;

	if (guest_mem_read(mem, gpa, &v, len) < 0) {
		fprintf(stderr, "read of 0x%llx outside guest RAM\n",
			(unsigned long long)gpa);
		check_failures++;
	}
	return v;
}

static int mem_equals(const struct guest_mem *mem, uint64_t gpa,
		      const void *data, size_t len)
{
	const void *p = guest_mem_ptr(mem, gpa, len);

	return p && memcmp(p, data, len) == 0;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
}

static void make_mem(struct guest_mem *mem, uint64_t ram)
{
	struct phy_error err = { 0 };
	int rc = guest_mem_create(mem, ram, X86_MMIO_HOLE_GPA, X86_HIGH_RAM_GPA, 0,
				  &err);
	if (rc < 0) {
		fprintf(stderr, "guest_mem_create(%llu): %s\n",
			(unsigned long long)ram, err.message);
		exit(1);
	}
}

/* Fills guest memory with garbage, as a previous boot would leave it. */
static void dirty(struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);

	if (p)
		memset(p, 0xCC, len);
}

/* ---- fake bzImage -------------------------------------------------------- */

struct fake_bz {
	uint16_t version;
	uint16_t xloadflags;
	uint8_t setup_sects;  /* as written: 0 means 4 */
	uint32_t payload_len; /* protected-mode part, a multiple of 16 */
	uint32_t init_size;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
	uint64_t pref_address;
	uint16_t boot_flag;
};

static const struct fake_bz bz_default = {
	.version = 0x020F,
	.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G,
	.setup_sects = 4,
	.payload_len = 64 * KiB,
	.init_size = 4 * MiB,
	.cmdline_size = 2047,
	.initrd_addr_max = 0x7FFFFFFF,
	.pref_address = 16 * MiB,
	.boot_flag = 0xAA55,
};

static size_t fake_bz_setup_size(const struct fake_bz *f)
{
	return ((f->setup_sects ? f->setup_sects : 4) + 1) * 512;
}

static uint8_t *fake_bzimage(const struct fake_bz *f, size_t *size)
{
	size_t setup = fake_bz_setup_size(f);
	uint8_t *img = calloc(1, setup + f->payload_len);

	*size = setup + f->payload_len;
	fill_pattern(img, setup, 1);
	img[ZP_SENTINEL] = 0xFF; /* must not reach the zero page */
	memset(img + HDR_SETUP_SECTS, 0, HDR_END - HDR_SETUP_SECTS);
	img[HDR_SETUP_SECTS] = f->setup_sects;
	put32(img, HDR_SYSSIZE, f->payload_len / 16);
	put16(img, HDR_BOOT_FLAG, f->boot_flag);
	img[HDR_JUMP] = 0xEB;
	img[HDR_JUMP + 1] = HDR_END - HDR_MAGIC;
	memcpy(img + HDR_MAGIC, "HdrS", 4);
	put16(img, HDR_VERSION, f->version);
	put32(img, HDR_INITRD_ADDR_MAX, f->initrd_addr_max);
	put32(img, HDR_KERNEL_ALIGNMENT, 2 * MiB);
	img[HDR_RELOCATABLE] = 1;
	put16(img, HDR_XLOADFLAGS, f->xloadflags);
	put32(img, HDR_CMDLINE_SIZE, f->cmdline_size);
	put64(img, HDR_PREF_ADDRESS, f->pref_address);
	put32(img, HDR_INIT_SIZE, f->init_size);
	fill_pattern(img + setup, f->payload_len, 9);
	return img;
}

static struct boot_request bz_request(const uint8_t *img, size_t size)
{
	struct boot_request req = { 0 };

	req.kernel.data = img;
	req.kernel.size = size;
	req.kernel.name = "fake-bzImage";
	return req;
}

/* ---- e820 ---------------------------------------------------------------- */

static void check_e820_sane(const struct x86_e820_entry *e, int n,
			    uint64_t ram)
{
	uint64_t ram_total = 0;
	int ecam = 0, acpi = 0;

	CHECK(n > 0 && n <= X86_E820_MAX);
	for (int i = 0; i < n; i++) {
		CHECK(e[i].size > 0);
		if (i > 0)
			CHECK(e[i].addr >= e[i - 1].addr + e[i - 1].size);
		if (e[i].type == X86_E820_RAM) {
			ram_total += e[i].size;
			/* No RAM may be reported inside the 32-bit hole. */
			CHECK(e[i].addr + e[i].size <= X86_MMIO_HOLE_GPA ||
			      e[i].addr >= X86_HIGH_RAM_GPA);
		}
		if (e[i].addr == X86_ECAM_GPA && e[i].size == X86_ECAM_SIZE &&
		    e[i].type == X86_E820_RESERVED)
			ecam++;
		if (e[i].addr <= X86_ACPI_GPA &&
		    e[i].addr + e[i].size >= X86_ACPI_GPA + X86_ACPI_SIZE &&
		    e[i].type != X86_E820_RAM)
			acpi++;
	}
	/* [EBDA, 1 MiB) is backed by RAM but is not usable RAM. */
	CHECK_EQ_U64(ram_total, ram - LEGACY_HOLE);
	CHECK_EQ_U64(ecam, 1);
	CHECK_EQ_U64(acpi, 1);
	CHECK_EQ_U64(e[0].addr, 0);
	CHECK_EQ_U64(e[0].size, X86_EBDA_GPA);
	CHECK_EQ_U64(e[0].type, X86_E820_RAM);
}

static void check_e820_high(const struct x86_e820_entry *e, int n,
			    uint64_t ram)
{
	const struct x86_e820_entry *last = &e[n - 1];

	if (ram > X86_MMIO_HOLE_GPA) {
		CHECK_EQ_U64(last->addr, X86_HIGH_RAM_GPA);
		CHECK_EQ_U64(last->size, ram - X86_MMIO_HOLE_GPA);
		CHECK_EQ_U64(last->type, X86_E820_RAM);
	} else {
		CHECK(last->addr + last->size <= X86_HIGH_RAM_GPA);
	}
}

static void test_e820(void)
{
	static const uint64_t sizes[] = { 256 * MiB, 3 * GiB, 4 * GiB,
					  8 * GiB };
	struct x86_e820_entry e[X86_E820_MAX];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int n = x86_e820_build(sizes[i], e, X86_E820_MAX);
		check_e820_sane(e, n, sizes[i]);
		check_e820_high(e, n, sizes[i]);
	}
	/* 256 MiB: low RAM ends where guest RAM does. */
	int n = x86_e820_build(256 * MiB, e, X86_E820_MAX);
	CHECK_EQ_U64(e[3].addr, X86_HIMEM_GPA);
	CHECK_EQ_U64(e[3].addr + e[3].size, 256 * MiB);
	CHECK_EQ_U64(n, 5);
	CHECK(x86_e820_build(8 * GiB, e, 3) < 0);

	CHECK_EQ_U64(x86_pci_mmio64_base(256 * MiB), 4 * GiB);
	CHECK_EQ_U64(x86_pci_mmio64_base(3 * GiB), 4 * GiB);
	CHECK_EQ_U64(x86_pci_mmio64_base(4 * GiB), 5 * GiB);
	CHECK_EQ_U64(x86_pci_mmio64_base(8 * GiB), 9 * GiB);
	CHECK_EQ_U64(x86_pci_mmio64_base(3 * GiB + 1), 5 * GiB);

	/* Firmware boot: RAM only, all of it; the 64-bit window up to 1 TiB,
	 * or 64 GiB above RAM that reaches past it. */
	n = x86_e820_firmware_build(256 * MiB, e, X86_E820_MAX);
	CHECK(n == 1 && e[0].addr == 0 && e[0].size == 256 * MiB &&
	      e[0].type == X86_E820_RAM);
	n = x86_e820_firmware_build(8 * GiB, e, X86_E820_MAX);
	CHECK(n == 2 && e[0].size == 3 * GiB && e[1].addr == 4 * GiB &&
	      e[1].size == 5 * GiB && e[1].type == X86_E820_RAM);
	CHECK(x86_e820_firmware_build(8 * GiB, e, 1) < 0);
	CHECK_EQ_U64(x86_low_ram_end(8 * GiB), 3 * GiB);
	CHECK_EQ_U64(x86_fw_pci_mmio64_size(256 * MiB), 1024 * GiB - 4 * GiB);
	CHECK_EQ_U64(x86_fw_pci_mmio64_size(1024 * GiB), X86_PCI_MMIO64_SIZE);
	CHECK_EQ_U64(x86_fw_pci_mmio64_size(960 * GiB), X86_PCI_MMIO64_SIZE);
	CHECK_EQ_U64(x86_fw_pci_mmio64_size(900 * GiB), 1024 * GiB - 901 * GiB);
}

/* ---- bzImage: success paths ---------------------------------------------- */

static void check_zero_page_e820(const struct guest_mem *mem)
{
	struct x86_e820_entry e[X86_E820_MAX];
	int n = x86_e820_build(mem->ram_size, e, X86_E820_MAX);
	uint64_t zp = X86_ZERO_PAGE_GPA;

	CHECK_EQ_U64(rd(mem, zp + ZP_E820_ENTRIES, 1), n);
	for (int i = 0; i < n; i++) {
		uint64_t ent = zp + ZP_E820_TABLE + 20 * (uint64_t)i;
		CHECK_EQ_U64(rd(mem, ent, 8), e[i].addr);
		CHECK_EQ_U64(rd(mem, ent + 8, 8), e[i].size);
		CHECK_EQ_U64(rd(mem, ent + 16, 4), e[i].type);
	}
}

static void check_bz_header_copy(const struct guest_mem *mem,
				 const struct fake_bz *f)
{
	uint64_t zp = X86_ZERO_PAGE_GPA;

	CHECK_EQ_U64(rd(mem, zp + ZP_SENTINEL, 1), 0);
	CHECK_EQ_U64(rd(mem, zp + HDR_SETUP_SECTS, 1), f->setup_sects);
	CHECK_EQ_U64(rd(mem, zp + HDR_SYSSIZE, 4), f->payload_len / 16);
	CHECK_EQ_U64(rd(mem, zp + HDR_BOOT_FLAG, 2), 0xAA55);
	CHECK(mem_equals(mem, zp + HDR_MAGIC, "HdrS", 4));
	CHECK_EQ_U64(rd(mem, zp + HDR_VERSION, 2), f->version);
	CHECK_EQ_U64(rd(mem, zp + HDR_INITRD_ADDR_MAX, 4), f->initrd_addr_max);
	CHECK_EQ_U64(rd(mem, zp + HDR_XLOADFLAGS, 2), f->xloadflags);
	CHECK_EQ_U64(rd(mem, zp + HDR_CMDLINE_SIZE, 4), f->cmdline_size);
	CHECK_EQ_U64(rd(mem, zp + HDR_PREF_ADDRESS, 8), f->pref_address);
	CHECK_EQ_U64(rd(mem, zp + HDR_INIT_SIZE, 4), f->init_size);
}

static void check_bz_loader_fields(const struct guest_mem *mem,
				   const struct boot_entry *out,
				   uint64_t rsdp)
{
	uint64_t zp = X86_ZERO_PAGE_GPA;

	CHECK_EQ_U64(rd(mem, zp + HDR_TYPE_OF_LOADER, 1), 0xFF);
	CHECK_EQ_U64(rd(mem, zp + HDR_LOADFLAGS, 1) & (LOADED_HIGH | CAN_USE_HEAP),
		     LOADED_HIGH | CAN_USE_HEAP);
	CHECK(rd(mem, zp + HDR_HEAP_END_PTR, 2) != 0);
	CHECK_EQ_U64(rd(mem, zp + HDR_CMD_LINE_PTR, 4), X86_CMDLINE_GPA);
	CHECK_EQ_U64(rd(mem, zp + ZP_EXT_CMD_LINE_PTR, 4), 0);
	CHECK_EQ_U64(rd(mem, zp + HDR_RAMDISK_IMAGE, 4),
		     out->initrd_gpa & 0xFFFFFFFF);
	CHECK_EQ_U64(rd(mem, zp + ZP_EXT_RAMDISK_IMAGE, 4),
		     out->initrd_gpa >> 32);
	CHECK_EQ_U64(rd(mem, zp + HDR_RAMDISK_SIZE, 4),
		     out->initrd_size & 0xFFFFFFFF);
	CHECK_EQ_U64(rd(mem, zp + ZP_EXT_RAMDISK_SIZE, 4),
		     out->initrd_size >> 32);
	CHECK_EQ_U64(rd(mem, zp + ZP_ACPI_RSDP_ADDR, 8), rsdp);
	check_zero_page_e820(mem);
}

/* Page aligned, above the kernel, below the limit, as high as possible. */
static void check_initrd_placed(const struct guest_mem *mem,
				const struct boot_entry *out,
				const uint8_t *rd_data, size_t rd_size,
				uint64_t limit)
{
	uint64_t low_end = mem->ram_size < X86_MMIO_HOLE_GPA ?
				   mem->ram_size : X86_MMIO_HOLE_GPA;
	uint64_t top = limit < low_end ? limit : low_end;

	CHECK_EQ_U64(out->initrd_size, rd_size);
	CHECK_EQ_U64(out->initrd_gpa % PAGE, 0);
	CHECK(out->initrd_gpa >= out->kernel_end);
	CHECK(out->initrd_gpa + rd_size <= top);
	CHECK(out->initrd_gpa + rd_size > top - PAGE);
	CHECK(mem_equals(mem, out->initrd_gpa, rd_data, rd_size));
}

static void test_bz_load(void)
{
	const struct fake_bz *f = &bz_default;
	const char *cmdline = "console=ttyS0 root=/dev/vda rw";
	struct phy_error err = { 0 };
	struct boot_entry out;
	struct guest_mem mem;
	size_t size, rd_size = MiB + 123;
	uint8_t *img = fake_bzimage(f, &size);
	uint8_t *rd_data = malloc(rd_size);

	fill_pattern(rd_data, rd_size, 5);
	make_mem(&mem, 256 * MiB);
	dirty(&mem, X86_ZERO_PAGE_GPA, PAGE);
	dirty(&mem, X86_CMDLINE_GPA, 64);

	struct boot_request req = bz_request(img, size);
	req.initrd = (struct boot_image){ rd_data, rd_size, "fake-initrd", 0 };
	req.cmdline = cmdline;
	req.rsdp_gpa = X86_ACPI_GPA;
	int rc = boot_load(&mem, &req, &out, &err);
	CHECK_EQ_U64(rc, 0);
	if (rc < 0)
		fprintf(stderr, "boot_load: %s\n", err.message);

	CHECK_EQ_U64(out.mode, BOOT_ENTRY_LINUX64);
	CHECK_EQ_U64(out.kernel_gpa, f->pref_address);
	CHECK_EQ_U64(out.entry_gpa, f->pref_address + 0x200);
	CHECK_EQ_U64(out.info_gpa, X86_ZERO_PAGE_GPA);
	CHECK_EQ_U64(out.kernel_end, f->pref_address + f->init_size);
	CHECK(mem_equals(&mem, f->pref_address, img + fake_bz_setup_size(f),
			 f->payload_len));
	CHECK(mem_equals(&mem, X86_CMDLINE_GPA, cmdline, strlen(cmdline) + 1));
	check_bz_header_copy(&mem, f);
	check_bz_loader_fields(&mem, &out, X86_ACPI_GPA);
	check_initrd_placed(&mem, &out, rd_data, rd_size, 0x80000000ULL);

	guest_mem_destroy(&mem);
	free(rd_data);
	free(img);
}

/* No initrd, no RSDP, no command line; setup_sects 0 meaning 4. */
static void test_bz_minimal(void)
{
	struct fake_bz f = bz_default;
	struct phy_error err = { 0 };
	struct boot_entry out;
	struct guest_mem mem;
	size_t size;

	f.setup_sects = 0;
	uint8_t *img = fake_bzimage(&f, &size);
	make_mem(&mem, 64 * MiB);
	dirty(&mem, X86_ZERO_PAGE_GPA, PAGE);
	dirty(&mem, X86_CMDLINE_GPA, 64);

	struct boot_request req = bz_request(img, size);
	CHECK_EQ_U64(boot_load_bzimage(&mem, &req, &out, &err), 0);
	CHECK(mem_equals(&mem, f.pref_address, img + 5 * 512, f.payload_len));
	CHECK(mem_equals(&mem, X86_CMDLINE_GPA, "", 1));
	CHECK_EQ_U64(out.initrd_gpa, 0);
	CHECK_EQ_U64(out.initrd_size, 0);
	check_bz_header_copy(&mem, &f);
	check_bz_loader_fields(&mem, &out, 0);

	guest_mem_destroy(&mem);
	free(img);
}

/* initrd_addr_max and the 32-bit hole bound the initrd; e820 shows RAM
 * above 4 GiB. */
static void test_bz_initrd_limits(uint64_t ram, uint32_t addr_max)
{
	struct fake_bz f = bz_default;
	struct phy_error err = { 0 };
	struct boot_entry out;
	struct guest_mem mem;
	size_t size, rd_size = 3 * PAGE + 1;
	uint8_t rd_data[3 * PAGE + 1];

	f.initrd_addr_max = addr_max;
	fill_pattern(rd_data, rd_size, 77);
	uint8_t *img = fake_bzimage(&f, &size);
	make_mem(&mem, ram);

	struct boot_request req = bz_request(img, size);
	req.initrd = (struct boot_image){ rd_data, rd_size, "fake-initrd", 0 };
	CHECK_EQ_U64(boot_load(&mem, &req, &out, &err), 0);
	check_initrd_placed(&mem, &out, rd_data, rd_size,
			    (uint64_t)addr_max + 1);
	check_zero_page_e820(&mem);

	guest_mem_destroy(&mem);
	free(img);
}

/* ---- bzImage: bad input -------------------------------------------------- */

static void expect_fail(struct guest_mem *mem, const struct boot_request *req,
			int code, const char *needle)
{
	struct phy_error err = { 0 };
	struct boot_entry out;
	int rc = boot_load(mem, req, &out, &err);

	CHECK_EQ_U64(rc, -code);
	CHECK_EQ_U64(err.code, code);
	CHECK_STR_CONTAINS(err.message, needle);
}

/* Loads a fake bzImage built from f into a guest of ram bytes. */
static void expect_bz_fail(const struct fake_bz *f, uint64_t ram,
			   const char *cmdline, size_t initrd_size, int code,
			   const char *needle)
{
	struct guest_mem mem;
	size_t size;
	uint8_t *img = fake_bzimage(f, &size);
	uint8_t *rd_data = initrd_size ? calloc(1, initrd_size) : NULL;

	make_mem(&mem, ram);
	struct boot_request req = bz_request(img, size);
	req.cmdline = cmdline;
	req.initrd = (struct boot_image){ rd_data, initrd_size, "big-initrd", 0 };
	expect_fail(&mem, &req, code, needle);
	guest_mem_destroy(&mem);
	free(rd_data);
	free(img);
}

static void test_not_a_kernel(void)
{
	struct guest_mem mem;
	uint8_t junk[8192];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (uint8_t)(x >> 16);
	}
	junk[0] = 0;
	make_mem(&mem, 64 * MiB);
	struct boot_request req = bz_request(junk, sizeof(junk));
	req.kernel.name = "junk.bin";
	expect_fail(&mem, &req, PHY_E_IMAGE, "'junk.bin' is not a Linux kernel");
	req.kernel.size = 0;
	expect_fail(&mem, &req, PHY_E_IMAGE, "not a Linux kernel");
	req.kernel.data = NULL;
	expect_fail(&mem, &req, PHY_E_IMAGE, "not a Linux kernel");
	guest_mem_destroy(&mem);
}

static void test_bz_truncated(void)
{
	struct guest_mem mem;
	size_t size;
	uint8_t *img = fake_bzimage(&bz_default, &size);
	static const size_t cuts[] = { 0x250, 0x300, 5 * 512, 5 * 512 + 100 };

	make_mem(&mem, 64 * MiB);
	struct boot_request req = bz_request(img, size - 100);
	expect_fail(&mem, &req, PHY_E_IMAGE, "truncated");
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		req.kernel.size = cuts[i];
		expect_fail(&mem, &req, PHY_E_IMAGE, "truncated");
	}
	/* Too short to even hold the magic. */
	req.kernel.size = 0x100;
	expect_fail(&mem, &req, PHY_E_IMAGE, "not a Linux kernel");
	guest_mem_destroy(&mem);
	free(img);
}

static void test_bz_bad_headers(void)
{
	struct fake_bz f = bz_default;

	f.version = 0x0205;
	expect_bz_fail(&f, 64 * MiB, NULL, 0, PHY_E_IMAGE,
		       "unsupported boot protocol 2.05");
	f = bz_default;
	f.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	expect_bz_fail(&f, 64 * MiB, NULL, 0, PHY_E_IMAGE, "XLF_KERNEL_64");
	f = bz_default;
	f.boot_flag = 0x1234;
	expect_bz_fail(&f, 64 * MiB, NULL, 0, PHY_E_IMAGE, "boot_flag");
	f = bz_default;
	f.pref_address = 0x8000;
	expect_bz_fail(&f, 64 * MiB, NULL, 0, PHY_E_IMAGE, "below 1 MiB");
}

static void test_bz_too_large(void)
{
	struct fake_bz f = bz_default;
	char *cmd;

	expect_bz_fail(&f, 16 * MiB, NULL, 0, PHY_E_IMAGE,
		       "kernel too large for guest memory");
	f.init_size = 300 * MiB;
	expect_bz_fail(&f, 256 * MiB, NULL, 0, PHY_E_IMAGE,
		       "kernel too large for guest memory");
	/* 64 MiB guest: the kernel claims 16..20 MiB, 44 MiB remain. */
	expect_bz_fail(&bz_default, 64 * MiB, NULL, 48 * MiB, PHY_E_IMAGE,
		       "initramfs too large for guest memory");
	/* An initrd_addr_max below the kernel leaves no room at all. */
	f = bz_default;
	f.initrd_addr_max = 0xFFFFFF;
	expect_bz_fail(&f, 64 * MiB, NULL, PAGE, PHY_E_IMAGE,
		       "initramfs too large for guest memory");

	f = bz_default;
	f.cmdline_size = 255;
	cmd = malloc(X86_CMDLINE_MAX + 1);
	memset(cmd, 'a', 300);
	cmd[300] = '\0';
	expect_bz_fail(&f, 64 * MiB, cmd, 0, PHY_E_INVALID,
		       "cmdline: 300 bytes exceeds the kernel's limit of 255");
	/* Exactly at the kernel's limit is fine (code 0: success). */
	cmd[255] = '\0';
	expect_bz_fail(&f, 64 * MiB, cmd, 0, 0, "");
	f.cmdline_size = 0x7FFFFFFF;
	memset(cmd, 'b', X86_CMDLINE_MAX);
	cmd[X86_CMDLINE_MAX] = '\0';
	expect_bz_fail(&f, 64 * MiB, cmd, 0, PHY_E_INVALID, "exceeds the limit");
	free(cmd);
}

/* ---- boot_image_open ----------------------------------------------------- */

static void test_image_open(void)
{
	struct phy_error err = { 0 };
	struct boot_image img;
	char path[] = "/tmp/phyllome-test-boot-XXXXXX";
	size_t size;
	uint8_t *fake = fake_bzimage(&bz_default, &size);

	CHECK_EQ_U64(boot_image_open(&img, "/nonexistent/vmlinuz", "kernel",
				     &err), -PHY_E_IMAGE);
	CHECK_EQ_U64(err.code, PHY_E_IMAGE);
	CHECK_STR_CONTAINS(err.message,
			   "kernel: cannot open '/nonexistent/vmlinuz': No such file or directory");
	CHECK_EQ_U64(boot_image_open(&img, "/", "initramfs", &err),
		     -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(err.message, "initramfs: '/' is not a regular file");

	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ_U64(boot_image_open(&img, path, "kernel", &err), -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(err.message, "is empty");

	CHECK_EQ_U64(write(fd, fake, size), size);
	close(fd);
	CHECK_EQ_U64(boot_image_open(&img, path, "kernel", &err), 0);
	CHECK_EQ_U64(img.size, size);
	CHECK(img.data && memcmp(img.data, fake, size) == 0);
	CHECK(img.name == path);

	struct guest_mem mem;
	struct boot_entry out;
	struct boot_request req = { .kernel = img };
	make_mem(&mem, 64 * MiB);
	CHECK_EQ_U64(boot_load(&mem, &req, &out, &err), 0);
	guest_mem_destroy(&mem);

	boot_image_close(&img);
	CHECK(img.data == NULL && img.size == 0);
	unlink(path);
	free(fake);
}

/* ---- PVH ----------------------------------------------------------------- */

#define PVH_PADDR     (16 * MiB)
#define PVH_ENTRY     (PVH_PADDR + 0x100)
#define PVH_SEG_OFF   0x1000
#define PVH_FILESZ    0x2000
#define PVH_MEMSZ     0x3000
#define PVH_NOTE_OFF  (sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))

struct fake_pvh {
	int xen_note;    /* include the PHYS32_ENTRY note */
	int desc_size;   /* 4 or 8 */
	uint16_t phnum;  /* 0: the real count */
	uint64_t filesz; /* of the PT_LOAD */
	uint64_t memsz;
	uint8_t elf_class;
};

static const struct fake_pvh pvh_default = {
	.xen_note = 1, .desc_size = 8, .filesz = PVH_FILESZ,
	.memsz = PVH_MEMSZ, .elf_class = ELFCLASS64,
};

/* Appends one ELF note (4-byte aligned) at p; returns its length. */
static size_t put_note(uint8_t *p, const char *name, uint32_t type,
		       const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = { (uint32_t)strlen(name) + 1, descsz, type };
	size_t name_len = (nh.n_namesz + 3) & ~3U;

	memcpy(p, &nh, sizeof(nh));
	memcpy(p + sizeof(nh), name, nh.n_namesz);
	memcpy(p + sizeof(nh) + name_len, desc, descsz);
	return sizeof(nh) + name_len + ((descsz + 3) & ~3U);
}

static size_t put_notes(uint8_t *p, const struct fake_pvh *f)
{
	uint8_t build_id[20];
	uint64_t entry = PVH_ENTRY;
	size_t len;

	memset(build_id, 0x5A, sizeof(build_id));
	/* A note to skip first, as in a real vmlinux. */
	len = put_note(p, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	if (f->xen_note)
		len += put_note(p + len, "Xen", 18, &entry, f->desc_size);
	return len;
}

static uint8_t *fake_pvh_elf(const struct fake_pvh *f, size_t *size)
{
	uint8_t *img = calloc(1, PVH_SEG_OFF + PVH_FILESZ);
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT,
			  .e_entry = 0xffffffff81000000ULL,
			  .e_phoff = sizeof(Elf64_Ehdr),
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr),
			  .e_phnum = f->phnum ? f->phnum : 2 };
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		  .p_offset = PVH_SEG_OFF, .p_vaddr = 0xffffffff81000000ULL,
		  .p_paddr = PVH_PADDR, .p_filesz = f->filesz,
		  .p_memsz = f->memsz, .p_align = 2 * MiB },
		{ .p_type = PT_NOTE, .p_flags = PF_R,
		  .p_offset = PVH_NOTE_OFF, .p_align = 4 },
	};

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = f->elf_class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	ph[1].p_filesz = put_notes(img + PVH_NOTE_OFF, f);
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	fill_pattern(img + PVH_SEG_OFF, PVH_FILESZ, 33);
	*size = PVH_SEG_OFF + PVH_FILESZ;
	return img;
}

static void check_pvh_memmap(const struct guest_mem *mem, uint64_t map,
			     uint64_t count)
{
	struct x86_e820_entry e[X86_E820_MAX];
	int n = x86_e820_build(mem->ram_size, e, X86_E820_MAX);

	CHECK_EQ_U64(count, n);
	CHECK(map >= X86_PVH_START_INFO_GPA + 56);
	CHECK(map + 24 * count <= X86_ZERO_PAGE_GPA);
	for (int i = 0; i < n; i++) {
		uint64_t ent = map + 24 * (uint64_t)i;
		CHECK_EQ_U64(rd(mem, ent, 8), e[i].addr);
		CHECK_EQ_U64(rd(mem, ent + 8, 8), e[i].size);
		CHECK_EQ_U64(rd(mem, ent + 16, 4), e[i].type);
		CHECK_EQ_U64(rd(mem, ent + 20, 4), 0);
	}
}

static void check_pvh_start_info(const struct guest_mem *mem,
				 const struct boot_entry *out, uint64_t rsdp)
{
	uint64_t si = X86_PVH_START_INFO_GPA;
	uint64_t nr_modules = rd(mem, si + 12, 4);
	uint64_t modlist = rd(mem, si + 16, 8);

	CHECK_EQ_U64(rd(mem, si, 4), 0x336ec578);
	CHECK_EQ_U64(rd(mem, si + 4, 4), 1);
	CHECK_EQ_U64(rd(mem, si + 8, 4), 0);
	CHECK_EQ_U64(rd(mem, si + 24, 8), X86_CMDLINE_GPA);
	CHECK_EQ_U64(rd(mem, si + 32, 8), rsdp);
	CHECK_EQ_U64(rd(mem, si + 52, 4), 0);
	check_pvh_memmap(mem, rd(mem, si + 40, 8), rd(mem, si + 48, 4));
	if (!out->initrd_size) {
		CHECK_EQ_U64(nr_modules, 0);
		return;
	}
	CHECK_EQ_U64(nr_modules, 1);
	CHECK(modlist >= si + 56 && modlist + 32 <= X86_ZERO_PAGE_GPA);
	CHECK_EQ_U64(rd(mem, modlist, 8), out->initrd_gpa);
	CHECK_EQ_U64(rd(mem, modlist + 8, 8), out->initrd_size);
	CHECK_EQ_U64(rd(mem, modlist + 16, 8), 0);
	CHECK_EQ_U64(rd(mem, modlist + 24, 8), 0);
}

static void test_pvh_load(int desc_size, int with_initrd)
{
	struct fake_pvh f = pvh_default;
	struct phy_error err = { 0 };
	struct boot_entry out;
	struct guest_mem mem;
	size_t size, rd_size = 2 * PAGE + 17;
	uint8_t rd_data[2 * PAGE + 17];
	uint8_t zeros[PVH_MEMSZ - PVH_FILESZ] = { 0 };

	f.desc_size = desc_size;
	fill_pattern(rd_data, rd_size, 3);
	uint8_t *img = fake_pvh_elf(&f, &size);
	make_mem(&mem, 256 * MiB);
	dirty(&mem, PVH_PADDR, PVH_MEMSZ);
	dirty(&mem, X86_PVH_START_INFO_GPA, PAGE);

	struct boot_request req = { .kernel = { img, size, "vmlinux" } };
	if (with_initrd)
		req.initrd = (struct boot_image){ rd_data, rd_size, "initrd", 0 };
	req.cmdline = "console=hvc0";
	req.rsdp_gpa = X86_ACPI_GPA;
	int rc = boot_load(&mem, &req, &out, &err);
	CHECK_EQ_U64(rc, 0);
	if (rc < 0)
		fprintf(stderr, "boot_load(pvh): %s\n", err.message);

	CHECK_EQ_U64(out.mode, BOOT_ENTRY_PVH32);
	CHECK_EQ_U64(out.entry_gpa, PVH_ENTRY);
	CHECK_EQ_U64(out.info_gpa, X86_PVH_START_INFO_GPA);
	CHECK_EQ_U64(out.kernel_gpa, PVH_PADDR);
	CHECK_EQ_U64(out.kernel_end, PVH_PADDR + PVH_MEMSZ);
	CHECK(mem_equals(&mem, PVH_PADDR, img + PVH_SEG_OFF, PVH_FILESZ));
	CHECK(mem_equals(&mem, PVH_PADDR + PVH_FILESZ, zeros, sizeof(zeros)));
	CHECK(mem_equals(&mem, X86_CMDLINE_GPA, "console=hvc0", 13));
	check_pvh_start_info(&mem, &out, X86_ACPI_GPA);
	if (with_initrd)
		check_initrd_placed(&mem, &out, rd_data, rd_size, UINT64_MAX);

	guest_mem_destroy(&mem);
	free(img);
}

static void expect_pvh_fail(const struct fake_pvh *f, uint64_t ram,
			    size_t cut, const char *needle)
{
	struct guest_mem mem;
	size_t size;
	uint8_t *img = fake_pvh_elf(f, &size);

	make_mem(&mem, ram);
	struct boot_request req = { .kernel = { img, size - cut, "vmlinux" } };
	expect_fail(&mem, &req, PHY_E_IMAGE, needle);
	guest_mem_destroy(&mem);
	free(img);
}

static void test_pvh_bad(void)
{
	struct fake_pvh f = pvh_default;

	f.filesz = PVH_FILESZ + 1;
	f.memsz = PVH_FILESZ + 1;
	expect_pvh_fail(&f, 64 * MiB, 0, "truncated");
	expect_pvh_fail(&pvh_default, 64 * MiB, 1, "truncated");
	f = pvh_default;
	f.xen_note = 0;
	expect_pvh_fail(&f, 64 * MiB, 0, "ELF kernel has no PVH entry note");
	f = pvh_default;
	f.phnum = 0xFFFF;
	expect_pvh_fail(&f, 64 * MiB, 0, "truncated");
	f = pvh_default;
	f.elf_class = ELFCLASS32;
	expect_pvh_fail(&f, 64 * MiB, 0, "ELF64");
	f = pvh_default;
	f.filesz = 0x1000;
	f.memsz = 0x800;
	expect_pvh_fail(&f, 64 * MiB, 0, "larger in the file");
	expect_pvh_fail(&pvh_default, 16 * MiB, 0,
			"kernel too large for guest memory");
	f = pvh_default;
	f.memsz = UINT64_MAX - PVH_PADDR + 2; /* paddr + memsz wraps */
	expect_pvh_fail(&f, 64 * MiB, 0, "kernel too large for guest memory");
	/* Cut inside the ELF header. */
	expect_pvh_fail(&pvh_default, 64 * MiB,
			PVH_SEG_OFF + PVH_FILESZ - 40, "truncated");
}

/* ---- a real kernel, when one is around ----------------------------------- */

static int find_real_kernel(char *path, size_t len)
{
	const char *home = getenv("HOME");
	glob_t g;

	if (home) {
		snprintf(path, len, "%s/.cache/phyllome-vmm/guest/vmlinuz", home);
		if (access(path, R_OK) == 0)
			return 1;
	}
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return 0;
	int found = 0;
	for (size_t i = 0; i < g.gl_pathc && !found; i++) {
		if (access(g.gl_pathv[i], R_OK) == 0) {
			snprintf(path, len, "%s", g.gl_pathv[i]);
			found = 1;
		}
	}
	globfree(&g);
	return found;
}

static void test_real_kernel(void)
{
	struct phy_error err = { 0 };
	struct boot_request req = { .cmdline = "console=ttyS0" };
	struct boot_entry out;
	struct guest_mem mem;
	char path[4096];

	if (!find_real_kernel(path, sizeof(path))) {
		printf("note: no readable real kernel found; skipping that check\n");
		return;
	}
	if (boot_image_open(&req.kernel, path, "kernel", &err) < 0) {
		printf("note: %s; skipping the real-kernel check\n", err.message);
		return;
	}
	make_mem(&mem, 256 * MiB);
	int rc = boot_load(&mem, &req, &out, &err);
	CHECK_EQ_U64(rc, 0);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", path, err.message);
	if (rc == 0 && out.mode == BOOT_ENTRY_LINUX64) {
		uint64_t version = rd(&mem, X86_ZERO_PAGE_GPA + HDR_VERSION, 2);
		CHECK(version >= 0x020F);
		CHECK_EQ_U64(out.entry_gpa, out.kernel_gpa + 0x200);
		printf("note: %s: protocol %u.%02u, loaded at 0x%llx, reserves %llu MiB\n",
		       path, (unsigned)(version >> 8), (unsigned)(version & 0xFF),
		       (unsigned long long)out.kernel_gpa,
		       (unsigned long long)((out.kernel_end - out.kernel_gpa) >> 20));
	}
	guest_mem_destroy(&mem);
	boot_image_close(&req.kernel);
}

/* boot_image_copy() from a real file mapping, in chunks that it drops from
 * the VMM after copying: the guest must still get every byte. */
static void test_image_copy(void)
{
	char path[] = "/tmp/phy-test-image-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	size_t n = (3u << 20) + 12345;
	uint8_t *buf = malloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 13));
	CHECK(write(fd, buf, n) == (ssize_t)n);
	close(fd);
	struct boot_image img;
	struct phy_error err;
	CHECK(boot_image_open(&img, path, "kernel", &err) == 0);
	CHECK(img.mapped == 1);
	struct guest_mem mem;
	CHECK(guest_mem_create(&mem, 32ULL << 20, X86_MMIO_HOLE_GPA,
			       X86_HIGH_RAM_GPA, 0, &err) == 0);
	CHECK(boot_image_copy(&mem, 0x100000, &img, 100, n - 100) == 0);
	CHECK(memcmp(guest_mem_ptr(&mem, 0x100000, n - 100), buf + 100, n - 100) == 0);
	/* The mapping still reads right after its pages were dropped. */
	CHECK(memcmp(img.data, buf, n) == 0);
	CHECK(boot_image_copy(&mem, 0x100000, &img, n - 10, 11) == -1);
	CHECK(boot_image_copy(&mem, 31ULL << 20, &img, 0, 2u << 20) == -1);
	guest_mem_destroy(&mem);
	boot_image_close(&img);
	unlink(path);
	free(buf);
}

int main(void)
{
	test_image_copy();
	test_e820();
	test_bz_load();
	test_bz_minimal();
	test_bz_initrd_limits(3 * GiB, 0x7FFFFFFF);
	test_bz_initrd_limits(4 * GiB, 0x37FFFFFF);
	test_bz_initrd_limits(8 * GiB, 0xFFFFFFFF);
	test_bz_initrd_limits(256 * MiB, 0x7FFFFFFF);
	test_not_a_kernel();
	test_bz_truncated();
	test_bz_bad_headers();
	test_bz_too_large();
	test_image_open();
	test_pvh_load(8, 1);
	test_pvh_load(4, 0);
	test_pvh_bad();
	test_real_kernel();
	return check_report("test_boot");
}
