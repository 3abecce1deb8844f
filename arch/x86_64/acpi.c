/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI tables for the x86_64 "virt" machine (ACPI 6.5).
 *
 * Layout inside the caller's buffer, each table 16-byte aligned:
 *   RSDP, XSDT, FADT, MADT, MCFG (only with ECAM), DSDT
 * Firmware boot has no ECAM (an i440FX-like machine) and a CMOS clock;
 * its firmware places the tables itself (x86_acpi_build_links()).
 * The DSDT goes last because it is the only table whose size is not known
 * up front. The machine is hardware-reduced: no PM1/GPE blocks, no SCI, no
 * FACS; power off goes through the sleep control register and reset through
 * the reset register, both single-byte I/O ports. The DSDT holds the host
 * bridge and the motherboard's resources; every other device (COM1, the
 * power button's Generic Event Device, \_S5) describes itself through a
 * part the machine passes in.
 */
#include "arch/x86_64/acpi.h"

#include <string.h>

#include "common/aml.h"
#include "arch/x86_64/layout.h"
#include "common/error.h"

#define ACPI_ALIGN		16
#define ACPI_HEADER_SIZE	36

#define ACPI_OEM_ID		"PHYLLO"
#define ACPI_OEM_TABLE_ID	"PHYLLOME"
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"PHYL"
#define ACPI_CREATOR_REVISION	1

/* RSDP (ACPI 6.5, 5.2.5.3). */
#define RSDP_SIZE		36
#define RSDP_V1_SIZE		20
#define RSDP_REVISION		2

#define XSDT_MAX_ENTRIES	3	/* FADT, MADT, MCFG (with ECAM) */
#define XSDT_SIZE(n)		(ACPI_HEADER_SIZE + 8 * (n))
#define RSDP_XSDT_ADDRESS	24

/* FADT (5.2.9): byte offsets of the fields we set. */
#define FADT_SIZE		276
#define FADT_REVISION		6
#define FADT_MINOR_REVISION	5
#define FADT_DSDT		40
#define FADT_CENTURY		108
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL_REG	244
#define FADT_SLEEP_STATUS_REG	256
#define FADT_HYPERVISOR_ID	268

/* IA-PC boot architecture flags (5.2.9.3). The 8042 flag stays clear: there
 * is no keyboard controller, so Linux neither probes one nor resets with it.
 * MSI Not Supported stays clear: devices use MSI-X. There is no CMOS RTC on
 * this machine; saying so keeps Linux from probing ports 0x70/0x71. */
#define IAPC_VGA_NOT_PRESENT	(1u << 2)
#define IAPC_PCIE_ASPM_CONTROLS	(1u << 4)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/* Fixed feature flags (5.2.9, table 5.10). */
#define FADT_F_WBINVD		(1u << 0)
#define FADT_F_PWR_BUTTON	(1u << 4)	/* no fixed power button */
#define FADT_F_SLP_BUTTON	(1u << 5)	/* no fixed sleep button */
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

/* Generic Address Structure (5.2.3.2). */
#define GAS_SPACE_SYSTEM_IO	1
#define GAS_ACCESS_BYTE		1

/* MADT (5.2.12). */
#define MADT_REVISION		5
#define MADT_LAPIC_ADDR		36
#define MADT_FLAGS		40
#define MADT_ENTRIES		44
#define MADT_PCAT_COMPAT	(1u << 0)
#define MADT_TYPE_LAPIC		0
#define MADT_TYPE_IOAPIC	1
#define MADT_TYPE_ISO		2
#define MADT_TYPE_LAPIC_NMI	4
#define MADT_LAPIC_SIZE		8
#define MADT_IOAPIC_SIZE	12
#define MADT_ISO_SIZE		10
#define MADT_LAPIC_NMI_SIZE	6
#define MADT_LAPIC_ENABLED	(1u << 0)
/* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2. */
#define MPS_ACTIVE_HIGH		0x1
#define MPS_EDGE		0x4
#define ACPI_ALL_PROCESSORS	0xFF

/* MCFG (PCI Firmware spec 3.2, 4.1.2). */
#define MCFG_REVISION		1
#define MCFG_SIZE		(ACPI_HEADER_SIZE + 8 + 16)

#define DSDT_REVISION		2	/* 2 and up: 64-bit AML integers */

#define ECAM_BUS_SHIFT		20	/* 1 MiB of config space per bus */
#define PCI_CONF1_FIRST		0xCF8
#define PCI_CONF1_LAST		0xCFF

static void put_le(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *p++);
	return sum;
}

/* Stores the byte that makes the len bytes at p sum to zero. */
static void acpi_set_checksum(uint8_t *p, size_t len, uint8_t *csum)
{
	*csum = 0;
	*csum = (uint8_t)(0 - acpi_sum(p, len));
}

static size_t acpi_align(size_t off)
{
	return (off + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);
}

static void acpi_header(uint8_t *t, const char *sig, uint32_t len,
			uint8_t rev)
{
	memset(t, 0, ACPI_HEADER_SIZE);
	memcpy(t, sig, 4);
	put_le(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, ACPI_OEM_ID, 6);
	memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
	put_le(t + 24, ACPI_OEM_REVISION, 4);
	memcpy(t + 28, ACPI_CREATOR_ID, 4);
	put_le(t + 32, ACPI_CREATOR_REVISION, 4);
}

/* Fills in the length and checksum once the table's contents are final. */
static void acpi_finish(uint8_t *t, uint32_t len)
{
	put_le(t + 4, len, 4);
	acpi_set_checksum(t, len, &t[9]);
}

static void acpi_gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SPACE_SYSTEM_IO;
	p[1] = 8;       /* bit width */
	p[2] = 0;       /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put_le(p + 4, port, 8);
}

/* ---- Fixed-size tables -------------------------------------------------- */

static void build_rsdp(uint8_t *t, uint64_t xsdt_gpa)
{
	memset(t, 0, RSDP_SIZE);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, ACPI_OEM_ID, 6);
	t[15] = RSDP_REVISION;
	/* RsdtAddress stays 0: revision 2 guests use the XSDT. */
	put_le(t + 20, RSDP_SIZE, 4);
	put_le(t + RSDP_XSDT_ADDRESS, xsdt_gpa, 8);
	acpi_set_checksum(t, RSDP_V1_SIZE, &t[8]);
	acpi_set_checksum(t, RSDP_SIZE, &t[32]);
}

static void build_xsdt(uint8_t *t, const uint64_t *gpas, unsigned n)
{
	acpi_header(t, "XSDT", XSDT_SIZE(n), 1);
	for (unsigned i = 0; i < n; i++)
		put_le(t + ACPI_HEADER_SIZE + 8 * i, gpas[i], 8);
	acpi_finish(t, XSDT_SIZE(n));
}

static void build_fadt(uint8_t *t, const struct x86_acpi_config *cfg,
		       uint64_t dsdt_gpa)
{
	acpi_header(t, "FACP", FADT_SIZE, FADT_REVISION);
	memset(t + ACPI_HEADER_SIZE, 0, FADT_SIZE - ACPI_HEADER_SIZE);
	/*
	 * Hardware-reduced: SCI_INT, SMI_CMD, the PM1/PM2/PM timer/GPE
	 * blocks and FIRMWARE_CTRL all stay 0, and the 32-bit DSDT field
	 * stays 0 in favour of X_DSDT.
	 */
	/* The CMOS index of the century, so the OS reads whole years. */
	t[FADT_CENTURY] = cfg->cmos_rtc ? X86_CMOS_CENTURY : 0;
	put_le(t + FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT |
	       IAPC_PCIE_ASPM_CONTROLS |
	       (cfg->cmos_rtc ? 0 : IAPC_CMOS_RTC_NOT_PRESENT), 2);
	put_le(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PWR_BUTTON |
	       FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP |
	       FADT_F_HW_REDUCED_ACPI, 4);
	acpi_gas_io8(t + FADT_RESET_REG, cfg->reset_port);
	t[FADT_RESET_VALUE] = cfg->reset_value;
	t[FADT_MINOR_VERSION] = FADT_MINOR_REVISION;
	put_le(t + FADT_X_DSDT, dsdt_gpa, 8);
	acpi_gas_io8(t + FADT_SLEEP_CONTROL_REG, cfg->sleep_control_port);
	acpi_gas_io8(t + FADT_SLEEP_STATUS_REG, cfg->sleep_status_port);
	memcpy(t + FADT_HYPERVISOR_ID, "PHYLLOME", 8);
	acpi_finish(t, FADT_SIZE);
}

static size_t madt_size(unsigned nr_cpus)
{
	return MADT_ENTRIES + MADT_LAPIC_SIZE * (size_t)nr_cpus +
	       MADT_IOAPIC_SIZE + MADT_ISO_SIZE + MADT_LAPIC_NMI_SIZE;
}

static void build_madt(uint8_t *t, const struct x86_acpi_config *cfg)
{
	uint32_t len = (uint32_t)madt_size(cfg->nr_cpus);
	uint8_t *e = t + MADT_ENTRIES;

	acpi_header(t, "APIC", len, MADT_REVISION);
	put_le(t + MADT_LAPIC_ADDR, cfg->lapic_gpa, 4);
	put_le(t + MADT_FLAGS, MADT_PCAT_COMPAT, 4);

	/* Processor UID and APIC ID are both the vCPU index. */
	for (unsigned i = 0; i < cfg->nr_cpus; i++, e += MADT_LAPIC_SIZE) {
		e[0] = MADT_TYPE_LAPIC;
		e[1] = MADT_LAPIC_SIZE;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		put_le(e + 4, MADT_LAPIC_ENABLED, 4);
	}

	e[0] = MADT_TYPE_IOAPIC;
	e[1] = MADT_IOAPIC_SIZE;
	e[2] = cfg->ioapic_id;
	e[3] = 0;
	put_le(e + 4, cfg->ioapic_gpa, 4);
	put_le(e + 8, 0, 4);    /* GSI base: ISA IRQs are pins 0-15 */
	e += MADT_IOAPIC_SIZE;

	/*
	 * The PIT's IRQ 0 is wired to IOAPIC pin 2, as on every PC. The flags
	 * are explicit rather than "conforms to the bus": with SCI_INT 0 in a
	 * hardware-reduced FADT, Linux mistakes an override of IRQ 0 for the
	 * SCI's and would default it to level, active low.
	 */
	e[0] = MADT_TYPE_ISO;
	e[1] = MADT_ISO_SIZE;
	e[2] = 0;               /* bus: ISA */
	e[3] = 0;               /* source IRQ */
	put_le(e + 4, 2, 4);    /* GSI */
	put_le(e + 8, MPS_ACTIVE_HIGH | MPS_EDGE, 2);
	e += MADT_ISO_SIZE;

	/* LINT1 of every local APIC is the NMI input, as KVM wires it. */
	e[0] = MADT_TYPE_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_SIZE;
	e[2] = ACPI_ALL_PROCESSORS;
	put_le(e + 3, MPS_ACTIVE_HIGH | MPS_EDGE, 2);
	e[5] = 1;               /* LINT1 */

	acpi_finish(t, len);
}

static void build_mcfg(uint8_t *t, const struct x86_acpi_config *cfg)
{
	uint8_t *alloc = t + ACPI_HEADER_SIZE + 8;

	acpi_header(t, "MCFG", MCFG_SIZE, MCFG_REVISION);
	memset(t + ACPI_HEADER_SIZE, 0, MCFG_SIZE - ACPI_HEADER_SIZE);
	/* The base is where bus 0 would be, even if bus_start is higher. */
	put_le(alloc, cfg->ecam_gpa, 8);
	put_le(alloc + 8, 0, 2);        /* PCI segment group */
	alloc[10] = cfg->bus_start;
	alloc[11] = cfg->bus_end;
	acpi_finish(t, MCFG_SIZE);
}

/* ---- DSDT --------------------------------------------------------------- */

static void dsdt_pci0(struct aml *a, const struct x86_acpi_config *cfg)
{
	size_t dev = aml_device_begin(a, "PCI0");

	aml_name(a, "_HID");
	if (cfg->ecam_gpa) {
		aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge */
		aml_name(a, "_CID");
	}
	aml_eisaid(a, "PNP0A03");       /* PCI root bridge, for older OSes */
	/* No _ADR: a device has either _HID or _ADR (ACPI 6.5, 6.1), and
	 * iasl warns when it has both. */
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_UID", 0);
	aml_name_integer(a, "_BBN", cfg->bus_start);

	aml_name(a, "_CRS");
	size_t rt = aml_rt_begin(a);
	aml_rt_word_bus_number(a, cfg->bus_start, cfg->bus_end);
	/* All I/O ports but the type-1 config ports, which the bridge
	 * itself decodes. */
	aml_rt_word_io(a, 0x0000, PCI_CONF1_FIRST - 1);
	aml_rt_word_io(a, PCI_CONF1_LAST + 1, 0xFFFF);
	if (cfg->mmio32_size)
		aml_rt_dword_memory(a, (uint32_t)cfg->mmio32_gpa,
				    (uint32_t)(cfg->mmio32_gpa +
					       cfg->mmio32_size - 1), false);
	if (cfg->mmio64_size)
		aml_rt_qword_memory(a, cfg->mmio64_gpa,
				    cfg->mmio64_gpa + cfg->mmio64_size - 1,
				    true);
	aml_rt_end(a, rt);

	aml_end(a, dev);
}

/*
 * Motherboard resources: Linux uses MCFG's ECAM only if the range is also
 * reserved here (or in the e820 map), and reserving the sleep registers and
 * the ports devices ask for keeps anything else from being placed on them.
 */
static void dsdt_mres(struct aml *a, const struct x86_acpi_config *cfg)
{
	uint64_t ecam_lo = cfg->ecam_gpa +
			   ((uint64_t)cfg->bus_start << ECAM_BUS_SHIFT);
	uint64_t ecam_hi = cfg->ecam_gpa +
			   (((uint64_t)cfg->bus_end + 1) << ECAM_BUS_SHIFT) - 1;
	uint16_t ctl = cfg->sleep_control_port, sts = cfg->sleep_status_port;
	size_t dev = aml_device_begin(a, "MRES");

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name_integer(a, "_UID", 0);

	aml_name(a, "_CRS");
	size_t rt = aml_rt_begin(a);
	if (cfg->ecam_gpa && ecam_hi <= UINT32_MAX)
		aml_rt_memory32_fixed(a, (uint32_t)ecam_lo,
				      (uint32_t)(ecam_hi - ecam_lo + 1), true);
	else if (cfg->ecam_gpa)
		aml_rt_qword_memory_consumer(a, ecam_lo, ecam_hi);
	if (sts == ctl + 1) {
		aml_rt_io(a, ctl, ctl, 1, 2);
	} else {
		aml_rt_io(a, ctl, ctl, 1, 1);
		aml_rt_io(a, sts, sts, 1, 1);
	}
	for (unsigned i = 0; i < cfg->nr_reserved; i++)
		aml_rt_io(a, cfg->reserved[i].base, cfg->reserved[i].base, 1,
			  (uint8_t)cfg->reserved[i].len);
	aml_rt_end(a, rt);

	aml_end(a, dev);
}

/* Builds the DSDT at t; returns its length, 0 if it does not fit in cap
 * bytes (nothing past t + cap is touched), or a negative PHY_E_* code when
 * a part cannot be encoded. */
static long build_dsdt(uint8_t *t, size_t cap,
		       const struct x86_acpi_config *cfg, struct phy_error *err)
{
	static const uint8_t header[ACPI_HEADER_SIZE];
	struct aml a;

	aml_init(&a, t, cap);
	aml_bytes(&a, header, sizeof(header));   /* filled in below */

	size_t sb = aml_scope_begin(&a, "\\_SB");
	dsdt_pci0(&a, cfg);
	dsdt_mres(&a, cfg);
	for (unsigned i = 0; i < cfg->nr_parts; i++) {
		cfg->parts[i].emit(cfg->parts[i].opaque, &a);
		if (a.invalid)
			return phy_err(err, PHY_E_INVALID,
				       "acpi: the DSDT's %s cannot be encoded "
				       "(a port or interrupt out of range)",
				       cfg->parts[i].name);
	}
	aml_end(&a, sb);

	if (!aml_ok(&a) || a.len > UINT32_MAX)
		return 0;
	acpi_header(t, "DSDT", (uint32_t)a.len, DSDT_REVISION);
	acpi_finish(t, (uint32_t)a.len);
	return (long)a.len;
}

/* ---- Entry point -------------------------------------------------------- */

static int acpi_check_range(uint64_t base, uint64_t size, uint64_t limit)
{
	return size == 0 || (base <= limit && size - 1 <= limit - base);
}

static int acpi_check_config(const struct x86_acpi_config *cfg,
			     struct phy_error *err)
{
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > X86_MAX_VCPUS)
		return phy_err(err, PHY_E_INVALID,
			       "acpi: %u vCPUs (1 to %u supported)",
			       cfg->nr_cpus, X86_MAX_VCPUS);
	if (cfg->lapic_gpa > UINT32_MAX || cfg->ioapic_gpa > UINT32_MAX)
		return phy_err(err, PHY_E_INVALID,
			       "acpi: the APICs must be below 4 GiB");
	if (cfg->bus_start > cfg->bus_end ||
	    (cfg->ecam_gpa & ((1ULL << ECAM_BUS_SHIFT) - 1)) ||
	    !acpi_check_range(cfg->ecam_gpa,
			      ((uint64_t)cfg->bus_end + 1) << ECAM_BUS_SHIFT,
			      UINT64_MAX))
		return phy_err(err, PHY_E_INVALID, "acpi: bad ECAM range");
	if (!acpi_check_range(cfg->mmio32_gpa, cfg->mmio32_size, UINT32_MAX) ||
	    !acpi_check_range(cfg->mmio64_gpa, cfg->mmio64_size, UINT64_MAX))
		return phy_err(err, PHY_E_INVALID, "acpi: bad PCI window");
	/* A zero address means "absent" to the OS, so the sleep and reset
	 * registers must be real ports. */
	if (!cfg->sleep_control_port || !cfg->sleep_status_port ||
	    cfg->sleep_control_port == cfg->sleep_status_port ||
	    !cfg->reset_port)
		return phy_err(err, PHY_E_INVALID,
			       "acpi: bad sleep or reset register port");
	for (unsigned i = 0; i < cfg->nr_reserved; i++)
		if (!cfg->reserved[i].len || cfg->reserved[i].len > 255 ||
		    cfg->reserved[i].base > 0xFFFF - (cfg->reserved[i].len - 1))
			return phy_err(err, PHY_E_INVALID,
				       "acpi: bad reserved port range 0x%x+%u",
				       cfg->reserved[i].base, cfg->reserved[i].len);
	if ((cfg->nr_parts && !cfg->parts) ||
	    (cfg->nr_reserved && !cfg->reserved))
		return phy_err(err, PHY_E_INVALID, "acpi: no parts given");
	return 0;
}

static void link_pointer(struct x86_acpi_links *l, size_t offset, uint8_t size)
{
	if (l && l->nr_pointers < X86_ACPI_MAX_LINKS)
		l->pointers[l->nr_pointers++] = (typeof(l->pointers[0])){
			(uint32_t)offset, size };
}

static void link_checksum(struct x86_acpi_links *l, size_t start,
			  size_t length, size_t checksum)
{
	if (l && l->nr_checksums < X86_ACPI_MAX_LINKS)
		l->checksums[l->nr_checksums++] = (typeof(l->checksums[0])){
			(uint32_t)start, (uint32_t)length, (uint32_t)checksum };
}

static long acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf,
		       size_t buf_size, uint64_t buf_gpa,
		       struct x86_acpi_links *links, struct phy_error *err)
{
	if (!cfg || !buf)
		return phy_err(err, PHY_E_INVALID, "acpi: no config or buffer");
	/* The legacy RSDP scan only looks at 16-byte boundaries. */
	if (buf_gpa & (ACPI_ALIGN - 1))
		return phy_err(err, PHY_E_INVALID,
			       "acpi: tables at 0x%llx are not 16-byte aligned",
			       (unsigned long long)buf_gpa);
	int rc = acpi_check_config(cfg, err);
	if (rc)
		return rc;

	unsigned nr_tables = cfg->ecam_gpa ? 3 : 2;
	size_t xsdt = acpi_align(RSDP_SIZE);
	size_t fadt = acpi_align(xsdt + XSDT_SIZE(nr_tables));
	size_t madt = acpi_align(fadt + FADT_SIZE);
	size_t mcfg = acpi_align(madt + madt_size(cfg->nr_cpus));
	size_t dsdt = cfg->ecam_gpa ? acpi_align(mcfg + MCFG_SIZE) : mcfg;
	if (buf_size < dsdt + ACPI_HEADER_SIZE ||
	    buf_gpa > UINT64_MAX - buf_size)
		goto too_small;

	/* The gaps between tables read as zeros, not stale memory. */
	memset(buf, 0, dsdt);
	long dsdt_len = build_dsdt(buf + dsdt, buf_size - dsdt, cfg, err);
	if (dsdt_len < 0)
		return dsdt_len;
	if (!dsdt_len)
		goto too_small;

	uint64_t tables[XSDT_MAX_ENTRIES] = {
		buf_gpa + fadt, buf_gpa + madt, buf_gpa + mcfg,
	};
	build_rsdp(buf, buf_gpa + xsdt);
	build_xsdt(buf + xsdt, tables, nr_tables);
	build_fadt(buf + fadt, cfg, buf_gpa + dsdt);
	build_madt(buf + madt, cfg);
	if (cfg->ecam_gpa)
		build_mcfg(buf + mcfg, cfg);

	if (links) {
		memset(links, 0, sizeof(*links));
		links->rsdp_size = RSDP_SIZE;
		link_pointer(links, RSDP_XSDT_ADDRESS, 8);
		for (unsigned i = 0; i < nr_tables; i++)
			link_pointer(links, xsdt + ACPI_HEADER_SIZE + 8 * i, 8);
		link_pointer(links, fadt + FADT_X_DSDT, 8);
		link_checksum(links, 0, RSDP_V1_SIZE, 8);
		link_checksum(links, 0, RSDP_SIZE, 32);
		size_t at[] = { xsdt, fadt, madt, mcfg, dsdt };
		size_t len[] = { XSDT_SIZE(nr_tables), FADT_SIZE,
				 madt_size(cfg->nr_cpus), MCFG_SIZE,
				 (size_t)dsdt_len };
		enum { MCFG_INDEX = 3 };
		for (unsigned i = 0; i < 5; i++)
			if (i != MCFG_INDEX || cfg->ecam_gpa)
				link_checksum(links, at[i], len[i], at[i] + 9);
	}
	return (long)dsdt + dsdt_len;

too_small:
	return phy_err(err, PHY_E_INVALID,
		       "acpi: %zu bytes are too few for the ACPI tables",
		       buf_size);
}

long x86_acpi_build(const struct x86_acpi_config *cfg, uint8_t *buf,
		    size_t buf_size, uint64_t buf_gpa, struct phy_error *err)
{
	return acpi_build(cfg, buf, buf_size, buf_gpa, NULL, err);
}

long x86_acpi_build_links(const struct x86_acpi_config *cfg, uint8_t *buf,
			  size_t buf_size, struct x86_acpi_links *links,
			  struct phy_error *err)
{
	return acpi_build(cfg, buf, buf_size, 0, links, err);
}

struct x86_acpi_config x86_acpi_virt_config(unsigned nr_cpus,
					    uint64_t ram_size)
{
	return (struct x86_acpi_config){
		.nr_cpus = nr_cpus,
		.lapic_gpa = X86_LAPIC_GPA,
		.ioapic_gpa = X86_IOAPIC_GPA,
		.ioapic_id = 0, /* the in-kernel IOAPIC's default ID */
		.ecam_gpa = X86_ECAM_GPA,
		.bus_start = 0,
		.bus_end = X86_ECAM_BUS_END,
		.mmio32_gpa = X86_PCI_MMIO32_GPA,
		.mmio32_size = X86_PCI_MMIO32_SIZE,
		.mmio64_gpa = x86_pci_mmio64_base(ram_size),
		.mmio64_size = X86_PCI_MMIO64_SIZE,
		.sleep_control_port = X86_SLEEP_CONTROL_PORT,
		.sleep_status_port = X86_SLEEP_STATUS_PORT,
		.reset_port = X86_RESET_PORT,
		.reset_value = X86_RESET_VALUE,
	};
}
