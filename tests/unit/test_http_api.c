/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API without a VM: JSON text, the routes on a fake VM, the
 * event monitor's lines, vm.info's config, and the server itself on a
 * Unix socket in a temporary directory (keep-alive, pipelining, errors,
 * timeouts, the connection cap, the socket file's life).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tun_helper.h"
#include "gpu_driver.h"
#include "api/api_routes.h"
#include "api/api_server.h"
#include "api/event_monitor.h"
#include "api/json.h"
#include "common/landlock.h"
#include "common/thread.h"
#include "vmm/config/config_net.h"

static char tmpdir[64]; /* this run's files */

/* ---- JSON ---- */

static void check_json(const char *in, size_t n, const char *want)
{
	struct json_buf b;
	json_buf_init(&b, 4096);
	json_strn(&b, in, n);
	CHECK(!b.failed && b.data && !strcmp(b.data, want));
	if (b.data && strcmp(b.data, want))
		fprintf(stderr, "  got %s want %s\n", b.data, want);
	json_buf_free(&b);
}

static void test_json(void)
{
	check_json("plain", 5, "\"plain\"");
	check_json("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	check_json("\n\r\t\b\f\x01\x1f", 7, "\"\\n\\r\\t\\b\\f\\u0001\\u001f\"");
	check_json("x\0y", 3, "\"x\\u0000y\"");
	check_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid UTF-8: a lone continuation, an overlong '/', a surrogate,
	 * a truncated sequence, beyond U+10FFFF. */
	check_json("\x80", 1, "\"\\ufffd\"");
	check_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
	check_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	check_json("a\xe2\x82", 3, "\"a\\ufffd\\ufffd\"");
	check_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");

	struct json_buf b;
	json_buf_init(&b, 4096);
	json_str(&b, NULL);
	json_u64(&b, UINT64_MAX);
	json_bool(&b, true);
	CHECK(!strcmp(b.data, "null18446744073709551615true"));
	json_buf_free(&b);

	char small[8];
	json_buf_init_fixed(&b, small, sizeof(small));
	json_lit(&b, "1234567");
	CHECK(!b.failed && !strcmp(small, "1234567"));
	json_lit(&b, "8");
	CHECK(b.failed && !strcmp(small, "1234567"));

	/* A growing buffer stops at its limit, whatever is added. */
	json_buf_init(&b, 100);
	for (int i = 0; i < 50; i++)
		json_printf(&b, "%d,", i);
	CHECK(b.failed && b.len < 100);
	json_buf_free(&b);
	json_buf_init(&b, 1 << 20);
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	json_printf(&b, "<%s>", big);
	CHECK(!b.failed && b.len == 601 && b.data[600] == '>');
	json_buf_free(&b);
}

/* ---- a fake VM ---- */

struct fake_vm {
	enum phy_vm_state state;
	int pauses, resumes, buttons, reboots, shutdowns;
	int vmm_shutdowns, creates, boots, deletes, disks, nets;
	char body[256];     /* the last body a create or add-* got */
	unsigned nr_fds;    /* and the descriptors that came with it */
	bool fds_open;      /* they were open during the call */
	int fail; /* 0, or the negative code every action returns */
	int screenshots;
	int resizes;
	uint64_t balloon; /* the last vm.resize's desired_balloon */
	unsigned shot_scanout;
	char shot_path[256];
};

static enum phy_vm_state f_state(void *ctx)
{
	return ((struct fake_vm *)ctx)->state;
}

static int f_result(struct fake_vm *f, int *counter, struct phy_error *err)
{
	if (f->fail) {
		err->code = -f->fail;
		snprintf(err->message, sizeof(err->message), "the \"VM\" says no");
		return f->fail;
	}
	(*counter)++;
	return 0;
}

static int f_pause(void *c, struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->pauses, e);
	if (!r)
		f->state = PHY_VM_PAUSED;
	return r;
}

static int f_resume(void *c, struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->resumes, e);
	if (!r)
		f->state = PHY_VM_RUNNING;
	return r;
}

static int f_button(void *c, struct phy_error *e)
{
	return f_result(c, &((struct fake_vm *)c)->buttons, e);
}

static int f_reboot(void *c, struct phy_error *e)
{
	return f_result(c, &((struct fake_vm *)c)->reboots, e);
}

static int f_shutdown(void *c, struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->shutdowns, e);
	if (!r)
		f->state = PHY_VM_CREATED;
	return r;
}

static int f_vmm_shutdown(void *c, struct phy_error *e)
{
	return f_result(c, &((struct fake_vm *)c)->vmm_shutdowns, e);
}

static int f_boot(void *c, struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->boots, e);
	if (!r)
		f->state = PHY_VM_RUNNING;
	return r;
}

static int f_delete(void *c, struct phy_error *e)
{
	return f_result(c, &((struct fake_vm *)c)->deletes, e);
}

/* Keeps the body and whether every descriptor was open. */
static int f_body(struct fake_vm *f, int *counter, const char *body,
		  size_t len, const int *fds, unsigned nr_fds,
		  struct phy_error *e)
{
	snprintf(f->body, sizeof(f->body), "%.*s", (int)len, body);
	f->nr_fds = nr_fds;
	f->fds_open = true;
	for (unsigned i = 0; i < nr_fds; i++)
		f->fds_open &= fcntl(fds[i], F_GETFD) >= 0;
	return f_result(f, counter, e);
}

static int f_create(void *c, const char *body, size_t len, struct phy_error *e)
{
	return f_body(c, &((struct fake_vm *)c)->creates, body, len, NULL, 0, e);
}

static int f_add_disk(void *c, const char *body, size_t len,
		      struct phy_error *e)
{
	return f_body(c, &((struct fake_vm *)c)->disks, body, len, NULL, 0, e);
}

static int f_add_net(void *c, const char *body, size_t len, const int *fds,
		     unsigned nr_fds, struct phy_error *e)
{
	return f_body(c, &((struct fake_vm *)c)->nets, body, len, fds, nr_fds, e);
}

static int f_disk_stats(void *c, unsigned i, struct phy_disk_stats *s,
			struct phy_error *e)
{
	memset(s, 0, sizeof(*s));
	s->read_requests = 10 + i;
	s->bytes_read = 4096 * (10 + i);
	s->write_requests = 3;
	s->flush_requests = 1;
	return 0;
}

static int f_net_stats(void *c, unsigned i, struct phy_net_stats *s,
		       struct phy_error *e)
{
	memset(s, 0, sizeof(*s));
	s->queue_pairs = 2;
	s->active_pairs = 2;
	s->link_up = 1;
	s->queues[0].rx_packets = 5;
	s->queues[1].rx_packets = 7;
	s->queues[1].tx_drops = 1;
	s->total.rx_packets = 12;
	s->total.rx_bytes = 1200;
	s->total.tx_drops = 1;
	return 0;
}

static int f_gpu_stats(void *c, struct phy_gpu_stats *s, struct phy_error *e)
{
	*s = (struct phy_gpu_stats){
		.submits = 12,
		.fences = 4,
		.fence_latency_sum_ns = 4 * 1500,
		.fence_latency_max_ns = 2500,
		.fence_latency_p50_ns = 1400,
		.fence_latency_p90_ns = 2000,
		.fence_latency_p99_ns = 2400,
	};
	return 0;
}

static int f_screenshot(void *c, unsigned scanout, const char *path,
			struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->screenshots, e);
	if (!r) {
		f->shot_scanout = scanout;
		snprintf(f->shot_path, sizeof(f->shot_path), "%s", path);
	}
	return r;
}

static int f_balloon_stats(void *c, struct phy_balloon_stats *s, struct phy_error *e)
{
	*s = (struct phy_balloon_stats){
		.target_bytes = 32ULL << 20,
		.actual_bytes = 16ULL << 20,
		.inflated_pages = 4096,
		.deflated_pages = 1,
		.reported_bytes = 8192,
		.guest_stats = { [4] = 1000, [5] = 2000 },
		.guest_stats_valid = 1u << 4 | 1u << 5,
	};
	return 0;
}

static int f_vsock_stats(void *c, struct phy_vsock_stats *s, struct phy_error *e)
{
	*s = (struct phy_vsock_stats){
		.host_connects = 3, .guest_connects = 2, .conns = 1,
		.rx_bytes = 100, .tx_bytes = 200, .resets = 4, .bad_packets = 5,
	};
	return 0;
}

static int f_fs_stats(void *c, unsigned i, struct phy_fs_stats *s, struct phy_error *e)
{
	*s = (struct phy_fs_stats){.kicks = 10 + i, .calls = 9, .reconnects = 1, .failures = 2};
	return 0;
}

static int f_resize_balloon(void *c, uint64_t bytes, struct phy_error *e)
{
	struct fake_vm *f = c;
	int r = f_result(f, &f->resizes, e);
	if (!r)
		f->balloon = bytes;
	return r;
}

static const struct api_backend_ops fake_ops = {
	.state = f_state,
	.pause = f_pause,
	.resume = f_resume,
	.power_button = f_button,
	.reboot = f_reboot,
	.shutdown = f_shutdown,
	.vmm_shutdown = f_vmm_shutdown,
	.create = f_create,
	.boot = f_boot,
	.delete = f_delete,
	.add_disk = f_add_disk,
	.add_net = f_add_net,
	.disk_stats = f_disk_stats,
	.net_stats = f_net_stats,
	.gpu_stats = f_gpu_stats,
	.balloon_stats = f_balloon_stats,
	.resize_balloon = f_resize_balloon,
	.vsock_stats = f_vsock_stats,
	.fs_stats = f_fs_stats,
	.screenshot = f_screenshot,
};

static const char *const fake_ids[] = { "_disk0", "data\"1" };
static const char *const fake_net_ids[] = { "_net0" };

static struct api_backend fake_backend(struct fake_vm *f)
{
	return (struct api_backend){
		.ops = &fake_ops,
		.ctx = f,
		.desc = {
			.config_json = "{\"cpus\":{\"boot_vcpus\":2}}",
			.memory_size = 64ULL << 20,
			.nr_disks = 2,
			.disk_ids = fake_ids,
			.nr_nets = 1,
			.net_ids = fake_net_ids,
			.gpu_outputs = 2,
			.version = "0.1.0",
		},
	};
}

static int route(const struct api_backend *b, const char *text,
		 struct api_reply *r)
{
	struct http_request req;
	struct http_error perr;
	long n = http_parse_request(text, strlen(text), &req, &perr);
	CHECK(n > 0);
	if (n <= 0)
		return -1;
	api_route(b, &req, r);
	return r->status;
}

static void test_routes(void)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_reply r;
	api_reply_init(&r);

	CHECK(route(&b, "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "{\"build_version\":\"0.1.0\",\"version\":\"0.1.0\",\"pid\":");
	CHECK_STR_CONTAINS(r.body.data, "\"features\":[\"kvm\",\"io_uring\"]}");

	CHECK(route(&b, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK(!strcmp(r.body.data, "{\"config\":{\"cpus\":{\"boot_vcpus\":2}},"
				   "\"state\":\"Running\",\"memory_actual_size\":67108864}"));

	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "{\"_disk0\":{\"read_bytes\":40960,\"write_bytes\":0,"
			   "\"read_ops\":10,\"write_ops\":3,\"flush_ops\":1,");
	CHECK_STR_CONTAINS(r.body.data, ",\"data\\\"1\":{\"read_bytes\":45056,");
	CHECK_STR_CONTAINS(r.body.data, "\"errors\":0},\"_net0\":{\"rx_bytes\":1200,"
			   "\"rx_frames\":12,\"tx_bytes\":0,\"tx_frames\":0,\"rx_drops\":0,"
			   "\"tx_drops\":1,\"link_up\":1,\"active_queue_pairs\":2,"
			   "\"q0_rx_frames\":5,");
	CHECK_STR_CONTAINS(r.body.data, "\"q1_rx_frames\":7,\"q1_tx_frames\":0,"
			   "\"q1_rx_drops\":0,\"q1_tx_drops\":1},\"_gpu0\":");
	CHECK_STR_CONTAINS(r.body.data, ",\"_gpu0\":{\"submits\":12,\"fences\":4,"
			   "\"fence_latency_avg_us\":1.500,\"fence_latency_p50_us\":1.400,"
			   "\"fence_latency_p90_us\":2.000,\"fence_latency_p99_us\":2.400,"
			   "\"fence_latency_max_us\":2.500}}");
	/* Without disks and NICs the GPU's object comes first. */
	struct api_backend only_gpu = b;
	only_gpu.desc.nr_disks = only_gpu.desc.nr_nets = 0;
	CHECK(route(&only_gpu, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	const char *first = "{\"_gpu0\":{\"submits\":12,";
	CHECK(!strncmp(r.body.data, first, strlen(first)));

	CHECK(route(&b, "PUT /api/v1/vm.pause HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.pauses == 1 && f.state == PHY_VM_PAUSED);
	CHECK(route(&b, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "\"state\":\"Paused\"");
	CHECK(route(&b, "PUT /api/v1/vm.resume HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(route(&b, "PUT /api/v1/vm.reboot HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(route(&b, "PUT /api/v1/vm.power-button HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.resumes == 1 && f.reboots == 1 && f.buttons == 1);

	/* The state forbids it: 405 with the VM's message; anything else
	 * that fails: 500. */
	f.fail = -PHY_E_STATE;
	CHECK(route(&b, "PUT /api/v1/vm.resume HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(!strcmp(r.body.data, "{\"error\":\"the \\\"VM\\\" says no\"}"));
	CHECK(r.allow == NULL);
	f.fail = -PHY_E_INTERNAL;
	CHECK(route(&b, "PUT /api/v1/vm.pause HTTP/1.1\r\n\r\n", &r) == 500);
	f.fail = 0;

	/* Routing errors. */
	CHECK(route(&b, "PUT /api/v1/vm.snapshot HTTP/1.1\r\n\r\n", &r) == 404);
	CHECK_STR_CONTAINS(r.body.data, "no such endpoint: /api/v1/vm.snapshot");
	CHECK(route(&b, "GET /api/v1/vm.boot HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(route(&b, "GET / HTTP/1.1\r\n\r\n", &r) == 404);
	CHECK(route(&b, "GET /api/v1/ HTTP/1.1\r\n\r\n", &r) == 404);
	CHECK(route(&b, "GET /api/v2/vmm.ping HTTP/1.1\r\n\r\n", &r) == 404);
	CHECK(route(&b, "GET /api/v1/vm.pause HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(r.allow && !strcmp(r.allow, "PUT"));
	CHECK(route(&b, "PUT /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(r.allow && !strcmp(r.allow, "GET"));
	CHECK(route(&b, "POST /api/v1/vm.pause HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(route(&b, "PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 400);
	CHECK(f.pauses == 1);
	/* A GET's body is ignored. */
	CHECK(route(&b, "GET /api/v1/vmm.ping HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 200);

	/* vm.shutdown stops the VM and keeps it created; the backend
	 * decides, the route maps its answer. vmm.shutdown ends the VMM. */
	CHECK(route(&b, "PUT /api/v1/vm.shutdown HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.shutdowns == 1 && f.state == PHY_VM_CREATED);
	CHECK(route(&b, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "\"state\":\"Created\"");
	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK_STR_CONTAINS(r.body.data, "not booted");
	f.fail = -PHY_E_STATE;
	CHECK(route(&b, "PUT /api/v1/vm.shutdown HTTP/1.1\r\n\r\n", &r) == 405);
	f.fail = 0;
	CHECK(route(&b, "PUT /api/v1/vm.boot HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.boots == 1 && f.state == PHY_VM_RUNNING);
	CHECK(route(&b, "PUT /api/v1/vm.boot HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 400);
	CHECK(route(&b, "PUT /api/v1/vmm.shutdown HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.vmm_shutdowns == 1);

	/* The endpoints with a body: the backend gets it whole; without
	 * one, 400 before the backend hears of it. */
	CHECK(route(&b, "PUT /api/v1/vm.create HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\":\"b\"}", &r) == 204);
	CHECK(f.creates == 1 && !strcmp(f.body, "{\"a\":\"b\"}"));
	CHECK(route(&b, "PUT /api/v1/vm.create HTTP/1.1\r\n\r\n", &r) == 400);
	CHECK_STR_CONTAINS(r.body.data, "needs a JSON body");
	f.fail = -PHY_E_INVALID;
	CHECK(route(&b, "PUT /api/v1/vm.add-disk HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 400);
	CHECK_STR_CONTAINS(r.body.data, "says no");
	f.fail = -PHY_E_STATE;
	CHECK(route(&b, "PUT /api/v1/vm.add-net HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 405);
	f.fail = 0;
	CHECK(route(&b, "PUT /api/v1/vm.add-net HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 204);
	CHECK(route(&b, "PUT /api/v1/vm.add-disk HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r) == 204);
	CHECK(route(&b, "PUT /api/v1/vm.delete HTTP/1.1\r\n\r\n", &r) == 204);
	CHECK(f.nets == 1 && f.disks == 1 && f.deletes == 1);

	/* No VM created: what needs one is 404, and so is a state error. */
	struct api_backend none = b;
	none.desc.config_json = NULL;
	CHECK(route(&none, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 404);
	CHECK_STR_CONTAINS(r.body.data, "not created");
	CHECK(route(&none, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 404);
	f.fail = -PHY_E_STATE;
	CHECK(route(&none, "PUT /api/v1/vm.boot HTTP/1.1\r\n\r\n", &r) == 404);
	f.fail = 0;
	CHECK(route(&none, "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", &r) == 200);
	api_reply_free(&r);
}

/* The request PUT vm.screenshot with `body`. */
static void screenshot_request(char *text, size_t size, const char *body)
{
	snprintf(text, size,
		 "PUT /api/v1/vm.screenshot HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
}

/* Routes it: the status. */
static int shoot(const struct api_backend *b, const char *body,
		 struct api_reply *r)
{
	char text[8192];
	screenshot_request(text, sizeof(text), body);
	return route(b, text, r);
}

/* 400 for `body`, with `why` in the message, and no screenshot taken. */
static void shoot_bad(const struct api_backend *b, struct fake_vm *f,
		      const char *body, const char *why, struct api_reply *r)
{
	int before = f->screenshots;
	CHECK(shoot(b, body, r) == 400);
	CHECK_STR_CONTAINS(r->body.data, "{\"error\":\"vm.screenshot: ");
	CHECK_STR_CONTAINS(r->body.data, why);
	CHECK_EQ_U64(f->screenshots, before);
}

/* PUT vm.resize with `body`: the status. */
static int resize(const struct api_backend *b, const char *body, struct api_reply *r)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "PUT /api/v1/vm.resize HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(body), body);
	return route(b, text, r);
}

/* The balloon: vm.resize's desired_balloon, memory_actual_size in
 * vm.info, "__balloon" in vm.counters. */
static void test_balloon_routes(void)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_reply r;
	api_reply_init(&r);
	/* Without a balloon nothing changes. */
	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK(!strstr(r.body.data, "__balloon"));
	CHECK(resize(&b, "{\"desired_balloon\":4096}", &r) == 400);
	CHECK_STR_CONTAINS(r.body.data, "vm.resize: the VM has no balloon (--balloon)");

	b.desc.balloon = true;
	CHECK(route(&b, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "\"memory_actual_size\":50331648}");
	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, ",\"__balloon\":{\"target_bytes\":33554432,"
			   "\"actual_bytes\":16777216,\"inflated_pages\":4096,"
			   "\"deflated_pages\":1,\"reported_bytes\":8192,"
			   "\"free_memory\":1000,\"total_memory\":2000}}");

	/* The vsock device's, by its id. */
	b.desc.vsock_id = "vs\"0";
	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "\"free_memory\":1000,\"total_memory\":2000},"
			   "\"vs\\\"0\":{\"host_connects\":3,\"guest_connects\":2,"
			   "\"connections\":1,\"rx_bytes\":100,\"tx_bytes\":200,"
			   "\"resets\":4,\"bad_packets\":5}}");
	/* The virtio-fs devices', by id, last. */
	static const char *const fs_ids[] = {"_fs0", "docs"};
	b.desc.fs_ids = fs_ids;
	b.desc.nr_fs = 2;
	CHECK(route(&b, "GET /api/v1/vm.counters HTTP/1.1\r\n\r\n", &r) == 200);
	CHECK_STR_CONTAINS(r.body.data, "\"bad_packets\":5},\"_fs0\":{\"kicks\":10,"
			   "\"calls\":9,\"reconnects\":1,\"failures\":2},\"docs\":{\"kicks\":11,");
	b.desc.nr_fs = 0;
	b.desc.vsock_id = NULL;

	CHECK(resize(&b, "{\"desired_balloon\":268435456}", &r) == 204);
	CHECK_EQ_U64(f.resizes, 1);
	CHECK_EQ_U64(f.balloon, 268435456);
	static const char *const bad[][2] = {
		{ "{}", "desired_balloon is required" },
		{ "{\"desired_vcpus\":2}", "desired_vcpus and desired_ram are not supported" },
		{ "{\"desired_ram\":1073741824,\"desired_balloon\":0}", "not supported" },
		{ "{\"desired_balloon\":-1}", "vm.resize: " },
		{ "{\"desired_balloon\":\"1G\"}", "vm.resize: " },
		{ "{\"desired_balloon\":1,\"x\":2}", "vm.resize: " },
		{ "[1]", "vm.resize: " },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(resize(&b, bad[i][0], &r) == 400);
		CHECK_STR_CONTAINS(r.body.data, bad[i][1]);
	}
	CHECK(route(&b, "PUT /api/v1/vm.resize HTTP/1.1\r\n\r\n", &r) == 400);
	CHECK(route(&b, "GET /api/v1/vm.resize HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK_EQ_U64(f.resizes, 1);
	/* What the VM refuses (a target above its RAM) is a 400. */
	f.fail = -PHY_E_INVALID;
	CHECK(resize(&b, "{\"desired_balloon\":4096}", &r) == 400);
	f.fail = -PHY_E_STATE;
	CHECK(resize(&b, "{\"desired_balloon\":4096}", &r) == 405);
	api_reply_free(&r);
}

static void test_screenshot_route(void)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_reply r;
	char body[512];
	api_reply_init(&r);

	snprintf(body, sizeof(body), "{\"path\": \"%s/a.png\"}", tmpdir);
	CHECK(shoot(&b, body, &r) == 204);
	CHECK(f.screenshots == 1 && f.shot_scanout == 0);
	CHECK(!strcmp(f.shot_path + strlen(tmpdir), "/a.png"));
	snprintf(body, sizeof(body),
		 " {\n\t\"scanout\" : 1 ,\"path\":\"%s\\/caf\\u00e9 \\\"\\ud83d\\ude00.png\"} ",
		 tmpdir);
	CHECK(shoot(&b, body, &r) == 204);
	CHECK(f.screenshots == 2 && f.shot_scanout == 1);
	CHECK(!strcmp(f.shot_path + strlen(tmpdir),
		      "/caf\xc3\xa9 \"\xf0\x9f\x98\x80.png"));

	/* Routing: PUT only, with a body. */
	CHECK(route(&b, "GET /api/v1/vm.screenshot HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(r.allow && !strcmp(r.allow, "PUT"));
	shoot_bad(&b, &f, "", "takes a JSON body", &r);

	/* Bodies that are not what it takes. */
	shoot_bad(&b, &f, "[]", "must be a JSON object", &r);
	shoot_bad(&b, &f, "{\"path\":", "must be a string", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png", "not terminated", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",}", "member name", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\"} x", "text after the object", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\" \"scanout\":0}", "',' or '}'", &r);
	shoot_bad(&b, &f, "{\"path\":1}", "\\\"path\\\" must be a string", &r);
	shoot_bad(&b, &f, "{\"path\":null}", "must be a string", &r);
	shoot_bad(&b, &f, "{\"scanout\":0}", "\\\"path\\\" is missing", &r);
	shoot_bad(&b, &f, "{}", "is missing", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"path\":\"/tmp/b.png\"}",
		  "given twice", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"format\":\"png\"}",
		  "unknown member \\\"format\\\"", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a\\u0000.png\"}", "NUL", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a\\ud800.png\"}", "bad escape", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a\\x.png\"}", "bad escape", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a\tb.png\"}", "control character", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":-1}",
		  "must be an integer from 0 to 4294967295", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":1.0}", "integer", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":01}", "integer", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":\"0\"}", "integer", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":99999999999999999999}",
		  "out of range", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":4294967296}",
		  "out of range", &r);
	char longpath[5000] = "{\"path\":\"/";
	memset(longpath + 10, 'x', 4200);
	strcpy(longpath + 4210, "\"}");
	shoot_bad(&b, &f, longpath, "longer than 4095 bytes", &r);

	/* Paths and scanouts it cannot use. */
	shoot_bad(&b, &f, "{\"path\":\"a.png\"}", "must be absolute: a.png", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/a.png\",\"scanout\":2}",
		  "no scanout 2 (the GPU has 2)", &r);
	shoot_bad(&b, &f, "{\"path\":\"/nonexistent-phy/a.png\"}",
		  "cannot write in /nonexistent-phy: No such file or directory", &r);
	shoot_bad(&b, &f, "{\"path\":\"/proc/version/a.png\"}",
		  "cannot write in /proc/version: not a directory", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp/\"}", "names a directory", &r);
	shoot_bad(&b, &f, "{\"path\":\"/tmp\"}", "names a directory", &r);

	/* What the VM says: nothing shown yet (409), a reboot (405),
	 * anything else (500); without a GPU, 409 at once. */
	snprintf(body, sizeof(body), "{\"path\":\"%s/a.png\"}", tmpdir);
	f.fail = -PHY_E_INVALID;
	CHECK(shoot(&b, body, &r) == 409);
	CHECK(!strcmp(r.body.data, "{\"error\":\"the \\\"VM\\\" says no\"}"));
	f.fail = -PHY_E_STATE;
	CHECK(shoot(&b, body, &r) == 405);
	f.fail = -PHY_E_IO;
	CHECK(shoot(&b, body, &r) == 500);
	f.fail = 0;
	b.desc.gpu_outputs = 0;
	CHECK(shoot(&b, body, &r) == 409);
	CHECK_STR_CONTAINS(r.body.data, "the VM has no GPU (--gpu)");
	CHECK(f.screenshots == 2);
	api_reply_free(&r);
}

/* ---- event monitor ---- */

static void test_event_format(void)
{
	char line[EVENT_LINE_MAX];
	struct ch_event ev[2];
	struct phy_event pe = { .kind = PHY_EVENT_STARTED };
	CHECK(event_monitor_map(&pe, ev) == 2);
	CHECK(!strcmp(ev[0].event, "booting") && !strcmp(ev[1].event, "booted"));
	size_t n = event_monitor_format(line, sizeof(line), 2029228206ULL, &ev[1]);
	CHECK(n == strlen(line));
	CHECK(!strcmp(line, "{\"timestamp\":{\"secs\":2,\"nanos\":29228206},"
			    "\"source\":\"vm\",\"event\":\"booted\",\"properties\":null}\n"));

	static const struct {
		enum phy_event_kind kind;
		unsigned n;
		const char *last;
	} map[] = {
		{ PHY_EVENT_PAUSED, 2, "paused" },
		{ PHY_EVENT_RESUMED, 2, "resumed" },
		{ PHY_EVENT_REBOOTING, 1, "rebooting" },
		{ PHY_EVENT_REBOOTED, 1, "rebooted" },
		{ PHY_EVENT_POWER_BUTTON, 1, "power-button" },
		{ PHY_EVENT_SHUTDOWN, 1, "shutdown" },
		{ PHY_EVENT_CRASH, 1, "crashed" },
		{ PHY_EVENT_DEVICE_ERROR, 1, "needs-reset" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		pe.kind = map[i].kind;
		CHECK(event_monitor_map(&pe, ev) == map[i].n);
		CHECK(!strcmp(ev[map[i].n - 1].event, map[i].last));
	}

	pe = (struct phy_event){ .kind = PHY_EVENT_DEVICE_ERROR,
				 .device = "virtio-blk0",
				 .message = "bad \"ring\"\n" };
	CHECK(event_monitor_map(&pe, ev) == 1);
	n = event_monitor_format(line, sizeof(line), 5, &ev[0]);
	CHECK(!strcmp(line, "{\"timestamp\":{\"secs\":0,\"nanos\":5},"
			    "\"source\":\"virtio-device\",\"event\":\"needs-reset\","
			    "\"properties\":{\"id\":\"virtio-blk0\","
			    "\"message\":\"bad \\\"ring\\\"\\n\"}}\n"));
	/* Exactly one newline, at the end: one line per event. */
	CHECK(strchr(line, '\n') == line + n - 1);
	/* Too small a buffer: 0, never a cut line. */
	CHECK(event_monitor_format(line, 20, 5, &ev[0]) == 0);
}


static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

/* --event-monitor fd=N: events go to a duplicate; the caller's stays open. */
static void test_event_fd(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	struct phy_error err;
	struct event_monitor *m;
	CHECK(event_monitor_open_fd(-1, &m, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--event-monitor");
	CHECK(event_monitor_open_fd(p[1], &m, &err) == 0);
	event_monitor_close(m);
	CHECK(fcntl(p[1], F_GETFD) >= 0);
	close(p[1]);
	char buf[1024];
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK_STR_CONTAINS(buf, "\"event\":\"starting\"");
	CHECK_STR_CONTAINS(buf, "\"source\":\"vmm\",\"event\":\"shutdown\"");
	close(p[0]);
}

static void test_event_file(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/events", tmpdir);
	struct phy_error err;
	struct event_monitor *m;
	CHECK(event_monitor_open("/nonexistent/dir/events", &m, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--event-monitor");
	CHECK(event_monitor_open(path, &m, &err) == 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct phy_event ev = {
		.kind = PHY_EVENT_STARTED,
		.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
	};
	event_monitor_event(m, &ev);
	ev.kind = PHY_EVENT_SHUTDOWN;
	ev.message = "poweroff";
	event_monitor_event(m, &ev);
	event_monitor_close(m);
	char *text = slurp(path);
	const char *want[] = {
		"\"source\":\"vmm\",\"event\":\"starting\",\"properties\":null}\n",
		"\"source\":\"vm\",\"event\":\"booting\",\"properties\":null}\n",
		"\"source\":\"vm\",\"event\":\"booted\",\"properties\":null}\n",
		"\"source\":\"vm\",\"event\":\"shutdown\",\"properties\":{\"message\":\"poweroff\"}}\n",
		"\"source\":\"vmm\",\"event\":\"shutdown\",\"properties\":null}\n",
	};
	const char *p = text;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(!strncmp(p, "{\"timestamp\":{\"secs\":0,\"nanos\":", 31));
		const char *nl = strchr(p, '\n');
		const char *at = strstr(p, want[i]);
		CHECK(at && nl && at + strlen(want[i]) == nl + 1);
		if (!nl)
			break;
		p = nl + 1;
	}
	CHECK(*p == 0);
	/* Appends: a second monitor keeps what the first wrote. */
	CHECK(event_monitor_open(path, &m, &err) == 0);
	event_monitor_close(m);
	CHECK(strlen(slurp(path)) > strlen(want[0]) * 5);
	unlink(path);
}

/* A FIFO whose reader does not read: events are dropped, nothing blocks. */
static void test_event_fifo(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	CHECK(mkfifo(path, 0600) == 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	CHECK(rd >= 0);
	struct phy_error err;
	struct event_monitor *m;
	CHECK(event_monitor_open(path, &m, &err) == 0);
	struct phy_event ev = { .kind = PHY_EVENT_DEVICE_ERROR, .device = "d" };
	for (int i = 0; i < 5000; i++)
		event_monitor_event(m, &ev);
	CHECK(event_monitor_dropped(m) > 0);
	/* What got through is whole lines. */
	char buf[4096];
	ssize_t n = read(rd, buf, sizeof(buf));
	CHECK(n > 0 && !strncmp(buf, "{\"timestamp\":", 13));
	event_monitor_close(m);
	close(rd);
	unlink(path);
}

/* ---- the server ---- */

static char sock_path[96];

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool send_may_fail; /* the server may have closed already (503) */

static void send_str(int fd, const char *s)
{
	ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
	CHECK(send_may_fail || n == (ssize_t)strlen(s));
}

/* Reads one response (head and Content-Length body) into buf; returns its
 * status, 0 on EOF before any byte, -1 on a timeout or error. Bytes after
 * it stay in *extra for the next call. */
struct rd {
	char buf[8192];
	size_t len;
};

static int read_response(int fd, struct rd *r, char *out, size_t size)
{
	for (;;) {
		char *end = memmem(r->buf, r->len, "\r\n\r\n", 4);
		if (end) {
			size_t head = (size_t)(end - r->buf) + 4, body = 0;
			char *cl = memmem(r->buf, head, "Content-Length: ", 16);
			if (cl)
				body = strtoul(cl + 16, NULL, 10);
			if (r->len >= head + body) {
				size_t n = head + body < size ? head + body : size - 1;
				memcpy(out, r->buf, n);
				out[n] = 0;
				r->len -= head + body;
				memmove(r->buf, r->buf + head + body, r->len);
				return atoi(out + 9);
			}
		}
		ssize_t n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
		/* A thread that drove an io_uring (the GPU rig's loop) gets
		 * its task work as a "signal" that interrupts recv() under
		 * SO_RCVTIMEO: not the server's doing, so read on. */
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && r->len == 0)
			return 0;
		if (n <= 0)
			return -1;
		r->len += (size_t)n;
	}
}

/* One request on a fresh connection. */
static int request(const char *text, char *out, size_t size)
{
	int fd = client();
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	struct rd r = { .len = 0 };
	send_str(fd, text);
	int status = read_response(fd, &r, out, size);
	close(fd);
	return status;
}

static bool at_eof(int fd)
{
	char c;
	return recv(fd, &c, 1, 0) <= 0;
}

static void test_server_basics(struct api_server_limits *lim)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_server *s;
	struct phy_error err;
	CHECK(api_server_start(sock_path, &b, lim, &s, &err) == 0);
	struct stat st;
	CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	      (st.st_mode & 0777) == 0600);

	char resp[8192];
	CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "Content-Type: application/json\r\n");
	CHECK_STR_CONTAINS(resp, "\"version\":\"0.1.0\"");

	/* Keep-alive, then three pipelined requests in one write. */
	int fd = client();
	struct rd r = { .len = 0 };
	send_str(fd, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "\"state\":\"Running\"");
	send_str(fd, "PUT /api/v1/vm.pause HTTP/1.1\r\n\r\n"
		     "GET /api/v1/vm.info HTTP/1.1\r\n\r\n"
		     "GET /api/v1/nope HTTP/1.1\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 204);
	CHECK(strstr(resp, "Content-Length") == NULL);
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "\"state\":\"Paused\"");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 404);
	/* A request in pieces. */
	send_str(fd, "PUT /api/v1/vm.res");
	usleep(20000);
	send_str(fd, "ume HTTP/1.1\r\nHo");
	usleep(20000);
	send_str(fd, "st: x\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 204);
	CHECK(f.state == PHY_VM_RUNNING);
	/* Connection: close is honoured. */
	send_str(fd, "GET /api/v1/vmm.ping HTTP/1.1\r\nConnection: close\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "Connection: close\r\n");
	CHECK(at_eof(fd));
	close(fd);

	/* HTTP/1.0 closes; a half-closed client still gets its answer. */
	fd = client();
	r.len = 0;
	send_str(fd, "GET /api/v1/vmm.ping HTTP/1.0\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK(at_eof(fd));
	close(fd);
	fd = client();
	r.len = 0;
	send_str(fd, "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\nGET /api/v1/vm.info HTTP/1.1\r\n\r\n");
	shutdown(fd, SHUT_WR);
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 0);
	close(fd);

	/* Errors: the status and {"error":...}, then the connection closes. */
	static const struct {
		const char *text;
		int status;
	} errs[] = {
		{ "\x16\x03\x01\x00\xa5\x01\x00\x00", 400 },
		{ "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "PUT /api/v1/vm.pause HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411 },
		{ "PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n", 413 },
		{ "GET /api/v1/vm.pause HTTP/1.1\r\n\r\n", 405 },
		{ "PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400 },
	};
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		int st_ = request(errs[i].text, resp, sizeof(resp));
		CHECK(st_ == errs[i].status);
		if (st_ != errs[i].status)
			fprintf(stderr, "  case %zu: %d\n", i, st_);
		CHECK_STR_CONTAINS(resp, "{\"error\":\"");
	}
	/* HEAD: 405 without a body, and the connection goes on. */
	fd = client();
	r.len = 0;
	send_str(fd, "HEAD /api/v1/vm.info HTTP/1.1\r\n\r\nGET /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 405);
	CHECK_STR_CONTAINS(resp, "Allow: GET\r\n");
	CHECK(strstr(resp, "\r\n\r\n")[4] == 0);
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 200);
	close(fd);
		/* After an error the rest of the input is not served. */
	fd = client();
	r.len = 0;
	send_str(fd, "BAD\x01\r\n\r\nGET /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 400);
	CHECK_STR_CONTAINS(resp, "Connection: close");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) <= 0);
	close(fd);
	/* A big request line: 414, not a wait. */
	char big[4096];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	big[sizeof(big) - 1] = 0;
	CHECK(request(big, resp, sizeof(resp)) == 414);

	CHECK(f.vmm_shutdowns == 0);
	CHECK(request("PUT /api/v1/vmm.shutdown HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 204);
	CHECK(f.vmm_shutdowns == 1);

	/* The path is taken: a second server refuses it. */
	struct api_server *s2;
	CHECK(api_server_start(sock_path, &b, lim, &s2, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "in use");
	api_server_stop(s);
	CHECK(lstat(sock_path, &st) == -1 && errno == ENOENT);
}

static void test_server_timeouts(struct api_server_limits *lim)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_server *s;
	struct phy_error err;
	CHECK(api_server_start(sock_path, &b, lim, &s, &err) == 0);
	char resp[8192];
	struct rd r = { .len = 0 };

	/* Half a request: 408 once the timeout passes. */
	int fd = client();
	send_str(fd, "GET /api/v1/vmm.ping HTTP/1.1\r\nHost:");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 408);
	CHECK(at_eof(fd));
	close(fd);
	/* An idle connection is just closed. */
	fd = client();
	r.len = 0;
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 0);
	close(fd);
	/* Half a body too. */
	fd = client();
	r.len = 0;
	send_str(fd, "PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
	CHECK(read_response(fd, &r, resp, sizeof(resp)) == 408);
	close(fd);

	/* The cap: the extra client gets 503 at once; the others are
	 * served and, once they are gone, so are new ones. */
	int held[4];
	for (unsigned i = 0; i < lim->max_connections; i++)
		held[i] = client();
	usleep(50000);
	send_may_fail = true;
	CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 503);
	send_may_fail = false;
	CHECK_STR_CONTAINS(resp, "too many connections");
	r.len = 0;
	send_str(held[0], "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
	CHECK(read_response(held[0], &r, resp, sizeof(resp)) == 200);
	for (unsigned i = 0; i < lim->max_connections; i++)
		close(held[i]);
	usleep(50000);
	CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 200);

	/* Clients that hang up before the server accepts them leave dead
	 * connections in its backlog, ahead of a live one: they must not
	 * hold the slots it needs (no 503 for it, and no waiting). */
	int refused = 0;
	for (int round = 0; round < 30; round++) {
		int flood[150];
		unsigned n = 0;
		for (unsigned i = 0; i < 150; i++)
			if ((flood[n] = client()) >= 0)
				n++;
		for (unsigned i = 0; i < n; i++)
			close(flood[i]);
		refused += request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp,
				   sizeof(resp)) != 200;
	}
	CHECK(refused == 0);
	if (refused)
		fprintf(stderr, "  %d of 30 pings after a flood refused\n", refused);

	/* A client that never reads its answers is dropped, and the
	 * server goes on. */
	fd = client();
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	char many[64 * 40];
	many[0] = 0;
	for (int i = 0; i < 40; i++)
		strcat(many, "GET /api/v1/vm.info HTTP/1.1\r\n\r\n");
	for (int i = 0; i < 20; i++)
		send(fd, many, strlen(many), MSG_NOSIGNAL | MSG_DONTWAIT);
	CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 200);
	close(fd);
	api_server_stop(s);
}

/* ---- vm.screenshot on a real virtio-gpu ---- */

/* The backend's GPU calls on a device the simulated driver drives; the
 * rest of the VM is the fake's. */
struct gpu_vm {
	struct fake_vm f;
	struct virtio_gpu *gpu;
};

static int g_screenshot(void *c, unsigned scanout, const char *path,
			struct phy_error *e)
{
	return virtio_gpu_screenshot(((struct gpu_vm *)c)->gpu, scanout, path, e);
}

static enum phy_vm_state g_state(void *c)
{
	return PHY_VM_RUNNING;
}

enum { SW = 72, SH = 40 };

/* A 2D device whose scanout 0 shows the test pattern, and a backend on it
 * (scanout 1 shows nothing). */
static int shot_rig_open(struct gpu_rig *rig, struct gpu_vm *vm,
			 struct api_backend_ops *ops, struct api_backend *b)
{
	struct virtio_gpu_params p = { .mode = VIRTIO_GPU_MODE_2D, .outputs = 2 };
	if (gpu_rig_open(rig, &p) || gpu_rig_start(rig, ~0ull))
		return -1;
	uint64_t gpa[3];
	uint8_t *px = malloc(SW * SH * 4);
	CHECK(gpu_create_2d(rig, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, SW, SH) ==
	      VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(gpu_attach(rig, 1, SW * SH * 4, 3, gpa) == VIRTIO_GPU_RESP_OK_NODATA);
	gpu_pattern_fill(px, SW, SH, 0xff);
	gpu_backing_write(rig, gpa, 3, SW * SH * 4, px);
	CHECK(gpu_transfer_2d(rig, 1, 0, 0, SW, SH, 0) == VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(gpu_set_scanout(rig, 0, 1, 0, 0, SW, SH) == VIRTIO_GPU_RESP_OK_NODATA);
	free(px);
	*ops = fake_ops;
	ops->state = g_state;
	ops->screenshot = g_screenshot;
	*vm = (struct gpu_vm){ .gpu = rig->gpu };
	*b = fake_backend(&vm->f);
	b->ops = ops;
	b->ctx = vm;
	b->desc.gpu_outputs = 2;
	return 0;
}

/* PUT vm.screenshot to `path`: the status, the reply in resp. */
static int shot_to(const char *path, unsigned scanout, char *resp, size_t size)
{
	char req[512], text[1024];
	snprintf(req, sizeof(req), "{\"path\":\"%s\",\"scanout\":%u}", path, scanout);
	screenshot_request(text, sizeof(text), req);
	return request(text, resp, size);
}

/* The PNG at path shows the test pattern. */
static void check_shot(const char *path)
{
	unsigned w = 0, h = 0;
	uint8_t *png = png_read_rgb(path, &w, &h);
	CHECK(png != NULL);
	CHECK(w == SW && h == SH);
	if (png && w == SW && h == SH)
		CHECK_EQ_U64(gpu_pattern_mismatches(png, SW, SH, 0, 0), 0);
	free(png);
}

/* Through the server's socket, as a client sends it: a PNG of what the
 * device shows (a known pattern on a 2D scanout), the right size and
 * every pixel as the guest drew it; a scanout that shows nothing is a
 * 409 and writes no file. */
static void test_screenshot_server(void)
{
	struct gpu_rig rig;
	struct gpu_vm vm;
	struct api_backend_ops ops;
	struct api_backend b;
	REQUIRE(shot_rig_open(&rig, &vm, &ops, &b) == 0);
	struct api_server *s;
	struct phy_error err;
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == 0);

	char path[128], resp[1024];
	snprintf(path, sizeof(path), "%s/screen.png", tmpdir);
	CHECK(shot_to(path, 0, resp, sizeof(resp)) == 204);
	check_shot(path);
	unlink(path);

	/* Scanout 1 exists but shows nothing. */
	CHECK(shot_to(path, 1, resp, sizeof(resp)) == 409);
	CHECK_STR_CONTAINS(resp, "scanout 1 shows nothing");
	CHECK(access(path, F_OK) != 0);
	api_server_stop(s);
	gpu_rig_close(&rig);
}

/* --landlock: the API thread confined as a VM confines the threads it
 * starts (a sandbox scope around its creation) to one directory: a
 * screenshot there works, one elsewhere gets a clear error and makes no
 * file, while this thread, outside the scope, still writes there. */
static void test_screenshot_landlock(void)
{
	struct gpu_rig rig;
	struct gpu_vm vm;
	struct api_backend_ops ops;
	struct api_backend b;
	REQUIRE(shot_rig_open(&rig, &vm, &ops, &b) == 0);
	char in[128], out[128], in_png[160], out_png[160], resp[1024];
	snprintf(in, sizeof(in), "%s/allowed", tmpdir);
	snprintf(out, sizeof(out), "%s/denied", tmpdir);
	snprintf(in_png, sizeof(in_png), "%s/screen.png", in);
	snprintf(out_png, sizeof(out_png), "%s/screen.png", out);
	REQUIRE(mkdir(in, 0700) == 0 && mkdir(out, 0700) == 0);
	struct landlock_ruleset rs;
	struct phy_error err;
	REQUIRE(landlock_ruleset_open(&rs, landlock_abi(), "landlock", &err) == 0);
	CHECK(landlock_allow(&rs, in, LANDLOCK_R | LANDLOCK_W, "landlock", &err) == 0);
	struct api_server *s;
	phy_thread_sandbox(rs.fd);
	int r = api_server_start(sock_path, &b, NULL, &s, &err);
	phy_thread_sandbox(-1);
	REQUIRE(r == 0);

	CHECK(shot_to(in_png, 0, resp, sizeof(resp)) == 204);
	check_shot(in_png);
	CHECK(shot_to(out_png, 0, resp, sizeof(resp)) == 500);
	CHECK_STR_CONTAINS(resp, out_png);
	CHECK_STR_CONTAINS(resp, strerror(EACCES));
	CHECK(access(out_png, F_OK) != 0);
	int fd = open(out_png, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	api_server_stop(s);
	landlock_ruleset_close(&rs);
	unlink(in_png);
	unlink(out_png);
	rmdir(in);
	rmdir(out);
	gpu_rig_close(&rig);
}

static void test_socket_file(void)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_server *s;
	struct phy_error err;
	char resp[8192];

	/* A stale socket (nobody listens) is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == 0);
	CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 200);
	api_server_stop(s);

	/* A socket file that is no longer ours is left alone. */
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == 0);
	unlink(sock_path);
	int other = open(sock_path, O_CREAT | O_WRONLY, 0600);
	close(other);
	api_server_stop(s);
	struct stat st;
	CHECK(lstat(sock_path, &st) == 0 && S_ISREG(st.st_mode));

	/* Not a socket, no directory, too long: errors naming the option. */
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--api-socket");
	CHECK_STR_CONTAINS(err.message, "not a socket");
	unlink(sock_path);
	CHECK(api_server_start("/nonexistent/dir/sock", &b, NULL, &s, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--api-socket");
	char longp[200];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = 0;
	CHECK(api_server_start(longp, &b, NULL, &s, &err) == -PHY_E_INVALID);

	/* Two servers on two paths in one process. */
	char path2[160];
	snprintf(path2, sizeof(path2), "%s.2", sock_path);
	struct api_server *s2;
	struct fake_vm f2 = { .state = PHY_VM_PAUSED };
	struct api_backend b2 = fake_backend(&f2);
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == 0);
	CHECK(api_server_start(path2, &b2, NULL, &s2, &err) == 0);
	CHECK(request("GET /api/v1/vm.info HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "Running");
	api_server_stop(s);
	snprintf(sock_path + strlen(sock_path), 8, ".2");
	CHECK(request("GET /api/v1/vm.info HTTP/1.1\r\n\r\n", resp, sizeof(resp)) == 200);
	CHECK_STR_CONTAINS(resp, "Paused");
	sock_path[strlen(sock_path) - 2] = 0;
	api_server_stop(s2);
	api_server_stop(NULL);
}

/* --api-socket fd=N: the caller's socket, bound; listened on if it was
 * not yet; the caller keeps its descriptor and the file stays. */
static void test_socket_fd(void)
{
	struct fake_vm f = { .state = PHY_VM_RUNNING };
	struct api_backend b = fake_backend(&f);
	struct api_server *s;
	struct phy_error err;
	char resp[8192];

	int unbound = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(api_server_start_fd(unbound, &b, NULL, &s, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--api-socket");
	CHECK_STR_CONTAINS(err.message, "not bound");
	CHECK(api_server_start_fd(-1, &b, NULL, &s, &err) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(err.message, "--api-socket");

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	for (int listening = 0; listening < 2; listening++) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		if (listening)
			CHECK(listen(fd, 4) == 0);
		CHECK(api_server_start_fd(fd, &b, NULL, &s, &err) == 0);
		CHECK(request("GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n", resp,
			      sizeof(resp)) == 200);
		api_server_stop(s);
		struct stat st;
		CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode));
		CHECK(fcntl(fd, F_GETFD) >= 0);
		close(fd);
		unlink(sock_path);
	}
	close(unbound);
}

/* The count, once the server has closed its side of the connections
 * this test closed (it does so when it sees them hang up). */
static int settled_fds(int want)
{
	int n = open_fd_count();
	for (int i = 0; i < 200 && n != want; i++) {
		usleep(5000);
		n = open_fd_count();
	}
	return n;
}

/* Sends text with nr copies of fd attached (SCM_RIGHTS); the status. */
static int request_with_fds(const char *text, int fd, unsigned nr, char *out,
			    size_t size)
{
	int c = client();
	CHECK(c >= 0);
	if (c < 0)
		return -1;
	union {
		char buf[CMSG_SPACE(32 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = CMSG_SPACE(nr * sizeof(int)),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nr * sizeof(int));
	for (unsigned i = 0; i < nr; i++)
		memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	CHECK(sendmsg(c, &msg, 0) == (ssize_t)strlen(text));
	struct rd r = { .len = 0 };
	int status = read_response(c, &r, out, size);
	close(c);
	return status;
}

/* Descriptors that come with a request are the backend's to see and the
 * server's to close, whatever the endpoint does with them. */
static void test_server_fds(void)
{
	struct fake_vm f = { .state = PHY_VM_CREATED };
	struct api_backend b = fake_backend(&f);
	struct api_server *s;
	struct phy_error err;
	char resp[8192];
	CHECK(api_server_start(sock_path, &b, NULL, &s, &err) == 0);
	int p[2];
	CHECK(pipe(p) == 0);
	int before = open_fd_count();
	const char *add = "PUT /api/v1/vm.add-net HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\"id\":\"x\"}";
	CHECK(request_with_fds(add, p[0], 2, resp, sizeof(resp)) == 204);
	CHECK(f.nets == 1 && f.nr_fds == 2 && f.fds_open);
	CHECK(!strcmp(f.body, "{\"id\":\"x\"}"));
	CHECK_EQ_U64(settled_fds(before), before);
	/* An endpoint that takes none: answered, and the descriptors closed. */
	CHECK(request_with_fds("PUT /api/v1/vm.pause HTTP/1.1\r\n\r\n", p[0], 3,
			       resp, sizeof(resp)) == 204);
	CHECK_EQ_U64(settled_fds(before), before);
	/* More than a request may carry: refused, none reaches the backend. */
	CHECK(request_with_fds(add, p[0], API_MAX_FDS + 4, resp, sizeof(resp)) == 400);
	CHECK_STR_CONTAINS(resp, "more descriptors");
	CHECK(f.nets == 1);
	CHECK_EQ_U64(settled_fds(before), before);
	/* The next request on a new connection carries none. */
	CHECK(request(add, resp, sizeof(resp)) == 204);
	CHECK(f.nets == 2 && f.nr_fds == 0);
	api_server_stop(s);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/phy-test-http-api-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", tmpdir);
	test_json();
	test_routes();
	test_balloon_routes();
	test_screenshot_route();
	test_event_format();
	test_event_file();
	test_event_fifo();
	test_event_fd();
	struct api_server_limits lim = { .max_connections = 4,
					 .request_timeout_ms = 300 };
	test_server_basics(&lim);
	test_server_timeouts(&lim);
	test_screenshot_server();
	test_screenshot_landlock();
	test_socket_file();
	test_socket_fd();
	test_server_fds();
	rmdir(tmpdir);
	return check_report("test_http_api");
}
