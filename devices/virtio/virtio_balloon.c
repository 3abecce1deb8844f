// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-balloon device: pages from the inflate and reporting queues
 * checked against guest RAM and given back to the host, the deflate
 * queue acknowledged, the statistics buffer held until fresh numbers are
 * wanted. virtio_balloon.h describes the device.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_balloon.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "common/error.h"
#include "common/io_loop.h"

#define MAX_QUEUES 4
#define MAX_IOV 64
#define PFN_BATCH 256

enum role { ROLE_NONE, ROLE_INFLATE, ROLE_DEFLATE, ROLE_STATS, ROLE_REPORTING };

struct virtio_balloon {
	struct virtio_dev dev;
	struct virtqueue vqs[MAX_QUEUES];
	enum role roles[MAX_QUEUES];
	uint8_t config[8]; /* le32 num_pages, le32 actual */
	struct guest_mem *mem;
	struct io_loop *loop;
	char *name;
	int wake_fd; /* statistics wanted */

	/* Under dev.lock. */
	uint32_t num_pages, actual;
	bool has_stats_buf;
	uint16_t stats_head;
	bool dirty[MAX_QUEUES];
	struct vq_chain chain;
	struct iovec iov[MAX_IOV];
	struct virtio_balloon_stats st;
};

static struct virtio_balloon *to_balloon(struct virtio_dev *dev)
{
	return dev->opaque;
}

static bool has(const struct virtio_balloon *b, unsigned bit)
{
	return b->dev.driver_features & (1ull << bit);
}

/* ---- pages (loop thread, dev.lock held) ---- */

/* The page frame numbers of the chain's readable buffers, from index i
 * on, at most n into out; returns how many. */
static unsigned read_pfns(struct virtio_balloon *b, size_t i, uint32_t *out, unsigned n)
{
	size_t total = b->chain.out_len / sizeof(uint32_t);
	unsigned k = 0;
	for (; k < n && i + k < total; k++) {
		uint32_t le;
		iov_to_buf(b->chain.iov, b->chain.nr_out, (i + k) * sizeof(le), &le, sizeof(le));
		out[k] = le32toh(le);
	}
	return k;
}

static void *page_ptr(struct virtio_balloon *b, uint32_t pfn)
{
	return guest_mem_ptr(b->mem, (uint64_t)pfn << VIRTIO_BALLOON_PFN_SHIFT,
			     VIRTIO_BALLOON_PAGE);
}

/* Every page of the chain inside guest RAM? */
static bool pfns_valid(struct virtio_balloon *b)
{
	uint32_t pfns[PFN_BATCH];
	unsigned n;
	for (size_t i = 0; (n = read_pfns(b, i, pfns, PFN_BATCH)); i += n)
		for (unsigned k = 0; k < n; k++)
			if (!page_ptr(b, pfns[k]))
				return false;
	return true;
}

static void discard(struct virtio_balloon *b, uint8_t *p, uint64_t len)
{
	if (guest_mem_discard(b->mem, p, len))
		b->st.discard_errors++;
}

/* Runs of consecutive pages, each given back at once. */
static void discard_pfns(struct virtio_balloon *b)
{
	uint32_t pfns[PFN_BATCH], last = 0;
	uint8_t *run = NULL;
	uint64_t len = 0;
	unsigned n;
	for (size_t i = 0; (n = read_pfns(b, i, pfns, PFN_BATCH)); i += n) {
		for (unsigned k = 0; k < n; k++) {
			uint8_t *p = page_ptr(b, pfns[k]);
			if (run && pfns[k] == last + 1 && p == run + len) {
				len += VIRTIO_BALLOON_PAGE;
			} else {
				if (run)
					discard(b, run, len);
				run = p;
				len = VIRTIO_BALLOON_PAGE;
			}
			last = pfns[k];
		}
	}
	if (run)
		discard(b, run, len);
}

static const char *take_pages(struct virtio_balloon *b, bool inflate)
{
	if (b->chain.nr_in)
		return "page array buffer is device-writable";
	if (!pfns_valid(b))
		return inflate ? "inflateq: a page outside guest RAM"
			       : "deflateq: a page outside guest RAM";
	uint64_t n = b->chain.out_len / sizeof(uint32_t);
	if (inflate) {
		discard_pfns(b);
		b->st.inflated_pages += n;
	} else {
		b->st.deflated_pages += n;
	}
	return NULL;
}

/* Free page reporting: each buffer is a page-aligned range to give
 * back (the virtqueue code checked it lies in RAM). */
static const char *take_report(struct virtio_balloon *b)
{
	for (unsigned i = 0; i < b->chain.nr_out + b->chain.nr_in; i++)
		if ((((uintptr_t)b->iov[i].iov_base | b->iov[i].iov_len) &
		     (VIRTIO_BALLOON_PAGE - 1)) || !b->iov[i].iov_len)
			return "reporting_vq: a range not page-aligned";
	for (unsigned i = 0; i < b->chain.nr_out + b->chain.nr_in; i++) {
		discard(b, b->iov[i].iov_base, b->iov[i].iov_len);
		b->st.reported_bytes += b->iov[i].iov_len;
	}
	return NULL;
}

/* The guest's statistics: (le16 tag, le64 value) records. */
static const char *take_stats(struct virtio_balloon *b)
{
	struct __attribute__((packed)) {
		uint16_t tag;
		uint64_t val;
	} s;
	if (b->chain.nr_in)
		return "statsq: buffer is device-writable";
	for (size_t off = 0; off + sizeof(s) <= b->chain.out_len; off += sizeof(s)) {
		iov_to_buf(b->chain.iov, b->chain.nr_out, off, &s, sizeof(s));
		uint16_t tag = le16toh(s.tag);
		if (tag < VIRTIO_BALLOON_NR_STATS) {
			b->st.guest_stats[tag] = le64toh(s.val);
			b->st.guest_stats_valid |= 1u << tag;
		}
	}
	return NULL;
}

static void serve(struct virtio_balloon *b, unsigned q)
{
	struct virtqueue *vq = &b->vqs[q];
	enum role role = b->roles[q];

	while (virtio_dev_running(&b->dev) && vq->ready && role != ROLE_NONE) {
		if (role == ROLE_STATS && b->has_stats_buf)
			return; /* one buffer at a time: the driver has one */
		int r = vq_pop(vq, b->mem, &b->chain);
		if (r < 0) {
			virtio_dev_fail(&b->dev, (int)q, vq->error);
			return;
		}
		/* Empty: ask for the driver's next buffer (with EVENT_IDX it
		 * would not notify otherwise), unless it came meanwhile. */
		if (r == 0 && !vq_set_notify(vq, true))
			return;
		if (r == 0)
			continue;
		const char *why = role == ROLE_STATS ? take_stats(b)
				  : role == ROLE_REPORTING ? take_report(b)
				  : take_pages(b, role == ROLE_INFLATE);
		if (why) {
			virtio_dev_fail(&b->dev, (int)q, why);
			return;
		}
		if (role == ROLE_STATS) {
			b->has_stats_buf = true;
			b->stats_head = b->chain.head;
			return;
		}
		vq_push(vq, b->chain.head, 0);
		b->dirty[q] = true;
	}
}

/* ---- loop hooks ---- */

static void balloon_queue_notify(struct virtio_dev *dev, unsigned q)
{
	struct virtio_balloon *b = to_balloon(dev);

	pthread_mutex_lock(&dev->lock);
	if (q < MAX_QUEUES)
		serve(b, q);
	pthread_mutex_unlock(&dev->lock);
}

static void balloon_flush(void *opaque)
{
	struct virtio_balloon *b = opaque;

	pthread_mutex_lock(&b->dev.lock);
	for (unsigned q = 0; q < MAX_QUEUES; q++) {
		if (b->dirty[q] && virtio_dev_running(&b->dev))
			virtio_dev_signal_queue(&b->dev, q);
		b->dirty[q] = false;
	}
	pthread_mutex_unlock(&b->dev.lock);
}

/* Fresh statistics wanted: hand the buffer back to the driver, which
 * fills it and posts it again. */
static void balloon_wake(void *opaque)
{
	struct virtio_balloon *b = opaque;

	pthread_mutex_lock(&b->dev.lock);
	for (unsigned q = 0; q < MAX_QUEUES; q++) {
		if (b->roles[q] != ROLE_STATS || !b->has_stats_buf ||
		    !virtio_dev_running(&b->dev))
			continue;
		vq_push(&b->vqs[q], b->stats_head, 0);
		b->has_stats_buf = false;
		virtio_dev_signal_queue(&b->dev, q);
		serve(b, q); /* the next buffer: taken, or notified */
	}
	pthread_mutex_unlock(&b->dev.lock);
}

/* ---- virtio_dev ops (vCPU threads, dev.lock held) ---- */

static void put_config(struct virtio_balloon *b)
{
	uint32_t v[2] = {htole32(b->num_pages), htole32(b->actual)};
	memcpy(b->config, v, sizeof(v));
}

static void balloon_config_write(struct virtio_dev *dev, uint32_t off,
				 const void *data, uint32_t len)
{
	struct virtio_balloon *b = to_balloon(dev);
	/* Only `actual` is the driver's (a 4-byte write, as Linux does). */
	if (off != 4 || len != 4)
		return;
	uint32_t le;
	memcpy(&le, data, 4);
	b->actual = le32toh(le);
	put_config(b);
}

/* Which index is which queue depends on what the driver took. */
static int balloon_activate(struct virtio_dev *dev)
{
	struct virtio_balloon *b = to_balloon(dev);
	unsigned q = 2;
	b->roles[0] = ROLE_INFLATE;
	b->roles[1] = ROLE_DEFLATE;
	b->roles[2] = b->roles[3] = ROLE_NONE;
	if (has(b, VIRTIO_BALLOON_F_STATS_VQ))
		b->roles[q++] = ROLE_STATS;
	if (has(b, VIRTIO_BALLOON_F_REPORTING) && q < dev->nr_queues)
		b->roles[q++] = ROLE_REPORTING;
	return 0;
}

static void balloon_reset(struct virtio_dev *dev)
{
	struct virtio_balloon *b = to_balloon(dev);
	/* Nothing is in flight: the held stats buffer goes with the ring.
	 * The target stays the host's; what the driver held is gone. */
	b->has_stats_buf = false;
	b->actual = 0;
	memset(b->dirty, 0, sizeof(b->dirty));
	memset(b->roles, 0, sizeof(b->roles));
	put_config(b);
}

static const struct virtio_dev_ops balloon_ops = {
	.config_write = balloon_config_write,
	.activate = balloon_activate,
	.reset = balloon_reset,
	.queue_notify = balloon_queue_notify,
};

/* ---- the device ---- */

struct virtio_dev *virtio_balloon_dev(struct virtio_balloon *b)
{
	return &b->dev;
}

int virtio_balloon_set_target(struct virtio_balloon *b, uint64_t bytes,
			      struct phy_error *err)
{
	if (bytes > b->mem->ram_size)
		return phy_err(err, PHY_E_INVALID,
			       "%s: a balloon of %llu bytes is more than the guest's %llu of RAM",
			       b->name, (unsigned long long)bytes,
			       (unsigned long long)b->mem->ram_size);
	pthread_mutex_lock(&b->dev.lock);
	b->num_pages = (uint32_t)(bytes / VIRTIO_BALLOON_PAGE);
	put_config(b);
	virtio_dev_config_changed(&b->dev);
	pthread_mutex_unlock(&b->dev.lock);
	return 0;
}

void virtio_balloon_stats(struct virtio_balloon *b, struct virtio_balloon_stats *st)
{
	pthread_mutex_lock(&b->dev.lock);
	*st = b->st;
	st->target_bytes = (uint64_t)b->num_pages * VIRTIO_BALLOON_PAGE;
	st->actual_bytes = (uint64_t)b->actual * VIRTIO_BALLOON_PAGE;
	bool ask = b->has_stats_buf;
	pthread_mutex_unlock(&b->dev.lock);
	uint64_t one = 1;
	if (ask && write(b->wake_fd, &one, sizeof(one)) < 0) {
		/* Fails only on overflow: it is set. */
	}
}

static void free_balloon(struct virtio_balloon *b)
{
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	free(b->name);
	free(b);
}

int virtio_balloon_create(struct virtio_balloon **out,
			  const struct virtio_balloon_params *p, const char *name,
			  struct guest_mem *mem, struct io_loop *loop,
			  struct phy_error *err)
{
	struct virtio_balloon *b = calloc(1, sizeof(*b));
	if (!b)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", name);
	b->mem = mem;
	b->loop = loop;
	b->name = strdup(name);
	b->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (!b->name || b->wake_fd < 0) {
		int e = errno;
		free_balloon(b);
		return phy_err_errno(err, PHY_E_NOMEM, e, "%s: set-up", name);
	}
	b->chain.iov = b->iov;
	b->chain.max_iov = MAX_IOV;
	uint64_t features = 1ull << VIRTIO_RING_F_EVENT_IDX |
			    1ull << VIRTIO_RING_F_INDIRECT_DESC |
			    1ull << VIRTIO_BALLOON_F_STATS_VQ;
	unsigned nr = 3;
	if (p && p->deflate_on_oom)
		features |= 1ull << VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
	if (p && p->free_page_reporting) {
		features |= 1ull << VIRTIO_BALLOON_F_REPORTING;
		nr = 4;
	}
	put_config(b);
	virtio_dev_init(&b->dev, b->name, VIRTIO_ID_BALLOON, features,
			sizeof(b->config), b->vqs, nr, VIRTIO_BALLOON_QUEUE_SIZE,
			mem, &balloon_ops, b);
	b->dev.config = b->config;
	int r = io_loop_add_flush(loop, balloon_flush, b, err);
	if (!r)
		r = io_loop_watch_eventfd(loop, b->wake_fd, balloon_wake, b, err);
	if (r) {
		io_loop_remove_flush(loop, balloon_flush, b);
		virtio_dev_destroy(&b->dev);
		free_balloon(b);
		return r;
	}
	*out = b;
	return 0;
}

void virtio_balloon_destroy(struct virtio_balloon *b)
{
	if (!b)
		return;
	io_loop_remove_flush(b->loop, balloon_flush, b);
	virtio_dev_destroy(&b->dev);
	free_balloon(b);
}
