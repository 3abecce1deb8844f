/* SPDX-License-Identifier: Apache-2.0 */
/* Writes well-formed seed inputs for fuzz_virtio_blk (format in
 * fuzz_virtio_blk.h): each request type, direct and indirect chains, a
 * batch on two queues with EVENT_IDX. Usage: make-seeds-virtio-blk DIR */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "fuzz_virtio_blk.h"

static uint8_t input[FZ_KNOBS + FZ_RAM];
static uint8_t *const ram = input + FZ_KNOBS;
static size_t high_water;

static void *at(uint64_t gpa, size_t len)
{
	if (gpa + len > high_water)
		high_water = gpa + len;
	return ram + gpa;
}

static void desc(uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct vring_desc d = {addr, len, flags, next};
	memcpy(at(table + 16ull * i, 16), &d, 16);
}

static void header(uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = {type, 0, sector};
	memcpy(at(gpa, 16), &h, 16);
}

/* Makes `heads` available on a ring of qsize entries. */
static void avail(uint64_t ring, uint16_t qsize, const uint16_t *heads,
		  uint16_t n)
{
	uint16_t *a = at(ring, 6 + 2u * qsize);
	a[0] = 0;
	a[1] = n;
	for (uint16_t i = 0; i < n; i++)
		a[2 + (i & (qsize - 1))] = heads[i];
	at(FZ_Q0_USED,
	   6 + 8u * qsize); /* the used ring is part of the input too */
}

static void begin(uint8_t k0, uint8_t log2_qsize, uint8_t step)
{
	memset(input, 0, sizeof(input));
	high_water = 0;
	input[0] = k0;
	input[1] = log2_qsize;
	input[2] = step;
}

static void put(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f)
		return;
	fwrite(input, 1, FZ_KNOBS + high_water, f);
	fclose(f);
}

/* header at h, data, status right after the header. */
static void simple(uint64_t table, uint16_t first, uint32_t type,
		   uint64_t sector, uint64_t h, uint64_t data, uint32_t len,
		   int to_driver)
{
	header(h, type, sector);
	uint16_t n = first;
	desc(table, n, h, 16, VRING_DESC_F_NEXT, (uint16_t)(n + 1));
	n++;
	if (len) {
		desc(table, n, data, len,
		     VRING_DESC_F_NEXT | (to_driver ? VRING_DESC_F_WRITE : 0),
		     (uint16_t)(n + 1));
		n++;
	}
	desc(table, n, h + 16, 1, VRING_DESC_F_WRITE, 0);
}

static void one(const char *dir, const char *name, uint32_t type, uint32_t len,
		int to_driver, uint8_t k0)
{
	begin(k0, 3, 0);
	simple(FZ_Q0_DESC, 0, type, 8, FZ_DATA, FZ_DATA + 0x1000, len,
	       to_driver);
	memset(at(FZ_DATA + 0x1000, len), 0xab, len);
	uint16_t head = 0;
	avail(FZ_Q0_AVAIL, 8, &head, 1);
	put(dir, name);
}

static void zero_seg(const char *dir, const char *name, uint32_t type,
		     uint32_t flags)
{
	begin(0, 3, 0);
	struct virtio_blk_discard_write_zeroes s = {16, 24, flags};
	memcpy(at(FZ_DATA + 0x100, 16), &s, 16);
	simple(FZ_Q0_DESC, 0, type, 0, FZ_DATA, FZ_DATA + 0x100, 16, 0);
	uint16_t head = 0;
	avail(FZ_Q0_AVAIL, 8, &head, 1);
	put(dir, name);
}

static void indirect(const char *dir)
{
	begin(FZ_K0_INDIRECT, 3, 0);
	uint64_t t = FZ_DATA + 0x200, h = FZ_DATA;
	header(h, VIRTIO_BLK_T_IN, 4);
	desc(t, 0, h, 16, VRING_DESC_F_NEXT, 1);
	desc(t, 1, FZ_DATA + 0x1000, 512,
	     VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	desc(t, 2, FZ_DATA + 0x1200, 512,
	     VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
	desc(t, 3, h + 16, 1, VRING_DESC_F_WRITE, 0);
	desc(FZ_Q0_DESC, 0, t, 64, VRING_DESC_F_INDIRECT, 0);
	uint16_t head = 0;
	avail(FZ_Q0_AVAIL, 8, &head, 1);
	put(dir, "indirect-read");
}

/* Several requests on two queues, EVENT_IDX, two rounds. */
static void batch(const char *dir)
{
	begin(FZ_K0_EVENT_IDX | FZ_K0_TWO_QUEUES | (1 << 5), 4, 1);
	static const uint32_t types[] = {VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_IN,
					 VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID};
	uint16_t heads[4];
	for (uint16_t i = 0; i < 4; i++) {
		int to_driver = types[i] == VIRTIO_BLK_T_IN ||
				types[i] == VIRTIO_BLK_T_GET_ID;
		uint32_t len = types[i] == VIRTIO_BLK_T_FLUSH	 ? 0
			       : types[i] == VIRTIO_BLK_T_GET_ID ? 20
								 : 1024;
		simple(FZ_Q0_DESC, (uint16_t)(3 * i), types[i], 2u * i,
		       FZ_DATA + 0x40u * i, FZ_DATA + 0x1000 + 0x400u * i, len,
		       to_driver);
		heads[i] = (uint16_t)(3 * i);
	}
	avail(FZ_Q0_AVAIL, 16, heads, 4);
	((uint16_t *)at(FZ_Q0_AVAIL, 4))[1] =
		3; /* the fourth comes in round 2 */
	simple(FZ_Q1_DESC, 0, VIRTIO_BLK_T_IN, 100, FZ_DATA + 0x300,
	       FZ_DATA + 0x3000, 512, 1);
	uint16_t h1 = 0;
	avail(FZ_Q1_AVAIL, 16, &h1, 1);
	at(FZ_Q1_USED, 6 + 8 * 16);
	put(dir, "batch");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	one(dir, "read", VIRTIO_BLK_T_IN, 4096, 1, 0);
	one(dir, "write", VIRTIO_BLK_T_OUT, 4096, 0, 0);
	one(dir, "write-ro", VIRTIO_BLK_T_OUT, 512, 0, FZ_K0_READONLY);
	one(dir, "flush", VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	one(dir, "get-id", VIRTIO_BLK_T_GET_ID, 20, 1, 0);
	one(dir, "unsupported", 99, 512, 1, 0);
	zero_seg(dir, "discard", VIRTIO_BLK_T_DISCARD, 0);
	zero_seg(dir, "write-zeroes", VIRTIO_BLK_T_WRITE_ZEROES, 0);
	zero_seg(dir, "write-zeroes-unmap", VIRTIO_BLK_T_WRITE_ZEROES,
		 VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	indirect(dir);
	batch(dir);
	return 0;
}
