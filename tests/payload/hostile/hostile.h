/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The hostile guest (tests/payload/test-hostile.sh): devbench's runtime in
 * guest user mode, aimed at every window a guest can reach instead of at
 * throughput. Its memory: the image at 1 MiB, the scratch area above
 * SCRATCH, the only RAM a device is ever pointed at for writing (a device
 * writing garbage into the image would end the test for the wrong reason).
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include <stdint.h>

#include "rt.h"
#include "virtio.h"

#define SCRATCH 0x1000000ull	  /* 16 MiB */
#define RAM_END 0x4000000ull	  /* 64 MiB: test-hostile.sh's --memory */
#define IMAGE_END SCRATCH	  /* what devices must not write */
#define OUTSIDE_RAM 0x40000000ull /* 1 GiB: no RAM, no MMIO */

struct counts {
	uint64_t accesses; /* register reads and writes */
	uint64_t rings;	   /* malformed rings and queue set-ups */
	uint64_t excluded; /* writes changed: no reset, power-off, NMI/SMI/INIT,
			      queue in the image */
	uint64_t needs_reset;
	uint64_t gpu_ok, gpu_err; /* virtio-gpu's answers to gpu_sequence() */
	uint64_t vsock_connected;
};
extern struct counts cnt;

/* The fixed-seed generator (seed= on the command line). */
void hrand_seed(uint64_t seed);
uint64_t hrand(void);
/* Mostly edge values (0, all ones, sign bits, powers of two), some random. */
uint64_t hvalue(void);
/* An address to point a device at (rings.c's safe_range() keeps it out of
 * the image): the scratch area, around the end of RAM, the MMIO holes, the
 * top of the address space, random. */
uint64_t haddr(void);
/* A buffer length: 0, 1, 2^32-1, page sizes, random. */
uint32_t hlen(void);

/* One access of `width` bytes (1, 2, 4 or 8): a read, or a write of v. */
void mmio_access(uint64_t a, unsigned width, int write, uint64_t v);
void pio_access(uint16_t port, unsigned width, int write, uint32_t v);

/* PCI functions on bus 0 (ECAM offsets slot << 15 | fn << 12). */
#define FUNCS_MAX 64
struct pci_fn {
	uint32_t ecam; /* offset in ECAM */
	uint16_t device;
	uint8_t msix_cap, cfg_cap; /* 0: none */
	uint8_t common_bar;
	uint32_t common_off;
	uint32_t saved[16]; /* the header, for restoring */
};
extern struct pci_fn fns[FUNCS_MAX];
extern unsigned nr_fns;
void pci_scan(void);
/* The saved command registers and BARs back, MSI-X off, through 0xCF8. */
void pci_restore(void);
/* Keeps the queue addresses of the selected queue out of the image. */
void guard_queue(uint64_t common);

/* The phases (windows.c, rings.c); n: accesses per window. */
void fuzz_config(uint64_t n);
void fuzz_bars(uint64_t n);
void fuzz_ports(uint64_t n);
/* Malformed rings to every present function of virtio device ID `id`. */
void fuzz_rings(uint16_t id, uint64_t n);
/* Well-formed 2D commands with edge values on virtio-gpu's control queue. */
void gpu_sequence(struct virtq *q);
/* A connection to the host's port 1234 through a reset virtio-vsock. */
void vsock_handshake(void);
/* Tallies the answers of the last sequence, once the device settled. */
void gpu_answers(void);

#endif
