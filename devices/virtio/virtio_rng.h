/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-rng, the entropy device (virtio 1.2 § 5.4): one queue, the
 * requestq, on which the driver posts write-only buffers that the device
 * fills with bytes read from a host source (/dev/urandom, normally). No
 * configuration space, no device feature bits.
 *
 * Each request is one IORING_OP_READV on the device loop's io_uring, from
 * the source straight into the guest's buffers (checked by the virtqueue
 * code: never a byte outside guest RAM), at most VIRTIO_RNG_MAX_REQUEST
 * bytes and no more than the buffers hold; one read is in flight at a
 * time. Its completion puts the chain on the used ring with the number
 * of bytes read (the spec lets the device fill less than the buffer),
 * and the interrupt is raised once per loop batch.
 *
 * Rate limit: a token bucket of `burst` bytes refilled at
 * `bytes_per_sec` from CLOCK_MONOTONIC. While it holds less than
 * VIRTIO_RNG_MIN_CHARGE bytes the device takes no request off the ring:
 * it sleeps on an io_uring timeout until VIRTIO_RNG_RESUME_BYTES (or the
 * whole bucket, if smaller) are back, with the driver's notifications
 * off. Every request costs at least VIRTIO_RNG_MIN_CHARGE bytes, so a
 * guest flooding the queue with one-byte requests gets at most
 * (burst + bytes_per_sec * t) / VIRTIO_RNG_MIN_CHARGE of them: the VMM's
 * CPU time is bounded by the rate, whatever the guest does.
 *
 * Errors: a request with a device-readable buffer, or with no writable
 * byte, is a driver bug; a source that fails or ends (a regular file
 * read to its end, a pipe whose writer left) puts the device in
 * DEVICE_NEEDS_RESET with one log line naming the source. Neither makes
 * the device spin: it stops serving until the driver resets it. A
 * non-blocking source with nothing to read is polled, not retried.
 *
 * Threads: the ring and the reads belong to the loop thread
 * (queue_notify, completions, the flush and stop hooks), under dev->lock;
 * the transport calls the virtio_dev ops on vCPU threads with dev->lock
 * held. A driver reset (virtio_dev_ops.reset) hands the cancelling of
 * the read and of the timeout to the loop through an eventfd and waits
 * on dev->cond until neither is in flight: once it returns, nothing
 * writes guest memory for the old driver. When the loop stops, its stop
 * hook cancels them too.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_RNG_H
#define PHY_DEVICES_VIRTIO_VIRTIO_RNG_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_rng;

/*
 * Defaults. 1 MiB/s: Linux's driver asks for 64 bytes a request
 * (rng_buffer_size(), one cache line), so reading 1 MiB from /dev/hwrng
 * is 16384 requests, each a VM exit and an interrupt; at 1 MiB/s the
 * limiter adds about a second to that (less the 64 KiB burst), which
 * keeps `dd if=/dev/hwrng bs=1M count=1` in a Debian guest within a few
 * seconds. The same rate caps a guest that reads flat out at 16384
 * requests a second (VIRTIO_RNG_MIN_CHARGE each), a few percent of the
 * device loop's thread, which it shares with the disks and the network;
 * without a limit one vCPU could keep that thread busy by itself. The
 * 64 KiB burst serves what a booting guest wants (the kernel's pool,
 * systemd's seed) at once.
 */
#define VIRTIO_RNG_DEFAULT_RATE (1024u * 1024u)  /* bytes per second */
#define VIRTIO_RNG_DEFAULT_BURST (64u * 1024u)   /* bytes */
#define VIRTIO_RNG_DEFAULT_QUEUE_SIZE 64         /* entries offered */
/* The most one request reads: a larger buffer is filled in part. */
#define VIRTIO_RNG_MAX_REQUEST (64u * 1024u)
/* What a request costs the bucket at least, whatever its length. */
#define VIRTIO_RNG_MIN_CHARGE 64u
/* Once the bucket ran dry, the device waits for this much. */
#define VIRTIO_RNG_RESUME_BYTES 4096u
/* Buffers one request may have; more is a driver error (Linux uses 1). */
#define VIRTIO_RNG_MAX_BUFFERS 64

struct virtio_rng_params {
	/* An open, readable descriptor, blocking or not; the caller keeps
	 * owning it and closes it after virtio_rng_destroy(). */
	int src_fd;
	const char *src_name;   /* for messages ("/dev/urandom"); NULL: "fd N" */
	uint64_t bytes_per_sec; /* 0: unlimited */
	uint32_t burst;         /* the bucket's depth in bytes; 0: the default */
	uint16_t queue_size;    /* a power of two; 0: the default */
};

/*
 * Creates the device. `name` (for messages) and src_name are copied; mem
 * and loop must outlive the device. Adds a flush and a stop hook to the
 * loop and watches an eventfd on it: call before the loop thread starts.
 * A descriptor not open for reading, or a bad queue size, is refused
 * (PHY_E_INVALID, naming the source).
 */
int virtio_rng_create(struct virtio_rng **out, const struct virtio_rng_params *p,
		      const char *name, const struct guest_mem *mem,
		      struct io_loop *loop, struct phy_error *err);

/* The transport-independent device, for the transport to plug in. */
struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng);

struct virtio_rng_stats {
	uint64_t requests;      /* requests filled (used entries pushed) */
	uint64_t bytes;         /* bytes written into the driver's buffers */
	uint64_t throttled;     /* times the bucket ran dry and the device waited */
	uint64_t source_errors; /* reads that failed or found the source's end */
};
void virtio_rng_stats(struct virtio_rng *rng, struct virtio_rng_stats *st);

/* Whether a read, a poll of the source or a rate-limit timeout is in
 * flight (tests drive the loop until it is not). */
bool virtio_rng_busy(struct virtio_rng *rng);

/* Frees the device: with the loop stopped (or never started, or on the
 * loop thread with nothing in flight) and no transport using it. The
 * source descriptor stays open. NULL is allowed. */
void virtio_rng_destroy(struct virtio_rng *rng);

#endif
