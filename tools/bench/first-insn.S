/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny PVH kernel for the start-up benchmark: its first instructions write
 * "X\n" to COM1, then it halts. Every VMM that boots PVH ELF kernels (ours,
 * QEMU) runs it the same way, so "time until X appears" is the VMM's own
 * start-up cost plus whatever firmware it runs first.
 */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4              /* name size: "Xen\0" */
	.long 4              /* descriptor size */
	.long 18             /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.long _start

	.text
	.code32
	.globl _start
_start:
	mov $0x3f8, %dx
	mov $'X', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
1:	hlt
	jmp 1b
