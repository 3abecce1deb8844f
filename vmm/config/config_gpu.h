/* SPDX-License-Identifier: Apache-2.0 */
/* --gpu mode=virgl|2d[,width=W,height=H][,outputs=N][,max_hostmem=SIZE]:
 * virtio-gpu, our own option (Cloud Hypervisor has no GPU) in its
 * key=value style. */
#ifndef PHY_VMM_CONFIG_CONFIG_GPU_H
#define PHY_VMM_CONFIG_CONFIG_GPU_H

#include <stdint.h>

#include "vmm/config/option.h"

#define CONFIG_GPU_MAX_OUTPUTS 16
#define CONFIG_GPU_MIN_DISPLAY 16
#define CONFIG_GPU_MAX_DISPLAY 4095 /* an EDID detailed timing: 12 bits */
#define CONFIG_GPU_DEFAULT_HOST_MEM (256ULL << 20)

enum gpu_mode {
	GPU_NONE,
	GPU_2D,
	GPU_VIRGL,
};

struct gpu_config {
	enum gpu_mode mode;
	unsigned width, height; /* preferred display mode */
	unsigned outputs;       /* scanouts, 1..CONFIG_GPU_MAX_OUTPUTS */
	uint64_t max_host_mem;  /* bytes the guest's resources may take */
};

extern const struct device_option gpu_option;

/* The VM's GPU, or NULL without --gpu. */
static inline const struct gpu_config *config_gpu(const struct phy_config *cfg)
{
	return config_item(cfg, &gpu_option, 0);
}

#endif
