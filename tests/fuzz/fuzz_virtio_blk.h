/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input format of fuzz_virtio_blk, shared with its seed generator.
 *
 * An input is FZ_KNOBS bytes of knobs, then the contents of guest RAM from
 * GPA 0: descriptor tables, avail rings, indirect tables, request headers
 * and data all come from the input, at whatever addresses the input
 * names. Only the ring addresses are fixed. Bytes past FZ_RAM fill the
 * high RAM region at FZ_HIGH_GPA.
 */
#ifndef PHY_TESTS_FUZZ_VIRTIO_BLK_H
#define PHY_TESTS_FUZZ_VIRTIO_BLK_H

#define FZ_KNOBS 4
/* knob 0 */
#define FZ_K0_READONLY 0x01   /* the read-only disk */
#define FZ_K0_EVENT_IDX 0x02  /* negotiate VIRTIO_RING_F_EVENT_IDX */
#define FZ_K0_INDIRECT 0x04   /* negotiate VIRTIO_RING_F_INDIRECT_DESC */
#define FZ_K0_TWO_QUEUES 0x08 /* negotiate MQ, use queue 1 too */
#define FZ_K0_RESET 0x10      /* reset and restart between rounds */
#define FZ_K0_ROUNDS(k) ((((k) >> 5) & 3) + 1)
/* knob 1: log2 of the queue size, 1..6 (other values clamp) */
/* knob 2: how far avail->idx moves before each round after the first */
/* knob 3: bit 0: also kick a queue the device does not have */

#define FZ_RAM 0x10000
#define FZ_HIGH_RAM 0x1000
#define FZ_HIGH_GPA 0x100000000ull
#define FZ_DISK_BYTES (256u << 10)
#define FZ_MAX_QSIZE 64

#define FZ_Q0_DESC 0x0000
#define FZ_Q0_AVAIL 0x0400
#define FZ_Q0_USED 0x0600
#define FZ_Q1_DESC 0x1000
#define FZ_Q1_AVAIL 0x1400
#define FZ_Q1_USED 0x1600
#define FZ_DATA 0x2000 /* where the seeds put headers and buffers */

#endif
