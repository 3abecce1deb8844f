// SPDX-License-Identifier: Apache-2.0
/*
 * Interrupt moderation for the small frames that go against a stream. A
 * guest sending a TCP stream gets one ACK back for every frame or two it
 * sends; the device reads each ACK as soon as the tap has it, and an
 * interrupt each cost the guest (and, nested, its host's KVM) more than
 * the ACK itself: in the rig the guest took ~13k receive interrupts per GB
 * sent against QEMU's ~1.6k for the same ~15k ACKs
 * (tools/bench/net-exits-l1.sh). A guest receiving a stream sends the
 * ACKs, and each one's transmit completion raised an interrupt the same
 * way (Linux frees sent buffers on its next send anyway).
 *
 * So while the queue pair's transmit side has moved at least
 * NET_HOLD_STREAM_BYTES since the last receive interrupt, that interrupt
 * is held until NET_HOLD_FRAMES frames wait or net->hold_us passed
 * (NET_HOLD_US unless a test changed it); and the same for the transmit
 * interrupt while the receive side has moved that much and the transmit
 * side less. The used ring has the entries meanwhile, so a guest already
 * polling takes them at once. Traffic without a stream (ping,
 * request/response) is signalled at once as before: no latency is added
 * where it would show.
 */
#include "devices/virtio/virtio_net_internal.h"

static void signal_rx(struct virtio_net *net, unsigned pair)
{
	irq_hold_end(&net->rxq[pair].hold, net->loop);
	net->txq[pair].sent_since_rx = 0;
	virtio_dev_signal_queue(&net->dev, net_rx_vq(pair));
}

static void signal_tx(struct virtio_net *net, unsigned pair)
{
	irq_hold_end(&net->txq[pair].hold, net->loop);
	net->rxq[pair].received_since_tx = 0;
	net->txq[pair].sent_since_tx = 0;
	virtio_dev_signal_queue(&net->dev, net_tx_vq(pair));
}

static bool hold(struct virtio_net *net, struct irq_hold *h, bool stream)
{
	if (net->hold_us == 0 || net->stopping || !stream || h->count >= NET_HOLD_FRAMES)
		return false;
	int r = irq_hold_start(h, net->loop, net->hold_us);
	if (r > 0)
		net->inflight++;
	return r >= 0;
}

void net_signal(struct virtio_net *net, unsigned q)
{
	unsigned pair = q / 2;
	struct net_rxq *rx = &net->rxq[pair];
	struct net_txq *tx = &net->txq[pair];
	if (q == net_rx_vq(pair)) {
		if (!hold(net, &rx->hold, tx->sent_since_rx >= NET_HOLD_STREAM_BYTES))
			signal_rx(net, pair);
	} else if (!hold(net, &tx->hold, rx->received_since_tx >= NET_HOLD_STREAM_BYTES &&
					     tx->sent_since_tx < NET_HOLD_STREAM_BYTES)) {
		signal_tx(net, pair);
	}
}

static void hold_done(struct virtio_net *net, struct irq_hold *h,
		      void (*signal)(struct virtio_net *, unsigned), unsigned pair)
{
	pthread_mutex_lock(&net->dev.lock);
	h->armed = false;
	net->inflight--;
	if (net->quiescing || !virtio_dev_running(&net->dev))
		pthread_cond_broadcast(&net->dev.cond);
	else if (h->held)
		signal(net, pair);
	pthread_mutex_unlock(&net->dev.lock);
}

/* The timeouts' completions: -ETIME, or -ECANCELED by a reset, a stop or
 * the interrupt raised before. */
void net_rx_hold_done(struct io_op *op, int res)
{
	struct net_rxq *q = ((struct irq_hold *)op)->owner;
	(void)res;
	hold_done(q->net, &q->hold, signal_rx, q->pair);
}

void net_tx_hold_done(struct io_op *op, int res)
{
	struct net_txq *q = ((struct irq_hold *)op)->owner;
	(void)res;
	hold_done(q->net, &q->hold, signal_tx, q->pair);
}
