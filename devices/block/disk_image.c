// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "devices/block/disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include "common/error.h"

#define SECTOR 512u
#define MAX_PHYS_BLOCK 65536u

static uint32_t pow2_floor(uint64_t v)
{
	uint32_t p = SECTOR;
	while (p < MAX_PHYS_BLOCK && (uint64_t)p * 2 <= v)
		p *= 2;
	return p;
}

static int open_fd(const struct disk_image_params *cfg, struct phy_error *err)
{
	int flags = (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (cfg->direct)
		flags |= O_DIRECT;
	int fd = open(cfg->path, flags);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == EINVAL && cfg->direct)
		return phy_err(err, PHY_E_INVALID,
			       "--disk: %s: the file system does not support "
			       "O_DIRECT (use direct=off)",
			       cfg->path);
	if (!cfg->readonly && (e == EACCES || e == EROFS || e == EPERM))
		return phy_err_errno(
			err, PHY_E_INVALID, e,
			"--disk: cannot open '%s' for writing (readonly=on?)",
			cfg->path);
	return phy_err_errno(err, PHY_E_INVALID, e, "--disk: cannot open '%s'",
			     cfg->path);
}

/* An OFD lock belongs to this open file, not to the process: it works
 * between VMs in one process too, and goes away with the descriptor. */
static int lock_image(struct disk_image *img, struct phy_error *err)
{
	struct flock fl = {
		.l_type = img->readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};
	if (fcntl(img->fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e == EAGAIN || e == EACCES)
		return phy_err(err, PHY_E_INVALID,
			       "--disk: %s is locked by another process (is "
			       "another VM using it?)",
			       img->path);
	/* File systems without byte-range locks (some FUSE and network
	 * ones): the image is still usable, only unguarded. */
	if (e == ENOLCK || e == EOPNOTSUPP || e == EINVAL)
		return 0;
	return phy_err_errno(err, PHY_E_IO, e, "--disk: cannot lock '%s'",
			     img->path);
}

static int block_device_geometry(struct disk_image *img, struct phy_error *err)
{
	uint64_t size;
	int lbs = 0;
	unsigned pbs = 0, io_min = 0, io_opt = 0;

	if (ioctl(img->fd, BLKGETSIZE64, &size) < 0 ||
	    ioctl(img->fd, BLKSSZGET, &lbs) < 0)
		return phy_err_errno(err, PHY_E_IO, errno,
				     "--disk: cannot read the size of '%s'",
				     img->path);
	if (ioctl(img->fd, BLKPBSZGET, &pbs) < 0)
		pbs = 0;
	if (ioctl(img->fd, BLKIOMIN, &io_min) < 0)
		io_min = 0;
	if (ioctl(img->fd, BLKIOOPT, &io_opt) < 0)
		io_opt = 0;
	img->size = size;
	img->logical_block_size = pow2_floor(lbs > 0 ? (uint64_t)lbs : SECTOR);
	img->physical_block_size = pow2_floor(pbs);
	img->min_io_size = io_min;
	img->opt_io_size = io_opt;
	/* The block layer turns PUNCH_HOLE and ZERO_RANGE into discard
	 * and write-zeroes commands, falling back to writing zeroes. */
	img->can_discard = img->can_write_zeroes = !img->readonly;
	return 0;
}

/* O_DIRECT needs offsets aligned to what the file system says (statx,
 * Linux 6.1); guest requests are kept aligned by advertising it as the
 * logical block size. */
static uint32_t direct_io_alignment(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		return stx.stx_dio_offset_align;
#endif
	return SECTOR;
}

static void file_geometry(struct disk_image *img, const struct stat *st)
{
	img->size = (uint64_t)st->st_size;
	img->logical_block_size = SECTOR;
	if (img->direct)
		img->logical_block_size =
			pow2_floor(direct_io_alignment(img->fd));
	img->physical_block_size = pow2_floor((uint64_t)st->st_blksize);
	if (img->physical_block_size < img->logical_block_size)
		img->physical_block_size = img->logical_block_size;
	if (img->readonly)
		return;
	/* Punching a hole past the end of the file changes nothing but
	 * tells whether the file system can deallocate ranges at all.
	 * Zeroing falls back to punching (and reallocating), so it
	 * needs the same support. */
	uint64_t past_end = (img->size + MAX_PHYS_BLOCK - 1) &
			    ~(uint64_t)(MAX_PHYS_BLOCK - 1);
	img->can_discard =
		fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)past_end, MAX_PHYS_BLOCK) == 0;
	img->can_write_zeroes = img->can_discard;
}

/* Some file systems accept O_DIRECT at open() and refuse the first
 * read: find out now rather than from the guest's first request. */
static int probe_direct(struct disk_image *img, struct phy_error *err)
{
	if (!img->direct || img->size == 0)
		return 0;
	size_t n =
		img->logical_block_size < 4096 ? 4096 : img->logical_block_size;
	void *buf;
	if (posix_memalign(&buf, n, n))
		return phy_err(err, PHY_E_NOMEM, "--disk: out of memory");
	ssize_t r = pread(img->fd, buf, n, 0);
	int e = errno;
	free(buf);
	if (r >= 0)
		return 0;
	if (e == EINVAL)
		return phy_err(err, PHY_E_INVALID,
			       "--disk: %s: the file system does not support "
			       "O_DIRECT (use direct=off)",
			       img->path);
	return phy_err_errno(err, PHY_E_IO, e, "--disk: cannot read '%s'",
			     img->path);
}

static int setup(struct disk_image *img, struct phy_error *err)
{
	struct stat st;
	if (fstat(img->fd, &st) < 0)
		return phy_err_errno(err, PHY_E_IO, errno,
				     "--disk: cannot stat '%s'", img->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return phy_err(err, PHY_E_INVALID,
			       "--disk: '%s' is neither a regular file nor a "
			       "block device",
			       img->path);
	int r = lock_image(img, err);
	if (r)
		return r;
	img->block_device = S_ISBLK(st.st_mode);
	if (img->block_device)
		r = block_device_geometry(img, err);
	else
		file_geometry(img, &st);
	return r ? r : probe_direct(img, err);
}

int disk_image_open(struct disk_image *img, const struct disk_image_params *cfg,
		    struct phy_error *err)
{
	memset(img, 0, sizeof(*img));
	img->fd = -1;
	img->readonly = cfg->readonly;
	img->direct = cfg->direct;
	img->path = strdup(cfg->path);
	if (!img->path)
		return phy_err(err, PHY_E_NOMEM, "--disk: out of memory");
	int r = open_fd(cfg, err);
	if (r < 0) {
		disk_image_close(img);
		return r;
	}
	img->fd = r;
	r = setup(img, err);
	if (r)
		disk_image_close(img);
	return r;
}

void disk_image_close(struct disk_image *img)
{
	/* An open image always has its path: a zeroed one (fd 0) does
	 * not, and must not close stdin. */
	if (img->path && img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	free(img->path);
	img->path = NULL;
}

void disk_image_account(struct disk_image *img, enum disk_req_kind kind,
			uint64_t bytes, bool error)
{
	__atomic_fetch_add(&img->requests[kind], 1, __ATOMIC_RELAXED);
	if (error)
		__atomic_fetch_add(&img->errors, 1, __ATOMIC_RELAXED);
	else if (kind == DISK_REQ_READ)
		__atomic_fetch_add(&img->bytes_read, bytes, __ATOMIC_RELAXED);
	else if (kind == DISK_REQ_WRITE)
		__atomic_fetch_add(&img->bytes_written, bytes,
				   __ATOMIC_RELAXED);
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void disk_image_stats(const struct disk_image *img, struct phy_disk_stats *out)
{
	*out = (struct phy_disk_stats){
		.read_requests = load(&img->requests[DISK_REQ_READ]),
		.write_requests = load(&img->requests[DISK_REQ_WRITE]),
		.flush_requests = load(&img->requests[DISK_REQ_FLUSH]),
		.discard_requests = load(&img->requests[DISK_REQ_DISCARD]),
		.write_zeroes_requests =
			load(&img->requests[DISK_REQ_WRITE_ZEROES]),
		.get_id_requests = load(&img->requests[DISK_REQ_GET_ID]),
		.unsupported_requests =
			load(&img->requests[DISK_REQ_UNSUPPORTED]),
		.bytes_read = load(&img->bytes_read),
		.bytes_written = load(&img->bytes_written),
		.errors = load(&img->errors),
	};
}
