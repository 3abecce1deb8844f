/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A queue's interrupt held back for a bounded time, so that one interrupt
 * carries several used entries when the device knows more are coming
 * (virtio-net: the ACKs of a stream the guest sends). The device decides
 * when to hold and when to let go; this keeps the count, the flag and the
 * io_uring timeout that ends a hold at the latest. Guarded by the
 * device's lock; the timeout's completion is the device's op.done.
 */
#ifndef PHY_DEVICES_VIRTIO_IRQ_HOLD_H
#define PHY_DEVICES_VIRTIO_IRQ_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/time_types.h>

#include "common/io_loop.h"

struct irq_hold {
	struct io_op op;   /* the timeout; done set by the device */
	void *owner;       /* the device's queue, for op.done */
	struct __kernel_timespec ts; /* read when the SQE is submitted */
	bool armed;        /* the timeout is on the ring */
	bool held;         /* used entries wait for an interrupt */
	unsigned count;    /* used entries since the last interrupt */
};

/* Holds the interrupt: arms a timeout of `us` unless one is on the ring.
 * Returns 1 when it armed one (an operation in flight for the device to
 * count), 0 when one was armed already, -1 when the ring has no room
 * (signal now instead). */
int irq_hold_start(struct irq_hold *h, struct io_loop *loop, uint32_t us);

/* The interrupt is being raised: the count starts again, and a timeout
 * still on the ring is cancelled (its completion then finds nothing
 * held). */
void irq_hold_end(struct irq_hold *h, struct io_loop *loop);

/* Cancels the timeout (a reset, a stop); its completion still comes. */
void irq_hold_cancel(struct irq_hold *h, struct io_loop *loop);

/* Forgets a hold (after a reset). */
void irq_hold_clear(struct irq_hold *h);

#endif
