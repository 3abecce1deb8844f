/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A firmware image for the top of the 32-bit address space (Debian's
 * OVMF: OVMF.fd, or OVMF_CODE_4M.fd with a copy of OVMF_VARS_4M.fd) and
 * where its UEFI variable store goes.
 *
 * The image ends at 4 GiB, where the boot CPU's reset vector is. Its
 * variable store is a file of the VM's own (--firmware vars=FILE): either
 * laid over the image's first bytes, when the image itself starts with a
 * variable store of that size (OVMF.fd, whose first 128 KiB are one), or
 * right below the image (OVMF_CODE_4M.fd: OVMF_VARS_4M.fd's 528 KiB go
 * below its 3.5 MiB). Both are what OVMF was built to find.
 */
#ifndef PHY_BOOT_FIRMWARE_H
#define PHY_BOOT_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define FIRMWARE_TOP 0x100000000ULL
/* The firmware and its variables stay above the IOAPIC, the LAPIC and
 * KVM's own pages (0xFEFFC000): 16 MiB at most, as on a PC. */
#define FIRMWARE_BASE_MIN 0xFF000000ULL
#define FIRMWARE_MAX_SIZE (FIRMWARE_TOP - FIRMWARE_BASE_MIN)
#define FIRMWARE_PAGE 0x1000ULL

/*
 * Checks an image: a whole number of 4 KiB pages, no more than
 * FIRMWARE_MAX_SIZE, and a reset vector (its last 16 bytes, where the CPU
 * starts) that is neither erased flash nor zeros. Errors name `opt`.
 */
int firmware_check_image(const uint8_t *data, size_t size, const char *opt,
			 struct phy_error *err);

/* The length of the UEFI variable store (a firmware volume with the
 * NV-data GUID) that `data` starts with, or 0 when it starts with none. */
uint64_t firmware_vars_store_size(const uint8_t *data, size_t size);

/* Checks a variables file: one whole variable store (as OVMF_VARS*.fd). */
int firmware_check_vars(const uint8_t *data, size_t size, const char *opt,
			struct phy_error *err);

struct firmware_layout {
	uint64_t code_gpa, code_size; /* the image's read-only part */
	uint64_t code_offset;         /* where that part starts in the image */
	uint64_t vars_gpa, vars_size; /* 0 size: no variables file */
	bool vars_overlay;            /* vars replace the image's first bytes */
};

/* Where things go for an image of image_size bytes and a variables file
 * of vars_size (0: none). Fails, naming `opt`, when the variables do not
 * fit below the image within FIRMWARE_MAX_SIZE, or when the image has a
 * store of its own of another size (the firmware would not find them). */
int firmware_layout(const uint8_t *image, size_t image_size,
		    uint64_t vars_size, struct firmware_layout *out,
		    const char *opt, struct phy_error *err);

#endif
