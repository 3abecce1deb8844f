/* SPDX-License-Identifier: Apache-2.0 */
/* Opening and checking /dev/kvm. */
#ifndef PHY_VMM_KVM_H
#define PHY_VMM_KVM_H

#include <phyllome/vmm.h>

struct kvm_cpuid2;

struct kvm_host {
	int fd;
	int vcpu_mmap_size;
	int max_vcpus;
	struct kvm_cpuid2 *supported_cpuid; /* KVM_GET_SUPPORTED_CPUID */
};

/* Opens path (normally "/dev/kvm"), checks the API version and every
 * capability the VMM needs; each failure is one clear line. */
int kvm_host_open(struct kvm_host *kvm, const char *path,
		  struct phy_error *err);
void kvm_host_close(struct kvm_host *kvm);

#endif
