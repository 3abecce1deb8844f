/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-console (virtio 1.2 § 5.3) with one port and no feature of its
 * own (no F_SIZE, no MULTIPORT, no EMERG_WRITE): the guest's hvc0. Two
 * queues: receiveq 0, whose writable buffers the device fills with the
 * host's input, and transmitq 1, whose readable buffers are the guest's
 * output, handed to an output function as they come.
 *
 * Input: virtio_console_input() (any thread) copies bytes into a buffer
 * of VIRTIO_CONSOLE_PENDING_MAX bytes and wakes the loop through an
 * eventfd; the loop moves them into the receiveq's buffers, as many as
 * each holds. What does not fit in the buffer is not taken (the return
 * value says how much was): the caller keeps it and offers it again.
 * Input while the driver is not running is not taken either.
 *
 * Errors: a receive buffer that is readable or holds no byte, a transmit
 * buffer that is writable or holds no byte, and a malformed ring put the
 * device in DEVICE_NEEDS_RESET, as any driver bug does.
 *
 * Threads: only the loop thread touches the rings (queue_notify, the
 * eventfd), under dev->lock; the output function is called there, with
 * dev->lock held, and must not block (chardev_write() does not). Nothing
 * is in flight outside the lock: a driver reset forgets pending input.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_CONSOLE_H
#define PHY_DEVICES_VIRTIO_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_console;

#define VIRTIO_CONSOLE_QUEUE_SIZE 128
#define VIRTIO_CONSOLE_PENDING_MAX 4096 /* input bytes waiting for buffers */

typedef void (*virtio_console_output_fn)(void *opaque, const uint8_t *buf,
					 size_t len);

/* Creates the device; `name` is copied, mem and loop must outlive it.
 * Watches an eventfd on the loop: call before the loop thread starts. */
int virtio_console_create(struct virtio_console **out, const char *name,
			  const struct guest_mem *mem, struct io_loop *loop,
			  virtio_console_output_fn output, void *output_opaque,
			  struct phy_error *err);
struct virtio_dev *virtio_console_dev(struct virtio_console *con);

/* Takes up to len bytes of input (any thread); returns how many. */
size_t virtio_console_input(struct virtio_console *con, const uint8_t *buf,
			    size_t len);

struct virtio_console_stats {
	uint64_t rx_bytes;  /* input written into the receiveq */
	uint64_t tx_bytes;  /* output taken off the transmitq */
	uint64_t discarded; /* input a driver reset forgot */
	size_t pending;     /* input waiting for receive buffers */
};
void virtio_console_stats(struct virtio_console *con,
			  struct virtio_console_stats *st);
/* Whether the loop has a wake-up to serve (tests). */
bool virtio_console_busy(struct virtio_console *con);

/* With the loop stopped (or never started) and no transport using it;
 * NULL is allowed. */
void virtio_console_destroy(struct virtio_console *con);

#endif
