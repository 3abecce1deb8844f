/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio-fs (virtio 1.2 § 5.11, device ID 26) through a vhost-user back
 * end (virtiofsd): the VMM holds the PCI function, the configuration
 * space (the tag and num_request_queues) and the rings' addresses; the
 * back end reads the rings and the FUSE requests in guest RAM itself
 * (shared memory: a memfd), on a session (devices/vhost/vhost_user.h)
 * that its owner keeps across reboots. No DAX window.
 *
 * Queues: 0 is the hiprio queue, 1..N the request queues. Each has a kick
 * and a call eventfd of the device's own, which survive a back end's
 * restart: a guest notification reaches the device loop (queue_notify),
 * which writes the kick; the back end's call is watched by the loop,
 * which raises the queue's MSI-X vector through the transport (so masking
 * holds). One hop through the loop each way; passing the ioeventfd and
 * the irqfd straight to the back end would save it.
 *
 * The back end is less trusted and may die, or be restarted. The
 * session's requests run on the thread that changes the device's status
 * (a vCPU, under dev->lock), each waiting at most timeout_ms. A back end
 * that dies does not fail the device: Linux's driver never resets it, so
 * DEVICE_NEEDS_RESET would end the share until a reboot. Instead the
 * device loop (devices/vhost/vhost_user_link.h) sees the hang-up at once,
 * the device logs one line naming the socket and runs on without a back
 * end (guest notifications are dropped meanwhile), the loop dials the
 * same path again with a growing pause, and the first back end that
 * answers gets the whole set-up, each ring from the used index the guest
 * sees, then a kick per queue, and one more log line. What the dead back
 * end held (its FUSE session, open files) is gone: a fresh virtiofsd
 * answers the guest's requests with errors until the guest mounts again.
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_FS_H
#define PHY_DEVICES_VIRTIO_VIRTIO_FS_H

#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"
#include "devices/vhost/vhost_user.h"
#include "devices/virtio/virtio_dev.h"

struct io_loop;
struct virtio_fs;

#define VIRTIO_FS_TAG_LEN 36
#define VIRTIO_FS_MAX_REQUEST_QUEUES 64

struct virtio_fs_params {
	const char *tag;          /* 1 to VIRTIO_FS_TAG_LEN bytes */
	unsigned request_queues;  /* 1 to VIRTIO_FS_MAX_REQUEST_QUEUES */
	uint16_t queue_size;      /* power of two */
	struct vhost_user *session; /* the owner's; connected or not */
};

struct virtio_fs_stats {
	uint64_t kicks;     /* guest notifications passed on */
	uint64_t calls;     /* back end interrupts passed on */
	uint64_t connects;  /* sessions opened by the device (reconnects) */
	uint64_t failures;  /* sessions ended by an error, set-ups failed
			     * after connecting (a dial nobody took: not) */
};

int virtio_fs_create(struct virtio_fs **out, const struct virtio_fs_params *p,
		     const char *name, const struct guest_mem *mem,
		     struct io_loop *loop, struct phy_error *err);
struct virtio_dev *virtio_fs_dev(struct virtio_fs *fs);
/* Takes the rings back from the back end (GET_VRING_BASE) if it has
 * them, and frees. The loop must be stopped (its stop cancels the watch
 * on the back end's socket and a pending attempt to dial). NULL is
 * allowed. */
void virtio_fs_destroy(struct virtio_fs *fs);
/* Any thread. */
void virtio_fs_stats(struct virtio_fs *fs, struct virtio_fs_stats *out);

#endif
