/* SPDX-License-Identifier: Apache-2.0 */
/* Loads an empty IDT and raises an exception: the CPU cannot deliver it,
 * nor the double fault, so it shuts down (triple fault). */
	.code64
	.text
	.globl _start
_start:
	mov $0x1234abcd, %r12          /* a marker to find in the dump */
	lidt idtr(%rip)
	ud2
1:	jmp 1b
	.p2align 4
idtr:	.word 0
	.quad 0
