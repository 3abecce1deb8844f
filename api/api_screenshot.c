// SPDX-License-Identifier: Apache-2.0
/*
 * PUT /api/v1/vm.screenshot {"path": "/abs/file.png", "scanout": 0}: what
 * a GPU scanout shows, written by the VMM as a PNG file at `path`.
 *
 * The image goes to a file rather than into the answer: a screen's PNG
 * can be larger than any answer may be (API_MAX_REPLY), and the socket is
 * the VMM user's own (mode 0600), so whoever asks may write where the VMM
 * can. The path must be absolute (the VMM's working directory is not the
 * client's), and its directory is checked first so that a path the client
 * got wrong is a 400 saying why, not a 500 from deep in the PNG writer.
 */
#define _GNU_SOURCE
#include "api/api_routes.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/json_read.h"

#define USAGE "{\"path\": \"/absolute/file.png\", \"scanout\": 0}"

static void bad(struct api_reply *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad(struct api_reply *r, int status, const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	int n = snprintf(msg, sizeof(msg), "vm.screenshot: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	api_reply_error(r, status, msg);
}

/* Whether the file can be made at `path` (absolute); false with the
 * answer set when it cannot. */
static bool writable_path(const char *path, struct api_reply *r)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	struct stat st;

	if (!slash[1]) {
		bad(r, 400, "\"path\" names a directory: %s", path);
		return false;
	}
	memcpy(dir, path, n);
	dir[n] = 0;
	const char *why = NULL;
	if (stat(dir, &st))
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(dir, W_OK | X_OK))
		why = strerror(errno);
	if (why) {
		bad(r, 400, "cannot write in %s: %s", dir, why);
		return false;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		bad(r, 400, "\"path\" names a directory: %s", path);
		return false;
	}
	return true;
}

void api_vm_screenshot(const struct api_backend *b,
		       const struct http_request *req, struct api_reply *r)
{
	char path[PATH_MAX], msg[160];
	uint64_t scanout = 0;
	struct json_field f[] = {
		{.name = "path",
		 .kind = JSON_FIELD_STRING,
		 .required = true,
		 .str = path,
		 .str_size = sizeof(path)},
		{.name = "scanout",
		 .kind = JSON_FIELD_UINT,
		 .uint = &scanout,
		 .max = UINT32_MAX},
	};

	if (!b->desc.gpu_outputs)
		return bad(r, 409, "the VM has no GPU (--gpu)");
	if (!req->body_len)
		return bad(r, 400, "takes a JSON body: " USAGE);
	if (json_read_object(req->body, req->body_len, f, 2, msg, sizeof(msg)))
		return bad(r, 400, "%s (expected " USAGE ")", msg);
	if (path[0] != '/')
		return bad(r, 400, "\"path\" must be absolute: %s", path);
	if (scanout >= b->desc.gpu_outputs)
		return bad(r, 400, "no scanout %llu (the GPU has %u)",
			   (unsigned long long)scanout, b->desc.gpu_outputs);
	if (!writable_path(path, r))
		return;
	struct phy_error err = {0};
	int ret = b->ops->screenshot(b->ctx, (unsigned)scanout, path, &err);
	if (!ret) {
		r->status = 204;
		return;
	}
	/* Nothing on that scanout yet, or no device during a reboot: the
	 * guest's state, not the request, is the obstacle. */
	int status = ret == -PHY_E_INVALID ? 409
		     : ret == -PHY_E_STATE ? 405
					   : 500;
	api_reply_error(r, status,
			err.message[0] ? err.message : "vm.screenshot failed");
}
