/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal helpers shared by the bzImage and PVH loaders (boot/boot.c).
 * Both put the command line at X86_CMDLINE_GPA and the initrd as high as
 * possible in low RAM, so the policy lives in one place.
 */
#ifndef PHY_BOOT_LOADER_H
#define PHY_BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"

#define BOOT_PAGE_SIZE 0x1000ULL

/* Name of an image for error messages. */
const char *boot_image_name(const struct boot_image *img, const char *dflt);

/* First byte past the RAM below the 32-bit hole. */
uint64_t boot_low_ram_end(const struct guest_mem *mem);

/*
 * Checks the command line against the kernel's own limit kernel_max (bytes
 * without the NUL; UINT64_MAX when the image states none) and against
 * X86_CMDLINE_MAX. Writes nothing.
 */
int boot_check_cmdline(const struct boot_request *req, uint64_t kernel_max,
		       struct phy_error *err);

/* Copies the NUL-terminated command line to X86_CMDLINE_GPA. */
int boot_write_cmdline(struct guest_mem *mem, const struct boot_request *req,
		       struct phy_error *err);

/*
 * Picks the initrd's address: page aligned, as high as possible below
 * min(limit, low RAM end) and not below kernel_end. Sets out->initrd_gpa
 * and out->initrd_size (both 0 without an initrd). Writes nothing.
 */
int boot_place_initrd(const struct guest_mem *mem,
		      const struct boot_request *req, uint64_t kernel_end,
		      uint64_t limit, struct boot_entry *out,
		      struct phy_error *err);

/* Copies the initrd to where boot_place_initrd() put it. */
int boot_write_initrd(struct guest_mem *mem, const struct boot_request *req,
		      const struct boot_entry *out, struct phy_error *err);

#endif
