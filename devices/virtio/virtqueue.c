// SPDX-License-Identifier: Apache-2.0
#include "devices/virtio/virtqueue.h"

#include <string.h>

#include <linux/virtio_ring.h>

/* Guest-shared fields are read once into locals and checked there: the
 * guest may rewrite them between two reads. */
#define READ_SHARED(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static int vq_fail(struct virtqueue *vq, const char *why)
{
	if (!vq->error)
		vq->error = why;
	return -1;
}

void vq_reset(struct virtqueue *vq, uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->max_size = max_size;
	vq->size = max_size;
	vq->msix_vector = 0xffff; /* VIRTIO_MSI_NO_VECTOR */
}

static bool aligned(uint64_t v, uint64_t a) { return (v & (a - 1)) == 0; }

int vq_enable(struct virtqueue *vq, const struct guest_mem *mem)
{
	uint64_t n = vq->size;

	if (n == 0 || (n & (n - 1)) || n > vq->max_size)
		return vq_fail(vq, "queue size is not a power of two up to the maximum");
	if (!aligned(vq->desc_gpa, 16) || !aligned(vq->avail_gpa, 2) ||
	    !aligned(vq->used_gpa, 4))
		return vq_fail(vq, "ring address is misaligned");
	/* The avail ring ends with used_event and the used ring with
	 * avail_event: map them whether or not EVENT_IDX is negotiated. */
	vq->desc = guest_mem_ptr(mem, vq->desc_gpa, 16 * n);
	vq->avail = guest_mem_ptr(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = guest_mem_ptr(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return vq_fail(vq, "ring lies outside guest RAM");
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->published_used = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->error = NULL;
	vq->ready = true;
	return 0;
}

static uint16_t *avail_used_event(struct virtqueue *vq)
{
	return &vq->avail->ring[vq->size];
}

static uint16_t *used_avail_event(struct virtqueue *vq)
{
	return (uint16_t *)&vq->used->ring[vq->size];
}

static int add_buffer(struct virtqueue *vq, const struct guest_mem *mem,
		      struct vq_chain *c, const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;

	if (!writable && c->nr_in)
		return vq_fail(vq, "readable buffer after a writable one");
	if (d->len == 0)
		return 0;
	void *p = guest_mem_ptr(mem, d->addr, d->len);
	if (!p)
		return vq_fail(vq, "buffer lies outside guest RAM");
	if (c->nr_out + c->nr_in >= c->max_iov)
		return vq_fail(vq, "descriptor chain has more buffers than the device allows");
	uint32_t *total = writable ? &c->in_len : &c->out_len;
	if (d->len > UINT32_MAX - *total)
		return vq_fail(vq, "descriptor chain is longer than 4 GiB");
	*total += d->len;
	struct iovec *v = &c->iov[c->nr_out + c->nr_in];
	v->iov_base = p;
	v->iov_len = d->len;
	if (writable)
		c->nr_in++;
	else
		c->nr_out++;
	return 0;
}

int vq_pop(struct virtqueue *vq, const struct guest_mem *mem,
	   struct vq_chain *c)
{
	if (!vq->ready || vq->error)
		return vq->error ? -1 : 0;
	uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return vq_fail(vq, "available index moved by more than the queue size");

	uint16_t head = READ_SHARED(vq->avail->ring[vq->last_avail & (vq->size - 1)]);
	if (head >= vq->size)
		return vq_fail(vq, "available ring names a descriptor out of range");

	const struct vring_desc *table = vq->desc;
	uint32_t table_size = vq->size, idx = head, seen = 0;
	bool in_indirect = false;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct vring_desc d;
		/* Every descriptor of a table counts once: a chain longer
		 * than its table must revisit one, i.e. it loops. */
		if (seen++ >= table_size)
			return vq_fail(vq, "descriptor chain loops");
		memcpy(&d, &table[idx], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return vq_fail(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
			if (in_indirect)
				return vq_fail(vq, "indirect descriptor inside an indirect table");
			if (d.flags & VRING_DESC_F_NEXT)
				return vq_fail(vq, "indirect descriptor also has NEXT");
			if (d.len == 0 || d.len % sizeof(d) ||
			    d.len / sizeof(d) > VQ_MAX_SIZE)
				return vq_fail(vq, "indirect table has a bad length");
			table = guest_mem_ptr(mem, d.addr, d.len);
			if (!table)
				return vq_fail(vq, "indirect table lies outside guest RAM");
			table_size = d.len / sizeof(d);
			in_indirect = true;
			idx = 0;
			seen = 0;
			continue;
		}
		if (add_buffer(vq, mem, c, &d))
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
		if (idx >= table_size)
			return vq_fail(vq, "descriptor's next index is out of range");
	}
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtqueue *vq)
{
	vq->last_avail--;
}

static void put_used(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx & (vq->size - 1)];

	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
}

void vq_publish_used(struct virtqueue *vq)
{
	if (vq->published_used == vq->used_idx)
		return;
	vq->published_used = vq->used_idx;
	/* Release: the elements are visible before the index that covers
	 * them. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	put_used(vq, head, len);
	vq_publish_used(vq);
}

void vq_push_batch(struct virtqueue *vq, uint16_t head, uint32_t len,
		   uint16_t batch)
{
	put_used(vq, head, len);
	if ((uint16_t)(vq->used_idx - vq->published_used) >= batch)
		vq_publish_used(vq);
}

bool vq_should_notify(struct virtqueue *vq)
{
	/* An interrupt is for entries the driver can see. */
	vq_publish_used(vq);
	/* Our used->idx store must be visible before we read the driver's
	 * suppression state, or both sides could decide to sleep. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(READ_SHARED(vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);

	uint16_t event = READ_SHARED(*avail_used_event(vq));
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool valid = vq->signalled_valid;

	vq->signalled_used = now;
	vq->signalled_valid = true;
	/* "Used Buffer Notification Suppression": notify when used->idx
	 * passed used_event (the window old..now crossed it). */
	return !valid || (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool vq_set_notify(struct virtqueue *vq, bool enable)
{
	if (!vq->ready || vq->error)
		return false;
	if (vq->event_idx) {
		/* A stale avail_event already behind avail->idx suppresses
		 * notifications, so disabling needs no write. */
		if (!enable)
			return false;
		__atomic_store_n(used_avail_event(vq), vq->last_avail, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&vq->used->flags, enable ? 0 : VRING_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
		if (!enable)
			return false;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Copies between n bytes at `off` into an iovec array and buf. */
static size_t iov_copy(const struct iovec *iov, unsigned nr, size_t off,
		       uint8_t *buf, size_t n, bool to_iov)
{
	size_t done = 0;
	for (unsigned i = 0; i < nr && done < n; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > n - done)
			k = n - done;
		uint8_t *p = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(p, buf + done, k);
		else
			memcpy(buf + done, p, k);
		done += k;
		off = 0;
	}
	return done;
}

bool vq_notify_after(struct virtqueue *vq, uint16_t n)
{
	if (!vq->ready || vq->error || !vq->event_idx || n == 0)
		return false;
	/* The driver notifies when it publishes the entry at avail_event. */
	__atomic_store_n(used_avail_event(vq), (uint16_t)(vq->last_avail + n - 1),
			 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t avail = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	return (uint16_t)(avail - vq->last_avail) >= n;
}

bool vq_notify_next(struct virtqueue *vq)
{
	if (!vq->ready || vq->error)
		return false;
	uint16_t avail = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if (vq->event_idx)
		__atomic_store_n(used_avail_event(vq), avail, __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != avail;
}

void vq_notify_off(struct virtqueue *vq)
{
	if (!vq->ready || vq->error)
		return;
	if (vq->event_idx)
		__atomic_store_n(used_avail_event(vq), (uint16_t)(vq->last_avail - 1),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used->flags, VRING_USED_F_NO_NOTIFY,
				 __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool vq_has_avail(const struct virtqueue *vq)
{
	return vq->ready && !vq->error &&
	       __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

size_t iov_to_buf(const struct iovec *iov, unsigned nr, size_t off,
		  void *buf, size_t n)
{
	return iov_copy(iov, nr, off, buf, n, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned nr, size_t off,
		    const void *buf, size_t n)
{
	/* Only read through buf: iov_copy writes to the iovecs. */
	return iov_copy(iov, nr, off, (uint8_t *)buf, n, true);
}
