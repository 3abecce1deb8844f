/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Putting a vCPU into the state its entry point expects: CPUID, MSRs, FPU and
 * LAPIC for every vCPU; registers, segments and paging for the boot vCPU.
 */
#ifndef PHY_ARCH_X86_64_VCPU_SETUP_H
#define PHY_ARCH_X86_64_VCPU_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "common/guest_mem.h"

struct kvm_cpuid2;

enum x86_entry_mode {
	X86_ENTRY_REAL16, /* real mode, CS:IP = 0:entry */
	X86_ENTRY_PROT32, /* flat 32-bit protected mode, paging off (PVH) */
	X86_ENTRY_LONG64, /* 64-bit mode, identity-mapped first 4 GiB */
};

struct x86_entry_state {
	enum x86_entry_mode mode;
	uint64_t rip;
	uint64_t rsi; /* Linux 64-bit boot protocol: zero page */
	uint64_t rbx; /* PVH: hvm_start_info */
};

/* Writes the GDT and the identity-mapping page tables into guest memory. */
int x86_write_boot_tables(struct guest_mem *mem, struct phy_error *err);

/*
 * Per-vCPU set-up that every vCPU needs, boot CPU or not. `firmware`: the
 * LAPIC stays as a reset leaves it (LINT0 and LINT1 masked) for firmware
 * to program; otherwise they are wired as firmware would leave them for
 * a kernel.
 */
int x86_vcpu_init(int vcpu_fd, const struct kvm_cpuid2 *supported,
		  unsigned index, unsigned nr_cpus, bool firmware,
		  struct phy_error *err);

/* Registers of the boot vCPU for the given entry. */
int x86_vcpu_set_entry(int vcpu_fd, const struct x86_entry_state *st,
		       struct phy_error *err);

/* Formats the vCPU's registers (for crash reports) into buf. */
void x86_vcpu_dump(int vcpu_fd, char *buf, size_t size);

#endif
