/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM side of devices/vm_ops.h on KVM: interrupt lines through
 * KVM_IRQ_LINE, MSI sources as irqfds on GSIs the irq router routes, and
 * notification addresses as ioeventfds. With vm_fd -1 (tests) the GSI
 * table is kept but nothing reaches a kernel: irqfds are not bound and
 * ioeventfds are refused, so devices fall back to their MMIO handlers.
 */
#ifndef PHY_VMM_KVM_VM_OPS_H
#define PHY_VMM_KVM_VM_OPS_H

#include "devices/vm_ops.h"
#include "vmm/irq_router.h"

struct kvm_vm_ops {
	struct vm_ops ops; /* what the devices are given */
	int vm_fd;
	struct irq_router irqs;
};

/* Commits the irqchip's routes (irq_router_init); vm_fd may be -1. */
int kvm_vm_ops_init(struct kvm_vm_ops *k, int vm_fd, struct phy_error *err);
/* Safe on a zeroed struct and after a failed init. */
void kvm_vm_ops_destroy(struct kvm_vm_ops *k);

#endif
