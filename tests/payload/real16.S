/* SPDX-License-Identifier: Apache-2.0 */
/* Real-mode payload, loaded and entered at 0:0x1000. It prints through the
 * UART (polling LSR), reads the test port and echoes value+1 to it, then
 * writes 0x42 to the debug exit port. */
	.code16
	.text
	.globl _start
_start:
	xor %ax, %ax
	mov %ax, %ds
	mov $msg, %si
1:	lodsb
	test %al, %al
	jz 3f
	mov %al, %bl
	mov $0x3fd, %dx          /* LSR: wait for THRE */
2:	in %dx, %al
	test $0x20, %al
	jz 2b
	mov $0x3f8, %dx
	mov %bl, %al
	out %al, %dx
	jmp 1b
3:	mov $0x511, %dx          /* test port: read a value ... */
	in %dx, %al
	inc %al
	mov $0x510, %dx          /* ... and send back value + 1 */
	out %al, %dx
	mov $0x501, %dx
	mov $0x42, %al
	out %al, %dx
4:	hlt
	jmp 4b
msg:	.asciz "real mode ok\n"
