/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API's endpoints, Cloud Hypervisor's paths and bodies for the
 * subset we implement. The routes reach the VM through a table of calls
 * (struct api_backend), so the unit tests and the fuzzer run them on a
 * fake VM; vm_api.c serves them with the public API's functions.
 */
#ifndef PHY_API_ROUTES_H
#define PHY_API_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include <phyllome/vmm.h>

#include "api/http.h"
#include "api/json.h"

#define API_PATH_PREFIX "/api/v1/"
#define API_MAX_REPLY (1024 * 1024)

struct api_backend_ops {
	enum phy_vm_state (*state)(void *ctx);
	int (*pause)(void *ctx, struct phy_error *err);
	int (*resume)(void *ctx, struct phy_error *err);
	int (*power_button)(void *ctx, struct phy_error *err);
	int (*reboot)(void *ctx, struct phy_error *err);
	/* vm.shutdown: stops the VM and keeps its configuration. */
	int (*shutdown)(void *ctx, struct phy_error *err);
	/* vmm.shutdown: ends the VMM; returns at once. */
	int (*vmm_shutdown)(void *ctx, struct phy_error *err);
	/* vm.create with a VmConfig body, vm.boot, vm.delete. */
	int (*create)(void *ctx, const char *body, size_t len,
		      struct phy_error *err);
	int (*boot)(void *ctx, struct phy_error *err);
	int (*delete)(void *ctx, struct phy_error *err);
	/* vm.add-disk, vm.add-net: a DiskConfig or NetConfig body; fds came
	 * with the request (SCM_RIGHTS) and stay the caller's. */
	int (*add_disk)(void *ctx, const char *body, size_t len,
			struct phy_error *err);
	int (*add_net)(void *ctx, const char *body, size_t len, const int *fds,
		       unsigned nr_fds, struct phy_error *err);
	int (*disk_stats)(void *ctx, unsigned index, struct phy_disk_stats *out,
			  struct phy_error *err);
	int (*net_stats)(void *ctx, unsigned index, struct phy_net_stats *out,
			 struct phy_error *err);
	int (*gpu_stats)(void *ctx, struct phy_gpu_stats *out,
			 struct phy_error *err);
	/* The balloon (desc.balloon): counters, and vm.resize's target. */
	int (*balloon_stats)(void *ctx, struct phy_balloon_stats *out,
			     struct phy_error *err);
	int (*resize_balloon)(void *ctx, uint64_t bytes, struct phy_error *err);
	int (*vsock_stats)(void *ctx, struct phy_vsock_stats *out,
			   struct phy_error *err);
	int (*fs_stats)(void *ctx, unsigned index, struct phy_fs_stats *out,
			struct phy_error *err);
	/* Writes scanout `scanout` as a PNG at `path` (absolute). */
	int (*screenshot)(void *ctx, unsigned scanout, const char *path,
			  struct phy_error *err);
};

/* What does not change while the VM's configuration lives; the backend
 * changes it only from its own calls, on the server's thread. */
struct api_vm_desc {
	const char *config_json;     /* VmConfig, a JSON object; NULL: no VM
				      * is created */
	uint64_t memory_size;        /* memory_actual_size */
	unsigned nr_disks;
	const char *const *disk_ids; /* vm.counters keys, one per disk */
	unsigned nr_nets;
	const char *const *net_ids;  /* vm.counters keys, one per NIC */
	unsigned gpu_outputs;        /* the GPU's scanouts; 0: no GPU */
	bool balloon;                /* --balloon: vm.resize, "__balloon" */
	const char *vsock_id;        /* --vsock's vm.counters key; NULL: none */
	unsigned nr_fs;
	const char *const *fs_ids;   /* vm.counters keys, one per --fs */
	const char *version;
};

struct api_backend {
	const struct api_backend_ops *ops;
	void *ctx;
	struct api_vm_desc desc;
};

struct api_reply {
	int status;
	const char *allow;    /* the Allow header of a 405 for a wrong method */
	struct json_buf body; /* empty for 204 */
};

void api_reply_init(struct api_reply *r);
void api_reply_free(struct api_reply *r);
/* Status and {"error": message}. */
void api_reply_error(struct api_reply *r, int status, const char *message);

/* Answers one parsed request. Runs on the server thread; only the
 * backend's calls touch the VM. */
void api_route(const struct api_backend *b, const struct http_request *req,
	       struct api_reply *reply);

/* PUT vm.screenshot (api_screenshot.c): the request's body says where. */
void api_vm_screenshot(const struct api_backend *b,
		       const struct http_request *req, struct api_reply *r);

/* Cloud Hypervisor's name of a VM state: "Created", "Running", ... */
const char *api_state_name(enum phy_vm_state s);

#endif
