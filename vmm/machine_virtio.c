// SPDX-License-Identifier: Apache-2.0
/*
 * The machine's virtio devices: one device loop (io_uring thread) serves
 * them all, and each sits in its own PCI slot with its BAR in the 32-bit
 * MMIO window, placed here so the guest needs no firmware to assign it.
 */
#include <stdio.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "devices/virtio/virtio_blk.h"
#include "devices/virtio/virtio_gpu.h"
#include "devices/virtio/virtio_input.h"
#include "devices/virtio/virtio_net.h"
#include "devices/virtio/virtio_pci.h"
#include "common/io_loop.h"
#include "vmm/vm_internal.h"

/* Enough for every queue of every device to have requests in flight
 * without the loop having to submit early. */
#define IO_LOOP_ENTRIES 1024

/* Next free slot and BAR address; BARs are naturally aligned. */
static int place_function(struct machine *m, uint64_t bar_size, unsigned *slot,
			  uint64_t *bar, const char *name, struct phy_error *err)
{
	if (m->next_slot == 0)
		m->next_slot = 1; /* slot 0: the host bridge */
	if (m->next_bar == 0)
		m->next_bar = X86_PCI_MMIO32_GPA;
	uint64_t at = (m->next_bar + bar_size - 1) & ~(bar_size - 1);
	if (m->next_slot >= PCI_SLOTS ||
	    at + bar_size > X86_PCI_MMIO32_GPA + X86_PCI_MMIO32_SIZE)
		return phy_err(err, PHY_E_INVALID, "%s: no PCI slot left", name);
	*slot = m->next_slot++;
	*bar = at;
	m->next_bar = at + bar_size;
	return 0;
}

/* A driver broke the rules and the device needs a reset: the embedder
 * hears of it through its log hook and a DEVICE_ERROR event naming the
 * device. */
static void disk_failed(void *opaque, const char *msg)
{
	struct machine_disk *d = opaque;
	vm_device_error(d->vm, d->name, msg);
}

static int plug_pci(struct machine *m, struct virtio_dev *dev,
		    struct virtio_pci **pci, const char *name,
		    struct phy_error *err)
{
	unsigned slot = 0;
	uint64_t bar = 0;
	int ret = place_function(m, virtio_pci_bar_size(dev), &slot, &bar, name, err);
	if (ret)
		return ret;
	struct virtio_pci_env env = {
		.vm = &m->vmops.ops,
		.loop = m->io,
		.host = &m->pci,
	};
	return virtio_pci_create(pci, dev, &env, slot, bar, err);
}

static int add_disk(struct phy_vm *vm, unsigned i, struct phy_error *err)
{
	struct machine *m = &vm->m;
	struct machine_disk *d = &m->disks[i];
	d->vm = vm;
	snprintf(d->name, sizeof(d->name), "virtio-blk%u", i);
	const struct disk_config *c = &vm->cfg.disks[i];
	struct virtio_blk_params p = { c->num_queues, c->queue_size, c->id };
	int ret = virtio_blk_create(&d->blk, &vm->disks[i], &p, d->name,
				    &vm->mem, m->io, err);
	if (ret)
		return ret;
	m->nr_disks = i + 1;
	struct virtio_dev *dev = virtio_blk_dev(d->blk);
	dev->log = disk_failed;
	dev->log_opaque = d;
	return plug_pci(m, dev, &d->pci, d->name, err);
}

static void nic_failed(void *opaque, const char *msg)
{
	struct machine_nic *n = opaque;
	vm_device_error(n->vm, n->name, msg);
}

static int tap_offload(void *opaque, uint64_t guest_features)
{
	return tap_set_offload(opaque, guest_features);
}

static int tap_queues(void *opaque, unsigned pairs)
{
	return tap_set_queues(opaque, pairs);
}

static bool tap_link(void *opaque)
{
	return tap_poll_link(opaque);
}

static const struct net_backend_ops tap_backend_ops = {
	.set_offload = tap_offload,
	.set_queues = tap_queues,
	.poll_link = tap_link,
};

static int add_nic(struct phy_vm *vm, unsigned i, struct phy_error *err)
{
	struct machine *m = &vm->m;
	struct machine_nic *n = &m->nics[i];
	struct tap *t = &vm->taps[i];
	const struct net_config *cfg = &vm->cfg.nets[i];
	n->vm = vm;
	snprintf(n->name, sizeof(n->name), "virtio-net%u", i);
	struct net_backend be = {
		.nr_pairs = t->nr_fds,
		.offloads = t->offloads,
		.link_up = t->link_up,
		.link_fd = t->link_fd,
		.stats = t->stats,
		.ops = &tap_backend_ops,
		.opaque = t,
	};
	for (unsigned q = 0; q < t->nr_fds; q++)
		be.fds[q] = t->fds[q];
	int ret = virtio_net_create(&n->net, &be, cfg->mac, cfg->queue_size,
				    n->name, &vm->mem, m->io, err);
	if (ret)
		return ret;
	m->nr_nics = i + 1;
	struct virtio_dev *dev = virtio_net_dev(n->net);
	dev->log = nic_failed;
	dev->log_opaque = n;
	return plug_pci(m, dev, &n->pci, n->name, err);
}

static void gpu_failed(void *opaque, const char *msg)
{
	vm_device_error(opaque, "virtio-gpu0", msg);
}

static int add_gpu(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	const struct gpu_config *g = &vm->cfg.gpu;
	struct virtio_gpu_params p = {
		.mode = g->mode == GPU_VIRGL ? VIRTIO_GPU_MODE_VIRGL : VIRTIO_GPU_MODE_2D,
		.width = g->width,
		.height = g->height,
		.outputs = g->outputs,
		.max_host_mem = g->max_host_mem,
	};
	struct virtio_gpu *gpu;
	int ret = virtio_gpu_create(&gpu, &p, "virtio-gpu0", &vm->mem, err);
	if (ret)
		return ret;
	pthread_mutex_lock(&vm->gpu_lock);
	m->gpu = gpu;
	pthread_mutex_unlock(&vm->gpu_lock);
	/* No EGL or no virglrenderer: the guest still gets a display. Said
	 * once, not on every reboot. */
	const char *why = virtio_gpu_fallback_reason(gpu);
	if (why && vm->reboots == 0) {
		char msg[PHY_ERROR_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "--gpu: mode=virgl is not available, running mode=2d: %s", why);
		vm_log(vm, msg);
	}
	struct virtio_dev *dev = virtio_gpu_dev(gpu);
	dev->log = gpu_failed;
	dev->log_opaque = vm;
	return plug_pci(m, dev, &m->gpu_pci, "virtio-gpu0", err);
}

static void input_failed(void *opaque, const char *msg)
{
	vm_device_error(opaque, "virtio-input", msg);
}

/* The window's keyboard and tablet (--display sdl). */
static int add_input(struct phy_vm *vm, enum virtio_input_kind kind,
		     const char *name, struct virtio_input **in,
		     struct virtio_pci **pci, struct phy_error *err)
{
	int ret = virtio_input_create(in, kind, name, NULL, &vm->mem, vm->m.io, err);
	if (ret)
		return ret;
	struct virtio_dev *dev = virtio_input_dev(*in);
	dev->log = input_failed;
	dev->log_opaque = vm;
	return plug_pci(&vm->m, dev, pci, name, err);
}

int machine_add_virtio(struct phy_vm *vm, struct phy_error *err)
{
	struct machine *m = &vm->m;
	if (vm->cfg.nr_disks == 0 && vm->cfg.nr_nets == 0 &&
	    vm->cfg.gpu.mode == GPU_NONE)
		return 0;
	int ret = io_loop_create(&m->io, IO_LOOP_ENTRIES, err);
	for (unsigned i = 0; !ret && i < vm->cfg.nr_disks; i++)
		ret = add_disk(vm, i, err);
	for (unsigned i = 0; !ret && i < vm->cfg.nr_nets; i++)
		ret = add_nic(vm, i, err);
	if (!ret && vm->cfg.gpu.mode != GPU_NONE)
		ret = add_gpu(vm, err);
	if (!ret && vm->cfg.display == DISPLAY_SDL)
		ret = add_input(vm, VIRTIO_INPUT_KEYBOARD, "virtio-keyboard",
				&m->keyboard, &m->keyboard_pci, err);
	if (!ret && vm->cfg.display == DISPLAY_SDL)
		ret = add_input(vm, VIRTIO_INPUT_TABLET, "virtio-tablet",
				&m->tablet, &m->tablet_pci, err);
	if (!ret)
		ret = io_loop_start(m->io, err);
	if (!ret)
		vm_display_attach(vm, true);
	return ret;
}

void machine_remove_virtio(struct phy_vm *vm)
{
	struct machine *m = &vm->m;
	/* The window lets go of the devices before they go. */
	vm_display_attach(vm, false);
	/* In-flight requests point into guest memory: the loop waits for
	 * them as it stops, before any device goes away. */
	if (m->io)
		io_loop_stop(m->io);
	for (unsigned i = 0; i < m->nr_disks; i++) {
		if (m->disks[i].pci)
			virtio_pci_destroy(m->disks[i].pci);
		if (m->disks[i].blk)
			virtio_blk_destroy(m->disks[i].blk);
		m->disks[i] = (struct machine_disk){ 0 };
	}
	m->nr_disks = 0;
	for (unsigned i = 0; i < m->nr_nics; i++) {
		if (m->nics[i].pci)
			virtio_pci_destroy(m->nics[i].pci);
		if (m->nics[i].net)
			virtio_net_destroy(m->nics[i].net);
		m->nics[i] = (struct machine_nic){ 0 };
	}
	m->nr_nics = 0;
	struct virtio_pci **pcis[] = { &m->gpu_pci, &m->keyboard_pci, &m->tablet_pci };
	for (unsigned i = 0; i < 3; i++) {
		if (*pcis[i])
			virtio_pci_destroy(*pcis[i]);
		*pcis[i] = NULL;
	}
	virtio_input_destroy(m->keyboard);
	virtio_input_destroy(m->tablet);
	m->keyboard = m->tablet = NULL;
	pthread_mutex_lock(&vm->gpu_lock);
	vm_gpu_stats_keep(vm);
	virtio_gpu_destroy(m->gpu);
	m->gpu = NULL;
	pthread_mutex_unlock(&vm->gpu_lock);
	io_loop_destroy(m->io);
	m->io = NULL;
}
