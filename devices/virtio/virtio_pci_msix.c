// SPDX-License-Identifier: Apache-2.0
/*
 * MSI-X for the virtio-pci transport (PCI Local Bus 3.0 § 6.8.2): the table
 * and PBA in the BAR, and delivery. Each vector is an eventfd the VM
 * turns into its message (an irqfd on KVM), so raising it is one write()
 * from the device loop. A vector's message is handed to the VM only when
 * the vector is unmasked: Linux programs entries while masked, and each
 * routing update costs KVM an RCU grace period.
 *
 * Everything here but init/destroy runs with dev->lock held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/error.h"
#include "devices/virtio/virtio_pci_internal.h"

#define ENTRY_SIZE 16
#define CTRL_MASKED 0x1
#define CONTROL_MASKALL 0x4000
#define CONTROL_ENABLE 0x8000

static int bind_vector(struct virtio_pci *vp, struct vp_vector *vec,
		       struct phy_error *err)
{
	vec->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vec->fd < 0)
		return phy_err_errno(err, PHY_E_IO, errno, "%s: eventfd",
				     vp->dev->name);
	const struct vm_ops *vm = vp->env.vm;
	if (!vm_ops_present(vm))
		return 0;
	struct phy_error why;
	if (vm->ops->msi_add(vm->ctx, vec->fd, &vec->msi, &why))
		return phy_err(err, why.code, "%s: MSI-X: %s", vp->dev->name,
			       why.message);
	vec->has_msi = true;
	return 0;
}

void vp_msix_reset_table(struct virtio_pci *vp)
{
	for (unsigned v = 0; v < vp->l.nr_vectors; v++)
		vp->vectors[v] = (struct vp_vector){ .ctrl = CTRL_MASKED, .fd = -1 };
}

int vp_msix_init(struct virtio_pci *vp, struct phy_error *err)
{
	for (unsigned v = 0; v < vp->l.nr_vectors; v++) {
		int ret = bind_vector(vp, &vp->vectors[v], err);
		if (ret)
			return ret;
	}
	return 0;
}

void vp_msix_destroy(struct virtio_pci *vp)
{
	for (unsigned v = 0; vp->vectors && v < vp->l.nr_vectors; v++) {
		struct vp_vector *vec = &vp->vectors[v];
		if (vec->has_msi)
			vp->env.vm->ops->msi_remove(vp->env.vm->ctx, vec->msi,
						    vec->fd);
		if (vec->fd >= 0)
			close(vec->fd);
	}
}

uint16_t vp_msix_check_vector(const struct virtio_pci *vp, uint16_t v)
{
	return v < vp->l.nr_vectors ? v : VP_NO_VECTOR;
}

static bool masked(const struct virtio_pci *vp, const struct vp_vector *vec)
{
	return !vp->msix_enabled || vp->msix_masked || (vec->ctrl & CTRL_MASKED);
}

/* Gives the router the vector's message if it changed. A failure is
 * logged once and retried at the next delivery or unmask. */
static void update_route(struct virtio_pci *vp, struct vp_vector *vec)
{
	if (!vec->route_dirty)
		return;
	if (!vec->has_msi) {
		vec->route_dirty = false;
		return;
	}
	struct phy_error err;
	const struct vm_ops *vm = vp->env.vm;
	if (!vm->ops->msi_route(vm->ctx, vec->msi, vec->addr, vec->data,
				&err)) {
		vec->route_dirty = false;
	} else if (!vp->logged_route_error && vp->dev->log) {
		char msg[sizeof(err.message) + 64];
		snprintf(msg, sizeof(msg), "%s: MSI-X route: %s", vp->dev->name,
			 err.message);
		vp->dev->log(vp->dev->log_opaque, msg);
		vp->logged_route_error = true;
	}
}

static void signal_vector(struct vp_vector *vec)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: an interrupt is pending
	 * anyway. */
	if (write(vec->fd, &one, sizeof(one)) < 0) {
	}
}

/* After anything that may unmask vec: route it, and send what the PBA
 * held back. */
static void refresh(struct virtio_pci *vp, struct vp_vector *vec)
{
	if (masked(vp, vec))
		return;
	update_route(vp, vec);
	if (vec->pending) {
		vec->pending = false;
		signal_vector(vec);
	}
}

void vp_msix_deliver(struct virtio_pci *vp, uint16_t v)
{
	if (v >= vp->l.nr_vectors)
		return; /* VIRTIO_MSI_NO_VECTOR: the driver wants none */
	struct vp_vector *vec = &vp->vectors[v];
	if (masked(vp, vec)) {
		vec->pending = true;
		return;
	}
	update_route(vp, vec);
	signal_vector(vec);
}

void vp_msix_control(struct virtio_pci *vp, uint16_t control)
{
	vp->msix_enabled = control & CONTROL_ENABLE;
	vp->msix_masked = control & CONTROL_MASKALL;
	for (unsigned v = 0; v < vp->l.nr_vectors; v++)
		refresh(vp, &vp->vectors[v]);
}

static void entry_to_bytes(const struct vp_vector *vec, uint8_t *b)
{
	uint32_t w[4] = { (uint32_t)vec->addr, (uint32_t)(vec->addr >> 32),
			  vec->data, vec->ctrl };
	for (unsigned i = 0; i < ENTRY_SIZE; i++)
		b[i] = w[i / 4] >> (8 * (i % 4));
}

static uint32_t le32(const uint8_t *b)
{
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

/* The table is meant for aligned dword and qword accesses; others are
 * merged byte by byte, which is harmless. Entries past the last vector
 * read 0 and ignore writes. */
void vp_msix_table_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
			uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint64_t e = (off + i) / ENTRY_SIZE;
		uint8_t b[ENTRY_SIZE] = { 0 };
		if (e < vp->l.nr_vectors)
			entry_to_bytes(&vp->vectors[e], b);
		data[i] = b[(off + i) % ENTRY_SIZE];
	}
}

static void entry_write(struct virtio_pci *vp, struct vp_vector *vec,
			const uint8_t *b)
{
	uint64_t addr = le32(b) | (uint64_t)le32(b + 4) << 32;
	uint32_t data = le32(b + 8);
	if (addr != vec->addr || data != vec->data)
		vec->route_dirty = true;
	vec->addr = addr;
	vec->data = data;
	vec->ctrl = le32(b + 12) & CTRL_MASKED;
	refresh(vp, vec);
}

void vp_msix_table_write(struct virtio_pci *vp, uint64_t off,
			 const uint8_t *data, uint32_t len)
{
	uint64_t first = off / ENTRY_SIZE, last = (off + len - 1) / ENTRY_SIZE;
	for (uint64_t e = first; e <= last && e < vp->l.nr_vectors; e++) {
		uint8_t b[ENTRY_SIZE];
		entry_to_bytes(&vp->vectors[e], b);
		for (uint32_t i = 0; i < len; i++)
			if ((off + i) / ENTRY_SIZE == e)
				b[(off + i) % ENTRY_SIZE] = data[i];
		entry_write(vp, &vp->vectors[e], b);
	}
}

void vp_msix_pba_read(struct virtio_pci *vp, uint64_t off, uint8_t *data,
		      uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		uint8_t byte = 0;
		for (unsigned bit = 0; bit < 8; bit++) {
			uint64_t v = 8 * (off + i) + bit;
			if (v < vp->l.nr_vectors && vp->vectors[v].pending)
				byte |= 1u << bit;
		}
		data[i] = byte;
	}
}
