/* SPDX-License-Identifier: Apache-2.0 */
/* CPUID topology: every vCPU of N sees its own APIC ID, N cores in one
 * package, the hypervisor bit and KVM's signature. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86_64/cpuid.h"
#include "check.h"

#define MAXE 64

static struct kvm_cpuid2 *fake_supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAXE * sizeof(c->entries[0]));
	struct kvm_cpuid_entry2 *e = c->entries;
	unsigned n = 0;
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 1, .eax = 0x800f12,
					    .ebx = 0xff0a0800, .ecx = 0x1, .edx = 0x178bfbff };
	for (unsigned i = 0; i < 5; i++) /* L1d, L1i, L2, L3, end */
		e[n++] = (struct kvm_cpuid_entry2){
			.function = 4, .index = i, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.eax = i == 4 ? 0 : (((i < 2 ? 1 : i) << 5) | (i == 1 ? 2 : 1)) };
	for (unsigned i = 0; i < 3; i++) {
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = i,
						    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
						    .eax = 7, .ebx = 99, .ecx = 0x999, .edx = 42 };
		e[n++] = (struct kvm_cpuid_entry2){ .function = 0x1f, .index = i,
						    .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	}
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x1000 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000000, .eax = 0x8000001e };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000001, .ecx = 0x3 };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .eax = 0x3030, .ecx = 0x703f };
	e[n++] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 0x77, .ebx = 0x105 };
	c->nent = n;
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid_entry2 *e, int n,
					   uint32_t fn, uint32_t idx)
{
	for (int i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

static void check_topology(const struct kvm_cpuid2 *sup, unsigned nr)
{
	struct kvm_cpuid_entry2 out[MAXE + 8];
	for (unsigned cpu = 0; cpu < nr; cpu++) {
		int n = x86_cpuid_build(sup, cpu, nr, out, MAXE + 8);
		CHECK(n > 0);
		const struct kvm_cpuid_entry2 *l1 = find(out, n, 1, 0);
		CHECK(l1 && (l1->ebx >> 24) == cpu);
		CHECK(l1 && (l1->ecx & (1u << 31)));
		CHECK(l1 && (((l1->ebx >> 16) & 0xff) >= (nr > 255 ? 255 : nr)));
		CHECK(l1 && !!(l1->edx & (1u << 28)) == (nr > 1));
		const struct kvm_cpuid_entry2 *smt = find(out, n, 0xb, 0);
		const struct kvm_cpuid_entry2 *core = find(out, n, 0xb, 1);
		const struct kvm_cpuid_entry2 *end = find(out, n, 0xb, 2);
		if (smt && core && end) {
			CHECK(smt->ebx == 1 && ((smt->ecx >> 8) & 0xff) == 1);
			CHECK(core->ebx == nr && ((core->ecx >> 8) & 0xff) == 2);
			CHECK((1u << core->eax) >= nr);
			CHECK(core->eax == 0 || (1u << (core->eax - 1)) < nr);
			CHECK(smt->edx == cpu && core->edx == cpu);
			CHECK(((end->ecx >> 8) & 0xff) == 0);
		}
		CHECK(find(out, n, 0x1f, 0) == NULL);
		const struct kvm_cpuid_entry2 *kvm = find(out, n, 0x40000000, 0);
		CHECK(kvm && !memcmp(&kvm->ebx, "KVMK", 4) && !memcmp(&kvm->ecx, "VMKV", 4));
		const struct kvm_cpuid_entry2 *sz = find(out, n, 0x80000008, 0);
		if (sz)
			CHECK((sz->ecx & 0xff) == nr - 1);
		const struct kvm_cpuid_entry2 *amd = find(out, n, 0x8000001e, 0);
		if (amd)
			CHECK(amd->eax == cpu && ((amd->ebx >> 8) & 0xff) == 0);
		const struct kvm_cpuid_entry2 *l4 = find(out, n, 4, 0);
		if (l4 && (l4->eax & 0x1f))
			CHECK(((l4->eax >> 26) + 1) >= (nr > 64 ? 64 : nr)); /* 6-bit field */
	}
}

static void test_bits(void)
{
	CHECK(x86_cpuid_bits_for(0) == 0);
	CHECK(x86_cpuid_bits_for(1) == 0);
	CHECK(x86_cpuid_bits_for(2) == 1);
	CHECK(x86_cpuid_bits_for(3) == 2);
	CHECK(x86_cpuid_bits_for(4) == 2);
	CHECK(x86_cpuid_bits_for(5) == 3);
	CHECK(x86_cpuid_bits_for(255) == 8);
}

static void test_small_output(void)
{
	struct kvm_cpuid2 *sup = fake_supported();
	struct kvm_cpuid_entry2 out[4];
	CHECK(x86_cpuid_build(sup, 0, 1, out, 4) == -1);
	free(sup);
}

/* The same checks on this host's real KVM_GET_SUPPORTED_CPUID. */
static void test_host(void)
{
	int fd = open("/dev/kvm", O_RDWR);
	if (fd < 0) {
		printf("note: no /dev/kvm, host CPUID not checked\n");
		return;
	}
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));
	c->nent = 256;
	CHECK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c) == 0);
	if (c->nent <= MAXE) {
		check_topology(c, 1);
		check_topology(c, 4);
		check_topology(c, 16);
	} else {
		struct kvm_cpuid_entry2 *out = calloc(c->nent, sizeof(*out));
		CHECK(x86_cpuid_build(c, 3, 4, out, c->nent) > 0);
		free(out);
	}
	free(c);
	close(fd);
}

int main(void)
{
	test_bits();
	struct kvm_cpuid2 *sup = fake_supported();
	check_topology(sup, 1);
	check_topology(sup, 2);
	check_topology(sup, 4);
	check_topology(sup, 6);
	check_topology(sup, 16);
	check_topology(sup, 255);
	free(sup);
	test_small_output();
	test_host();
	return check_report("test_cpuid");
}
