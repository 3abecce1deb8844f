/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/pci/pci_host.h"

#include <string.h>

/* Red Hat's ID for a generic PCIe host bridge: guests know it needs no
 * driver. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_BRIDGE_HOST 0x060000

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }

static uint32_t get_le(const uint8_t *p, uint32_t len)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* The bridge's config space is read-only: it has no BARs and nothing to
 * configure. */
static uint32_t bridge_read(struct pci_function *fn, uint32_t off,
			    uint32_t len)
{
	return get_le(&fn->config[off], len);
}

static void bridge_write(struct pci_function *fn, uint32_t off, uint32_t len,
			 uint32_t v)
{
}

static const struct pci_function_ops bridge_ops = {
	.config_read = bridge_read,
	.config_write = bridge_write,
};

void pci_host_init(struct pci_host *host)
{
	memset(host, 0, sizeof(*host));
	pthread_mutex_init(&host->lock, NULL);
	uint8_t *c = host->bridge.config;
	put16(c + 0x00, HOST_BRIDGE_VENDOR);
	put16(c + 0x02, HOST_BRIDGE_DEVICE);
	c[0x08] = 0; /* revision */
	c[0x09] = PCI_CLASS_BRIDGE_HOST & 0xff;
	c[0x0a] = (PCI_CLASS_BRIDGE_HOST >> 8) & 0xff;
	c[0x0b] = PCI_CLASS_BRIDGE_HOST >> 16;
	c[0x0e] = 0; /* header type 0, single function */
	put16(c + 0x2c, HOST_BRIDGE_VENDOR); /* subsystem */
	put16(c + 0x2e, 0x1100);
	host->bridge.ops = &bridge_ops;
	host->slots[0] = &host->bridge;
}

void pci_host_destroy(struct pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

static struct pci_function *lookup(struct pci_host *host, unsigned bus,
				   unsigned devfn)
{
	if (bus != 0 || (devfn & 7) != 0)
		return NULL;
	return host->slots[devfn >> 3];
}

static bool access_ok(uint32_t offset, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && (offset & (len - 1)) == 0 &&
	       offset + len <= PCI_CONFIG_SIZE;
}

uint32_t pci_host_config_read(struct pci_host *host, unsigned bus,
			      unsigned devfn, uint32_t offset, uint32_t len)
{
	uint32_t ones = len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
	if (!access_ok(offset, len))
		return ones;
	pthread_mutex_lock(&host->lock);
	struct pci_function *fn = lookup(host, bus, devfn);
	uint32_t v = fn ? fn->ops->config_read(fn, offset, len) : ones;
	pthread_mutex_unlock(&host->lock);
	return v;
}

void pci_host_config_write(struct pci_host *host, unsigned bus,
			   unsigned devfn, uint32_t offset, uint32_t len,
			   uint32_t value)
{
	if (!access_ok(offset, len))
		return;
	pthread_mutex_lock(&host->lock);
	struct pci_function *fn = lookup(host, bus, devfn);
	if (fn)
		fn->ops->config_write(fn, offset, len, value);
	pthread_mutex_unlock(&host->lock);
}

/* ECAM: bus[27:20] devfn[19:12] register[11:0]. */
static void ecam_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t v = pci_host_config_read(opaque, off >> 20, (off >> 12) & 0xff,
					  off & 0xfff, len);
	for (uint32_t i = 0; i < len; i++)
		data[i] = len <= 4 ? v >> (8 * i) : 0xff;
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data,
		       uint32_t len)
{
	if (len > 4)
		return;
	pci_host_config_write(opaque, off >> 20, (off >> 12) & 0xff,
			      off & 0xfff, len, get_le(data, len));
}

const struct bus_device_ops pci_host_ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

#define RESET_CPU 0x04

/* Type 1: 0xCF8 holds enable[31] bus[23:16] devfn[15:8] reg[7:2] and the
 * extended register bits [11:8] in [27:24]; 0xCFC..0xCFF is the data. */
static uint32_t cf8_offset(uint32_t addr, uint64_t port_off)
{
	return ((addr >> 16) & 0xf00) | (addr & 0xfc) | (uint32_t)(port_off & 3);
}

static void cf8_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct pci_host *host = opaque;
	uint32_t v;
	if (off == 0 && len == 4) {
		pthread_mutex_lock(&host->lock);
		v = host->config_address;
		pthread_mutex_unlock(&host->lock);
	} else if (off >= 4) {
		pthread_mutex_lock(&host->lock);
		uint32_t addr = host->config_address;
		pthread_mutex_unlock(&host->lock);
		if (!(addr & 0x80000000u))
			v = 0xffffffffu;
		else
			v = pci_host_config_read(host, (addr >> 16) & 0xff,
						 (addr >> 8) & 0xff,
						 cf8_offset(addr, off - 4), len);
	} else {
		v = 0xffffffffu;
	}
	for (uint32_t i = 0; i < len; i++)
		data[i] = v >> (8 * i);
}

static void cf8_write(void *opaque, uint64_t off, const uint8_t *data,
		      uint32_t len)
{
	struct pci_host *host = opaque;
	uint32_t v = get_le(data, len > 4 ? 4 : len);
	if (off == 1 && len == 1) {
		if ((v & RESET_CPU) && host->reset)
			host->reset(host->reset_opaque);
		return;
	}
	if (off == 0 && len == 4) {
		pthread_mutex_lock(&host->lock);
		host->config_address = v;
		pthread_mutex_unlock(&host->lock);
		return;
	}
	if (off < 4)
		return;
	pthread_mutex_lock(&host->lock);
	uint32_t addr = host->config_address;
	pthread_mutex_unlock(&host->lock);
	if (addr & 0x80000000u)
		pci_host_config_write(host, (addr >> 16) & 0xff,
				      (addr >> 8) & 0xff,
				      cf8_offset(addr, off - 4), len, v);
}

const struct bus_device_ops pci_host_cf8_ops = {
	.read = cf8_read,
	.write = cf8_write,
};
