// SPDX-License-Identifier: Apache-2.0
/*
 * The GPU's counters for embedders and vm.counters. A reboot rebuilds the
 * machine and with it the GPU device, so what a device counted is added
 * to the VM's own total before the device goes (vm_gpu_stats_keep), and
 * a reading is that total plus the live device's counts.
 */
#include "common/error.h"
#include "vmm/vm_internal.h"

static void add(struct virtio_gpu_stats *into,
		const struct virtio_gpu_stats *from)
{
	into->submits += from->submits;
	latency_hist_merge(&into->fence_latency, &from->fence_latency);
}

void vm_gpu_stats_keep(struct phy_vm *vm)
{
	struct virtio_gpu_stats s;
	if (!vm->m.gpu)
		return;
	virtio_gpu_stats(vm->m.gpu, &s);
	add(&vm->gpu_stats_before, &s);
}

int phy_vm_gpu_stats(struct phy_vm *vm, struct phy_gpu_stats *out,
		     struct phy_error *err)
{
	if (!vm || !out)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_gpu_stats: NULL argument");
	if (vm->cfg.gpu.mode == GPU_NONE)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_gpu_stats: the VM has no GPU (--gpu)");
	struct virtio_gpu_stats s;
	pthread_mutex_lock(&vm->gpu_lock);
	s = vm->gpu_stats_before;
	if (vm->m.gpu) {
		struct virtio_gpu_stats now;
		virtio_gpu_stats(vm->m.gpu, &now);
		add(&s, &now);
	}
	pthread_mutex_unlock(&vm->gpu_lock);
	const struct latency_hist *h = &s.fence_latency;
	*out = (struct phy_gpu_stats){
		.submits = s.submits,
		.fences = h->count,
		.fence_latency_sum_ns = h->sum_ns,
		.fence_latency_max_ns = h->max_ns,
		.fence_latency_p50_ns = latency_hist_quantile(h, 0.50),
		.fence_latency_p90_ns = latency_hist_quantile(h, 0.90),
		.fence_latency_p99_ns = latency_hist_quantile(h, 0.99),
	};
	return 0;
}
