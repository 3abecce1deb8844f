/* SPDX-License-Identifier: Apache-2.0 */
/* The ELF note that makes a tiny kernel bootable through the PVH entry:
 * XEN_ELFNOTE_PHYS32_ENTRY (18), owner "Xen", pointing at _start. Shared by
 * the benchmark's first-insn.S and the CLI test's crash-pvh.S. */
	.section .note.Xen, "a", @note
	.p2align 2
	.long 4              /* name size: "Xen\0" */
	.long 4              /* descriptor size */
	.long 18             /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.long _start
