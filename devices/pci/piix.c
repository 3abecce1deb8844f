// SPDX-License-Identifier: Apache-2.0
#include "devices/pci/piix.h"

#include <string.h>

#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_HEADER_MULTI_FUNCTION 0x80
#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MASTER 0x0004
/* The identity, class and header: read-only in every function here. */
#define PCI_CFG_RO_END 0x10
#define PMBA_IO_SPACE 0x1
#define PMBA_ADDR_MASK 0xffc0
#define PMREGMISC_PMIOSE 0x01

static void set_id(struct pci_function *fn, uint16_t device, uint32_t class,
		   uint8_t revision)
{
	uint8_t *c = fn->config;
	memset(c, 0, sizeof(fn->config));
	pci_config_put16(c + 0x00, 0x8086);
	pci_config_put16(c + 0x02, device);
	c[0x08] = revision;
	c[0x09] = (uint8_t) class;
	c[0x0a] = (uint8_t)(class >> 8);
	c[0x0b] = (uint8_t)(class >> 16);
	pci_config_put16(c + 0x2c, 0x1af4); /* subsystem: as QEMU's, which guests know */
	pci_config_put16(c + 0x2e, 0x1100);
}

/* Storage, but for the read-only header and the command register's bits
 * these functions do not have. Only the first 256 bytes exist. */
static void plain_write(struct pci_function *fn, uint32_t off, uint32_t len,
			uint32_t v, uint16_t command_mask)
{
	for (uint32_t i = 0; i < len; i++) {
		uint32_t o = off + i;
		uint8_t b = (uint8_t)(v >> (8 * i));
		if (o == 0x04)
			b &= (uint8_t)command_mask;
		else if (o == 0x05)
			b &= (uint8_t)(command_mask >> 8);
		else if (o < PCI_CFG_RO_END || (o >= 0x2c && o < 0x30) ||
			 o >= 0x100)
			continue;
		fn->config[o] = b;
	}
}

static void isa_write(struct pci_function *fn, uint32_t off, uint32_t len,
		      uint32_t v)
{
	plain_write(fn, off, len, v, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
}

static const struct pci_function_ops isa_ops = {
	.config_read = pci_function_read_stored,
	.config_write = isa_write,
};

void piix_isa_init(struct piix_isa *isa)
{
	memset(isa, 0, sizeof(*isa));
	set_id(&isa->fn, 0x7000, 0x060100, 0);
	isa->fn.config[PCI_CFG_HEADER_TYPE] = PCI_HEADER_MULTI_FUNCTION;
	isa->fn.ops = &isa_ops;
	isa->fn.opaque = isa;
	/* PIRQ routing: every line disabled until the firmware routes it. */
	memset(&isa->fn.config[0x60], 0x80, 4);
}

static void pm_update(struct piix_pm *p)
{
	const uint8_t *c = p->fn.config;
	uint16_t pmba = (uint16_t)pci_config_get(c + PIIX_PM_PMBA, 2);
	bool on = (c[PIIX_PM_PMREGMISC] & PMREGMISC_PMIOSE) &&
		  (pmba & PMBA_ADDR_MASK) == p->port;
	acpi_pm_set_enabled(p->pm, on);
}

static void pm_write(struct pci_function *fn, uint32_t off, uint32_t len,
		     uint32_t v)
{
	struct piix_pm *p = fn->opaque;
	plain_write(fn, off, len, v, PCI_COMMAND_IO);
	/* PMBA: an I/O base, 64-byte aligned, bit 0 hardwired. */
	uint16_t pmba = (uint16_t)pci_config_get(fn->config + PIIX_PM_PMBA, 2);
	pci_config_put16(fn->config + PIIX_PM_PMBA,
	      (uint16_t)((pmba & PMBA_ADDR_MASK) | PMBA_IO_SPACE));
	fn->config[PIIX_PM_PMBA + 2] = fn->config[PIIX_PM_PMBA + 3] = 0;
	pm_update(p);
}

static const struct pci_function_ops pm_ops = {
	.config_read = pci_function_read_stored,
	.config_write = pm_write,
};

void piix_pm_init(struct piix_pm *p, struct acpi_pm *pm, uint16_t port)
{
	memset(p, 0, sizeof(*p));
	set_id(&p->fn, 0x7113, 0x068000, 3);
	p->fn.ops = &pm_ops;
	p->fn.opaque = p;
	p->pm = pm;
	p->port = port;
	pci_config_put16(p->fn.config + PIIX_PM_PMBA, PMBA_IO_SPACE);
	p->fn.config[0x3d] = 1; /* INTA#: the SCI's pin on a real PIIX4 */
	pm_update(p);
}
