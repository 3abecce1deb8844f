// SPDX-License-Identifier: Apache-2.0
#include "vmm/kvm_vm_ops.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "common/error.h"

static void set_line(void *ctx, unsigned gsi, int level)
{
	struct kvm_vm_ops *k = ctx;
	struct kvm_irq_level irq = { .irq = gsi, .level = level };
	if (k->vm_fd >= 0)
		ioctl(k->vm_fd, KVM_IRQ_LINE, &irq);
}

static int msi_add(void *ctx, int fd, uint32_t *handle, struct phy_error *err)
{
	struct kvm_vm_ops *k = ctx;
	int ret = irq_router_alloc_msi(&k->irqs, handle, err);
	if (ret || k->vm_fd < 0)
		return ret;
	struct kvm_irqfd irqfd = { .fd = (uint32_t)fd, .gsi = *handle };
	if (ioctl(k->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		ret = phy_err_errno(err, PHY_E_KVM, errno, "KVM_IRQFD");
		irq_router_free_msi(&k->irqs, *handle);
	}
	return ret;
}

static int msi_route(void *ctx, uint32_t handle, uint64_t addr, uint32_t data,
		     struct phy_error *err)
{
	struct kvm_vm_ops *k = ctx;
	return irq_router_set_msi(&k->irqs, handle, addr, data, err);
}

static void msi_remove(void *ctx, uint32_t handle, int fd)
{
	struct kvm_vm_ops *k = ctx;
	if (k->vm_fd >= 0) {
		struct kvm_irqfd irqfd = {
			.fd = (uint32_t)fd,
			.gsi = handle,
			.flags = KVM_IRQFD_FLAG_DEASSIGN,
		};
		ioctl(k->vm_fd, KVM_IRQFD, &irqfd);
	}
	irq_router_free_msi(&k->irqs, handle);
}

static int ioeventfd(void *ctx, uint64_t addr, unsigned len, int fd,
		     bool assign)
{
	struct kvm_vm_ops *k = ctx;
	if (k->vm_fd < 0)
		return -ENOSYS;
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	return ioctl(k->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static const struct vm_ops_table kvm_table = {
	.set_line = set_line,
	.msi_add = msi_add,
	.msi_route = msi_route,
	.msi_remove = msi_remove,
	.ioeventfd = ioeventfd,
};

int kvm_vm_ops_init(struct kvm_vm_ops *k, int vm_fd, struct phy_error *err)
{
	k->vm_fd = vm_fd;
	k->ops = (struct vm_ops){ &kvm_table, k };
	return irq_router_init(&k->irqs, vm_fd, err);
}

void kvm_vm_ops_destroy(struct kvm_vm_ops *k)
{
	irq_router_destroy(&k->irqs);
	k->ops = (struct vm_ops){ 0 };
}
