// SPDX-License-Identifier: Apache-2.0
/*
 * Receive interrupt moderation while the guest streams out. A guest
 * sending a TCP stream gets one ACK back for every frame or two it sends;
 * the device reads each ACK as soon as the tap has it, and an interrupt
 * each cost the guest (and, nested, its host's KVM) more than the ACK
 * itself: in the rig the guest took ~13k receive interrupts per GB sent
 * against QEMU's ~1.6k for the same ~15k ACKs (tools/bench/net-exits-l1.sh).
 *
 * So while the queue pair's transmit side has moved at least
 * NET_RX_HOLD_TX_BYTES since the last receive interrupt, that interrupt is
 * held until NET_RX_HOLD_FRAMES frames wait or net->rx_hold_us passed
 * (NET_RX_HOLD_US unless a test changed it). The frames are in the used
 * ring meanwhile, so a guest already polling takes them at once. A guest
 * that sends little (ping, request/response with small requests, the ACKs
 * of a stream it receives) is signalled at once as before: no latency is
 * added where it would show.
 */
#include "devices/virtio/virtio_net_internal.h"

static void signal_rx(struct virtio_net *net, unsigned pair)
{
	irq_hold_end(&net->rxq[pair].hold, net->loop);
	net->txq[pair].sent_since_rx = 0;
	virtio_dev_signal_queue(&net->dev, net_rx_vq(pair));
}

static bool hold_signal(struct virtio_net *net, unsigned pair)
{
	struct irq_hold *h = &net->rxq[pair].hold;
	if (net->rx_hold_us == 0 || net->stopping ||
	    net->txq[pair].sent_since_rx < NET_RX_HOLD_TX_BYTES ||
	    h->count >= NET_RX_HOLD_FRAMES)
		return false;
	int r = irq_hold_start(h, net->loop, net->rx_hold_us);
	if (r > 0)
		net->inflight++;
	return r >= 0;
}

void net_rx_signal(struct virtio_net *net, unsigned pair)
{
	if (!hold_signal(net, pair))
		signal_rx(net, pair);
}

void net_rx_hold_done(struct io_op *op, int res)
{
	struct net_rxq *q = ((struct irq_hold *)op)->owner;
	struct virtio_net *net = q->net;
	(void)res; /* -ETIME, or -ECANCELED by a reset, a stop or signal_rx */
	pthread_mutex_lock(&net->dev.lock);
	q->hold.armed = false;
	net->inflight--;
	if (net->quiescing || !virtio_dev_running(&net->dev))
		pthread_cond_broadcast(&net->dev.cond);
	else if (q->hold.held)
		signal_rx(net, q->pair);
	pthread_mutex_unlock(&net->dev.lock);
}
