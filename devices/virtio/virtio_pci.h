/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-pci modern transport (virtio 1.2 § 4.1): a PCI function
 * (vendor 0x1af4, device 0x1040 + the virtio device ID, revision 1) whose
 * one 64-bit memory BAR holds the common configuration, ISR, device
 * configuration and notification structures, and the MSI-X table and PBA.
 * The capability list also has the PCI configuration access capability.
 *
 * Notifications: each queue's notify address is an ioeventfd (any write
 * width where the VM allows it, devices/vm_ops.h), read by the device loop, which calls the
 * device's queue_notify(). A notify write that still exits to userspace
 * writes the same eventfd, so queue work always runs on the loop thread.
 *
 * Interrupts are MSI-X only: no INTx pin (Interrupt Pin reads 0). Each
 * vector is an eventfd the VM turns into its MSI (vm_ops msi_add).
 *
 * Locking: register accesses (vCPU threads) take dev->lock; the transport
 * ops are called with dev->lock held, as virtio_dev.h says. Config space
 * accesses and BAR changes arrive under the PCI host's lock (taken first).
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_PCI_H
#define PHY_DEVICES_VIRTIO_VIRTIO_PCI_H

#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/io_loop.h"
#include "devices/pci/pci_host.h"
#include "devices/virtio/virtio_dev.h"
#include "devices/vm_ops.h"

struct virtio_pci;

/* What the transport needs from the machine. */
struct virtio_pci_env {
	const struct vm_ops *vm; /* MSIs and ioeventfds; NULL or no ops:
				  * plain eventfds, vectors get no route */
	struct io_loop *loop;    /* watches notify eventfds; may be NULL */
	struct pci_host *host;   /* the function is plugged in here */
};

/* The BAR size a device with dev's queues needs (a power of two), for
 * placing it: pci_host_alloc_bar(host, virtio_pci_bar_size(dev)). */
uint64_t virtio_pci_bar_size(const struct virtio_dev *dev);

/*
 * Creates the PCI function for dev and plugs it into env->host at `slot`,
 * its BAR at bar_gpa (aligned to the BAR size; decoding starts off, as
 * after a PCI reset, until the guest sets Memory Space Enable). Sets
 * dev->transport_ops and dev->transport. Call before io_loop_start(): the
 * loop gains one watch per queue, which it keeps until it is destroyed.
 */
int virtio_pci_create(struct virtio_pci **out, struct virtio_dev *dev,
		      const struct virtio_pci_env *env, unsigned slot,
		      uint64_t bar_gpa, struct phy_error *err);

/* Unplugs and frees. The vCPUs must be stopped and the device loop stopped
 * or destroyed (its watches point here). NULL is allowed. */
void virtio_pci_destroy(struct virtio_pci *vp);

/* For tests and diagnostics. */
unsigned virtio_pci_nr_vectors(const struct virtio_pci *vp);
/* The PCI slot it was plugged into (function 0). */
unsigned virtio_pci_slot(const struct virtio_pci *vp);
/* The eventfd behind queue q's notify address, or -1. */
int virtio_pci_queue_eventfd(const struct virtio_pci *vp, unsigned q);
/* Vector v's irqfd, or -1. */
int virtio_pci_vector_eventfd(const struct virtio_pci *vp, unsigned v);
/* The length the notify ioeventfds are registered with (0: any width,
 * 2), or -1 while they are not registered. */
int virtio_pci_ioeventfd_len(const struct virtio_pci *vp);

#endif
