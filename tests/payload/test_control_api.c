/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VMM (phy_vmm) with its HTTP control API and event monitor on a real
 * VM (local /dev/kvm, the lifecycle64 payload, which prints dots while it
 * runs and exits when its power button is pressed), configured as the CLI
 * does it: --api-socket and --event-monitor. Driven by raw socket writes
 * and, when it is installed, curl: an idle start, vm.create with a
 * VmConfig body, vm.boot, ping, info, counters, pause and resume (the
 * guest's output stops and starts), reboot, garbage, half requests, a
 * flood of 200 connections while the guest keeps running, vm.shutdown and
 * a second vm.boot, vm.delete, vmm.shutdown; a VMM booted from its
 * configuration and ended by its guest (the power button); and the events
 * all of this wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "payload_file.h"
#include "check.h"
#include "api/vmm_control.h"
#include "lib/library.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

#define DEBUG_EXIT_PORT 0x501
#define FLOOD 200

static char dir[64], sock_path[96], events_path[96], disk_path[96];
static _Atomic size_t serial_bytes;

static void serial_hook(void *opaque, const uint8_t *buf, size_t len)
{
	serial_bytes += len;
}

/* ---- a small client ---- */

static int client_to(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_str(int fd, const char *s)
{
	ssize_t n = send(fd, s, strlen(s), MSG_NOSIGNAL);
	(void)n;
}

/* One response (head and Content-Length body) into out; its status, 0 on
 * EOF first, -1 on a timeout or error. */
static int read_response(int fd, char *out, size_t size)
{
	size_t len = 0;
	for (;;) {
		out[len] = 0;
		char *end = strstr(out, "\r\n\r\n");
		if (end) {
			size_t head = (size_t)(end - out) + 4, body = 0;
			char *cl = strstr(out, "Content-Length: ");
			if (cl && cl < end)
				body = strtoul(cl + 16, NULL, 10);
			if (len >= head + body || len + 1 == size)
				return atoi(out + 9);
		}
		if (len + 1 == size)
			return -1;
		ssize_t n = recv(fd, out + len, size - 1 - len, 0);
		/* This thread made the VM's io_uring: its task work interrupts
		 * a blocking recv(), which SO_RCVTIMEO does not restart. */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return len ? -1 : (n == 0 ? 0 : -1);
		len += (size_t)n;
	}
}

static int request(const char *text, char *out, size_t size)
{
	int fd = client_to(sock_path);
	CHECK(fd >= 0);
	if (fd < 0)
		return -1;
	send_str(fd, text);
	int status = read_response(fd, out, size);
	close(fd);
	return status;
}

static int get(const char *endpoint, char *out, size_t size)
{
	char req[256];
	snprintf(req, sizeof(req), "GET /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n\r\n",
		 endpoint);
	return request(req, out, size);
}

static int put(const char *endpoint)
{
	char req[256], out[4096];
	snprintf(req, sizeof(req), "PUT /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n\r\n",
		 endpoint);
	return request(req, out, sizeof(out));
}

static bool guest_runs(void)
{
	size_t before = serial_bytes;
	for (int i = 0; i < 200 && serial_bytes == before; i++)
		usleep(5000);
	return serial_bytes != before;
}

static bool have_curl(void)
{
	return system("command -v curl >/dev/null 2>&1") == 0;
}

/* curl --unix-socket: the status code, and the body in out. */
static int curl(const char *method, const char *endpoint, char *out, size_t size)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "curl -s -m 10 -X %s --unix-socket %s -w '\\n%%{http_code}' "
		 "http://localhost/api/v1/%s", method, sock_path, endpoint);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, size - 1, p);
	out[n] = 0;
	pclose(p);
	char *nl = strrchr(out, '\n');
	if (!nl)
		return -1;
	*nl = 0;
	return atoi(nl + 1);
}

/* ---- the VMM ---- */

static struct vm_test_hooks test_hooks;

/* A started VMM on sock_path and events_path; with `boot`, its
 * configuration has a payload and the VM boots at once. */
static struct phy_vmm *create_vmm(bool boot, bool disk, const char *gpu,
				  struct phy_error *err)
{
	struct phy_config *cfg = phy_config_new();
	char opt[128];
	if (boot) {
		if (gpu)
			CHECK(phy_config_set(cfg, "gpu", gpu, err) == 0);
		CHECK(phy_config_set(cfg, "memory", "size=64M", err) == 0);
		CHECK(phy_config_set(cfg, "serial", "null", err) == 0);
		CHECK(phy_config_set(cfg, "kernel", disk_path, err) == 0);
		snprintf(opt, sizeof(opt), "path=%s", disk_path);
		if (disk)
			CHECK(phy_config_set(cfg, "disk", opt, err) == 0);
	}
	snprintf(opt, sizeof(opt), "path=%s", sock_path);
	CHECK(phy_config_set(cfg, "api-socket", opt, err) == 0);
	/* Filtered: the API thread builds each VM (vm.create, vm.boot, a
	 * second vm.boot after vm.shutdown) under its own filter, and a
	 * forbidden call would kill this test. */
	CHECK(phy_config_set(cfg, "seccomp", "true", err) == 0);
	CHECK(phy_config_set(cfg, "event-monitor", events_path, err) == 0);
	const struct phy_vmm_hooks hooks = { .serial = serial_hook };
	struct phy_vmm *vmm = NULL;
	int ret = library_vmm_create(cfg, &test_hooks, &hooks, &vmm, err);
	phy_config_free(cfg);
	if (!ret && (ret = phy_vmm_start(vmm, err))) {
		phy_vmm_destroy(vmm);
		vmm = NULL;
	}
	return ret ? NULL : vmm;
}

/* PUT endpoint with a body; the status, the answer in out. */
static int put_body(const char *endpoint, const char *body, char *out,
		    size_t size)
{
	char req[2048];
	snprintf(req, sizeof(req),
		 "PUT /api/v1/%s HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: %zu\r\n\r\n%s", endpoint, strlen(body), body);
	return request(req, out, size);
}

/* 200 connections at once: some are served, the rest get 503; none hangs,
 * and the guest runs on. */
static void flood(void)
{
	static int fds[FLOOD];
	char out[4096];
	int opened = 0, ok = 0, busy = 0, other = 0;
	for (int i = 0; i < FLOOD; i++) {
		fds[i] = client_to(sock_path);
		opened += fds[i] >= 0;
	}
	for (int i = 0; i < FLOOD; i++)
		if (fds[i] >= 0)
			send_str(fds[i], "GET /api/v1/vmm.ping HTTP/1.1\r\n\r\n");
	for (int i = 0; i < FLOOD; i++) {
		if (fds[i] < 0)
			continue;
		int st = read_response(fds[i], out, sizeof(out));
		if (st == 200)
			ok++;
		else if (st == 503)
			busy++;
		else
			other++;
		close(fds[i]);
	}
	printf("  flood: %d connected, %d served, %d told 503, %d other\n",
	       opened, ok, busy, other);
	CHECK(opened == FLOOD);
	CHECK(ok >= 1 && busy >= 1 && other == 0);
	CHECK(ok + busy == FLOOD);
}

static void test_api_vm(void)
{
	struct phy_error err = { 0 };
	struct phy_vmm *vmm = create_vmm(false, false, NULL, &err);
	CHECK(vmm != NULL);
	if (!vmm) {
		fprintf(stderr, "phy_vmm_create: %s\n", err.message);
		return;
	}
	char out[16384], body[1024];
	struct stat st;
	CHECK(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	      (st.st_mode & 0777) == 0600);

	/* A second VMM cannot take a live socket. */
	struct phy_error err2;
	CHECK(create_vmm(false, false, NULL, &err2) == NULL);
	CHECK_STR_CONTAINS(err2.message, "in use");

	/* Idle: no VM until vm.create, none running until vm.boot. */
	CHECK(get("vmm.ping", out, sizeof(out)) == 200);
	CHECK(get("vm.info", out, sizeof(out)) == 404);
	CHECK(put("vm.boot") == 404);
	CHECK(put("vm.pause") == 404);
	CHECK(put_body("vm.create", "{\"memory\":{\"size\":67108864}}", out,
		       sizeof(out)) == 400);
	CHECK_STR_CONTAINS(out, "a kernel or firmware is required");
	/* A VM that cannot be built: vm.boot says why, the VMM stays. */
	snprintf(body, sizeof(body),
		 "{\"memory\":{\"size\":67108864},\"payload\":{\"kernel\":\"%s\"},"
		 "\"disks\":[{\"path\":\"%s/none.img\"}]}", disk_path, dir);
	CHECK(put_body("vm.create", body, out, sizeof(out)) == 204);
	CHECK(put_body("vm.boot", "", out, sizeof(out)) == 400);
	CHECK_STR_CONTAINS(out, "vm.boot: --disk: cannot open");
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"state\":\"Created\"");
	CHECK(put("vm.delete") == 204);
	CHECK(get("vm.info", out, sizeof(out)) == 404);
	snprintf(body, sizeof(body),
		 "{\"cpus\":{\"boot_vcpus\":1,\"max_vcpus\":1},"
		 "\"memory\":{\"size\":67108864},"
		 "\"payload\":{\"kernel\":\"%s\"},"
		 "\"disks\":[{\"path\":\"%s\"}],\"balloon\":{\"size\":0},"
		 "\"serial\":{\"mode\":\"Null\"},\"console\":{\"mode\":\"Off\"}}",
		 disk_path, disk_path);
	CHECK(put_body("vm.create", body, out, sizeof(out)) == 204);
	CHECK(put_body("vm.create", body, out, sizeof(out)) == 405);
	CHECK_STR_CONTAINS(out, "already created");
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"state\":\"Created\"");
	CHECK(put("vm.pause") == 405);
	CHECK(put("vm.shutdown") == 405);
	CHECK(vmm_control_vm(vmm) == NULL);
	CHECK(put("vm.boot") == 204);
	CHECK(put("vm.boot") == 405);
	struct phy_vm *vm = vmm_control_vm(vmm);
	CHECK(vm != NULL);
	if (!vm)
		return;
	CHECK(guest_runs());

	CHECK(get("vmm.ping", out, sizeof(out)) == 200);
	char pid[32];
	snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)getpid());
	CHECK_STR_CONTAINS(out, pid);
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"state\":\"Running\"");
	CHECK_STR_CONTAINS(out, "\"memory_actual_size\":67108864");
	CHECK_STR_CONTAINS(out, "\"id\":\"_disk0\"");
	CHECK(get("vm.counters", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "{\"_disk0\":{\"read_bytes\":0,");
	/* vm.resize's desired_balloon becomes the configuration's (vm.info),
	 * and the next vm.boot keeps it, as in Cloud Hypervisor. */
	CHECK(put_body("vm.resize", "{\"desired_balloon\":8388608}", out,
		       sizeof(out)) == 204);
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"balloon\":{\"size\":8388608,");
	/* Hot-plug does not exist: a clear error, the config untouched. */
	snprintf(body, sizeof(body), "{\"path\":\"%s\"}", disk_path);
	CHECK(put_body("vm.add-disk", body, out, sizeof(out)) == 405);
	CHECK_STR_CONTAINS(out, "hot-plug is not supported");

	/* Pause: no guest code runs; resume: it does again. */
	CHECK(put("vm.pause") == 204);
	CHECK(phy_vm_state(vm) == PHY_VM_PAUSED);
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"state\":\"Paused\"");
	CHECK(!guest_runs());
	CHECK(put("vm.pause") == 405);
	CHECK(put("vm.resume") == 204);
	CHECK(guest_runs());
	CHECK(put("vm.resume") == 405);

	/* Reboot: the machine is rebuilt and the guest runs again. */
	CHECK(put("vm.reboot") == 204);
	for (int i = 0; i < 500 && phy_vm_reboot_count(vm) < 1; i++)
		usleep(10000);
	CHECK(phy_vm_reboot_count(vm) >= 1);
	CHECK(guest_runs());

	if (have_curl()) {
		CHECK(curl("GET", "vmm.ping", out, sizeof(out)) == 200);
		CHECK_STR_CONTAINS(out, "\"version\":");
		CHECK(curl("PUT", "vm.pause", out, sizeof(out)) == 204);
		CHECK(curl("GET", "vm.info", out, sizeof(out)) == 200);
		CHECK_STR_CONTAINS(out, "\"state\":\"Paused\"");
		CHECK(curl("PUT", "vm.resume", out, sizeof(out)) == 204);
		CHECK(curl("GET", "vm.nothing", out, sizeof(out)) == 404);
		CHECK(curl("POST", "vm.info", out, sizeof(out)) == 405);
	} else {
		printf("  curl is not installed: its checks are skipped\n");
	}

	/* Garbage: a 4xx and a closed connection, at once. */
	int fd = client_to(sock_path);
	send_str(fd, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage");
	CHECK(read_response(fd, out, sizeof(out)) == 400);
	CHECK(read_response(fd, out, sizeof(out)) == 0);
	close(fd);

	/* Half requests, left hanging while the flood goes on: 408 after
	 * the request timeout. */
	int half[3];
	half[0] = client_to(sock_path);
	send_str(half[0], "GET /api/v1/vm.info HTTP/1.1\r\nHost: loc");
	half[1] = client_to(sock_path);
	send_str(half[1], "PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"x\":");
	half[2] = client_to(sock_path);
	send_str(half[2], "GE");
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	flood();
	CHECK(phy_vm_state(vm) == PHY_VM_RUNNING);
	CHECK(guest_runs());
	CHECK(get("vmm.ping", out, sizeof(out)) == 200);

	for (int i = 0; i < 3; i++) {
		CHECK(read_response(half[i], out, sizeof(out)) == 408);
		close(half[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(t1.tv_sec - t0.tv_sec >= 4);
	CHECK(phy_vm_state(vm) == PHY_VM_RUNNING);
	/* The pause in the half request never happened. */
	CHECK(guest_runs());

	/* vm.shutdown: the VM goes, the VMM and the configuration stay, and
	 * vm.boot starts it again. */
	enum phy_exit_reason reason = PHY_EXIT_NONE;
	CHECK(put("vm.shutdown") == 204);
	CHECK(vmm_control_vm(vmm) == NULL);
	CHECK(!guest_runs());
	CHECK(phy_vmm_wait(vmm, 0, &reason, &err) == -PHY_E_STATE);
	CHECK(get("vm.info", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "\"state\":\"Created\"");
	CHECK(put("vm.shutdown") == 405);
	CHECK(put("vm.boot") == 204);
	CHECK(guest_runs());
	struct phy_balloon_stats bs = { 0 };
	CHECK(vmm_control_vm(vmm) &&
	      phy_vm_balloon_stats(vmm_control_vm(vmm), &bs, &err) == 0);
	CHECK(bs.target_bytes == 8388608);
	/* vm.delete: the VM and its configuration go. */
	CHECK(put("vm.delete") == 204);
	CHECK(vmm_control_vm(vmm) == NULL);
	CHECK(get("vm.info", out, sizeof(out)) == 404);
	/* vmm.shutdown: phy_vmm_wait() returns. */
	CHECK(put("vmm.shutdown") == 204);
	CHECK(phy_vmm_wait(vmm, 10000, &reason, &err) == 0);
	CHECK(reason == PHY_EXIT_STOPPED);
	phy_vmm_destroy(vmm);
	CHECK(lstat(sock_path, &st) == -1 && errno == ENOENT);
}

/* PUT vm.screenshot with a JSON body; the status, the answer in out. */
static int screenshot(const char *body, char *out, size_t size)
{
	char req[1024];
	snprintf(req, sizeof(req),
		 "PUT /api/v1/vm.screenshot HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	return request(req, out, size);
}

/* A VM with a GPU (2D, two outputs): vm.screenshot reaches the device
 * through phy_vm_screenshot() (the payload never sets a scanout, so it
 * shows nothing: 409, no file), checks what it is asked, and vm.counters
 * has the GPU's object. A VM without a GPU says so. */
static void test_screenshot_vm(void)
{
	struct phy_error err = { 0 };
	struct phy_vmm *vmm = create_vmm(true, false, "mode=2d,outputs=2", &err);
	CHECK(vmm != NULL);
	if (!vmm) {
		fprintf(stderr, "phy_vmm_create: %s\n", err.message);
		return;
	}
	char out[4096], body[256], png[128];
	snprintf(png, sizeof(png), "%s/screen.png", dir);
	snprintf(body, sizeof(body), "{\"path\":\"%s\",\"scanout\":1}", png);
	CHECK(screenshot(body, out, sizeof(out)) == 409);
	CHECK_STR_CONTAINS(out, "{\"error\":\"virtio-gpu0: scanout 1 shows nothing\"}");
	CHECK(access(png, F_OK) != 0);
	snprintf(body, sizeof(body), "{\"path\":\"%s\",\"scanout\":2}", png);
	CHECK(screenshot(body, out, sizeof(out)) == 400);
	CHECK_STR_CONTAINS(out, "no scanout 2 (the GPU has 2)");
	CHECK(screenshot("{\"path\":\"screen.png\"}", out, sizeof(out)) == 400);
	CHECK_STR_CONTAINS(out, "must be absolute");
	CHECK(get("vm.counters", out, sizeof(out)) == 200);
	CHECK_STR_CONTAINS(out, "{\"_gpu0\":{\"submits\":0,\"fences\":0,"
			   "\"fence_latency_avg_us\":0.000,");
	CHECK(put("vm.shutdown") == 204);
	/* No VM booted: nothing to take a picture of. */
	snprintf(body, sizeof(body), "{\"path\":\"%s\",\"scanout\":1}", png);
	CHECK(screenshot(body, out, sizeof(out)) == 405);
	CHECK_STR_CONTAINS(out, "not booted");
	phy_vmm_destroy(vmm);

	vmm = create_vmm(true, false, NULL, &err);
	CHECK(vmm != NULL);
	if (!vmm)
		return;
	CHECK(screenshot(body, out, sizeof(out)) == 409);
	CHECK_STR_CONTAINS(out, "the VM has no GPU (--gpu)");
	CHECK(get("vm.counters", out, sizeof(out)) == 200);
	CHECK(strstr(out, "_gpu0") == NULL);
	phy_vmm_destroy(vmm);
}

/* A VMM whose configuration has a payload boots it at once; the guest
 * hears vm.power-button and exits by itself, which ends the VMM. */
static void test_power_button(void)
{
	struct phy_error err = { 0 };
	struct phy_vmm *vmm = create_vmm(true, false, NULL, &err);
	CHECK(vmm != NULL);
	if (!vmm)
		return;
	struct phy_vm *vm = vmm_control_vm(vmm);
	CHECK(vm != NULL && guest_runs());
	CHECK(put("vm.power-button") == 204);
	enum phy_exit_reason reason = PHY_EXIT_NONE;
	CHECK(phy_vmm_wait(vmm, 10000, &reason, &err) == 0);
	CHECK(reason == PHY_EXIT_STOPPED);
	CHECK(vm && vm_debug_exit_value(vm) == 0x77);
	phy_vmm_destroy(vmm);
}

/* What the VMMs wrote to the event monitor, in order. */
static void test_events(void)
{
	static const char *const want[] = {
		"\"vmm\",\"event\":\"starting\"",
		"\"vm\",\"event\":\"deleted\"", /* the VM that could not boot */
		"\"vm\",\"event\":\"booting\"", "\"vm\",\"event\":\"booted\"",
		"\"vm\",\"event\":\"pausing\"", "\"vm\",\"event\":\"paused\"",
		"\"vm\",\"event\":\"resuming\"", "\"vm\",\"event\":\"resumed\"",
		"\"vm\",\"event\":\"rebooting\"", "\"vm\",\"event\":\"rebooted\"",
		"\"vm\",\"event\":\"pausing\"", "\"vm\",\"event\":\"paused\"",
		"\"vm\",\"event\":\"resuming\"", "\"vm\",\"event\":\"resumed\"",
		"\"vm\",\"event\":\"shutdown\",\"properties\":{\"message\":\"stopped\"}",
		"\"vm\",\"event\":\"booting\"", "\"vm\",\"event\":\"booted\"",
		"\"vm\",\"event\":\"shutdown\",\"properties\":{\"message\":\"stopped\"}",
		"\"vm\",\"event\":\"deleted\"", "\"vmm\",\"event\":\"shutdown\"",
		/* the second VMM appends */
		"\"vmm\",\"event\":\"starting\"",
		"\"vm\",\"event\":\"booting\"", "\"vm\",\"event\":\"booted\"",
		"\"vm\",\"event\":\"power-button\"",
		"\"vm\",\"event\":\"shutdown\"",
		"\"vm\",\"event\":\"deleted\"", "\"vmm\",\"event\":\"shutdown\"",
	};
	static char text[65536];
	int fd = open(events_path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = 0;
	const char *line = text;
	size_t i = 0;
	for (; *line && i < sizeof(want) / sizeof(want[0]); i++) {
		const char *nl = strchr(line, '\n');
		CHECK(nl != NULL);
		if (!nl)
			break;
		CHECK(!strncmp(line, "{\"timestamp\":{\"secs\":", 21));
		CHECK(nl[-1] == '}');
		const char *at = strstr(line, want[i]);
		CHECK(at && at < nl);
		if (!at || at > nl)
			fprintf(stderr, "  event %zu: want %s in %.*s\n", i, want[i],
				(int)(nl - line), line);
		line = nl + 1;
	}
	CHECK(i == sizeof(want) / sizeof(want[0]) && *line == 0);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/phy-test-control-api-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	snprintf(events_path, sizeof(events_path), "%s/events", dir);
	snprintf(disk_path, sizeof(disk_path), "%s/disk.img", dir);
	int fd = open(disk_path, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	size_t size = 0;
	uint8_t *code = payload_read("lifecycle64.bin", &size);
	CHECK(code != NULL);
	if (code) {
		test_hooks = (struct vm_test_hooks){
			.payload_mode = PAYLOAD_LONG64,
			.payload = code,
			.payload_size = size,
			.debug_exit_port = DEBUG_EXIT_PORT,
		};
		test_api_vm();
		test_power_button();
		test_events();
		test_screenshot_vm();
	}
	free(code);
	unlink(events_path);
	unlink(disk_path);
	rmdir(dir);
	return check_report("test_control_api");
}
