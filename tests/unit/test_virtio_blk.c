/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-blk against temporary image files, driven by the simulated
 * driver: negotiation and configuration space, every request type with
 * the data checked through the file, read-only disks, bad sectors,
 * discard and write zeroes (holes and all), several queues, oddly split
 * requests, driver bugs (NEEDS_RESET), a reset with requests in flight,
 * polling (busy and idle queues), image locking and the counters.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "check.h"
#include "common/clock.h"
#include "devices/block/disk_image.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_blk_internal.h"
#include "virtio_sim.h"

#define DISK_SECTORS 2048u /* 1 MiB */
#define DISK_BYTES (DISK_SECTORS * 512u)
#define F(bit) (1ull << (bit))
#define F_V1 F(VIRTIO_F_VERSION_1)

/* One device on one image, with its simulated driver. */
struct rig {
	char path[64];
	int fd; /* the test's own view of the file */
	struct disk_image img;
	struct virtio_sim *sim;
	struct virtio_blk *blk;
	struct virtio_dev *dev;
};

static bool blk_busy(void *opaque)
{
	return virtio_blk_inflight(opaque) > 0;
}

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) + 1);
}

static int make_image(char *path, size_t n, uint64_t size)
{
	const char *dir = getenv("TMPDIR");
	snprintf(path, n, "%s/phy-blk-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		for (unsigned i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i);
		if (pwrite(fd, buf, sizeof(buf), (off_t)off) !=
		    (ssize_t)sizeof(buf))
			return -1;
	}
	return fd;
}

/* What --disk says: how the image is opened, and the device on it. */
struct disk_setup {
	struct disk_image_params img;
	struct virtio_blk_params blk;
};

static struct disk_setup disk_cfg(const char *path, bool ro, unsigned queues,
				  const char *id)
{
	return (struct disk_setup){
		.img = {.path = path, .readonly = ro},
		.blk = {.num_queues = queues, .queue_size = 64, .id = id},
	};
}

/* Opens `path` (or a new image when NULL) and builds the device. */
static int rig_open(struct rig *r, const char *path, bool ro, unsigned queues)
{
	struct phy_error err = {0};
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (path) {
		snprintf(r->path, sizeof(r->path), "%s", path);
	} else {
		r->fd = make_image(r->path, sizeof(r->path), DISK_BYTES);
		if (r->fd < 0)
			return -1;
	}
	struct disk_setup cfg = disk_cfg(r->path, ro, queues, "serial-0123");
	r->sim = sim_create(32u << 20, 1u << 20);
	if (!r->sim || disk_image_open(&r->img, &cfg.img, &err) ||
	    virtio_blk_create(&r->blk, &r->img, &cfg.blk, "virtio-blk0",
			      &r->sim->mem, r->sim->loop, &err)) {
		fprintf(stderr, "rig: %s\n", err.message);
		return -1;
	}
	r->dev = virtio_blk_dev(r->blk);
	sim_attach(r->sim, r->dev, blk_busy, r->blk);
	return 0;
}

static void rig_close(struct rig *r, bool unlink_file)
{
	if (r->sim)
		sim_run(r->sim);
	virtio_blk_destroy(r->blk);
	sim_destroy(r->sim);
	disk_image_close(&r->img);
	if (r->fd >= 0)
		close(r->fd);
	if (unlink_file)
		unlink(r->path);
}

static uint64_t all_features(struct rig *r)
{
	return r->dev->host_features;
}

/* ---- requests ---------------------------------------------------------- */

struct rq {
	int head;
	uint64_t status_gpa;
};

static uint64_t header(struct rig *r, uint32_t type, uint64_t sector)
{
	uint64_t h = sim_alloc(r->sim, 17, 16);
	struct virtio_blk_outhdr *hdr = sim_ptr(r->sim, h, 16);
	hdr->type = htole32(type);
	hdr->ioprio = 0;
	hdr->sector = htole64(sector);
	*(uint8_t *)sim_ptr(r->sim, h + 16, 1) = 0xee;
	return h;
}

static struct rq rq_add(struct rig *r, unsigned q, uint32_t type,
			uint64_t sector, uint64_t data, uint32_t len,
			bool indirect)
{
	bool to_driver = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint64_t h = header(r, type, sector);
	struct sim_buf b[3];
	unsigned n = 0;
	b[n++] = (struct sim_buf){h, 16, false};
	if (len)
		b[n++] = (struct sim_buf){data, len, to_driver};
	b[n++] = (struct sim_buf){h + 16, 1, true};
	return (struct rq){sim_add(r->sim, q, b, n, indirect), h + 16};
}

/* Takes the next used entry of queue q, which must be rq's; returns its
 * status byte, or 0xee when none came back. */
static uint8_t rq_status(struct rig *r, unsigned q, struct rq rq,
			 uint32_t *used_len)
{
	uint16_t id;
	uint32_t len;
	if (sim_get_used(r->sim, q, &id, &len) != 1)
		return 0xee;
	CHECK(id == rq.head);
	if (used_len)
		*used_len = len;
	return *(uint8_t *)sim_ptr(r->sim, rq.status_gpa, 1);
}

static uint8_t do_rq(struct rig *r, uint32_t type, uint64_t sector,
		     uint64_t data, uint32_t len)
{
	struct rq rq = rq_add(r, 0, type, sector, data, len, false);
	sim_kick(r->sim, 0);
	sim_run(r->sim);
	return rq_status(r, 0, rq, NULL);
}

static uint8_t discard_like(struct rig *r, uint32_t type, uint64_t sector,
			    uint32_t n, uint32_t flags)
{
	uint64_t seg = sim_alloc(r->sim, 16, 16);
	struct virtio_blk_discard_write_zeroes *s = sim_ptr(r->sim, seg, 16);
	s->sector = htole64(sector);
	s->num_sectors = htole32(n);
	s->flags = htole32(flags);
	return do_rq(r, type, 0, seg, 16);
}

static bool file_matches(struct rig *r, uint64_t off, const uint8_t *buf,
			 size_t n)
{
	uint8_t *tmp = malloc(n);
	bool ok = pread(r->fd, tmp, n, (off_t)off) == (ssize_t)n &&
		  !memcmp(tmp, buf, n);
	free(tmp);
	return ok;
}

static bool file_is_pattern(struct rig *r, uint64_t off, size_t n)
{
	uint8_t *tmp = malloc(n);
	bool ok = pread(r->fd, tmp, n, (off_t)off) == (ssize_t)n;
	for (size_t i = 0; ok && i < n; i++)
		ok = tmp[i] == pattern(off + i);
	free(tmp);
	return ok;
}

static bool file_is_zero(struct rig *r, uint64_t off, size_t n)
{
	uint8_t *tmp = malloc(n);
	bool ok = pread(r->fd, tmp, n, (off_t)off) == (ssize_t)n;
	for (size_t i = 0; ok && i < n; i++)
		ok = tmp[i] == 0;
	free(tmp);
	return ok;
}

static uint64_t file_blocks(struct rig *r)
{
	struct stat st;
	fsync(r->fd);
	fstat(r->fd, &st);
	return (uint64_t)st.st_blocks;
}

/* ---- tests ------------------------------------------------------------- */

static void test_features_and_config(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	uint64_t f = all_features(&r);
	CHECK(f & F(VIRTIO_BLK_F_SEG_MAX));
	CHECK(f & F(VIRTIO_BLK_F_BLK_SIZE));
	CHECK(f & F(VIRTIO_BLK_F_FLUSH));
	CHECK(f & F(VIRTIO_BLK_F_TOPOLOGY));
	CHECK(f & F(VIRTIO_BLK_F_DISCARD));
	CHECK(f & F(VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(f & F(VIRTIO_RING_F_EVENT_IDX));
	CHECK(f & F(VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(f & F_V1);
	CHECK(!(f & F(VIRTIO_BLK_F_RO)));
	CHECK(!(f & F(VIRTIO_BLK_F_MQ)));
	CHECK(!(f & F(VIRTIO_BLK_F_CONFIG_WCE)));
	CHECK(r.dev->device_id == 2);

	/* Anything not offered is refused, known to virtio-blk or not. */
	CHECK(sim_negotiate(r.sim, F_V1 | F(VIRTIO_BLK_F_SCSI)) == -1);
	CHECK(sim_negotiate(r.sim, F_V1 | F(VIRTIO_BLK_F_MQ)) == -1);
	CHECK(sim_negotiate(r.sim, F_V1 | F(50)) == -1);
	CHECK(sim_negotiate(r.sim, f | F(VIRTIO_BLK_F_CONFIG_WCE)) == -1);
	CHECK(sim_negotiate(r.sim, f & ~F_V1) == -1);
	CHECK(sim_negotiate(r.sim, F_V1) == 0);
	CHECK(sim_negotiate(r.sim, f) == 0);

	struct virtio_blk_config c;
	CHECK(r.dev->config_size == 60);
	sim_config_read(r.sim, 0, &c, 60);
	CHECK_EQ_U64(le64toh(c.capacity), DISK_SECTORS);
	CHECK_EQ_U64(le32toh(c.seg_max), VIRTIO_BLK_SEG_MAX);
	CHECK_EQ_U64(le32toh(c.blk_size), 512);
	CHECK_EQ_U64(512u << c.physical_block_exp, r.img.physical_block_size);
	CHECK(c.alignment_offset == 0);
	CHECK_EQ_U64(le16toh(c.num_queues), 1);
	CHECK_EQ_U64(le32toh(c.max_discard_sectors), BLK_MAX_ZERO_SECTORS);
	CHECK_EQ_U64(le32toh(c.max_discard_seg), 1);
	CHECK_EQ_U64(le32toh(c.discard_sector_alignment),
		     r.img.physical_block_size / 512);
	CHECK_EQ_U64(le32toh(c.max_write_zeroes_sectors), BLK_MAX_ZERO_SECTORS);
	CHECK_EQ_U64(le32toh(c.max_write_zeroes_seg), 1);
	CHECK(c.write_zeroes_may_unmap == 1);
	/* Narrow reads see the same little-endian bytes. */
	uint32_t hi;
	sim_config_read(r.sim, 4, &hi, 4);
	CHECK(hi == 0);
	uint8_t b;
	sim_config_read(r.sim, 0, &b, 1);
	CHECK(b == (DISK_SECTORS & 0xff));
	/* Writes change nothing. */
	uint32_t junk = 0xffffffff;
	pthread_mutex_lock(&r.dev->lock);
	r.dev->ops->config_write(r.dev, 0, &junk, 4);
	pthread_mutex_unlock(&r.dev->lock);
	sim_config_read(r.sim, 0, &c, 60);
	CHECK_EQ_U64(le64toh(c.capacity), DISK_SECTORS);
	rig_close(&r, true);
}

static void test_read_write(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 64 * 1024, 4096);
	uint8_t *p = sim_ptr(r.sim, buf, 64 * 1024);
	uint32_t used_len = 0;

	/* Read 4 sectors at 10. */
	struct rq rq = rq_add(&r, 0, VIRTIO_BLK_T_IN, 10, buf, 2048, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, rq, &used_len) == VIRTIO_BLK_S_OK);
	CHECK(used_len == 2049);
	CHECK(file_is_pattern(&r, 10 * 512, 2048) &&
	      file_matches(&r, 10 * 512, p, 2048));

	/* Write 8 sectors at 100, through an indirect table. */
	for (unsigned i = 0; i < 4096; i++)
		p[i] = (uint8_t)(i ^ 0x5a);
	rq = rq_add(&r, 0, VIRTIO_BLK_T_OUT, 100, buf, 4096, true);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, rq, &used_len) == VIRTIO_BLK_S_OK);
	CHECK(used_len == 1);
	CHECK(file_matches(&r, 100 * 512, p, 4096));
	CHECK(file_is_pattern(&r, 99 * 512, 512) &&
	      file_is_pattern(&r, 108 * 512, 512));

	/* The last sector, and an empty transfer at the very end. */
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 512) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, DISK_BYTES - 512, p, 512));
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 0) ==
	      VIRTIO_BLK_S_OK);

	/* Data scattered over many odd-sized buffers, in and out. */
	struct sim_buf b[40];
	unsigned n = 0, total = 0;
	uint64_t h = header(&r, VIRTIO_BLK_T_IN, 300);
	b[n++] = (struct sim_buf){h, 16, false};
	for (unsigned i = 0; i < 16; i++) {
		unsigned len = i % 2 ? 100 : 412;
		b[n++] = (struct sim_buf){buf + 8192 + i * 1000, len, true};
		total += len;
	}
	b[n++] = (struct sim_buf){h + 16, 1, true};
	CHECK(total == 8 * 512);
	int head = sim_add(r.sim, 0, b, n, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, (struct rq){head, h + 16}, NULL) ==
	      VIRTIO_BLK_S_OK);
	bool ok = true;
	for (unsigned i = 0, off = 0; i < 16; off += b[i + 1].len, i++)
		ok &= file_matches(&r, 300 * 512 + off, p + 8192 + i * 1000,
				   b[i + 1].len);
	CHECK(ok);

	/* A batch of requests kicked once: all come back. */
	struct rq batch[16];
	for (unsigned i = 0; i < 16; i++)
		batch[i] = rq_add(
			&r, 0, i % 2 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			512 + i * 8, buf + i * 4096, 4096, i % 3 == 0);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	unsigned good = 0;
	for (unsigned i = 0; i < 16; i++) {
		uint16_t id;
		uint32_t len;
		good += sim_get_used(r.sim, 0, &id, &len) == 1;
	}
	CHECK(good == 16);
	for (unsigned i = 0; i < 16; i++)
		CHECK(*(uint8_t *)sim_ptr(r.sim, batch[i].status_gpa, 1) ==
		      VIRTIO_BLK_S_OK);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r, true);
}

static void test_bad_requests(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 8192, 4096);

	/* Past the end, partly past it, and sectors whose byte offset
	 * overflows 64 bits. */
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 1024) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, DISK_SECTORS + 1, buf, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, 1ull << 55, buf, 512) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, UINT64_MAX - 1, buf, 4096) ==
	      VIRTIO_BLK_S_IOERR);
	/* Not whole sectors. */
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 0, buf, 511) == VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, 0, buf, 1000) == VIRTIO_BLK_S_IOERR);
	CHECK(file_is_pattern(&r, 0, 4096));

	/* Types the device does not know. */
	static const uint32_t unknown[] = {2,  3,  5,  10,	   14,
					   15, 16, 99, 0x80000001u};
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		CHECK(do_rq(&r, unknown[i], 0, buf, 512) ==
		      VIRTIO_BLK_S_UNSUPP);

	/* GET_ID: the id, NUL-padded to 20 bytes; a shorter buffer gets
	 * what fits. */
	uint8_t *p = sim_ptr(r.sim, buf, 64);
	uint32_t used_len = 0;
	memset(p, 0xcc, 64);
	struct rq rq = rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 40, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, rq, &used_len) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(p, "serial-0123\0\0\0\0\0\0\0\0\0", 20) && p[20] == 0xcc);
	CHECK(used_len == 21); /* what was written: the id and the status */
	memset(p, 0xcc, 64);
	rq = rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 6, true);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, rq, &used_len) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(p, "serial", 6) && p[6] == 0xcc);
	CHECK(used_len == 7);
	/* A failed read reports only its status byte as written. */
	rq = rq_add(&r, 0, VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, rq, &used_len) == VIRTIO_BLK_S_IOERR);
	CHECK(used_len == 1);

	/* FLUSH works and ignores its sector. */
	CHECK(do_rq(&r, VIRTIO_BLK_T_FLUSH, 12345, 0, 0) == VIRTIO_BLK_S_OK);
	CHECK(!sim_needs_reset(r.sim));

	struct phy_disk_stats st;
	disk_image_stats(&r.img, &st);
	CHECK_EQ_U64(st.read_requests, 6);
	CHECK_EQ_U64(st.write_requests, 3);
	CHECK_EQ_U64(st.errors, 9);
	CHECK_EQ_U64(st.unsupported_requests, 9);
	CHECK_EQ_U64(st.get_id_requests, 2);
	CHECK_EQ_U64(st.flush_requests, 1);
	CHECK_EQ_U64(st.bytes_read, 0);
	CHECK_EQ_U64(st.bytes_written, 0);
	rig_close(&r, true);
}

static void test_readonly(void)
{
	struct rig rw, r;
	if (rig_open(&rw, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	char path[64];
	snprintf(path, sizeof(path), "%s", rw.path);
	int fd = dup(rw.fd);
	rig_close(&rw, false);
	if (rig_open(&r, path, true, 1)) {
		CHECK(!"rig");
		return;
	}
	r.fd = fd;
	uint64_t f = all_features(&r);
	CHECK(f & F(VIRTIO_BLK_F_RO));
	CHECK(!(f & F(VIRTIO_BLK_F_DISCARD)) &&
	      !(f & F(VIRTIO_BLK_F_WRITE_ZEROES)));
	CHECK(sim_start(r.sim, f, 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 4096, 4096);
	memset(sim_ptr(r.sim, buf, 4096), 0x11, 4096);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, 0, buf, 4096) == VIRTIO_BLK_S_IOERR);
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 0, 8, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(file_is_pattern(&r, 0, 8192));
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 0, buf, 4096) == VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 0, sim_ptr(r.sim, buf, 4096), 4096));
	CHECK(do_rq(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0) == VIRTIO_BLK_S_OK);
	rig_close(&r, true);
}

static void test_discard_write_zeroes(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	const uint32_t unmap = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

	/* Discard 64 KiB: zeroes and a hole. */
	uint64_t blocks = file_blocks(&r);
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 128, 128, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 128 * 512, 65536));
	CHECK(file_is_pattern(&r, 127 * 512, 512) &&
	      file_is_pattern(&r, 256 * 512, 512));
	CHECK(file_blocks(&r) + 64 <= blocks);
	CHECK(lseek(r.fd, 128 * 512, SEEK_HOLE) == 128 * 512);

	/* Write zeroes keeps the space allocated... */
	blocks = file_blocks(&r);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 512, 64, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 512 * 512, 64 * 512));
	CHECK(file_is_pattern(&r, 576 * 512, 4096));
	CHECK(file_blocks(&r) == blocks);
	/* ... unless the driver allows unmapping. (Splitting extents may
	 * cost the file system a metadata block: allow for it.) */
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 1024, 128, unmap) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 1024 * 512, 128 * 512));
	CHECK(file_blocks(&r) + 64 <= blocks);

	/* The spec: unknown flags and unmap on a discard are UNSUPP;
	 * more than one segment is not supported either. */
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 0, 8, unmap) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 0, 8, 0x80000000u) ==
	      VIRTIO_BLK_S_UNSUPP);
	uint64_t segs = sim_alloc(r.sim, 32, 16);
	CHECK(do_rq(&r, VIRTIO_BLK_T_DISCARD, 0, segs, 32) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(do_rq(&r, VIRTIO_BLK_T_DISCARD, 0, segs, 8) ==
	      VIRTIO_BLK_S_UNSUPP);
	/* Ranges off the disk or over the limit. */
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, DISK_SECTORS - 4, 8, 0) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX - 2, 8,
			   0) == VIRTIO_BLK_S_IOERR);
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 0,
			   BLK_MAX_ZERO_SECTORS + 1, 0) == VIRTIO_BLK_S_IOERR);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 8, 0, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_pattern(&r, 0, 4096));
	CHECK(!sim_needs_reset(r.sim));

	struct phy_disk_stats st;
	disk_image_stats(&r.img, &st);
	CHECK_EQ_U64(st.discard_requests, 3);
	CHECK_EQ_U64(st.write_zeroes_requests, 4);
	CHECK_EQ_U64(st.unsupported_requests, 5);
	CHECK_EQ_U64(st.errors, 3);
	rig_close(&r, true);
}

/* tmpfs has no ZERO_RANGE: write zeroes falls back to punch + allocate. */
static void test_write_zeroes_fallback(void)
{
	int mfd = memfd_create("phy-blk-test", 0);
	if (mfd < 0 || ftruncate(mfd, DISK_BYTES)) {
		CHECK(!"memfd");
		return;
	}
	uint8_t sector[512];
	for (unsigned s = 0; s < DISK_SECTORS; s++) {
		for (unsigned i = 0; i < 512; i++)
			sector[i] = pattern(s * 512ull + i);
		if (pwrite(mfd, sector, 512, s * 512) != 512)
			CHECK(!"pwrite");
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	struct rig r;
	if (rig_open(&r, path, false, 1)) {
		CHECK(!"rig");
		return;
	}
	r.fd = mfd;
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 16, 16, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 16 * 512, 16 * 512));
	CHECK(file_is_pattern(&r, 32 * 512, 512));
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 64, 3, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 64 * 512, 3 * 512));
	CHECK(file_is_pattern(&r, 67 * 512, 512));
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 128, 8, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_is_zero(&r, 128 * 512, 8 * 512));
	rig_close(&r, false);
}

static void test_multi_queue(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 4)) {
		CHECK(!"rig");
		return;
	}
	uint64_t f = all_features(&r);
	CHECK(f & F(VIRTIO_BLK_F_MQ));
	uint16_t nq;
	sim_config_read(r.sim, offsetof(struct virtio_blk_config, num_queues),
			&nq, 2);
	CHECK(le16toh(nq) == 4);
	CHECK(sim_start(r.sim, f, 4, 32) == 0);
	uint64_t buf = sim_alloc(r.sim, 4 * 8192, 4096);
	uint8_t *p = sim_ptr(r.sim, buf, 4 * 8192);
	struct rq rq[4][2];
	for (unsigned q = 0; q < 4; q++) {
		memset(p + q * 8192, 0x30 + q, 4096);
		rq[q][0] = rq_add(&r, q, VIRTIO_BLK_T_OUT, 64 * q,
				  buf + q * 8192, 4096, false);
		rq[q][1] = rq_add(&r, q, VIRTIO_BLK_T_IN, 1000 + q,
				  buf + q * 8192 + 4096, 512, true);
		sim_kick(r.sim, q);
	}
	sim_run(r.sim);
	for (unsigned q = 0; q < 4; q++) {
		/* Completions come in any order; each on its own queue. */
		uint16_t id;
		uint32_t len;
		unsigned seen = 0;
		while (sim_get_used(r.sim, q, &id, &len))
			seen |= (id == rq[q][0].head) | (id == rq[q][1].head)
								<< 1;
		CHECK(seen == 3);
		CHECK(*(uint8_t *)sim_ptr(r.sim, rq[q][0].status_gpa, 1) ==
		      VIRTIO_BLK_S_OK);
		CHECK(*(uint8_t *)sim_ptr(r.sim, rq[q][1].status_gpa, 1) ==
		      VIRTIO_BLK_S_OK);
		CHECK(file_matches(&r, 64 * 512 * q, p + q * 8192, 4096));
		CHECK(file_matches(&r, (1000 + q) * 512, p + q * 8192 + 4096,
				   512));
		CHECK(r.sim->q[q].interrupts >= 1);
	}
	/* A kick on a queue that does not exist is ignored. */
	r.dev->ops->queue_notify(r.dev, 7);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r, true);
}

/* "Message Framing": the device must not assume any layout. */
static void test_framing(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t h = header(&r, VIRTIO_BLK_T_IN, 40);
	uint64_t buf = sim_alloc(r.sim, 8192, 4096);
	uint8_t *p = sim_ptr(r.sim, buf, 8192);

	/* Header in 1 + 4 + 11 bytes; data and status in one buffer. */
	struct sim_buf b1[] = {{h, 1, false},
			       {h + 1, 4, false},
			       {h + 5, 11, false},
			       {buf, 1025, true}};
	int head = sim_add(r.sim, 0, b1, 4, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, (struct rq){head, buf + 1024}, NULL) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 40 * 512, p, 1024));

	/* Header and data in one readable buffer; the status split off a
	 * writable buffer that also holds ignored bytes. */
	uint64_t w = sim_alloc(r.sim, 16 + 1024, 16);
	uint8_t *wp = sim_ptr(r.sim, w, 16 + 1024);
	struct virtio_blk_outhdr hdr = {htole32(VIRTIO_BLK_T_OUT), 0,
					htole64(70)};
	memcpy(wp, &hdr, 16);
	memset(wp + 16, 0x77, 1024);
	struct sim_buf b2[] = {{w, 16 + 1000, false},
			       {w + 1016, 24, false},
			       {buf + 4096, 8, true}};
	head = sim_add(r.sim, 0, b2, 3, true);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, (struct rq){head, buf + 4096 + 7}, NULL) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 70 * 512, wp + 16, 1024));

	/* Reads and GET_ID into buffers in the high RAM region. */
	uint64_t hi = SIM_HIGH_GPA + 8192;
	struct sim_buf b3[] = {
		{h, 16, false}, {hi, 512, true}, {hi + 512, 1, true}};
	head = sim_add(r.sim, 0, b3, 3, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, (struct rq){head, hi + 512}, NULL) ==
	      VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 40 * 512, sim_ptr(r.sim, hi, 512), 512));
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r, true);
}

/* Kicks and expects NEEDS_RESET with a message naming `why`. */
static void expect_reset(struct rig *r, const char *why)
{
	sim_kick(r->sim, 0);
	sim_run(r->sim);
	CHECK(sim_needs_reset(r->sim));
	CHECK_STR_CONTAINS(r->sim->last_log, why);
	CHECK(r->sim->config_interrupts == 1);
	CHECK(virtio_blk_inflight(r->blk) == 0);
	r->sim->config_interrupts = 0;
	CHECK(sim_start(r->sim, all_features(r), 1, 64) == 0);
}

static void test_driver_bugs(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	uint64_t f = all_features(&r);
	CHECK(sim_start(r.sim, f, 1, 64) == 0);
	uint64_t h = header(&r, VIRTIO_BLK_T_IN, 0);
	uint64_t buf = sim_alloc(r.sim, 4096, 4096);

	struct sim_buf no_status[] = {{h, 16, false}, {buf, 512, false}};
	sim_add(r.sim, 0, no_status, 2, false);
	expect_reset(&r, "without a status byte");

	struct sim_buf short_hdr[] = {{h, 15, false}, {buf, 513, true}};
	sim_add(r.sim, 0, short_hdr, 2, false);
	expect_reset(&r, "without a 16-byte header");

	struct sim_buf only_status[] = {{h + 16, 1, true}};
	sim_add(r.sim, 0, only_status, 1, false);
	expect_reset(&r, "header");

	/* seg_max data buffers plus header and status is the limit. */
	struct sim_buf many[VIRTIO_BLK_SEG_MAX + 3];
	unsigned n = 0;
	many[n++] = (struct sim_buf){h, 16, false};
	for (unsigned i = 0; i < VIRTIO_BLK_SEG_MAX; i++)
		many[n++] = (struct sim_buf){buf, 512, true};
	many[n++] = (struct sim_buf){h + 16, 1, true};
	struct rq ok = {sim_add(r.sim, 0, many, n, true), h + 16};
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, ok, NULL) == VIRTIO_BLK_S_OK);
	many[n - 1] = (struct sim_buf){buf, 512, true};
	many[n++] = (struct sim_buf){h + 16, 1, true};
	sim_add(r.sim, 0, many, n, true);
	expect_reset(&r, "more buffers");

	/* The same head made available twice while it is in flight. */
	struct rq rq = rq_add(&r, 0, VIRTIO_BLK_T_IN, 0, buf, 4096, false);
	sim_publish(r.sim, 0, (uint16_t)rq.head);
	expect_reset(&r, "while it was in flight");

	/* A malformed ring reaches the device as NEEDS_RESET too. */
	sim_publish(r.sim, 0, 200);
	expect_reset(&r, "out of range");

	/* And the device works again after all that. */
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 0, buf, 4096) == VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 0, sim_ptr(r.sim, buf, 4096), 4096));
	rig_close(&r, true);
}

struct resetter {
	struct rig *r;
	bool done;
};

static void *reset_thread(void *opaque)
{
	struct resetter *rs = opaque;
	sim_set_status(rs->r->sim, 0); /* a vCPU writing the status register */
	__atomic_store_n(&rs->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static bool quiescing(struct rig *r)
{
	pthread_mutex_lock(&r->dev->lock);
	bool q = r->blk->quiescing;
	pthread_mutex_unlock(&r->dev->lock);
	return q;
}

/* A reset returns only when no request touches guest memory any more;
 * the loop completes them meanwhile without pushing them. */
static void test_reset_in_flight(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 32 * 16384, 4096);
	for (unsigned i = 0; i < 32; i++)
		rq_add(&r, 0, i % 2 ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT,
		       i * 32, buf + i * 16384, 16384, true);
	/* The kick is taken and the requests submitted (the loop sends
	 * them in small batches, so a few may have completed already). */
	sim_kick(r.sim, 0);
	while (r.sim->q[0].kicked)
		io_loop_run_once(r.sim->loop, true);
	CHECK(virtio_blk_inflight(r.blk) > 0);
	uint16_t used_before =
		__atomic_load_n(&r.sim->q[0].used->idx, __ATOMIC_ACQUIRE);

	struct resetter rs = {&r, false};
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reset_thread, &rs) == 0);
	while (!quiescing(&r) && !__atomic_load_n(&rs.done, __ATOMIC_ACQUIRE))
		usleep(100);
	CHECK(!__atomic_load_n(&rs.done, __ATOMIC_ACQUIRE)); /* it waits */
	while (virtio_blk_inflight(r.blk))
		io_loop_run_once(r.sim->loop, true);
	pthread_join(t, NULL);
	CHECK(rs.done);
	CHECK(sim_status(r.sim) == 0);
	/* What completed during the reset was not pushed. */
	CHECK(__atomic_load_n(&r.sim->q[0].used->idx, __ATOMIC_ACQUIRE) ==
	      used_before);

	struct phy_disk_stats st;
	disk_image_stats(&r.img, &st);
	CHECK_EQ_U64(st.read_requests + st.write_requests, 32);

	/* Back to work after the reset. */
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 5, buf, 512) == VIRTIO_BLK_S_OK);
	CHECK(file_matches(&r, 5 * 512, sim_ptr(r.sim, buf, 512), 512));
	rig_close(&r, true);
}

/* One interrupt per queue per loop batch, and EVENT_IDX honoured. */
static void test_interrupt_batching(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 8 * 32, 16);
	/* GET_ID completes while the kick is handled: one batch. */
	for (unsigned i = 0; i < 8; i++)
		rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf + i * 32, 20, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(r.sim->q[0].interrupts == 1);
	/* The driver has not looked: EVENT_IDX keeps the device quiet. */
	rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 20, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(r.sim->q[0].interrupts == 1);
	uint16_t id;
	uint32_t len;
	unsigned got = 0;
	while (sim_get_used(r.sim, 0, &id, &len))
		got++;
	CHECK(got == 9);
	rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 20, false);
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(r.sim->q[0].interrupts == 2);
	rig_close(&r, true);
}

/* While a request is in flight the queue is polled: a request added then
 * needs no notification and still completes; an idle queue wants one. */
static void test_busy_polling(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 2 * 65536, 4096);
	struct sim_queue *sq = &r.sim->q[0];
	uint16_t old = sq->avail_idx;
	struct rq a = rq_add(&r, 0, VIRTIO_BLK_T_IN, 0, buf, 65536, false);
	CHECK(sim_kick_needed(r.sim, 0, old));
	sim_kick(r.sim, 0);
	/* The pass that takes the kick queues the read; the next submits. */
	while (sq->kicked)
		io_loop_run_once(r.sim->loop, true);
	CHECK(virtio_blk_inflight(r.blk) == 1);
	old = sq->avail_idx;
	struct rq b = rq_add(&r, 0, VIRTIO_BLK_T_IN, 128, buf + 65536, 65536, false);
	/* One request in flight: the device still asks to be told (the
	 * batch shrinks with the depth)... */
	CHECK(sim_kick_needed(r.sim, 0, old));
	/* ...but a driver that does not tell it still gets b served: the
	 * queue is polled when a's completion comes in. */
	struct rq more[3];
	for (unsigned i = 0; i < 3; i++)
		more[i] = rq_add(&r, 0, VIRTIO_BLK_T_IN, 256 + 8 * i,
				 buf + 65536, 4096, false);
	while (virtio_blk_inflight(r.blk))
		io_loop_run_once(r.sim->loop, true);
	/* One more pass: b may have been taken by the last completion. */
	io_loop_run_once(r.sim->loop, false);
	while (virtio_blk_inflight(r.blk))
		io_loop_run_once(r.sim->loop, true);
	CHECK(rq_status(&r, 0, a, NULL) == VIRTIO_BLK_S_OK);
	CHECK(rq_status(&r, 0, b, NULL) == VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 3; i++)
		CHECK(rq_status(&r, 0, more[i], NULL) == VIRTIO_BLK_S_OK);
	/* Idle again: the next request must be notified. */
	old = sq->avail_idx;
	struct rq c = rq_add(&r, 0, VIRTIO_BLK_T_GET_ID, 0, buf, 20, false);
	CHECK(sim_kick_needed(r.sim, 0, old));
	sim_kick(r.sim, 0);
	sim_run(r.sim);
	CHECK(rq_status(&r, 0, c, NULL) == VIRTIO_BLK_S_OK);
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r, true);
}

/* A driver that polls for each answer and adds its next request at once,
 * on its own thread, as a vCPU would. */
struct poller {
	struct rig *r;
	uint64_t buf;
	unsigned rounds, done, unkicked;
	bool stalled, finished;
};

/* Enough requests taken without a notification to stop early. */
#define POLLER_ENOUGH 100

static void *poller_thread(void *opaque)
{
	struct poller *p = opaque;
	struct sim_queue *sq = &p->r->sim->q[0];
	for (p->done = 0; p->done < p->rounds && p->unkicked < POLLER_ENOUGH;
	     p->done++) {
		uint16_t old = sq->avail_idx;
		struct rq rq = rq_add(p->r, 0, VIRTIO_BLK_T_IN, 8 * (p->done % 64),
				      p->buf, 4096, true);
		if (sim_kick_needed(p->r->sim, 0, old))
			sim_kick(p->r->sim, 0);
		else
			p->unkicked++;
		uint64_t end = phy_monotonic_ns() + 2000000000ull;
		while (__atomic_load_n(&sq->used->idx, __ATOMIC_ACQUIRE) ==
		       sq->last_used) {
			if (phy_monotonic_ns() > end) {
				p->stalled = true;
				break;
			}
			__builtin_ia32_pause();
		}
		if (p->stalled)
			break;
		CHECK(rq_status(p->r, 0, rq, NULL) == VIRTIO_BLK_S_OK);
	}
	__atomic_store_n(&p->finished, true, __ATOMIC_RELEASE);
	sim_kick(p->r->sim, 0); /* the loop may be waiting: let it see that */
	return NULL;
}

/* A queue left idle by a completion is watched for a moment: a request
 * added then is taken without a notification. A driver that adds its
 * next one later finds notifications on again, watched or not. */
static void test_idle_watch(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	/* A long watch, so that the other thread, should it lose its core
	 * at the wrong moment, still comes in time. */
	r.blk->idle_poll_ns = 50000000;
	/* Up to 4000 requests: on a loaded machine this thread can lose its
	 * core at the wrong moments, and each miss in a row makes the watch
	 * rarer. */
	struct poller p = {&r, sim_alloc(r.sim, 4096, 4096), 4000, 0, 0, false,
			   false};
	pthread_t t;
	REQUIRE(pthread_create(&t, NULL, poller_thread, &p) == 0);
	while (!__atomic_load_n(&p.finished, __ATOMIC_ACQUIRE))
		io_loop_run_once(r.sim->loop, true);
	pthread_join(t, NULL);
	CHECK(!p.stalled);
	/* The first request always needs a notification, most others none. */
	printf("test_idle_watch: %u of %u requests without a notification\n",
	       p.unkicked, p.done);
	CHECK(p.unkicked > 0);
	/* One at a time from this thread, which also runs the loop: every
	 * watch misses, and each request must still be notified. */
	r.blk->idle_poll_ns = BLK_IDLE_POLL_NS;
	for (unsigned i = 0; i < 20; i++) {
		struct sim_queue *sq = &r.sim->q[0];
		uint16_t old = sq->avail_idx;
		struct rq rq = rq_add(&r, 0, VIRTIO_BLK_T_IN, 0, p.buf, 4096, false);
		CHECK(sim_kick_needed(r.sim, 0, old));
		sim_kick(r.sim, 0);
		sim_run(r.sim);
		CHECK(rq_status(&r, 0, rq, NULL) == VIRTIO_BLK_S_OK);
	}
	CHECK(!sim_needs_reset(r.sim));
	rig_close(&r, true);
}

/* A file that shrinks behind the device's back: reads past the new end
 * come back short, then empty, and fail rather than spin. */
static void test_short_io(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 8192, 4096);
	CHECK(ftruncate(r.fd, 4096 + 512) == 0);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 8, buf, 1024) == VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 100, buf, 512) == VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 0, buf, 4096) == VIRTIO_BLK_S_OK);
	rig_close(&r, true);
}

static void test_image_open(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	struct phy_error err = {0};
	struct disk_image img2;
	struct disk_setup rw = disk_cfg(r.path, false, 1, ""),
			   ro = disk_cfg(r.path, true, 1, "");

	/* Writers exclude everyone; readers share. */
	CHECK(disk_image_open(&img2, &rw.img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "is locked by another process");
	CHECK_STR_CONTAINS(err.message, r.path);
	CHECK(disk_image_open(&img2, &ro.img, &err) == -PHY_E_INVALID);
	rig_close(&r, false);
	CHECK(disk_image_open(&img2, &ro.img, &err) == 0);
	struct disk_image img3;
	CHECK(disk_image_open(&img3, &ro.img, &err) == 0);
	CHECK(img3.size == DISK_BYTES && img3.readonly && !img3.can_discard);
	CHECK(disk_image_open(&r.img, &rw.img, &err) == -PHY_E_INVALID);
	disk_image_close(&img3);
	disk_image_close(&img2);
	disk_image_close(&img2); /* twice is harmless */
	CHECK(disk_image_open(&img2, &rw.img, &err) == 0);
	CHECK(img2.can_discard && img2.can_write_zeroes &&
	      img2.logical_block_size == 512);
	disk_image_close(&img2);

	/* O_DIRECT: works where the file system has it, else says so. */
	struct disk_setup direct = rw;
	direct.img.direct = true;
	int ret = disk_image_open(&img2, &direct.img, &err);
	if (ret == 0) {
		CHECK(img2.direct && img2.logical_block_size >= 512);
		CHECK((img2.logical_block_size &
		       (img2.logical_block_size - 1)) == 0);
		disk_image_close(&img2);
	} else {
		CHECK_STR_CONTAINS(
			err.message,
			"does not support O_DIRECT (use direct=off)");
	}
	unlink(r.path);

	struct disk_setup missing =
		disk_cfg("/nonexistent/disk.img", false, 1, "");
	CHECK(disk_image_open(&img2, &missing.img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message,
			   "--disk: cannot open '/nonexistent/disk.img'");
	struct disk_setup dir = disk_cfg("/", true, 1, "");
	CHECK(disk_image_open(&img2, &dir.img, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message,
			   "neither a regular file nor a block device");
	CHECK(strchr(err.message, '\n') == NULL);
}

/* O_DIRECT I/O end to end, where the temporary directory allows it. */
static void test_direct_io(void)
{
	char path[64];
	int fd = make_image(path, sizeof(path), DISK_BYTES);
	if (fd < 0) {
		CHECK(!"image");
		return;
	}
	struct disk_setup cfg = disk_cfg(path, false, 1, "");
	cfg.img.direct = true;
	struct disk_image img;
	if (disk_image_open(&img, &cfg.img, NULL)) {
		printf("test_virtio_blk: no O_DIRECT in %s, direct I/O not "
		       "tested\n",
		       path);
		close(fd);
		unlink(path);
		return;
	}
	struct rig r = {.fd = fd, .img = img};
	snprintf(r.path, sizeof(r.path), "%s", path);
	r.sim = sim_create(8u << 20, 0);
	CHECK(r.sim && virtio_blk_create(&r.blk, &r.img, &cfg.blk, "virtio-blk1",
					 &r.sim->mem, r.sim->loop, NULL) == 0);
	r.dev = virtio_blk_dev(r.blk);
	sim_attach(r.sim, r.dev, blk_busy, r.blk);
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint32_t bs;
	sim_config_read(r.sim, offsetof(struct virtio_blk_config, blk_size),
			&bs, 4);
	CHECK(le32toh(bs) == img.logical_block_size);
	uint64_t buf = sim_alloc(r.sim, 16384, 4096);
	uint8_t *p = sim_ptr(r.sim, buf, 16384);
	memset(p, 0x42, 8192);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, 64, buf, 8192) == VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 64, buf + 8192, 8192) ==
	      VIRTIO_BLK_S_OK);
	CHECK(!memcmp(p, p + 8192, 8192) &&
	      file_matches(&r, 64 * 512, p, 8192));
	CHECK(do_rq(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0) == VIRTIO_BLK_S_OK);
	rig_close(&r, true);
}

static void test_counters(void)
{
	struct rig r;
	if (rig_open(&r, NULL, false, 1)) {
		CHECK(!"rig");
		return;
	}
	CHECK(sim_start(r.sim, all_features(&r), 1, 64) == 0);
	uint64_t buf = sim_alloc(r.sim, 65536, 4096);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 0, buf, 4096) == VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, VIRTIO_BLK_T_IN, 8, buf, 65536) == VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, 8, buf, 1024) == VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, VIRTIO_BLK_T_OUT, DISK_SECTORS, buf, 1024) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(do_rq(&r, VIRTIO_BLK_T_FLUSH, 0, 0, 0) == VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, VIRTIO_BLK_T_GET_ID, 0, buf, 20) == VIRTIO_BLK_S_OK);
	CHECK(discard_like(&r, VIRTIO_BLK_T_DISCARD, 0, 8, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(discard_like(&r, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0) ==
	      VIRTIO_BLK_S_OK);
	CHECK(do_rq(&r, 77, 0, buf, 512) == VIRTIO_BLK_S_UNSUPP);
	struct phy_disk_stats st;
	disk_image_stats(&r.img, &st);
	CHECK_EQ_U64(st.read_requests, 2);
	CHECK_EQ_U64(st.write_requests, 2);
	CHECK_EQ_U64(st.flush_requests, 1);
	CHECK_EQ_U64(st.get_id_requests, 1);
	CHECK_EQ_U64(st.discard_requests, 1);
	CHECK_EQ_U64(st.write_zeroes_requests, 1);
	CHECK_EQ_U64(st.unsupported_requests, 1);
	CHECK_EQ_U64(st.bytes_read, 4096 + 65536);
	CHECK_EQ_U64(st.bytes_written, 1024);
	CHECK_EQ_U64(st.errors, 1);
	rig_close(&r, true);
}

int main(void)
{
	test_features_and_config();
	test_read_write();
	test_bad_requests();
	test_readonly();
	test_discard_write_zeroes();
	test_write_zeroes_fallback();
	test_multi_queue();
	test_framing();
	test_driver_bugs();
	test_reset_in_flight();
	test_interrupt_batching();
	test_busy_polling();
	test_idle_watch();
	test_short_io();
	test_image_open();
	test_direct_io();
	test_counters();
	return check_report("test_virtio_blk");
}
