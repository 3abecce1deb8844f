/* SPDX-License-Identifier: Apache-2.0 */
/* Prints "boot\n" and jumps to the BIOS reset vector F000:FFF0, as Linux's
 * reboot does on hardware-reduced ACPI without EFI: the VMM's stub there
 * must reset the machine. */
#include "print_boot.h"

	.code16
	.text
	.globl _start
_start:
	PRINT_BOOT
	ljmp $0xf000, $0xfff0
