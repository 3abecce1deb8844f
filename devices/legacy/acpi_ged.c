/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/acpi_ged.h"

#include <stdlib.h>
#include <string.h>

struct acpi_ged *acpi_ged_create(acpi_ged_irq_fn set_irq, void *opaque)
{
	struct acpi_ged *ged = calloc(1, sizeof(*ged));
	if (!ged)
		return NULL;
	pthread_mutex_init(&ged->lock, NULL);
	ged->set_irq = set_irq;
	ged->opaque = opaque;
	return ged;
}

void acpi_ged_destroy(struct acpi_ged *ged)
{
	if (!ged)
		return;
	pthread_mutex_destroy(&ged->lock);
	free(ged);
}

void acpi_ged_signal(struct acpi_ged *ged, uint32_t events)
{
	if (!events)
		return;
	pthread_mutex_lock(&ged->lock);
	ged->pending |= events;
	/* Level-triggered: events latched while the line is up need no new
	 * edge; the guest's next read collects them all. */
	if (!ged->asserted) {
		ged->asserted = true;
		ged->set_irq(ged->opaque, 1);
	}
	pthread_mutex_unlock(&ged->lock);
}

static void ged_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct acpi_ged *ged = opaque;
	memset(data, 0, len);
	pthread_mutex_lock(&ged->lock);
	/* Only the bytes the access covers are returned and cleared, so a
	 * guest reading the register byte by byte loses nothing. */
	for (uint32_t i = 0; i < len && off + i < ACPI_GED_REG_SIZE; i++) {
		unsigned shift = 8 * (unsigned)(off + i);
		data[i] = (uint8_t)(ged->pending >> shift);
		ged->pending &= ~(0xFFu << shift);
	}
	if (!ged->pending && ged->asserted) {
		ged->asserted = false;
		ged->set_irq(ged->opaque, 0);
	}
	pthread_mutex_unlock(&ged->lock);
}

static void ged_write(void *opaque, uint64_t off, const uint8_t *data,
		      uint32_t len)
{
}

const struct bus_device_ops acpi_ged_bus_ops = {
	.read = ged_read,
	.write = ged_write,
};
