/* SPDX-License-Identifier: Apache-2.0 */
/* The GED event register: latching, read-to-clear, and the interrupt line
 * going up on the first event and down when the last one is read. */
#include "check.h"

#include "devices/legacy/acpi_ged.h"

struct line {
	int level;
	unsigned changes;
};

static void set_irq(void *opaque, int level)
{
	struct line *l = opaque;
	l->level = level;
	l->changes++;
}

static uint64_t rd(struct acpi_ged *ged, uint64_t off, uint32_t len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	acpi_ged_bus_ops.read(ged, off, b, len);
	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

int main(void)
{
	struct line l = { 0 };
	struct acpi_ged *ged = acpi_ged_create(set_irq, &l);
	CHECK(ged != NULL);
	if (!ged)
		return check_report("test_acpi_ged");

	/* Nothing latched: reads are 0 and the line never moves. */
	CHECK_EQ_U64(rd(ged, 0, 4), 0);
	CHECK_EQ_U64(l.changes, 0);
	acpi_ged_signal(ged, 0);
	CHECK_EQ_U64(l.changes, 0);

	/* One event: the line goes up once, even when pressed twice. */
	acpi_ged_signal(ged, 0x1);
	acpi_ged_signal(ged, 0x1);
	CHECK_EQ_U64(l.level, 1);
	CHECK_EQ_U64(l.changes, 1);
	CHECK_EQ_U64(rd(ged, 0, 4), 0x1);
	CHECK_EQ_U64(l.level, 0);
	CHECK_EQ_U64(l.changes, 2);
	CHECK_EQ_U64(rd(ged, 0, 4), 0);

	/* Writes do not clear or set anything. */
	acpi_ged_signal(ged, 0x0100);
	acpi_ged_bus_ops.write(ged, 0, (const uint8_t[]){ 0, 0, 0, 0 }, 4);
	CHECK_EQ_U64(l.level, 1);
	CHECK_EQ_U64(rd(ged, 0, 4), 0x0100);

	/* Byte reads return and clear only their byte; the line drops with
	 * the last bit. */
	acpi_ged_signal(ged, 0x80000101);
	CHECK_EQ_U64(rd(ged, 1, 1), 0x01);
	CHECK_EQ_U64(l.level, 1);
	CHECK_EQ_U64(rd(ged, 0, 1), 0x01);
	CHECK_EQ_U64(l.level, 1);
	CHECK_EQ_U64(rd(ged, 2, 2), 0x8000);
	CHECK_EQ_U64(l.level, 0);

	/* Reads past the register read 0 and clear nothing of it. */
	acpi_ged_signal(ged, 0x2);
	CHECK_EQ_U64(rd(ged, 4, 4), 0);
	CHECK_EQ_U64(rd(ged, 3, 4), 0);
	CHECK_EQ_U64(l.level, 1);
	CHECK_EQ_U64(rd(ged, 0, 8), 0x2);
	CHECK_EQ_U64(l.level, 0);

	acpi_ged_destroy(ged);
	acpi_ged_destroy(NULL);
	return check_report("test_acpi_ged");
}
