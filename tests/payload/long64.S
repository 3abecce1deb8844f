/* SPDX-License-Identifier: Apache-2.0 */
/* 64-bit payload, entered at 1 MiB in the same long-mode state the VMM gives
 * a Linux kernel. It prints through the UART, does an MMIO write and read
 * above 3 GiB (through the VMM's identity map), reports the value read on the
 * test port and exits through the debug exit port with 0x64. */
	.code64
	.text
	.globl _start
_start:
	lea msg(%rip), %rsi
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %bl
	mov $0x3fd, %dx
2:	in %dx, %al
	test $0x20, %al
	jz 2b
	mov $0x3f8, %dx
	mov %bl, %al
	out %al, %dx
	jmp 1b
3:	mov $0xf0000000, %rdi
	movl $0xcafef00d, (%rdi)       /* MMIO write, 4 bytes */
	movq 8(%rdi), %rax             /* MMIO read, 8 bytes */
	mov $0x512, %dx
	out %eax, %dx                  /* low half to the test port */
	shr $32, %rax
	out %eax, %dx                  /* high half */
	mov $0x501, %dx
	mov $0x64, %eax
	out %eax, %dx
4:	hlt
	jmp 4b
msg:	.asciz "long mode ok\n"
