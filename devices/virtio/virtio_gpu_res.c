// SPDX-License-Identifier: Apache-2.0
/*
 * Resources and contexts (GPU thread): the tables that find them by the
 * guest's ids, the host memory they are charged, their backing pages,
 * and freeing them one by one or all at once.
 *
 * The guest picks the ids and the sizes, so both are bounded before
 * anything is allocated: GPU_MAX_RESOURCES, GPU_MAX_CONTEXTS, and
 * max_host_mem for the bytes (pixels, textures, backing tables and a
 * fixed amount per object).
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>


/* ---- tables: chained hashing, grown to keep chains short ---- */

static unsigned bucket_of(unsigned nr_buckets, uint32_t id)
{
	return (id * 2654435761u) & (nr_buckets - 1);
}

struct gpu_node *gpu_table_find(const struct gpu_table *t, uint32_t id)
{
	if (!t->nr_buckets)
		return NULL;
	for (struct gpu_node *n = t->buckets[bucket_of(t->nr_buckets, id)]; n;
	     n = n->next)
		if (n->id == id)
			return n;
	return NULL;
}

static int grow(struct gpu_table *t)
{
	unsigned nr = t->nr_buckets ? t->nr_buckets * 2 : 64;
	struct gpu_node **b = calloc(nr, sizeof(*b));
	if (!b)
		return -1;
	for (unsigned i = 0; i < t->nr_buckets; i++)
		while (t->buckets[i]) {
			struct gpu_node *n = t->buckets[i];
			t->buckets[i] = n->next;
			n->next = b[bucket_of(nr, n->id)];
			b[bucket_of(nr, n->id)] = n;
		}
	free(t->buckets);
	t->buckets = b;
	t->nr_buckets = nr;
	return 0;
}

int gpu_table_insert(struct gpu_table *t, struct gpu_node *n)
{
	if (t->count >= 2 * t->nr_buckets && grow(t))
		return -1;
	struct gpu_node **head = &t->buckets[bucket_of(t->nr_buckets, n->id)];
	n->next = *head;
	*head = n;
	t->count++;
	return 0;
}

void gpu_table_remove(struct gpu_table *t, struct gpu_node *n)
{
	struct gpu_node **p = &t->buckets[bucket_of(t->nr_buckets, n->id)];
	while (*p && *p != n)
		p = &(*p)->next;
	if (*p) {
		*p = n->next;
		t->count--;
	}
}

/* Empties the table, handing every entry to fn (which must not use it). */
static void table_drain(struct gpu_table *t,
			void (*fn)(struct virtio_gpu *, struct gpu_node *),
			struct virtio_gpu *gpu)
{
	for (unsigned i = 0; i < t->nr_buckets; i++)
		while (t->buckets[i]) {
			struct gpu_node *n = t->buckets[i];
			t->buckets[i] = n->next;
			t->count--;
			fn(gpu, n);
		}
}

void gpu_table_free(struct gpu_table *t)
{
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

/* ---- the host memory cap ---- */

bool gpu_charge(struct virtio_gpu *gpu, uint64_t bytes)
{
	if (bytes > gpu->max_host_mem - gpu->host_mem)
		return false;
	__atomic_store_n(&gpu->host_mem, gpu->host_mem + bytes,
			 __ATOMIC_RELAXED);
	return true;
}

void gpu_uncharge(struct virtio_gpu *gpu, uint64_t bytes)
{
	__atomic_store_n(&gpu->host_mem, gpu->host_mem - bytes,
			 __ATOMIC_RELAXED);
}

/* ---- resources and contexts ---- */

struct gpu_resource *gpu_resource_find(struct virtio_gpu *gpu, uint32_t id)
{
	return (struct gpu_resource *)gpu_table_find(&gpu->resources, id);
}

struct gpu_context *gpu_context_find(struct virtio_gpu *gpu, uint32_t id)
{
	return (struct gpu_context *)gpu_table_find(&gpu->contexts, id);
}

struct gpu_resource *gpu_resource_new(struct virtio_gpu *gpu, uint32_t id,
				      uint64_t charge, uint32_t *resp)
{
	struct gpu_resource *res = NULL;

	*resp = VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (id == 0 || gpu_resource_find(gpu, id))
		return NULL;
	*resp = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	charge += GPU_OBJECT_CHARGE;
	if (gpu->resources.count >= GPU_MAX_RESOURCES ||
	    !gpu_charge(gpu, charge))
		return NULL;
	res = calloc(1, sizeof(*res));
	if (res) {
		res->node.id = id;
		res->charge = charge;
		if (!gpu_table_insert(&gpu->resources, &res->node))
			return res;
	}
	free(res);
	gpu_uncharge(gpu, charge);
	return NULL;
}

/* in_virgl: virglrenderer holds the array and must let go of it first. */
static void free_backing(struct virtio_gpu *gpu, struct gpu_resource *res,
			 bool in_virgl)
{
	if (in_virgl)
		gpu_virgl_detach(res->node.id);
	gpu_uncharge(gpu, res->backing_charge);
	free(res->backing);
	res->backing = NULL;
	res->backing_charge = 0;
	res->nr_backing = 0;
	res->backing_len = 0;
}

/* Frees a resource already out of the table. */
static void free_resource(struct virtio_gpu *gpu, struct gpu_node *n)
{
	struct gpu_resource *res = (struct gpu_resource *)n;

	for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		if (gpu->scanouts[i].resource_id == n->id)
			gpu_scanout_off(gpu, i, res);
	if (res->backing)
		free_backing(gpu, res, res->virgl);
	if (res->virgl)
		gpu_virgl_unref(n->id);
	gpu_uncharge(gpu, res->charge);
	free(res->pixels);
	free(res);
}

void gpu_resource_destroy(struct virtio_gpu *gpu, struct gpu_resource *res)
{
	gpu_table_remove(&gpu->resources, &res->node);
	free_resource(gpu, &res->node);
}

static void free_context(struct virtio_gpu *gpu, struct gpu_node *n)
{
	gpu_virgl_ctx_destroy(n->id);
	gpu_uncharge(gpu, GPU_CONTEXT_CHARGE);
	free(n);
}

void gpu_context_destroy(struct virtio_gpu *gpu, struct gpu_context *ctx)
{
	gpu_table_remove(&gpu->contexts, &ctx->node);
	free_context(gpu, &ctx->node);
}

/* Contexts first: destroying one lets go of the resources it holds. */
void gpu_destroy_all(struct virtio_gpu *gpu)
{
	table_drain(&gpu->contexts, free_context, gpu);
	table_drain(&gpu->resources, free_resource, gpu);
	gpu_table_free(&gpu->contexts);
	gpu_table_free(&gpu->resources);
	/* Every scanout is dark now (free_resource kept what each showed);
	 * the counters start again. */
	for (unsigned i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++)
		gpu->scanouts[i] = (struct gpu_scanout){.last = gpu->scanouts[i].last};
	memset(&gpu->cursor, 0, sizeof(gpu->cursor));
}

/* ---- backing pages ---- */

/* Turns the guest's entries into host iovecs: each must lie wholly in
 * guest RAM; empty ones are dropped. */
static uint32_t map_entries(struct virtio_gpu *gpu,
			    const struct virtio_gpu_mem_entry *e, unsigned nr,
			    struct gpu_resource *res)
{
	for (unsigned i = 0; i < nr; i++) {
		uint64_t addr = le64toh(e[i].addr);
		uint32_t len = le32toh(e[i].length);
		if (len == 0)
			continue;
		void *p = guest_mem_ptr(gpu->mem, addr, len);
		if (!p)
			return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
		res->backing[res->nr_backing++] =
			(struct iovec){.iov_base = p, .iov_len = len};
		res->backing_len += len;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
}

uint32_t gpu_backing_attach(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
			    struct gpu_resource *res)
{
	uint32_t nr = le32toh(cmd->req.attach.nr_entries);
	const size_t at = sizeof(cmd->req.attach);
	const size_t bytes = (size_t)nr * sizeof(struct virtio_gpu_mem_entry);

	if (res->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC; /* detach first */
	if (nr == 0 || nr > GPU_MAX_BACKING_ENTRIES)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (cmd->chain.out_len < at + bytes)
		return VIRTIO_GPU_RESP_ERR_UNSPEC; /* entries missing */
	if (!gpu_charge(gpu, nr * sizeof(struct iovec)))
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	res->backing_charge = nr * sizeof(struct iovec);
	/* One copy of all entries: the guest may rewrite them meanwhile. */
	struct virtio_gpu_mem_entry *e = malloc(bytes);
	res->backing = calloc(nr, sizeof(struct iovec));
	uint32_t r = VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	if (e && res->backing) {
		iov_to_buf(cmd->chain.iov, cmd->chain.nr_out, at, e, bytes);
		r = map_entries(gpu, e, nr, res);
	}
	free(e);
	/* virglrenderer keeps the array until it is detached. */
	if (r == VIRTIO_GPU_RESP_OK_NODATA && res->virgl &&
	    gpu_virgl_attach(res->node.id, res->backing, res->nr_backing))
		r = VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (r != VIRTIO_GPU_RESP_OK_NODATA)
		free_backing(gpu, res, false);
	return r;
}

void gpu_backing_detach(struct virtio_gpu *gpu, struct gpu_resource *res)
{
	free_backing(gpu, res, res->virgl);
}

bool gpu_backing_read(const struct gpu_resource *res,
		      struct gpu_backing_cursor *c, uint64_t off, void *dst,
		      size_t n)
{
	const struct iovec *v = res->backing;

	if (off > res->backing_len || n > res->backing_len - off)
		return false;
	if (off < c->base)
		*c = (struct gpu_backing_cursor){0, 0};
	while (c->i < res->nr_backing && off - c->base >= v[c->i].iov_len)
		c->base += v[c->i++].iov_len;
	uint64_t in = off - c->base;
	size_t done = 0;
	for (unsigned i = c->i; done < n && i < res->nr_backing; i++, in = 0) {
		size_t k = v[i].iov_len - in;
		if (k > n - done)
			k = n - done;
		memcpy((uint8_t *)dst + done, (uint8_t *)v[i].iov_base + in, k);
		done += k;
	}
	return done == n;
}
