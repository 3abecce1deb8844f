/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the parts of the virtio-pci transport share: virtio_pci.c (the BAR
 * layout and dispatch, ioeventfds, life cycle), virtio_pci_config.c (config
 * space and capabilities), virtio_pci_common.c (the common configuration
 * registers) and virtio_pci_msix.c (the MSI-X table and interrupt
 * delivery).
 */
#ifndef PHY_DEVICES_VIRTIO_VIRTIO_PCI_INTERNAL_H
#define PHY_DEVICES_VIRTIO_VIRTIO_PCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/virtio/virtio_pci.h"

#define VP_NO_VECTOR 0xffff
#define VP_PAGE 0x1000
#define VP_MAX_VECTORS 2048 /* the MSI-X table size limit */

/* BAR layout: each structure on its own page, so a guest can map them
 * separately; the notify, table and PBA sizes depend on the queues. */
#define VP_COMMON_OFF 0x0000
#define VP_ISR_OFF 0x1000
#define VP_DEVICE_OFF 0x2000
#define VP_NOTIFY_OFF 0x3000
#define VP_NOTIFY_MULT 4 /* one notify address per queue, 4 bytes apart */
#define VP_COMMON_LEN 0x3c /* up to queue_reset */

struct vp_layout {
	uint32_t notify_len;
	uint32_t table_off, table_len;
	uint32_t pba_off, pba_len;
	uint64_t bar_size;
	unsigned nr_vectors;
};

void vp_layout(unsigned nr_queues, struct vp_layout *l);

/* One MSI-X table entry and how it reaches the guest. */
struct vp_vector {
	uint64_t addr;
	uint32_t data;
	uint32_t ctrl;    /* Vector Control: bit 0 masks */
	bool pending;     /* the PBA bit */
	bool route_dirty; /* addr/data not yet given to the VM */
	bool has_msi;     /* the VM knows fd as MSI source `msi` */
	uint32_t msi;
	int fd;           /* eventfd: written to raise the vector */
};

/* The watch of one queue's notify eventfd. */
struct vp_notifier {
	struct virtio_pci *vp;
	unsigned q;
	int fd;
	bool ioeventfd; /* registered with the VM */
};

struct virtio_pci {
	struct pci_function fn;
	struct virtio_dev *dev;
	struct virtio_pci_env env;
	unsigned slot;
	bool plugged;
	struct vp_layout l;
	struct vp_notifier *notifiers; /* one per queue */
	struct vp_vector *vectors;     /* l.nr_vectors */

	/* Under dev->lock. */
	uint32_t dfselect, gfselect;
	uint16_t queue_select;
	uint16_t config_vector;
	uint8_t isr;
	bool msix_enabled, msix_masked;
	bool logged_route_error;

	/* Under the PCI host's lock (changed from bars_changed()). */
	uint64_t ioeventfd_gpa;
	int ioeventfd_len; /* -1: not registered */

	uint8_t wmask[256]; /* writable bits of config space */
};

/* virtio_pci.c: BAR accesses (offsets within the BAR); take dev->lock. */
void vp_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len);
void vp_bar_write(void *opaque, uint64_t off, const uint8_t *data,
		  uint32_t len);

/* virtio_pci_config.c: config space; the PCI host's lock held. */
void vp_config_build(struct virtio_pci *vp);
uint32_t vp_config_read(struct pci_function *fn, uint32_t off, uint32_t len);
void vp_config_write(struct pci_function *fn, uint32_t off, uint32_t len,
		     uint32_t v);

/* virtio_pci_common.c; dev->lock held. */
void vp_common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		    uint32_t len);
void vp_common_write(struct virtio_pci *vp, uint64_t off,
		     const uint8_t *data, uint32_t len);

/* virtio_pci_msix.c */
/* Every entry masked, no eventfds yet: the state destroy can undo. */
void vp_msix_reset_table(struct virtio_pci *vp);
/* Eventfds, GSIs and irqfds for every vector. */
int vp_msix_init(struct virtio_pci *vp, struct phy_error *err);
void vp_msix_destroy(struct virtio_pci *vp);
/* dev->lock held: */
uint16_t vp_msix_check_vector(const struct virtio_pci *vp, uint16_t v);
void vp_msix_deliver(struct virtio_pci *vp, uint16_t v);
void vp_msix_control(struct virtio_pci *vp, uint16_t control);
void vp_msix_table_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			uint32_t len);
void vp_msix_table_write(struct virtio_pci *vp, uint64_t off,
			 const uint8_t *data, uint32_t len);
void vp_msix_pba_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		      uint32_t len);

#endif
