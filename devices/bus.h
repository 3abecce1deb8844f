/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PIO and MMIO dispatch: a device registers an address range with read and
 * write handlers; a vCPU exit is routed to the one device covering it.
 * Ranges are registered before the vCPUs run, so lookups take no lock.
 * Handlers run on vCPU threads, several at once: devices lock themselves.
 */
#ifndef PHY_DEVICES_BUS_H
#define PHY_DEVICES_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include <phyllome/vmm.h>

struct bus_device_ops {
	/* offset is relative to the start of the registered range. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data,
		      uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t size;
	const struct bus_device_ops *ops;
	void *opaque;
	const char *name;
};

#define BUS_MAX_RANGES 64

struct bus {
	struct bus_range ranges[BUS_MAX_RANGES]; /* sorted by base */
	unsigned nr;
	const char *name; /* "pio" or "mmio", for messages */
};

void bus_init(struct bus *bus, const char *name);

/* Fails (PHY_E_INTERNAL) on overlap or when the table is full. */
int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct bus_device_ops *ops, void *opaque,
		 const char *name, struct phy_error *err);

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr,
				 uint32_t len);

/* Dispatch; an access nobody claims reads as all ones and writes are
 * dropped, like an empty bus. Returns false when unclaimed. */
bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data,
	      uint32_t len);
bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data,
	       uint32_t len);

#endif
