/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "common/guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"

/* Transparent huge pages need 2 MiB-aligned ranges, and KVM maps a huge
 * page into the guest only where guest-physical and host-virtual addresses
 * agree modulo 2 MiB: a 2 MiB-aligned base gives every region that. */
#define GUEST_MEM_ALIGN (2ULL << 20)

/* Maps `size` bytes at a GUEST_MEM_ALIGN-aligned address: fd >= 0 shared,
 * else private anonymous. Returns MAP_FAILED with errno set. */
static void *map_aligned(size_t size, int fd)
{
	size_t span = size + GUEST_MEM_ALIGN;
	uint8_t *res = mmap(NULL, span, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return MAP_FAILED;
	uint8_t *p = (uint8_t *)(((uintptr_t)res + GUEST_MEM_ALIGN - 1) &
				 ~(uintptr_t)(GUEST_MEM_ALIGN - 1));
	int flags = MAP_FIXED | MAP_NORESERVE |
		    (fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS);
	if (mmap(p, size, PROT_READ | PROT_WRITE, flags, fd, 0) == MAP_FAILED) {
		int e = errno;
		munmap(res, span);
		errno = e;
		return MAP_FAILED;
	}
	if (p > res)
		munmap(res, (size_t)(p - res));
	munmap(p + size, (size_t)(res + span - (p + size)));
	return p;
}

int guest_mem_create(struct guest_mem *mem, uint64_t ram_size,
		     uint64_t hole_start, uint64_t high_start, unsigned flags,
		     struct phy_error *err)
{
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	if (ram_size == 0 || hole_start == 0 || high_start < hole_start ||
	    (flags & ~(GUEST_MEM_SHARED | GUEST_MEM_THP)))
		return phy_err(err, PHY_E_INVALID, "memory: invalid size or flags");

	int fd = -1;
	if (flags & GUEST_MEM_SHARED) {
		fd = memfd_create("phyllome-guest-ram", MFD_CLOEXEC);
		if (fd < 0)
			return phy_err_errno(err, PHY_E_NOMEM, errno, "memfd_create");
		if (ftruncate(fd, (off_t)ram_size) < 0) {
			int e = errno;
			close(fd);
			return phy_err_errno(err, PHY_E_NOMEM, e,
					     "memory: cannot size guest RAM to %llu bytes",
					     (unsigned long long)ram_size);
		}
	}
	void *p = map_aligned(ram_size, fd);
	if (p == MAP_FAILED) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return phy_err_errno(err, PHY_E_NOMEM, e,
				     "memory: cannot map %llu bytes of guest RAM",
				     (unsigned long long)ram_size);
	}
	/* Guest RAM never belongs in a core dump of the VMM. */
	madvise(p, ram_size, MADV_DONTDUMP);
	/* Huge pages: fewer TLB misses for the guest (KVM maps 2 MiB pages in
	 * the nested page tables), and guest buffers that are contiguous in
	 * guest-physical memory stay contiguous for the host's block layer,
	 * so a 1 MiB request is one segment list, not 256 scattered pages.
	 * Only advice: a host with THP off ignores it, and for shared memory
	 * it takes effect only when shmem_enabled allows it. */
	if (flags & GUEST_MEM_THP)
		madvise(p, ram_size, MADV_HUGEPAGE);

	mem->memfd = fd;
	mem->base = p;
	mem->mapped = ram_size;
	mem->ram_size = ram_size;

	uint64_t low = ram_size < hole_start ? ram_size : hole_start;
	mem->regions[0] = (struct guest_mem_region){ 0, low, mem->base };
	mem->nr_regions = 1;
	if (ram_size > low) {
		mem->regions[1] = (struct guest_mem_region){
			high_start, ram_size - low, mem->base + low };
		mem->nr_regions = 2;
	}
	return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
	if (mem->base)
		munmap(mem->base, mem->mapped);
	if (mem->memfd >= 0)
		close(mem->memfd);
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < mem->nr_regions; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off >= r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst,
		   size_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa,
		    const void *src, size_t len)
{
	void *p = guest_mem_ptr(mem, gpa, len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

void guest_mem_clear(struct guest_mem *mem)
{
	/* Returning the pages to the host (a hole punched in the memfd, or
	 * private pages dropped, which read back as zeroes) is both faster
	 * and leaner than memset on a large guest. */
	if (mem->memfd >= 0 &&
	    fallocate(mem->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)mem->ram_size) == 0)
		return;
	if (mem->memfd < 0 && madvise(mem->base, mem->mapped, MADV_DONTNEED) == 0)
		return;
	memset(mem->base, 0, mem->mapped);
}

int guest_mem_discard(const struct guest_mem *mem, void *hva, uint64_t len)
{
	uint8_t *p = hva;
	const struct guest_mem_region *in = NULL;
	for (unsigned i = 0; i < mem->nr_regions && !in; i++) {
		const struct guest_mem_region *r = &mem->regions[i];
		if (p >= r->hva && len <= r->size && (uint64_t)(p - r->hva) <= r->size - len)
			in = r;
	}
	if (!in || !len || ((len | (uintptr_t)p) & 4095)) {
		errno = EINVAL;
		return -1;
	}
	if (mem->memfd >= 0)
		return fallocate(mem->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)(p - mem->base), (off_t)len);
	return madvise(p, len, MADV_DONTNEED);
}
