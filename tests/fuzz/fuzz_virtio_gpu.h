/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The input format of fuzz_virtio_gpu, shared with its seed generator.
 *
 * One knob byte, then records, each one request the simulated driver
 * puts on a queue:
 *   u8  op        FZG_OP_* bits: queue, chain shape, reset
 *   u8  resp16    the response buffer, in 16-byte units (0: a header)
 *   u16 len       little-endian: request bytes that follow (clamped to
 *                 what is left of the input)
 *   len bytes     the request: a command and whatever follows it
 * Requests are queued until a ring is full or the input ends (or after
 * each one with FZG_K_KICK_EACH), then kicked and answered.
 */
#ifndef PHY_TESTS_FUZZ_VIRTIO_GPU_H
#define PHY_TESTS_FUZZ_VIRTIO_GPU_H

/* knob byte */
#define FZG_K_VIRGL 0x01      /* the 3D device if built (else 2D) */
#define FZG_K_EVENT_IDX 0x02  /* negotiate VIRTIO_RING_F_EVENT_IDX */
#define FZG_K_INDIRECT 0x04   /* negotiate VIRTIO_RING_F_INDIRECT_DESC */
#define FZG_K_NO_EDID 0x08    /* leave VIRTIO_GPU_F_EDID out */
#define FZG_K_NO_3D 0x10      /* leave VIRTIO_GPU_F_VIRGL out */
#define FZG_K_RAW_STREAMS 0x20 /* SUBMIT_3D streams as given (else NOPs) */
#define FZG_K_FIX_BACKING 0x40 /* backing entries moved into guest RAM */
#define FZG_K_KICK_EACH 0x80  /* kick and wait after every request */

/* op byte */
#define FZG_OP_CURSORQ 0x01   /* the cursor queue (else control) */
#define FZG_OP_INDIRECT 0x02  /* an indirect chain (if negotiated) */
#define FZG_OP_PIECES(op) ((((op) >> 2) & 7) + 1) /* request buffers */
#define FZG_OP_NO_RESP 0x20   /* no writable buffer at all */
#define FZG_OP_SPLIT_RESP 0x40 /* the response in two buffers */
#define FZG_OP_RESET 0x80     /* kick, then reset at once (racing the
				* GPU thread), and start again */

#define FZG_RECORD_HDR 4
#define FZG_LOW_RAM (8u << 20)
#define FZG_HIGH_RAM (64u << 10)
#define FZG_QSIZE 64

#endif
