/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A 64 KiB firmware image for --firmware: what UEFI firmware does with the
 * firmware-boot platform, done small enough to run on this machine's
 * /dev/kvm. From the reset vector at 4 GiB - 16 it switches to flat 32-bit
 * protected mode, as OVMF's reset vector does, and then reports on COM1,
 * one "FW: ..." line a step:
 *   the host bridge's and the PIIX functions' IDs (ports 0xCF8/0xCFC);
 *   the PM function enabled at 0xB000 and its timer running;
 *   fw_cfg: the signature and ID on the data port, the CPU count and
 *   "etc/e820" through DMA (the directory searched as OVMF does);
 *   the CMOS's RAM size bytes and its valid-time register;
 *   the ROM ignoring writes;
 *   the variables flash below the image: the byte at 0x1004 as found, the
 *   probe OVMF makes, a program, a block erase, a second program (0xA5 at
 *   0x1004, which the test finds in the file afterwards);
 *   on the first boot CMOS byte 0x40 is set and the machine resets through
 *   0xCF9; the second boot finds it set and powers off through PM1
 *   control (SLP_EN, SLP_TYP 0), which ends the VMM with status 0.
 * Linked at 0xFFFF0000 (tests/payload/CMakeLists.txt). Built twice: with
 * the store below the image (OVMF_CODE_4M.fd's layout) and, with
 * VARS_IN_IMAGE, inside its first 8 KiB (OVMF.fd's).
 */
#define COM1 0x3f8
#define PMBA 0xb000
#define FWCFG_SEL 0x510
#define FWCFG_DATA 0x511
#define FWCFG_DMA_HI 0x514
#define FWCFG_DMA_LO 0x518
#define DESC 0x6100   /* a DMA descriptor */
#define SMALL 0x6000  /* small DMA results */
#define E820 0x7000
#define DIR 0x8000    /* the fw_cfg directory */

	.code16
	.text
image:
#ifdef VARS_IN_IMAGE
/* The variables: the 8 KiB store this image starts with, as OVMF.fd's
 * first 128 KiB are one; --firmware vars= lays the file over it. */
#define VARS 0xffff0000
	.fill 16, 1, 0
	.byte 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c /* NV-data GUID */
	.byte 0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50
	.quad 0x2000                                         /* FvLength */
	.ascii "_FVH"
	.fill 0x48 - 0x2c, 1, 0
	.fill 0x2000 - 0x48, 1, 0xff
#else
/* The variables: an 8 KiB store right below this 64 KiB image. */
#define VARS 0xfffee000
#endif
	.globl _start
_start:
	cli
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %ss
	mov $0x7000, %sp
	lgdtl %cs:(gdt_ptr - image)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $0x7000, %esp

	mov $m_start, %esi
	call puts

	/* PCI identities: 00:00.0, 00:01.0, 00:01.3. */
	mov $m_ids, %esi
	call puts
	mov $0x80000000, %eax
	call pci_read
	call puthex_sp
	mov $0x80000800, %eax
	call pci_read
	call puthex_sp
	mov $0x80000b00, %eax
	call pci_read
	call puthex_nl

	/* PM: PMBA, then PMIOSE; the timer must move. */
	mov $0x80000b40, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $(PMBA | 1), %eax
	mov $0xcfc, %dx
	out %eax, %dx
	mov $0x80000b80, %eax
	mov $0xcf8, %dx
	out %eax, %dx
	mov $1, %al
	mov $0xcfc, %dx
	out %al, %dx
	mov $(PMBA + 8), %dx
	in %dx, %eax
	mov %eax, %ebx
	mov $200, %ecx
1:	in %dx, %eax
	cmp %eax, %ebx
	jne 2f
	loop 1b
	mov $m_pm_stuck, %esi
	jmp 3f
2:	mov $m_pm_ok, %esi
3:	call puts
#ifdef HOSTILE_FW
	jmp hostile_fw
#endif

	/* fw_cfg on the data port: signature, then ID. */
	mov $m_sig, %esi
	call puts
	xor %ax, %ax
	call fwcfg_read4
	cmp $0x554d4551, %eax /* "QEMU" */
	jne 4f
	mov $m_qemu, %esi
	call puts
	jmp 5f
4:	call puthex_nl
5:	mov $m_id, %esi
	call puts
	mov $1, %ax
	call fwcfg_read4
	call puthex_nl

	/* DMA: the CPU count (key 5, 2 bytes). */
	mov $m_cpus, %esi
	call puts
	movl $0, SMALL
	mov $((5 << 16) | 0x0a), %eax /* SELECT | READ */
	mov $2, %ebx
	mov $SMALL, %ecx
	call dma
	call puthex_sp
	mov SMALL, %eax
	call puthex_nl

	/* The directory: its count, then all of it; "etc/e820" in it. */
	mov $m_e820, %esi
	call puts
	mov $((0x19 << 16) | 0x0a), %eax
	mov $4, %ebx
	mov $SMALL, %ecx
	call dma
	mov SMALL, %eax
	bswap %eax
	cmp $63, %eax
	ja 9f
	mov %eax, %edi        /* entries */
	shl $6, %eax
	add $4, %eax
	mov %eax, %ebx
	mov $((0x19 << 16) | 0x0a), %eax
	mov $DIR, %ecx
	call dma
	mov $(DIR + 4), %esi
6:	test %edi, %edi
	jz 9f
	cmpl $0x2f637465, 8(%esi)  /* "etc/" */
	jne 7f
	cmpl $0x30323865, 12(%esi) /* "e820" */
	jne 7f
	cmpb $0, 16(%esi)
	je 8f
7:	add $64, %esi
	dec %edi
	jmp 6b
8:	mov (%esi), %ebx          /* size, big-endian */
	bswap %ebx
	movzwl 4(%esi), %eax      /* key, big-endian */
	xchg %al, %ah
	shl $16, %eax
	or $0x0a, %eax
	mov $E820, %ecx
	push %ebx
	call dma
	pop %eax
	call puthex_sp            /* the file's size: 20 bytes an entry */
	mov E820 + 8, %eax        /* entry 0: length, type */
	call puthex_sp
	mov E820 + 16, %eax
	call puthex_nl
	jmp 10f
9:	mov $m_none, %esi
	call puts

	/* CMOS: RAM from 16 MiB in 64 KiB units, register D. */
10:	mov $m_cmos, %esi
	call puts
	mov $0x35, %al
	call cmos_read
	movzbl %al, %ebx
	shl $8, %ebx
	mov $0x34, %al
	call cmos_read
	mov %al, %bl
	mov %ebx, %eax
	call puthex_sp
	mov $0x0d, %al
	call cmos_read
	movzbl %al, %eax
	call puthex_nl

	/* The ROM: a write is dropped. */
	mov _start, %ebx
	mov %ebx, %eax
	not %eax
	mov %eax, _start
	cmp _start, %ebx
	jne 11f
	mov $m_rom_ok, %esi
	jmp 12f
11:	mov $m_rom_bad, %esi
12:	call puts

	/* The flash: the byte a previous run left, the store's first GUID
	 * byte, OVMF's probe (0x50 then 0x70 must read 0x00), program 0x5A,
	 * erase its block, program 0xA5. */
	mov $m_flash, %esi
	call puts
	movzbl VARS + 0x1004, %eax
	call puthex_sp
	movzbl VARS + 0x10, %eax
	call puthex_sp
	movb $0x50, VARS + 0x10
	movb $0x70, VARS + 0x10
	movzbl VARS + 0x10, %eax
	call puthex_sp
	movb $0xff, VARS + 0x10
	movb $0x10, VARS + 0x1000
	movb $0x5a, VARS + 0x1000
	movzbl VARS + 0x1000, %eax /* status: ready */
	call puthex_sp
	movb $0xff, VARS + 0x1000
	movzbl VARS + 0x1000, %eax /* the byte, from memory again */
	call puthex_sp
	movb $0x20, VARS + 0x1000
	movb $0xd0, VARS + 0x1000
	movb $0xff, VARS + 0x1000
	movzbl VARS + 0x1000, %eax /* erased */
	call puthex_sp
	movb $0x10, VARS + 0x1004
	movb $0xa5, VARS + 0x1004
	movb $0xff, VARS + 0x1004
	movzbl VARS + 0x1004, %eax
	call puthex_nl

	/* First boot: mark CMOS 0x40 and reset; second: power off. */
	mov $0x40, %al
	call cmos_read
	test %al, %al
	jnz 13f
	mov $m_reset, %esi
	call puts
	mov $0x40, %al
	mov $0x70, %dx
	out %al, %dx
	mov $1, %al
	mov $0x71, %dx
	out %al, %dx
	mov $0x06, %al
	mov $0xcf9, %dx
	out %al, %dx
	jmp halt
13:	mov $m_off, %esi
	call puts
	mov $0x2000, %ax          /* SLP_EN, SLP_TYP 0 */
	mov $(PMBA + 4), %dx
	out %ax, %dx
halt:	hlt
	jmp halt

/* eax: a type 1 configuration address; returns the dword there. */
pci_read:
	mov $0xcf8, %dx
	out %eax, %dx
	mov $0xcfc, %dx
	in %dx, %eax
	ret

/* al: a CMOS index; returns its byte in al. */
cmos_read:
	mov $0x70, %dx
	out %al, %dx
	mov $0x71, %dx
	in %dx, %al
	ret

/* ax: an fw_cfg key; returns its first 4 bytes, little-endian, in eax. */
fwcfg_read4:
	mov $FWCFG_SEL, %dx
	out %ax, %dx
	mov $FWCFG_DATA, %dx
	mov $4, %ecx
1:	in %dx, %al
	ror $8, %eax
	loop 1b
	ret

/* One DMA access: eax the control word, ebx the length, ecx the buffer.
 * Returns the control word the device left, in eax (0: done). */
dma:
	bswap %eax
	mov %eax, DESC
	bswap %ebx
	mov %ebx, DESC + 4
	movl $0, DESC + 8
	bswap %ecx
	mov %ecx, DESC + 12
	xor %eax, %eax
	mov $FWCFG_DMA_HI, %dx
	out %eax, %dx
	mov $DESC, %eax
	bswap %eax
	mov $FWCFG_DMA_LO, %dx
	out %eax, %dx
	mov DESC, %eax
	bswap %eax
	ret

putc:
	push %edx
	push %eax
	mov $(COM1 + 5), %dx
1:	in %dx, %al
	test $0x20, %al
	jz 1b
	pop %eax
	mov $COM1, %dx
	out %al, %dx
	pop %edx
	ret

/* esi: a NUL-terminated string. */
puts:
	lodsb
	test %al, %al
	jz 1f
	call putc
	jmp puts
1:	ret

/* eax in hex, 8 digits. */
puthex:
	push %ecx
	push %ebx
	mov %eax, %ebx
	mov $8, %ecx
1:	rol $4, %ebx
	mov %bl, %al
	and $0xf, %al
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $('a' - '9' - 1), %al
2:	call putc
	loop 1b
	pop %ebx
	pop %ecx
	ret

puthex_sp:
	call puthex
	mov $' ', %al
	jmp putc

puthex_nl:
	call puthex
	mov $'\n', %al
	jmp putc

#ifdef HOSTILE_FW
#include "hostile-fw.inc"
#endif

m_start:	.asciz "FW: start\n"
m_ids:		.asciz "FW: ids "
m_pm_ok:	.asciz "FW: pm timer runs\n"
m_pm_stuck:	.asciz "FW: pm timer stuck\n"
m_sig:		.asciz "FW: fw_cfg signature "
m_qemu:		.asciz "QEMU\n"
m_id:		.asciz "FW: fw_cfg id "
m_cpus:		.asciz "FW: fw_cfg cpus "
m_e820:		.asciz "FW: e820 "
m_none:		.asciz "none\n"
m_cmos:		.asciz "FW: cmos "
m_rom_ok:	.asciz "FW: rom read-only\n"
m_rom_bad:	.asciz "FW: rom written\n"
m_flash:	.asciz "FW: flash "
m_reset:	.asciz "FW: resetting\n"
m_off:		.asciz "FW: powering off\n"

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff /* 0x08: flat 32-bit code */
	.quad 0x00cf93000000ffff /* 0x10: flat data */
gdt_ptr:
	.word gdt_ptr - gdt - 1
	.long gdt

	/* The reset vector: CS base 0xFFFF0000, IP 0xFFF0. */
	.org 0xfff0
	.code16
	jmp _start
	.org 0x10000
