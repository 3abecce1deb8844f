/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny PVH kernel for the start-up benchmark: its first instructions write
 * "X\n" to COM1, then it halts. Every VMM that boots PVH ELF kernels (ours,
 * QEMU) runs it the same way, so "time until X appears" is the VMM's own
 * start-up cost plus whatever firmware it runs first.
 */
#include "pvh_note.h"

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
