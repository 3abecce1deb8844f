// SPDX-License-Identifier: Apache-2.0
/* Guest RAM's mapping: alignment, the region split, the kind of memory
 * (private or a shared memfd), the huge-page advice, clearing, and
 * giving pages back (a balloon's). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "common/guest_mem.h"

#define MiB (1ULL << 20)

/* The VmFlags line of the mapping holding addr in /proc/self/smaps, as
 * " f1 f2 ... " (blank-delimited, so a flag is found as " hg "). */
static void vm_flags(const void *addr, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false;
	snprintf(out, size, "(not found)");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
			continue;
		}
		if (inside && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, size, "%s ", line + 8);
			break;
		}
	}
	fclose(f);
}

static void test_layout(void)
{
	struct guest_mem mem;
	struct phy_error err = { 0 };
	/* 8 MiB of RAM with the hole at 6 MiB and the rest at 16 MiB. */
	REQUIRE(guest_mem_create(&mem, 8 * MiB, 6 * MiB, 16 * MiB, 0, &err) == 0);
	CHECK(((uintptr_t)mem.base & (2 * MiB - 1)) == 0);
	CHECK(mem.nr_regions == 2 && mem.ram_size == 8 * MiB);
	CHECK(mem.regions[0].gpa == 0 && mem.regions[0].size == 6 * MiB);
	CHECK(mem.regions[1].gpa == 16 * MiB && mem.regions[1].size == 2 * MiB);
	CHECK(guest_mem_ptr(&mem, 16 * MiB, 4096) == mem.base + 6 * MiB);
	/* Nothing in the hole, nothing across a region's end. */
	CHECK(guest_mem_ptr(&mem, 6 * MiB, 1) == NULL);
	CHECK(guest_mem_ptr(&mem, 6 * MiB - 1, 2) == NULL);
	CHECK(guest_mem_ptr(&mem, 18 * MiB - 1, 1) != NULL);
	CHECK(guest_mem_ptr(&mem, 18 * MiB - 1, 2) == NULL);
	CHECK(guest_mem_ptr(&mem, UINT64_MAX, 2) == NULL);
	guest_mem_destroy(&mem);

	CHECK(guest_mem_create(&mem, 8 * MiB, 6 * MiB, 16 * MiB, 1u << 7, &err) < 0);
	CHECK(guest_mem_create(&mem, 0, 6 * MiB, 16 * MiB, 0, &err) < 0);
}

static void test_kinds(void)
{
	static const struct {
		unsigned flags;
		bool shared, thp;
	} cases[] = {
		{ 0, false, false },
		{ GUEST_MEM_THP, false, true },
		{ GUEST_MEM_SHARED, true, false },
		{ GUEST_MEM_SHARED | GUEST_MEM_THP, true, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct guest_mem mem;
		struct phy_error err = { 0 };
		char flags[512];
		int failed = check_failures;
		REQUIRE(guest_mem_create(&mem, 4 * MiB, 64 * MiB, 4096 * MiB,
					 cases[i].flags, &err) == 0);
		vm_flags(mem.base, flags, sizeof(flags));
		/* sh: MAP_SHARED; hg: MADV_HUGEPAGE; dd: MADV_DONTDUMP. */
		CHECK((strstr(flags, " sh ") != NULL) == cases[i].shared);
		CHECK((strstr(flags, " hg ") != NULL) == cases[i].thp);
		CHECK(strstr(flags, " dd ") != NULL);
		CHECK((mem.memfd >= 0) == cases[i].shared);
		if (check_failures > failed)
			fprintf(stderr, "case %zu: VmFlags:%s\n", i, flags);

		/* Clearing zeroes every byte and leaves the memory usable. */
		memset(mem.base, 0x5a, mem.mapped);
		guest_mem_clear(&mem);
		size_t nonzero = 0;
		for (size_t b = 0; b < mem.mapped; b++)
			nonzero += mem.base[b] != 0;
		CHECK(nonzero == 0);
		CHECK(guest_mem_write(&mem, 4096, "abc", 3) == 0);
		char back[3];
		CHECK(guest_mem_read(&mem, 4096, back, 3) == 0 && !memcmp(back, "abc", 3));
		guest_mem_destroy(&mem);
		CHECK(mem.base == NULL && mem.memfd == -1);
	}
}

/* Resident pages of [p, p+len) (len a multiple of 4 KiB, at most 1 MiB). */
static unsigned resident(void *p, size_t len)
{
	unsigned char vec[256];
	unsigned n = 0;
	if (mincore(p, len, vec))
		return ~0u;
	for (size_t i = 0; i < len / 4096; i++)
		n += vec[i] & 1;
	return n;
}

/* guest_mem_discard(): the pages leave the host and read back as zeroes,
 * on private memory and on a shared memfd (a hole in the file); a range
 * not page-aligned, outside RAM, across the hole or empty is refused with
 * nothing touched. */
static void test_discard(void)
{
	for (unsigned shared = 0; shared < 2; shared++) {
		struct guest_mem mem;
		struct phy_error err = { 0 };
		REQUIRE(guest_mem_create(&mem, 8 * MiB, 4 * MiB, 4096 * MiB,
					 shared ? GUEST_MEM_SHARED : 0, &err) == 0);
		uint8_t *p = guest_mem_ptr(&mem, 1 * MiB, 1 * MiB);
		REQUIRE(p);
		memset(p, 0x5a, 1 * MiB);
		CHECK_EQ_U64(resident(p, 1 * MiB), 256);
		CHECK(guest_mem_discard(&mem, p + 4096, 64 * 4096) == 0);
		CHECK_EQ_U64(resident(p, 1 * MiB), 256 - 64);
		/* Refused, nothing touched. */
		CHECK(guest_mem_discard(&mem, p + 100, 4096) == -1);
		CHECK(guest_mem_discard(&mem, p, 100) == -1);
		CHECK(guest_mem_discard(&mem, p, 0) == -1);
		CHECK(guest_mem_discard(&mem, mem.base - 4096, 4096) == -1);
		uint8_t *low_end = guest_mem_ptr(&mem, 4 * MiB - 4096, 4096);
		CHECK(guest_mem_discard(&mem, low_end, 2 * 4096) == -1); /* across the hole */
		uint8_t *high = guest_mem_ptr(&mem, 4096 * MiB, 4096);
		CHECK(guest_mem_discard(&mem, high + 4 * MiB - 4096, 2 * 4096) == -1); /* past RAM */
		CHECK(guest_mem_discard(&mem, high + 4 * MiB - 4096, 4096) == 0);
		CHECK_EQ_U64(resident(p, 1 * MiB), 256 - 64);
		/* Read last: reading a page given back maps it again. */
		CHECK(p[4096] == 0 && p[65 * 4096 - 1] == 0 && p[0] == 0x5a && p[65 * 4096] == 0x5a);
		guest_mem_destroy(&mem);
	}
}

int main(void)
{
	test_layout();
	test_kinds();
	test_discard();
	return check_report("test_guest_mem");
}
