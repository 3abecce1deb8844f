/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest physical memory: one mapping in the VMM (private anonymous memory,
 * or a memfd when it is to be shared), exposed to KVM as up to two slots
 * (below the 32-bit hole and above 4 GiB). Every access from the VMM to
 * guest memory goes through guest_mem_ptr(), which checks that the whole
 * range lies inside one RAM region.
 */
#ifndef PHY_COMMON_GUEST_MEM_H
#define PHY_COMMON_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	unsigned nr_regions;
	uint64_t ram_size; /* total bytes of RAM */
	int memfd;         /* -1 when not backed by a memfd */
	uint8_t *base;     /* the whole mapping */
	size_t mapped;
};

enum {
	GUEST_MEM_SHARED = 1 << 0, /* a memfd, MAP_SHARED (--memory shared=on) */
	GUEST_MEM_THP = 1 << 1,    /* advise transparent huge pages (thp=on) */
};

/*
 * Maps ram_size bytes at a 2 MiB-aligned address (flags: GUEST_MEM_*) and
 * splits them at hole_start: [0, min(ram, hole_start)) and
 * [high_start, ...) for the rest.
 */
int guest_mem_create(struct guest_mem *mem, uint64_t ram_size,
		     uint64_t hole_start, uint64_t high_start, unsigned flags,
		     struct phy_error *err);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len), or NULL when any byte is outside RAM. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copy in/out with the same check; return 0 or -1. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst,
		   size_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa,
		    const void *src, size_t len);

/* Zeroes all of guest RAM (used on reset). */
void guest_mem_clear(struct guest_mem *mem);

/*
 * Gives the len bytes of guest RAM at host address hva back to the host
 * (a balloon's pages): a hole punched in the memfd, or private pages
 * dropped; they read as zeroes afterwards. 4 KiB-aligned and inside one
 * RAM region, else -1 (EINVAL) with nothing touched; -1 with errno when
 * the kernel refuses.
 */
int guest_mem_discard(const struct guest_mem *mem, void *hva, uint64_t len);

#endif
