// SPDX-License-Identifier: Apache-2.0
#include "devices/virtio/virtio_dev.h"

#include <stdio.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

void virtio_dev_init(struct virtio_dev *dev, const char *name,
		     uint16_t device_id, uint64_t features,
		     uint32_t config_size, struct virtqueue *queues,
		     unsigned nr_queues, uint16_t max_queue_size,
		     const struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, void *opaque)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->device_id = device_id;
	dev->host_features = features | (1ull << VIRTIO_F_VERSION_1);
	dev->config_size = config_size;
	dev->queues = queues;
	dev->nr_queues = nr_queues;
	dev->mem = mem;
	dev->ops = ops;
	dev->opaque = opaque;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	for (unsigned i = 0; i < nr_queues; i++)
		vq_reset(&queues[i], max_queue_size);
}

void virtio_dev_destroy(struct virtio_dev *dev)
{
	pthread_cond_destroy(&dev->cond);
	pthread_mutex_destroy(&dev->lock);
}

static void dev_reset(struct virtio_dev *dev)
{
	if (dev->ops->reset)
		dev->ops->reset(dev);
	dev->status = 0;
	dev->driver_features = 0;
	dev->logged_failure = false;
	for (unsigned i = 0; i < dev->nr_queues; i++)
		vq_reset(&dev->queues[i], dev->queues[i].max_size);
}

/* The driver may only accept what was offered, and must accept
 * VERSION_1: this is a modern-only device. */
static bool features_acceptable(const struct virtio_dev *dev)
{
	return !(dev->driver_features & ~dev->host_features) &&
	       (dev->driver_features & (1ull << VIRTIO_F_VERSION_1));
}

void virtio_dev_set_status(struct virtio_dev *dev, uint8_t status)
{
	if (status == 0) {
		dev_reset(dev);
		return;
	}
	uint8_t old = dev->status;
	/* NEEDS_RESET is the device's to set; the driver cannot clear it. */
	status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
		 (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !features_acceptable(dev))
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	dev->status = status;
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			virtio_dev_fail(dev, -1, "driver set DRIVER_OK without FEATURES_OK");
			return;
		}
		if (dev->ops->activate && dev->ops->activate(dev))
			virtio_dev_fail(dev, -1, "device could not start");
	}
}

void virtio_dev_set_driver_features(struct virtio_dev *dev, unsigned sel,
				    uint32_t value)
{
	if (sel > 1 || (dev->status & VIRTIO_CONFIG_S_FEATURES_OK))
		return;
	uint64_t mask = 0xffffffffull << (32 * sel);
	dev->driver_features = (dev->driver_features & ~mask) |
			       ((uint64_t)value << (32 * sel));
}

void virtio_dev_enable_queue(struct virtio_dev *dev, unsigned q)
{
	if (q >= dev->nr_queues)
		return;
	struct virtqueue *vq = &dev->queues[q];
	if (vq->ready)
		return;
	if (!(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_dev_fail(dev, (int)q, "queue enabled before FEATURES_OK");
		return;
	}
	vq->event_idx = dev->driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = dev->driver_features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	if (vq_enable(vq, dev->mem))
		virtio_dev_fail(dev, (int)q, vq->error);
}

bool virtio_dev_running(const struct virtio_dev *dev)
{
	return (dev->status & (VIRTIO_CONFIG_S_DRIVER_OK |
			       VIRTIO_CONFIG_S_NEEDS_RESET)) ==
	       VIRTIO_CONFIG_S_DRIVER_OK;
}

void virtio_dev_fail(struct virtio_dev *dev, int q, const char *why)
{
	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (!dev->logged_failure && dev->log) {
		char msg[256];
		if (q >= 0)
			snprintf(msg, sizeof(msg), "%s: queue %d: %s; the device needs a reset",
				 dev->name, q, why);
		else
			snprintf(msg, sizeof(msg), "%s: %s; the device needs a reset",
				 dev->name, why);
		dev->log(dev->log_opaque, msg);
	}
	dev->logged_failure = true;
	if ((dev->status & VIRTIO_CONFIG_S_DRIVER_OK) && dev->transport_ops)
		dev->transport_ops->notify_config(dev->transport);
}

void virtio_dev_config_changed(struct virtio_dev *dev)
{
	dev->config_generation++;
	if (virtio_dev_running(dev) && dev->transport_ops)
		dev->transport_ops->notify_config(dev->transport);
}

void virtio_dev_signal_queue(struct virtio_dev *dev, unsigned q)
{
	if (q < dev->nr_queues && vq_should_notify(&dev->queues[q]) &&
	    dev->transport_ops)
		dev->transport_ops->notify_queue(dev->transport, q);
}

void virtio_dev_read_config(struct virtio_dev *dev, uint32_t off, void *data,
			    uint32_t len)
{
	if (dev->ops->config_read)
		dev->ops->config_read(dev, off, data, len);
	else if (dev->config)
		memcpy(data, (const uint8_t *)dev->config + off, len);
	else
		memset(data, 0, len);
}

bool virtio_dev_next_chain(struct virtio_dev *dev, unsigned q,
			   struct vq_chain *c)
{
	struct virtqueue *vq = &dev->queues[q];
	for (;;) {
		int r = vq_pop(vq, dev->mem, c);
		if (r > 0)
			return true;
		if (r < 0) {
			virtio_dev_fail(dev, (int)q, vq->error);
			return false;
		}
		if (!vq_set_notify(vq, true))
			return false;
	}
}
