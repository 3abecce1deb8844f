/* SPDX-License-Identifier: Apache-2.0 */
#include "arch/x86_64/vcpu_setup.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86_64/cpuid.h"
#include "arch/x86_64/layout.h"
#include "common/error.h"

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define PTE_PRESENT 0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL

#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 0x1

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

/* Linux's boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
#define GDT_CODE64 2
#define GDT_DATA 3
#define GDT_TSS 4
#define GDT_CODE32 5
#define GDT_ENTRIES 6

static struct kvm_segment segment_from_gdt(uint64_t e, unsigned index)
{
	struct kvm_segment s = {
		.base = ((e >> 16) & 0xffffff) | (((e >> 56) & 0xff) << 24),
		.limit = (uint32_t)((e & 0xffff) | (((e >> 48) & 0xf) << 16)),
		.selector = (uint16_t)(index * 8),
		.type = (e >> 40) & 0xf,
		.present = (e >> 47) & 1,
		.dpl = (e >> 45) & 3,
		.db = (e >> 54) & 1,
		.s = (e >> 44) & 1,
		.l = (e >> 53) & 1,
		.g = (e >> 55) & 1,
	};
	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

static const uint64_t boot_gdt[GDT_ENTRIES] = {
	[GDT_CODE64] = 0x00af9b000000ffffULL, /* 64-bit code, present, DPL 0 */
	[GDT_DATA] = 0x00cf93000000ffffULL,   /* flat read/write data */
	[GDT_TSS] = 0x00008b0000000067ULL,    /* busy 32/64-bit TSS */
	[GDT_CODE32] = 0x00cf9b000000ffffULL, /* flat 32-bit code */
};

int x86_write_boot_tables(struct guest_mem *mem, struct phy_error *err)
{
	if (guest_mem_write(mem, X86_GDT_GPA, boot_gdt, sizeof(boot_gdt)))
		return phy_err(err, PHY_E_INTERNAL, "boot: GDT outside RAM");
	uint64_t *pml4 = guest_mem_ptr(mem, X86_PML4_GPA, 4096);
	uint64_t *pdpt = guest_mem_ptr(mem, X86_PDPT_GPA, 4096);
	uint64_t *pd = guest_mem_ptr(mem, X86_PD_GPA, 4 * 4096);
	if (!pml4 || !pdpt || !pd)
		return phy_err(err, PHY_E_INTERNAL, "boot: page tables outside RAM");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT_GPA | PTE_PRESENT | PTE_RW;
	/* 4 GiB identity map in 2 MiB pages: the kernel, zero page, command
	 * line and initrd all sit below 4 GiB. */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (X86_PD_GPA + i * 4096) | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	return 0;
}

static int set_cpuid(int fd, const struct kvm_cpuid2 *supported,
		     unsigned index, unsigned nr_cpus, struct phy_error *err)
{
	unsigned max = supported->nent + 4;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));
	if (!c)
		return phy_err(err, PHY_E_NOMEM, "vCPU: out of memory");
	int n = x86_cpuid_build(supported, index, nr_cpus, c->entries, max);
	int ret = 0;
	c->nent = (uint32_t)n;
	if (n < 0 || ioctl(fd, KVM_SET_CPUID2, c) < 0)
		ret = phy_err_errno(err, PHY_E_KVM, errno,
				    "vCPU %u: KVM_SET_CPUID2 failed", index);
	free(c);
	return ret;
}

static int set_msrs(int fd, unsigned index, struct phy_error *err)
{
	static const uint32_t zeroed[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP, MSR_STAR, MSR_CSTAR,
		MSR_KERNEL_GS_BASE, MSR_SYSCALL_MASK, MSR_LSTAR, MSR_IA32_TSC,
	};
	enum { N = sizeof(zeroed) / sizeof(zeroed[0]) + 1 };
	/* struct kvm_msrs ends in a flexible array: give it room behind. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) +
			      N * sizeof(struct kvm_msr_entry)];
	} m;
	memset(&m, 0, sizeof(m));
	for (unsigned i = 0; i < N - 1; i++)
		m.hdr.entries[i].index = zeroed[i];
	m.hdr.entries[N - 1].index = MSR_IA32_MISC_ENABLE;
	m.hdr.entries[N - 1].data = MISC_ENABLE_FAST_STRING;
	m.hdr.nmsrs = N;
	int r = ioctl(fd, KVM_SET_MSRS, &m);
	if (r != N)
		return phy_err(err, PHY_E_KVM, "vCPU %u: KVM_SET_MSRS set %d of %d",
			       index, r, N);
	return 0;
}

static int set_fpu(int fd, unsigned index, struct phy_error *err)
{
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "vCPU %u: KVM_SET_FPU failed", index);
	return 0;
}

/* LINT0 delivers the PIC's ExtINT and LINT1 the NMI, as PC firmware leaves
 * them; Linux relies on it for the timer check through the 8259. */
static int set_lint(int fd, unsigned index, struct phy_error *err)
{
	struct kvm_lapic_state lapic;
	if (ioctl(fd, KVM_GET_LAPIC, &lapic) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "vCPU %u: KVM_GET_LAPIC failed", index);
	uint32_t *lvt0 = (uint32_t *)&lapic.regs[APIC_LVT0];
	uint32_t *lvt1 = (uint32_t *)&lapic.regs[APIC_LVT1];
	*lvt0 = (*lvt0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lvt1 = (*lvt1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(fd, KVM_SET_LAPIC, &lapic) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "vCPU %u: KVM_SET_LAPIC failed", index);
	return 0;
}

int x86_vcpu_init(int fd, const struct kvm_cpuid2 *supported, unsigned index,
		  unsigned nr_cpus, bool firmware, struct phy_error *err)
{
	int ret = set_cpuid(fd, supported, index, nr_cpus, err);
	if (!ret)
		ret = set_msrs(fd, index, err);
	if (!ret)
		ret = set_fpu(fd, index, err);
	/* An ExtINT left unmasked before the firmware set the LAPIC up would
	 * deliver whatever the PIC raises into code not ready for it. */
	if (!ret && !firmware)
		ret = set_lint(fd, index, err);
	return ret;
}

static void set_protected_segments(struct kvm_sregs *s, unsigned code)
{
	s->cs = segment_from_gdt(boot_gdt[code], code);
	struct kvm_segment data = segment_from_gdt(boot_gdt[GDT_DATA], GDT_DATA);
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = segment_from_gdt(boot_gdt[GDT_TSS], GDT_TSS);
	s->gdt.base = X86_GDT_GPA;
	s->gdt.limit = sizeof(boot_gdt) - 1;
	s->idt.base = X86_IDT_GPA;
	s->idt.limit = 0;
}

static void set_real_segments(struct kvm_sregs *s)
{
	struct kvm_segment seg = {
		.base = 0, .limit = 0xffff, .selector = 0, .type = 3,
		.present = 1, .s = 1,
	};
	s->ds = s->es = s->fs = s->gs = s->ss = seg;
	seg.type = 0xb;
	s->cs = seg;
	s->cr0 &= ~(CR0_PE | CR0_PG);
}

int x86_vcpu_set_entry(int fd, const struct x86_entry_state *st,
		       struct phy_error *err)
{
	struct kvm_sregs s;
	if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno, "KVM_GET_SREGS failed");
	switch (st->mode) {
	case X86_ENTRY_REAL16:
		set_real_segments(&s);
		break;
	case X86_ENTRY_PROT32:
		set_protected_segments(&s, GDT_CODE32);
		s.cr0 = CR0_PE | CR0_ET;
		s.cr4 = 0;
		s.efer = 0;
		break;
	case X86_ENTRY_LONG64:
		set_protected_segments(&s, GDT_CODE64);
		s.cr3 = X86_PML4_GPA;
		s.cr4 = CR4_PAE;
		s.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
		s.efer = EFER_LME | EFER_LMA;
		break;
	}
	if (ioctl(fd, KVM_SET_SREGS, &s) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno, "KVM_SET_SREGS failed");

	struct kvm_regs r;
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = st->rip;
	r.rsi = st->rsi;
	r.rbx = st->rbx;
	if (st->mode == X86_ENTRY_LONG64)
		r.rsp = r.rbp = 0x8ff0; /* below the zero page, in free RAM */
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
		return phy_err_errno(err, PHY_E_KVM, errno, "KVM_SET_REGS failed");
	return 0;
}

void x86_vcpu_dump(int fd, char *buf, size_t size)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	if (ioctl(fd, KVM_GET_REGS, &r) < 0 || ioctl(fd, KVM_GET_SREGS, &s) < 0) {
		snprintf(buf, size, "(registers unavailable: %s)\n", strerror(errno));
		return;
	}
	snprintf(buf, size,
		 "RIP %016llx RFLAGS %08llx\n"
		 "RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n"
		 "RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n"
		 "R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n"
		 "R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n"
		 "CS %04x base %llx l=%u db=%u  SS %04x  DS %04x\n"
		 "CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx EFER %llx\n"
		 "GDT %llx/%x IDT %llx/%x\n",
		 r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		 r.rbp, r.rsp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
		 r.r15, s.cs.selector, s.cs.base, s.cs.l, s.cs.db,
		 s.ss.selector, s.ds.selector, s.cr0, s.cr2, s.cr3, s.cr4,
		 s.efer, s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}
