/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A VM's KVM GSI routing table. KVM_SET_GSI_ROUTING replaces the whole
 * table, so one owner keeps all of it: the in-kernel irqchip's routes,
 * exactly as KVM sets them up by default (GSI 0-15 to both the PIC and
 * IOAPIC pin, 16-23 to IOAPIC pins only), then one MSI route per GSI from
 * IRQ_ROUTER_FIRST_MSI_GSI up, which devices bind to irqfds.
 *
 * Thread-safe: vCPU threads programming different devices' MSI-X tables
 * call in at once; a mutex serialises the table and its commits.
 */
#ifndef PHY_VMM_IRQ_ROUTER_H
#define PHY_VMM_IRQ_ROUTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#define IRQ_ROUTER_FIRST_MSI_GSI 24 /* after the IOAPIC's 24 pins */

struct irq_msi_route {
	bool allocated;
	bool routed; /* addr/data are in the table */
	uint64_t addr;
	uint32_t data;
};

struct irq_router {
	pthread_mutex_t lock;
	bool ready;     /* init succeeded: destroy has work to do */
	int vm_fd;      /* -1: keep the table but tell no KVM (tests) */
	unsigned max_msi; /* what KVM's route limit leaves for MSI */
	struct irq_msi_route *msi; /* GSI IRQ_ROUTER_FIRST_MSI_GSI + i */
	unsigned nr_msi, cap_msi;
	uint64_t commits; /* KVM_SET_GSI_ROUTING calls made (tests) */
};

/*
 * Sets up the table for a VM whose in-kernel irqchip exists already and
 * commits the irqchip routes, so a KVM without GSI routing fails here, at
 * build time, rather than at the guest's first MSI. vm_fd may be -1.
 */
int irq_router_init(struct irq_router *r, int vm_fd, struct phy_error *err);
/* Safe on a zeroed struct and after a failed init. */
void irq_router_destroy(struct irq_router *r);

/* A free MSI GSI, with no route yet: an irqfd on it delivers nothing until
 * irq_router_set_msi(). */
int irq_router_alloc_msi(struct irq_router *r, uint32_t *gsi,
			 struct phy_error *err);

/* Routes gsi to the MSI message addr/data and commits the table (no ioctl
 * when the route is unchanged). */
int irq_router_set_msi(struct irq_router *r, uint32_t gsi, uint64_t addr,
		       uint32_t data, struct phy_error *err);

/*
 * Gives gsi back. The route leaves KVM's table at the next commit, not now:
 * the caller has stopped signalling it, and teardown should not pay one
 * routing update (an RCU grace period in KVM) per vector.
 */
void irq_router_free_msi(struct irq_router *r, uint32_t gsi);

/* Where gsi is routed; false when it has no MSI route (tests). */
bool irq_router_get_msi(struct irq_router *r, uint32_t gsi, uint64_t *addr,
			uint32_t *data);

#endif
