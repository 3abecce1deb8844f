/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/bus.h"

#include <string.h>

#include "common/error.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t size,
		 const struct bus_device_ops *ops, void *opaque,
		 const char *name, struct phy_error *err)
{
	if (size == 0 || base + size < base)
		return phy_err(err, PHY_E_INTERNAL, "%s bus: bad range for %s",
			       bus->name, name);
	if (bus->nr == BUS_MAX_RANGES)
		return phy_err(err, PHY_E_INTERNAL, "%s bus: full (adding %s)",
			       bus->name, name);
	unsigned i = 0;
	while (i < bus->nr && bus->ranges[i].base < base)
		i++;
	if (i > 0) {
		const struct bus_range *prev = &bus->ranges[i - 1];
		if (prev->base + prev->size > base)
			return phy_err(err, PHY_E_INTERNAL,
				       "%s bus: %s overlaps %s", bus->name, name,
				       prev->name);
	}
	if (i < bus->nr && base + size > bus->ranges[i].base)
		return phy_err(err, PHY_E_INTERNAL, "%s bus: %s overlaps %s",
			       bus->name, name, bus->ranges[i].name);
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){ base, size, ops, opaque, name };
	bus->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr,
				 uint32_t len)
{
	unsigned lo = 0, hi = bus->nr;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct bus_range *r = &bus->ranges[mid];
		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->size) {
			lo = mid + 1;
		} else {
			/* The access must not run past the device's end. */
			if (len > r->size - (addr - r->base))
				return NULL;
			return r;
		}
	}
	return NULL;
}

bool bus_read(const struct bus *bus, uint64_t addr, uint8_t *data,
	      uint32_t len)
{
	const struct bus_range *r = bus_find(bus, addr, len);
	if (!r || !r->ops->read) {
		memset(data, 0xff, len);
		return false;
	}
	r->ops->read(r->opaque, addr - r->base, data, len);
	return true;
}

bool bus_write(const struct bus *bus, uint64_t addr, const uint8_t *data,
	       uint32_t len)
{
	const struct bus_range *r = bus_find(bus, addr, len);
	if (!r || !r->ops->write)
		return false;
	r->ops->write(r->opaque, addr - r->base, data, len);
	return true;
}
