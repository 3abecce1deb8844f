// SPDX-License-Identifier: Apache-2.0
#include "vmm/irq_router.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/error.h"

#define ISA_IRQS 16
#define IOAPIC_PINS 24
/* ISA IRQs go to a PIC and an IOAPIC pin each, the rest to the IOAPIC. */
#define IRQCHIP_ROUTES (2 * ISA_IRQS + (IOAPIC_PINS - ISA_IRQS))
/* KVM_MAX_IRQ_ROUTES on every kernel we run on; KVM may say less. */
#define DEFAULT_MAX_ROUTES 4096

static void add_irqchip(struct kvm_irq_routing_entry *e, uint32_t gsi,
			uint32_t chip, uint32_t pin)
{
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_IRQCHIP;
	e->u.irqchip.irqchip = chip;
	e->u.irqchip.pin = pin;
}

static unsigned fill_irqchip_routes(struct kvm_irq_routing_entry *e)
{
	unsigned n = 0;
	for (uint32_t gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi < ISA_IRQS)
			add_irqchip(&e[n++], gsi,
				    gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					      KVM_IRQCHIP_PIC_SLAVE,
				    gsi % 8);
		add_irqchip(&e[n++], gsi, KVM_IRQCHIP_IOAPIC, gsi);
	}
	return n;
}

/* Builds the whole table and hands it to KVM. Lock held. */
static int commit(struct irq_router *r, struct phy_error *err)
{
	size_t max = IRQCHIP_ROUTES + r->nr_msi;
	struct kvm_irq_routing *t =
		calloc(1, sizeof(*t) + max * sizeof(t->entries[0]));
	if (!t)
		return phy_err(err, PHY_E_NOMEM, "GSI routing: out of memory");
	unsigned n = fill_irqchip_routes(t->entries);
	for (unsigned i = 0; i < r->nr_msi; i++) {
		const struct irq_msi_route *m = &r->msi[i];
		if (!m->allocated || !m->routed)
			continue;
		struct kvm_irq_routing_entry *e = &t->entries[n++];
		e->gsi = IRQ_ROUTER_FIRST_MSI_GSI + i;
		e->type = KVM_IRQ_ROUTING_MSI;
		e->u.msi.address_lo = (uint32_t)m->addr;
		e->u.msi.address_hi = (uint32_t)(m->addr >> 32);
		e->u.msi.data = m->data;
	}
	t->nr = n;
	int ret = 0;
	if (r->vm_fd >= 0 && ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		ret = phy_err_errno(err, PHY_E_KVM, errno,
				    "KVM: KVM_SET_GSI_ROUTING failed");
	r->commits++;
	free(t);
	return ret;
}

int irq_router_init(struct irq_router *r, int vm_fd, struct phy_error *err)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	int max_routes = DEFAULT_MAX_ROUTES;
	if (vm_fd >= 0) {
		max_routes = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
		if (max_routes <= IRQCHIP_ROUTES)
			return phy_err(err, PHY_E_KVM,
				       "KVM: no GSI routing (KVM_CAP_IRQ_ROUTING), needed for MSI-X");
	}
	/* GSI numbers and the entry count are both bounded by the limit. */
	r->max_msi = (unsigned)max_routes - IRQCHIP_ROUTES;
	pthread_mutex_init(&r->lock, NULL);
	r->ready = true;
	int ret = commit(r, err);
	if (ret)
		irq_router_destroy(r);
	return ret;
}

void irq_router_destroy(struct irq_router *r)
{
	if (!r->ready)
		return;
	free(r->msi);
	r->msi = NULL;
	r->nr_msi = r->cap_msi = 0;
	pthread_mutex_destroy(&r->lock);
	r->ready = false;
}

static int grow(struct irq_router *r)
{
	unsigned cap = r->cap_msi ? 2 * r->cap_msi : 32;
	if (cap > r->max_msi)
		cap = r->max_msi;
	struct irq_msi_route *m = realloc(r->msi, cap * sizeof(*m));
	if (!m)
		return -1;
	memset(&m[r->cap_msi], 0, (cap - r->cap_msi) * sizeof(*m));
	r->msi = m;
	r->cap_msi = cap;
	return 0;
}

int irq_router_alloc_msi(struct irq_router *r, uint32_t *gsi,
			 struct phy_error *err)
{
	int ret = 0;
	pthread_mutex_lock(&r->lock);
	unsigned i = 0;
	while (i < r->nr_msi && r->msi[i].allocated)
		i++;
	if (i == r->max_msi) {
		ret = phy_err(err, PHY_E_KVM,
			      "KVM: out of GSIs for MSI (limit %u)", r->max_msi);
	} else if (i == r->cap_msi && grow(r)) {
		ret = phy_err(err, PHY_E_NOMEM, "GSI routing: out of memory");
	} else {
		r->msi[i] = (struct irq_msi_route){ .allocated = true };
		if (i == r->nr_msi)
			r->nr_msi++;
		*gsi = IRQ_ROUTER_FIRST_MSI_GSI + i;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* The route of an allocated MSI GSI, or NULL. Lock held. */
static struct irq_msi_route *lookup(struct irq_router *r, uint32_t gsi)
{
	if (gsi < IRQ_ROUTER_FIRST_MSI_GSI)
		return NULL;
	uint32_t i = gsi - IRQ_ROUTER_FIRST_MSI_GSI;
	return i < r->nr_msi && r->msi[i].allocated ? &r->msi[i] : NULL;
}

int irq_router_set_msi(struct irq_router *r, uint32_t gsi, uint64_t addr,
		       uint32_t data, struct phy_error *err)
{
	int ret = 0;
	pthread_mutex_lock(&r->lock);
	struct irq_msi_route *m = lookup(r, gsi);
	if (!m) {
		ret = phy_err(err, PHY_E_INTERNAL, "GSI %u is not an MSI GSI", gsi);
	} else if (!m->routed || m->addr != addr || m->data != data) {
		m->routed = true;
		m->addr = addr;
		m->data = data;
		ret = commit(r, err);
		if (ret)
			m->routed = false; /* retried at the next set */
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void irq_router_free_msi(struct irq_router *r, uint32_t gsi)
{
	pthread_mutex_lock(&r->lock);
	struct irq_msi_route *m = lookup(r, gsi);
	if (m)
		*m = (struct irq_msi_route){ 0 };
	while (r->nr_msi && !r->msi[r->nr_msi - 1].allocated)
		r->nr_msi--;
	pthread_mutex_unlock(&r->lock);
}

bool irq_router_get_msi(struct irq_router *r, uint32_t gsi, uint64_t *addr,
			uint32_t *data)
{
	pthread_mutex_lock(&r->lock);
	struct irq_msi_route *m = lookup(r, gsi);
	bool routed = m && m->routed;
	if (routed) {
		*addr = m->addr;
		*data = m->data;
	}
	pthread_mutex_unlock(&r->lock);
	return routed;
}
