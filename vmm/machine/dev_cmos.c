// SPDX-License-Identifier: Apache-2.0
/*
 * Firmware boot: the CMOS clock and NVRAM at 0x70 (cmos_rtc.h), which
 * OVMF reads the time and the RAM sizes from and Windows expects. What a
 * battery keeps (the clock the guest set, the NVRAM) survives a guest
 * reboot in the row's state; a new VMM starts from the host's clock.
 */
#include <stdlib.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/legacy/cmos_rtc.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"

#define CMOS_PORT 0x70

struct cmos_state {
	struct cmos_rtc_saved saved;
	bool have_saved;
};

static int cmos_open(struct vm_device *d, struct phy_error *err)
{
	d->state = calloc(1, sizeof(struct cmos_state));
	return d->state ? 0 :
			  phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
}

static void cmos_close(struct vm_device *d)
{
	free(d->state);
	d->state = NULL;
}

static int cmos_create(struct vm_device *d, struct machine *m,
		       struct phy_error *err)
{
	struct cmos_state *s = d->state;
	uint64_t ram = d->vm->mem.ram_size, below = x86_low_ram_end(ram);
	struct cmos_rtc_params p = {
		.ram_below_4g = below,
		.ram_above_4g = ram - below,
		.restore = s->have_saved ? &s->saved : NULL,
	};
	d->dev = cmos_rtc_create(&p);
	if (!d->dev)
		return phy_err(err, PHY_E_NOMEM, "%s: out of memory", d->name);
	return machine_add_pio(m, d, CMOS_PORT, CMOS_RTC_IO_SIZE,
			       &cmos_rtc_bus_ops, d->dev, false, err);
}

static void cmos_destroy(struct vm_device *d)
{
	struct cmos_state *s = d->state;
	if (!d->dev)
		return;
	cmos_rtc_save(d->dev, &s->saved);
	s->have_saved = true;
	cmos_rtc_destroy(d->dev);
	d->dev = NULL;
}

static void cmos_aml(void *d, struct aml *a)
{
	cmos_rtc_aml(a, CMOS_PORT);
}

const struct device_type cmos_type = {
	.name = "cmos-rtc",
	.count = device_count_firmware,
	.open = cmos_open,
	.close = cmos_close,
	.create = cmos_create,
	.destroy = cmos_destroy,
	.aml = cmos_aml,
};
