/* SPDX-License-Identifier: Apache-2.0 */
/* A PVH kernel that triple faults at once (empty IDT, then ud2): the CLI
 * must exit 1 with a register dump on stderr. */
#include "pvh_note.h"

	.text
	.code32
	.globl _start
_start:
	mov $0x5eed, %esi      /* a marker to find in the dump */
	lidt idtr
	ud2
	.p2align 4
idtr:	.word 0
	.long 0
