/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the reset payloads: writes "boot\n" to COM1 (16-bit code). */
.macro PRINT_BOOT
	mov $0x3f8, %dx
	mov $'b', %al
	out %al, %dx
	mov $'o', %al
	out %al, %dx
	out %al, %dx
	mov $'t', %al
	out %al, %dx
	mov $'\n', %al
	out %al, %dx
.endm
