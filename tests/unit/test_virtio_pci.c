/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-pci transport as a guest driver sees it: the capability
 * chain, BAR sizing and moving, the common configuration, feature
 * negotiation, MSI-X masking and pending bits, notifications, the PCI
 * configuration access window, garbage accesses; and the irq router, on
 * the local /dev/kvm when there is one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "check.h"
#include "common/guest_mem.h"
#include "devices/bus.h"
#include "devices/pci/pci_host.h"
#include "devices/virtio/virtio_pci.h"
#include "common/io_loop.h"
#include "common/error.h"
#include "vmm/kvm_vm_ops.h"

#define SLOT 3
#define DEVFN (SLOT << 3)
#define NQ 2
#define QSIZE 256
#define W32 0xC0000000ULL
#define W32_SIZE 0x20000000ULL
#define W64 0x100000000ULL
#define W64_SIZE 0x1000000000ULL
#define FEATURE_X 5 /* a device feature bit the fake device offers */

/* A tiny device: 8 bytes of config space, counters for what happened. */
struct fake {
	struct virtio_dev dev;
	struct virtqueue queues[NQ];
	uint8_t config[8];
	unsigned activated, resets, notified[NQ], logs;
};

static void fake_cfg_read(struct virtio_dev *dev, uint32_t off, void *data,
			  uint32_t len)
{
	memcpy(data, ((struct fake *)dev->opaque)->config + off, len);
}

static void fake_cfg_write(struct virtio_dev *dev, uint32_t off,
			   const void *data, uint32_t len)
{
	memcpy(((struct fake *)dev->opaque)->config + off, data, len);
}

static int fake_activate(struct virtio_dev *dev)
{
	((struct fake *)dev->opaque)->activated++;
	return 0;
}

static void fake_reset(struct virtio_dev *dev)
{
	((struct fake *)dev->opaque)->resets++;
}

static void fake_notify(struct virtio_dev *dev, unsigned q)
{
	((struct fake *)dev->opaque)->notified[q]++;
}

static void fake_log(void *opaque, const char *msg)
{
	((struct fake *)opaque)->logs++;
	fprintf(stderr, "device log: %s\n", msg);
}

static const struct virtio_dev_ops fake_ops = {
	.config_read = fake_cfg_read,
	.config_write = fake_cfg_write,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_notify,
};

/* A VM that has no MSI to give. */
static int no_msi_add(void *ctx, int fd, uint32_t *handle, struct phy_error *err)
{
	return phy_err(err, PHY_E_NOMEM, "irq router: no GSI left");
}

static const struct vm_ops_table no_msi_table = { .msi_add = no_msi_add };

/* The machine around one device: host bridge, MMIO bus with the two BAR
 * windows, irq router, device loop, guest RAM. */
struct rig {
	struct pci_host host;
	struct bus mmio;
	struct kvm_vm_ops vm; /* the VM side of MSIs and ioeventfds */
	struct io_loop *loop;
	struct guest_mem mem;
	struct fake fake;
	struct virtio_pci *vp;
	uint64_t bar;
	/* Found by walking the capabilities. */
	uint8_t cap_msix, cap_pci_cfg;
	uint32_t common, isr, device, notify, notify_mult, table, pba;
};

static void rig_init(struct rig *r, int vm_fd, bool loop)
{
	struct phy_error err;
	memset(r, 0, sizeof(*r));
	pci_host_init(&r->host);
	bus_init(&r->mmio, "mmio");
	CHECK(pci_host_add_window(&r->host, &r->mmio, W32, W32_SIZE, "w32", &err) == 0);
	CHECK(pci_host_add_window(&r->host, &r->mmio, W64, W64_SIZE, "w64", &err) == 0);
	CHECK(kvm_vm_ops_init(&r->vm, vm_fd, &err) == 0);
	if (loop)
		CHECK(io_loop_create(&r->loop, 64, &err) == 0);
	CHECK(guest_mem_create(&r->mem, 1 << 20, X86_MMIO_HOLE_GPA,
			       X86_HIGH_RAM_GPA, 0, &err) == 0);
	struct fake *f = &r->fake;
	virtio_dev_init(&f->dev, "fake0", VIRTIO_ID_BLOCK,
			1ull << FEATURE_X | 1ull << VIRTIO_RING_F_EVENT_IDX,
			sizeof(f->config), f->queues, NQ, QSIZE, &r->mem,
			&fake_ops, f);
	f->dev.log = fake_log;
	f->dev.log_opaque = f;
	memcpy(f->config, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	struct virtio_pci_env env = { &r->vm.ops, r->loop, &r->host };
	r->bar = pci_host_alloc_bar(&r->host, virtio_pci_bar_size(&f->dev));
	CHECK(r->bar >= W32 && r->bar < W32 + W32_SIZE);
	int ret = virtio_pci_create(&r->vp, &f->dev, &env, SLOT, r->bar, &err);
	CHECK(ret == 0);
	if (ret) {
		fprintf(stderr, "virtio_pci_create: %s\n", err.message);
		exit(1);
	}
}

static void rig_destroy(struct rig *r)
{
	virtio_pci_destroy(r->vp);
	virtio_dev_destroy(&r->fake.dev);
	io_loop_destroy(r->loop);
	guest_mem_destroy(&r->mem);
	kvm_vm_ops_destroy(&r->vm);
	pci_host_destroy(&r->host);
}

static uint32_t cfg_r(struct rig *r, uint32_t off, uint32_t len)
{
	return pci_host_config_read(&r->host, 0, DEVFN, off, len);
}

static void cfg_w(struct rig *r, uint32_t off, uint32_t len, uint32_t v)
{
	pci_host_config_write(&r->host, 0, DEVFN, off, len, v);
}

static uint64_t mr(struct rig *r, uint64_t gpa, uint32_t len)
{
	uint8_t d[8];
	bus_read(&r->mmio, gpa, d, len);
	uint64_t v = 0;
	for (uint32_t i = 0; i < len; i++)
		v |= (uint64_t)d[i] << (8 * i);
	return v;
}

static void mw(struct rig *r, uint64_t gpa, uint32_t len, uint64_t v)
{
	uint8_t d[8];
	for (uint32_t i = 0; i < len; i++)
		d[i] = v >> (8 * i);
	bus_write(&r->mmio, gpa, d, len);
}

/* Common config registers at the BAR's current place. */
static uint64_t cc_r(struct rig *r, uint32_t off, uint32_t len)
{
	return mr(r, r->bar + r->common + off, len);
}

static void cc_w(struct rig *r, uint32_t off, uint32_t len, uint64_t v)
{
	mw(r, r->bar + r->common + off, len, v);
}

static void enable_memory(struct rig *r, bool on)
{
	cfg_w(r, PCI_CFG_COMMAND, 2, on ? 0x0006 : 0x0004);
}

/* The walk virtio_pci_find_capability() and the MSI-X core do. */
static void walk_caps(struct rig *r)
{
	unsigned seen = 0, steps = 0;
	CHECK(cfg_r(r, 0x06, 2) & 0x10); /* capabilities list */
	for (uint8_t pos = cfg_r(r, 0x34, 1); pos; pos = cfg_r(r, pos + 1, 1)) {
		CHECK(pos >= 0x40 && (pos & 3) == 0);
		if (++steps > 48)
			break; /* a loop */
		uint8_t id = cfg_r(r, pos, 1);
		if (id == 0x11) {
			r->cap_msix = pos;
			continue;
		}
		CHECK(id == 0x09);
		uint8_t type = cfg_r(r, pos + 3, 1), bar = cfg_r(r, pos + 4, 1);
		uint32_t off = cfg_r(r, pos + 8, 4), len = cfg_r(r, pos + 12, 4);
		CHECK(bar == 0);
		CHECK(cfg_r(r, pos + 2, 1) >= 16);
		seen |= 1u << type;
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			r->common = off;
			CHECK(len >= sizeof(struct virtio_pci_common_cfg));
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			r->notify = off;
			r->notify_mult = cfg_r(r, pos + 16, 4);
			CHECK(len >= NQ * r->notify_mult);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			r->isr = off;
			CHECK(len >= 1);
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			r->device = off;
			CHECK(len == 8);
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			r->cap_pci_cfg = pos;
			CHECK(cfg_r(r, pos + 2, 1) == 20);
			break;
		}
	}
	CHECK(steps < 48);
	CHECK(seen == (1u << 1 | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 5));
	CHECK(r->notify_mult == 4);
	CHECK(r->cap_msix != 0);
	uint16_t ctrl = cfg_r(r, r->cap_msix + 2, 2);
	CHECK_EQ_U64(ctrl & 0x7ff, NQ); /* NQ + 1 vectors */
	uint32_t t = cfg_r(r, r->cap_msix + 4, 4), p = cfg_r(r, r->cap_msix + 8, 4);
	CHECK((t & 7) == 0 && (p & 7) == 0);
	r->table = t & ~7u;
	r->pba = p & ~7u;
	uint64_t size = virtio_pci_bar_size(&r->fake.dev);
	CHECK(r->table + (NQ + 1) * 16 <= size && r->pba + 8 <= size);
	CHECK(r->table >= r->notify + NQ * 4 && r->pba >= r->table + (NQ + 1) * 16);
}

static void test_header_and_caps(void)
{
	struct rig r;
	rig_init(&r, -1, false);
	CHECK_EQ_U64(cfg_r(&r, 0x00, 2), 0x1af4);
	CHECK_EQ_U64(cfg_r(&r, 0x02, 2), 0x1040 + VIRTIO_ID_BLOCK);
	CHECK_EQ_U64(cfg_r(&r, 0x08, 1), 1);          /* revision */
	CHECK_EQ_U64(cfg_r(&r, 0x08, 4) >> 8, 0x018000); /* class */
	CHECK_EQ_U64(cfg_r(&r, 0x0e, 1), 0);          /* header type */
	CHECK_EQ_U64(cfg_r(&r, 0x2c, 2), 0x1af4);
	CHECK(cfg_r(&r, 0x2e, 2) != 0);
	CHECK_EQ_U64(cfg_r(&r, 0x3d, 1), 0);          /* no INTx pin */
	CHECK_EQ_U64(cfg_r(&r, 0x10, 4), r.bar | 0x4); /* 64-bit memory */
	CHECK_EQ_U64(cfg_r(&r, 0x14, 4), 0);
	CHECK_EQ_U64(cfg_r(&r, 0x04, 2), 0);          /* decoding off */
	walk_caps(&r);
	CHECK(pci_host_plug(&r.host, SLOT, &r.host.bridge, NULL) != 0); /* taken */
	rig_destroy(&r);
}

/* Creation failures leave nothing behind (LSan checks the frees) and
 * do not disturb the function already in the slot. */
static void test_create_errors(void)
{
	struct rig r;
	struct phy_error err;
	struct virtio_pci *vp = NULL;
	rig_init(&r, -1, false);
	struct fake other;
	memset(&other, 0, sizeof(other));
	virtio_dev_init(&other.dev, "other0", VIRTIO_ID_NET, 0, 0, other.queues,
			NQ, QSIZE, &r.mem, &fake_ops, &other);
	uint64_t size = virtio_pci_bar_size(&other.dev);
	struct virtio_pci_env env = { &r.vm.ops, NULL, &r.host };
	CHECK(virtio_pci_create(&vp, &other.dev, &env, SLOT, W32 + 16 * size,
				&err) != 0);
	CHECK_STR_CONTAINS(err.message, "slot 3 is taken");
	CHECK(virtio_pci_create(&vp, &other.dev, &env, SLOT + 1,
				W32 + 16 * size + 0x1000, &err) != 0);
	CHECK_STR_CONTAINS(err.message, "not aligned");
	CHECK(virtio_pci_create(&vp, &other.dev, &env, PCI_SLOTS, W32 + 16 * size,
				&err) != 0);
	CHECK_STR_CONTAINS(err.message, "no slot");
	env.host = NULL;
	CHECK(virtio_pci_create(&vp, &other.dev, &env, SLOT + 1, 0, &err) != 0);
	struct vm_ops no_msi = { &no_msi_table, NULL };
	env = (struct virtio_pci_env){ &no_msi, NULL, &r.host };
	CHECK(virtio_pci_create(&vp, &other.dev, &env, SLOT + 1, 0, &err) != 0);
	CHECK_STR_CONTAINS(err.message, "irq router");
	CHECK(other.dev.transport == NULL);
	virtio_dev_destroy(&other.dev);

	/* The device in the slot still answers, and its GSIs were kept
	 * while the failures gave theirs back. */
	CHECK_EQ_U64(cfg_r(&r, 0x02, 2), 0x1040 + VIRTIO_ID_BLOCK);
	uint32_t gsi;
	CHECK(irq_router_alloc_msi(&r.vm.irqs, &gsi, &err) == 0);
	CHECK_EQ_U64(gsi, IRQ_ROUTER_FIRST_MSI_GSI + NQ + 1);
	virtio_pci_destroy(NULL);
	rig_destroy(&r);
}

static void test_bar(void)
{
	struct rig r;
	rig_init(&r, -1, false);
	walk_caps(&r);
	uint64_t size = virtio_pci_bar_size(&r.fake.dev);
	CHECK(size >= 0x4000 && (size & (size - 1)) == 0);

	/* Decoding off: the window answers like an empty bus. */
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
	enable_memory(&r, true);
	CHECK_EQ_U64(cfg_r(&r, 0x04, 2), 0x0006);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);

	/* Sizing, as Linux does it: decoding off, all ones, read, restore. */
	enable_memory(&r, false);
	cfg_w(&r, 0x10, 4, 0xffffffff);
	cfg_w(&r, 0x14, 4, 0xffffffff);
	CHECK_EQ_U64(cfg_r(&r, 0x10, 4), (uint32_t)~(size - 1) | 0x4);
	CHECK_EQ_U64(cfg_r(&r, 0x14, 4), 0xffffffff);
	for (uint32_t reg = 0x18; reg < 0x28; reg += 4) { /* no BARs there */
		cfg_w(&r, reg, 4, 0xffffffff);
		CHECK_EQ_U64(cfg_r(&r, reg, 4), 0);
	}

	/* Moved into the 64-bit window, with byte and word writes. */
	uint64_t old = r.bar, moved = W64 + 16 * size;
	cfg_w(&r, 0x10, 2, (uint16_t)moved);
	cfg_w(&r, 0x12, 1, (uint8_t)(moved >> 16));
	cfg_w(&r, 0x13, 1, (uint8_t)(moved >> 24));
	cfg_w(&r, 0x14, 4, (uint32_t)(moved >> 32));
	CHECK_EQ_U64(cfg_r(&r, 0x10, 4), (uint32_t)moved | 0x4);
	CHECK_EQ_U64(cfg_r(&r, 0x14, 4), moved >> 32);
	enable_memory(&r, true);
	r.bar = moved;
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	CHECK_EQ_U64(mr(&r, old + r.common + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);

	/* Unaligned low bits are dropped: the BAR stays size-aligned. */
	cfg_w(&r, 0x10, 4, (uint32_t)moved | 0x123);
	CHECK_EQ_U64(cfg_r(&r, 0x10, 4), (uint32_t)moved | 0x4);

	/* Outside both windows: not decoded, even with memory enabled. */
	cfg_w(&r, 0x14, 4, 0);
	cfg_w(&r, 0x10, 4, 0x80000000);
	CHECK(!bus_read(&r.mmio, 0x80000000, (uint8_t[2]){ 0 }, 2));
	r.bar = old;
	cfg_w(&r, 0x10, 4, (uint32_t)old);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);

	/* An access running past the BAR's end belongs to nobody. */
	CHECK_EQ_U64(mr(&r, old + size - 4, 8), ~0ull);
	enable_memory(&r, false);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);

	/* The allocator hands out aligned, disjoint BARs. */
	uint64_t a = pci_host_alloc_bar(&r.host, 0x4000);
	uint64_t b = pci_host_alloc_bar(&r.host, 0x100000);
	CHECK(a >= old + size && (a & 0x3fff) == 0);
	CHECK(b >= a + 0x4000 && (b & 0xfffff) == 0);
	CHECK(pci_host_alloc_bar(&r.host, 3) == 0);
	CHECK(pci_host_alloc_bar(&r.host, W64_SIZE) == 0); /* fits nowhere */
	uint64_t big = pci_host_alloc_bar(&r.host, 1ull << 30);
	CHECK(big >= W64 && (big & ((1ull << 30) - 1)) == 0);
	rig_destroy(&r);
}

static uint8_t status(struct rig *r)
{
	return (uint8_t)cc_r(r, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* The driver's side of feature negotiation (§ 3.1.1). */
static bool negotiate(struct rig *r, uint32_t lo, uint32_t hi)
{
	cc_w(r, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	cc_w(r, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	cc_w(r, VIRTIO_PCI_COMMON_STATUS, 1,
	     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	cc_w(r, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	cc_w(r, VIRTIO_PCI_COMMON_GF, 4, lo);
	cc_w(r, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	cc_w(r, VIRTIO_PCI_COMMON_GF, 4, hi);
	cc_w(r, VIRTIO_PCI_COMMON_STATUS, 1,
	     VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		     VIRTIO_CONFIG_S_FEATURES_OK);
	return status(r) & VIRTIO_CONFIG_S_FEATURES_OK;
}

static void test_common_cfg(void)
{
	struct rig r;
	rig_init(&r, -1, false);
	walk_caps(&r);
	enable_memory(&r, true);
	struct fake *f = &r.fake;

	/* Device features, both halves. */
	cc_w(&r, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_DF, 4),
		     1u << FEATURE_X | 1u << VIRTIO_RING_F_EVENT_IDX);
	cc_w(&r, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_DF, 4), 1); /* VERSION_1 */
	cc_w(&r, VIRTIO_PCI_COMMON_DFSELECT, 4, 7);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_DF, 4), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_DFSELECT, 4), 7);

	/* Negotiation: unoffered bits and a missing VERSION_1 fail. */
	CHECK(!negotiate(&r, 1u << 3, 1));
	CHECK(!negotiate(&r, 1u << FEATURE_X, 0));
	CHECK(negotiate(&r, 1u << FEATURE_X, 1));
	cc_w(&r, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_GF, 4), 1u << FEATURE_X);
	cc_w(&r, VIRTIO_PCI_COMMON_GF, 4, 0); /* after FEATURES_OK: ignored */
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_GF, 4), 1u << FEATURE_X);
	CHECK_EQ_U64(f->dev.driver_features, 1ull << FEATURE_X | 1ull << 32);

	/* Read-only fields. */
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	cc_w(&r, VIRTIO_PCI_COMMON_NUMQ, 2, 9);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	f->dev.config_generation = 3;
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 3);

	/* Vectors: in range sticks, out of range reads NO_VECTOR. */
	cc_w(&r, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	cc_w(&r, VIRTIO_PCI_COMMON_MSIX, 2, NQ + 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);

	/* Queue 1. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2, 128);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2, 0x1234);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	/* 64-bit fields: as two halves, and whole. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x10000);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, 0x20000);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x30000);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0x10000);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_USEDLO, 4), 0x30000);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	CHECK(f->queues[1].ready && f->queues[1].size == 128);
	CHECK(f->queues[1].event_idx == false);
	/* Enabled: size and rings are fixed now. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2, 64);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x40000);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2), 128);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x10000);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0); /* not the driver's */
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);

	/* queue_select out of range: sizes read 0, writes do nothing. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, NQ);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	CHECK(!(status(&r) & VIRTIO_CONFIG_S_NEEDS_RESET));

	/* DRIVER_OK activates the device. */
	cc_w(&r, VIRTIO_PCI_COMMON_STATUS, 1, status(&r) | VIRTIO_CONFIG_S_DRIVER_OK);
	CHECK(f->activated == 1);
	CHECK(status(&r) & VIRTIO_CONFIG_S_DRIVER_OK);

	/* Device config through the BAR, clipped to its size. */
	CHECK_EQ_U64(mr(&r, r.bar + r.device, 4), 0x44332211);
	CHECK_EQ_U64(mr(&r, r.bar + r.device + 4, 8), 0x88776655);
	mw(&r, r.bar + r.device + 6, 2, 0xbeef);
	CHECK(f->config[6] == 0xef && f->config[7] == 0xbe);
	mw(&r, r.bar + r.device + 8, 4, 0xffffffff); /* outside: dropped */
	CHECK_EQ_U64(mr(&r, r.bar + r.device + 8, 4), 0);

	/* Reset: status, queues and vectors back to their initial state. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	cc_w(&r, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(status(&r) == 0);
	CHECK(f->resets >= 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);

	/* A queue enabled before FEATURES_OK: the device needs a reset. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	CHECK(status(&r) & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(f->logs == 1);
	rig_destroy(&r);
}

static uint64_t drain(int fd)
{
	uint64_t v = 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0; /* EAGAIN: not signalled */
	return v;
}

static void raise_queue(struct rig *r, unsigned q)
{
	struct virtio_dev *dev = &r->fake.dev;
	pthread_mutex_lock(&dev->lock);
	dev->transport_ops->notify_queue(dev->transport, q);
	pthread_mutex_unlock(&dev->lock);
}

static void raise_config(struct rig *r)
{
	struct virtio_dev *dev = &r->fake.dev;
	pthread_mutex_lock(&dev->lock);
	dev->transport_ops->notify_config(dev->transport);
	pthread_mutex_unlock(&dev->lock);
}

static void msix_entry(struct rig *r, unsigned v, uint64_t addr, uint32_t data,
		       uint32_t ctrl)
{
	uint64_t e = r->bar + r->table + 16 * v;
	mw(r, e, 4, (uint32_t)addr);
	mw(r, e + 4, 4, addr >> 32);
	mw(r, e + 8, 4, data);
	mw(r, e + 12, 4, ctrl);
}

static void msix_control(struct rig *r, uint16_t bits)
{
	uint16_t ctrl = cfg_r(r, r->cap_msix + 2, 2);
	cfg_w(r, r->cap_msix + 2, 2, (ctrl & 0x3fff) | bits);
	CHECK_EQ_U64(cfg_r(r, r->cap_msix + 2, 2), (ctrl & 0x3fff) | bits);
}

static uint64_t pba(struct rig *r)
{
	return mr(r, r->bar + r->pba, 8);
}

#define GSI(v) (IRQ_ROUTER_FIRST_MSI_GSI + (v))

static void test_msix(void)
{
	struct rig r;
	rig_init(&r, -1, false);
	walk_caps(&r);
	enable_memory(&r, true);
	CHECK_EQ_U64(virtio_pci_nr_vectors(r.vp), NQ + 1);
	int fd0 = virtio_pci_vector_eventfd(r.vp, 0);
	int fd1 = virtio_pci_vector_eventfd(r.vp, 1);
	CHECK(fd0 >= 0 && fd1 >= 0 && virtio_pci_vector_eventfd(r.vp, NQ + 1) < 0);

	/* Reset state: every entry masked, nothing pending. */
	for (unsigned v = 0; v <= NQ; v++)
		CHECK_EQ_U64(mr(&r, r.bar + r.table + 16 * v + 12, 4), 1);
	CHECK_EQ_U64(pba(&r), 0);

	/* Linux: enable with all masked, program entries, unmask. */
	msix_control(&r, 0xc000);
	cc_w(&r, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	cc_w(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2, 1);
	msix_entry(&r, 0, 0xfee00000, 0x4030, 1);
	msix_entry(&r, 1, 0xfee01000, 0x4031, 0);
	CHECK_EQ_U64(mr(&r, r.bar + r.table + 16, 8), 0xfee01000);
	CHECK_EQ_U64(mr(&r, r.bar + r.table + 24, 8), 0x4031);
	uint64_t commits = r.vm.irqs.commits;
	uint64_t a;
	uint32_t d;
	CHECK(!irq_router_get_msi(&r.vm.irqs, GSI(1), &a, &d)); /* still masked */

	/* Function mask: the interrupt waits in the PBA. */
	raise_queue(&r, 0);
	CHECK_EQ_U64(drain(fd1), 0);
	CHECK_EQ_U64(pba(&r), 1u << 1);
	raise_queue(&r, 0);
	CHECK_EQ_U64(pba(&r), 1u << 1);

	/* Unmasking the function delivers it once and routes the vector. */
	msix_control(&r, 0x8000);
	CHECK_EQ_U64(drain(fd1), 1);
	CHECK_EQ_U64(pba(&r), 0);
	CHECK(irq_router_get_msi(&r.vm.irqs, GSI(1), &a, &d));
	CHECK(a == 0xfee01000 && d == 0x4031);
	CHECK(!irq_router_get_msi(&r.vm.irqs, GSI(0), &a, &d));
	CHECK_EQ_U64(r.vm.irqs.commits, commits + 1);

	/* Unmasked: straight to the irqfd; rewriting the same message
	 * costs no routing update. */
	raise_queue(&r, 0);
	CHECK_EQ_U64(drain(fd1), 1);
	msix_entry(&r, 1, 0xfee01000, 0x4031, 0);
	CHECK_EQ_U64(r.vm.irqs.commits, commits + 1);
	/* A new message while unmasked takes effect at once. */
	mw(&r, r.bar + r.table + 16 + 8, 4, 0x4032);
	CHECK(irq_router_get_msi(&r.vm.irqs, GSI(1), &a, &d) && d == 0x4032);

	/* The vector's own mask bit, with a qword write of data + ctrl. */
	mw(&r, r.bar + r.table + 16 + 8, 8, 0x100004033ull);
	raise_queue(&r, 0);
	CHECK_EQ_U64(drain(fd1), 0);
	CHECK_EQ_U64(pba(&r), 1u << 1);
	CHECK(irq_router_get_msi(&r.vm.irqs, GSI(1), &a, &d) && d == 0x4032);
	mw(&r, r.bar + r.table + 16 + 12, 4, 0);
	CHECK_EQ_U64(drain(fd1), 1);
	CHECK_EQ_U64(pba(&r), 0);
	CHECK(irq_router_get_msi(&r.vm.irqs, GSI(1), &a, &d) && d == 0x4033);

	/* Config changes: ISR bit 1, and vector 0 (masked until now). */
	raise_config(&r);
	CHECK_EQ_U64(drain(fd0), 0);
	CHECK_EQ_U64(pba(&r), 1u << 0);
	mw(&r, r.bar + r.table + 12, 4, 0);
	CHECK_EQ_U64(drain(fd0), 1);
	CHECK_EQ_U64(mr(&r, r.bar + r.isr, 1), VIRTIO_PCI_ISR_CONFIG);
	CHECK_EQ_U64(mr(&r, r.bar + r.isr, 1), 0); /* read clears */

	/* With MSI-X on, queue interrupts leave the ISR alone. */
	raise_queue(&r, 0);
	CHECK_EQ_U64(drain(fd1), 1);
	CHECK_EQ_U64(mr(&r, r.bar + r.isr, 1), 0);

	/* MSI-X disabled: held back; the ISR queue bit is set. */
	msix_control(&r, 0);
	raise_queue(&r, 0);
	CHECK_EQ_U64(drain(fd1), 0);
	CHECK_EQ_U64(pba(&r), 1u << 1);
	CHECK_EQ_U64(mr(&r, r.bar + r.isr, 1), 1);
	msix_control(&r, 0x8000);
	CHECK_EQ_U64(drain(fd1), 1);

	/* NO_VECTOR, and queues out of range: nothing anywhere. */
	cc_w(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	raise_queue(&r, 1);
	raise_queue(&r, NQ + 5);
	for (unsigned v = 0; v <= NQ; v++)
		CHECK_EQ_U64(drain(virtio_pci_vector_eventfd(r.vp, v)), 0);
	CHECK_EQ_U64(pba(&r), 0);

	/* Table entries past the last vector, PBA writes: inert. */
	uint64_t past = r.bar + r.table + 16 * (NQ + 1);
	mw(&r, past, 8, ~0ull);
	CHECK_EQ_U64(mr(&r, past, 8), 0);
	mw(&r, r.bar + r.pba, 8, ~0ull);
	CHECK_EQ_U64(pba(&r), 0);
	/* Reserved vector control bits read 0. */
	mw(&r, r.bar + r.table + 12, 4, 0xfffffffe);
	CHECK_EQ_U64(mr(&r, r.bar + r.table + 12, 4), 0);
	CHECK(r.fake.logs == 0);
	rig_destroy(&r);
}

static void test_notify(void)
{
	struct rig r;
	rig_init(&r, -1, true);
	walk_caps(&r);
	enable_memory(&r, true);
	CHECK(virtio_pci_queue_eventfd(r.vp, 0) >= 0);
	CHECK(virtio_pci_queue_eventfd(r.vp, NQ) < 0);
	CHECK(virtio_pci_ioeventfd_len(r.vp) == -1); /* no KVM here */

	/* A notify that exits to userspace reaches the device loop. */
	mw(&r, r.bar + r.notify + 1 * r.notify_mult, 2, 1);
	CHECK(io_loop_run_once(r.loop, true) >= 1);
	CHECK(r.fake.notified[1] == 1 && r.fake.notified[0] == 0);
	mw(&r, r.bar + r.notify, 4, 0); /* any width */
	CHECK(io_loop_run_once(r.loop, true) >= 1);
	CHECK(r.fake.notified[0] == 1);

	/* Misaligned or past the last queue: ignored. Reads are 0. */
	mw(&r, r.bar + r.notify + 1, 1, 0);
	mw(&r, r.bar + r.notify + NQ * r.notify_mult, 2, 0);
	CHECK(io_loop_run_once(r.loop, false) == 0);
	CHECK(r.fake.notified[0] == 1 && r.fake.notified[1] == 1);
	CHECK_EQ_U64(mr(&r, r.bar + r.notify, 2), 0);
	rig_destroy(&r);
}

/* VIRTIO_PCI_CAP_PCI_CFG: BAR accesses through config space. */
static void test_pci_cfg_window(void)
{
	struct rig r;
	rig_init(&r, -1, false);
	walk_caps(&r);
	uint8_t c = r.cap_pci_cfg;
	/* Works with memory decoding off: that is what it is for. */
	cfg_w(&r, c + 4, 1, 0);
	cfg_w(&r, c + 8, 4, r.common + VIRTIO_PCI_COMMON_NUMQ);
	cfg_w(&r, c + 12, 4, 2);
	CHECK_EQ_U64(cfg_r(&r, c + 16, 2), NQ);
	cfg_w(&r, c + 8, 4, r.common + VIRTIO_PCI_COMMON_Q_SELECT);
	cfg_w(&r, c + 16, 2, 1);
	enable_memory(&r, true);
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
	/* 4 bytes of device config. */
	cfg_w(&r, c + 8, 4, r.device);
	cfg_w(&r, c + 12, 4, 4);
	CHECK_EQ_U64(cfg_r(&r, c + 16, 4), 0x44332211);
	/* Bad windows are ignored: unaligned, odd length, other BAR, past
	 * the end. pci_cfg_data keeps what it had. */
	cfg_w(&r, c + 8, 4, r.device + 2);
	CHECK_EQ_U64(cfg_r(&r, c + 16, 4), 0x44332211);
	cfg_w(&r, c + 8, 4, r.device);
	cfg_w(&r, c + 12, 4, 3);
	CHECK_EQ_U64(cfg_r(&r, c + 16, 4), 0x44332211);
	cfg_w(&r, c + 12, 4, 4);
	cfg_w(&r, c + 4, 1, 2);
	cfg_w(&r, c + 16, 4, 0);
	CHECK(r.fake.config[0] == 0x11);
	cfg_w(&r, c + 4, 1, 0);
	cfg_w(&r, c + 8, 4, 0xfffffffc);
	cfg_w(&r, c + 16, 4, 0x5a5a5a5a); /* kept in pci_cfg_data only */
	CHECK_EQ_U64(cfg_r(&r, c + 16, 4), 0x5a5a5a5a);
	/* The rest of the capability is read-only. */
	cfg_w(&r, c + 3, 1, 0x77);
	CHECK_EQ_U64(cfg_r(&r, c + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
	cfg_w(&r, 0x00, 4, 0);
	CHECK_EQ_U64(cfg_r(&r, 0x00, 2), 0x1af4);
	cfg_w(&r, r.cap_msix + 2, 2, 0xffff); /* table size is read-only */
	CHECK_EQ_U64(cfg_r(&r, r.cap_msix + 2, 2), 0xc000 | NQ);
	rig_destroy(&r);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random accesses of every width anywhere in the BAR and config space:
 * nothing may crash, and a reset still brings the device back. */
static void test_garbage(void)
{
	struct rig r;
	rig_init(&r, -1, true);
	walk_caps(&r);
	enable_memory(&r, true);
	uint64_t s = 0x9e3779b97f4a7c15ull, size = virtio_pci_bar_size(&r.fake.dev);
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t x = xorshift(&s);
		uint32_t len = 1 + (x >> 8) % 8;
		uint64_t off = (x >> 16) % (size + 64);
		if (i % 16 == 0 && (x & 1)) /* mostly the interesting page */
			off = (x >> 16) % 0x40;
		if (x & 0x10)
			mw(&r, r.bar + off, len, xorshift(&s));
		else
			mr(&r, r.bar + off, len);
		if (i % 64 == 0) {
			uint32_t clen = 1u << ((x >> 40) % 3);
			uint32_t coff = ((x >> 44) % 0x1000) & ~(clen - 1);
			/* Leave the BAR and command registers alone, or
			 * the rest would hit an empty bus. */
			if (coff >= 0x10 && coff < 0x28)
				continue;
			if (coff < 0x08) {
				cfg_r(&r, coff, clen);
				continue;
			}
			if (x & 0x20)
				cfg_w(&r, coff, clen, (uint32_t)xorshift(&s));
			else
				cfg_r(&r, coff, clen);
		}
		if (i % 1024 == 0) {
			raise_queue(&r, (x >> 3) % NQ);
			raise_config(&r);
			io_loop_run_once(r.loop, false);
		}
	}
	io_loop_run_once(r.loop, false);
	cc_w(&r, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	CHECK(status(&r) == 0);
	CHECK(negotiate(&r, 0, 1));
	CHECK_EQ_U64(cc_r(&r, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	rig_destroy(&r);
}

static void test_irq_router_table(void)
{
	struct irq_router r;
	struct phy_error err;
	uint32_t g[3];
	uint64_t a;
	uint32_t d;
	CHECK(irq_router_init(&r, -1, &err) == 0);
	CHECK_EQ_U64(r.commits, 1);
	for (unsigned i = 0; i < 3; i++) {
		CHECK(irq_router_alloc_msi(&r, &g[i], &err) == 0);
		CHECK_EQ_U64(g[i], IRQ_ROUTER_FIRST_MSI_GSI + i);
	}
	CHECK(!irq_router_get_msi(&r, g[1], &a, &d)); /* allocated, no route */
	CHECK(irq_router_set_msi(&r, g[1], 0xfee00000, 0x41, &err) == 0);
	CHECK(irq_router_set_msi(&r, g[1], 0xfee00000, 0x41, &err) == 0);
	CHECK_EQ_U64(r.commits, 2); /* unchanged: no second commit */
	CHECK(irq_router_get_msi(&r, g[1], &a, &d) && a == 0xfee00000 && d == 0x41);
	/* GSIs that are not allocated MSI GSIs. */
	CHECK(irq_router_set_msi(&r, 4, 0xfee00000, 0x41, &err) != 0);
	CHECK(irq_router_set_msi(&r, IRQ_ROUTER_FIRST_MSI_GSI + 9, 0, 0, &err) != 0);
	CHECK_STR_CONTAINS(err.message, "not an MSI GSI");
	/* Freed GSIs come back first, without their old route. */
	irq_router_free_msi(&r, g[1]);
	irq_router_free_msi(&r, g[1]);
	irq_router_free_msi(&r, 3);
	CHECK(!irq_router_get_msi(&r, g[1], &a, &d));
	uint32_t again;
	CHECK(irq_router_alloc_msi(&r, &again, &err) == 0 && again == g[1]);
	CHECK(!irq_router_get_msi(&r, again, &a, &d));
	/* Up to the limit and no further. */
	unsigned n = 3;
	while (irq_router_alloc_msi(&r, &again, &err) == 0)
		n++;
	CHECK_EQ_U64(n, r.max_msi);
	CHECK(r.max_msi > 1000);
	irq_router_destroy(&r);
	irq_router_destroy(&r); /* idempotent */
	struct irq_router zero = { 0 };
	irq_router_destroy(&zero);
}

/* The same against the local /dev/kvm: routing commits, irqfds bound to
 * MSI GSIs, and notify ioeventfds that follow the BAR. */
static int kvm_vm(int *kvm_out)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -1;
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0) {
		fprintf(stderr, "KVM_CREATE_VM/IRQCHIP: %s\n", strerror(errno));
		if (vm >= 0)
			close(vm);
		close(kvm);
		return -2;
	}
	*kvm_out = kvm;
	return vm;
}

/* Whether KVM already has an ioeventfd with these parameters. */
static bool ioeventfd_taken(int vm, uint64_t addr, int len, int fd)
{
	struct kvm_ioeventfd io = { .addr = addr, .len = (uint32_t)len, .fd = fd };
	if (ioctl(vm, KVM_IOEVENTFD, &io) < 0)
		return errno == EEXIST;
	io.flags = KVM_IOEVENTFD_FLAG_DEASSIGN;
	ioctl(vm, KVM_IOEVENTFD, &io);
	return false;
}

static void test_kvm(void)
{
	int kvm;
	int vm = kvm_vm(&kvm);
	if (vm == -1) {
		printf("test_virtio_pci: /dev/kvm absent: skipping the KVM checks\n");
		return;
	}
	CHECK(vm >= 0);
	if (vm < 0)
		return;
	struct rig r;
	rig_init(&r, vm, false);
	walk_caps(&r);
	CHECK_EQ_U64(r.vm.irqs.commits, 1);

	/* Ioeventfds exist only while the BAR decodes. */
	int qfd = virtio_pci_queue_eventfd(r.vp, 1);
	CHECK(virtio_pci_ioeventfd_len(r.vp) == -1);
	enable_memory(&r, true);
	int len = virtio_pci_ioeventfd_len(r.vp);
	CHECK(len == 0 || len == 2);
	printf("test_virtio_pci: notify ioeventfds registered with len %d\n", len);
	uint64_t n1 = r.bar + r.notify + r.notify_mult;
	CHECK(ioeventfd_taken(vm, n1, len, qfd));
	/* Moved: gone from the old address, present at the new one. */
	enable_memory(&r, false);
	CHECK(virtio_pci_ioeventfd_len(r.vp) == -1);
	CHECK(!ioeventfd_taken(vm, n1, len, qfd));
	uint64_t moved = W64 + 0x40000000;
	cfg_w(&r, 0x10, 4, (uint32_t)moved);
	cfg_w(&r, 0x14, 4, moved >> 32);
	enable_memory(&r, true);
	CHECK(ioeventfd_taken(vm, moved + r.notify + r.notify_mult, len, qfd));
	CHECK(!ioeventfd_taken(vm, n1, len, qfd));
	/* Moved while decoding (a guest may): re-registered. */
	cfg_w(&r, 0x14, 4, 0);
	cfg_w(&r, 0x10, 4, (uint32_t)r.bar);
	CHECK(ioeventfd_taken(vm, n1, len, qfd));
	CHECK(!ioeventfd_taken(vm, moved + r.notify + r.notify_mult, len, qfd));

	/* MSI-X through KVM's routing table. */
	msix_control(&r, 0x8000);
	cc_w(&r, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	msix_entry(&r, 0, 0xfee00000, 0x4030, 0);
	CHECK_EQ_U64(r.vm.irqs.commits, 2);
	uint64_t a;
	uint32_t d;
	CHECK(irq_router_get_msi(&r.vm.irqs, GSI(0), &a, &d) && d == 0x4030);
	CHECK(r.fake.logs == 0);
	/* The irqfd is KVM's: binding its eventfd again is refused. */
	struct kvm_irqfd irqfd = { .fd = (uint32_t)virtio_pci_vector_eventfd(r.vp, 0),
				   .gsi = GSI(0) };
	CHECK(ioctl(vm, KVM_IRQFD, &irqfd) < 0 && errno == EBUSY);
	rig_destroy(&r);

	close(vm);
	close(kvm);
}

int main(void)
{
	test_header_and_caps();
	test_create_errors();
	test_bar();
	test_common_cfg();
	test_msix();
	test_notify();
	test_pci_cfg_window();
	test_garbage();
	test_irq_router_table();
	test_kvm();
	return check_report("test_virtio_pci");
}
