// SPDX-License-Identifier: Apache-2.0
#include "vmm/config/config_gpu.h"

#include <limits.h>
#include <string.h>

#include "common/error.h"
#include "vmm/config/parse.h"

static int gpu_kv(void *target, const char *opt, const char *key,
		  const char *val, struct phy_error *err)
{
	struct gpu_config *g = target;
	unsigned long v;

	if (!strcmp(key, "mode")) {
		if (!strcmp(val, "virgl") && !PHY_HAVE_VIRGL)
			return phy_err(err, PHY_E_INVALID,
				       "--gpu: mode=virgl is not in this build (cmake -DPHYLLOME_VIRGL=OFF)");
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

static int gpu_parse(void *conf, const char *value, unsigned index,
		     struct phy_error *err)
{
	struct gpu_config *g = conf;
	*g = (struct gpu_config){
		.width = 1024,
		.height = 768,
		.outputs = 1,
		.max_host_mem = CONFIG_GPU_DEFAULT_HOST_MEM,
	};
	int ret = parse_kv_list(g, "gpu", value, gpu_kv, err);
	if (!ret && g->mode == GPU_NONE)
		ret = phy_err(err, PHY_E_INVALID, "--gpu: mode=virgl or mode=2d is required");
	return ret;
}

static int gpu_validate(const struct phy_config *cfg, struct phy_error *err)
{
	if (cfg->display != DISPLAY_NONE && !config_gpu(cfg))
		return phy_err(err, PHY_E_INVALID, "--display: needs --gpu");
	if (cfg->screenshot_on_exit && !config_gpu(cfg))
		return phy_err(err, PHY_E_INVALID, "--screenshot-on-exit: needs --gpu");
	return 0;
}

const struct device_option gpu_option = {
	.name = "gpu",
	.noun = "GPU",
	.nouns = "GPUs",
	.max = 1,
	.conf_size = sizeof(struct gpu_config),
	.parse = gpu_parse,
	.validate = gpu_validate,
};
