// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-pci function's configuration space: the type 0 header, the
 * capability list a driver walks to find the structures in the BAR, what
 * the guest may write, and the VIRTIO_PCI_CAP_PCI_CFG access window. The
 * host bridge emulates the BAR registers; everything else is here.
 * Called with the PCI host's lock held.
 */
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <string.h>

#include "devices/virtio/virtio_pci_internal.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_MODERN_BASE 0x1040
#define VIRTIO_PCI_SUBSYS_ID 0x1100 /* as the host bridge's */
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09

/* The capability list. */
#define CAP_MSIX 0x40    /* 12 bytes */
#define CAP_COMMON 0x4c  /* struct virtio_pci_cap: 16 */
#define CAP_NOTIFY 0x5c  /* struct virtio_pci_notify_cap: 20 */
#define CAP_ISR 0x70     /* 16 */
#define CAP_DEVICE 0x80  /* 16 */
#define CAP_PCI_CFG 0x90 /* struct virtio_pci_cfg_cap: 20 */
#define PCI_CFG_DATA (CAP_PCI_CFG + 16)
#define MSIX_CONTROL (CAP_MSIX + 2)

/* PCI class codes (class, subclass, prog-if) for the device types. */
static uint32_t class_code(uint16_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return 0x020000;     /* Ethernet */
	case VIRTIO_ID_BLOCK: return 0x018000;   /* other mass storage */
	case VIRTIO_ID_SCSI: return 0x010000;    /* SCSI */
	case VIRTIO_ID_FS: return 0x018000;
	case VIRTIO_ID_CONSOLE: return 0x078000; /* other communication */
	case VIRTIO_ID_GPU: return 0x038000;     /* other display */
	case VIRTIO_ID_INPUT: return 0x098000;   /* other input */
	case VIRTIO_ID_VSOCK: return 0x028000;   /* other network */
	default: return 0xff0000;                /* unassigned class */
	}
}

/* Links a capability at `off` after the previous one. */
static void link_cap(uint8_t *c, uint8_t *prev, uint8_t off, uint8_t id)
{
	c[off] = id;
	c[*prev ? *prev + 1 : 0x34] = off;
	*prev = off;
}

static void add_virtio_cap(uint8_t *c, uint8_t *prev, uint8_t off,
			   uint8_t len, uint8_t type, uint32_t bar_off,
			   uint32_t bar_len)
{
	link_cap(c, prev, off, PCI_CAP_VENDOR);
	c[off + 2] = len;
	c[off + 3] = type;
	c[off + 4] = 0; /* BAR0 */
	pci_config_put32(&c[off + 8], bar_off);
	pci_config_put32(&c[off + 12], bar_len);
}

void vp_config_build(struct virtio_pci *vp)
{
	uint8_t *c = vp->fn.config, *w = vp->wmask;
	const struct virtio_dev *dev = vp->dev;
	uint32_t cls = class_code(dev->device_id);
	uint32_t dev_cfg_len = dev->config_size < VP_PAGE ? dev->config_size : VP_PAGE;
	uint8_t prev = 0;

	pci_config_put16(c + 0x00, VIRTIO_PCI_VENDOR);
	pci_config_put16(c + 0x02, VIRTIO_PCI_MODERN_BASE + dev->device_id);
	pci_config_put16(c + 0x06, PCI_STATUS_CAP_LIST);
	c[0x08] = 1; /* revision 1: a modern-only device */
	c[0x09] = cls & 0xff;
	c[0x0a] = (cls >> 8) & 0xff;
	c[0x0b] = cls >> 16;
	pci_config_put16(c + 0x2c, VIRTIO_PCI_VENDOR);
	pci_config_put16(c + 0x2e, VIRTIO_PCI_SUBSYS_ID);
	/* Interrupt Pin (0x3d) stays 0: MSI-X only, no INTx. */

	link_cap(c, &prev, CAP_MSIX, PCI_CAP_MSIX);
	pci_config_put16(c + MSIX_CONTROL, vp->l.nr_vectors - 1);
	pci_config_put32(c + CAP_MSIX + 4, vp->l.table_off); /* BIR 0 */
	pci_config_put32(c + CAP_MSIX + 8, vp->l.pba_off);
	add_virtio_cap(c, &prev, CAP_COMMON, 16, VIRTIO_PCI_CAP_COMMON_CFG,
		       VP_COMMON_OFF, VP_COMMON_LEN);
	add_virtio_cap(c, &prev, CAP_NOTIFY, 20, VIRTIO_PCI_CAP_NOTIFY_CFG,
		       VP_NOTIFY_OFF, vp->l.notify_len);
	pci_config_put32(c + CAP_NOTIFY + 16, VP_NOTIFY_MULT);
	add_virtio_cap(c, &prev, CAP_ISR, 16, VIRTIO_PCI_CAP_ISR_CFG,
		       VP_ISR_OFF, 1);
	if (dev_cfg_len)
		add_virtio_cap(c, &prev, CAP_DEVICE, 16,
			       VIRTIO_PCI_CAP_DEVICE_CFG, VP_DEVICE_OFF,
			       dev_cfg_len);
	add_virtio_cap(c, &prev, CAP_PCI_CFG, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);

	/* What the guest may change: Memory Space, Bus Master, Parity and
	 * SERR# Enable and Interrupt Disable; Cache Line Size; Interrupt
	 * Line; MSI-X Enable and Function Mask; the access window. */
	w[0x04] = 0x46;
	w[0x05] = 0x05;
	w[0x0c] = 0xff;
	w[0x3c] = 0xff;
	w[MSIX_CONTROL + 1] = 0xc0;
	memset(&w[CAP_PCI_CFG + 4], 0xff, 1);  /* cap.bar */
	memset(&w[CAP_PCI_CFG + 8], 0xff, 12); /* offset, length, data */
}

/*
 * VIRTIO_PCI_CAP_PCI_CFG: a window onto the BAR through config space, for
 * firmware that has not mapped it. Accesses outside the BAR, unaligned,
 * or of another size than 1, 2 or 4 bytes are ignored (§ 4.1.4.9).
 */
static bool pci_cfg_window(const struct virtio_pci *vp, uint32_t *off,
			   uint32_t *len)
{
	const uint8_t *c = &vp->fn.config[CAP_PCI_CFG];
	*off = pci_config_get(c + 8, 4);
	*len = pci_config_get(c + 12, 4);
	return c[4] == 0 && (*len == 1 || *len == 2 || *len == 4) &&
	       *off % *len == 0 && *off <= vp->l.bar_size - *len;
}

static bool overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return off < start + n && start < off + len;
}

uint32_t vp_config_read(struct pci_function *fn, uint32_t off,
			uint32_t len)
{
	struct virtio_pci *vp = fn->opaque;
	uint32_t woff, wlen;
	if (overlaps(off, len, PCI_CFG_DATA, 4) &&
	    pci_cfg_window(vp, &woff, &wlen))
		vp_bar_read(vp, woff, &fn->config[PCI_CFG_DATA], wlen);
	return pci_config_get(&fn->config[off], len);
}

void vp_config_write(struct pci_function *fn, uint32_t off, uint32_t len,
		     uint32_t v)
{
	struct virtio_pci *vp = fn->opaque;
	for (uint32_t i = 0; i < len && off + i < sizeof(vp->wmask); i++) {
		uint8_t m = vp->wmask[off + i], b = v >> (8 * i);
		fn->config[off + i] = (fn->config[off + i] & ~m) | (b & m);
	}
	if (overlaps(off, len, MSIX_CONTROL, 2)) {
		pthread_mutex_lock(&vp->dev->lock);
		vp_msix_control(vp, pci_config_get(&fn->config[MSIX_CONTROL], 2));
		pthread_mutex_unlock(&vp->dev->lock);
	}
	uint32_t woff, wlen;
	if (overlaps(off, len, PCI_CFG_DATA, 4) &&
	    pci_cfg_window(vp, &woff, &wlen))
		vp_bar_write(vp, woff, &fn->config[PCI_CFG_DATA], wlen);
}
