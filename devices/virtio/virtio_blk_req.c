// SPDX-License-Identifier: Apache-2.0
/*
 * One virtio-blk request: parse the chain (the header and the status
 * byte may be split across buffers in any way: "Message Framing"), check
 * it, turn it into an io_uring operation, and complete it. Runs on the
 * loop thread with dev.lock held.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_blk_internal.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <liburing.h>
#include <linux/falloc.h>

/* Discard and write zeroes try fallocate modes in turn: the file
 * system or device may lack the first choice. */
enum blk_fa_step {
	FA_PUNCH,	/* deallocate; reads return zeroes */
	FA_ZERO,	/* zero, keeping the space allocated */
	FA_PUNCH_ALLOC, /* no ZERO_RANGE (tmpfs): punch, then ... */
	FA_ALLOC,	/* ... allocate the range again */
};

/* start()'s answer for a request now in the kernel's hands. */
#define SUBMITTED 0xff

static const int fa_mode[] = {
	[FA_PUNCH] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[FA_ZERO] = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
	[FA_PUNCH_ALLOC] = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	[FA_ALLOC] = FALLOC_FL_KEEP_SIZE,
};

static enum disk_req_kind req_kind(uint32_t type)
{
	switch (type) {
	case VIRTIO_BLK_T_IN:
		return DISK_REQ_READ;
	case VIRTIO_BLK_T_OUT:
		return DISK_REQ_WRITE;
	case VIRTIO_BLK_T_FLUSH:
		return DISK_REQ_FLUSH;
	case VIRTIO_BLK_T_DISCARD:
		return DISK_REQ_DISCARD;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return DISK_REQ_WRITE_ZEROES;
	case VIRTIO_BLK_T_GET_ID:
		return DISK_REQ_GET_ID;
	default:
		return DISK_REQ_UNSUPPORTED;
	}
}

static void req_complete(struct blk_req *req, uint8_t status)
{
	struct blk_queue *bq = req->bq;
	struct virtio_blk *blk = bq->blk;
	struct virtqueue *vq = &blk->vqs[bq->index];

	/* Written before vq_push()'s release store makes it visible. */
	*req->status = status;
	/* The used length counts the bytes written, never more ("The
	 * Virtqueue Used Ring"): the data of a good read or GET_ID, and
	 * the status. */
	bool data =
		status == VIRTIO_BLK_S_OK && (req->type == VIRTIO_BLK_T_IN ||
					      req->type == VIRTIO_BLK_T_GET_ID);
	uint32_t used = 1 + (data ? (uint32_t)req->done : 0);
	/* After a reset began or the device failed, the ring is the
	 * driver's to throw away: nothing more goes onto it. */
	if (!blk->quiescing && virtio_dev_running(&blk->dev) && vq->ready) {
		vq_push(vq, req->chain.head, used);
		blk->dirty |= 1ull << bq->index;
	}
	enum disk_req_kind kind = status == VIRTIO_BLK_S_UNSUPP
					  ? DISK_REQ_UNSUPPORTED
					  : req_kind(req->type);
	disk_image_account(blk->img, kind, req->done,
			   status == VIRTIO_BLK_S_IOERR);
	req->busy = false;
	bq->inflight--;
	if (--blk->inflight == 0)
		pthread_cond_broadcast(&blk->dev.cond);
}

static struct io_uring_sqe *req_sqe(struct blk_req *req)
{
	return io_loop_sqe(req->bq->blk->loop, &req->op);
}

static void submit_rw(struct blk_req *req)
{
	struct io_uring_sqe *sqe = req_sqe(req);
	if (!sqe) {
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	int fd = req->bq->blk->img->fd;
	if (req->type == VIRTIO_BLK_T_IN)
		io_uring_prep_readv(sqe, fd, req->data, req->nr_data,
				    req->offset);
	else
		io_uring_prep_writev(sqe, fd, req->data, req->nr_data,
				     req->offset);
	io_uring_sqe_set_data(sqe, &req->op);
}

static void submit_fallocate(struct blk_req *req)
{
	struct io_uring_sqe *sqe = req_sqe(req);
	if (!sqe) {
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	io_uring_prep_fallocate(sqe, req->bq->blk->img->fd, fa_mode[req->step],
				(off_t)req->offset, (off_t)req->len);
	io_uring_sqe_set_data(sqe, &req->op);
}

static void submit_flush(struct blk_req *req)
{
	struct io_uring_sqe *sqe = req_sqe(req);
	if (!sqe) {
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* Raw images never change size: data and what is needed to reach
	 * it is all that must be stable. */
	io_uring_prep_fsync(sqe, req->bq->blk->img->fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data(sqe, &req->op);
}

/* Drops the first n bytes of the payload iovecs (after a short I/O). */
static void data_advance(struct blk_req *req, size_t n)
{
	while (n && req->nr_data) {
		if (n < req->data->iov_len) {
			req->data->iov_base =
				(uint8_t *)req->data->iov_base + n;
			req->data->iov_len -= n;
			return;
		}
		n -= req->data->iov_len;
		req->data++;
		req->nr_data--;
	}
}

static void rw_done(struct blk_req *req, int res)
{
	if (res <= 0) {
		/* 0: the image ended early (truncated behind our back). */
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	req->done += (unsigned)res;
	req->offset += (unsigned)res;
	req->len -= (unsigned)res;
	if (req->len == 0) {
		req_complete(req, VIRTIO_BLK_S_OK);
		return;
	}
	/* Short transfers happen (a signal, a huge request, a full file
	 * system part-way): go on from where the kernel stopped. A real
	 * error shows up on the retry. A reset in progress wants the
	 * request over with instead. */
	if (req->bq->blk->quiescing) {
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	data_advance(req, (unsigned)res);
	submit_rw(req);
}

static void fallocate_done(struct blk_req *req, int res)
{
	struct disk_image *img = req->bq->blk->img;
	bool unsupported = res == -EOPNOTSUPP;

	if (req->step == FA_ALLOC ||
	    (res == 0 && req->step != FA_PUNCH_ALLOC)) {
		/* The reallocation is only a space reservation: the range
		 * already reads as zeroes, whatever it returned. */
		req_complete(req, VIRTIO_BLK_S_OK);
		return;
	}
	if (res == 0) {
		req->step = FA_ALLOC;
	} else if (unsupported && req->type == VIRTIO_BLK_T_DISCARD) {
		/* Discarding is a hint (the spec: "the device MAY
		 * deallocate"): doing nothing is a valid answer. */
		req_complete(req, VIRTIO_BLK_S_OK);
		return;
	} else if (unsupported && req->step == FA_PUNCH) {
		req->step = FA_ZERO;
	} else if (unsupported && req->step == FA_ZERO) {
		__atomic_store_n(&img->no_zero_range, true, __ATOMIC_RELAXED);
		req->step = FA_PUNCH_ALLOC;
	} else {
		req_complete(req, VIRTIO_BLK_S_IOERR);
		return;
	}
	submit_fallocate(req);
}

static void req_done(struct io_op *op, int res)
{
	struct blk_req *req =
		(struct blk_req *)((char *)op - offsetof(struct blk_req, op));
	struct virtio_blk *blk = req->bq->blk;

	pthread_mutex_lock(&blk->dev.lock);
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		rw_done(req, res);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		fallocate_done(req, res);
		break;
	default:
		req_complete(req,
			     res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		break;
	}
	pthread_mutex_unlock(&blk->dev.lock);
}

/* Whether [sector, sector + n) lies on the disk, without overflowing. */
static bool range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t n)
{
	return sector <= blk->capacity && n <= blk->capacity - sector;
}

static uint8_t start_rw(struct blk_req *req, uint64_t sector)
{
	struct virtio_blk *blk = req->bq->blk;

	if (req->type == VIRTIO_BLK_T_OUT && blk->img->readonly)
		return VIRTIO_BLK_S_IOERR; /* the spec: and write nothing */
	if (req->len % BLK_SECTOR ||
	    !range_ok(blk, sector, req->len / BLK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (req->len == 0)
		return VIRTIO_BLK_S_OK;
	req->offset = sector * BLK_SECTOR;
	submit_rw(req);
	return SUBMITTED;
}

/* Discard and write zeroes: one segment (max_*_seg = 1). */
static uint8_t start_zero(struct blk_req *req)
{
	struct virtio_blk *blk = req->bq->blk;
	struct virtio_blk_discard_write_zeroes seg;
	bool discard = req->type == VIRTIO_BLK_T_DISCARD;

	if (blk->img->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (!(discard ? blk->img->can_discard : blk->img->can_write_zeroes) ||
	    req->len != sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	iov_to_buf(req->data, req->nr_data, 0, &seg, sizeof(seg));
	uint64_t sector = le64toh(seg.sector);
	uint32_t n = le32toh(seg.num_sectors), flags = le32toh(seg.flags);
	bool unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	/* The spec: unknown flags, or unmap on a discard, are UNSUPP. */
	if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) || (discard && unmap))
		return VIRTIO_BLK_S_UNSUPP;
	if (n > BLK_MAX_ZERO_SECTORS || !range_ok(blk, sector, n))
		return VIRTIO_BLK_S_IOERR;
	if (n == 0)
		return VIRTIO_BLK_S_OK;
	req->offset = sector * BLK_SECTOR;
	req->len = (uint64_t)n * BLK_SECTOR;
	if (discard || unmap)
		req->step = FA_PUNCH;
	else if (__atomic_load_n(&blk->img->no_zero_range, __ATOMIC_RELAXED))
		req->step = FA_PUNCH_ALLOC;
	else
		req->step = FA_ZERO;
	submit_fallocate(req);
	return SUBMITTED;
}

static uint8_t start_get_id(struct blk_req *req)
{
	size_t n =
		req->len < VIRTIO_BLK_ID_BYTES ? req->len : VIRTIO_BLK_ID_BYTES;
	req->done =
		iov_from_buf(req->data, req->nr_data, 0, req->bq->blk->id, n);
	return VIRTIO_BLK_S_OK;
}

/* Points req->data at the payload: the writable buffers but the status
 * byte for requests that return data, else the readable buffers after
 * the header. */
static void find_payload(struct blk_req *req, bool to_driver)
{
	struct vq_chain *c = &req->chain;
	if (to_driver) {
		req->data = c->iov + c->nr_out;
		req->nr_data = c->nr_in;
		req->len = c->in_len - 1;
		struct iovec *last = &req->data[req->nr_data - 1];
		if (--last->iov_len == 0)
			req->nr_data--;
		return;
	}
	req->data = c->iov;
	req->nr_data = c->nr_out;
	req->len = c->out_len - sizeof(struct virtio_blk_outhdr);
	data_advance(req, sizeof(struct virtio_blk_outhdr));
}

/* Returns the status of a request finished at once, or SUBMITTED. */
static uint8_t start(struct blk_req *req, uint64_t sector)
{
	switch (req->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return start_rw(req, sector);
	case VIRTIO_BLK_T_FLUSH:
		submit_flush(req);
		return SUBMITTED;
	case VIRTIO_BLK_T_GET_ID:
		return start_get_id(req);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return start_zero(req);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

void blk_req_start(struct blk_queue *bq)
{
	struct virtio_blk *blk = bq->blk;
	struct blk_req *req = &bq->reqs[bq->scratch.head];
	struct virtio_blk_outhdr hdr;

	if (req->busy) {
		virtio_dev_fail(&blk->dev, (int)bq->index,
				"driver made a request available again while "
				"it was in flight");
		return;
	}
	/* Take the chain by swapping iovec arrays: no copy. */
	struct iovec *spare = req->chain.iov;
	req->chain = bq->scratch;
	bq->scratch.iov = spare;

	struct vq_chain *c = &req->chain;
	if (iov_to_buf(c->iov, c->nr_out, 0, &hdr, sizeof(hdr)) !=
	    sizeof(hdr)) {
		virtio_dev_fail(&blk->dev, (int)bq->index,
				"request without a 16-byte header");
		return;
	}
	if (c->in_len == 0) {
		virtio_dev_fail(&blk->dev, (int)bq->index,
				"request without a status byte");
		return;
	}
	struct iovec *last = &c->iov[c->nr_out + c->nr_in - 1];
	req->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	req->type = le32toh(hdr.type);
	req->done = 0;
	req->op.done = req_done;
	req->busy = true;
	blk->inflight++;
	bq->inflight++;
	find_payload(req, req->type == VIRTIO_BLK_T_IN ||
				  req->type == VIRTIO_BLK_T_GET_ID);
	uint8_t status = start(req, le64toh(hdr.sector));
	if (status != SUBMITTED)
		req_complete(req, status);
}
