/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A raw disk image: a regular file or a block device opened for a
 * --disk option, with what a block device model needs to know about it
 * (size, block sizes, whether ranges can be deallocated or zeroed) and the
 * per-disk I/O counters.
 *
 * The image belongs to the VM, not to the device model: the device is
 * rebuilt on every guest reboot while the open file, its lock and the
 * counters carry on. The counters are relaxed atomics: the device loop
 * adds to them while any thread may read them.
 */
#ifndef PHY_DEVICES_BLOCK_DISK_IMAGE_H
#define PHY_DEVICES_BLOCK_DISK_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

/* How to open an image (what --disk's path, readonly and direct say). */
struct disk_image_params {
	const char *path;
	bool readonly;
	bool direct; /* O_DIRECT */
};

enum disk_req_kind {
	DISK_REQ_READ,
	DISK_REQ_WRITE,
	DISK_REQ_FLUSH,
	DISK_REQ_DISCARD,
	DISK_REQ_WRITE_ZEROES,
	DISK_REQ_GET_ID,
	DISK_REQ_UNSUPPORTED,
	DISK_REQ_KINDS,
};


struct disk_image {
	int fd;
	char *path; /* for messages */
	bool readonly;
	bool direct; /* opened with O_DIRECT */
	bool block_device;
	uint64_t size; /* bytes */
	/* The smallest unit of I/O the guest should use: 512 for buffered
	 * files, the device's or file system's direct I/O granularity
	 * otherwise. A power of two >= 512. */
	uint32_t logical_block_size;
	uint32_t physical_block_size;	   /* >= logical; a power of two */
	uint32_t min_io_size, opt_io_size; /* bytes; 0: unknown */
	/* Ranges can be deallocated (PUNCH_HOLE) / zeroed. Never on a
	 * read-only image. */
	bool can_discard;
	bool can_write_zeroes;
	/* Learned at run time: the file system refused ZERO_RANGE (tmpfs),
	 * so zeroing goes straight to the fallback. Relaxed atomic. */
	bool no_zero_range;

	/* Relaxed atomics; read them through disk_image_stats(). */
	uint64_t requests[DISK_REQ_KINDS];
	uint64_t bytes_read, bytes_written, errors;
};

/*
 * Opens p->path read-write (or read-only), with O_DIRECT when asked,
 * and takes an open-file-description lock on it: exclusive for a
 * writable image, shared for a read-only one, so that two VMs cannot
 * write one image. Errors name the option and the file.
 */
int disk_image_open(struct disk_image *img, const struct disk_image_params *p,
		    struct phy_error *err);
/* Closes the file (dropping the lock); safe on a zeroed image, one
 * whose open failed, or one already closed. */
void disk_image_close(struct disk_image *img);

/* Counts one completed request; `bytes` moved on success. */
void disk_image_account(struct disk_image *img, enum disk_req_kind kind,
			uint64_t bytes, bool error);
/* A snapshot of the counters since the image was opened. */
void disk_image_stats(const struct disk_image *img, struct phy_disk_stats *out);

#endif
