// SPDX-License-Identifier: Apache-2.0
/*
 * The virtio-pci function: its BAR layout, the dispatch of BAR accesses to
 * the structures, the queue notify ioeventfds, which follow the BAR
 * wherever the guest puts it, and the function's life cycle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/virtio_pci.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/error.h"
#include "devices/virtio/virtio_pci_internal.h"

#define ISR_QUEUE 0x1 /* VIRTIO_PCI_ISR_CONFIG is 0x2 */

static uint64_t align_page(uint64_t v)
{
	return (v + VP_PAGE - 1) & ~(uint64_t)(VP_PAGE - 1);
}

void vp_layout(unsigned nr_queues, struct vp_layout *l)
{
	l->nr_vectors = nr_queues + 1; /* one per queue and the config's */
	if (l->nr_vectors > VP_MAX_VECTORS)
		l->nr_vectors = VP_MAX_VECTORS;
	l->notify_len = nr_queues * VP_NOTIFY_MULT;
	l->table_off = VP_NOTIFY_OFF + align_page(l->notify_len ? l->notify_len : 1);
	l->table_len = l->nr_vectors * 16;
	l->pba_off = l->table_off + align_page(l->table_len);
	l->pba_len = (l->nr_vectors + 63) / 64 * 8;
	uint64_t end = l->pba_off + align_page(l->pba_len);
	l->bar_size = VP_PAGE;
	while (l->bar_size < end)
		l->bar_size <<= 1;
}

uint64_t virtio_pci_bar_size(const struct virtio_dev *dev)
{
	struct vp_layout l;
	vp_layout(dev->nr_queues, &l);
	return l.bar_size;
}

/* BAR accesses. Each structure has its pages; an access that strays over
 * a page boundary matches nothing, reads 0 and is dropped. */
enum region { R_NONE, R_COMMON, R_ISR, R_DEVICE, R_NOTIFY, R_TABLE, R_PBA };

static enum region find_region(const struct virtio_pci *vp, uint64_t off,
			       uint32_t len, uint64_t *rel)
{
	const struct vp_layout *l = &vp->l;
	const struct {
		enum region r;
		uint64_t start, size;
	} map[] = {
		{ R_COMMON, VP_COMMON_OFF, VP_PAGE },
		{ R_ISR, VP_ISR_OFF, VP_PAGE },
		{ R_DEVICE, VP_DEVICE_OFF, VP_PAGE },
		{ R_NOTIFY, VP_NOTIFY_OFF, l->table_off - VP_NOTIFY_OFF },
		{ R_TABLE, l->table_off, l->pba_off - l->table_off },
		{ R_PBA, l->pba_off, align_page(l->pba_len) },
	};
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (off >= map[i].start && off - map[i].start < map[i].size &&
		    len <= map[i].size - (off - map[i].start)) {
			*rel = off - map[i].start;
			return map[i].r;
		}
	}
	return R_NONE;
}

static void device_cfg_read(struct virtio_dev *dev, uint64_t off,
			    uint8_t *data, uint32_t len)
{
	if (off >= dev->config_size)
		return;
	uint32_t n = dev->config_size - off < len ? dev->config_size - off : len;
	virtio_dev_read_config(dev, (uint32_t)off, data, n);
}

static void device_cfg_write(struct virtio_dev *dev, uint64_t off,
			     const uint8_t *data, uint32_t len)
{
	if (off >= dev->config_size || !dev->ops->config_write)
		return;
	uint32_t n = dev->config_size - off < len ? dev->config_size - off : len;
	dev->ops->config_write(dev, (uint32_t)off, data, n);
}

void vp_bar_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_pci *vp = opaque;
	uint64_t rel;
	enum region r = find_region(vp, off, len, &rel);
	memset(data, 0, len);
	if (r == R_NONE || r == R_NOTIFY)
		return;
	pthread_mutex_lock(&vp->dev->lock);
	switch (r) {
	case R_COMMON: vp_common_read(vp, rel, data, len); break;
	case R_ISR:
		/* Reading the ISR status clears it (§ 4.1.4.5). */
		if (rel == 0) {
			data[0] = vp->isr;
			vp->isr = 0;
		}
		break;
	case R_DEVICE: device_cfg_read(vp->dev, rel, data, len); break;
	case R_TABLE: vp_msix_table_read(vp, rel, data, len); break;
	case R_PBA: vp_msix_pba_read(vp, rel, data, len); break;
	default: break;
	}
	pthread_mutex_unlock(&vp->dev->lock);
}

/* A notify write that exits to userspace (no ioeventfd yet, or KVM
 * matched none) goes to the same eventfd: the loop thread does the work. */
static void notify_write(struct virtio_pci *vp, uint64_t rel)
{
	uint64_t q = rel / VP_NOTIFY_MULT, one = 1;
	if (rel % VP_NOTIFY_MULT || q >= vp->dev->nr_queues)
		return;
	if (write(vp->notifiers[q].fd, &one, sizeof(one)) < 0) {
		/* Cannot fail on an eventfd we own; nothing to do. */
	}
}

void vp_bar_write(void *opaque, uint64_t off, const uint8_t *data,
		  uint32_t len)
{
	struct virtio_pci *vp = opaque;
	uint64_t rel;
	enum region r = find_region(vp, off, len, &rel);
	if (r == R_NOTIFY) {
		notify_write(vp, rel);
		return;
	}
	if (r == R_NONE || r == R_ISR || r == R_PBA)
		return; /* read-only */
	pthread_mutex_lock(&vp->dev->lock);
	switch (r) {
	case R_COMMON: vp_common_write(vp, rel, data, len); break;
	case R_DEVICE: device_cfg_write(vp->dev, rel, data, len); break;
	case R_TABLE: vp_msix_table_write(vp, rel, data, len); break;
	default: break;
	}
	pthread_mutex_unlock(&vp->dev->lock);
}

static const struct bus_device_ops bar_ops = {
	.read = vp_bar_read,
	.write = vp_bar_write,
};

/* Notify ioeventfds. Len 0 matches writes of any width and takes KVM's
 * fast MMIO path; kernels without it get len 2, the width drivers use. If
 * the VM refuses both, notify writes exit to userspace and notify_write()
 * still delivers them. Host lock held. */
static int ioeventfd(struct virtio_pci *vp, unsigned q, uint64_t gpa,
		     int len, bool assign)
{
	const struct vm_ops *vm = vp->env.vm;
	return vm->ops->ioeventfd(vm->ctx, gpa + q * VP_NOTIFY_MULT,
				  (unsigned)len, vp->notifiers[q].fd, assign);
}

static void ioeventfds_unregister(struct virtio_pci *vp)
{
	for (unsigned q = 0; q < vp->dev->nr_queues; q++) {
		if (vp->notifiers[q].ioeventfd)
			ioeventfd(vp, q, vp->ioeventfd_gpa, vp->ioeventfd_len, false);
		vp->notifiers[q].ioeventfd = false;
	}
	vp->ioeventfd_len = -1;
}

/* Registers every queue's notify address at len, or none of them. */
static bool ioeventfds_try(struct virtio_pci *vp, uint64_t gpa, int len)
{
	vp->ioeventfd_gpa = gpa;
	vp->ioeventfd_len = len;
	for (unsigned q = 0; q < vp->dev->nr_queues; q++) {
		if (ioeventfd(vp, q, gpa, len, true)) {
			ioeventfds_unregister(vp);
			return false;
		}
		vp->notifiers[q].ioeventfd = true;
	}
	return true;
}

static void ioeventfds_register(struct virtio_pci *vp, uint64_t gpa)
{
	if (!ioeventfds_try(vp, gpa, 0))
		ioeventfds_try(vp, gpa, 2);
}

static void bars_changed(struct pci_function *fn)
{
	struct virtio_pci *vp = fn->opaque;
	const struct pci_bar *bar = &fn->bars[0];
	uint64_t gpa = bar->addr + VP_NOTIFY_OFF;
	if (!vm_ops_present(vp->env.vm))
		return;
	if (vp->ioeventfd_len >= 0 && (!bar->mapped || gpa != vp->ioeventfd_gpa))
		ioeventfds_unregister(vp);
	if (bar->mapped && vp->ioeventfd_len < 0)
		ioeventfds_register(vp, gpa);
}

static void queue_notified(void *opaque)
{
	struct vp_notifier *n = opaque;
	struct virtio_dev *dev = n->vp->dev;
	if (dev->ops->queue_notify)
		dev->ops->queue_notify(dev, n->q);
}

/* Transport ops: dev->lock held. The ISR's queue bit is only for INTx,
 * so it is set only while MSI-X is off (§ 4.1.4.5.1). */
static void notify_queue(void *transport, unsigned q)
{
	struct virtio_pci *vp = transport;
	if (q >= vp->dev->nr_queues)
		return;
	if (!vp->msix_enabled)
		vp->isr |= ISR_QUEUE;
	vp_msix_deliver(vp, vp->dev->queues[q].msix_vector);
}

static void notify_config(void *transport)
{
	struct virtio_pci *vp = transport;
	vp->isr |= VIRTIO_PCI_ISR_CONFIG;
	vp_msix_deliver(vp, vp->config_vector);
}

static const struct virtio_transport_ops transport_ops = {
	.notify_queue = notify_queue,
	.notify_config = notify_config,
};

static const struct pci_function_ops function_ops = {
	.config_read = vp_config_read,
	.config_write = vp_config_write,
	.bars_changed = bars_changed,
};

static int setup(struct virtio_pci *vp, uint64_t bar_gpa,
		 struct phy_error *err)
{
	struct virtio_dev *dev = vp->dev;
	if (!vp->env.host)
		return phy_err(err, PHY_E_INTERNAL, "%s: no PCI host", dev->name);
	if (bar_gpa & (vp->l.bar_size - 1))
		return phy_err(err, PHY_E_INTERNAL,
			       "%s: BAR address 0x%llx is not aligned to its size",
			       dev->name, (unsigned long long)bar_gpa);
	/* Each array is put in a state destroy can undo before anything
	 * else can fail. */
	vp->vectors = calloc(vp->l.nr_vectors, sizeof(*vp->vectors));
	if (!vp->vectors)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", dev->name);
	vp_msix_reset_table(vp);
	vp->notifiers = calloc(dev->nr_queues + 1, sizeof(*vp->notifiers));
	if (!vp->notifiers)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", dev->name);
	for (unsigned q = 0; q < dev->nr_queues; q++)
		vp->notifiers[q] = (struct vp_notifier){ vp, q, -1, false };
	/* Blocking, unlike irqfds: io_uring then always waits for them by
	 * polling, where a non-blocking read could complete with -EAGAIN
	 * on kernels whose eventfds lack FMODE_NOWAIT. Writers are KVM and
	 * notify_write(), which could block only at a counter overflow. */
	for (unsigned q = 0; q < dev->nr_queues; q++) {
		vp->notifiers[q].fd = eventfd(0, EFD_CLOEXEC);
		if (vp->notifiers[q].fd < 0)
			return phy_err_errno(err, PHY_E_IO, errno, "%s: eventfd",
					     dev->name);
	}
	int ret = vp_msix_init(vp, err);
	if (ret)
		return ret;
	vp_config_build(vp);
	pci_function_set_bar(&vp->fn, 0, vp->l.bar_size, true, false, bar_gpa,
			     &bar_ops, vp);
	ret = pci_host_plug(vp->env.host, vp->slot, &vp->fn, err);
	if (ret)
		return ret;
	vp->plugged = true;
	/* Last: the loop keeps its watches even if creation fails. */
	for (unsigned q = 0; vp->env.loop && q < dev->nr_queues; q++) {
		ret = io_loop_watch_eventfd(vp->env.loop, vp->notifiers[q].fd,
					    queue_notified, &vp->notifiers[q], err);
		if (ret)
			return ret;
	}
	return 0;
}

int virtio_pci_create(struct virtio_pci **out, struct virtio_dev *dev,
		      const struct virtio_pci_env *env, unsigned slot,
		      uint64_t bar_gpa, struct phy_error *err)
{
	struct virtio_pci *vp = calloc(1, sizeof(*vp));
	if (!vp)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", dev->name);
	vp->dev = dev;
	vp->env = *env;
	vp->slot = slot;
	vp->config_vector = VP_NO_VECTOR;
	vp->ioeventfd_len = -1;
	vp->fn.ops = &function_ops;
	vp->fn.opaque = vp;
	vp_layout(dev->nr_queues, &vp->l);
	int ret = setup(vp, bar_gpa, err);
	if (ret) {
		virtio_pci_destroy(vp);
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	dev->transport_ops = &transport_ops;
	dev->transport = vp;
	pthread_mutex_unlock(&dev->lock);
	*out = vp;
	return 0;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	if (!vp)
		return;
	if (vp->plugged)
		pci_host_unplug(vp->env.host, PCI_DEVFN(vp->slot, 0));
	if (vp->ioeventfd_len >= 0)
		ioeventfds_unregister(vp);
	for (unsigned q = 0; vp->notifiers && q < vp->dev->nr_queues; q++)
		if (vp->notifiers[q].fd >= 0)
			close(vp->notifiers[q].fd);
	vp_msix_destroy(vp);
	pthread_mutex_lock(&vp->dev->lock);
	if (vp->dev->transport == vp) {
		vp->dev->transport_ops = NULL;
		vp->dev->transport = NULL;
	}
	pthread_mutex_unlock(&vp->dev->lock);
	free(vp->notifiers);
	free(vp->vectors);
	free(vp);
}

unsigned virtio_pci_nr_vectors(const struct virtio_pci *vp)
{
	return vp->l.nr_vectors;
}

unsigned virtio_pci_slot(const struct virtio_pci *vp)
{
	return vp->slot;
}

int virtio_pci_queue_eventfd(const struct virtio_pci *vp, unsigned q)
{
	return q < vp->dev->nr_queues ? vp->notifiers[q].fd : -1;
}

int virtio_pci_vector_eventfd(const struct virtio_pci *vp, unsigned v)
{
	return v < vp->l.nr_vectors ? vp->vectors[v].fd : -1;
}

int virtio_pci_ioeventfd_len(const struct virtio_pci *vp)
{
	return vp->ioeventfd_len;
}
