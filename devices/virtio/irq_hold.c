// SPDX-License-Identifier: Apache-2.0
#include "devices/virtio/irq_hold.h"

#include <liburing.h>

#include "common/clock.h"

int irq_hold_start(struct irq_hold *h, struct io_loop *loop, uint32_t us)
{
	int armed = 0;
	if (!h->armed) {
		struct io_uring_sqe *sqe = io_loop_sqe(loop, &h->op);
		if (!sqe)
			return -1;
		h->ts = phy_kernel_timespec((uint64_t)us * 1000);
		io_uring_prep_timeout(sqe, &h->ts, 0, 0);
		h->armed = true;
		armed = 1;
	}
	h->held = true;
	return armed;
}

void irq_hold_end(struct irq_hold *h, struct io_loop *loop)
{
	if (h->held && h->armed)
		io_loop_cancel(loop, &h->op);
	irq_hold_clear(h);
}

void irq_hold_cancel(struct irq_hold *h, struct io_loop *loop)
{
	if (h->armed)
		io_loop_cancel(loop, &h->op);
}

void irq_hold_clear(struct irq_hold *h)
{
	h->held = false;
	h->count = 0;
}
