/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "common/guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"

int guest_mem_create(struct guest_mem *mem, uint64_t ram_size,
		     uint64_t hole_start, uint64_t high_start,
		     struct phy_error *err)
{
	memset(mem, 0, sizeof(*mem));
	mem->memfd = -1;
	if (ram_size == 0 || hole_start == 0 || high_start < hole_start)
		return phy_err(err, PHY_E_INVALID, "memory: invalid size");

	int fd = memfd_create("phyllome-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_NOMEM, errno, "memfd_create");
	if (ftruncate(fd, (off_t)ram_size) < 0) {
		int e = errno;
		close(fd);
		return phy_err_errno(err, PHY_E_NOMEM, e,
				     "memory: cannot size guest RAM to %llu bytes",
				     (unsigned long long)ram_size);
	}
	void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		int e = errno;
		close(fd);
		return phy_err_errno(err, PHY_E_NOMEM, e,
				     "memory: cannot map %llu bytes of guest RAM",
				     (unsigned long long)ram_size);
	}
	/* Guest RAM never belongs in a core dump of the VMM. */
	madvise(p, ram_size, MADV_DONTDUMP);

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
	/* Punching the whole memfd returns the pages to the host, which is
	 * both faster and leaner than memset on a large guest. */
	if (mem->memfd >= 0 &&
	    fallocate(mem->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)mem->ram_size) == 0)
		return;
	memset(mem->base, 0, mem->mapped);
}
