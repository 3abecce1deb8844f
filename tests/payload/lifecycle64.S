/* SPDX-License-Identifier: Apache-2.0 */
/* 64-bit payload for the lifecycle tests (test_lifecycle.c): prints an
 * "api" line once per boot, then a '.' every few microseconds, so the test can tell
 * whether guest code runs (pause) and how often the guest booted (reboot).
 * Between dots it polls the GED event register (port 0x604, read to
 * clear): on the power button bit it prints "power button\n" and exits
 * through the debug exit port with 0x77. No interrupts: polling is enough
 * to see the host's press reach the register. */
	.code64
	.text
	.globl _start
_start:
	lea banner(%rip), %rsi
	call puts
1:	mov $'.', %bl
	call putc
	mov $2000, %ecx                /* a little time between dots */
2:	dec %ecx
	jnz 2b
	mov $0x604, %dx
	in %dx, %eax
	test $1, %eax
	jz 1b
	lea pressed(%rip), %rsi
	call puts
	mov $0x501, %dx
	mov $0x77, %eax
	out %eax, %dx
3:	hlt
	jmp 3b

/* putc: %bl to COM1 once its transmitter is empty. */
putc:
	mov $0x3fd, %dx
4:	in %dx, %al
	test $0x20, %al
	jz 4b
	mov $0x3f8, %dx
	mov %bl, %al
	out %al, %dx
	ret

/* puts: the NUL-terminated string at %rsi. */
puts:
	lodsb
	test %al, %al
	jz 5f
	mov %al, %bl
	call putc
	jmp puts
5:	ret

banner:	.asciz "\napi\n"
pressed: .asciz "\npower button\n"
