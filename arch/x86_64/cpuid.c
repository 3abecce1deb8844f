/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86_64/cpuid.h"

#include <string.h>

#define LEAF_FEATURES 0x1
#define LEAF_CACHE 0x4
#define LEAF_TOPOLOGY 0xb
#define LEAF_TOPOLOGY_V2 0x1f
#define LEAF_KVM_SIGNATURE 0x40000000
#define LEAF_KVM_FEATURES 0x40000001
#define LEAF_EXT_FEATURES 0x80000001
#define LEAF_EXT_SIZES 0x80000008
#define LEAF_AMD_TOPOLOGY 0x8000001e

#define ECX_HYPERVISOR (1u << 31)
#define EDX_HTT (1u << 28)
#define EXT_ECX_CMP_LEGACY (1u << 1)
#define EXT_ECX_TOPOEXT (1u << 22)
#define TOPO_TYPE_SMT 1
#define TOPO_TYPE_CORE 2

unsigned x86_cpuid_bits_for(unsigned n)
{
	unsigned bits = 0;
	while ((1u << bits) < n)
		bits++;
	return bits;
}

static void patch_features(struct kvm_cpuid_entry2 *e, unsigned index,
			   unsigned nr_cpus)
{
	unsigned logical = 1u << x86_cpuid_bits_for(nr_cpus);
	/* EBX: APIC ID, logical processors per package, CLFLUSH line (8x8). */
	e->ebx = (index << 24) | ((logical > 255 ? 255 : logical) << 16) |
		 (8 << 8);
	e->ecx |= ECX_HYPERVISOR;
	if (nr_cpus > 1)
		e->edx |= EDX_HTT;
	else
		e->edx &= ~EDX_HTT;
}

/* Deterministic cache parameters: EAX[31:26] cores per package - 1,
 * EAX[25:14] threads sharing the cache - 1 (only the last level shared). */
static void patch_cache(struct kvm_cpuid_entry2 *e, unsigned nr_cpus)
{
	unsigned level = (e->eax >> 5) & 7;
	unsigned cores = 1u << x86_cpuid_bits_for(nr_cpus);
	e->eax &= 0x3fff;
	if ((e->eax & 0x1f) == 0)
		return; /* no more caches */
	e->eax |= ((cores - 1) & 0x3f) << 26;
	if (level >= 3)
		e->eax |= ((cores - 1) & 0xfff) << 14;
}

/* Extended topology: subleaf 0 = SMT (one thread), 1 = core, 2 = end. */
static void patch_topology(struct kvm_cpuid_entry2 *e, unsigned index,
			   unsigned nr_cpus)
{
	unsigned sub = e->index;
	e->edx = index;
	if (sub == 0) {
		e->eax = 0;
		e->ebx = 1;
		e->ecx = (TOPO_TYPE_SMT << 8) | sub;
	} else if (sub == 1) {
		e->eax = x86_cpuid_bits_for(nr_cpus);
		e->ebx = nr_cpus;
		e->ecx = (TOPO_TYPE_CORE << 8) | sub;
	} else {
		e->eax = 0;
		e->ebx = 0;
		e->ecx = sub;
	}
}

static void patch_kvm_signature(struct kvm_cpuid_entry2 *e)
{
	e->eax = LEAF_KVM_FEATURES;
	memcpy(&e->ebx, "KVMK", 4);
	memcpy(&e->ecx, "VMKV", 4);
	memcpy(&e->edx, "M\0\0\0", 4);
}

static void patch_ext_sizes(struct kvm_cpuid_entry2 *e, unsigned nr_cpus)
{
	/* ECX[15:12]: APIC ID bits per package; [7:0]: cores - 1. */
	e->ecx = (x86_cpuid_bits_for(nr_cpus) << 12) | ((nr_cpus - 1) & 0xff);
}

static void patch_amd_topology(struct kvm_cpuid_entry2 *e, unsigned index)
{
	e->eax = index; /* extended APIC ID */
	e->ebx = index; /* core ID; [15:8] threads per core - 1 = 0 */
	e->ecx = 0;     /* node 0, one node */
	e->edx = 0;
}

static void patch_entry(struct kvm_cpuid_entry2 *e, unsigned index,
			unsigned nr_cpus)
{
	switch (e->function) {
	case LEAF_FEATURES:
		patch_features(e, index, nr_cpus);
		break;
	case LEAF_CACHE:
		patch_cache(e, nr_cpus);
		break;
	case LEAF_TOPOLOGY:
	case LEAF_TOPOLOGY_V2:
		patch_topology(e, index, nr_cpus);
		break;
	case LEAF_KVM_SIGNATURE:
		patch_kvm_signature(e);
		break;
	case LEAF_EXT_FEATURES:
		if (nr_cpus > 1)
			e->ecx |= EXT_ECX_CMP_LEGACY;
		else
			e->ecx &= ~EXT_ECX_CMP_LEGACY;
		break;
	case LEAF_EXT_SIZES:
		patch_ext_sizes(e, nr_cpus);
		break;
	case LEAF_AMD_TOPOLOGY:
		patch_amd_topology(e, index);
		break;
	}
}

int x86_cpuid_build(const struct kvm_cpuid2 *supported, unsigned index,
		    unsigned nr_cpus, struct kvm_cpuid_entry2 *out,
		    unsigned out_max)
{
	if (supported->nent > out_max)
		return -1;
	unsigned n = 0;
	for (unsigned i = 0; i < supported->nent; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];
		/* Leaf 0x1f mirrors 0xb; dropping it keeps one source of truth
		 * for guests that prefer it. */
		if (e.function == LEAF_TOPOLOGY_V2)
			continue;
		patch_entry(&e, index, nr_cpus);
		out[n++] = e;
	}
	return (int)n;
}
