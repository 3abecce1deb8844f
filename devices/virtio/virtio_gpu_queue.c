// SPDX-License-Identifier: Apache-2.0
/*
 * Serving the queues (GPU thread): take a chain, copy its request out of
 * guest memory, check its size and whether its command was negotiated,
 * run it, write the response, and return the chain to the driver — at
 * once, or, for a fenced command in 3D mode, when virglrenderer retires
 * the fence made after it (in order: the FIFO holds them oldest first).
 *
 * Each fenced SUBMIT_3D is timed from taking it off the queue to
 * returning it after its fence: that is when the guest's fence signals.
 * The FIFO entry carries the time, so the device's own fence numbers
 * (never the guest's fence ids, which the guest chooses freely) pair the
 * two ends, and the FIFO's bound (a queue's worth) bounds the timing too.
 *
 * Errors a driver may make in a command get a VIRTIO_GPU_RESP_ERR_*
 * answer; a chain with no room for a response is a broken driver and the
 * device needs a reset, as for a malformed ring.
 */
#define _GNU_SOURCE
#include "devices/virtio/virtio_gpu_internal.h"

#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"

#define HDR_SIZE sizeof(struct virtio_gpu_ctrl_hdr)

/* Lock held: a fenced SUBMIT_3D taken at submit_ns is answered now. */
static void count_fence(struct virtio_gpu *gpu, uint64_t submit_ns)
{
	if (submit_ns)
		latency_hist_add(&gpu->stats.fence_latency,
				 phy_monotonic_ns() - submit_ns);
}

void gpu_log(struct virtio_gpu *gpu, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&gpu->dev.lock);
	if (gpu->dev.log)
		gpu->dev.log(gpu->dev.log_opaque, msg);
	pthread_mutex_unlock(&gpu->dev.lock);
}

struct cmd_desc {
	uint32_t type;
	uint32_t size; /* the request, header included */
	uint32_t (*fn)(struct virtio_gpu *gpu, struct gpu_cmd *cmd);
	uint64_t feature; /* needs this feature bit negotiated, or 0 */
};

#define CMD(t, s, f, feat)                                                     \
	{                                                                      \
		VIRTIO_GPU_CMD_##t, sizeof(struct s), f, feat                  \
	}
#define CMD2D(t, s, f) CMD(t, virtio_gpu_##s, gpu_cmd_##f, 0)
#define CMD3D(t, s, f)                                                         \
	CMD(t, virtio_gpu_##s, gpu_cmd_##f, 1ull << VIRTIO_GPU_F_VIRGL)

static const struct cmd_desc control_cmds[] = {
	CMD2D(GET_DISPLAY_INFO, ctrl_hdr, display_info),
	CMD2D(RESOURCE_CREATE_2D, resource_create_2d, create_2d),
	CMD2D(RESOURCE_UNREF, resource_unref, unref),
	CMD2D(SET_SCANOUT, set_scanout, set_scanout),
	CMD2D(RESOURCE_FLUSH, resource_flush, flush),
	CMD2D(TRANSFER_TO_HOST_2D, transfer_to_host_2d, transfer_2d),
	CMD2D(RESOURCE_ATTACH_BACKING, resource_attach_backing, attach_backing),
	CMD2D(RESOURCE_DETACH_BACKING, resource_detach_backing, detach_backing),
	CMD(GET_EDID, virtio_gpu_cmd_get_edid, gpu_cmd_edid,
	    1ull << VIRTIO_GPU_F_EDID),
	CMD3D(GET_CAPSET_INFO, get_capset_info, capset_info),
	CMD3D(GET_CAPSET, get_capset, capset),
	CMD3D(CTX_CREATE, ctx_create, ctx_create),
	CMD3D(CTX_DESTROY, ctx_destroy, ctx_destroy),
	CMD3D(CTX_ATTACH_RESOURCE, ctx_resource, ctx_attach),
	CMD3D(CTX_DETACH_RESOURCE, ctx_resource, ctx_detach),
	CMD3D(RESOURCE_CREATE_3D, resource_create_3d, create_3d),
	CMD3D(TRANSFER_TO_HOST_3D, transfer_host_3d, transfer_to_3d),
	CMD3D(TRANSFER_FROM_HOST_3D, transfer_host_3d, transfer_from_3d),
	CMD3D(SUBMIT_3D, cmd_submit, submit_3d),
};

static const struct cmd_desc cursor_cmds[] = {
	CMD2D(UPDATE_CURSOR, update_cursor, cursor),
	CMD2D(MOVE_CURSOR, update_cursor, cursor),
};

static const struct cmd_desc *find_cmd(unsigned q, uint32_t type)
{
	const struct cmd_desc *t =
		q == GPU_CONTROLQ ? control_cmds : cursor_cmds;
	size_t n = q == GPU_CONTROLQ
			   ? sizeof(control_cmds) / sizeof(control_cmds[0])
			   : sizeof(cursor_cmds) / sizeof(cursor_cmds[0]);
	for (size_t i = 0; i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

/* Parses and runs the command; returns its VIRTIO_GPU_RESP_*. Unknown,
 * unnegotiated and short requests get ERR_UNSPEC: the specification
 * names no other code for them. */
static uint32_t run(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
		    uint64_t features)
{
	memset(&cmd->req, 0, sizeof(cmd->req));
	size_t got = iov_to_buf(cmd->chain.iov, cmd->chain.nr_out, 0, &cmd->req,
				sizeof(cmd->req));
	if (got < HDR_SIZE)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	cmd->type = le32toh(cmd->req.hdr.type);
	cmd->flags = le32toh(cmd->req.hdr.flags);
	cmd->fence_id = le64toh(cmd->req.hdr.fence_id);
	cmd->ctx_id = le32toh(cmd->req.hdr.ctx_id);
	const struct cmd_desc *d = find_cmd(cmd->q, cmd->type);
	if (!d || got < d->size || (d->feature && !(features & d->feature)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	return d->fn(gpu, cmd);
}

/* Writes the response into the chain's writable buffers; returns the
 * bytes written, or -1 when there is not even room for a header. */
static int64_t respond(struct virtio_gpu *gpu, struct gpu_cmd *cmd,
		       uint32_t type)
{
	struct virtio_gpu_ctrl_hdr *h = (struct virtio_gpu_ctrl_hdr *)cmd->resp;
	uint32_t len =
		type < VIRTIO_GPU_RESP_ERR_UNSPEC ? cmd->resp_len : HDR_SIZE;
	if (cmd->chain.in_len < HDR_SIZE)
		return -1;
	if (cmd->chain.in_len < len) {
		type = VIRTIO_GPU_RESP_ERR_UNSPEC; /* no room for the data */
		len = HDR_SIZE;
	}
	memset(h, 0, HDR_SIZE);
	h->type = htole32(type);
	if (cmd->flags & VIRTIO_GPU_FLAG_FENCE) {
		h->flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		h->fence_id = htole64(cmd->fence_id);
		h->ctx_id = htole32(cmd->ctx_id);
	}
	return (int64_t)iov_from_buf(cmd->chain.iov + cmd->chain.nr_out,
				     cmd->chain.nr_in, 0, cmd->resp, len);
}

/* In 3D mode a fenced command is answered once virglrenderer has done
 * everything queued before it: returns the fence's number, or 0 when the
 * answer may go at once. */
static uint32_t fence_after(struct virtio_gpu *gpu, const struct gpu_cmd *cmd)
{
	if (!gpu->virgl || cmd->q != GPU_CONTROLQ ||
	    !(cmd->flags & VIRTIO_GPU_FLAG_FENCE))
		return 0;
	uint32_t seq = ++gpu->fence_seq;
	if (seq == 0) /* 0 means "none" here */
		seq = ++gpu->fence_seq;
	if (gpu_virgl_fence(seq)) {
		gpu_log(gpu,
			"%s: virglrenderer cannot make a fence; "
			"answering without it",
			gpu->name);
		return 0;
	}
	return seq;
}

/* Lock held: returns the chain now, or queues it behind its fence.
 * submit_ns: when a fenced SUBMIT_3D was taken (timed), else 0. */
static void complete(struct virtio_gpu *gpu, struct gpu_cmd *cmd, int64_t len,
		     uint32_t seq, uint64_t submit_ns)
{
	struct virtqueue *vq = &gpu->vqs[cmd->q];

	if (len < 0 && cmd->q == GPU_CONTROLQ) {
		virtio_dev_fail(&gpu->dev, (int)cmd->q,
				"request without room for its response");
		return;
	}
	if (len < 0)
		len = 0; /* cursor commands need no answer */
	if (seq && (int32_t)(seq - gpu->retired_seq) > 0) {
		if (gpu->nr_fences == GPU_QUEUE_SIZE) {
			virtio_dev_fail(&gpu->dev, (int)cmd->q,
					"more fenced requests in flight than "
					"the queue holds");
			return;
		}
		unsigned i =
			(gpu->fence_first + gpu->nr_fences++) % GPU_QUEUE_SIZE;
		gpu->fences[i] = (struct gpu_fence){seq, cmd->chain.head,
						    (uint32_t)len, submit_ns};
		return;
	}
	if (seq) /* virglrenderer retired it already */
		count_fence(gpu, submit_ns);
	vq_push(vq, cmd->chain.head, (uint32_t)len);
	virtio_dev_signal_queue(&gpu->dev, cmd->q);
}

void gpu_retire_fences(struct virtio_gpu *gpu, uint32_t seq)
{
	bool pushed = false;

	pthread_mutex_lock(&gpu->dev.lock);
	if ((int32_t)(seq - gpu->retired_seq) > 0)
		gpu->retired_seq = seq;
	while (gpu->nr_fences &&
	       (int32_t)(gpu->fences[gpu->fence_first].seq - seq) <= 0) {
		struct gpu_fence f = gpu->fences[gpu->fence_first];
		gpu->fence_first = (gpu->fence_first + 1) % GPU_QUEUE_SIZE;
		gpu->nr_fences--;
		if (gpu_serving(gpu)) {
			count_fence(gpu, f.submit_ns);
			vq_push(&gpu->vqs[GPU_CONTROLQ], f.head, f.len);
			pushed = true;
		}
	}
	if (pushed)
		virtio_dev_signal_queue(&gpu->dev, GPU_CONTROLQ);
	pthread_mutex_unlock(&gpu->dev.lock);
}

/* Takes chains until the queue is empty, with notifications off
 * meanwhile; turning them back on tells whether more arrived. */
static void serve_queue(struct virtio_gpu *gpu, unsigned q)
{
	struct virtqueue *vq = &gpu->vqs[q];
	struct gpu_cmd cmd = {.q = q};

	cmd.chain.iov = gpu->chain_iov;
	cmd.chain.max_iov = GPU_MAX_IOV;
	pthread_mutex_lock(&gpu->dev.lock);
	/* Not before DRIVER_OK: the rings may be ready, and a NO_NOTIFY left
	 * in them would keep the driver from ever kicking. */
	if (gpu_serving(gpu))
		vq_set_notify(vq, false);
	while (gpu_serving(gpu)) {
		int r = vq_pop(vq, gpu->mem, &cmd.chain);
		if (r < 0) {
			virtio_dev_fail(&gpu->dev, (int)q, vq->error);
			break;
		}
		if (r == 0) {
			if (vq_set_notify(vq, true))
				continue;
			break;
		}
		uint64_t features = gpu->dev.driver_features;
		pthread_mutex_unlock(&gpu->dev.lock);
		cmd.taken_ns = phy_monotonic_ns();

		cmd.resp = gpu->resp;
		cmd.resp_len = HDR_SIZE;
		cmd.flags = 0;
		uint32_t type = run(gpu, &cmd, features);
		int64_t len = respond(gpu, &cmd, type);
		uint32_t seq = len >= 0 ? fence_after(gpu, &cmd) : 0;
		/* cmd.type is this command's only when it ran. */
		bool submitted = type == VIRTIO_GPU_RESP_OK_NODATA &&
				 cmd.type == VIRTIO_GPU_CMD_SUBMIT_3D;

		pthread_mutex_lock(&gpu->dev.lock);
		gpu->stats.submits += submitted;
		/* A reset meanwhile: the driver no longer wants the answer. */
		if (gpu_serving(gpu))
			complete(gpu, &cmd, len, seq,
				 submitted && seq ? cmd.taken_ns : 0);
	}
	pthread_mutex_unlock(&gpu->dev.lock);
}

void gpu_serve_queues(struct virtio_gpu *gpu)
{
	serve_queue(gpu, GPU_CONTROLQ);
	serve_queue(gpu, GPU_CURSORQ);
}
