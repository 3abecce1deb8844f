/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/pci/pci_host.h"

#include <string.h>

#include "common/error.h"

/* Red Hat's ID for a generic PCIe host bridge: guests know it needs no
 * driver. */
#define HOST_BRIDGE_VENDOR 0x1b36
#define HOST_BRIDGE_DEVICE 0x0008
#define PCI_CLASS_BRIDGE_HOST 0x060000

uint32_t pci_function_read_stored(struct pci_function *fn, uint32_t off,
				  uint32_t len)
{
	return pci_config_get(&fn->config[off], len);
}

/* The bridge's config space is read-only: it has no BARs and nothing to
 * configure. */

static void bridge_write(struct pci_function *fn, uint32_t off, uint32_t len,
			 uint32_t v)
{
}

static const struct pci_function_ops bridge_ops = {
	.config_read = pci_function_read_stored,
	.config_write = bridge_write,
};

void pci_host_init(struct pci_host *host)
{
	memset(host, 0, sizeof(*host));
	pthread_mutex_init(&host->lock, NULL);
	uint8_t *c = host->bridge.config;
	pci_config_put16(c + 0x00, HOST_BRIDGE_VENDOR);
	pci_config_put16(c + 0x02, HOST_BRIDGE_DEVICE);
	c[0x08] = 0; /* revision */
	c[0x09] = PCI_CLASS_BRIDGE_HOST & 0xff;
	c[0x0a] = (PCI_CLASS_BRIDGE_HOST >> 8) & 0xff;
	c[0x0b] = PCI_CLASS_BRIDGE_HOST >> 16;
	c[0x0e] = 0; /* header type 0, single function */
	pci_config_put16(c + 0x2c, HOST_BRIDGE_VENDOR); /* subsystem */
	pci_config_put16(c + 0x2e, 0x1100);
	host->bridge.ops = &bridge_ops;
	host->fns[0] = &host->bridge;
}

void pci_host_set_bridge_id(struct pci_host *host, uint16_t vendor,
			    uint16_t device, uint8_t revision)
{
	uint8_t *c = host->bridge.config;
	pci_config_put16(c + 0x00, vendor);
	pci_config_put16(c + 0x02, device);
	c[0x08] = revision;
}

void pci_host_destroy(struct pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

static struct pci_function *lookup(struct pci_host *host, unsigned bus,
				   unsigned devfn)
{
	if (bus != 0 || devfn >= PCI_DEVFNS)
		return NULL;
	return host->fns[devfn];
}

static bool access_ok(uint32_t offset, uint32_t len)
{
	return (len == 1 || len == 2 || len == 4) && (offset & (len - 1)) == 0 &&
	       offset + len <= PCI_CONFIG_SIZE;
}

uint32_t pci_host_config_read(struct pci_host *host, unsigned bus,
			      unsigned devfn, uint32_t offset, uint32_t len)
{
	uint32_t ones = len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
	if (!access_ok(offset, len))
		return ones;
	pthread_mutex_lock(&host->lock);
	struct pci_function *fn = lookup(host, bus, devfn);
	uint32_t v = fn ? fn->ops->config_read(fn, offset, len) : ones;
	pthread_mutex_unlock(&host->lock);
	return v;
}

/* BAR register i: the low half of bars[i], the high half of a 64-bit
 * bars[i-1], or nothing (hardwired to zero). */
static struct pci_bar *bar_of_reg(struct pci_function *fn, unsigned i,
				  bool *high)
{
	*high = false;
	if (fn->bars[i].size)
		return &fn->bars[i];
	if (i > 0 && fn->bars[i - 1].size && fn->bars[i - 1].mem64) {
		*high = true;
		return &fn->bars[i - 1];
	}
	return NULL;
}

/* Stores what a BAR register keeps of a written value: the address bits
 * the size leaves writable and the hardwired type bits. Writing all ones
 * thus reads back the size, which is how the guest sizes a BAR. */
static void bar_reg_store(struct pci_function *fn, unsigned i, uint32_t v)
{
	bool high;
	struct pci_bar *bar = bar_of_reg(fn, i, &high);
	uint64_t mask = bar ? ~(bar->size - 1) : 0;
	uint32_t reg;
	if (!bar)
		reg = 0;
	else if (high)
		reg = v & (uint32_t)(mask >> 32);
	else
		reg = (v & (uint32_t)mask & ~0xfu) | (bar->mem64 ? 0x4 : 0) |
		      (bar->prefetchable ? 0x8 : 0);
	pci_config_put32(&fn->config[PCI_CFG_BAR0 + 4 * i], reg);
}

static uint64_t bar_reg_addr(const struct pci_function *fn, unsigned i)
{
	const uint8_t *r = &fn->config[PCI_CFG_BAR0 + 4 * i];
	uint64_t addr = pci_config_get(r, 4) & ~0xfu;
	if (fn->bars[i].mem64)
		addr |= (uint64_t)pci_config_get(r + 4, 4) << 32;
	return addr;
}

void pci_function_set_bar(struct pci_function *fn, unsigned i, uint64_t size,
			  bool mem64, bool prefetchable, uint64_t addr,
			  const struct bus_device_ops *ops, void *opaque)
{
	if (i >= PCI_BARS || (mem64 && i + 1 >= PCI_BARS))
		return;
	fn->bars[i] = (struct pci_bar){
		.size = size,
		.mem64 = mem64,
		.prefetchable = prefetchable,
		.ops = ops,
		.opaque = opaque,
		.addr = addr & ~(size - 1),
	};
	bar_reg_store(fn, i, (uint32_t)addr);
	if (mem64)
		bar_reg_store(fn, i + 1, (uint32_t)(addr >> 32));
}

static bool in_window(const struct pci_host *host, uint64_t addr,
		      uint64_t size)
{
	for (unsigned i = 0; i < host->nr_windows; i++) {
		const struct pci_window *w = &host->windows[i];
		if (addr >= w->base && size <= w->size &&
		    addr - w->base <= w->size - size)
			return true;
	}
	return false;
}

/* Recomputes where fn's BARs decode after a config write, and tells the
 * function when that changed. Lock held. */
static void update_bars(struct pci_host *host, struct pci_function *fn)
{
	bool mem_on = pci_config_get(&fn->config[PCI_CFG_COMMAND], 2) &
		      PCI_CFG_COMMAND_MEMORY;
	bool changed = false;
	for (unsigned i = 0; i < PCI_BARS; i++) {
		struct pci_bar *bar = &fn->bars[i];
		if (!bar->size)
			continue;
		uint64_t addr = bar_reg_addr(fn, i);
		bool mapped = mem_on && in_window(host, addr, bar->size);
		if (addr != bar->addr || mapped != bar->mapped)
			changed = true;
		bar->addr = addr;
		bar->mapped = mapped;
	}
	if (changed && fn->ops->bars_changed)
		fn->ops->bars_changed(fn);
}

static bool is_bar_reg(uint32_t offset)
{
	return offset >= PCI_CFG_BAR0 && offset < PCI_CFG_BAR0 + 4 * PCI_BARS;
}

void pci_host_config_write(struct pci_host *host, unsigned bus,
			   unsigned devfn, uint32_t offset, uint32_t len,
			   uint32_t value)
{
	if (!access_ok(offset, len))
		return;
	pthread_mutex_lock(&host->lock);
	struct pci_function *fn = lookup(host, bus, devfn);
	if (fn && is_bar_reg(offset)) {
		/* Aligned accesses of up to 4 bytes stay in one register. */
		unsigned reg = (offset - PCI_CFG_BAR0) / 4;
		uint8_t b[4];
		memcpy(b, &fn->config[PCI_CFG_BAR0 + 4 * reg], 4);
		for (uint32_t i = 0; i < len; i++)
			b[(offset & 3) + i] = value >> (8 * i);
		bar_reg_store(fn, reg, pci_config_get(b, 4));
	} else if (fn) {
		fn->ops->config_write(fn, offset, len, value);
	}
	if (fn)
		update_bars(host, fn);
	pthread_mutex_unlock(&host->lock);
}

int pci_host_plug_devfn(struct pci_host *host, unsigned devfn,
			struct pci_function *fn, struct phy_error *err)
{
	if (devfn < PCI_FUNCTIONS || devfn >= PCI_DEVFNS)
		return phy_err(err, PHY_E_INTERNAL, "PCI: no slot %u", devfn >> 3);
	int ret = 0;
	pthread_mutex_lock(&host->lock);
	if (host->fns[devfn]) {
		ret = devfn % PCI_FUNCTIONS ?
			      phy_err(err, PHY_E_INTERNAL, "PCI: %02x.%u is taken",
				      devfn / PCI_FUNCTIONS, devfn % PCI_FUNCTIONS) :
			      phy_err(err, PHY_E_INTERNAL, "PCI: slot %u is taken",
				      devfn / PCI_FUNCTIONS);
	} else {
		host->fns[devfn] = fn;
		update_bars(host, fn);
	}
	pthread_mutex_unlock(&host->lock);
	return ret;
}

int pci_host_plug(struct pci_host *host, unsigned slot,
		  struct pci_function *fn, struct phy_error *err)
{
	if (slot == 0 || slot >= PCI_SLOTS)
		return phy_err(err, PHY_E_INTERNAL, "PCI: no slot %u", slot);
	return pci_host_plug_devfn(host, PCI_DEVFN(slot, 0), fn, err);
}

static bool slot_empty(const struct pci_host *host, unsigned slot)
{
	for (unsigned f = 0; f < PCI_FUNCTIONS; f++)
		if (host->fns[PCI_DEVFN(slot, f)])
			return false;
	return true;
}

unsigned pci_host_free_slot(struct pci_host *host)
{
	unsigned slot = 0;
	pthread_mutex_lock(&host->lock);
	for (unsigned i = 1; i < PCI_SLOTS && !slot; i++)
		if (slot_empty(host, i))
			slot = i;
	pthread_mutex_unlock(&host->lock);
	return slot;
}

void pci_host_unplug(struct pci_host *host, unsigned devfn)
{
	if (devfn < PCI_FUNCTIONS || devfn >= PCI_DEVFNS)
		return;
	pthread_mutex_lock(&host->lock);
	host->fns[devfn] = NULL;
	pthread_mutex_unlock(&host->lock);
}

/* The enabled BAR covering [gpa, gpa+len): its handler and the offset. */
static bool bar_lookup(struct pci_host *host, uint64_t gpa, uint32_t len,
		       const struct bus_device_ops **ops, void **opaque,
		       uint64_t *off)
{
	bool found = false;
	pthread_mutex_lock(&host->lock);
	for (unsigned s = 0; s < PCI_DEVFNS && !found; s++) {
		struct pci_function *fn = host->fns[s];
		for (unsigned i = 0; fn && i < PCI_BARS && !found; i++) {
			const struct pci_bar *bar = &fn->bars[i];
			if (!bar->mapped || gpa < bar->addr ||
			    gpa - bar->addr >= bar->size ||
			    len > bar->size - (gpa - bar->addr))
				continue;
			*ops = bar->ops;
			*opaque = bar->opaque;
			*off = gpa - bar->addr;
			found = true;
		}
	}
	pthread_mutex_unlock(&host->lock);
	return found;
}

/*
 * The handler runs without the host lock: functions outlive the vCPUs, so
 * the pointers stay valid, and an access racing with the guest moving the
 * BAR may land at either place, as on hardware.
 */
static void window_read(void *opaque, uint64_t off, uint8_t *data,
			uint32_t len)
{
	struct pci_window *w = opaque;
	const struct bus_device_ops *ops;
	void *dev;
	uint64_t bar_off;
	if (bar_lookup(w->host, w->base + off, len, &ops, &dev, &bar_off) &&
	    ops->read)
		ops->read(dev, bar_off, data, len);
	else
		memset(data, 0xff, len);
}

static void window_write(void *opaque, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct pci_window *w = opaque;
	const struct bus_device_ops *ops;
	void *dev;
	uint64_t bar_off;
	if (bar_lookup(w->host, w->base + off, len, &ops, &dev, &bar_off) &&
	    ops->write)
		ops->write(dev, bar_off, data, len);
}

static const struct bus_device_ops window_ops = {
	.read = window_read,
	.write = window_write,
};

int pci_host_add_window(struct pci_host *host, struct bus *mmio,
			uint64_t base, uint64_t size, const char *name,
			struct phy_error *err)
{
	if (host->nr_windows == PCI_HOST_MAX_WINDOWS)
		return phy_err(err, PHY_E_INTERNAL, "PCI: too many BAR windows");
	struct pci_window *w = &host->windows[host->nr_windows];
	*w = (struct pci_window){ host, base, size, base };
	int ret = bus_register(mmio, base, size, &window_ops, w, name, err);
	if (!ret)
		host->nr_windows++;
	return ret;
}

uint64_t pci_host_alloc_bar(struct pci_host *host, uint64_t size)
{
	if (size == 0 || (size & (size - 1)))
		return 0;
	uint64_t addr = 0;
	pthread_mutex_lock(&host->lock);
	for (unsigned i = 0; i < host->nr_windows && !addr; i++) {
		struct pci_window *w = &host->windows[i];
		uint64_t a = (w->next_free + size - 1) & ~(size - 1);
		if (a >= w->next_free && size <= w->size &&
		    a - w->base <= w->size - size) {
			w->next_free = a + size;
			addr = a;
		}
	}
	pthread_mutex_unlock(&host->lock);
	return addr;
}

/* ECAM: bus[27:20] devfn[19:12] register[11:0]. */
static void ecam_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	uint32_t v = pci_host_config_read(opaque, off >> 20, (off >> 12) & 0xff,
					  off & 0xfff, len);
	for (uint32_t i = 0; i < len; i++)
		data[i] = len <= 4 ? v >> (8 * i) : 0xff;
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data,
		       uint32_t len)
{
	if (len > 4)
		return;
	pci_host_config_write(opaque, off >> 20, (off >> 12) & 0xff,
			      off & 0xfff, len, pci_config_get(data, len));
}

const struct bus_device_ops pci_host_ecam_ops = {
	.read = ecam_read,
	.write = ecam_write,
};

#define RESET_CPU 0x04

/* Type 1: 0xCF8 holds enable[31] bus[23:16] devfn[15:8] reg[7:2] and the
 * extended register bits [11:8] in [27:24]; 0xCFC..0xCFF is the data. */
static uint32_t cf8_offset(uint32_t addr, uint64_t port_off)
{
	return ((addr >> 16) & 0xf00) | (addr & 0xfc) | (uint32_t)(port_off & 3);
}

static void cf8_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct pci_host *host = opaque;
	uint32_t v;
	if (off == 0 && len == 4) {
		pthread_mutex_lock(&host->lock);
		v = host->config_address;
		pthread_mutex_unlock(&host->lock);
	} else if (off >= 4) {
		pthread_mutex_lock(&host->lock);
		uint32_t addr = host->config_address;
		pthread_mutex_unlock(&host->lock);
		if (!(addr & 0x80000000u))
			v = 0xffffffffu;
		else
			v = pci_host_config_read(host, (addr >> 16) & 0xff,
						 (addr >> 8) & 0xff,
						 cf8_offset(addr, off - 4), len);
	} else {
		v = 0xffffffffu;
	}
	for (uint32_t i = 0; i < len; i++)
		data[i] = v >> (8 * i);
}

static void cf8_write(void *opaque, uint64_t off, const uint8_t *data,
		      uint32_t len)
{
	struct pci_host *host = opaque;
	uint32_t v = pci_config_get(data, len > 4 ? 4 : len);
	if (off == 1 && len == 1) {
		if ((v & RESET_CPU) && host->reset)
			host->reset(host->reset_opaque);
		return;
	}
	if (off == 0 && len == 4) {
		pthread_mutex_lock(&host->lock);
		host->config_address = v;
		pthread_mutex_unlock(&host->lock);
		return;
	}
	if (off < 4)
		return;
	pthread_mutex_lock(&host->lock);
	uint32_t addr = host->config_address;
	pthread_mutex_unlock(&host->lock);
	if (addr & 0x80000000u)
		pci_host_config_write(host, (addr >> 16) & 0xff,
				      (addr >> 8) & 0xff,
				      cf8_offset(addr, off - 4), len, v);
}

const struct bus_device_ops pci_host_cf8_ops = {
	.read = cf8_read,
	.write = cf8_write,
};
