/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image type detection and the placement policy both loaders share: the
 * command line at a fixed low address, the initrd at the top of low RAM
 * (as far as possible from the kernel, which decompresses upwards).
 */
#include "boot/boot.h"

#include <elf.h>
#include <string.h>

#include "arch/x86_64/layout.h"
#include "boot/loader.h"
#include "common/error.h"

#define BZ_MAGIC_OFFSET 0x202
#define BZ_MAGIC        "HdrS"
#define BZ_MAGIC_LEN    4

const char *boot_image_name(const struct boot_image *img, const char *dflt)
{
	return img->name ? img->name : dflt;
}

uint64_t boot_low_ram_end(const struct guest_mem *mem)
{
	return mem->ram_size < X86_MMIO_HOLE_GPA ? mem->ram_size :
						   X86_MMIO_HOLE_GPA;
}

static size_t cmdline_len(const struct boot_request *req)
{
	return req->cmdline ? strlen(req->cmdline) : 0;
}

int boot_check_cmdline(const struct boot_request *req, uint64_t kernel_max,
		       struct phy_error *err)
{
	size_t len = cmdline_len(req);

	if (len > kernel_max)
		return phy_err(err, PHY_E_INVALID,
			       "cmdline: %zu bytes exceeds the kernel's limit of %llu",
			       len, (unsigned long long)kernel_max);
	if (len >= X86_CMDLINE_MAX)
		return phy_err(err, PHY_E_INVALID,
			       "cmdline: %zu bytes exceeds the limit of %llu",
			       len, (unsigned long long)(X86_CMDLINE_MAX - 1));
	return 0;
}

int boot_write_cmdline(struct guest_mem *mem, const struct boot_request *req,
		       struct phy_error *err)
{
	const char *s = req->cmdline ? req->cmdline : "";

	/* Always written, so a reused guest memory never shows a stale one. */
	if (guest_mem_write(mem, X86_CMDLINE_GPA, s, strlen(s) + 1) < 0)
		return phy_err(err, PHY_E_INVALID,
			       "memory: guest RAM too small for the command line");
	return 0;
}

int boot_place_initrd(const struct guest_mem *mem,
		      const struct boot_request *req, uint64_t kernel_end,
		      uint64_t limit, struct boot_entry *out,
		      struct phy_error *err)
{
	const struct boot_image *rd = &req->initrd;
	uint64_t low_end = boot_low_ram_end(mem);
	uint64_t top, bottom;

	out->initrd_gpa = 0;
	out->initrd_size = 0;
	if (!rd->data || rd->size == 0)
		return 0;

	top = (limit < low_end ? limit : low_end) & ~(BOOT_PAGE_SIZE - 1);
	bottom = (kernel_end + BOOT_PAGE_SIZE - 1) & ~(BOOT_PAGE_SIZE - 1);
	if (top <= bottom || rd->size > top - bottom) {
		uint64_t room = top > bottom ? top - bottom : 0;
		return phy_err(err, PHY_E_IMAGE,
			       "initramfs too large for guest memory: '%s' is %llu KiB, %llu KiB free between the kernel and 0x%llx",
			       boot_image_name(rd, "initramfs"),
			       (unsigned long long)(rd->size + 1023) / 1024,
			       (unsigned long long)room / 1024,
			       (unsigned long long)top);
	}
	out->initrd_gpa = (top - rd->size) & ~(BOOT_PAGE_SIZE - 1);
	out->initrd_size = rd->size;
	return 0;
}

int boot_write_initrd(struct guest_mem *mem, const struct boot_request *req,
		      const struct boot_entry *out, struct phy_error *err)
{
	if (!out->initrd_size)
		return 0;
	if (boot_image_copy(mem, out->initrd_gpa, &req->initrd, 0,
			    out->initrd_size) < 0)
		return phy_err(err, PHY_E_INTERNAL,
			       "initramfs: 0x%llx+0x%llx is outside guest RAM",
			       (unsigned long long)out->initrd_gpa,
			       (unsigned long long)out->initrd_size);
	return 0;
}

int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *out, struct phy_error *err)
{
	const struct boot_image *k = &req->kernel;

	memset(out, 0, sizeof(*out));
	if (k->size >= SELFMAG && memcmp(k->data, ELFMAG, SELFMAG) == 0)
		return boot_load_pvh(mem, req, out, err);
	if (k->size >= BZ_MAGIC_OFFSET + BZ_MAGIC_LEN &&
	    memcmp(k->data + BZ_MAGIC_OFFSET, BZ_MAGIC, BZ_MAGIC_LEN) == 0)
		return boot_load_bzimage(mem, req, out, err);
	/* A file too short to hold either magic may just be cut off. */
	if (k->size < BZ_MAGIC_OFFSET + BZ_MAGIC_LEN)
		return phy_err(err, PHY_E_IMAGE,
			       "'%s' is not a Linux kernel (no bzImage header or ELF magic; truncated? only %zu bytes)",
			       boot_image_name(k, "kernel"), k->size);
	return phy_err(err, PHY_E_IMAGE,
		       "'%s' is not a Linux kernel (no bzImage header or ELF magic)",
		       boot_image_name(k, "kernel"));
}
