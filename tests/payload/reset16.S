/* SPDX-License-Identifier: Apache-2.0 */
/* Prints "boot\n" and resets the machine through the reset control
 * register 0xCF9, as Linux's ACPI reboot does: every reset must rebuild the
 * VM and run this again from the start. */
#include "print_boot.h"

	.code16
	.text
	.globl _start
_start:
	PRINT_BOOT
	mov $0xcf9, %dx
	mov $0x06, %al
	out %al, %dx
1:	hlt
	jmp 1b
