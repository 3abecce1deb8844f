/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bzImage loader for the Linux x86 boot protocol's 64-bit entry
 * (Documentation/arch/x86/boot.rst). The real-mode setup code is never run:
 * only the setup header is read from it, and the vCPU starts in long mode
 * at startup_64 (load address + 0x200) with RSI pointing at the zero page.
 */
#include "boot/boot.h"

#include <stddef.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "boot/loader.h"
#include "common/error.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "boot_params fields are little-endian, like the x86_64 host");

#define BZ_SECTOR_SIZE       512
#define BZ_DEFAULT_SECTS     4      /* setup_sects == 0 means 4 */
#define BZ_HDR_START         0x1F1
#define BZ_JUMP_OFFSET       0x200  /* short jump over the header */
#define BZ_MAGIC_OFFSET      0x202
#define BZ_MAGIC             0x53726448U /* "HdrS" */
#define BZ_BOOT_FLAG         0xAA55
#define BZ_MIN_VERSION       0x020C /* 2.12: xloadflags, so XLF_KERNEL_64 */
#define BZ_HDR_MIN_END       0x264  /* everything through init_size */
#define BZ_HDR_MAX_END       0x290  /* where boot_params' header room ends */
#define BZ_ENTRY64_OFFSET    0x200  /* startup_64 from the load address */

#define BZ_LOADER_UNDEFINED  0xFF   /* type_of_loader: no registered ID */
#define BZ_LOADED_HIGH       0x01
#define BZ_CAN_USE_HEAP      0x80
#define BZ_XLF_KERNEL_64     0x01
/* heap_end for the real-mode setup code, per boot.rst's example; that code
 * never runs on the 64-bit path, the value is only kept plausible. */
#define BZ_HEAP_END          0xE000
#define BZ_E820_MAX          128    /* entries in the zero page's table */

/* The setup header as it sits at 0x1F1 in both the image and boot_params. */
struct bz_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct bz_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* struct boot_params, reduced to the fields this loader writes. */
struct bz_boot_params {
	uint8_t pad0[0x070];
	uint64_t acpi_rsdp_addr;
	uint8_t pad1[0x0C0 - 0x078];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad2[0x1E8 - 0x0CC];
	uint8_t e820_entries;
	uint8_t pad3[BZ_HDR_START - 0x1E9];
	struct bz_setup_header hdr;
	uint8_t pad4[0x2D0 - BZ_HDR_START - sizeof(struct bz_setup_header)];
	struct bz_e820_entry e820_table[BZ_E820_MAX];
	uint8_t pad5[0x1000 - 0x2D0 -
		     BZ_E820_MAX * sizeof(struct bz_e820_entry)];
} __attribute__((packed));

#define BP_OFF(field) offsetof(struct bz_boot_params, field)
_Static_assert(sizeof(struct bz_boot_params) == 0x1000, "zero page size");
_Static_assert(sizeof(struct bz_e820_entry) == 20, "boot_e820_entry size");
_Static_assert(BP_OFF(acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(BP_OFF(ext_ramdisk_image) == 0x0C0, "ext_ramdisk_image");
_Static_assert(BP_OFF(ext_cmd_line_ptr) == 0x0C8, "ext_cmd_line_ptr");
_Static_assert(BP_OFF(e820_entries) == 0x1E8, "e820_entries");
_Static_assert(BP_OFF(hdr.syssize) == 0x1F4, "syssize");
_Static_assert(BP_OFF(hdr.boot_flag) == 0x1FE, "boot_flag");
_Static_assert(BP_OFF(hdr.header) == BZ_MAGIC_OFFSET, "header");
_Static_assert(BP_OFF(hdr.type_of_loader) == 0x210, "type_of_loader");
_Static_assert(BP_OFF(hdr.ramdisk_image) == 0x218, "ramdisk_image");
_Static_assert(BP_OFF(hdr.heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(BP_OFF(hdr.cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(BP_OFF(hdr.xloadflags) == 0x236, "xloadflags");
_Static_assert(BP_OFF(hdr.cmdline_size) == 0x238, "cmdline_size");
_Static_assert(BP_OFF(hdr.pref_address) == 0x258, "pref_address");
_Static_assert(BP_OFF(hdr.init_size) == 0x260, "init_size");
_Static_assert(BP_OFF(hdr.kernel_info_offset) == 0x268, "kernel_info_offset");
_Static_assert(BP_OFF(e820_table) == 0x2D0, "e820_table");

/* Where the protected-mode kernel goes and how much room it claims. */
struct bz_layout {
	uint64_t setup_size; /* file bytes before the protected-mode kernel */
	uint64_t kernel_len; /* file bytes copied to the load address */
	uint64_t load;
	uint64_t reserve;    /* bytes from `load` the kernel may use */
};

static uint64_t mib_up(uint64_t bytes)
{
	return (bytes + (1ULL << 20) - 1) >> 20;
}

/*
 * Copies the setup header from the image into the zero page and checks
 * what the rest of the loader depends on.
 */
static int bz_read_header(const struct boot_image *k,
			  struct bz_boot_params *zp, struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");
	struct bz_setup_header *hdr = &zp->hdr;

	if (k->size < BZ_MAGIC_OFFSET + 4)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (%zu bytes, no room for a bzImage header)",
			       name, k->size);
	/* The jump at 0x200 skips exactly the header: its end is 0x202 plus
	 * the jump's 8-bit displacement. */
	size_t end = BZ_MAGIC_OFFSET + k->data[BZ_JUMP_OFFSET + 1];
	if (end > BZ_HDR_MAX_END)
		end = BZ_HDR_MAX_END;
	if (k->size < end)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (%zu bytes, setup header ends at %zu)",
			       name, k->size, end);
	memcpy(hdr, k->data + BZ_HDR_START, end - BZ_HDR_START);

	if (hdr->header != BZ_MAGIC)
		return phy_err(err, PHY_E_IMAGE, "'%s' has no bzImage header",
			       name);
	if (hdr->boot_flag != BZ_BOOT_FLAG)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': bad boot_flag 0x%04x in the bzImage header (expected 0xAA55)",
			       name, hdr->boot_flag);
	if (hdr->version < BZ_MIN_VERSION)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': unsupported boot protocol %u.%02u (need 2.12 or newer for the 64-bit entry)",
			       name, hdr->version >> 8, hdr->version & 0xFF);
	if (end < BZ_HDR_MIN_END)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': setup header too short (%zu bytes) for protocol %u.%02u",
			       name, end - BZ_HDR_START, hdr->version >> 8,
			       hdr->version & 0xFF);
	if (!(hdr->xloadflags & BZ_XLF_KERNEL_64))
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' has no 64-bit entry point (XLF_KERNEL_64 not set; a 32-bit kernel?)",
			       name);
	return 0;
}

/* Checks that the image holds what its header promises. */
static int bz_check_size(const struct boot_image *k,
			 const struct bz_setup_header *hdr,
			 struct bz_layout *lay, struct phy_error *err)
{
	uint64_t sects = hdr->setup_sects ? hdr->setup_sects : BZ_DEFAULT_SECTS;
	uint64_t sys_bytes = (uint64_t)hdr->syssize * 16;

	lay->setup_size = (sects + 1) * BZ_SECTOR_SIZE;
	if (k->size <= lay->setup_size ||
	    k->size - lay->setup_size < sys_bytes)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is truncated (%zu bytes; its header describes %llu)",
			       boot_image_name(k, "kernel"), k->size,
			       (unsigned long long)(lay->setup_size +
						    sys_bytes));
	/* Everything after the setup code is copied: newer kernels round
	 * syssize down, and a trailing signature is harmless. */
	lay->kernel_len = k->size - lay->setup_size;
	return 0;
}

/*
 * The kernel goes at its preferred address: a non-relocatable kernel must
 * run there, and a relocatable one decompresses in place within
 * [load, load + init_size) when loaded there.
 */
static int bz_place_kernel(const struct guest_mem *mem,
			   const struct boot_image *k,
			   const struct bz_setup_header *hdr,
			   struct bz_layout *lay, struct phy_error *err)
{
	const char *name = boot_image_name(k, "kernel");
	uint64_t low_end = boot_low_ram_end(mem);

	lay->load = hdr->pref_address;
	lay->reserve = hdr->init_size > lay->kernel_len ? hdr->init_size :
							  lay->kernel_len;
	/* Below 1 MiB it would overwrite the zero page and page tables. */
	if (lay->load < X86_HIMEM_GPA)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s': preferred load address 0x%llx is below 1 MiB",
			       name, (unsigned long long)lay->load);
	if (lay->load >= low_end || lay->reserve > low_end - lay->load)
		return phy_err(err, PHY_E_IMAGE,
			       "kernel too large for guest memory: '%s' needs %llu MiB from 0x%llx, the guest has %llu MiB below 0x%llx",
			       name, (unsigned long long)mib_up(lay->reserve),
			       (unsigned long long)lay->load,
			       (unsigned long long)(low_end >> 20),
			       (unsigned long long)X86_MMIO_HOLE_GPA);
	return 0;
}

static int bz_fill_e820(struct bz_boot_params *zp, uint64_t ram_size,
			struct phy_error *err)
{
	struct x86_e820_entry map[X86_E820_MAX];
	int n = x86_e820_build(ram_size, map, X86_E820_MAX);

	if (n < 0 || n > BZ_E820_MAX)
		return phy_err(err, PHY_E_INTERNAL, "e820: map does not fit");
	for (int i = 0; i < n; i++) {
		zp->e820_table[i].addr = map[i].addr;
		zp->e820_table[i].size = map[i].size;
		zp->e820_table[i].type = map[i].type;
	}
	zp->e820_entries = (uint8_t)n;
	return 0;
}

/* The fields a boot loader must write (boot.rst "Details of header
 * fields", zero-page.rst). Everything else stays as the image had it, or
 * zero outside the header. */
static void bz_fill_loader_fields(struct bz_boot_params *zp,
				  const struct boot_request *req,
				  const struct boot_entry *out)
{
	struct bz_setup_header *hdr = &zp->hdr;

	hdr->type_of_loader = BZ_LOADER_UNDEFINED;
	hdr->loadflags |= BZ_LOADED_HIGH | BZ_CAN_USE_HEAP;
	hdr->heap_end_ptr = BZ_HEAP_END - 0x200;
	hdr->cmd_line_ptr = (uint32_t)X86_CMDLINE_GPA;
	zp->ext_cmd_line_ptr = (uint32_t)(X86_CMDLINE_GPA >> 32);
	hdr->ramdisk_image = (uint32_t)out->initrd_gpa;
	zp->ext_ramdisk_image = (uint32_t)(out->initrd_gpa >> 32);
	hdr->ramdisk_size = (uint32_t)out->initrd_size;
	zp->ext_ramdisk_size = (uint32_t)(out->initrd_size >> 32);
	/* Read by protocol 2.14+ kernels; older ones scan 0xE0000. */
	zp->acpi_rsdp_addr = req->rsdp_gpa;
}

static int bz_write(struct guest_mem *mem, const struct boot_request *req,
		    const struct bz_boot_params *zp,
		    const struct bz_layout *lay, const struct boot_entry *out,
		    struct phy_error *err)
{
	if (boot_image_copy(mem, lay->load, &req->kernel, lay->setup_size,
			    lay->kernel_len) < 0)
		return phy_err(err, PHY_E_INTERNAL,
			       "kernel: 0x%llx+0x%llx is outside guest RAM",
			       (unsigned long long)lay->load,
			       (unsigned long long)lay->kernel_len);
	if (guest_mem_write(mem, X86_ZERO_PAGE_GPA, zp, sizeof(*zp)) < 0)
		return phy_err(err, PHY_E_INVALID,
			       "memory: guest RAM too small for the zero page");
	int ret = boot_write_cmdline(mem, req, err);
	if (ret < 0)
		return ret;
	return boot_write_initrd(mem, req, out, err);
}

int boot_load_bzimage(struct guest_mem *mem, const struct boot_request *req,
		      struct boot_entry *out, struct phy_error *err)
{
	struct bz_boot_params zp;
	struct bz_layout lay = { 0 };
	int ret;

	/* A zeroed page also leaves sentinel (0x1EF) clear, so the kernel
	 * trusts every field rather than wiping them as a broken loader's. */
	memset(&zp, 0, sizeof(zp));
	memset(out, 0, sizeof(*out));
	ret = bz_read_header(&req->kernel, &zp, err);
	if (ret < 0)
		return ret;
	ret = bz_check_size(&req->kernel, &zp.hdr, &lay, err);
	if (ret < 0)
		return ret;
	ret = bz_place_kernel(mem, &req->kernel, &zp.hdr, &lay, err);
	if (ret < 0)
		return ret;
	ret = boot_check_cmdline(req, zp.hdr.cmdline_size, err);
	if (ret < 0)
		return ret;
	/* The initrd must stay below initrd_addr_max even when
	 * XLF_CAN_BE_LOADED_ABOVE_4G is set: low RAM is below 4 GiB anyway. */
	ret = boot_place_initrd(mem, req, lay.load + lay.reserve,
				(uint64_t)zp.hdr.initrd_addr_max + 1, out, err);
	if (ret < 0)
		return ret;
	ret = bz_fill_e820(&zp, mem->ram_size, err);
	if (ret < 0)
		return ret;
	bz_fill_loader_fields(&zp, req, out);
	ret = bz_write(mem, req, &zp, &lay, out, err);
	if (ret < 0)
		return ret;

	out->mode = BOOT_ENTRY_LINUX64;
	out->entry_gpa = lay.load + BZ_ENTRY64_OFFSET;
	out->info_gpa = X86_ZERO_PAGE_GPA;
	out->kernel_gpa = lay.load;
	out->kernel_end = lay.load + lay.reserve;
	return 0;
}
