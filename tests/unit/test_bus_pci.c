/* SPDX-License-Identifier: Apache-2.0 */
/* Bus dispatch, the PCI host bridge's config space through ECAM and ports
 * 0xCF8/0xCFC, the reset register and the ACPI sleep register. */
#include "check.h"
#include "devices/bus.h"
#include "devices/legacy/acpi_sleep.h"
#include "devices/legacy/i8042_reset.h"
#include "devices/pci/pci_host.h"

static unsigned hits;
static uint64_t last_off;

static void rd(void *o, uint64_t off, uint8_t *d, uint32_t len)
{
	hits++;
	last_off = off;
	memset(d, 0xab, len);
}

static void wr(void *o, uint64_t off, const uint8_t *d, uint32_t len)
{
	hits++;
	last_off = off;
}

static const struct bus_device_ops ops = { rd, wr };

static void test_bus(void)
{
	struct bus b;
	struct phy_error err;
	bus_init(&b, "test");
	CHECK(bus_register(&b, 0x100, 0x10, &ops, NULL, "a", &err) == 0);
	CHECK(bus_register(&b, 0x10, 0x10, &ops, NULL, "b", &err) == 0);
	CHECK(bus_register(&b, 0x108, 0x10, &ops, NULL, "c", &err) != 0);
	CHECK_STR_CONTAINS(err.message, "overlaps");
	CHECK(bus_register(&b, 0xf8, 0x10, &ops, NULL, "d", &err) != 0);
	CHECK(bus_register(&b, 0x0, 0, &ops, NULL, "e", &err) != 0);
	CHECK(bus_register(&b, ~0ULL - 4, 0x10, &ops, NULL, "f", &err) != 0);
	CHECK(b.ranges[0].base == 0x10 && b.ranges[1].base == 0x100);
	uint8_t v[8];
	CHECK(bus_read(&b, 0x104, v, 4) && v[0] == 0xab && last_off == 4);
	CHECK(!bus_read(&b, 0x20, v, 1) && v[0] == 0xff);
	CHECK(!bus_read(&b, 0x10e, v, 4)); /* runs past the end */
	CHECK(bus_write(&b, 0x1f, v, 1) && last_off == 0xf);
	CHECK(!bus_write(&b, 0x110, v, 1));
	/* Fill the table to the limit. */
	unsigned added = 0;
	for (uint64_t a = 0x1000; added < BUS_MAX_RANGES; a += 0x10, added++)
		if (bus_register(&b, a, 0x10, &ops, NULL, "x", &err))
			break;
	CHECK(b.nr == BUS_MAX_RANGES);
	CHECK_STR_CONTAINS(err.message, "full");
}

static int resets;
static void on_reset(void *o) { resets++; }

static uint32_t cf8_read32(struct pci_host *h, uint32_t addr)
{
	uint8_t d[4];
	memcpy(d, &addr, 4);
	pci_host_cf8_ops.write(h, 0, d, 4);
	pci_host_cf8_ops.read(h, 4, d, 4);
	uint32_t v;
	memcpy(&v, d, 4);
	return v;
}

static void test_pci(void)
{
	struct pci_host h;
	pci_host_init(&h);
	h.reset = on_reset;
	CHECK(pci_host_config_read(&h, 0, 0, 0, 4) == 0x00081b36);
	CHECK(pci_host_config_read(&h, 0, 0, 0x0a, 2) == 0x0600);
	CHECK(pci_host_config_read(&h, 0, 1 << 3, 0, 4) == 0xffffffff);
	CHECK(pci_host_config_read(&h, 1, 0, 0, 2) == 0xffff);
	CHECK(pci_host_config_read(&h, 0, 1, 0, 4) == 0xffffffff); /* function 1 */
	CHECK(pci_host_config_read(&h, 0, 0, 1, 4) == 0xffffffff); /* unaligned */
	CHECK(pci_host_config_read(&h, 0, 0, 4094, 4) == 0xffffffff);
	CHECK(pci_host_config_read(&h, 0, 0, 0, 3) == 0xffffff);
	pci_host_config_write(&h, 0, 0, 0, 4, 0);
	CHECK(pci_host_config_read(&h, 0, 0, 0, 2) == 0x1b36); /* read-only */

	uint8_t d[8];
	pci_host_ecam_ops.read(&h, 0, d, 4);
	CHECK(d[0] == 0x36 && d[1] == 0x1b && d[2] == 0x08 && d[3] == 0);
	pci_host_ecam_ops.read(&h, (2 << 15), d, 2); /* device 2 */
	CHECK(d[0] == 0xff && d[1] == 0xff);
	pci_host_ecam_ops.read(&h, 0, d, 8);
	CHECK(d[0] == 0xff);

	CHECK(cf8_read32(&h, 0x80000000) == 0x00081b36);
	CHECK(cf8_read32(&h, 0x80000008) >> 8 == 0x060000);
	CHECK(cf8_read32(&h, 0x00000000) == 0xffffffff); /* enable bit clear */
	CHECK(cf8_read32(&h, 0x80000800) == 0xffffffff); /* slot 1 */
	uint8_t rst = 0x02;
	pci_host_cf8_ops.write(&h, 1, &rst, 1);
	CHECK(resets == 0);
	rst = 0x06;
	pci_host_cf8_ops.write(&h, 1, &rst, 1);
	CHECK(resets == 1);
	pci_host_destroy(&h);
}

static void fn_write(struct pci_function *fn, uint32_t off, uint32_t len,
		     uint32_t v)
{
}

static const struct pci_function_ops fn_ops = { pci_function_read_stored,
						 fn_write, NULL };

/* Functions beyond 0, the bridge's identity and what counts as a free
 * slot: what the firmware's PIIX-style functions at 00:01.x need. */
static void test_pci_multifunction(void)
{
	struct pci_host h;
	pci_host_init(&h);
	pci_host_set_bridge_id(&h, 0x8086, 0x1237, 2);
	CHECK(pci_host_config_read(&h, 0, 0, 0, 4) == 0x12378086);
	CHECK(pci_host_config_read(&h, 0, 0, 8, 1) == 2);

	struct pci_function f0 = { .ops = &fn_ops }, f3 = { .ops = &fn_ops };
	f0.config[0] = 0xaa;
	f3.config[0] = 0xbb;
	REQUIRE(pci_host_plug_devfn(&h, PCI_DEVFN(1, 3), &f3, NULL) == 0);
	CHECK(pci_host_free_slot(&h) == 2); /* slot 1 has a function */
	REQUIRE(pci_host_plug(&h, 1, &f0, NULL) == 0);
	CHECK(pci_host_plug_devfn(&h, PCI_DEVFN(1, 3), &f0, NULL) != 0);
	CHECK(pci_host_plug_devfn(&h, PCI_DEVFN(0, 1), &f0, NULL) != 0);
	CHECK(pci_host_plug_devfn(&h, PCI_DEVFNS, &f0, NULL) != 0);
	CHECK(pci_host_config_read(&h, 0, PCI_DEVFN(1, 0), 0, 1) == 0xaa);
	CHECK(pci_host_config_read(&h, 0, PCI_DEVFN(1, 3), 0, 1) == 0xbb);
	CHECK(pci_host_config_read(&h, 0, PCI_DEVFN(1, 2), 0, 1) == 0xff);
	CHECK(cf8_read32(&h, 0x80000b00) == 0xbb); /* 00:01.3 */
	pci_host_unplug(&h, PCI_DEVFN(1, 3));
	CHECK(pci_host_config_read(&h, 0, PCI_DEVFN(1, 3), 0, 1) == 0xff);
	pci_host_unplug(&h, 0); /* the bridge stays */
	CHECK(pci_host_config_read(&h, 0, 0, 0, 2) == 0x8086);
	pci_host_destroy(&h);
}

static int poweroffs;
static void on_poweroff(void *o) { poweroffs++; }

static void test_sleep(void)
{
	struct acpi_sleep s = { 5, on_poweroff, NULL };
	CHECK(acpi_sleep_is_poweroff((5 << 2) | 0x20, 5));
	CHECK(!acpi_sleep_is_poweroff(5 << 2, 5));
	CHECK(!acpi_sleep_is_poweroff((3 << 2) | 0x20, 5));
	uint8_t v = (5 << 2) | 0x20;
	acpi_sleep_bus_ops.write(&s, 1, &v, 1); /* status register: no */
	CHECK(poweroffs == 0);
	acpi_sleep_bus_ops.write(&s, 0, &v, 1);
	CHECK(poweroffs == 1);
	acpi_sleep_bus_ops.read(&s, 1, &v, 1);
	CHECK(v == 0);
}

static void test_i8042(void)
{
	int before = resets;
	struct i8042_reset k = { on_reset, NULL };
	uint8_t v = 0xff;
	i8042_reset_bus_ops.read(&k, 4, &v, 1);
	CHECK(v == 0); /* buffers empty: the guest's wait ends at once */
	v = 0xfe;
	i8042_reset_bus_ops.write(&k, 0, &v, 1); /* data port: not a reset */
	CHECK(resets == before);
	v = 0xd1;
	i8042_reset_bus_ops.write(&k, 4, &v, 1);
	CHECK(resets == before);
	v = 0xfe;
	i8042_reset_bus_ops.write(&k, 4, &v, 1);
	CHECK(resets == before + 1);
}

int main(void)
{
	test_bus();
	test_pci();
	test_pci_multifunction();
	test_sleep();
	test_i8042();
	return check_report("test_bus_pci");
}
