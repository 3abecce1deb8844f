/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: a client's byte stream through the control API's HTTP
 * parser, as the server consumes it (one request after another from the
 * same buffer, arriving in pieces), and every parsed request through the
 * routes on a fake VM. The parser must never read past the bytes it was
 * given (each piece is an exact-size heap copy: ASan watches its end), must
 * account for every byte, and every answer must be a status with a body
 * the JSON writer produced. The bodies of vm.create, vm.add-disk and
 * vm.add-net go through the real VmConfig reader (jansson and the option
 * parsers) into a configuration, and vm.add-net's may come with
 * descriptors (a pipe's: never a tap, so always refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "api/api_routes.h"
#include "api/http.h"
#include "vmm/config/config.h"
#include "vmm/config/config_json.h"

static enum phy_vm_state f_state(void *ctx)
{
	return *(enum phy_vm_state *)ctx;
}

static int f_act(void *ctx, struct phy_error *err)
{
	enum phy_vm_state *s = ctx;
	if (*s == PHY_VM_STOPPED) {
		err->code = PHY_E_STATE;
		strcpy(err->message, "stopped \"\x01\xff\"");
		return -PHY_E_STATE;
	}
	*s = (enum phy_vm_state)((*s + 1) % 4);
	return 0;
}

static int f_stats(void *ctx, unsigned i, struct phy_disk_stats *out,
		   struct phy_error *err)
{
	memset(out, 0xff, sizeof(*out));
	return 0;
}

static int f_net_stats(void *ctx, unsigned i, struct phy_net_stats *out,
		       struct phy_error *err)
{
	memset(out, 0xff, sizeof(*out));
	out->queue_pairs = 1 + i % PHY_NET_MAX_QUEUE_PAIRS;
	out->link_up = 1;
	return 0;
}

static int f_gpu_stats(void *ctx, struct phy_gpu_stats *out,
		       struct phy_error *err)
{
	memset(out, 0xff, sizeof(*out));
	return 0;
}

/* Writes nothing: the route must hand over an absolute path and a
 * scanout the GPU has; the fake's answer alternates. */
static int f_screenshot(void *ctx, unsigned scanout, const char *path,
			struct phy_error *err)
{
	static unsigned calls;
	if (path[0] != '/' || scanout >= 2)
		abort();
	if (calls++ % 2 == 0)
		return 0;
	err->code = PHY_E_IO;
	strcpy(err->message, "cannot write \"\xff\"");
	return -PHY_E_IO;
}

/* A whole VmConfig into a fresh configuration, as vm.create reads it. */
static int f_create(void *ctx, const char *body, size_t len,
		    struct phy_error *err)
{
	struct phy_config *cfg = phy_config_new();
	int ret = config_json_apply(cfg, body, len, "vm.create", err);
	if (!ret)
		ret = phy_config_validate(cfg, err);
	phy_config_free(cfg);
	return ret;
}

/* Devices pile up in one configuration until it is full, then start
 * again, so the checks against what is there already run too. */
static struct phy_config *added;

static struct phy_config *added_config(void)
{
	if (added && added->nr_items > 48) {
		phy_config_free(added);
		added = NULL;
	}
	if (!added)
		added = phy_config_new();
	return added;
}

static int f_add_disk(void *ctx, const char *body, size_t len,
		      struct phy_error *err)
{
	return config_json_add_disk(added_config(), body, len, err);
}

static int f_add_net(void *ctx, const char *body, size_t len, const int *fds,
		     unsigned nr_fds, struct phy_error *err)
{
	return config_json_add_net(added_config(), body, len, fds, nr_fds, err);
}

static const struct api_backend_ops ops = {
	.state = f_state,
	.pause = f_act,
	.resume = f_act,
	.power_button = f_act,
	.reboot = f_act,
	.shutdown = f_act,
	.vmm_shutdown = f_act,
	.create = f_create,
	.boot = f_act,
	.delete = f_act,
	.add_disk = f_add_disk,
	.add_net = f_add_net,
	.disk_stats = f_stats,
	.net_stats = f_net_stats,
	.gpu_stats = f_gpu_stats,
	.screenshot = f_screenshot,
};

static const char *const ids[] = { "_disk0", "\xc3(\"id\\" };
static const char *const net_ids[] = { "_net0", "lan\"\x01" };

static void check_status(int status)
{
	if (status < 200 || status > 599)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static enum phy_vm_state state = PHY_VM_RUNNING;
	static struct api_reply reply;
	static int ready, pipe_fds[2];
	if (!ready) {
		api_reply_init(&reply);
		if (pipe(pipe_fds))
			abort();
		ready = 1;
	}
	struct api_backend b = {
		.ops = &ops,
		.ctx = &state,
		.desc = {
			.config_json = "{}",
			.memory_size = 1,
			.nr_disks = 2,
			.disk_ids = ids,
			.nr_nets = 2,
			.net_ids = net_ids,
			.gpu_outputs = 2,
			.version = "fuzz",
		},
	};
	/* The first byte sets how big the pieces arriving are, and whether
	 * (and how many) descriptors come with each request. */
	if (size < 1)
		return 0;
	size_t piece = 1 + data[0] % 64;
	unsigned nr_fds = data[0] >> 6;
	const int fds[3] = { pipe_fds[0], pipe_fds[1], pipe_fds[0] };
	data++;
	size--;
	char *buf = NULL;
	size_t len = 0;
	for (size_t off = 0; off < size || len;) {
		size_t take = size - off < piece ? size - off : piece;
		char *nb = malloc(len + take ? len + take : 1);
		if (len)
			memcpy(nb, buf, len);
		memcpy(nb + len, data + off, take);
		free(buf);
		buf = nb;
		len += take;
		off += take;
		struct http_request req;
		struct http_error perr;
		long n = http_parse_request(buf, len, &req, &perr);
		if (n < 0) {
			check_status(perr.status);
			if (!memchr(perr.message, 0, sizeof(perr.message)))
				abort();
			break; /* the server closes the connection */
		}
		if (n == 0) {
			if (len >= HTTP_MAX_REQUEST)
				abort(); /* the server could never finish it */
			if (take == 0)
				break; /* the stream ended mid-request */
			continue;
		}
		if ((size_t)n > len || !memchr(req.path, 0, sizeof(req.path)) ||
		    (req.body_len && (req.body < buf || req.body + req.body_len > buf + n)))
			abort();
		req.fds = fds;
		req.nr_fds = nr_fds;
		api_route(&b, &req, &reply);
		check_status(reply.status);
		if (reply.status != 204 && (reply.body.failed || !reply.body.len))
			abort();
		len -= (size_t)n;
		memmove(buf, buf + n, len);
	}
	free(buf);
	return 0;
}
