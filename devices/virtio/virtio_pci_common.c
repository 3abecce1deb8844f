// SPDX-License-Identifier: Apache-2.0
/*
 * The common configuration structure (virtio 1.2 § 4.1.4.3). Accesses are
 * decoded per field, whatever their width: a read returns the bytes of the
 * fields it covers, a write merges its bytes into each field it covers and
 * writes the field. The driver uses natural widths (and 32-bit halves for
 * the 64-bit fields); anything else still does no harm.
 */
#include <string.h>

#include "devices/virtio/virtio_pci_internal.h"

enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX = 0x10,
	CC_NUMQ = 0x12,
	CC_STATUS = 0x14,
	CC_CFGGEN = 0x15,
	CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a,
	CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e,
	CC_Q_DESC = 0x20,
	CC_Q_DRIVER = 0x28,
	CC_Q_DEVICE = 0x30,
	CC_Q_NDATA = 0x38, /* VIRTIO_F_NOTIF_CONFIG_DATA: not offered */
	CC_Q_RESET = 0x3a, /* VIRTIO_F_RING_RESET: not offered */
};

static const struct {
	uint8_t off, len;
} fields[] = {
	{ CC_DFSELECT, 4 }, { CC_DF, 4 },       { CC_GFSELECT, 4 },
	{ CC_GF, 4 },       { CC_MSIX, 2 },     { CC_NUMQ, 2 },
	{ CC_STATUS, 1 },   { CC_CFGGEN, 1 },   { CC_Q_SELECT, 2 },
	{ CC_Q_SIZE, 2 },   { CC_Q_MSIX, 2 },   { CC_Q_ENABLE, 2 },
	{ CC_Q_NOFF, 2 },   { CC_Q_DESC, 8 },   { CC_Q_DRIVER, 8 },
	{ CC_Q_DEVICE, 8 }, { CC_Q_NDATA, 2 },  { CC_Q_RESET, 2 },
};

/* The selected queue, or NULL when queue_select is out of range. */
static struct virtqueue *selected(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->dev;
	return vp->queue_select < dev->nr_queues ?
		       &dev->queues[vp->queue_select] : NULL;
}

static uint64_t read_field(struct virtio_pci *vp, unsigned off)
{
	struct virtio_dev *dev = vp->dev;
	struct virtqueue *vq = selected(vp);

	switch (off) {
	case CC_DFSELECT: return vp->dfselect;
	case CC_DF:
		return vp->dfselect < 2 ?
			       (uint32_t)(dev->host_features >> (32 * vp->dfselect)) : 0;
	case CC_GFSELECT: return vp->gfselect;
	case CC_GF:
		return vp->gfselect < 2 ?
			       (uint32_t)(dev->driver_features >> (32 * vp->gfselect)) : 0;
	case CC_MSIX: return vp->config_vector;
	case CC_NUMQ: return dev->nr_queues;
	case CC_STATUS: return dev->status;
	case CC_CFGGEN: return (uint8_t)dev->config_generation;
	case CC_Q_SELECT: return vp->queue_select;
	case CC_Q_SIZE: return vq ? vq->size : 0;
	case CC_Q_MSIX: return vq ? vq->msix_vector : VP_NO_VECTOR;
	case CC_Q_ENABLE: return vq ? vq->ready : 0;
	/* queue_notify_off * VP_NOTIFY_MULT is the queue's notify offset. */
	case CC_Q_NOFF: return vq ? vp->queue_select : 0;
	case CC_Q_DESC: return vq ? vq->desc_gpa : 0;
	case CC_Q_DRIVER: return vq ? vq->avail_gpa : 0;
	case CC_Q_DEVICE: return vq ? vq->used_gpa : 0;
	default: return 0;
	}
}

/* The transport's part of a device reset. */
static void transport_reset(struct virtio_pci *vp)
{
	vp->config_vector = VP_NO_VECTOR;
	vp->isr = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->queue_select = 0;
}

/* Ring addresses and size are the driver's only until it enables the
 * queue (§ 4.1.4.3.2). */
static void write_queue_field(struct virtio_pci *vp, unsigned off, uint64_t v)
{
	struct virtqueue *vq = selected(vp);
	if (!vq)
		return;
	if (off == CC_Q_MSIX) {
		vq->msix_vector = vp_msix_check_vector(vp, (uint16_t)v);
		return;
	}
	if (off == CC_Q_ENABLE) {
		/* 0 is not the driver's to write without RING_RESET. */
		if (v == 1)
			virtio_dev_enable_queue(vp->dev, vp->queue_select);
		return;
	}
	if (vq->ready)
		return;
	switch (off) {
	case CC_Q_SIZE: vq->size = (uint16_t)v; break;
	case CC_Q_DESC: vq->desc_gpa = v; break;
	case CC_Q_DRIVER: vq->avail_gpa = v; break;
	case CC_Q_DEVICE: vq->used_gpa = v; break;
	}
}

static void write_field(struct virtio_pci *vp, unsigned off, uint64_t v)
{
	struct virtio_dev *dev = vp->dev;

	switch (off) {
	case CC_DFSELECT: vp->dfselect = (uint32_t)v; break;
	case CC_GFSELECT: vp->gfselect = (uint32_t)v; break;
	case CC_GF:
		virtio_dev_set_driver_features(dev, vp->gfselect, (uint32_t)v);
		break;
	case CC_MSIX:
		vp->config_vector = vp_msix_check_vector(vp, (uint16_t)v);
		break;
	case CC_STATUS:
		virtio_dev_set_status(dev, (uint8_t)v);
		if ((uint8_t)v == 0)
			transport_reset(vp);
		break;
	case CC_Q_SELECT: vp->queue_select = (uint16_t)v; break;
	case CC_Q_SIZE:
	case CC_Q_MSIX:
	case CC_Q_ENABLE:
	case CC_Q_DESC:
	case CC_Q_DRIVER:
	case CC_Q_DEVICE:
		write_queue_field(vp, off, v);
		break;
	default: /* read-only */
		break;
	}
}

/* The overlap of [off, off+len) with field f, as offsets into both. */
static bool overlap(unsigned f, uint64_t off, uint32_t len, unsigned *from,
		    unsigned *to, unsigned *n)
{
	uint64_t lo = off > fields[f].off ? off : fields[f].off;
	uint64_t hi = off + len < (uint64_t)fields[f].off + fields[f].len ?
			      off + len : (uint64_t)fields[f].off + fields[f].len;
	if (lo >= hi)
		return false;
	*from = (unsigned)(lo - fields[f].off); /* byte within the field */
	*to = (unsigned)(lo - off);             /* byte within the access */
	*n = (unsigned)(hi - lo);
	return true;
}

void vp_common_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		    uint32_t len)
{
	memset(data, 0, len);
	for (unsigned f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		unsigned from, to, n;
		if (!overlap(f, off, len, &from, &to, &n))
			continue;
		uint64_t v = read_field(vp, fields[f].off);
		for (unsigned i = 0; i < n; i++)
			data[to + i] = v >> (8 * (from + i));
	}
}

void vp_common_write(struct virtio_pci *vp, uint64_t off,
		     const uint8_t *data, uint32_t len)
{
	for (unsigned f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
		unsigned from, to, n;
		if (!overlap(f, off, len, &from, &to, &n))
			continue;
		uint64_t v = n == fields[f].len ? 0 : read_field(vp, fields[f].off);
		for (unsigned i = 0; i < n; i++) {
			v &= ~(0xffull << (8 * (from + i)));
			v |= (uint64_t)data[to + i] << (8 * (from + i));
		}
		write_field(vp, fields[f].off, v);
	}
}
