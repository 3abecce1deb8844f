/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PCIe host bridge: configuration space through ECAM (MMIO) and through
 * the legacy type-1 ports 0xCF8/0xCFC, one segment, bus 0. Slot 0 is the
 * host bridge itself; devices plug into the other slots.
 *
 * BARs: the host emulates every function's BAR registers (sizing, the
 * address the guest programs) and decodes memory BARs. The MMIO bus is
 * fixed once the vCPUs run but BARs move at run time, so the host
 * registers its address windows on the bus once, and forwards each access
 * to the function whose enabled BAR covers it.
 *
 * Locking: `lock` guards config space and the BAR map. Function config
 * ops and bars_changed() are called with it held, so they may take their
 * device's lock (host lock, then device lock; never the other way).
 * BAR accesses take it only for the lookup, not around the handler.
 */
#ifndef PHY_DEVICES_PCI_PCI_HOST_H
#define PHY_DEVICES_PCI_PCI_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8 /* per slot */
#define PCI_DEVFNS (PCI_SLOTS * PCI_FUNCTIONS)
#define PCI_DEVFN(slot, fn) ((slot) * PCI_FUNCTIONS + (fn))
#define PCI_CONFIG_SIZE 4096
#define PCI_BARS 6
#define PCI_HOST_MAX_WINDOWS 2

/* Type 0 header registers the host itself looks at. */
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_COMMAND_MEMORY 0x0002
#define PCI_CFG_BAR0 0x10

struct pci_function;
struct pci_host;

/* Little-endian fields of a configuration space (or any register bytes). */
static inline uint32_t pci_config_get(const uint8_t *p, uint32_t len)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline void pci_config_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pci_config_put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A memory BAR. The function fills the first part before it is plugged;
 * the host keeps the rest. */
struct pci_bar {
	uint64_t size; /* a power of two, at least 16; 0: no BAR here */
	bool mem64;    /* 64-bit: the next BAR register is the high half */
	bool prefetchable;
	const struct bus_device_ops *ops; /* offsets relative to the BAR */
	void *opaque;

	uint64_t addr; /* where the guest (or the VMM) put it */
	bool mapped;   /* memory decoding on and wholly inside a window */
};

struct pci_function_ops {
	/* Aligned accesses of 1, 2 or 4 bytes inside the 4 KiB space. */
	uint32_t (*config_read)(struct pci_function *fn, uint32_t offset,
				uint32_t len);
	/* Writes to the BAR registers (0x10-0x27) never get here: the host
	 * handles them. The command register does, so the function keeps
	 * its writable bits; the host reads the memory enable bit back. */
	void (*config_write)(struct pci_function *fn, uint32_t offset,
			     uint32_t len, uint32_t value);
	/* Optional: a BAR moved, or its decoding was switched on or off
	 * (bars[].addr/mapped say where things are now). */
	void (*bars_changed)(struct pci_function *fn);
};

struct pci_function {
	const struct pci_function_ops *ops;
	void *opaque;
	uint8_t config[PCI_CONFIG_SIZE];
	struct pci_bar bars[PCI_BARS];
};

/* One address window on the MMIO bus; the bus range's opaque. */
struct pci_window {
	struct pci_host *host;
	uint64_t base, size;
	uint64_t next_free; /* pci_host_alloc_bar()'s bump pointer */
};

/* Port 0xCF9 sits inside the type-1 window: a byte write with the reset bit
 * is the PC reset control register, which the FADT also names. */
typedef void (*pci_host_reset_fn)(void *opaque);

struct pci_host {
	pthread_mutex_t lock;
	pci_host_reset_fn reset;
	void *reset_opaque;
	uint32_t config_address; /* the 0xCF8 register */
	struct pci_function bridge;
	struct pci_function *fns[PCI_DEVFNS]; /* by devfn; [0]: the bridge */
	struct pci_window windows[PCI_HOST_MAX_WINDOWS];
	unsigned nr_windows;
};

void pci_host_init(struct pci_host *host);

/* A config_read op for functions whose reads have no side effects: the
 * stored bytes. */
uint32_t pci_function_read_stored(struct pci_function *fn, uint32_t off,
				  uint32_t len);

/* The host bridge's identity (default: Red Hat's generic PCIe host
 * bridge, 1b36:0008). Firmware recognises a platform by it. */
void pci_host_set_bridge_id(struct pci_host *host, uint16_t vendor,
			    uint16_t device, uint8_t revision);
void pci_host_destroy(struct pci_host *host);

extern const struct bus_device_ops pci_host_ecam_ops; /* ECAM window */
extern const struct bus_device_ops pci_host_cf8_ops;  /* ports 0xCF8..0xCFF */

/*
 * Declares memory BAR i of a function before it is plugged: writes the BAR
 * registers with the initial address (size-aligned; 0 leaves it for the
 * guest to assign). A 64-bit BAR also takes register i+1, so i < 5; a
 * BAR that does not fit is not declared.
 */
void pci_function_set_bar(struct pci_function *fn, unsigned i, uint64_t size,
			  bool mem64, bool prefetchable, uint64_t addr,
			  const struct bus_device_ops *ops, void *opaque);

/* Puts fn in a free slot (1-31) as its function 0. Fails
 * (PHY_E_INTERNAL) when taken. */
int pci_host_plug(struct pci_host *host, unsigned slot,
		  struct pci_function *fn, struct phy_error *err);
/* Puts fn at devfn (PCI_DEVFN(slot, function), slot 1-31). A function
 * other than 0 is seen only when function 0 of its slot says it is
 * multi-function (header type bit 7): that is the functions' business. */
int pci_host_plug_devfn(struct pci_host *host, unsigned devfn,
			struct pci_function *fn, struct phy_error *err);
/* The lowest slot (1-31) with no function at all, or 0 when none is. */
unsigned pci_host_free_slot(struct pci_host *host);
/* Takes the function at devfn out again; its BARs stop decoding. */
void pci_host_unplug(struct pci_host *host, unsigned devfn);

/* Registers [base, base+size) on the MMIO bus as a BAR window. Before the
 * vCPUs run, like every bus registration. */
int pci_host_add_window(struct pci_host *host, struct bus *mmio,
			uint64_t base, uint64_t size, const char *name,
			struct phy_error *err);

/* A size-aligned address for a BAR of `size` bytes, from the first window
 * with room, for the VMM to place BARs as firmware would; 0 when full. */
uint64_t pci_host_alloc_bar(struct pci_host *host, uint64_t size);

/* Config space access by bus/device/function; absent functions read ~0. */
uint32_t pci_host_config_read(struct pci_host *host, unsigned bus,
			      unsigned devfn, uint32_t offset, uint32_t len);
void pci_host_config_write(struct pci_host *host, unsigned bus,
			   unsigned devfn, uint32_t offset, uint32_t len,
			   uint32_t value);

#endif
