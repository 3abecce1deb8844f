// SPDX-License-Identifier: Apache-2.0
/*
 * Screenshots of the GPU's scanouts: on demand from any thread
 * (phy_vm_screenshot(), the control API) and once when the VM stops
 * (--screenshot-on-exit). The GPU thread reads the scanout; vm->gpu_lock
 * keeps a reboot from freeing the device meanwhile.
 */
#include <stdio.h>

#include "common/error.h"
#include "devices/virtio/virtio_gpu.h"
#include "vmm/vm_internal.h"

int phy_vm_screenshot(struct phy_vm *vm, unsigned scanout, const char *path,
		      struct phy_error *err)
{
	if (!vm || !path || !*path)
		return phy_err(err, PHY_E_INVALID, "phy_vm_screenshot: NULL argument");
	if (vm->cfg.gpu.mode == GPU_NONE)
		return phy_err(err, PHY_E_INVALID, "phy_vm_screenshot: the VM has no GPU (--gpu)");
	pthread_mutex_lock(&vm->gpu_lock);
	int ret = vm->m.gpu ? virtio_gpu_screenshot(vm->m.gpu, scanout, path, err)
			    : phy_err(err, PHY_E_STATE,
				      "phy_vm_screenshot: the VM is rebooting or gone");
	pthread_mutex_unlock(&vm->gpu_lock);
	return ret;
}

void vm_screenshot_on_exit(struct phy_vm *vm)
{
	const char *path = vm->cfg.screenshot_on_exit;
	if (!path)
		return;
	struct phy_error err = { 0 };
	if (phy_vm_screenshot(vm, 0, path, &err)) {
		char msg[PHY_ERROR_MESSAGE_MAX + 64];
		snprintf(msg, sizeof(msg), "--screenshot-on-exit: %s", err.message);
		vm_log(vm, msg);
	}
}
