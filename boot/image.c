/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel and initrd files are mapped read-only rather than read: an initrd
 * can be hundreds of MiB and is copied into guest memory exactly once.
 */
#include "boot/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

int boot_image_open(struct boot_image *img, const char *path,
		    const char *what, struct phy_error *err)
{
	struct stat st;

	memset(img, 0, sizeof(*img));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return phy_err_errno(err, PHY_E_IMAGE, errno,
				     "%s: cannot open '%s'", what, path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return phy_err_errno(err, PHY_E_IMAGE, e,
				     "%s: cannot stat '%s'", what, path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return phy_err(err, PHY_E_IMAGE,
			       "%s: '%s' is not a regular file", what, path);
	}
	if (st.st_size == 0) {
		close(fd);
		return phy_err(err, PHY_E_IMAGE, "%s: '%s' is empty", what,
			       path);
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	/* The mapping keeps the file alive; the descriptor is not needed. */
	close(fd);
	if (p == MAP_FAILED)
		return phy_err_errno(err, PHY_E_IMAGE, e,
				     "%s: cannot map '%s'", what, path);
	img->data = p;
	img->size = (size_t)st.st_size;
	img->mapped = 1;
	/* Borrowed: callers keep the path (their configuration) alive. */
	img->name = path;
	return 0;
}

void boot_image_close(struct boot_image *img)
{
	if (img->data)
		munmap((void *)img->data, img->size);
	memset(img, 0, sizeof(*img));
}

#define COPY_CHUNK (1UL << 20)

int boot_image_copy(struct guest_mem *mem, uint64_t gpa,
		    const struct boot_image *img, size_t off, size_t len)
{
	if (off > img->size || len > img->size - off ||
	    !guest_mem_ptr(mem, gpa, len))
		return -1;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	while (len) {
		size_t n = len < COPY_CHUNK ? len : COPY_CHUNK;
		if (guest_mem_write(mem, gpa, img->data + off, n) < 0)
			return -1;
		if (img->mapped) {
			/* Never written, so dropping the pages loses nothing:
			 * they come back from the page cache if touched. */
			uintptr_t lo = (uintptr_t)(img->data + off) & ~(page - 1);
			uintptr_t hi = (uintptr_t)(img->data + off + n) & ~(page - 1);
			if (hi > lo)
				madvise((void *)lo, hi - lo, MADV_DONTNEED);
		}
		gpa += n;
		off += n;
		len -= n;
	}
	return 0;
}
