/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devbench's kernel part: entered through the PVH note in 32-bit protected
 * mode (phyllome-vmm --kernel, QEMU -M microvm -kernel), it turns on long
 * mode with page tables that are part of the image (the low 4 GiB
 * identity-mapped with 2 MiB pages, user-accessible: RAM, the BAR window
 * and ECAM), loads a GDT with user segments and a TSS, and drops to CPL3
 * with IOPL=3 (port I/O from user mode: the UART, the exit ports). Nothing
 * returns to kernel mode: on PVM kernel mode is emulated (~1.5M insn/s),
 * user mode is native. Under 50 kernel-mode instructions in all.
 */
#include "../pvh_note.h"

#define PTE_USER_2M 0x87      /* present, writable, user, 2 MiB page */
#define PTE_UC      0x18      /* PWT | PCD: the MMIO gigabyte */

	.text
	.code32
	.globl _start
_start:
	cli
	mov %ebx, devbench_start_info      /* PVH: hvm_start_info */
	/* The TSS descriptor's base, which the assembler cannot split. */
	mov $tss, %eax
	mov %ax, gdt + 0x28 + 2
	shr $16, %eax
	mov %al, gdt + 0x28 + 4
	mov %ah, gdt + 0x28 + 7
	lgdt gdt_desc
	mov $pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax                     /* PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx              /* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax               /* PG | PE */
	mov %eax, %cr0
	ljmp $0x08, $long64

	.code64
long64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov $0x28, %eax
	ltr %ax
	/* IDT: only #GP (13), the port I/O emulation below. */
	lea gp_handler(%rip), %rax
	lea idt + 13 * 16(%rip), %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0xee00, 4(%rdi)              /* present, DPL 3, interrupt gate */
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	lidt idt_desc(%rip)
	lea kstack_top(%rip), %rsp
	pushq $0x1b                        /* SS: user data, RPL 3 */
	lea ustack_top(%rip), %rax
	push %rax                          /* RSP */
	pushq $0x3002                      /* RFLAGS: IOPL=3, IF=0 */
	pushq $0x23                        /* CS: user code64, RPL 3 */
	lea user_entry(%rip), %rax
	push %rax
	iretq

/*
 * PVM runs guest user mode with the host's IOPL, not the guest's: port I/O
 * from CPL3 faults even with IOPL=3. The #GP handler does the access for
 * it (in and out with %dx, 8, 16 or 32 bits) and steps over the
 * instruction; anything else is fatal (a fault in the handler is a triple
 * fault, which the VMM reports). Where IOPL=3 works (a normal KVM) it is
 * never entered.
 */
gp_handler:
	push %rax
	push %rdx
	push %rcx
	mov 32(%rsp), %rcx                 /* the faulting RIP (after the error code) */
	movzbl (%rcx), %ecx
	mov 8(%rsp), %rdx
	mov 16(%rsp), %rax
	cmp $0xee, %ecx
	je 1f
	cmp $0xef, %ecx
	je 2f
	cmp $0xec, %ecx
	je 3f
	cmp $0xed, %ecx
	je 4f
	cmp $0x66, %ecx                    /* operand size: the 16-bit forms */
	je 5f
	ud2
1:	out %al, %dx
	jmp 9f
2:	out %eax, %dx
	jmp 9f
3:	in %dx, %al
	mov %al, 16(%rsp)
	jmp 9f
4:	in %dx, %eax
	mov %rax, 16(%rsp)                 /* a 32-bit result zero-extends */
	jmp 9f
5:	incq 32(%rsp)
	mov 32(%rsp), %rcx
	movzbl (%rcx), %ecx
	cmp $0xef, %ecx
	je 6f
	cmp $0xed, %ecx
	je 7f
	ud2
6:	out %ax, %dx
	jmp 9f
7:	in %dx, %ax
	mov %ax, 16(%rsp)
9:	incq 32(%rsp)
	pop %rcx
	pop %rdx
	pop %rax
	add $8, %rsp                       /* the error code */
	iretq

user_entry:
	mov $0x1b, %eax
	mov %eax, %ds
	mov %eax, %es
	xor %ebp, %ebp
	call devbench_main
1:	jmp 1b                             /* devbench_main powers off */

	.data
	.p2align 3
gdt:
	.quad 0
	.quad 0x00209a0000000000           /* 0x08 kernel code64 */
	.quad 0x00cf92000000ffff           /* 0x10 kernel data */
	.quad 0x00cff2000000ffff           /* 0x18 user data, DPL 3 */
	.quad 0x0020fa0000000000           /* 0x20 user code64, DPL 3 */
	.quad 0x0000890000000067           /* 0x28 TSS (base filled in) */
	.quad 0
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

idt_desc:
	.word 14 * 16 - 1
	.quad idt

	.p2align 4
idt:
	.fill 14 * 16, 1, 0

	.p2align 4
tss:
	.long 0
	.quad kstack_top                   /* RSP0 */
	.fill 92 - 12, 1, 0
	.word 0
	.word 104                          /* no I/O bitmap: IOPL decides */

	.p2align 12
pml4:
	.quad pdpt + 7
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + 7
	.quad pd + 0x1000 + 7
	.quad pd + 0x2000 + 7
	.quad pd + 0x3000 + 7
	.fill 508, 8, 0
pd:
	.set addr, 0
	.rept 1536
	.quad addr + PTE_USER_2M
	.set addr, addr + 0x200000
	.endr
	.rept 512
	.quad addr + PTE_USER_2M + PTE_UC
	.set addr, addr + 0x200000
	.endr

	.bss
	.p2align 12
kstack:
	.skip 4096
kstack_top:
	.skip 65536
ustack_top:
	.section .note.GNU-stack,"",@progbits
