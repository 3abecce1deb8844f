/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a device needs from the VM it is plugged into, and only that:
 * interrupt lines, MSI sources and in-kernel notification addresses. The
 * VM implements it (vmm/kvm_vm_ops.c, on KVM's irqchip, GSI routes,
 * irqfds and ioeventfds); tests implement it without KVM. A device never
 * sees a KVM file descriptor.
 *
 * Any thread may call these; the implementation serialises what it must.
 */
#ifndef PHY_DEVICES_VM_OPS_H
#define PHY_DEVICES_VM_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

struct vm_ops_table {
	/* Drives interrupt line `gsi` (an ISA IRQ or IOAPIC pin) to level. */
	void (*set_line)(void *ctx, unsigned gsi, int level);
	/*
	 * An MSI source: once routed, each write to the eventfd `fd` sends
	 * the message. *handle names it in the calls below. Until
	 * msi_route(), writes deliver nothing.
	 */
	int (*msi_add)(void *ctx, int fd, uint32_t *handle,
		       struct phy_error *err);
	int (*msi_route)(void *ctx, uint32_t handle, uint64_t addr,
			 uint32_t data, struct phy_error *err);
	void (*msi_remove)(void *ctx, uint32_t handle, int fd);
	/*
	 * Guest writes of `len` bytes (0: any width) at guest-physical
	 * `addr` signal the eventfd `fd` without leaving the kernel.
	 * Returns 0 or a negative errno; the device then serves the
	 * address from its own MMIO handler.
	 */
	int (*ioeventfd)(void *ctx, uint64_t addr, unsigned len, int fd,
			 bool assign);
};

struct vm_ops {
	const struct vm_ops_table *ops; /* NULL: none of the above (tests) */
	void *ctx;
};

static inline bool vm_ops_present(const struct vm_ops *vm)
{
	return vm && vm->ops;
}

static inline void vm_ops_set_line(const struct vm_ops *vm, unsigned gsi,
				   int level)
{
	if (vm_ops_present(vm))
		vm->ops->set_line(vm->ctx, gsi, level);
}

#endif
