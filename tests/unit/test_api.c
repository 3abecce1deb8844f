/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public API's error paths that need no /dev/kvm: every call with a
 * NULL handle, creation from bad or incomplete configurations (each failing
 * with one line and no VM), bad option strings, and the event names. The
 * calls refused in the wrong VM state are in tests/payload/test_lifecycle.c,
 * which has a VM to ask.
 */
#include <stdbool.h>
#include <stdio.h>

#include "check.h"

#include <phyllome/vmm.h>

static bool one_line(const struct phy_error *err)
{
	return err->message[0] && !strchr(err->message, '\n');
}

/* ret must be -PHY_E_INVALID, with err filled; the same call with a NULL
 * err must not crash (checked by the caller passing NULL again). */
static void expect_invalid(int ret, struct phy_error *err, const char *what)
{
	CHECK_EQ_U64(ret, -PHY_E_INVALID);
	CHECK_EQ_U64(err->code, PHY_E_INVALID);
	CHECK(one_line(err));
	CHECK_STR_CONTAINS(err->message, what);
	*err = (struct phy_error){ 0 };
}

static void noop_event(void *opaque, const struct phy_event *ev)
{
}

static void noop_log(void *opaque, const char *msg)
{
}

static void noop_serial(void *opaque, const uint8_t *buf, size_t len)
{
}

static void test_null_vm(void)
{
	struct phy_error err = { 0 };
	enum phy_exit_reason reason;
	struct phy_disk_stats stats;

	expect_invalid(phy_vm_start(NULL, &err), &err, "NULL");
	expect_invalid(phy_vm_wait(NULL, 0, &reason, &err), &err, "NULL");
	expect_invalid(phy_vm_pause(NULL, &err), &err, "phy_vm_pause");
	expect_invalid(phy_vm_resume(NULL, &err), &err, "phy_vm_resume");
	expect_invalid(phy_vm_power_button(NULL, &err), &err,
		       "phy_vm_power_button");
	expect_invalid(phy_vm_reboot(NULL, &err), &err, "phy_vm_reboot");
	expect_invalid(phy_vm_disk_stats(NULL, 0, &stats, &err), &err, "NULL");
	struct phy_balloon_stats bst;
	struct phy_vsock_stats vst;
	expect_invalid(phy_vm_vsock_stats(NULL, &vst, &err), &err, "phy_vm_vsock_stats: NULL");
	struct phy_fs_stats fst;
	expect_invalid(phy_vm_fs_stats(NULL, 0, &fst, &err), &err, "phy_vm_fs_stats: NULL");
	expect_invalid(phy_vm_balloon_stats(NULL, &bst, &err), &err, "phy_vm_balloon_stats: NULL");
	expect_invalid(phy_vm_set_balloon(NULL, 4096, &err), &err, "phy_vm_set_balloon: NULL");
	CHECK_EQ_U64(phy_vm_set_balloon(NULL, 0, NULL), -PHY_E_INVALID);
	expect_invalid(phy_vm_landlock_thread(NULL, &err), &err, "phy_vm_landlock_thread: NULL");
	CHECK_EQ_U64(phy_vm_landlock_thread(NULL, NULL), -PHY_E_INVALID);
	expect_invalid(phy_config_add_landlock_rule(NULL, "/", "r", &err), &err,
		       "phy_config_add_landlock_rule: NULL");
	expect_invalid(phy_config_set_landlock(NULL, 1, &err), &err, "NULL");

	/* A NULL err is always allowed. */
	CHECK_EQ_U64(phy_vm_start(NULL, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_wait(NULL, -1, NULL, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_pause(NULL, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_resume(NULL, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_power_button(NULL, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_reboot(NULL, NULL), -PHY_E_INVALID);

	/* The calls without an error struct. */
	CHECK_EQ_U64(phy_vm_stop(NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_set_event_handler(NULL, noop_event, NULL),
		     -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_set_log(NULL, noop_log, NULL), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_set_serial_output(NULL, noop_serial, NULL),
		     -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_serial_input(NULL, (const uint8_t *)"x", 1),
		     -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_console_input(NULL, PHY_CONSOLE_VIRTIO,
					  (const uint8_t *)"x", 1),
		     -PHY_E_INVALID);
	CHECK_EQ_U64(phy_vm_tty_console(NULL), -PHY_E_INVALID);
	char path[64];
	CHECK_EQ_U64(phy_vm_console_path(NULL, PHY_CONSOLE_SERIAL, path,
					 sizeof(path), NULL),
		     -PHY_E_INVALID);
	CHECK(phy_vm_state(NULL) == PHY_VM_STOPPED);
	CHECK(phy_vm_crash_report(NULL) == NULL);
	CHECK_EQ_U64(phy_vm_reboot_count(NULL), 0);
	phy_vm_destroy(NULL);
	phy_config_free(NULL);
}

/* phy_vm_create refuses, leaves *out NULL and says why in one line. */
static void expect_create_fails(struct phy_config *cfg, int code,
				const char *what)
{
	struct phy_error err = { 0 };
	struct phy_vm *vm = (struct phy_vm *)&err; /* must be overwritten */
	int ret = phy_vm_create(cfg, &vm, &err);
	CHECK_EQ_U64(ret, -code);
	CHECK_EQ_U64(err.code, code);
	CHECK(vm == NULL);
	CHECK(one_line(&err));
	CHECK_STR_CONTAINS(err.message, what);
	if (!vm) {
		vm = (struct phy_vm *)&err;
		CHECK_EQ_U64(phy_vm_create(cfg, &vm, NULL), -code);
		CHECK(vm == NULL);
	}
}

static void test_create_errors(void)
{
	struct phy_error err = { 0 };
	struct phy_config *cfg = phy_config_new();
	CHECK(cfg != NULL);
	if (!cfg)
		return;

	expect_invalid(phy_vm_create(cfg, NULL, &err), &err, "NULL");
	expect_create_fails(NULL, PHY_E_INVALID, "no configuration");
	expect_create_fails(cfg, PHY_E_INVALID, "--kernel");

	/* Images that are checked before /dev/kvm is opened. */
	CHECK(phy_config_set(cfg, "kernel", "/nonexistent/vmlinuz", &err) == 0);
	expect_create_fails(cfg, PHY_E_IMAGE, "kernel: cannot open");
	CHECK(phy_config_set(cfg, "kernel", "/etc/hostname", &err) == 0);
	expect_create_fails(cfg, PHY_E_IMAGE, "not a Linux kernel");
	phy_config_free(cfg);

	cfg = phy_config_new();
	CHECK(phy_config_set(cfg, "initramfs", "/etc/hostname", &err) == 0);
	expect_create_fails(cfg, PHY_E_INVALID, "--kernel");
	CHECK_EQ_U64(phy_config_validate(cfg, &err), -PHY_E_INVALID);
	CHECK_EQ_U64(phy_config_validate(NULL, NULL), -PHY_E_INVALID);
	phy_config_free(cfg);
}

/* Bad option strings: one line naming the option, and the configuration
 * keeps its previous value. */
static void test_bad_options(void)
{
	static const char *const bad[][2] = {
		{ "bogus", "1" },
		{ "cpus", "boot=0" },
		{ "cpus", "boot=" },
		{ "cpus", "4" },
		{ "memory", "size=1X" },
		{ "memory", "size=-1G" },
		{ "memory", "" },
		{ "serial", "file=" },
		{ "serial", "somewhere" },
		{ "disk", "readonly=on" },
		{ "disk", "path=/tmp/x,queue_size=3" },
	};
	struct phy_config *cfg = phy_config_new();
	struct phy_error err = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = phy_config_set(cfg, bad[i][0], bad[i][1], &err);
		if (ret != -PHY_E_INVALID)
			fprintf(stderr, "%s=%s: %d\n", bad[i][0], bad[i][1], ret);
		expect_invalid(ret, &err, bad[i][0]);
		CHECK_EQ_U64(phy_config_set(cfg, bad[i][0], bad[i][1], NULL),
			     -PHY_E_INVALID);
	}
	expect_invalid(phy_config_set(NULL, "kernel", "x", &err), &err, "");
	expect_invalid(phy_config_set(cfg, NULL, "x", &err), &err, "");
	expect_invalid(phy_config_set(cfg, "kernel", NULL, &err), &err,
		       "kernel");
	phy_config_free(cfg);
}

static void test_event_names(void)
{
	static const char *const want[] = {
		"started", "paused", "resumed", "rebooting", "rebooted",
		"power_button", "shutdown", "crash", "device_error",
	};
	for (int k = PHY_EVENT_STARTED; k <= PHY_EVENT_DEVICE_ERROR; k++)
		CHECK_STR_CONTAINS(phy_event_name((enum phy_event_kind)k),
				   want[k]);
	for (int k = PHY_EVENT_STARTED; k <= PHY_EVENT_DEVICE_ERROR; k++)
		CHECK(strcmp(phy_event_name((enum phy_event_kind)k),
			     want[k]) == 0);
	CHECK(strcmp(phy_event_name((enum phy_event_kind)-1), "unknown") == 0);
	CHECK(strcmp(phy_event_name((enum phy_event_kind)99), "unknown") == 0);
}

static void test_version(void)
{
	char want[32];
	snprintf(want, sizeof(want), "%d.%d.%d", PHY_VERSION_MAJOR,
		 PHY_VERSION_MINOR, PHY_VERSION_PATCH);
	CHECK(strcmp(phy_version(), want) == 0);
}

int main(void)
{
	test_null_vm();
	test_create_errors();
	test_bad_options();
	test_event_names();
	test_version();
	return check_report("test_api");
}
