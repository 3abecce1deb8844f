/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACPI tables and the AML builder: structure checks on the raw bytes, then
 * an independent opinion from ACPICA's iasl, which must disassemble every
 * table without complaint and recompile the disassembly to the same bytes.
 * iasl is required; PHY_TEST_NO_IASL=1 skips only that part.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/layout.h"
#include "common/aml.h"
#include "devices/legacy/acpi_ged.h"
#include "devices/legacy/acpi_sleep.h"
#include "devices/legacy/uart_8250.h"

#define BUF_SIZE X86_ACPI_SIZE
#define CANARY 0xA5

static uint64_t rd(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/*
 * A machine as the VMM describes it: the builder's own configuration, plus
 * the devices that write their own parts of the DSDT (COM1, the GED with
 * its power button, \_S5) and the ports the sleep registers and the GED
 * reserve, as vmm/machine/ passes them in.
 */
struct test_machine {
	struct x86_acpi_config acpi;
	uint8_t s5_slp_typ;
	uint16_t com1_port;
	uint8_t com1_irq;
	uint16_t ged_port; /* the GED's 4-byte event register */
	uint8_t ged_gsi;   /* its level-triggered IOAPIC pin */
	struct x86_acpi_part parts[3];
	struct x86_acpi_io_range reserved[2];
};

static void com1_part(void *opaque, struct aml *a)
{
	const struct test_machine *m = opaque;
	uart_8250_aml(a, "COM1", 1, m->com1_port, m->com1_irq);
}

static void ged_part(void *opaque, struct aml *a)
{
	const struct test_machine *m = opaque;
	acpi_ged_aml(a, m->ged_port, m->ged_gsi, X86_IOAPIC_PINS);
}

static void s5_part(void *opaque, struct aml *a)
{
	const struct test_machine *m = opaque;
	acpi_sleep_aml(a, m->s5_slp_typ);
}

/* Points the builder's configuration at m's parts (m may have moved). */
static const struct x86_acpi_config *acpi_of(const struct test_machine *mc)
{
	struct test_machine *m = (struct test_machine *)mc;
	m->parts[0] = (struct x86_acpi_part){ "com1", com1_part, m };
	m->parts[1] = (struct x86_acpi_part){ "acpi-ged", ged_part, m };
	m->parts[2] = (struct x86_acpi_part){ "acpi-sleep", s5_part, m };
	uint16_t ctl = m->acpi.sleep_control_port, sts = m->acpi.sleep_status_port;
	m->reserved[0] = (struct x86_acpi_io_range){ ctl, sts == ctl + 1 ? 2 : 1 };
	m->reserved[1] = (struct x86_acpi_io_range){ m->ged_port, ACPI_GED_REG_SIZE };
	m->acpi.parts = m->parts;
	m->acpi.nr_parts = 3;
	m->acpi.reserved = m->reserved;
	m->acpi.nr_reserved = 2;
	return &m->acpi;
}

static long build(const struct test_machine *m, uint8_t *buf, size_t size,
		  uint64_t gpa, struct phy_error *err)
{
	return x86_acpi_build(m ? acpi_of(m) : NULL, buf, size, gpa, err);
}

static struct test_machine test_config(unsigned nr_cpus)
{
	/* 4 GiB of RAM: the 64-bit window starts at 5 GiB. */
	struct test_machine c = {
		.acpi = x86_acpi_virt_config(nr_cpus, 4ULL << 30),
		.s5_slp_typ = X86_S5_SLP_TYP,
		.com1_port = X86_COM1_PORT,
		.com1_irq = X86_COM1_IRQ,
		.ged_port = X86_GED_PORT,
		.ged_gsi = X86_GED_GSI,
	};
	CHECK_EQ_U64(c.acpi.mmio64_gpa, 0x140000000ULL);
	return c;
}

/* An unusual but valid machine: ECAM above 4 GiB (so MRES needs a
 * QWordMemory), buses 16-31, no 64-bit window, sleep ports apart. */
static struct test_machine odd_config(void)
{
	struct test_machine m = test_config(2);
	struct x86_acpi_config c = m.acpi;

	c.ecam_gpa = 0x8000000000ULL;
	c.bus_start = 16;
	c.bus_end = 31;
	c.mmio64_size = 0;
	c.sleep_control_port = 0x510;
	c.sleep_status_port = 0x520;
	m.s5_slp_typ = 7;
	c.ioapic_id = 9;
	m.ged_port = 0x530;
	m.ged_gsi = 16;
	m.acpi = c;
	return m;
}

enum { T_XSDT, T_FADT, T_MADT, T_MCFG, T_DSDT, T_COUNT };
static const char *const table_sigs[T_COUNT] = {
	"XSDT", "FACP", "APIC", "MCFG", "DSDT",
};

/* A built set of tables, with the GPA-to-buffer translation and the tables
 * as found by following the pointers from the RSDP. */
struct tables {
	uint8_t *buf;
	long used;
	uint64_t gpa;
	const uint8_t *sdt[T_COUNT];
};

/* Returns the table at gpa if it lies wholly inside the used bytes. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa)
{
	if (gpa < t->gpa || gpa - t->gpa + 36 > (uint64_t)t->used)
		return NULL;
	const uint8_t *p = t->buf + (gpa - t->gpa);
	if (gpa - t->gpa + rd(p + 4, 4) > (uint64_t)t->used)
		return NULL;
	return p;
}

static void check_header(const uint8_t *p, const char *sig, uint8_t rev)
{
	CHECK(memcmp(p, sig, 4) == 0);
	CHECK_EQ_U64(p[8], rev);
	CHECK(memcmp(p + 10, "PHYLLO", 6) == 0);
	CHECK(memcmp(p + 16, "PHYLLOME", 8) == 0);
	CHECK(memcmp(p + 28, "PHYL", 4) == 0);
	CHECK_EQ_U64(sum8(p, rd(p + 4, 4)), 0);
}

static const uint8_t *check_rsdp(const struct tables *t)
{
	const uint8_t *r = t->buf;

	CHECK(memcmp(r, "RSD PTR ", 8) == 0);
	CHECK_EQ_U64(sum8(r, 20), 0);
	CHECK_EQ_U64(sum8(r, 36), 0);
	CHECK_EQ_U64(r[15], 2);
	CHECK_EQ_U64(rd(r + 16, 4), 0);
	CHECK_EQ_U64(rd(r + 20, 4), 36);
	CHECK(memcmp(r + 9, "PHYLLO", 6) == 0);
	const uint8_t *xsdt = table_at(t, rd(r + 24, 8));
	CHECK(xsdt != NULL);
	return xsdt;
}

/* Looks a table up through the XSDT; every entry must be in the buffer,
 * 8-byte aligned and checksummed. */
static const uint8_t *xsdt_find(const struct tables *t, const uint8_t *xsdt,
				const char *sig)
{
	unsigned n = (unsigned)(rd(xsdt + 4, 4) - 36) / 8;

	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = rd(xsdt + 36 + 8 * i, 8);
		const uint8_t *p = table_at(t, gpa);
		CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ_U64(gpa % 8, 0);
		CHECK_EQ_U64(sum8(p, rd(p + 4, 4)), 0);
		if (memcmp(p, sig, 4) == 0)
			return p;
	}
	return NULL;
}

static void check_gas_io8(const uint8_t *g, uint16_t port)
{
	CHECK_EQ_U64(g[0], 1);          /* SystemIO */
	CHECK_EQ_U64(g[1], 8);
	CHECK_EQ_U64(g[2], 0);
	CHECK_EQ_U64(g[3], 1);          /* byte access */
	CHECK_EQ_U64(rd(g + 4, 8), port);
}

static const uint8_t *check_fadt(const struct tables *t, const uint8_t *f,
				 const struct x86_acpi_config *c)
{
	check_header(f, "FACP", 6);
	CHECK_EQ_U64(rd(f + 4, 4), 276);
	CHECK_EQ_U64(f[131], 5);                        /* minor version */
	uint32_t flags = (uint32_t)rd(f + 112, 4);
	CHECK(flags & (1u << 20));                      /* HW_REDUCED_ACPI */
	CHECK(flags & (1u << 10));                      /* RESET_REG_SUP */
	uint16_t boot = (uint16_t)rd(f + 109, 2);
	CHECK(boot & (1u << 2));                        /* no VGA */
	CHECK(!(boot & (1u << 3)));                     /* MSI works */
	CHECK(!(boot & (1u << 1)));                     /* no 8042 */
	CHECK_EQ_U64(rd(f + 46, 2), 0);                 /* no SCI */
	CHECK_EQ_U64(f[108], c->cmos_rtc ? 0x32 : 0);   /* CENTURY */
	CHECK_EQ_U64(rd(f + 64, 4), 0);                 /* no PM1a_CNT */
	CHECK_EQ_U64(rd(f + 40, 4), 0);                 /* X_DSDT instead */
	check_gas_io8(f + 116, c->reset_port);
	CHECK_EQ_U64(f[128], c->reset_value);
	check_gas_io8(f + 244, c->sleep_control_port);
	check_gas_io8(f + 256, c->sleep_status_port);
	CHECK(memcmp(f + 268, "PHYLLOME", 8) == 0);
	const uint8_t *dsdt = table_at(t, rd(f + 140, 8));
	CHECK(dsdt != NULL);
	return dsdt;
}

struct madt_count {
	unsigned lapics, ioapics, isos, nmis;
};

static void check_madt_entry(const uint8_t *e, const struct x86_acpi_config *c,
			     struct madt_count *n, uint8_t *seen)
{
	switch (e[0]) {
	case 0:
		CHECK_EQ_U64(e[1], 8);
		CHECK_EQ_U64(rd(e + 4, 4) & 1, 1);
		CHECK_EQ_U64(e[2], e[3]);
		CHECK(e[3] < c->nr_cpus && !seen[e[3]]);
		seen[e[3]] = 1;
		n->lapics++;
		break;
	case 1:
		CHECK_EQ_U64(e[1], 12);
		CHECK_EQ_U64(e[2], c->ioapic_id);
		CHECK_EQ_U64(rd(e + 4, 4), c->ioapic_gpa);
		CHECK_EQ_U64(rd(e + 8, 4), 0);
		n->ioapics++;
		break;
	case 2:
		CHECK_EQ_U64(e[1], 10);
		CHECK_EQ_U64(e[3], 0);
		CHECK_EQ_U64(rd(e + 4, 4), 2);
		CHECK_EQ_U64(rd(e + 8, 2), 0x5);        /* edge, active high */
		n->isos++;
		break;
	case 4:
		CHECK_EQ_U64(e[1], 6);
		CHECK_EQ_U64(e[5], 1);                  /* LINT1 */
		n->nmis++;
		break;
	default:
		CHECK(!"unexpected MADT entry type");
	}
}

static void check_madt(const uint8_t *m, const struct x86_acpi_config *c)
{
	struct madt_count n = { 0 };
	uint8_t seen[256] = { 0 };
	size_t len = rd(m + 4, 4), off = 44;

	check_header(m, "APIC", 5);
	CHECK_EQ_U64(rd(m + 36, 4), c->lapic_gpa);
	CHECK_EQ_U64(rd(m + 40, 4), 1);                 /* PCAT_COMPAT */
	while (off + 2 <= len && m[off + 1] >= 2 && off + m[off + 1] <= len) {
		check_madt_entry(m + off, c, &n, seen);
		off += m[off + 1];
	}
	CHECK_EQ_U64(off, len);                         /* entries tile it */
	CHECK_EQ_U64(n.lapics, c->nr_cpus);
	CHECK_EQ_U64(n.ioapics, 1);
	CHECK_EQ_U64(n.isos, 1);
	CHECK_EQ_U64(n.nmis, 1);
}

static void check_mcfg(const uint8_t *m, const struct x86_acpi_config *c)
{
	check_header(m, "MCFG", 1);
	CHECK_EQ_U64(rd(m + 4, 4), 60);
	CHECK_EQ_U64(rd(m + 44, 8), c->ecam_gpa);
	CHECK_EQ_U64(rd(m + 52, 2), 0);
	CHECK_EQ_U64(m[54], c->bus_start);
	CHECK_EQ_U64(m[55], c->bus_end);
}

static bool mem_has(const uint8_t *p, size_t len, const char *s)
{
	return memmem(p, len, s, strlen(s)) != NULL;
}

static size_t put(uint8_t *p, uint64_t v, unsigned width)
{
	for (unsigned i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return width;
}

/* A host bridge window (producer, fixed min and max) as the spec lays it
 * out, written independently of the builder. */
static size_t window(uint8_t *e, uint8_t tag, unsigned w, uint8_t space,
		     uint8_t tflags, uint64_t min, uint64_t max)
{
	size_t n = 0;

	e[n++] = tag;
	n += put(e + n, 3 + 5 * w, 2);
	e[n++] = space;
	e[n++] = 0x0C;
	e[n++] = tflags;
	n += put(e + n, 0, w);
	n += put(e + n, min, w);
	n += put(e + n, max, w);
	n += put(e + n, 0, w);
	n += put(e + n, max - min + 1, w);
	return n;
}

#define DSDT_HAS(d, len, ...)                                                 \
	CHECK(memmem((d), (len), (const uint8_t[]){ __VA_ARGS__ },           \
		     sizeof((const uint8_t[]){ __VA_ARGS__ })) != NULL)

/* The DSDT must carry the config's values; iasl checks the syntax. */
static void check_dsdt(const uint8_t *d, const struct test_machine *m)
{
	const struct x86_acpi_config *c = &m->acpi;
	size_t len = rd(d + 4, 4), n;
	uint8_t e[64];

	check_header(d, "DSDT", 2);
	CHECK(mem_has(d, len, "_SB_"));
	CHECK(mem_has(d, len, "PCI0"));
	CHECK(mem_has(d, len, "COM1"));
	CHECK(mem_has(d, len, "PWRB"));
	CHECK(mem_has(d, len, "GED0"));
	CHECK(mem_has(d, len, "ACPI0013"));
	CHECK(mem_has(d, len, "_EVT"));

	/* Name(_S5_, Package(4) { SLP_TYP, 0, 0, 0 }) */
	uint8_t typ = m->s5_slp_typ;
	if (typ > 1)
		DSDT_HAS(d, len, '_', 'S', '5', '_', 0x12, 0x07, 4, 0x0A, typ,
			 0, 0, 0);
	else
		DSDT_HAS(d, len, '_', 'S', '5', '_', 0x12, 0x06, 4, typ, 0, 0,
			 0);

	n = window(e, 0x88, 2, 2, 0, c->bus_start, c->bus_end);
	CHECK(memmem(d, len, e, n) != NULL);
	n = window(e, 0x87, 4, 0, 0x01, c->mmio32_gpa,
		   c->mmio32_gpa + c->mmio32_size - 1);
	CHECK(memmem(d, len, e, n) != NULL);
	if (c->mmio64_size) {
		n = window(e, 0x8A, 8, 0, 0x03, c->mmio64_gpa,
			   c->mmio64_gpa + c->mmio64_size - 1);
		CHECK(memmem(d, len, e, n) != NULL);
	}
	/* IO(Decode16, port, port, 0, 8) IRQNoFlags() { irq } */
	n = 0;
	e[n++] = 0x47;
	e[n++] = 1;
	n += put(e + n, m->com1_port, 2);
	n += put(e + n, m->com1_port, 2);
	e[n++] = 0;
	e[n++] = 8;
	e[n++] = 0x22;
	n += put(e + n, 1u << m->com1_irq, 2);
	CHECK(memmem(d, len, e, n) != NULL);

	/* The GED: Interrupt (ResourceConsumer, Level, ActiveHigh,
	 * Exclusive) { gsi }, OperationRegion (GDST, SystemIO, port, 4), and
	 * the port reserved in MRES: IO (Decode16, port, port, 1, 4). */
	DSDT_HAS(d, len, 0x89, 0x06, 0x00, 0x01, 0x01, m->ged_gsi, 0, 0, 0);
	DSDT_HAS(d, len, 0x5B, 0x80, 'G', 'D', 'S', 'T', 0x01, 0x0B,
		 (uint8_t)m->ged_port, (uint8_t)(m->ged_port >> 8), 0x0A, 4);
	DSDT_HAS(d, len, 0x47, 0x01, (uint8_t)m->ged_port,
		 (uint8_t)(m->ged_port >> 8), (uint8_t)m->ged_port,
		 (uint8_t)(m->ged_port >> 8), 0x01, 0x04);
	/* PWRB's _HID: EisaId ("PNP0C0C") */
	DSDT_HAS(d, len, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0C, 0x0C);
}

/* Builds and checks one configuration's tables; returns the tables for
 * the iasl pass (buf is BUF_SIZE bytes owned by the caller). */
static struct tables build_and_check(const struct test_machine *m,
				     uint8_t *buf)
{
	const struct x86_acpi_config *c = &m->acpi;
	struct phy_error err = { 0 };
	struct tables t = { .buf = buf, .gpa = X86_ACPI_GPA };

	memset(buf, CANARY, BUF_SIZE);
	t.used = build(m, buf, BUF_SIZE, t.gpa, &err);
	CHECK(t.used > 0);
	if (t.used <= 0) {
		fprintf(stderr, "x86_acpi_build: %s\n", err.message);
		return t;
	}
	CHECK((uint64_t)t.used <= BUF_SIZE);
	for (size_t i = (size_t)t.used; i < BUF_SIZE; i++)
		if (buf[i] != CANARY) {
			CHECK(!"wrote past the returned length");
			break;
		}

	const uint8_t *xsdt = check_rsdp(&t);
	if (!xsdt)
		return t;
	check_header(xsdt, "XSDT", 1);
	CHECK_EQ_U64(rd(xsdt + 4, 4), 36 + 3 * 8);
	const uint8_t *fadt = xsdt_find(&t, xsdt, "FACP");
	const uint8_t *madt = xsdt_find(&t, xsdt, "APIC");
	const uint8_t *mcfg = xsdt_find(&t, xsdt, "MCFG");
	CHECK(fadt && madt && mcfg);
	if (!fadt || !madt || !mcfg)
		return t;
	const uint8_t *dsdt = check_fadt(&t, fadt, c);
	check_madt(madt, c);
	check_mcfg(mcfg, c);
	if (!dsdt)
		return t;
	check_dsdt(dsdt, m);
	t.sdt[T_XSDT] = xsdt;
	t.sdt[T_FADT] = fadt;
	t.sdt[T_MADT] = madt;
	t.sdt[T_MCFG] = mcfg;
	t.sdt[T_DSDT] = dsdt;
	return t;
}

/* Every size short of what the tables need must fail cleanly, without
 * touching a byte past the size it was given. */
static void test_too_small(void)
{
	struct test_machine c = test_config(4);
	static uint8_t buf[BUF_SIZE];
	struct phy_error err = { 0 };

	long need = build(&c, buf, sizeof(buf), X86_ACPI_GPA, &err);
	CHECK(need > 0);
	size_t span = (size_t)need + 256;     /* what the checks look at */
	for (long size = 0; size < need; size++) {
		memset(buf, CANARY, span);
		err.code = 0;
		long rc = build(&c, buf, (size_t)size, X86_ACPI_GPA,
					 &err);
		CHECK_EQ_U64(rc, -PHY_E_INVALID);
		CHECK_EQ_U64(err.code, PHY_E_INVALID);
		for (size_t i = (size_t)size; i < span; i++) {
			if (buf[i] != CANARY) {
				fprintf(stderr, "size %ld: byte %zu written\n",
					size, i);
				CHECK(!"wrote past buf_size");
				break;
			}
		}
	}
	memset(buf, CANARY, sizeof(buf));
	CHECK_EQ_U64(build(&c, buf, (size_t)need, X86_ACPI_GPA, &err),
		     need);
}

static void expect_invalid(const struct test_machine *c, uint64_t gpa)
{
	static uint8_t buf[BUF_SIZE];
	struct phy_error err = { 0 };

	CHECK_EQ_U64(build(c, buf, sizeof(buf), gpa, &err),
		     -PHY_E_INVALID);
	CHECK_EQ_U64(err.code, PHY_E_INVALID);
	CHECK(err.message[0] != '\0');
}

static void test_invalid_config(void)
{
	struct test_machine c;
	struct phy_error err = { 0 };
	uint8_t buf[64];

	c = test_config(0);
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(256);
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	expect_invalid(&c, X86_ACPI_GPA + 8);   /* RSDP must be 16-aligned */
	c.acpi.bus_start = 5;
	c.acpi.bus_end = 4;
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.s5_slp_typ = 8;
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.com1_irq = 16;
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.acpi.sleep_status_port = 0;
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.acpi.mmio32_gpa = 0xF0000000;
	c.acpi.mmio32_size = 0x20000000;             /* crosses 4 GiB */
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.acpi.ecam_gpa += 0x1000;                   /* not bus-aligned */
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.ged_port = 0;
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.ged_port = 0xFFFE;                    /* 4 bytes past 0xFFFF */
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.ged_gsi = 9;                          /* an ISA IRQ */
	expect_invalid(&c, X86_ACPI_GPA);
	c = test_config(1);
	c.ged_gsi = X86_IOAPIC_PINS;            /* no such pin */
	expect_invalid(&c, X86_ACPI_GPA);
	CHECK_EQ_U64(x86_acpi_build(NULL, buf, sizeof(buf), 0, &err),
		     -PHY_E_INVALID);
}

/* The output depends only on the config: not on what the buffer held. */
static void test_deterministic(void)
{
	static uint8_t a[BUF_SIZE], b[BUF_SIZE];
	struct test_machine c = test_config(3);

	memset(a, 0x00, sizeof(a));
	memset(b, 0xFF, sizeof(b));
	long na = build(&c, a, sizeof(a), X86_ACPI_GPA, NULL);
	long nb = build(&c, b, sizeof(b), X86_ACPI_GPA, NULL);
	CHECK(na > 0);
	CHECK_EQ_U64(na, nb);
	CHECK(na > 0 && memcmp(a, b, (size_t)na) == 0);
}

/* ---- AML builder ------------------------------------------------------- */

/* Decodes a PkgLength; returns its width, storing the total length. */
static int pkglen_decode(const uint8_t *p, size_t *total)
{
	int width = (p[0] >> 6) + 1;

	if (width == 1) {
		*total = p[0] & 0x3F;
		return 1;
	}
	*total = p[0] & 0x0F;
	for (int i = 1; i < width; i++)
		*total |= (size_t)p[i] << (4 + 8 * (i - 1));
	return width;
}

static void check_pkglen(size_t payload, int width, const uint8_t *expect)
{
	uint8_t out[4] = { 0 };
	size_t total = 0;

	int w = aml_pkglen_encode(out, payload);
	CHECK_EQ_U64(w, width);
	if (!width)
		return;
	CHECK(memcmp(out, expect, (size_t)width) == 0);
	CHECK_EQ_U64(pkglen_decode(out, &total), width);
	CHECK_EQ_U64(total, payload + (size_t)width);
}

static void test_pkglen(void)
{
	/* The encoded length includes the PkgLength bytes themselves. */
	check_pkglen(0, 1, (const uint8_t[]){ 0x01 });
	check_pkglen(62, 1, (const uint8_t[]){ 0x3F });
	check_pkglen(63, 2, (const uint8_t[]){ 0x41, 0x04 });     /* 65 */
	check_pkglen(64, 2, (const uint8_t[]){ 0x42, 0x04 });     /* 66 */
	check_pkglen(4093, 2, (const uint8_t[]){ 0x4F, 0xFF });   /* 4095 */
	check_pkglen(4094, 3, (const uint8_t[]){ 0x81, 0x00, 0x01 });
	check_pkglen(4095, 3, (const uint8_t[]){ 0x82, 0x00, 0x01 });
	check_pkglen(4096, 3, (const uint8_t[]){ 0x83, 0x00, 0x01 });
	check_pkglen(0xFFFFC, 3, (const uint8_t[]){ 0x8F, 0xFF, 0xFF });
	check_pkglen(0xFFFFD, 4, (const uint8_t[]){ 0xC1, 0x00, 0x00, 0x01 });
	check_pkglen(0xFFFFFFB, 4, (const uint8_t[]){ 0xCF, 0xFF, 0xFF, 0xFF });
	check_pkglen(0xFFFFFFC, 0, NULL);

	/* Round trip across every width boundary's neighbourhood. */
	static const size_t edges[] = { 63, 4095, 0xFFFFF };
	for (unsigned e = 0; e < 3; e++) {
		for (size_t p = edges[e] - 8; p <= edges[e] + 8; p++) {
			uint8_t out[4];
			size_t total = 0;
			int w = aml_pkglen_encode(out, p);
			CHECK(w > 0 && pkglen_decode(out, &total) == w);
			CHECK_EQ_U64(total, p + (size_t)w);
		}
	}
}

/* A package whose contents straddle the 1-/2-byte PkgLength boundary must
 * come out with the right length and its contents intact after the
 * builder slides them to make room. */
static void test_pkg_shift(void)
{
	for (unsigned n = 55; n <= 70; n++) {
		uint8_t buf[128];
		struct aml a;
		size_t total;

		aml_init(&a, buf, sizeof(buf));
		size_t m = aml_package_begin(&a, n);
		for (unsigned i = 0; i < n; i++)
			aml_integer(&a, 0);
		aml_end(&a, m);
		CHECK(aml_ok(&a));
		CHECK_EQ_U64(buf[0], 0x12);
		int w = pkglen_decode(buf + 1, &total);
		CHECK_EQ_U64(w, n + 1 + 1 <= 63 ? 1 : 2);
		CHECK_EQ_U64(1 + total, a.len);
		CHECK_EQ_U64(buf[1 + w], n);
		for (unsigned i = 0; i < n; i++)
			CHECK_EQ_U64(buf[2 + w + i], 0);
	}
}

static void check_emit(const struct aml *a, const uint8_t *expect, size_t n)
{
	CHECK(aml_ok(a));
	CHECK_EQ_U64(a->len, n);
	CHECK(a->len == n && memcmp(a->buf, expect, n) == 0);
}

#define EXPECT(a, ...)                                                        \
	do {                                                                  \
		static const uint8_t e_[] = { __VA_ARGS__ };                  \
		check_emit((a), e_, sizeof(e_));                              \
	} while (0)

static void name_ok(const char *path, const uint8_t *expect, size_t n)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, path);
	check_emit(&a, expect, n);
}

static void name_bad(const char *path)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, path);
	CHECK(a.invalid);
	CHECK_EQ_U64(a.len, 0);
}

#define NAME_OK(path, ...)                                                    \
	do {                                                                  \
		static const uint8_t e_[] = { __VA_ARGS__ };                  \
		name_ok((path), e_, sizeof(e_));                              \
	} while (0)

static void test_names(void)
{
	NAME_OK("_HID", '_', 'H', 'I', 'D');
	NAME_OK("_SB", '_', 'S', 'B', '_');
	NAME_OK("\\", '\\', 0x00);
	NAME_OK("\\_S5", '\\', '_', 'S', '5', '_');
	NAME_OK("\\_SB.PCI0", '\\', 0x2E, '_', 'S', 'B', '_', 'P', 'C', 'I',
		'0');
	NAME_OK("\\_SB.PCI0.S08", '\\', 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C',
		'I', '0', 'S', '0', '8', '_');
	NAME_OK("^^FOO", '^', '^', 'F', 'O', 'O', '_');
	name_bad("");
	name_bad("1ABC");
	name_bad("ABCDE");
	name_bad("abc");
	name_bad("_SB.");
	name_bad("\\_SB..PCI0");
	name_bad("^");
	name_bad("\\_SB_.");
}

/* Emits into a fresh builder `a` over `buf` and compares the bytes. */
#define EMIT(stmt, ...)                                                       \
	do {                                                                  \
		aml_init(&a, buf, sizeof(buf));                               \
		stmt;                                                         \
		EXPECT(&a, __VA_ARGS__);                                      \
	} while (0)

static void test_data_objects(void)
{
	uint8_t buf[64];
	struct aml a;
	uint32_t v = 0;

	EMIT(aml_integer(&a, 0), 0x00);
	EMIT(aml_integer(&a, 1), 0x01);
	EMIT(aml_integer(&a, 2), 0x0A, 0x02);
	EMIT(aml_integer(&a, 0xFF), 0x0A, 0xFF);
	EMIT(aml_integer(&a, 0x100), 0x0B, 0x00, 0x01);
	EMIT(aml_integer(&a, 0x12345678), 0x0C, 0x78, 0x56, 0x34, 0x12);
	EMIT(aml_integer(&a, 0x100000000ULL), 0x0E, 0, 0, 0, 0, 1, 0, 0, 0);
	EMIT(aml_string(&a, "ab"), 0x0D, 'a', 'b', 0x00);
	EMIT(aml_eisaid(&a, "PNP0A08"), 0x0C, 0x41, 0xD0, 0x0A, 0x08);
	EMIT(aml_name_integer(&a, "_UID", 1), 0x08, '_', 'U', 'I', 'D', 0x01);
	EMIT(aml_method_return_integer(&a, "_STA", 0x0F),
	     0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xA4, 0x0A, 0x0F);
	EMIT({ size_t m = aml_method_begin(&a, "M001", 2, true);
	       aml_end(&a, m); },
	     0x14, 0x06, 'M', '0', '0', '1', 0x0A);
	EMIT({ size_t m = aml_device_begin(&a, "DEV0"); aml_end(&a, m); },
	     0x5B, 0x82, 0x05, 'D', 'E', 'V', '0');
	EMIT({ size_t m = aml_scope_begin(&a, "\\_SB"); aml_end(&a, m); },
	     0x10, 0x06, '\\', '_', 'S', 'B', '_');
	EMIT({ size_t m = aml_buffer_begin(&a); aml_byte(&a, 0xAB);
	       aml_buffer_end(&a, m); },
	     0x11, 0x03, 0x01, 0xAB);          /* BufferSize is One */

	CHECK(aml_eisaid_value("PNP0A03", &v) && v == 0x030AD041);
	CHECK(aml_eisaid_value("PNP0501", &v) && v == 0x0105D041);
	CHECK(aml_eisaid_value("PNP0C02", &v) && v == 0x020CD041);
	CHECK(!aml_eisaid_value("pnp0a08", &v));
	CHECK(!aml_eisaid_value("PNP0A0", &v));
	CHECK(!aml_eisaid_value("PNP0A0G", &v));
	CHECK(!aml_eisaid_value("PNP0A080", &v));
}

static void test_resources(void)
{
	uint8_t buf[64];
	struct aml a;

	EMIT(aml_rt_io(&a, 0x3F8, 0x3F8, 0, 8),
	     0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x00, 0x08);
	EMIT(aml_rt_fixed_io(&a, 0x60, 1), 0x4B, 0x60, 0x00, 0x01);
	EMIT(aml_rt_irq_noflags(&a, 4), 0x22, 0x10, 0x00);
	EMIT(aml_rt_interrupt(&a, 5, true, false),
	     0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00);
	EMIT(aml_rt_memory32_fixed(&a, 0xE0000000, 0x10000000, true),
	     0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xE0, 0x00, 0x00, 0x00,
	     0x10);
	EMIT(aml_rt_word_bus_number(&a, 0, 0xFF),
	     0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF,
	     0x00, 0x00, 0x00, 0x00, 0x01);
	EMIT({ size_t m = aml_rt_begin(&a); aml_rt_end(&a, m); },
	     0x11, 0x05, 0x0A, 0x02, 0x79, 0x00);

	aml_init(&a, buf, sizeof(buf));
	aml_rt_irq_noflags(&a, 16);
	CHECK(a.invalid);
	aml_init(&a, buf, sizeof(buf));
	aml_rt_fixed_io(&a, 0x400, 1);
	CHECK(a.invalid);
	aml_init(&a, buf, sizeof(buf));
	aml_rt_word_io(&a, 10, 9);
	CHECK(a.invalid);
}

/* Operation regions, fields and the statements of a GED's _EVT. */
static void test_regions_and_statements(void)
{
	uint8_t buf[64];
	struct aml a;

	EMIT(aml_operation_region(&a, "GDST", AML_SPACE_SYSTEM_IO, 0x604, 4),
	     0x5B, 0x80, 'G', 'D', 'S', 'T', 0x01, 0x0B, 0x04, 0x06, 0x0A,
	     0x04);
	EMIT({ size_t m = aml_field_begin(&a, "GDST", AML_FIELD_DWORD_ACC,
					  AML_FIELD_WRITE_AS_ZEROS);
	       aml_field_unit(&a, "GDAT", 32); aml_end(&a, m); },
	     0x5B, 0x81, 0x0B, 'G', 'D', 'S', 'T', 0x43, 'G', 'D', 'A', 'T',
	     0x20);
	/* Bit counts above 63 take PkgLength's two-byte form, without
	 * counting their own bytes: 200 = 0xC8 -> 0x48 0x0C. */
	EMIT(aml_field_unit(&a, "F2", 200), 'F', '2', '_', '_', 0x48, 0x0C);
	/* Store (GDAT, Local0); If (And (Local0, One, Zero)) { Notify
	 * (PWRB, 0x80) } */
	EMIT({ aml_store(&a); aml_name_string(&a, "GDAT"); aml_local(&a, 0);
	       size_t m = aml_if_begin(&a); aml_and(&a); aml_local(&a, 0);
	       aml_integer(&a, 1); aml_null_target(&a); aml_notify(&a);
	       aml_name_string(&a, "PWRB"); aml_integer(&a, 0x80);
	       aml_end(&a, m); },
	     0x70, 'G', 'D', 'A', 'T', 0x60, 0xA0, 0x0C, 0x7B, 0x60, 0x01,
	     0x00, 0x86, 'P', 'W', 'R', 'B', 0x0A, 0x80);
	EMIT(aml_arg(&a, 6), 0x6E);
	EMIT(aml_local(&a, 7), 0x67);

	aml_init(&a, buf, sizeof(buf));
	aml_local(&a, 8);
	CHECK(a.invalid);
	aml_init(&a, buf, sizeof(buf));
	aml_arg(&a, 7);
	CHECK(a.invalid);
	static const char *const bad_units[] = { "GDATA", "G.AT", "1GDA", "" };
	for (unsigned i = 0; i < 4; i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_field_unit(&a, bad_units[i], 8);
		CHECK(a.invalid);
	}
	aml_init(&a, buf, sizeof(buf));
	aml_field_unit(&a, "GDAT", 0);
	CHECK(a.invalid);
	aml_init(&a, buf, sizeof(buf));
	aml_field_begin(&a, "GDST", (enum aml_field_access)5,
			AML_FIELD_PRESERVE);
	CHECK(a.invalid);
}

/* Filling the buffer sets overflow and stops all writes at the capacity,
 * including the slides that aml_end() does. */
static size_t overflow_emit(uint8_t *buf, size_t cap, bool *overflow)
{
	struct aml a;

	aml_init(&a, buf, cap);
	size_t s = aml_scope_begin(&a, "\\_SB");
	size_t d = aml_device_begin(&a, "COM1");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	aml_method_return_integer(&a, "_STA", 0x0F);
	aml_end(&a, d);
	aml_end(&a, s);
	*overflow = a.overflow;
	return a.len;
}

static void test_overflow(void)
{
	uint8_t buf[64];
	bool overflow;
	size_t full = overflow_emit(buf, sizeof(buf), &overflow);

	CHECK(!overflow);
	for (size_t cap = 0; cap <= full; cap++) {
		memset(buf, CANARY, sizeof(buf));
		size_t len = overflow_emit(buf, cap, &overflow);
		CHECK(len <= cap);
		CHECK_EQ_U64(overflow, cap < full);
		for (size_t i = cap; i < sizeof(buf); i++)
			CHECK_EQ_U64(buf[i], CANARY);
	}
}

/* ---- iasl ---------------------------------------------------------------- */

static bool iasl_present(void)
{
	const char *path = getenv("PATH");
	char dir[4096];

	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && n + sizeof("/iasl") < sizeof(dir)) {
			memcpy(dir, path, n);
			strcpy(dir + n, "/iasl");
			if (access(dir, X_OK) == 0)
				return true;
		}
		path += n + (path[n] == ':');
	}
	return false;
}

/* Runs iasl with args in dir, its output into dir/log; returns its exit
 * status, or -1 if it did not exit normally. */
static int run_iasl(const char *dir, const char *log, char *const args[])
{
	char *argv[8] = { "iasl" };
	int status;

	for (int i = 0; i < 6 && args[i]; i++)
		argv[i + 1] = args[i];
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd;
		if (chdir(dir) < 0 ||
		    (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp("iasl", argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Reads dir/name into a NUL-terminated heap string (NULL if absent). */
static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	if (s) {
		s[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return s;
}

static bool write_file(const char *dir, const char *name, const void *p,
		       size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return false;
	bool ok = fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* The number before " what" in an iasl summary ("0 Errors, 0 Warnings"),
 * or -1 when the summary is missing. */
static long summary_count(const char *s, const char *what)
{
	const char *w = strstr(s, what);

	if (!w || w == s || w[-1] != ' ')
		return -1;
	const char *d = w - 1;
	while (d > s && d[-1] >= '0' && d[-1] <= '9')
		d--;
	return d == w - 1 ? -1 : strtol(d, NULL, 10);
}

/* A disassembly log says nothing but progress; a compile log ends with a
 * summary that must count no errors and no warnings (remarks are fine). */
static void check_log_clean(const char *dir, const char *log, bool compile)
{
	char *s = read_file(dir, log, NULL);
	bool bad;

	CHECK(s != NULL);
	if (!s)
		return;
	if (compile)
		bad = summary_count(s, "Errors,") != 0 ||
		      summary_count(s, "Warnings,") != 0;
	else
		bad = strstr(s, "Error") || strstr(s, "Warning") ||
		      strstr(s, "Incorrect") || strstr(s, "Invalid");
	if (bad) {
		fprintf(stderr, "%s/%s reports a problem:\n%s\n", dir, log, s);
		CHECK(!"iasl complained");
	}
	free(s);
}

/*
 * Disassembles table.dat to table.dsl, then compiles that back to AML: the
 * result must match the original byte for byte, apart from the checksum and
 * the creator ID and revision, which iasl stamps with its own. Returns the
 * disassembly (heap) for the caller's greps.
 */
static char *iasl_round_trip(const char *dir, const char *name,
			     const uint8_t *table)
{
	char dat[64], dsl[64], log[64], rt[64], aml[64];
	size_t len = rd(table + 4, 4), rt_len = 0;

	snprintf(dat, sizeof(dat), "%s.dat", name);
	snprintf(dsl, sizeof(dsl), "%s.dsl", name);
	snprintf(log, sizeof(log), "%s.dis.log", name);
	snprintf(rt, sizeof(rt), "%s_rt", name);
	snprintf(aml, sizeof(aml), "%s_rt.aml", name);
	CHECK(write_file(dir, dat, table, len));

	CHECK_EQ_U64(run_iasl(dir, log, (char *[]){ "-d", dat, NULL }), 0);
	check_log_clean(dir, log, false);
	char *text = read_file(dir, dsl, NULL);
	CHECK(text != NULL);
	if (!text) {
		fprintf(stderr, "iasl -d %s/%s made no %s\n", dir, dat, dsl);
		return NULL;
	}
	CHECK(!strstr(text, "****"));   /* iasl's marker for bad fields */

	snprintf(log, sizeof(log), "%s.asl.log", name);
	/* -oa: no AML optimizations, so the AML we wrote comes back as is. */
	CHECK_EQ_U64(run_iasl(dir, log, (char *[]){ "-oa", "-p", rt, dsl,
						    NULL }), 0);
	check_log_clean(dir, log, true);
	char *back = read_file(dir, aml, &rt_len);
	CHECK(back != NULL);
	CHECK_EQ_U64(rt_len, len);
	if (back && rt_len == len) {
		for (size_t i = 0; i < len; i++) {
			if (i == 9 || (i >= 28 && i < 36))
				continue;
			if ((uint8_t)back[i] != table[i]) {
				fprintf(stderr, "%s: byte %zu is 0x%02x, iasl "
					"recompiles it as 0x%02x\n", name, i,
					table[i], (uint8_t)back[i]);
				CHECK(!"iasl round trip differs");
				break;
			}
		}
	}
	free(back);
	return text;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The RSDP is not an SDT and this iasl cannot disassemble it on its own;
 * check_rsdp() covers it. */
static void iasl_check_tables(const char *dir, const struct tables *t,
			      const char *tag)
{
	char name[32];

	for (unsigned i = 0; i < T_COUNT; i++) {
		CHECK(t->sdt[i] != NULL);
		if (!t->sdt[i])
			continue;
		snprintf(name, sizeof(name), "%s_%s", tag, table_sigs[i]);
		char *dsl = iasl_round_trip(dir, name, t->sdt[i]);
		if (dsl && i == T_DSDT) {
			CHECK_STR_CONTAINS(dsl, "PNP0A08");
			CHECK_STR_CONTAINS(dsl, "PNP0A03");
			CHECK_STR_CONTAINS(dsl, "_S5_");
			CHECK_STR_CONTAINS(dsl, "PNP0501");
			CHECK_STR_CONTAINS(dsl, "PNP0C02");
			CHECK_STR_CONTAINS(dsl, "EisaId (\"PNP0C0C\")");
			CHECK_STR_CONTAINS(dsl, "Name (_HID, \"ACPI0013\"");
			CHECK_STR_CONTAINS(dsl, "Interrupt (ResourceConsumer, "
					   "Level, ActiveHigh, Exclusive");
			CHECK_STR_CONTAINS(dsl, "Field (GDST, DWordAcc, NoLock, "
					   "WriteAsZeros)");
			CHECK_STR_CONTAINS(dsl, "Method (_EVT, 1, Serialized)");
			CHECK_STR_CONTAINS(dsl, "Local0 = GDAT");
			CHECK_STR_CONTAINS(dsl, "If ((Local0 & One))");
			CHECK_STR_CONTAINS(dsl, "Notify (\\_SB.PWRB, 0x80)");
		}
		if (dsl && i == T_FADT)
			CHECK_STR_CONTAINS(dsl, "Hardware Reduced");
		free(dsl);
	}
}

/*
 * An SSDT that uses the builder's parts the DSDT does not: string _HID,
 * serialized methods with arguments, multi-segment names, the other
 * resource descriptors, and packages and buffers big enough for 2- and
 * 3-byte PkgLengths. Returns its length, 0 on failure.
 */
static size_t build_ssdt(uint8_t *buf, size_t cap)
{
	struct aml a;

	aml_init(&a, buf, cap);
	aml_bytes(&a, (const uint8_t[36]){ 0 }, 36);
	size_t sb = aml_scope_begin(&a, "\\_SB");
	size_t dev = aml_device_begin(&a, "TST0");
	aml_name(&a, "_HID");
	aml_string(&a, "PHYL0001");
	aml_name(&a, "_CRS");
	size_t rt = aml_rt_begin(&a);
	aml_rt_fixed_io(&a, 0x60, 1);
	aml_rt_interrupt(&a, 21, false, true);
	aml_rt_qword_memory_consumer(&a, 0x8000000000ULL, 0x800FFFFFFFULL);
	aml_rt_dword_memory(&a, 0xFE000000, 0xFEFFFFFF, true);
	aml_rt_end(&a, rt);
	aml_operation_region(&a, "TREG", AML_SPACE_SYSTEM_MEMORY, 0xFED00000,
			     0x100);
	size_t f = aml_field_begin(&a, "TREG", AML_FIELD_ANY_ACC,
				   AML_FIELD_PRESERVE);
	aml_field_unit(&a, "TF01", 8);
	aml_field_unit(&a, "TF02", 200);
	aml_end(&a, f);
	size_t m2 = aml_method_begin(&a, "M002", 1, false);
	aml_store(&a);
	aml_arg(&a, 0);
	aml_name_string(&a, "TF01");
	aml_end(&a, m2);
	size_t m = aml_method_begin(&a, "M001", 2, true);
	aml_return(&a);
	size_t pkg = aml_package_begin(&a, 40);
	for (unsigned i = 0; i < 40; i++)
		aml_integer(&a, 0x100000000ULL + i);
	aml_end(&a, pkg);
	aml_end(&a, m);
	aml_end(&a, dev);
	aml_end(&a, sb);
	aml_name(&a, "\\_SB.TST0.BIG0");
	size_t b = aml_buffer_begin(&a);
	for (unsigned i = 0; i < 5000; i++)
		aml_byte(&a, (uint8_t)(i * 7 + 1));
	aml_buffer_end(&a, b);
	if (!aml_ok(&a))
		return 0;

	memcpy(buf, "SSDT", 4);
	for (unsigned i = 0; i < 4; i++)
		buf[4 + i] = (uint8_t)(a.len >> (8 * i));
	buf[8] = 2;
	memcpy(buf + 10, "PHYLLOAMLTEST   ", 14);
	memcpy(buf + 28, "PHYL", 4);
	buf[9] = (uint8_t)(0 - sum8(buf, a.len));
	return a.len;
}

/* Makes the scratch directory for iasl; NULL when iasl's checks are
 * skipped (on request) or cannot run, the latter counted as a failure. */
static char *iasl_setup(char *dir)
{
	const char *no = getenv("PHY_TEST_NO_IASL");

	if (!iasl_present()) {
		if (no && !strcmp(no, "1")) {
			printf("test_acpi: iasl not found, skipping its checks "
			       "(PHY_TEST_NO_IASL=1)\n");
			return NULL;
		}
		fprintf(stderr, "test_acpi: iasl is required (install "
			"acpica-tools, or set PHY_TEST_NO_IASL=1)\n");
		CHECK(!"iasl not found in PATH");
		return NULL;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		CHECK(!"cannot make a directory for iasl");
		return NULL;
	}
	return dir;
}

static void iasl_check_builder(const char *dir)
{
	static uint8_t ssdt[8192];
	size_t n = build_ssdt(ssdt, sizeof(ssdt));

	CHECK(n > 0);
	if (!n)
		return;
	char *dsl = iasl_round_trip(dir, "builder_SSDT", ssdt);
	CHECK_STR_CONTAINS(dsl, "Interrupt (ResourceConsumer, Level, "
			   "ActiveLow, Exclusive");
	CHECK_STR_CONTAINS(dsl, "FixedIO");
	CHECK_STR_CONTAINS(dsl, "Method (M001, 2, Serialized)");
	CHECK_STR_CONTAINS(dsl, "Field (TREG, AnyAcc, NoLock, Preserve)");
	CHECK_STR_CONTAINS(dsl, "TF02,   200");
	CHECK_STR_CONTAINS(dsl, "TF01 = Arg0");
	free(dsl);
}

/*
 * Firmware boot: no ECAM, a CMOS clock, and tables built at 0 that a
 * loader relocates with the links alone, as OVMF's table-loader does;
 * after that every pointer and checksum must hold at the new address.
 */
static void test_firmware_links(uint8_t *buf)
{
	struct test_machine m = test_config(2);
	m.acpi.ecam_gpa = 0;
	m.acpi.cmos_rtc = true;
	struct x86_acpi_links l;
	struct phy_error err;
	memset(buf, CANARY, BUF_SIZE);
	long used = x86_acpi_build_links(acpi_of(&m), buf, BUF_SIZE, &l, &err);
	REQUIRE(used > 0);
	CHECK_EQ_U64(l.rsdp_size, 36);
	CHECK_EQ_U64(l.nr_pointers, 4);  /* RSDP, 2 XSDT entries, X_DSDT */
	CHECK_EQ_U64(l.nr_checksums, 6); /* RSDP twice, XSDT, FADT, MADT, DSDT */
	const uint64_t gpa = 0x7ff00000;
	for (unsigned i = 0; i < l.nr_pointers; i++) {
		REQUIRE(l.pointers[i].size == 8 &&
			l.pointers[i].offset + 8u <= (uint64_t)used);
		uint8_t *p = buf + l.pointers[i].offset;
		CHECK(rd(p, 8) < (uint64_t)used); /* an offset before */
		uint64_t v = rd(p, 8) + gpa;
		for (unsigned b = 0; b < 8; b++)
			p[b] = (uint8_t)(v >> (8 * b));
	}
	for (unsigned i = 0; i < l.nr_checksums; i++) {
		REQUIRE(l.checksums[i].start + (uint64_t)l.checksums[i].length <=
			(uint64_t)used);
		uint8_t *c = buf + l.checksums[i].checksum;
		*c = 0;
		*c = (uint8_t)(0 - sum8(buf + l.checksums[i].start,
					l.checksums[i].length));
	}
	struct tables t = { .buf = buf, .used = used, .gpa = gpa };
	const uint8_t *xsdt = check_rsdp(&t);
	REQUIRE(xsdt);
	check_header(xsdt, "XSDT", 1);
	CHECK_EQ_U64(rd(xsdt + 4, 4), 36 + 2 * 8);
	CHECK(xsdt_find(&t, xsdt, "MCFG") == NULL);
	const uint8_t *fadt = xsdt_find(&t, xsdt, "FACP");
	const uint8_t *madt = xsdt_find(&t, xsdt, "APIC");
	REQUIRE(fadt && madt);
	CHECK(!(rd(fadt + 109, 2) & (1u << 5))); /* a CMOS clock is there */
	CHECK_EQ_U64(fadt[108], 0x32);           /* and its century byte */
	const uint8_t *dsdt = table_at(&t, rd(fadt + 140, 8));
	REQUIRE(dsdt);
	check_header(dsdt, "DSDT", 2);
	size_t dl = rd(dsdt + 4, 4);
	/* PNP0A03 only: a PCI root bridge without ECAM. */
	CHECK(memmem(dsdt, dl, (const uint8_t[]){ 0x0C, 0x41, 0xD0, 0x0A, 0x03 }, 5));
	CHECK(!memmem(dsdt, dl, (const uint8_t[]){ 0x0C, 0x41, 0xD0, 0x0A, 0x08 }, 5));
	/* Too small a buffer fails, links or not. */
	CHECK(x86_acpi_build_links(acpi_of(&m), buf, 64, &l, &err) < 0);
}

int main(void)
{
	static uint8_t buf[BUF_SIZE];
	static const unsigned cpus[] = { 1, 4, 255 };
	char tmpl[] = "/tmp/phy-test-acpi-XXXXXX";

	test_pkglen();
	test_pkg_shift();
	test_names();
	test_data_objects();
	test_resources();
	test_regions_and_statements();
	test_overflow();
	test_too_small();
	test_invalid_config();
	test_deterministic();
	test_firmware_links(buf);

	const char *dir = iasl_setup(tmpl);
	int failures_before_iasl = check_failures;
	for (unsigned i = 0; i <= 3; i++) {
		struct test_machine c = i < 3 ? test_config(cpus[i]) :
						odd_config();
		char tag[16] = "odd";
		if (i < 3)
			snprintf(tag, sizeof(tag), "cpu%u", cpus[i]);
		struct tables t = build_and_check(&c, buf);
		if (dir && t.used > 0)
			iasl_check_tables(dir, &t, tag);
	}
	if (dir) {
		iasl_check_builder(dir);
		if (check_failures == failures_before_iasl)
			remove_dir(dir);
		else
			fprintf(stderr, "test_acpi: tables and iasl "
				"output kept in %s\n", dir);
	}

	return check_report("test_acpi");
}
