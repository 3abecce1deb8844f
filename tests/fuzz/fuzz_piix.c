/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a hostile guest's accesses to the PIIX functions
 * (ISA bridge at 00:01.0, PM function at 00:01.3) through the host
 * bridge's 0xCF8/0xCFC ports, and to the ACPI PM block behind them. Each
 * step is an opcode byte (bits 0-1: a config write through 0xCF8/0xCFC,
 * a config read, a PM block write, a PM block read; bits 2-3: width 1,
 * 2, 4 or 8) and its offset and value words, the PM block's clock moving
 * with each step. Checked after every step: the functions' identities
 * never change; PMBA keeps its I/O bit and 64-byte alignment; the block
 * decodes exactly while PMREGMISC enables it at its port (all ones
 * otherwise); the timer reads 24 bits; a power-off comes only from a
 * write to the PM block, and at most once for one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci/piix.h"
#include "fuzz_prog.h"

#define PM_PORT 0xb000

struct fz {
	struct pci_host host;
	struct piix_isa isa;
	struct piix_pm fn;
	struct acpi_pm pm;
	unsigned poweroffs;
	uint64_t ns;
};

static void die(const char *what)
{
	fprintf(stderr, "fuzz_piix: %s\n", what);
	abort();
}

static void on_poweroff(void *opaque)
{
	struct fz *f = opaque;
	f->poweroffs++;
}

static uint64_t clock_ns(void *opaque)
{
	struct fz *f = opaque;
	return f->ns;
}

static uint32_t cfg(struct fz *f, unsigned devfn, uint32_t off, uint32_t len)
{
	return pci_host_config_read(&f->host, 0, devfn, off, len);
}

static void check(struct fz *f)
{
	if (cfg(f, PIIX_ISA_DEVFN, 0, 4) != 0x70008086 ||
	    cfg(f, PIIX_PM_DEVFN, 0, 4) != 0x71138086 ||
	    cfg(f, PIIX_ISA_DEVFN, 0x0a, 2) != 0x0601 ||
	    !(cfg(f, PIIX_ISA_DEVFN, 0x0e, 1) & 0x80))
		die("a function's identity changed");
	uint32_t pmba = cfg(f, PIIX_PM_DEVFN, PIIX_PM_PMBA, 4);
	if ((pmba & 0xffff003e) != 0 || !(pmba & 1))
		die("PMBA lost its I/O bit or its alignment");
	bool on = (cfg(f, PIIX_PM_DEVFN, PIIX_PM_PMREGMISC, 1) & 1) &&
		  (pmba & 0xffc0) == PM_PORT;
	uint8_t d[4];
	acpi_pm_bus_ops.read(&f->pm, ACPI_PM_TMR, d, 4);
	uint32_t t = d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
	if (on != (t != 0xffffffff))
		die("the block decodes when it should not, or not when it should");
	if (on && t > ACPI_PM_TIMER_MASK)
		die("the timer has more than 24 bits");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = calloc(1, sizeof(*f));
	if (!f)
		return 0;
	pci_host_init(&f->host);
	acpi_pm_init(&f->pm, 0, on_poweroff, f);
	f->pm.clock = clock_ns;
	f->pm.clock_opaque = f;
	piix_isa_init(&f->isa);
	piix_pm_init(&f->fn, &f->pm, PM_PORT);
	if (pci_host_plug_devfn(&f->host, PIIX_ISA_DEVFN, &f->isa.fn, NULL) ||
	    pci_host_plug_devfn(&f->host, PIIX_PM_DEVFN, &f->fn.fn, NULL))
		die("plugging failed");
	struct prog g = { data, size };
	while (g.n) {
		uint8_t op = prog_byte(&g);
		uint32_t len = 1u << ((op >> 2) & 3);
		uint16_t off = prog_word(&g);
		uint32_t lo = prog_word(&g), hi = prog_word(&g);
		uint8_t val[8];
		for (unsigned i = 0; i < 8; i++)
			val[i] = (uint8_t)((i < 2 ? lo : hi) >> (8 * (i & 1)));
		f->ns += (uint64_t)prog_word(&g) << 10;
		unsigned before = f->poweroffs;
		uint8_t out[8];
		switch (op & 3) {
		case 0: { /* 0xCF8 address, then 0xCFC data */
			uint32_t addr = 0x80000000u | (1u << 11) |
					((off >> 8 & 7u) << 8) | (off & 0xfc);
			uint8_t a[4] = { (uint8_t)addr, (uint8_t)(addr >> 8),
					 (uint8_t)(addr >> 16), (uint8_t)(addr >> 24) };
			pci_host_cf8_ops.write(&f->host, 0, a, 4);
			pci_host_cf8_ops.write(&f->host, 4 + (off & 3), val,
					       len > 4 ? 4 : len);
			break;
		}
		case 1:
			(void)cfg(f, (op & 0x10) ? PIIX_PM_DEVFN : PIIX_ISA_DEVFN,
				  off & 0x1ff, len > 4 ? 4 : len);
			break;
		case 2:
			acpi_pm_bus_ops.write(&f->pm, off & 0x7f, val, len);
			break;
		default:
			acpi_pm_bus_ops.read(&f->pm, off & 0x7f, out, len);
			break;
		}
		if (f->poweroffs > before + 1)
			die("one write powered off twice");
		if (f->poweroffs != before && (op & 3) != 2)
			die("a power-off without a PM1 control write");
		check(f);
	}
	pci_host_destroy(&f->host);
	acpi_pm_destroy(&f->pm);
	free(f);
	return 0;
}
