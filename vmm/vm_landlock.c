// SPDX-License-Identifier: Apache-2.0
/*
 * What a VM may open once its threads are confined. Files it opened
 * before (the kernel, disks, /dev/kvm, a tap) stay usable whatever the
 * rules say; the rules cover what it opens later: disks and taps added
 * through the API, a console file or socket reopened, the screenshot,
 * what virglrenderer and Mesa load on the GPU thread after each reboot,
 * and the unlinking of its sockets when it ends.
 */
#define _GNU_SOURCE
#include "vmm/vm_landlock.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/config/config_disk.h"
#include "vmm/config/config_firmware.h"
#include "vmm/config/config_gpu.h"
#include "vmm/config/config_landlock.h"
#include "vmm/config/config_net.h"
#include "vmm/config/config_rng.h"
#include "vmm/config/config_vsock.h"
#include "vmm/vm_internal.h"

#define OPT "landlock"

/* Host paths a device needs when the host has them (a missing one is
 * no error: a machine without a GPU has no /dev/dri). */
static const char *const gpu_paths_r[] = {
	/* Mesa's and glvnd's libraries, dlopen()ed with their dependencies */
	"/usr/lib", "/etc/ld.so.cache",
	/* EGL and GL vendor files, driver options, libdrm's device names */
	"/usr/share/glvnd", "/etc/glvnd", "/usr/share/egl", "/etc/egl",
	"/usr/share/drirc.d", "/etc/drirc", "/usr/share/libdrm",
	/* libdrm finds a render node's device through sysfs */
	"/sys/dev/char", "/sys/devices",
	/* the window's keymaps and X's authority */
	"/usr/share/X11", NULL,
};

static int allow_if_there(struct landlock_ruleset *rs, const char *path,
			  unsigned access, struct phy_error *err)
{
	struct stat st;
	return stat(path, &st) ? 0 : landlock_allow(rs, path, access, OPT, err);
}

/* A file the VM may create: the file itself when it is there, else the
 * directory it will be made in. A socket gets its directory, where it is
 * bound and at the end unlinked, for sockets only (connecting to one, as
 * vsock does to PATH_port, needs no right). */
static int allow_new(struct landlock_ruleset *rs, const char *path,
		     bool socket, struct phy_error *err)
{
	struct stat st;
	if (!socket && !stat(path, &st))
		return landlock_allow(rs, path, LANDLOCK_R | LANDLOCK_W, OPT, err);
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path),
			 path);
	return landlock_allow(rs, dir, socket ? LANDLOCK_SOCKETS : LANDLOCK_R | LANDLOCK_W,
			      OPT, err);
}

static int allow_console(struct landlock_ruleset *rs, enum serial_mode mode,
			 const char *path, struct phy_error *err)
{
	if (mode == SERIAL_SOCKET)
		return allow_new(rs, path, true, err);
	if (mode == SERIAL_FILE) {
		/* Made now, as the console's open would make it, so that the
		 * rule is the file's and not its whole directory's. */
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
		return allow_new(rs, path, false, err);
	}
	if (mode != SERIAL_PTY)
		return 0;
	int ret = landlock_allow(rs, "/dev/ptmx", LANDLOCK_R | LANDLOCK_W, OPT, err);
	return ret ? ret : landlock_allow(rs, "/dev/pts", LANDLOCK_R | LANDLOCK_W, OPT, err);
}

/* The window's thread connects to the X server (a socket: no right
 * needed) with the cookie of the X authority file. */
static int allow_window(const struct phy_config *cfg,
			struct landlock_ruleset *rs, struct phy_error *err)
{
	if (cfg->display == DISPLAY_NONE)
		return 0;
	const char *xauth = getenv("XAUTHORITY"), *home = getenv("HOME");
	char path[PATH_MAX];
	if (!xauth && home) {
		snprintf(path, sizeof(path), "%s/.Xauthority", home);
		xauth = path;
	}
	return xauth ? allow_if_there(rs, xauth, LANDLOCK_R, err) : 0;
}

static int allow_devices(const struct phy_config *cfg,
			 struct landlock_ruleset *rs, struct phy_error *err)
{
	int ret = 0;
	const struct disk_config *d;
	for (unsigned i = 0; !ret && (d = config_item(cfg, &disk_option, i)); i++)
		ret = landlock_allow(rs, d->path,
				     d->readonly ? LANDLOCK_R : LANDLOCK_R | LANDLOCK_W,
				     OPT, err);
	const struct firmware_config *fw = config_firmware(cfg);
	if (!ret && fw)
		ret = landlock_allow(rs, fw->path, LANDLOCK_R, OPT, err);
	if (!ret && fw && fw->vars)
		ret = allow_new(rs, fw->vars, false, err);
	if (!ret && fw && fw->vars_template)
		ret = landlock_allow(rs, fw->vars_template, LANDLOCK_R, OPT, err);
	const struct rng_config *rng = config_item(cfg, &rng_option, 0);
	if (!ret && rng)
		ret = landlock_allow(rs, rng->src, LANDLOCK_R, OPT, err);
	const struct vsock_config *vs = config_item(cfg, &vsock_option, 0);
	if (!ret && vs)
		ret = allow_new(rs, vs->socket, true, err);
	/* A tap is made or adopted through the clone device, here or later
	 * by vm.add-net. */
	if (!ret && config_count(cfg, &net_option))
		ret = landlock_allow(rs, "/dev/net/tun", LANDLOCK_R | LANDLOCK_W, OPT, err);
	bool gpu = config_count(cfg, &gpu_option) || cfg->display != DISPLAY_NONE;
	if (!ret && gpu)
		ret = allow_if_there(rs, "/dev/dri", LANDLOCK_R | LANDLOCK_W, err);
	for (unsigned i = 0; !ret && gpu && gpu_paths_r[i]; i++)
		ret = allow_if_there(rs, gpu_paths_r[i], LANDLOCK_R, err);
	return ret ? ret : allow_window(cfg, rs, err);
}

int vm_landlock_ruleset(const struct phy_config *cfg, int abi,
			struct landlock_ruleset *rs, struct phy_error *err)
{
	rs->fd = -1;
	if (!cfg->landlock)
		return 0;
	int ret = landlock_ruleset_open(rs, abi, OPT, err);
	/* Open already when a VM is built, but a missing one is KVM's
	 * error to report, not ours. */
	if (!ret)
		ret = allow_if_there(rs, "/dev/kvm", LANDLOCK_R | LANDLOCK_W, err);
	/* Threads read their own /proc entries (glibc's pthread_getattr_np,
	 * the sanitizers' maps). */
	if (!ret)
		ret = landlock_allow(rs, "/proc/self", LANDLOCK_R, OPT, err);
	if (!ret && cfg->kernel)
		ret = landlock_allow(rs, cfg->kernel, LANDLOCK_R, OPT, err);
	if (!ret && cfg->initramfs)
		ret = landlock_allow(rs, cfg->initramfs, LANDLOCK_R, OPT, err);
	if (!ret)
		ret = allow_console(rs, cfg->serial, cfg->serial_path, err);
	if (!ret)
		ret = allow_console(rs, cfg->console, cfg->console_path, err);
	if (!ret && cfg->landlock_socket)
		ret = allow_new(rs, cfg->landlock_socket, true, err);
	if (!ret && cfg->screenshot_on_exit)
		ret = allow_new(rs, cfg->screenshot_on_exit, false, err);
	if (!ret)
		ret = allow_devices(cfg, rs, err);
	const struct landlock_rule_config *r;
	for (unsigned i = 0; !ret && (r = config_item(cfg, &landlock_rule_option, i)); i++)
		ret = landlock_allow(rs, r->path, r->access, "landlock-rules", err);
	if (ret)
		landlock_ruleset_close(rs);
	return ret;
}

int phy_vm_landlock_thread(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_landlock_thread: NULL vm");
	int ret = vm->landlock.fd < 0 ? 0 : landlock_restrict_fd(vm->landlock.fd);
	if (ret)
		return phy_err_errno(err, PHY_E_INTERNAL, -ret,
				     "--landlock: cannot confine the thread");
	return 0;
}
