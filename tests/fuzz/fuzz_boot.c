/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: hostile kernel images (bzImage headers, ELF headers and
 * program headers) and initrd sizes through boot_load() into a small guest.
 * The loader must reject or load them without touching memory outside the
 * image or the guest's RAM (ASan watches the mapping's edges).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

#define GUEST_RAM (64ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem mem;
	static int ready;
	if (!ready) {
		if (guest_mem_create(&mem, GUEST_RAM, 0xC0000000ULL,
				     0x100000000ULL, 0, NULL))
			abort();
		ready = 1;
	}
	if (size < 2)
		return 0;
	/* First byte picks the initrd size and the command line length. */
	uint8_t knobs = data[0];
	data++;
	size--;
	/* A heap copy of the exact size: ASan catches any read past it. */
	uint8_t *img = malloc(size);
	memcpy(img, data, size);
	size_t initrd_size = (size_t)(knobs & 0x0f) << 20;
	uint8_t *initrd = initrd_size ? calloc(1, initrd_size) : NULL;
	char cmdline[4096];
	size_t cl = (size_t)(knobs >> 4) * 250;
	memset(cmdline, 'c', cl);
	cmdline[cl] = 0;

	struct boot_request req = {
		.kernel = { img, size, "fuzz", 0 },
		.initrd = { initrd, initrd_size, "fuzz-initrd", 0 },
		.cmdline = cmdline,
		.rsdp_gpa = 0xE0000,
	};
	struct boot_entry entry;
	struct phy_error err;
	if (boot_load(&mem, &req, &entry, &err) == 0) {
		/* A loaded kernel's entry and info block are in RAM. */
		if (!guest_mem_ptr(&mem, entry.info_gpa, 1))
			abort();
	}
	free(initrd);
	free(img);
	return 0;
}
