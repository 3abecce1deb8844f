// SPDX-License-Identifier: Apache-2.0
/*
 * --gpu mode=virgl|2d[,width=W,height=H][,outputs=N][,max_hostmem=SIZE]
 * --display none|sdl
 * Our own options (Cloud Hypervisor has no GPU), in its key=value style.
 */
#include <limits.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config_parse.h"

static int gpu_kv(void *target, const char *opt, const char *key,
		  const char *val, struct phy_error *err)
{
	struct gpu_config *g = target;
	unsigned long v;

	if (!strcmp(key, "mode")) {
		if (!strcmp(val, "virgl"))
			g->mode = GPU_VIRGL;
		else if (!strcmp(val, "2d"))
			g->mode = GPU_2D;
		else
			return phy_err(err, PHY_E_INVALID,
				       "--gpu: mode=%s is not virgl or 2d", val);
		return 0;
	}
	if (!strcmp(key, "width") || !strcmp(key, "height")) {
		if (parse_uint(val, ULONG_MAX, &v) || v < CONFIG_GPU_MIN_DISPLAY ||
		    v > CONFIG_GPU_MAX_DISPLAY)
			return phy_err(err, PHY_E_INVALID,
				       "--gpu: %s=%s is not a number of pixels from %d to %d",
				       key, val, CONFIG_GPU_MIN_DISPLAY,
				       CONFIG_GPU_MAX_DISPLAY);
		*(key[0] == 'w' ? &g->width : &g->height) = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "outputs")) {
		if (parse_uint(val, ULONG_MAX, &v) || v < 1 || v > CONFIG_GPU_MAX_OUTPUTS)
			return phy_err(err, PHY_E_INVALID,
				       "--gpu: outputs=%s is not a number from 1 to %d",
				       val, CONFIG_GPU_MAX_OUTPUTS);
		g->outputs = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "max_hostmem")) {
		uint64_t size;
		if (config_parse_size(val, &size) || size < (16ULL << 20))
			return phy_err(err, PHY_E_INVALID,
				       "--gpu: max_hostmem=%s is not a size of 16M or more", val);
		g->max_host_mem = size;
		return 0;
	}
	return phy_err(err, PHY_E_INVALID,
		       "--%s: unknown key '%s' (known: mode, width, height, outputs, max_hostmem)",
		       opt, key);
}

int config_set_gpu(struct phy_config *cfg, const char *value,
		   struct phy_error *err)
{
	if (cfg->gpu.mode != GPU_NONE)
		return phy_err(err, PHY_E_INVALID, "--gpu: given twice (one GPU per VM)");
	struct gpu_config g = {
		.width = 1024,
		.height = 768,
		.outputs = 1,
		.max_host_mem = CONFIG_GPU_DEFAULT_HOST_MEM,
	};
	int ret = parse_kv_list(&g, "gpu", value, gpu_kv, err);
	if (ret)
		return ret;
	if (g.mode == GPU_NONE)
		return phy_err(err, PHY_E_INVALID, "--gpu: mode=virgl or mode=2d is required");
	cfg->gpu = g;
	return 0;
}

int config_set_display(struct phy_config *cfg, const char *value,
		       struct phy_error *err)
{
	if (!strcmp(value, "none"))
		cfg->display = DISPLAY_NONE;
	else if (!strcmp(value, "sdl"))
		cfg->display = DISPLAY_SDL;
	else
		return phy_err(err, PHY_E_INVALID, "--display: '%s' is not none or sdl", value);
	return 0;
}

int config_validate_gpu(const struct phy_config *cfg, struct phy_error *err)
{
	if (cfg->display != DISPLAY_NONE && cfg->gpu.mode == GPU_NONE)
		return phy_err(err, PHY_E_INVALID, "--display: needs --gpu");
	if (cfg->screenshot_on_exit && cfg->gpu.mode == GPU_NONE)
		return phy_err(err, PHY_E_INVALID, "--screenshot-on-exit: needs --gpu");
	return 0;
}
