/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Status codes: Cloud Hypervisor's OpenAPI document answers 204 for a done
 * action and 405 when the VM's state forbids it ("could not pause because
 * it is not booted"); we do the same for PHY_E_STATE and answer 500 for
 * any other failure. A method the endpoint does not take is also 405, with
 * an Allow header (Cloud Hypervisor itself answers 400 there). Error bodies
 * are {"error": "one line"}.
 */
#define _GNU_SOURCE
#include "api/api_routes.h"
#include "api/json_read.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void api_reply_init(struct api_reply *r)
{
	r->status = 500;
	r->allow = NULL;
	json_buf_init(&r->body, API_MAX_REPLY);
}

void api_reply_free(struct api_reply *r)
{
	json_buf_free(&r->body);
}

void api_reply_error(struct api_reply *r, int status, const char *message)
{
	r->status = status;
	json_buf_reset(&r->body);
	json_lit(&r->body, "{\"error\":");
	json_str(&r->body, message);
	json_lit(&r->body, "}");
}

const char *api_state_name(enum phy_vm_state s)
{
	switch (s) {
	case PHY_VM_CREATED: return "Created";
	case PHY_VM_RUNNING: return "Running";
	case PHY_VM_PAUSED: return "Paused";
	case PHY_VM_STOPPED: return "Shutdown";
	}
	return "Shutdown";
}

static void vmm_ping(const struct api_backend *b, struct api_reply *r)
{
	struct json_buf *j = &r->body;
	json_lit(j, "{\"build_version\":");
	json_str(j, b->desc.version);
	json_lit(j, ",\"version\":");
	json_str(j, b->desc.version);
	json_printf(j, ",\"pid\":%ld,\"features\":[\"kvm\",\"io_uring\"]}",
		    (long)getpid());
	r->status = 200;
}

/* The status for a failed call: a bad body 400, the wrong state 405
 * (Cloud Hypervisor's "could not ... because it is not booted"), no VM
 * created at all 404, anything else 500. */
static int error_status(const struct api_backend *b, int ret)
{
	if (ret == -PHY_E_INVALID)
		return 400;
	if (ret == -PHY_E_STATE)
		return b->desc.config_json ? 405 : 404;
	return 500;
}

/* What the guest's balloon holds now, 0 without one (or a VM). */
static uint64_t balloon_actual(const struct api_backend *b)
{
	struct phy_balloon_stats s;
	struct phy_error err = { 0 };
	if (!b->desc.balloon || !b->ops->balloon_stats ||
	    b->ops->balloon_stats(b->ctx, &s, &err) || s.actual_bytes > b->desc.memory_size)
		return 0;
	return s.actual_bytes;
}

static void vm_info(const struct api_backend *b, struct api_reply *r)
{
	struct json_buf *j = &r->body;
	if (!b->desc.config_json) {
		api_reply_error(r, 404, "vm.info: the VM is not created");
		return;
	}
	json_lit(j, "{\"config\":");
	json_lit(j, b->desc.config_json);
	json_lit(j, ",\"state\":");
	json_str(j, api_state_name(b->ops->state(b->ctx)));
	json_lit(j, ",\"memory_actual_size\":");
	json_u64(j, b->desc.memory_size - balloon_actual(b));
	json_lit(j, "}");
	r->status = 200;
}

/* Cloud Hypervisor's block counter names first, then ours. */
static void disk_counters(struct json_buf *j, const struct phy_disk_stats *s)
{
	json_printf(j, "{\"read_bytes\":%llu,\"write_bytes\":%llu,"
		    "\"read_ops\":%llu,\"write_ops\":%llu,",
		    (unsigned long long)s->bytes_read,
		    (unsigned long long)s->bytes_written,
		    (unsigned long long)s->read_requests,
		    (unsigned long long)s->write_requests);
	json_printf(j, "\"flush_ops\":%llu,\"discard_ops\":%llu,"
		    "\"write_zeroes_ops\":%llu,\"get_id_ops\":%llu,"
		    "\"unsupported_ops\":%llu,\"errors\":%llu}",
		    (unsigned long long)s->flush_requests,
		    (unsigned long long)s->discard_requests,
		    (unsigned long long)s->write_zeroes_requests,
		    (unsigned long long)s->get_id_requests,
		    (unsigned long long)s->unsupported_requests,
		    (unsigned long long)s->errors);
}

#define U(x) ((unsigned long long)(x))

/* Cloud Hypervisor's net counter names first, then ours: drops, the
 * link, and each queue pair's share. */
static void net_counters(struct json_buf *j, const struct phy_net_stats *s)
{
	const struct phy_net_queue_stats *t = &s->total;
	json_printf(j, "{\"rx_bytes\":%llu,\"rx_frames\":%llu,"
		    "\"tx_bytes\":%llu,\"tx_frames\":%llu,"
		    "\"rx_drops\":%llu,\"tx_drops\":%llu,"
		    "\"link_up\":%d,\"active_queue_pairs\":%u",
		    U(t->rx_bytes), U(t->rx_packets), U(t->tx_bytes),
		    U(t->tx_packets), U(t->rx_drops), U(t->tx_drops),
		    s->link_up, s->active_pairs);
	for (unsigned q = 0; q < s->queue_pairs && q < PHY_NET_MAX_QUEUE_PAIRS; q++) {
		const struct phy_net_queue_stats *p = &s->queues[q];
		json_printf(j, ",\"q%u_rx_frames\":%llu,\"q%u_tx_frames\":%llu,"
			    "\"q%u_rx_drops\":%llu,\"q%u_tx_drops\":%llu",
			    q, U(p->rx_packets), q, U(p->tx_packets),
			    q, U(p->rx_drops), q, U(p->tx_drops));
	}
	json_lit(j, "}");
}

static void us(struct json_buf *j, const char *key, uint64_t ns)
{
	json_printf(j, ",\"%s\":%llu.%03llu", key, U(ns / 1000), U(ns % 1000));
}

/* Ours alone: Cloud Hypervisor has no GPU. Latencies in microseconds. */
static void gpu_counters(struct json_buf *j, const struct phy_gpu_stats *s)
{
	json_printf(j, "{\"submits\":%llu,\"fences\":%llu", U(s->submits),
		    U(s->fences));
	us(j, "fence_latency_avg_us",
	   s->fences ? s->fence_latency_sum_ns / s->fences : 0);
	us(j, "fence_latency_p50_us", s->fence_latency_p50_ns);
	us(j, "fence_latency_p90_us", s->fence_latency_p90_ns);
	us(j, "fence_latency_p99_us", s->fence_latency_p99_ns);
	us(j, "fence_latency_max_us", s->fence_latency_max_ns);
	json_lit(j, "}");
}

/* Cloud Hypervisor's balloon counter names, then ours and the guest's
 * own numbers (those it reported). */
static void balloon_counters(struct json_buf *j, const struct phy_balloon_stats *s)
{
	static const char *const guest[] = {
		"swap_in", "swap_out", "major_faults", "minor_faults",
		"free_memory", "total_memory", "available_memory", "disk_caches",
		"hugetlb_allocations", "hugetlb_failures",
	};
	json_printf(j, "{\"target_bytes\":%llu,\"actual_bytes\":%llu,"
		    "\"inflated_pages\":%llu,\"deflated_pages\":%llu,\"reported_bytes\":%llu",
		    U(s->target_bytes), U(s->actual_bytes), U(s->inflated_pages),
		    U(s->deflated_pages), U(s->reported_bytes));
	for (unsigned t = 0; t < sizeof(guest) / sizeof(guest[0]); t++) {
		if (s->guest_stats_valid & (1u << t))
			json_printf(j, ",\"%s\":%llu", guest[t], U(s->guest_stats[t]));
	}
	json_lit(j, "}");
}

static void vsock_counters(struct json_buf *j, const struct phy_vsock_stats *s)
{
	json_printf(j, "{\"host_connects\":%llu,\"guest_connects\":%llu,"
		    "\"connections\":%llu,\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
		    "\"resets\":%llu,\"bad_packets\":%llu",
		    U(s->host_connects), U(s->guest_connects), U(s->conns),
		    U(s->rx_bytes), U(s->tx_bytes), U(s->resets), U(s->bad_packets));
	json_lit(j, "}");
}

/* The virtio-fs devices' counters, after whatever came before them. */
static int fs_counters(const struct api_backend *b, struct api_reply *r)
{
	struct json_buf *j = &r->body;
	for (unsigned i = 0; i < b->desc.nr_fs; i++) {
		struct phy_fs_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->fs_stats(b->ctx, i, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return ret;
		}
		if (j->len > 1)
			json_lit(j, ",");
		json_str(j, b->desc.fs_ids[i]);
		json_printf(j, ":{\"kicks\":%llu,\"calls\":%llu,\"reconnects\":%llu,"
			    "\"failures\":%llu}", U(s.kicks), U(s.calls),
			    U(s.reconnects), U(s.failures));
	}
	return 0;
}

static void vm_counters(const struct api_backend *b, struct api_reply *r)
{
	struct json_buf *j = &r->body;
	enum phy_vm_state st = b->ops->state(b->ctx);
	if (!b->desc.config_json || st == PHY_VM_CREATED) {
		api_reply_error(r, b->desc.config_json ? 405 : 404,
				b->desc.config_json ? "vm.counters: the VM is not booted"
						    : "vm.counters: the VM is not created");
		return;
	}
	json_lit(j, "{");
	for (unsigned i = 0; i < b->desc.nr_disks; i++) {
		struct phy_disk_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->disk_stats(b->ctx, i, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return;
		}
		if (i)
			json_lit(j, ",");
		json_str(j, b->desc.disk_ids[i]);
		json_lit(j, ":");
		disk_counters(j, &s);
	}
	for (unsigned i = 0; i < b->desc.nr_nets; i++) {
		struct phy_net_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->net_stats(b->ctx, i, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return;
		}
		if (i || b->desc.nr_disks)
			json_lit(j, ",");
		json_str(j, b->desc.net_ids[i]);
		json_lit(j, ":");
		net_counters(j, &s);
	}
	if (b->desc.gpu_outputs) {
		struct phy_gpu_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->gpu_stats(b->ctx, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return;
		}
		json_lit(j, b->desc.nr_disks + b->desc.nr_nets ? ",\"_gpu0\":"
							   : "\"_gpu0\":");
		gpu_counters(j, &s);
	}
	if (b->desc.balloon) {
		struct phy_balloon_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->balloon_stats(b->ctx, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return;
		}
		json_lit(j, b->desc.nr_disks + b->desc.nr_nets + b->desc.gpu_outputs
			 ? ",\"__balloon\":" : "\"__balloon\":");
		balloon_counters(j, &s);
	}
	if (b->desc.vsock_id) {
		struct phy_vsock_stats s;
		struct phy_error err = { 0 };
		int ret = b->ops->vsock_stats(b->ctx, &s, &err);
		if (ret) {
			api_reply_error(r, error_status(b, ret), err.message);
			return;
		}
		if (b->desc.nr_disks + b->desc.nr_nets + b->desc.gpu_outputs + b->desc.balloon)
			json_lit(j, ",");
		json_str(j, b->desc.vsock_id);
		json_lit(j, ":");
		vsock_counters(j, &s);
	}
	if (fs_counters(b, r))
		return;
	json_lit(j, "}");
	r->status = 200;
}

static void action_result(const struct api_backend *b, struct api_reply *r,
			  int ret, const struct phy_error *err, const char *what)
{
	if (!ret) {
		r->status = 204;
		return;
	}
	/* The library's message names the call and the state already. */
	char msg[64];
	snprintf(msg, sizeof(msg), "%s failed", what);
	api_reply_error(r, error_status(b, ret),
			err->message[0] ? err->message : msg);
}

#define ACTION(name, call, what)                                              \
	static void name(const struct api_backend *b, struct api_reply *r)    \
	{                                                                     \
		struct phy_error err = { 0 };                                 \
		action_result(b, r, b->ops->call(b->ctx, &err), &err, what);  \
	}
ACTION(vm_pause, pause, "vm.pause")
ACTION(vm_resume, resume, "vm.resume")
ACTION(vm_reboot, reboot, "vm.reboot")
ACTION(vm_power_button, power_button, "vm.power-button")
ACTION(vm_shutdown, shutdown, "vm.shutdown")
ACTION(vm_boot, boot, "vm.boot")
ACTION(vm_delete, delete, "vm.delete")
ACTION(vmm_shutdown, vmm_shutdown, "vmm.shutdown")
#undef ACTION

/* The endpoints that take a JSON body: one is required. */
static bool has_body(const struct http_request *req, struct api_reply *r)
{
	if (req->body_len)
		return true;
	char msg[HTTP_MAX_TARGET + 64];
	snprintf(msg, sizeof(msg), "%s needs a JSON body", req->path);
	api_reply_error(r, 400, msg);
	return false;
}

static void vm_create(const struct api_backend *b,
		      const struct http_request *req, struct api_reply *r)
{
	struct phy_error err = { 0 };
	if (has_body(req, r))
		action_result(b, r, b->ops->create(b->ctx, req->body,
						   req->body_len, &err),
			      &err, "vm.create");
}

static void vm_add_disk(const struct api_backend *b,
			const struct http_request *req, struct api_reply *r)
{
	struct phy_error err = { 0 };
	if (has_body(req, r))
		action_result(b, r, b->ops->add_disk(b->ctx, req->body,
						     req->body_len, &err),
			      &err, "vm.add-disk");
}

static void vm_add_net(const struct api_backend *b,
		       const struct http_request *req, struct api_reply *r)
{
	struct phy_error err = { 0 };
	if (has_body(req, r))
		action_result(b, r, b->ops->add_net(b->ctx, req->body,
						    req->body_len, req->fds,
						    req->nr_fds, &err),
			      &err, "vm.add-net");
}

/* PUT vm.resize {"desired_balloon": BYTES}: the balloon's target, as
 * Cloud Hypervisor has it; there is no CPU or memory hotplug. */
static void vm_resize(const struct api_backend *b,
		      const struct http_request *req, struct api_reply *r)
{
	uint64_t balloon = 0, vcpus = 0, ram = 0;
	char msg[200], why[160];
	struct json_field f[] = {
		{ "desired_balloon", JSON_FIELD_UINT, false, .uint = &balloon, .max = UINT64_MAX >> 1 },
		{ "desired_vcpus", JSON_FIELD_UINT, false, .uint = &vcpus, .max = 255 },
		{ "desired_ram", JSON_FIELD_UINT, false, .uint = &ram, .max = UINT64_MAX >> 1 },
	};
	if (!has_body(req, r))
		return;
	const char *e = NULL;
	if (json_read_object(req->body, req->body_len, f, 3, why, sizeof(why)))
		e = why;
	else if (f[1].seen || f[2].seen)
		e = "desired_vcpus and desired_ram are not supported (no CPU or memory hotplug)";
	else if (!f[0].seen)
		e = "desired_balloon is required";
	else if (b->desc.config_json && !b->desc.balloon)
		e = "the VM has no balloon (--balloon)";
	if (e) {
		snprintf(msg, sizeof(msg), "vm.resize: %s", e);
		api_reply_error(r, 400, msg);
		return;
	}
	struct phy_error err = { 0 };
	action_result(b, r, b->ops->resize_balloon(b->ctx, balloon, &err), &err,
		      "vm.resize");
}

static const struct route {
	const char *name; /* after API_PATH_PREFIX */
	enum http_method method;
	void (*handle)(const struct api_backend *b, struct api_reply *r);
	/* Instead of handle, for the endpoints that read a body. */
	void (*handle_req)(const struct api_backend *b,
			   const struct http_request *req, struct api_reply *r);
} routes[] = {
	{ "vmm.ping", HTTP_GET, vmm_ping, NULL },
	{ "vmm.shutdown", HTTP_PUT, vmm_shutdown, NULL },
	{ "vm.info", HTTP_GET, vm_info, NULL },
	{ "vm.counters", HTTP_GET, vm_counters, NULL },
	{ "vm.pause", HTTP_PUT, vm_pause, NULL },
	{ "vm.resume", HTTP_PUT, vm_resume, NULL },
	{ "vm.shutdown", HTTP_PUT, vm_shutdown, NULL },
	{ "vm.create", HTTP_PUT, NULL, vm_create },
	{ "vm.boot", HTTP_PUT, vm_boot, NULL },
	{ "vm.delete", HTTP_PUT, vm_delete, NULL },
	{ "vm.add-disk", HTTP_PUT, NULL, vm_add_disk },
	{ "vm.add-net", HTTP_PUT, NULL, vm_add_net },
	{ "vm.reboot", HTTP_PUT, vm_reboot, NULL },
	{ "vm.power-button", HTTP_PUT, vm_power_button, NULL },
	{ "vm.screenshot", HTTP_PUT, NULL, api_vm_screenshot },
	{ "vm.resize", HTTP_PUT, NULL, vm_resize },
};

static const struct route *find_route(const char *path)
{
	size_t plen = strlen(API_PATH_PREFIX);
	if (strncmp(path, API_PATH_PREFIX, plen))
		return NULL;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(path + plen, routes[i].name))
			return &routes[i];
	return NULL;
}

void api_route(const struct api_backend *b, const struct http_request *req,
	       struct api_reply *r)
{
	char msg[HTTP_MAX_TARGET + 64];
	json_buf_reset(&r->body);
	r->allow = NULL;
	const struct route *rt = find_route(req->path);
	if (!rt) {
		snprintf(msg, sizeof(msg), "no such endpoint: %s", req->path);
		api_reply_error(r, 404, msg);
		return;
	}
	if (req->method != rt->method) {
		r->allow = rt->method == HTTP_GET ? "GET" : "PUT";
		snprintf(msg, sizeof(msg), "%s takes %s", req->path, r->allow);
		api_reply_error(r, 405, msg);
		return;
	}
	/* Like Cloud Hypervisor: the actions take no body, and a body
	 * means the client expected something we would ignore. */
	if (rt->handle_req) {
		rt->handle_req(b, req, r);
	} else if (rt->method == HTTP_PUT && req->body_len) {
		snprintf(msg, sizeof(msg), "%s takes no request body", req->path);
		api_reply_error(r, 400, msg);
		return;
	} else {
		rt->handle(b, r);
	}
	if (r->body.failed)
		api_reply_error(r, 500, "reply too large or out of memory");
}
