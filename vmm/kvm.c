/* SPDX-License-Identifier: Apache-2.0 */
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.h"

#define CPUID_MAX_ENTRIES 256

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
};

static int open_error(const char *path, int e, struct phy_error *err)
{
	if (e == ENOENT)
		return phy_err(err, PHY_E_KVM,
			       "KVM: %s does not exist (load kvm-intel or kvm-amd, and enable virtualization in the firmware)",
			       path);
	if (e == EACCES || e == EPERM)
		return phy_err(err, PHY_E_KVM,
			       "KVM: no permission to open %s (add your user to the 'kvm' group)",
			       path);
	return phy_err_errno(err, PHY_E_KVM, e, "KVM: cannot open %s", path);
}

static int load_supported_cpuid(struct kvm_host *kvm, struct phy_error *err)
{
	size_t sz = sizeof(struct kvm_cpuid2) +
		    CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, sz);
	if (!c)
		return phy_err(err, PHY_E_NOMEM, "KVM: out of memory");
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm->fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		int e = errno;
		free(c);
		return phy_err_errno(err, PHY_E_KVM, e,
				     "KVM: KVM_GET_SUPPORTED_CPUID failed");
	}
	kvm->supported_cpuid = c;
	return 0;
}

int kvm_host_open(struct kvm_host *kvm, const char *path,
		  struct phy_error *err)
{
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = open(path, O_RDWR | O_CLOEXEC);
	if (kvm->fd < 0)
		return open_error(path, errno, err);

	int ret;
	int version = ioctl(kvm->fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		ret = phy_err(err, PHY_E_KVM,
			      "KVM: %s has API version %d, this VMM needs %d",
			      path, version, KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(kvm->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			ret = phy_err(err, PHY_E_KVM,
				      "KVM: %s lacks the required capability %s",
				      path, required_caps[i].name);
			goto fail;
		}
	}
	kvm->vcpu_mmap_size = ioctl(kvm->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		ret = phy_err(err, PHY_E_KVM, "KVM: bad vCPU mmap size %d",
			      kvm->vcpu_mmap_size);
		goto fail;
	}
	kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = ioctl(kvm->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (kvm->max_vcpus <= 0)
		kvm->max_vcpus = 4; /* KVM's documented minimum */
	ret = load_supported_cpuid(kvm, err);
	if (ret)
		goto fail;
	return 0;
fail:
	close(kvm->fd);
	kvm->fd = -1;
	return ret;
}

void kvm_host_close(struct kvm_host *kvm)
{
	if (kvm->fd >= 0)
		close(kvm->fd);
	free(kvm->supported_cpuid);
	memset(kvm, 0, sizeof(*kvm));
	kvm->fd = -1;
}
