/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel loaders: a bzImage through the Linux boot protocol's 64-bit entry,
 * or an ELF vmlinux through the Xen PVH entry. They parse the image, copy it
 * (and the initrd and command line) into guest memory, write the boot
 * information block (zero page / hvm_start_info) and say how to enter it.
 */
#ifndef PHY_BOOT_BOOT_H
#define PHY_BOOT_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/guest_mem.h"

enum boot_entry_mode {
	BOOT_ENTRY_LINUX64, /* 64-bit long mode, paging on, RSI = zero page */
	BOOT_ENTRY_PVH32,   /* 32-bit protected mode, paging off, EBX = start_info */
};

struct boot_image {
	const uint8_t *data; /* whole file contents */
	size_t size;
	const char *name;    /* for error messages (path) */
	int mapped;          /* data is a read-only file mapping of ours */
};

struct boot_request {
	struct boot_image kernel;
	struct boot_image initrd; /* data == NULL: no initrd */
	const char *cmdline;      /* may be NULL or empty */
	uint64_t rsdp_gpa;        /* ACPI RSDP, 0 if none */
};

struct boot_entry {
	enum boot_entry_mode mode;
	uint64_t entry_gpa;  /* where the vCPU starts (RIP / EIP) */
	uint64_t info_gpa;   /* zero page (RSI) or hvm_start_info (EBX) */
	uint64_t kernel_gpa; /* where the kernel was loaded */
	uint64_t kernel_end; /* first byte after the kernel's reserved area */
	uint64_t initrd_gpa; /* 0 if none */
	uint64_t initrd_size;
};

/*
 * Detects the image type and loads it. Errors (PHY_E_IMAGE) name the file
 * and say what is wrong: not a kernel, truncated, unsupported protocol,
 * kernel or initrd too large for the guest's memory; PHY_E_INVALID for a
 * command line that is too long.
 */
int boot_load(struct guest_mem *mem, const struct boot_request *req,
	      struct boot_entry *out, struct phy_error *err);

/* The two loaders, for tests; boot_load() picks one. */
int boot_load_bzimage(struct guest_mem *mem, const struct boot_request *req,
		      struct boot_entry *out, struct phy_error *err);
int boot_load_pvh(struct guest_mem *mem, const struct boot_request *req,
		  struct boot_entry *out, struct phy_error *err);

/* Reads a whole file into memory (mmap). Returns PHY_E_IMAGE when it is
 * missing or unreadable, naming `what` ("kernel", "initramfs"). */
int boot_image_open(struct boot_image *img, const char *path,
		    const char *what, struct phy_error *err);
void boot_image_close(struct boot_image *img);

/*
 * Copies img[off, off+len) to guest memory at gpa. For a file mapping it goes
 * in 1 MiB chunks and drops each chunk's pages from the VMM afterwards, so
 * loading a large kernel or initrd does not raise the VMM's own RSS.
 * Returns 0, or -1 when the range is outside the image or guest RAM.
 */
int boot_image_copy(struct guest_mem *mem, uint64_t gpa,
		    const struct boot_image *img, size_t off, size_t len);

#endif
