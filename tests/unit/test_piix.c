/* SPDX-License-Identifier: Apache-2.0 */
/* The PIIX functions firmware looks for, and the ACPI PM block behind the
 * PM function: the sequence OVMF's PlatformPei and ResetSystemLib use,
 * the timer, and garbage. */
#include "check.h"
#include "devices/pci/piix.h"

#define PM_PORT 0xb000

static int poweroffs;
static void on_poweroff(void *o)
{
	poweroffs++;
}
static uint64_t fake_ns;
static uint64_t fake_clock(void *o)
{
	return fake_ns;
}

static uint32_t pm_in(struct acpi_pm *pm, uint64_t off, uint32_t len)
{
	uint8_t d[4] = {0};
	acpi_pm_bus_ops.read(pm, off, d, len);
	return d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
}

static void pm_out(struct acpi_pm *pm, uint64_t off, uint32_t len, uint32_t v)
{
	uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};
	acpi_pm_bus_ops.write(pm, off, d, len);
}

static void test_timer(void)
{
	CHECK(acpi_pm_timer_at(0) == 0);
	CHECK(acpi_pm_timer_at(1000000000ull) == 3579545u);
	/* 24 bits wrap after about 4.69 s. */
	CHECK(acpi_pm_timer_at(5000000000ull) == (17897725u & 0xffffff));
	/* No overflow after days of uptime. */
	uint64_t day = 86400ull * 1000000000ull;
	CHECK(acpi_pm_timer_at(day) ==
	      (uint32_t)((86400ull * 3579545ull) & 0xffffff));
}

static void test_pm_function(void)
{
	struct pci_host h;
	pci_host_init(&h);
	struct acpi_pm pm;
	acpi_pm_init(&pm, 0, on_poweroff, NULL);
	pm.clock = fake_clock;
	struct piix_pm fn;
	piix_pm_init(&fn, &pm, PM_PORT);
	struct piix_isa isa;
	piix_isa_init(&isa);
	REQUIRE(pci_host_plug_devfn(&h, PIIX_ISA_DEVFN, &isa.fn, NULL) == 0);
	REQUIRE(pci_host_plug_devfn(&h, PIIX_PM_DEVFN, &fn.fn, NULL) == 0);

	CHECK(pci_host_config_read(&h, 0, PIIX_ISA_DEVFN, 0, 4) == 0x70008086);
	CHECK(pci_host_config_read(&h, 0, PIIX_ISA_DEVFN, 0x0a, 2) == 0x0601);
	CHECK(pci_host_config_read(&h, 0, PIIX_ISA_DEVFN, 0x0e, 1) & 0x80);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, 0, 4) == 0x71138086);
	/* Identity is read-only. */
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, 0, 4, 0);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, 0, 2) == 0x8086);
	/* PIRQ routing keeps what the firmware writes. */
	pci_host_config_write(&h, 0, PIIX_ISA_DEVFN, 0x60, 4, 0x0a0a0b0b);
	CHECK(pci_host_config_read(&h, 0, PIIX_ISA_DEVFN, 0x60, 4) ==
	      0x0a0a0b0b);

	/* Disabled: the block reads as an empty bus. */
	CHECK(pm_in(&pm, ACPI_PM_TMR, 4) == 0xffffffff);
	/* OVMF's AcpiPmControl(): PMBA, I/O space, then PMREGMISC. */
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMBA, 4, PM_PORT);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMBA, 4) ==
	      (PM_PORT | 1));
	CHECK(pm_in(&pm, ACPI_PM_TMR, 4) == 0xffffffff);
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, 0x04, 2, 0xffff);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, 0x04, 2) == 1);
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMREGMISC, 1, 1);
	fake_ns = 1000000000ull;
	CHECK(pm_in(&pm, ACPI_PM_TMR, 4) == 3579545u);
	CHECK(pm_in(&pm, ACPI_PM_TMR + 2, 1) == (3579545u >> 16));

	/* Moved elsewhere: the block at PM_PORT stops decoding. */
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMBA, 2, 0xc000);
	CHECK(pm_in(&pm, ACPI_PM_TMR, 4) == 0xffffffff);
	pci_host_config_write(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMBA, 2, PM_PORT);

	/* SCI_EN and SLP_TYP read back; SLP_EN never does. A sleep type that
	 * is not S5 does nothing. */
	pm_out(&pm, ACPI_PM1_CNT, 2, 0x0001 | (5 << 10) | 0x2000);
	CHECK(poweroffs == 0);
	CHECK(pm_in(&pm, ACPI_PM1_CNT, 2) == (0x0001 | (5 << 10)));
	/* ResetShutdown(): SLP_TYP 0 first, then SLP_EN by itself. */
	pm_out(&pm, ACPI_PM1_CNT, 2, 0x0001);
	CHECK(poweroffs == 0);
	pm_out(&pm, ACPI_PM1_CNT + 1, 1, 0x20);
	CHECK(poweroffs == 1);

	/* Status is write-one-to-clear; enable is storage. */
	pm.pm1_sts = 0x0101;
	pm_out(&pm, ACPI_PM1_STS, 2, 0x0100);
	CHECK(pm_in(&pm, ACPI_PM1_STS, 2) == 0x0001);
	pm_out(&pm, ACPI_PM1_EN, 2, 0x0120);
	CHECK(pm_in(&pm, ACPI_PM1_EN, 2) == 0x0120);

	/* Garbage: every offset and width, past the end too. */
	for (uint64_t off = 0; off < ACPI_PM_SIZE + 8; off++)
		for (uint32_t len = 1; len <= 4; len++) {
			(void)pm_in(&pm, off, len);
			pm_out(&pm, off, len, 0xdfdfdfdf); /* no SLP_EN */
		}
	CHECK(poweroffs == 1);
	for (uint32_t off = 0; off < 0x100; off += 4)
		pci_host_config_write(&h, 0, PIIX_PM_DEVFN, off, 4, 0xffffffff);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, 0, 4) == 0x71138086);
	CHECK(pci_host_config_read(&h, 0, PIIX_PM_DEVFN, PIIX_PM_PMBA, 4) ==
	      0xffc1);

	pci_host_destroy(&h);
	acpi_pm_destroy(&pm);
}

int main(void)
{
	test_timer();
	test_pm_function();
	return check_report("test_piix");
}
