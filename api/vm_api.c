/* SPDX-License-Identifier: Apache-2.0 */
#include "api/vm_api.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/error.h"
#include "api/api_routes.h"
#include "api/api_server.h"
#include "api/event_monitor.h"
#include "api/json.h"
#include "api/vm_config_json.h"
#include "vmm/config/config_disk.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_net.h"

#define CONFIG_JSON_MAX (256 * 1024)

struct vm_api {
	struct phy_vm *vm;
	struct api_server *server;
	struct event_monitor *monitor;
	struct api_backend backend;
	struct json_buf config_json;
	char disk_ids[CONFIG_MAX_DISKS][CONFIG_DISK_ID_LEN + 16];
	const char *disk_id_ptrs[CONFIG_MAX_DISKS];
	char net_ids[CONFIG_MAX_NETS][CONFIG_NET_ID_LEN + 16];
	const char *net_id_ptrs[CONFIG_MAX_NETS];
};

/* ---- the backend: the public API on this VM ---- */

static enum phy_vm_state be_state(void *vm)
{
	return phy_vm_state(vm);
}

static int be_pause(void *vm, struct phy_error *err)
{
	return phy_vm_pause(vm, err);
}

static int be_resume(void *vm, struct phy_error *err)
{
	return phy_vm_resume(vm, err);
}

static int be_power_button(void *vm, struct phy_error *err)
{
	return phy_vm_power_button(vm, err);
}

static int be_reboot(void *vm, struct phy_error *err)
{
	return phy_vm_reboot(vm, err);
}

static int be_shutdown(void *vm, struct phy_error *err)
{
	int ret = phy_vm_stop(vm);
	if (ret)
		return phy_err(err, -ret, "the VM cannot be stopped");
	return 0;
}

static int be_disk_stats(void *vm, unsigned i, struct phy_disk_stats *out,
			 struct phy_error *err)
{
	return phy_vm_disk_stats(vm, i, out, err);
}

static int be_net_stats(void *vm, unsigned i, struct phy_net_stats *out,
			struct phy_error *err)
{
	return phy_vm_net_stats(vm, i, out, err);
}

static int be_gpu_stats(void *vm, struct phy_gpu_stats *out,
			struct phy_error *err)
{
	return phy_vm_gpu_stats(vm, out, err);
}

static int be_screenshot(void *vm, unsigned scanout, const char *path,
			 struct phy_error *err)
{
	return phy_vm_screenshot(vm, scanout, path, err);
}

static const struct api_backend_ops vm_ops = {
	.state = be_state,
	.pause = be_pause,
	.resume = be_resume,
	.power_button = be_power_button,
	.reboot = be_reboot,
	.shutdown = be_shutdown,
	.disk_stats = be_disk_stats,
	.net_stats = be_net_stats,
	.gpu_stats = be_gpu_stats,
	.screenshot = be_screenshot,
};

static int describe(struct vm_api *api, const struct phy_config *cfg,
		    struct phy_error *err)
{
	json_buf_init(&api->config_json, CONFIG_JSON_MAX);
	vm_config_json(&api->config_json, cfg);
	if (api->config_json.failed)
		return phy_err(err, PHY_E_NOMEM, "--api-socket: out of memory");
	unsigned nr_disks = config_count(cfg, &disk_option);
	unsigned nr_nets = config_count(cfg, &net_option);
	const struct gpu_config *gpu = config_gpu(cfg);
	for (unsigned i = 0; i < nr_disks; i++) {
		vm_disk_id(cfg, i, api->disk_ids[i], sizeof(api->disk_ids[i]));
		api->disk_id_ptrs[i] = api->disk_ids[i];
	}
	for (unsigned i = 0; i < nr_nets; i++) {
		vm_net_id(cfg, i, api->net_ids[i], sizeof(api->net_ids[i]));
		api->net_id_ptrs[i] = api->net_ids[i];
	}
	api->backend = (struct api_backend){
		.ops = &vm_ops,
		.ctx = api->vm,
		.desc = {
			.config_json = api->config_json.data,
			.memory_size = cfg->memory,
			.nr_disks = nr_disks,
			.disk_ids = api->disk_id_ptrs,
			.nr_nets = nr_nets,
			.net_ids = api->net_id_ptrs,
			.gpu_outputs = gpu ? gpu->outputs : 0,
			.version = phy_version(),
		},
	};
	return 0;
}

static void vm_api_free(void *state);
static void vm_api_event(void *state, const struct phy_event *ev);

static int vm_api_open(struct phy_vm *vm, const struct phy_config *cfg,
		       void **out, struct phy_error *err)
{
	bool api = cfg->api_socket || cfg->api_socket_fd >= 0;
	bool events = cfg->event_monitor || cfg->event_monitor_fd >= 0;
	if (!api && !events)
		return 0;
	struct vm_api *a = calloc(1, sizeof(*a));
	if (!a)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	a->vm = vm;
	int ret = api ? describe(a, cfg, err) : 0;
	if (!ret && cfg->api_socket)
		ret = api_server_start(cfg->api_socket, &a->backend, NULL,
				       &a->server, err);
	else if (!ret && api)
		ret = api_server_start_fd(cfg->api_socket_fd, &a->backend, NULL,
					  &a->server, err);
	/* The monitor last: a VM that is never created writes no events. */
	if (!ret && cfg->event_monitor)
		ret = event_monitor_open(cfg->event_monitor, &a->monitor, err);
	else if (!ret && events)
		ret = event_monitor_open_fd(cfg->event_monitor_fd, &a->monitor,
					    err);
	if (!ret && a->monitor && vm_add_listener(vm, vm_api_event, a))
		ret = phy_err(err, PHY_E_INTERNAL, "--event-monitor: no listener left");
	if (ret) {
		vm_api_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

static void vm_api_event(void *state, const struct phy_event *ev)
{
	struct vm_api *api = state;
	event_monitor_event(api->monitor, ev);
}

static void vm_api_stop(void *state)
{
	struct vm_api *api = state;
	api_server_stop(api->server);
	api->server = NULL;
}

static void vm_api_free(void *state)
{
	struct vm_api *api = state;
	api_server_stop(api->server);
	event_monitor_close(api->monitor);
	json_buf_free(&api->config_json);
	free(api);
}

const struct vm_frontend api_frontend = {
	.name = "api",
	.open = vm_api_open,
	.stop = vm_api_stop,
	.close = vm_api_free,
};
