/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CPUID a vCPU sees: KVM's supported set, with a topology that matches
 * the machine (one socket, N cores, one thread each, APIC ID = vCPU index),
 * the hypervisor bit and KVM's paravirtual leaves.
 */
#ifndef PHY_ARCH_X86_64_CPUID_H
#define PHY_ARCH_X86_64_CPUID_H

#include <linux/kvm.h>

/*
 * Writes into `out` (capacity out_max entries) the CPUID for vCPU `index` of
 * `nr_cpus`, starting from KVM's supported entries. Returns the number of
 * entries, or -1 if out is too small.
 */
int x86_cpuid_build(const struct kvm_cpuid2 *supported, unsigned index,
		    unsigned nr_cpus, struct kvm_cpuid_entry2 *out,
		    unsigned out_max);

/* Bits needed to hold n distinct values (0 for n <= 1). */
unsigned x86_cpuid_bits_for(unsigned n);

#endif
