// SPDX-License-Identifier: Apache-2.0
#define _GNU_SOURCE
#include "virtio_sim.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include "common/io_loop.h"

static void sim_notify_queue(void *transport, unsigned q)
{
	struct virtio_sim *sim = transport;
	if (q < SIM_MAX_QUEUES)
		sim->q[q].interrupts++;
}

static void sim_notify_config(void *transport)
{
	((struct virtio_sim *)transport)->config_interrupts++;
}

static const struct virtio_transport_ops sim_transport = {
	.notify_queue = sim_notify_queue,
	.notify_config = sim_notify_config,
};

static void sim_log(void *opaque, const char *msg)
{
	struct virtio_sim *sim = opaque;
	snprintf(sim->last_log, sizeof(sim->last_log), "%s", msg);
	sim->logs++;
}

static uint8_t *alloc_region(uint64_t size)
{
	void *p = NULL;
	/* Exactly `size` bytes: ASan flags any access past the end. */
	if (size && posix_memalign(&p, 4096, size) == 0)
		memset(p, 0, size);
	return p;
}

/* What both constructors share once RAM is in sim->mem. */
static struct virtio_sim *sim_init(struct virtio_sim *sim)
{
	if (io_loop_create(&sim->loop, 256, NULL))
		return NULL;
	sim->alloc_next = 0x1000; /* GPA 0 stays unused, like a null page */
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++) {
		sim->q[i].sim = sim;
		sim->q[i].index = i;
		sim->q[i].kick_fd = -1;
	}
	return sim;
}

struct virtio_sim *sim_create(uint64_t low_size, uint64_t high_size)
{
	struct virtio_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	sim->low = alloc_region(low_size);
	sim->high = alloc_region(high_size);
	sim->mem.memfd = -1;
	sim->mem.regions[0] = (struct guest_mem_region){0, low_size, sim->low};
	sim->mem.nr_regions = 1;
	if (high_size)
		sim->mem.regions[sim->mem.nr_regions++] =
			(struct guest_mem_region){SIM_HIGH_GPA, high_size,
						  sim->high};
	sim->mem.ram_size = low_size + high_size;
	if (!sim->low || (high_size && !sim->high) || !sim_init(sim)) {
		free(sim->low);
		free(sim->high);
		free(sim);
		return NULL;
	}
	return sim;
}

struct virtio_sim *sim_create_vm_ram(uint64_t size, unsigned guest_mem_flags)
{
	struct virtio_sim *sim = calloc(1, sizeof(*sim));
	if (!sim)
		return NULL;
	/* All of it below the hole: one region at GPA 0. */
	if (guest_mem_create(&sim->mem, size, size, size, guest_mem_flags, NULL)) {
		free(sim);
		return NULL;
	}
	sim->vm_ram = true;
	sim->low = sim->mem.base;
	if (!sim_init(sim)) {
		guest_mem_destroy(&sim->mem);
		free(sim);
		return NULL;
	}
	return sim;
}

void sim_destroy(struct virtio_sim *sim)
{
	if (!sim)
		return;
	/* The loop's reads on the kick eventfds go first. */
	io_loop_destroy(sim->loop);
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++) {
		if (sim->q[i].kick_fd >= 0)
			close(sim->q[i].kick_fd);
		free(sim->q[i].chain_len);
	}
	if (sim->vm_ram) {
		guest_mem_destroy(&sim->mem);
	} else {
		free(sim->low);
		free(sim->high);
	}
	free(sim);
}

void sim_attach(struct virtio_sim *sim, struct virtio_dev *dev,
		sim_busy_fn busy, void *busy_opaque)
{
	sim->dev = dev;
	sim->busy = busy;
	sim->busy_opaque = busy_opaque;
	dev->transport_ops = &sim_transport;
	dev->transport = sim;
	dev->log = sim_log;
	dev->log_opaque = sim;
}

void sim_set_waiter(struct virtio_sim *sim, sim_wait_fn wait, void *opaque)
{
	sim->wait_idle = wait;
	sim->wait_opaque = opaque;
}

uint64_t sim_alloc(struct virtio_sim *sim, uint64_t size, uint64_t align)
{
	uint64_t gpa = (sim->alloc_next + align - 1) & ~(align - 1);
	if (gpa + size > sim->mem.regions[0].size) {
		fprintf(stderr, "virtio_sim: out of guest RAM\n");
		abort();
	}
	sim->alloc_next = gpa + size;
	memset(sim->low + gpa, 0, size);
	return gpa;
}

void *sim_ptr(struct virtio_sim *sim, uint64_t gpa, uint64_t len)
{
	return guest_mem_ptr(&sim->mem, gpa, len);
}

void sim_set_status(struct virtio_sim *sim, uint8_t status)
{
	pthread_mutex_lock(&sim->dev->lock);
	virtio_dev_set_status(sim->dev, status);
	pthread_mutex_unlock(&sim->dev->lock);
}

uint8_t sim_status(struct virtio_sim *sim)
{
	pthread_mutex_lock(&sim->dev->lock);
	uint8_t s = sim->dev->status;
	pthread_mutex_unlock(&sim->dev->lock);
	return s;
}

bool sim_needs_reset(struct virtio_sim *sim)
{
	return sim_status(sim) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

void sim_config_read(struct virtio_sim *sim, uint32_t off, void *buf,
		     uint32_t len)
{
	struct virtio_dev *dev = sim->dev;
	memset(buf, 0, len);
	pthread_mutex_lock(&dev->lock);
	if (off <= dev->config_size && len <= dev->config_size - off)
		virtio_dev_read_config(dev, off, buf, len);
	pthread_mutex_unlock(&dev->lock);
}

int sim_negotiate(struct virtio_sim *sim, uint64_t features)
{
	const uint8_t ack =
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	sim_set_status(sim, 0);
	sim_set_status(sim, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	sim_set_status(sim, ack);
	pthread_mutex_lock(&sim->dev->lock);
	virtio_dev_set_driver_features(sim->dev, 0, (uint32_t)features);
	virtio_dev_set_driver_features(sim->dev, 1, (uint32_t)(features >> 32));
	pthread_mutex_unlock(&sim->dev->lock);
	sim_set_status(sim, ack | VIRTIO_CONFIG_S_FEATURES_OK);
	sim->features = features;
	return sim_status(sim) & VIRTIO_CONFIG_S_FEATURES_OK ? 0 : -1;
}

static void sim_kicked(void *opaque)
{
	struct sim_queue *sq = opaque;
	struct virtio_dev *dev = sq->sim->dev;
	sq->kicked = false;
	dev->ops->queue_notify(dev, sq->index);
}

/* Points the driver side at rings of `size` entries at these GPAs. */
static int map_rings(struct virtio_sim *sim, struct sim_queue *sq,
		     uint16_t size, uint64_t desc, uint64_t avail,
		     uint64_t used)
{
	sq->desc = sim_ptr(sim, desc, 16ull * size);
	sq->avail = sim_ptr(sim, avail, 6 + 2ull * size);
	sq->used = sim_ptr(sim, used, 6 + 8ull * size);
	if (!sq->desc || !sq->avail || !sq->used)
		return -1;
	sq->size = size;
	sq->desc_gpa = desc;
	sq->avail_gpa = avail;
	sq->used_gpa = used;
	sq->used_event = &sq->avail->ring[size];
	sq->avail_event = (uint16_t *)&sq->used->ring[size];
	free(sq->chain_len);
	sq->chain_len = calloc(size, sizeof(*sq->chain_len));
	if (!sq->chain_len)
		return -1;
	if (sq->kick_fd < 0) {
		/* Blocking, as a transport's ioeventfds: io_uring then
		 * waits for a kick rather than failing with -EAGAIN. */
		sq->kick_fd = eventfd(0, EFD_CLOEXEC);
		if (sq->kick_fd < 0 ||
		    io_loop_watch_eventfd(sim->loop, sq->kick_fd, sim_kicked,
					  sq, NULL))
			return -1;
	}
	return 0;
}

static int alloc_rings(struct virtio_sim *sim, struct sim_queue *sq,
		       uint16_t size)
{
	if (sq->desc && sq->size == size && sq->indirect_gpa)
		return 0;
	uint64_t desc = sim_alloc(sim, 16ull * size, 16);
	uint64_t avail = sim_alloc(sim, 6 + 2ull * size, 2);
	uint64_t used = sim_alloc(sim, 6 + 8ull * size, 4);
	sq->indirect_gpa = sim_alloc(sim, 16ull * SIM_MAX_INDIRECT * size, 16);
	return map_rings(sim, sq, size, desc, avail, used);
}

static void reset_ring(struct sim_queue *sq)
{
	memset(sq->desc, 0, 16ull * sq->size);
	memset(sq->avail, 0, 6 + 2ull * sq->size);
	memset(sq->used, 0, 6 + 8ull * sq->size);
	for (unsigned i = 0; i < sq->size; i++)
		sq->desc[i].next = (uint16_t)(i + 1);
}

/* The driver's bookkeeping for a fresh ring. */
static void reset_driver(struct sim_queue *sq)
{
	memset(sq->chain_len, 0, sq->size * sizeof(*sq->chain_len));
	sq->free_head = 0;
	sq->num_free = sq->size;
	sq->avail_idx = sq->last_used = 0;
	sq->interrupts = 0;
	sq->kicked = false;
}

/* Programs queue q of the device with the driver's rings and enables it. */
static int enable_queue(struct virtio_sim *sim, struct sim_queue *sq)
{
	struct virtio_dev *dev = sim->dev;
	if (sq->index >= dev->nr_queues)
		return -1;
	pthread_mutex_lock(&dev->lock);
	struct virtqueue *vq = &dev->queues[sq->index];
	vq->size = sq->size;
	vq->desc_gpa = sq->desc_gpa;
	vq->avail_gpa = sq->avail_gpa;
	vq->used_gpa = sq->used_gpa;
	virtio_dev_enable_queue(dev, sq->index);
	bool ready = vq->ready;
	pthread_mutex_unlock(&dev->lock);
	return ready ? 0 : -1;
}

int sim_queue_setup(struct virtio_sim *sim, unsigned q, uint16_t size)
{
	if (q >= SIM_MAX_QUEUES)
		return -1;
	struct sim_queue *sq = &sim->q[q];
	if (alloc_rings(sim, sq, size))
		return -1;
	reset_ring(sq);
	reset_driver(sq);
	return enable_queue(sim, sq);
}

int sim_queue_setup_at(struct virtio_sim *sim, unsigned q, uint16_t size,
		       uint64_t desc, uint64_t avail, uint64_t used)
{
	if (q >= SIM_MAX_QUEUES)
		return -1;
	struct sim_queue *sq = &sim->q[q];
	sq->indirect_gpa = 0;
	if (map_rings(sim, sq, size, desc, avail, used))
		return -1;
	reset_driver(sq);
	return enable_queue(sim, sq);
}

void sim_driver_ok(struct virtio_sim *sim)
{
	sim_set_status(sim, sim_status(sim) | VIRTIO_CONFIG_S_DRIVER_OK);
}

int sim_start(struct virtio_sim *sim, uint64_t features, unsigned nr_queues,
	      uint16_t size)
{
	if (sim_negotiate(sim, features))
		return -1;
	for (unsigned q = 0; q < nr_queues; q++)
		if (sim_queue_setup(sim, q, size))
			return -1;
	sim_driver_ok(sim);
	return (sim_status(sim) &
		(VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
			       VIRTIO_CONFIG_S_DRIVER_OK
		       ? 0
		       : -1;
}

void sim_publish(struct virtio_sim *sim, unsigned q, uint16_t head)
{
	struct sim_queue *sq = &sim->q[q];
	sq->avail->ring[sq->avail_idx & (sq->size - 1)] = head;
	sq->avail_idx++;
	/* Release: the entry and the descriptors before the index. */
	__atomic_store_n(&sq->avail->idx, sq->avail_idx, __ATOMIC_RELEASE);
}

static void fill_desc(struct vring_desc *d, const struct sim_buf *b, bool more)
{
	d->addr = b->gpa;
	d->len = b->len;
	d->flags = (b->writable ? VRING_DESC_F_WRITE : 0) |
		   (more ? VRING_DESC_F_NEXT : 0);
}

int sim_add(struct virtio_sim *sim, unsigned q, const struct sim_buf *bufs,
	    unsigned n, bool indirect)
{
	struct sim_queue *sq = &sim->q[q];
	unsigned need = indirect ? 1 : n;
	if (n == 0 || need > sq->num_free ||
	    (indirect && (n > SIM_MAX_INDIRECT || !sq->indirect_gpa)))
		return -1;
	uint16_t head = sq->free_head, idx = head, last = head;
	if (indirect) {
		uint64_t table_gpa =
			sq->indirect_gpa + 16ull * SIM_MAX_INDIRECT * head;
		struct vring_desc *table = sim_ptr(sim, table_gpa, 16ull * n);
		for (unsigned i = 0; i < n; i++) {
			fill_desc(&table[i], &bufs[i], i + 1 < n);
			table[i].next = (uint16_t)(i + 1);
		}
		sq->desc[head].addr = table_gpa;
		sq->desc[head].len = 16 * n;
		sq->desc[head].flags = VRING_DESC_F_INDIRECT;
	} else {
		/* The free list is linked through `next`, so the chain
		 * simply follows it. */
		for (unsigned i = 0; i < n; i++) {
			last = idx;
			fill_desc(&sq->desc[idx], &bufs[i], i + 1 < n);
			idx = sq->desc[idx].next;
		}
	}
	sq->free_head = sq->desc[last].next;
	sq->num_free -= need;
	sq->chain_len[head] = (uint16_t)need;
	sim_publish(sim, q, head);
	return head;
}

bool sim_kick_needed(struct virtio_sim *sim, unsigned q, uint16_t old_avail)
{
	struct sim_queue *sq = &sim->q[q];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (sim->features & (1ull << VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event =
			__atomic_load_n(sq->avail_event, __ATOMIC_RELAXED);
		return (uint16_t)(sq->avail_idx - event - 1) <
		       (uint16_t)(sq->avail_idx - old_avail);
	}
	return !(__atomic_load_n(&sq->used->flags, __ATOMIC_RELAXED) &
		 VRING_USED_F_NO_NOTIFY);
}

void sim_kick(struct virtio_sim *sim, unsigned q)
{
	uint64_t one = 1;
	if (write(sim->q[q].kick_fd, &one, sizeof(one)) == sizeof(one))
		sim->q[q].kicked = true;
}

static bool kick_pending(const struct virtio_sim *sim)
{
	for (unsigned i = 0; i < SIM_MAX_QUEUES; i++)
		if (sim->q[i].kicked)
			return true;
	return false;
}

void sim_run(struct virtio_sim *sim)
{
	do {
		while (kick_pending(sim) ||
		       (sim->busy && sim->busy(sim->busy_opaque)))
			if (io_loop_run_once(sim->loop, true) < 0)
				return;
		if (sim->wait_idle)
			sim->wait_idle(sim->wait_opaque);
	} while (kick_pending(sim));
}

static void free_chain(struct sim_queue *sq, uint16_t head)
{
	if (head >= sq->size || sq->chain_len[head] == 0)
		return;
	uint16_t last = head;
	for (unsigned i = 1;
	     i < sq->chain_len[head] && sq->desc[last].next < sq->size; i++)
		last = sq->desc[last].next;
	sq->desc[last].next = sq->free_head;
	sq->free_head = head;
	sq->num_free += sq->chain_len[head];
	sq->chain_len[head] = 0;
}

int sim_get_used(struct virtio_sim *sim, unsigned q, uint16_t *id,
		 uint32_t *len)
{
	struct sim_queue *sq = &sim->q[q];
	uint16_t used_idx = __atomic_load_n(&sq->used->idx, __ATOMIC_ACQUIRE);
	if (used_idx == sq->last_used)
		return 0;
	struct vring_used_elem *e =
		&sq->used->ring[sq->last_used & (sq->size - 1)];
	*id = (uint16_t)e->id;
	*len = e->len;
	sq->last_used++;
	if (sim->features & (1ull << VIRTIO_RING_F_EVENT_IDX))
		__atomic_store_n(sq->used_event, sq->last_used,
				 __ATOMIC_RELAXED);
	free_chain(sq, *id);
	return 1;
}

struct vring_desc *sim_desc(struct virtio_sim *sim, unsigned q, uint16_t i)
{
	struct sim_queue *sq = &sim->q[q];
	return i < sq->size ? &sq->desc[i] : NULL;
}

struct sim_resetter {
	struct virtio_sim *sim;
	bool done;
};

static void *reset_thread(void *opaque)
{
	struct sim_resetter *r = opaque;
	sim_set_status(r->sim, 0);
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
	return NULL;
}

bool sim_reset_from_vcpu(struct virtio_sim *sim, int timeout_ms)
{
	struct sim_resetter *r = malloc(sizeof(*r));
	pthread_t t;
	if (!r)
		return false;
	*r = (struct sim_resetter){ sim, false };
	if (pthread_create(&t, NULL, reset_thread, r)) {
		free(r);
		return false;
	}
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		io_loop_run_once(sim->loop, false);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 +
			    (now.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return false; /* r stays with the blocked thread */
		sched_yield();
	}
	pthread_join(t, NULL);
	free(r);
	return true;
}
