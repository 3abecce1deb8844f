/* SPDX-License-Identifier: Apache-2.0 */
/* Prints "boot\n" and jumps to the BIOS reset vector F000:FFF0, as Linux's
 * reboot does on hardware-reduced ACPI without EFI: the VMM's stub there
 * must reset the machine. */
	.code16
	.text
	.globl _start
_start:
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
	ljmp $0xf000, $0xfff0
