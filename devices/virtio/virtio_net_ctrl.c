// SPDX-License-Identifier: Apache-2.0
/*
 * The control queue (offered with several queue pairs): the driver picks
 * how many pairs it uses (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET). Every other
 * command is answered VIRTIO_NET_ERR: the features that carry them are
 * not offered.
 */
#include "devices/virtio/virtio_net_internal.h"

#include <endian.h>

int net_set_active_pairs(struct virtio_net *net, unsigned pairs)
{
	if (pairs < 1 || pairs > net->nr_pairs)
		return -1;
	if (net->be.ops->set_queues(net->be.opaque, pairs))
		return -1;
	net->active_pairs = pairs;
	for (unsigned p = 0; p < pairs; p++) {
		net->rxq[p].stalled = false;
		net_rx_fill(&net->rxq[p]);
	}
	return 0;
}

static uint8_t run_command(struct virtio_net *net, const struct vq_chain *c)
{
	struct virtio_net_ctrl_hdr h;
	uint16_t pairs;
	if (iov_to_buf(c->iov, c->nr_out, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_NET_ERR;
	if (h.class == VIRTIO_NET_CTRL_MQ && h.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
	    c->out_len == sizeof(h) + sizeof(pairs) &&
	    iov_to_buf(c->iov, c->nr_out, sizeof(h), &pairs, sizeof(pairs)) == sizeof(pairs) &&
	    net_set_active_pairs(net, le16toh(pairs)) == 0)
		return VIRTIO_NET_OK;
	return VIRTIO_NET_ERR;
}

void net_ctrl_drain(struct virtio_net *net)
{
	unsigned qi = 2 * net->nr_pairs;
	struct virtqueue *vq = &net->vqs[qi];
	struct vq_chain *c = &net->ctrl_chain;
	for (;;) {
		int r = vq_pop(vq, net->mem, c);
		if (r == 0)
			break;
		if (r < 0) {
			virtio_dev_fail(&net->dev, (int)qi, vq->error);
			return;
		}
		/* The answer is the last writable byte; without one there is
		 * nowhere to answer, and the command is not run. */
		uint32_t written = 0;
		if (c->in_len >= 1) {
			uint8_t ack = run_command(net, c);
			iov_from_buf(c->iov + c->nr_out, c->nr_in, c->in_len - 1, &ack, 1);
			written = 1;
		}
		vq_push(vq, c->head, written);
		net->dirty |= 1u << qi;
	}
	/* Commands are rare and answered at once: signal now, as no loop
	 * completion may come to carry the interrupt. */
	net->dirty &= ~(1u << qi);
	virtio_dev_signal_queue(&net->dev, qi);
}
