/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Payload tests: small guest programs run on the local /dev/kvm through the
 * VM's real code paths. They check PIO and MMIO exit dispatch, the UART
 * (output through the serial hook), the real-mode and long-mode entry states,
 * the debug exit port and the crash report of a triple fault.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "payload_file.h"
#include "check.h"
#include "lib/library.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

#define TEST_PORT 0x510
#define TEST_MMIO 0xf0000000ULL /* outside the PCI BAR windows */
#define DEBUG_EXIT_PORT 0x501

struct recorder {
	char serial[4096];
	size_t serial_len;
	uint8_t port_written;
	uint32_t port_words[2];
	unsigned nr_port_words;
	uint64_t mmio_offset, mmio_value;
	uint32_t mmio_len;
	unsigned mmio_writes;
};

static void serial_hook(void *opaque, const uint8_t *buf, size_t len)
{
	struct recorder *r = opaque;
	for (size_t i = 0; i < len && r->serial_len + 1 < sizeof(r->serial); i++)
		r->serial[r->serial_len++] = (char)buf[i];
}

static void port_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	memset(data, 0, len);
	if (off == 1)
		data[0] = 0x5a;
}

static void port_write(void *opaque, uint64_t off, const uint8_t *data,
		       uint32_t len)
{
	struct recorder *r = opaque;
	if (off == 0 && len == 1)
		r->port_written = data[0];
	if (off == 2 && len == 4 && r->nr_port_words < 2)
		memcpy(&r->port_words[r->nr_port_words++], data, 4);
}

static const struct bus_device_ops port_ops = { port_read, port_write };

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	uint64_t v = off == 8 ? 0x1122334455667788ULL : 0;
	memcpy(data, &v, len > 8 ? 8 : len);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data,
		       uint32_t len)
{
	struct recorder *r = opaque;
	r->mmio_offset = off;
	r->mmio_len = len;
	r->mmio_value = 0;
	memcpy(&r->mmio_value, data, len > 8 ? 8 : len);
	r->mmio_writes++;
}

static const struct bus_device_ops mmio_ops = { mmio_read, mmio_write };

/* Runs one payload to completion; returns the exit reason. */
static enum phy_exit_reason run_payload_smp(const char *name, enum payload_mode mode,
					    const char *cpus, struct recorder *rec,
					    struct phy_vm **keep)
{
	size_t size = 0;
	uint8_t *code = payload_read(name, &size);
	CHECK(code != NULL && size > 0);
	if (!code)
		return PHY_EXIT_ERROR;
	struct phy_config *cfg = phy_config_new();
	struct vm_test_hooks hooks = { 0 };
	struct phy_error err = { 0 };
	CHECK(phy_config_set(cfg, "memory", "size=64M", &err) == 0);
	CHECK(phy_config_set(cfg, "cpus", cpus, &err) == 0);
	hooks.payload_mode = mode;
	hooks.payload = code;
	hooks.payload_size = size;
	hooks.debug_exit_port = DEBUG_EXIT_PORT;
	struct phy_vm *vm = NULL;
	int ret = library_vm_create(cfg, &hooks, &vm, &err);
	phy_config_free(cfg);
	if (ret) {
		fprintf(stderr, "%s: phy_vm_create: %s\n", name, err.message);
		CHECK(ret == 0);
		free(code);
		return PHY_EXIT_ERROR;
	}
	CHECK(bus_register(&vm->m.pio, TEST_PORT, 8, &port_ops, rec, "test-port", &err) == 0);
	CHECK(bus_register(&vm->m.mmio, TEST_MMIO, 16, &mmio_ops, rec, "test-mmio", &err) == 0);
	CHECK(phy_vm_set_serial_output(vm, serial_hook, rec) == 0);
	CHECK(phy_vm_start(vm, &err) == 0);
	enum phy_exit_reason reason = PHY_EXIT_NONE;
	if (phy_vm_wait(vm, 60000, &reason, &err)) {
		fprintf(stderr, "%s: did not finish: %s\n", name, err.message);
		phy_vm_stop(vm);
		phy_vm_wait(vm, -1, &reason, &err);
		reason = PHY_EXIT_NONE;
	}
	free(code);
	if (keep)
		*keep = vm;
	else
		phy_vm_destroy(vm);
	return reason;
}

static enum phy_exit_reason run_payload(const char *name, enum payload_mode mode,
					struct recorder *rec, struct phy_vm **keep)
{
	return run_payload_smp(name, mode, "boot=1", rec, keep);
}

/* 16 vCPUs: each gets its CPUID, MSRs and LAPIC set up; the other 15 wait
 * for a SIPI while the boot vCPU runs the payload. */
static void test_smp16(void)
{
	struct recorder rec = { 0 };
	struct phy_vm *vm = NULL;
	enum phy_exit_reason r = run_payload_smp("long64.bin", PAYLOAD_LONG64,
						 "boot=16", &rec, &vm);
	CHECK(r == PHY_EXIT_STOPPED);
	CHECK(vm && vm->m.nr_vcpus == 16);
	CHECK_STR_CONTAINS(rec.serial, "long mode ok\n");
	phy_vm_destroy(vm);
}

static void test_real_mode(void)
{
	struct recorder rec = { 0 };
	struct phy_vm *vm = NULL;
	enum phy_exit_reason r = run_payload("real16.bin", PAYLOAD_REAL16, &rec, &vm);
	CHECK(r == PHY_EXIT_STOPPED);
	CHECK_STR_CONTAINS(rec.serial, "real mode ok\n");
	CHECK_EQ_U64(rec.port_written, 0x5b);
	CHECK_EQ_U64(vm ? vm_debug_exit_value(vm) : 0, 0x42);
	phy_vm_destroy(vm);
}

static void test_long_mode(void)
{
	struct recorder rec = { 0 };
	struct phy_vm *vm = NULL;
	enum phy_exit_reason r = run_payload("long64.bin", PAYLOAD_LONG64, &rec, &vm);
	CHECK(r == PHY_EXIT_STOPPED);
	CHECK_STR_CONTAINS(rec.serial, "long mode ok\n");
	CHECK_EQ_U64(rec.mmio_writes, 1);
	CHECK_EQ_U64(rec.mmio_offset, 0);
	CHECK_EQ_U64(rec.mmio_len, 4);
	CHECK_EQ_U64(rec.mmio_value, 0xcafef00d);
	CHECK_EQ_U64(rec.nr_port_words, 2);
	CHECK_EQ_U64(rec.port_words[0], 0x55667788);
	CHECK_EQ_U64(rec.port_words[1], 0x11223344);
	CHECK_EQ_U64(vm ? vm_debug_exit_value(vm) : 0, 0x64);
	phy_vm_destroy(vm);
}

static void test_triple_fault(void)
{
	struct recorder rec = { 0 };
	struct phy_vm *vm = NULL;
	enum phy_exit_reason r = run_payload("triple_fault.bin", PAYLOAD_LONG64, &rec, &vm);
	CHECK(r == PHY_EXIT_CRASH);
	const char *report = vm ? phy_vm_crash_report(vm) : NULL;
	CHECK_STR_CONTAINS(report, "triple fault");
	CHECK_STR_CONTAINS(report, "R12 000000001234abcd");
	phy_vm_destroy(vm);
}

/* Two VMs in one process at once: no global state. */
static void test_two_vms(void)
{
	struct recorder a = { 0 }, b = { 0 };
	size_t sa, sb;
	uint8_t *ca = payload_read("real16.bin", &sa), *cb = payload_read("long64.bin", &sb);
	CHECK(ca && cb);
	if (!ca || !cb)
		return;
	struct phy_vm *va = NULL, *vb = NULL;
	struct phy_error err;
	struct phy_config *cfg = phy_config_new();
	struct vm_test_hooks hooks = { 0 };
	phy_config_set(cfg, "memory", "size=32M", &err);
	hooks.debug_exit_port = DEBUG_EXIT_PORT;
	hooks.payload_mode = PAYLOAD_REAL16;
	hooks.payload = ca;
	hooks.payload_size = sa;
	CHECK(library_vm_create(cfg, &hooks, &va, &err) == 0);
	hooks.payload_mode = PAYLOAD_LONG64;
	hooks.payload = cb;
	hooks.payload_size = sb;
	CHECK(library_vm_create(cfg, &hooks, &vb, &err) == 0);
	phy_config_free(cfg);
	if (!va || !vb)
		return;
	bus_register(&va->m.pio, TEST_PORT, 8, &port_ops, &a, "t", &err);
	bus_register(&vb->m.pio, TEST_PORT, 8, &port_ops, &b, "t", &err);
	bus_register(&vb->m.mmio, TEST_MMIO, 16, &mmio_ops, &b, "t", &err);
	phy_vm_set_serial_output(va, serial_hook, &a);
	phy_vm_set_serial_output(vb, serial_hook, &b);
	CHECK(phy_vm_start(va, &err) == 0 && phy_vm_start(vb, &err) == 0);
	enum phy_exit_reason ra = PHY_EXIT_NONE, rb = PHY_EXIT_NONE;
	CHECK(phy_vm_wait(va, 60000, &ra, &err) == 0);
	CHECK(phy_vm_wait(vb, 60000, &rb, &err) == 0);
	CHECK(ra == PHY_EXIT_STOPPED && rb == PHY_EXIT_STOPPED);
	CHECK_STR_CONTAINS(a.serial, "real mode ok");
	CHECK_STR_CONTAINS(b.serial, "long mode ok");
	CHECK(strstr(a.serial, "long mode") == NULL);
	phy_vm_destroy(va);
	phy_vm_destroy(vb);
	free(ca);
	free(cb);
}

/* A VM of `cpus` (--cpus) whose boot vCPU spins in real mode, started;
 * NULL (a failed check) if it could not be. */
static struct phy_vm *start_spinner(const char *cpus)
{
	static const uint8_t spin[] = { 0xeb, 0xfe }; /* jmp . */
	struct phy_config *cfg = phy_config_new();
	struct vm_test_hooks hooks = { 0 };
	struct phy_error err;
	phy_config_set(cfg, "memory", "size=16M", &err);
	CHECK(phy_config_set(cfg, "cpus", cpus, &err) == 0);
	hooks.payload_mode = PAYLOAD_REAL16;
	hooks.payload = spin;
	hooks.payload_size = sizeof(spin);
	struct phy_vm *vm = NULL;
	CHECK(library_vm_create(cfg, &hooks, &vm, &err) == 0);
	phy_config_free(cfg);
	if (vm)
		CHECK(phy_vm_start(vm, &err) == 0);
	return vm;
}

/* phy_vm_stop() ends a guest that never exits by itself. */
static void test_stop(void)
{
	struct phy_error err;
	struct phy_vm *vm = start_spinner("boot=1");
	if (!vm)
		return;
	enum phy_exit_reason r;
	CHECK(phy_vm_wait(vm, 200, &r, &err) == -PHY_E_STATE);
	CHECK(r == PHY_EXIT_NONE);
	CHECK(phy_vm_start(vm, &err) == -PHY_E_STATE);
	CHECK(phy_vm_stop(vm) == 0);
	CHECK(phy_vm_wait(vm, 10000, &r, &err) == 0);
	CHECK(r == PHY_EXIT_STOPPED);
	CHECK(phy_vm_state(vm) == PHY_VM_STOPPED);
	phy_vm_destroy(vm);
}

/* The host CPUs thread `name` of this process may run on, or -1. */
static int thread_cpus(const char *name, cpu_set_t *set)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int found = -1;
	while (d && found < 0 && (e = readdir(d))) {
		char path[64], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, name, strlen(name)) &&
		    comm[strlen(name)] == '\n')
			found = sched_getaffinity(atoi(e->d_name), sizeof(*set), set);
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/* --cpus affinity= binds each named vCPU's thread to its host CPUs; the
 * others keep the process's. */
static void test_affinity(void)
{
	cpu_set_t mine, got;
	REQUIRE(sched_getaffinity(0, sizeof(mine), &mine) == 0);
	int first = -1, last = -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine)) {
			last = c;
			if (first < 0)
				first = c;
		}
	char cpus[96];
	snprintf(cpus, sizeof(cpus), "boot=3,affinity=[0@[%d],1@[%d]]", last, first);
	struct phy_error err;
	struct phy_vm *vm = start_spinner(cpus);
	if (!vm)
		return;
	enum phy_exit_reason r;
	phy_vm_wait(vm, 200, &r, &err);
	CHECK(thread_cpus("vcpu0", &got) == 0);
	CHECK(CPU_COUNT(&got) == 1 && CPU_ISSET(last, &got));
	CHECK(thread_cpus("vcpu1", &got) == 0);
	CHECK(CPU_COUNT(&got) == 1 && CPU_ISSET(first, &got));
	CHECK(thread_cpus("vcpu2", &got) == 0);
	CHECK(CPU_EQUAL(&got, &mine));
	CHECK(phy_vm_stop(vm) == 0);
	CHECK(phy_vm_wait(vm, 10000, &r, &err) == 0 && r == PHY_EXIT_STOPPED);
	phy_vm_destroy(vm);
}

static unsigned count_boots(const struct recorder *r)
{
	unsigned n = 0;
	for (const char *p = r->serial; (p = strstr(p, "boot\n")); p++)
		n++;
	return n;
}

/* A guest reset rebuilds the machine and runs the guest again. */
static void test_reset(const char *payload)
{
	size_t size = 0;
	uint8_t *code = payload_read(payload, &size);
	CHECK(code != NULL);
	if (!code)
		return;
	struct phy_config *cfg = phy_config_new();
	struct vm_test_hooks hooks = { 0 };
	struct phy_error err;
	phy_config_set(cfg, "memory", "size=16M", &err);
	hooks.payload_mode = PAYLOAD_REAL16;
	hooks.payload = code;
	hooks.payload_size = size;
	struct phy_vm *vm = NULL;
	CHECK(library_vm_create(cfg, &hooks, &vm, &err) == 0);
	phy_config_free(cfg);
	if (!vm) {
		free(code);
		return;
	}
	struct recorder rec = { 0 };
	phy_vm_set_serial_output(vm, serial_hook, &rec);
	CHECK(phy_vm_start(vm, &err) == 0);
	enum phy_exit_reason r = PHY_EXIT_NONE;
	for (int i = 0; i < 600 && phy_vm_reboot_count(vm) < 3; i++)
		phy_vm_wait(vm, 100, &r, &err);
	CHECK(phy_vm_reboot_count(vm) >= 3);
	CHECK(r == PHY_EXIT_NONE); /* a reset does not end the VM */
	phy_vm_stop(vm);
	CHECK(phy_vm_wait(vm, 10000, &r, &err) == 0);
	CHECK(r == PHY_EXIT_STOPPED);
	CHECK(count_boots(&rec) >= 3);
	phy_vm_destroy(vm);
	free(code);
}

int main(void)
{
	test_real_mode();
	test_long_mode();
	test_smp16();
	test_triple_fault();
	test_two_vms();
	test_stop();
	test_affinity();
	test_reset("reset16.bin");    /* reset control register 0xCF9 */
	test_reset("resetvec16.bin"); /* jump to the reset vector */
	return check_report("test_payload");
}
