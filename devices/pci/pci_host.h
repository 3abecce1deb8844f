/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PCIe host bridge: configuration space through ECAM (MMIO) and through
 * the legacy type-1 ports 0xCF8/0xCFC, one segment, bus 0. Slot 0 is the
 * host bridge itself; devices plug into the other slots.
 */
#ifndef PHY_DEVICES_PCI_PCI_HOST_H
#define PHY_DEVICES_PCI_PCI_HOST_H

#include <pthread.h>
#include <stdint.h>

#include "devices/bus.h"

#define PCI_SLOTS 32
#define PCI_CONFIG_SIZE 4096

struct pci_function;

struct pci_function_ops {
	/* Aligned accesses of 1, 2 or 4 bytes inside the 4 KiB space. */
	uint32_t (*config_read)(struct pci_function *fn, uint32_t offset,
				uint32_t len);
	void (*config_write)(struct pci_function *fn, uint32_t offset,
			     uint32_t len, uint32_t value);
};

struct pci_function {
	const struct pci_function_ops *ops;
	void *opaque;
	uint8_t config[PCI_CONFIG_SIZE];
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
	struct pci_function *slots[PCI_SLOTS];
};

void pci_host_init(struct pci_host *host);
void pci_host_destroy(struct pci_host *host);

extern const struct bus_device_ops pci_host_ecam_ops; /* ECAM window */
extern const struct bus_device_ops pci_host_cf8_ops;  /* ports 0xCF8..0xCFF */

/* Config space access by bus/device/function; absent functions read ~0. */
uint32_t pci_host_config_read(struct pci_host *host, unsigned bus,
			      unsigned devfn, uint32_t offset, uint32_t len);
void pci_host_config_write(struct pci_host *host, unsigned bus,
			   unsigned devfn, uint32_t offset, uint32_t len,
			   uint32_t value);

#endif
