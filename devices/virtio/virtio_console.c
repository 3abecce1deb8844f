// SPDX-License-Identifier: Apache-2.0
/* virtio-console, one port: virtio_console.h describes it. */
#define _GNU_SOURCE
#include "devices/virtio/virtio_console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"
#include "common/io_loop.h"

#define RECEIVEQ 0
#define TRANSMITQ 1
#define MAX_IOV 64
#define COPY_CHUNK 4096

struct virtio_console {
	struct virtio_dev dev;
	struct virtqueue vqs[2];
	struct virtio_console_config cfg; /* all zero: no feature uses it */
	const struct guest_mem *mem;
	int wake_fd;
	char *name;
	virtio_console_output_fn output;
	void *output_opaque;

	/* Under dev.lock. */
	uint8_t pending[VIRTIO_CONSOLE_PENDING_MAX]; /* a ring */
	size_t head, count;
	bool wake_pending;
	struct virtio_console_stats st;
	struct vq_chain chain;
	struct iovec iov[MAX_IOV];
};

static struct virtio_console *to_con(struct virtio_dev *dev)
{
	return dev->opaque;
}

/* Moves pending input into receive buffers; whether any was used. */
static bool deliver(struct virtio_console *con)
{
	struct vq_chain *c = &con->chain;
	bool used = false;
	while (con->count && virtio_dev_running(&con->dev) &&
	       virtio_dev_next_chain(&con->dev, RECEIVEQ, c)) {
		if (c->nr_out || !c->in_len) {
			virtio_dev_fail(&con->dev, RECEIVEQ,
					c->nr_out ? "receive buffer is not writable"
						  : "receive buffer holds no byte");
			break;
		}
		uint32_t done = 0;
		while (con->count && done < c->in_len) {
			size_t n = VIRTIO_CONSOLE_PENDING_MAX - con->head;
			if (n > con->count)
				n = con->count;
			if (n > c->in_len - done)
				n = c->in_len - done;
			iov_from_buf(c->iov, c->nr_in, done, con->pending + con->head, n);
			con->head = (con->head + n) % VIRTIO_CONSOLE_PENDING_MAX;
			con->count -= n;
			done += (uint32_t)n;
		}
		vq_push(&con->vqs[RECEIVEQ], c->head, done);
		con->st.rx_bytes += done;
		used = true;
	}
	return used;
}

/* Hands every transmit buffer's bytes to the output; whether any was used. */
static bool transmit(struct virtio_console *con)
{
	struct vq_chain *c = &con->chain;
	bool used = false;
	while (virtio_dev_running(&con->dev) &&
	       virtio_dev_next_chain(&con->dev, TRANSMITQ, c)) {
		if (c->nr_in || !c->out_len) {
			virtio_dev_fail(&con->dev, TRANSMITQ,
					c->nr_in ? "transmit buffer is writable"
						 : "transmit buffer holds no byte");
			break;
		}
		uint8_t buf[COPY_CHUNK];
		for (uint32_t off = 0; off < c->out_len;) {
			size_t n = iov_to_buf(c->iov, c->nr_out, off, buf, sizeof(buf));
			con->output(con->output_opaque, buf, n);
			off += (uint32_t)n;
		}
		con->st.tx_bytes += c->out_len;
		vq_push(&con->vqs[TRANSMITQ], c->head, 0);
		used = true;
	}
	return used;
}

static void serve(struct virtio_console *con, unsigned q)
{
	if (!virtio_dev_running(&con->dev))
		return;
	bool used = q == TRANSMITQ ? transmit(con) : deliver(con);
	if (used && virtio_dev_running(&con->dev))
		virtio_dev_signal_queue(&con->dev, q);
}

static void console_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_console *con = to_con(dev);
	pthread_mutex_lock(&dev->lock);
	if (q < 2)
		serve(con, q);
	pthread_mutex_unlock(&dev->lock);
}

/* The eventfd virtio_console_input() writes. */
static void console_woken(void *opaque)
{
	struct virtio_console *con = opaque;
	pthread_mutex_lock(&con->dev.lock);
	con->wake_pending = false;
	serve(con, RECEIVEQ);
	pthread_mutex_unlock(&con->dev.lock);
}

static void console_reset(struct virtio_dev *dev)
{
	struct virtio_console *con = to_con(dev);
	con->st.discarded += con->count;
	con->head = con->count = 0;
}

static const struct virtio_dev_ops console_ops = {
	.reset = console_reset,
	.queue_notify = console_queue_notify,
};

size_t virtio_console_input(struct virtio_console *con, const uint8_t *buf,
			    size_t len)
{
	size_t taken = 0;
	bool wake = false;
	pthread_mutex_lock(&con->dev.lock);
	if (virtio_dev_running(&con->dev)) {
		while (taken < len && con->count < VIRTIO_CONSOLE_PENDING_MAX) {
			size_t tail = (con->head + con->count) % VIRTIO_CONSOLE_PENDING_MAX;
			con->pending[tail] = buf[taken++];
			con->count++;
		}
		wake = taken && !con->wake_pending;
		con->wake_pending |= wake;
	}
	pthread_mutex_unlock(&con->dev.lock);
	if (wake) {
		uint64_t one = 1;
		/* Cannot fail short of a counter overflow: the loop resets
		 * it with every read. */
		if (write(con->wake_fd, &one, sizeof(one)) != sizeof(one)) {
			pthread_mutex_lock(&con->dev.lock);
			con->wake_pending = false;
			pthread_mutex_unlock(&con->dev.lock);
		}
	}
	return taken;
}

void virtio_console_stats(struct virtio_console *con,
			  struct virtio_console_stats *st)
{
	pthread_mutex_lock(&con->dev.lock);
	*st = con->st;
	st->pending = con->count;
	pthread_mutex_unlock(&con->dev.lock);
}

bool virtio_console_busy(struct virtio_console *con)
{
	pthread_mutex_lock(&con->dev.lock);
	bool busy = con->wake_pending;
	pthread_mutex_unlock(&con->dev.lock);
	return busy;
}

struct virtio_dev *virtio_console_dev(struct virtio_console *con)
{
	return &con->dev;
}

static void free_console(struct virtio_console *con)
{
	if (con->wake_fd >= 0)
		close(con->wake_fd);
	free(con->name);
	free(con);
}

int virtio_console_create(struct virtio_console **out, const char *name,
			  const struct guest_mem *mem, struct io_loop *loop,
			  virtio_console_output_fn output, void *output_opaque,
			  struct phy_error *err)
{
	struct virtio_console *con = calloc(1, sizeof(*con));
	if (!con)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	con->mem = mem;
	con->output = output;
	con->output_opaque = output_opaque;
	con->name = strdup(name);
	/* Blocking, as every eventfd the loop reads (see io_loop.c). */
	con->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!con->name || con->wake_fd < 0) {
		int e = errno;
		free_console(con);
		return phy_err_errno(err, PHY_E_NOMEM, e, "%s: set-up", name);
	}
	con->chain.iov = con->iov;
	con->chain.max_iov = MAX_IOV;
	virtio_dev_init(&con->dev, con->name, VIRTIO_ID_CONSOLE,
			1ull << VIRTIO_RING_F_EVENT_IDX |
				1ull << VIRTIO_RING_F_INDIRECT_DESC,
			sizeof(con->cfg), con->vqs, 2, VIRTIO_CONSOLE_QUEUE_SIZE,
			mem, &console_ops, con);
	con->dev.config = &con->cfg;
	int r = io_loop_watch_eventfd(loop, con->wake_fd, console_woken, con, err);
	if (r) {
		virtio_dev_destroy(&con->dev);
		free_console(con);
		return r;
	}
	*out = con;
	return 0;
}

void virtio_console_destroy(struct virtio_console *con)
{
	if (!con)
		return;
	virtio_dev_destroy(&con->dev);
	free_console(con);
}
