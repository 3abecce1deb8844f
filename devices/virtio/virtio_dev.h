/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport-independent half of a virtio device (virtio 1.2 § 2-3):
 * feature negotiation, device status and reset, the virtqueues, and what
 * happens when the driver breaks the rules (DEVICE_NEEDS_RESET, logged
 * once). A device type (virtio_blk.c, ...) fills in the ops; a transport
 * (virtio_pci.c) maps registers onto these calls and delivers interrupts.
 *
 * Locking: `lock` guards everything here. Transports take it around
 * register accesses (vCPU threads); the device loop takes it while it
 * works on the queues. Device ops are called with it held.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_DEV_H
#define PHY_DEVICES_VIRTIO_VIRTIO_DEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/guest_mem.h"
#include "devices/virtio/virtqueue.h"

struct virtio_dev;

struct virtio_dev_ops {
	/* Device-specific configuration space; out-of-range bytes read 0 and
	 * writes to them are ignored (checked by the caller). config_read is
	 * optional: without it reads copy dev->config. */
	void (*config_read)(struct virtio_dev *dev, uint32_t off, void *data,
			    uint32_t len);
	void (*config_write)(struct virtio_dev *dev, uint32_t off,
			     const void *data, uint32_t len);
	/* DRIVER_OK was set: the enabled queues are live. Return nonzero to
	 * refuse (the device then needs reset). */
	int (*activate)(struct virtio_dev *dev);
	/* The driver reset the device: stop using the queues, and return
	 * only when no request touches guest memory any more. The lock is
	 * held; a device may wait on `cond` for its in-flight requests. */
	void (*reset)(struct virtio_dev *dev);
	/* The driver notified queue q (device loop thread; lock not held). */
	void (*queue_notify)(struct virtio_dev *dev, unsigned q);
};

/* Interrupt delivery, provided by the transport. */
struct virtio_transport_ops {
	void (*notify_queue)(void *transport, unsigned q);
	void (*notify_config)(void *transport);
};

/* Receives one-line messages about guest misbehaviour. */
typedef void (*virtio_log_fn)(void *opaque, const char *msg);

struct virtio_dev {
	const char *name;    /* "virtio-blk0", for messages */
	uint16_t device_id;  /* VIRTIO_ID_* */
	uint64_t host_features;
	uint64_t driver_features;
	uint8_t status;
	uint16_t config_generation;
	uint32_t config_size;
	const void *config; /* config_size bytes, what reads return; NULL: 0s */
	bool logged_failure;

	struct virtqueue *queues;
	unsigned nr_queues;

	pthread_mutex_t lock;
	pthread_cond_t cond;

	const struct guest_mem *mem;
	const struct virtio_dev_ops *ops;
	void *opaque; /* the device type's state */

	const struct virtio_transport_ops *transport_ops;
	void *transport;

	virtio_log_fn log;
	void *log_opaque;
};

/*
 * queues: nr_queues entries owned by the caller, each offered with
 * max_queue_size entries. VIRTIO_F_VERSION_1 is always added to features.
 */
void virtio_dev_init(struct virtio_dev *dev, const char *name,
		     uint16_t device_id, uint64_t features,
		     uint32_t config_size, struct virtqueue *queues,
		     unsigned nr_queues, uint16_t max_queue_size,
		     const struct guest_mem *mem,
		     const struct virtio_dev_ops *ops, void *opaque);
void virtio_dev_destroy(struct virtio_dev *dev);

/* The rest are called with dev->lock held. */

/* len bytes at off of the configuration space (the caller keeps them
 * inside config_size): ops->config_read, or a copy of dev->config. */
void virtio_dev_read_config(struct virtio_dev *dev, uint32_t off, void *data,
			    uint32_t len);

/* Writes the status register: 0 resets the device; FEATURES_OK is kept
 * only when the driver's features are acceptable; DRIVER_OK activates. */
void virtio_dev_set_status(struct virtio_dev *dev, uint8_t status);

/* Driver feature bits 32*sel..32*sel+31; ignored after FEATURES_OK. */
void virtio_dev_set_driver_features(struct virtio_dev *dev, unsigned sel,
				    uint32_t value);

/* queue_enable = 1 from the driver: validates and maps the rings. */
void virtio_dev_enable_queue(struct virtio_dev *dev, unsigned q);

/* Whether the device is live (DRIVER_OK without NEEDS_RESET). */
bool virtio_dev_running(const struct virtio_dev *dev);

/*
 * The driver broke the rules on queue q (or -1 for the device): set
 * DEVICE_NEEDS_RESET, log `why` once, tell the driver through a
 * configuration interrupt, and stop serving queues until reset.
 */
void virtio_dev_fail(struct virtio_dev *dev, int q, const char *why);

/* The device changed its configuration space: a new generation, and a
 * configuration interrupt once the driver is running. */
void virtio_dev_config_changed(struct virtio_dev *dev);

/*
 * Takes the next chain of queue q into c: true; or false when the ring is
 * empty (a notification is then asked for, unless buffers arrived
 * meanwhile: those are taken) or malformed (the device then needs a
 * reset, with the queue's error).
 */
bool virtio_dev_next_chain(struct virtio_dev *dev, unsigned q,
			   struct vq_chain *c);

/* After pushing used buffers on queue q: interrupt the driver when it
 * asked for one (EVENT_IDX or the NO_INTERRUPT flag). */
void virtio_dev_signal_queue(struct virtio_dev *dev, unsigned q);

#endif
