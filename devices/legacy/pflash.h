/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A CFI parallel NOR flash with the Intel/Sharp command set (CFI primary
 * command set 0x0001), byte-wide (x8): the UEFI variable store of OVMF.
 * OVMF's driver (OvmfPkg/QemuFlashFvbServicesRuntimeDxe/QemuFlash.c) was
 * written against QEMU's pflash_cfi01; what it sees here is what it sees
 * there, and elsewhere the model follows the Intel datasheets.
 *
 * The contents are the caller's buffer (an mmap(MAP_SHARED) of the
 * variables file: a programmed byte is in the file's page cache at once).
 * In read-array mode the same buffer may back a read-only KVM memory slot,
 * so that guest reads do not exit; the flash says through set_rom_mode
 * when it leaves that mode (reads must then exit to pflash_bus_ops: they
 * return the status register, identifier codes or CFI data) and when it
 * comes back. Writes always exit (the slot is read-only).
 *
 * Each written byte is one bus cycle: either a command or, after a setup
 * command, its data. Commands (any offset):
 *   0xFF, 0x00  read array: reads return the contents
 *   0x10, 0x40  program setup: the next cycle programs its byte at its
 *               own offset, as NOR flash does: new = old & data (bits
 *               only clear; an erase sets them). QEMU stores the byte as
 *               is; OVMF only programs erased bytes or clears state bits
 *               (edk2's variable and fault-tolerant-write drivers are
 *               written for real flash), so both give it the same bytes
 *   0x20        block erase setup: a next cycle of 0xD0 (the confirm)
 *               erases the block holding the confirm's offset to 0xFF;
 *               any other byte is a command sequence error (SR.4 and
 *               SR.5), as on Intel's parts (QEMU goes back to read array)
 *   0x50        clear status: the status register becomes 0x00, and
 *               read array
 *   0x70        read status register
 *   0x90        read identifier: at a block's offset 0 the manufacturer
 *               (0x89, Intel), 1 the device code, 2 the block's lock
 *               state (1 when write-protected), elsewhere 0
 *   0x98        CFI query: "QRY" at 0x10 of each block, command set
 *               0x0001, ceil(log2(size)) at 0x27, x8 interface, one
 *               uniform erase block region (blocks - 1, block size / 256)
 *   other       read array (QEMU does the same)
 * Program and erase finish at once; reads return the status register
 * after them (and after program or erase setup) until 0xFF or 0x50.
 * Nothing returns to read array by itself: OVMF's QemuFlashEraseBlock()
 * leaves the flash in status mode, as QEMU's does.
 *
 * Status register: SR.7 ready, SR.5 erase error, SR.4 program error,
 * SR.1 protected block. It is 0x80 at creation and after each program or
 * erase. 0x50 clears every bit, SR.7 included, as QEMU does: on Intel's
 * parts SR.7 stays set, but OVMF's QemuFlashDetected() counts on reading
 * 0x00 ("cleared array status") after 0x50 then 0x70, and takes anything
 * else for ROM or RAM. A write-protected flash refuses to program (SR.4
 * and SR.1, which newer OVMF checks to tell a read-only flash) and to
 * erase (SR.5 and SR.1), and leaves the buffer alone.
 *
 * Accesses of any width are byte cycles in ascending address order, as a
 * bridge in front of an x8 part issues them: a wide read returns each
 * byte as that mode reads it (the status register in every byte, say),
 * a wide write is one cycle per byte. Bytes past the end of the flash
 * read 0xFF and reach nothing when written, so no access touches memory
 * outside the buffer.
 *
 * Threads: bus reads and writes come from vCPU threads, several at once,
 * under the flash's own lock. set_rom_mode is called by the thread whose
 * write changed the mode, before that write returns, WITHOUT the flash's
 * lock held (it may change a KVM memory slot, which waits for vCPUs to
 * leave the guest); calls are serialized by a second lock and report the
 * mode the flash is in when the call is made, so they alternate (never
 * the same value twice) and the last one is always the current mode. A
 * vCPU that writes and then reads therefore finds the slot matching the
 * mode. Between another vCPU's write changing the mode and its call, a
 * read may still find the slot: OVMF takes a lock around its flash
 * accesses, so that window only matters to a guest racing itself.
 * set_rom_mode must not access the flash. The flash starts in read-array
 * mode, with no call: the caller maps the slot before the vCPUs run.
 *
 * Durability is the caller's: programs and erases write the buffer and
 * nothing else (no msync); pflash_take_dirty() says whether any did.
 */
#ifndef PHY_DEVICES_LEGACY_PFLASH_H
#define PHY_DEVICES_LEGACY_PFLASH_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "devices/bus.h"

/* Limits of CFI's erase block region field: a block of 256 bytes to
 * 8 MiB (a power of two), at most 65536 blocks. */
#define PFLASH_MIN_BLOCK 256u
#define PFLASH_MAX_BLOCK (8u << 20)
#define PFLASH_MAX_BLOCKS 65536u

/* true: read-array mode, reads may come from memory; false: they must
 * exit to the flash. */
typedef void (*pflash_rom_mode_fn)(void *opaque, bool array_mode);

struct pflash_params {
	uint8_t *buf;	     /* the contents: size bytes, the caller's */
	uint64_t size;	     /* a multiple of block_size */
	uint32_t block_size; /* the erase block (OVMF: 4 KiB) */
	bool write_protect;  /* programs and erases fail */
	pflash_rom_mode_fn set_rom_mode; /* NULL: nobody is told */
	void *opaque;
	const char *name; /* for messages: the file, say */
};

struct pflash;

/* PHY_E_INVALID for parameters outside the limits above. The buffer
 * must outlive the flash. */
int pflash_create(struct pflash **out, const struct pflash_params *p,
		  struct phy_error *err);
void pflash_destroy(struct pflash *pf);

/* Whether the flash is in read-array mode now. */
bool pflash_array_mode(struct pflash *pf);

/* Whether a program or an erase wrote the buffer since the last call
 * (the caller's cue to msync it); clears the flag. */
bool pflash_take_dirty(struct pflash *pf);

/* The flash's region; offsets from its start, any length. */
extern const struct bus_device_ops pflash_bus_ops;

#endif
