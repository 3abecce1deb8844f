/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VM lifecycle behind the public API. A supervisor thread starts the
 * vCPUs, sleeps on an eventfd until someone asks for something (guest power
 * off or reset, host stop or reboot, crash), stops the vCPUs and either
 * rebuilds the machine (reboot) or ends the VM. It alone starts, kicks and
 * joins vCPU threads, so a pause wakes it to kick them (vm_control.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/vcpu_setup.h"
#include "common/error.h"
#include "common/sandbox.h"
#include "common/thread.h"
#include "vmm/config/options.h"
#include "vmm/machine/device.h"
#include "vmm/vm_internal.h"
#include "vmm/vm_landlock.h"

const char *phy_version(void)
{
	return PHY_VERSION_STRING;
}

void vm_request(struct phy_vm *vm, enum vm_request req)
{
	/* The first request wins, except that ending the VM (power off, stop,
	 * crash) overrides a reset that is still being handled. */
	int cur = atomic_load(&vm->request);
	while (cur == VM_REQ_NONE || (cur == VM_REQ_RESET && req != VM_REQ_RESET)) {
		if (atomic_compare_exchange_weak(&vm->request, &cur, (int)req))
			break;
	}
	uint64_t one = 1;
	ssize_t r = write(vm->wake_fd, &one, sizeof(one));
	(void)r;
}

void vm_crash(struct phy_vm *vm, struct vcpu *vcpu, const char *what)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->crash_report[0]) {
		int n = snprintf(vm->crash_report, sizeof(vm->crash_report),
				 "vCPU %u: %s\n", vcpu->index, what);
		if (n > 0 && (size_t)n < sizeof(vm->crash_report))
			x86_vcpu_dump(vcpu->fd, vm->crash_report + n,
				      sizeof(vm->crash_report) - n);
	}
	pthread_mutex_unlock(&vm->lock);
	vm_request(vm, VM_REQ_CRASH);
}

/* ---- lifecycle ---- */

static int load_images(struct phy_vm *vm, struct phy_error *err)
{
	/* Payloads and firmware (a device row) bring their own code. */
	if (vm->hooks.payload_mode != PAYLOAD_NONE || !vm->cfg.kernel)
		return 0;
	int ret = boot_image_open(&vm->kernel, vm->cfg.kernel, "kernel", err);
	if (!ret && vm->cfg.initramfs)
		ret = boot_image_open(&vm->initrd, vm->cfg.initramfs,
				      "initramfs", err);
	return ret;
}

/* The images are copied into guest RAM; keeping them mapped would only add
 * to the VMM's RSS. A reboot opens them again. */
static void unload_images(struct phy_vm *vm)
{
	boot_image_close(&vm->kernel);
	boot_image_close(&vm->initrd);
}

int vm_create(const struct phy_config *cfg, const struct vm_test_hooks *hooks,
	      const struct vm_frontend *const *frontends, unsigned nr_frontends,
	      struct phy_vm **out, struct phy_error *err)
{
	if (!out)
		return phy_err(err, PHY_E_INVALID, "phy_vm_create: NULL out");
	*out = NULL;
	int ret = config_validate(cfg, hooks && hooks->payload_mode != PAYLOAD_NONE,
				  err);
	if (ret)
		return ret;
	struct phy_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return phy_err(err, PHY_E_NOMEM, "out of memory");
	vm->kvm.fd = -1;
	vm->mem.memfd = -1;
	vm->m.vm_fd = -1;
	vm->landlock.fd = -1;
	chardev_init(&vm->serial);
	if (hooks)
		vm->hooks = *hooks;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->ctl_lock, NULL);
	pthread_mutex_init(&vm->event_lock, NULL);
	pthread_cond_init(&vm->park_cond, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->cond, &ca);
	pthread_condattr_destroy(&ca);
	vm->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (vm->wake_fd < 0 || config_copy(&vm->cfg, cfg)) {
		ret = phy_err(err, PHY_E_NOMEM, "out of memory");
		goto fail;
	}
	ret = vm_landlock_ruleset(&vm->cfg, cfg->landlock ? landlock_abi() : 0,
				  &vm->landlock, err);
	/* The threads made from here on are the VM's (consoles, device
	 * loop, GPU, window): each confines itself as it starts. */
	phy_thread_sandbox(vm->landlock.fd);
	if (!ret)
		ret = load_images(vm, err);
	if (!ret)
		ret = vm_devices_open(vm, err);
	if (!ret)
		ret = kvm_host_open(&vm->kvm, "/dev/kvm", err);
	if (!ret)
		ret = guest_mem_create(&vm->mem, cfg->memory, X86_MMIO_HOLE_GPA,
				       X86_HIGH_RAM_GPA,
				       (cfg->memory_shared ? GUEST_MEM_SHARED : 0) |
				       (cfg->memory_thp ? GUEST_MEM_THP : 0), err);
	if (!ret)
		ret = machine_build(vm, err);
	if (!ret)
		ret = vm_frontends_open(vm, frontends, nr_frontends, err);
	phy_thread_sandbox(-1);
	if (ret)
		goto fail;
	unload_images(vm);
	vm->state = PHY_VM_CREATED;
	*out = vm;
	return 0;
fail:
	phy_vm_destroy(vm);
	return ret;
}

static void kick_vcpus(struct phy_vm *vm)
{
	for (unsigned i = 0; i < vm->m.nr_vcpus; i++)
		vcpu_kick(&vm->m.vcpus[i]);
}

/* Called once a request is set: parked vCPUs wake up to see it, running
 * ones are kicked out of KVM_RUN to see it. */
static void stop_vcpus(struct phy_vm *vm)
{
	vm_vcpus_unpark(vm);
	kick_vcpus(vm);
	for (unsigned i = 0; i < vm->m.nr_vcpus; i++)
		vcpu_join(&vm->m.vcpus[i]);
}

static int start_vcpus(struct phy_vm *vm, struct phy_error *err)
{
	for (unsigned i = 0; i < vm->m.nr_vcpus; i++) {
		int ret = vcpu_start(&vm->m.vcpus[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Sleeps until a request. A pause wakes it too: the vCPUs then need a
 * kick to leave KVM_RUN and park. */
static void wait_for_request(struct phy_vm *vm)
{
	while (atomic_load(&vm->request) == VM_REQ_NONE) {
		uint64_t v;
		if (read(vm->wake_fd, &v, sizeof(v)) < 0 && errno != EINTR)
			break;
		if (atomic_load(&vm->request) == VM_REQ_NONE &&
		    atomic_load(&vm->pause_wanted))
			kick_vcpus(vm);
	}
}

static enum phy_exit_reason exit_reason_for(int req)
{
	switch (req) {
	case VM_REQ_POWEROFF: return PHY_EXIT_POWEROFF;
	case VM_REQ_STOP: return PHY_EXIT_STOPPED;
	case VM_REQ_CRASH: return PHY_EXIT_CRASH;
	default: return PHY_EXIT_ERROR;
	}
}

/* Guest or host reboot: a fresh KVM VM over cleared RAM, booted like the
 * first. */
static int reboot_machine(struct phy_vm *vm, struct phy_error *err)
{
	bool host = atomic_exchange(&vm->host_reboot, false);
	vm_emit(vm, PHY_EVENT_REBOOTING, NULL,
		host ? "requested by the host" : "requested by the guest");
	machine_teardown(vm);
	guest_mem_clear(&vm->mem);
	pthread_mutex_lock(&vm->lock);
	vm->reboots++;
	pthread_mutex_unlock(&vm->lock);
	int ret = load_images(vm, err);
	if (!ret)
		ret = machine_build(vm, err);
	unload_images(vm);
	if (!ret) {
		vm_emit(vm, PHY_EVENT_REBOOTED, NULL, NULL);
		ret = start_vcpus(vm, err);
	}
	return ret;
}

/* STARTED comes first of all events: phy_vm_start() returns only after
 * it, so nothing the caller does next can overtake it. */
static void report_started(struct phy_vm *vm)
{
	vm_emit(vm, PHY_EVENT_STARTED, NULL, NULL);
	pthread_mutex_lock(&vm->lock);
	vm->started_reported = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* CRASH (with the report's first line) and SHUTDOWN: after the state
 * says STOPPED, so no later pause, resume or power button event can follow
 * them (vm_control.c), and before phy_vm_wait() returns. */
static void report_end(struct phy_vm *vm, enum phy_exit_reason reason,
		       const struct phy_error *err)
{
	char msg[PHY_ERROR_MESSAGE_MAX + 16];
	if (reason == PHY_EXIT_CRASH) {
		snprintf(msg, sizeof(msg), "%.*s",
			 (int)strcspn(vm->crash_report, "\n"), vm->crash_report);
		vm_emit(vm, PHY_EVENT_CRASH, NULL, msg);
	}
	const char *what = "error";
	switch (reason) {
	case PHY_EXIT_POWEROFF: what = "poweroff"; break;
	case PHY_EXIT_STOPPED: what = "stopped"; break;
	case PHY_EXIT_CRASH: what = "crash"; break;
	default: break;
	}
	if (reason == PHY_EXIT_ERROR && err->message[0])
		snprintf(msg, sizeof(msg), "error: %s", err->message);
	else
		snprintf(msg, sizeof(msg), "%s", what);
	vm_emit(vm, PHY_EVENT_SHUTDOWN, NULL, msg);
}

static void *supervisor_thread(void *arg)
{
	struct phy_vm *vm = arg;
	pthread_setname_np(pthread_self(), "phy-supervisor");
	/* A reboot rebuilds the machine here: the builders' union, which a
	 * filtered creator (the CLI, the API thread) has given it already. */
	if (vm->sandbox_inherited)
		sandbox_adopt(vm->cfg.seccomp, SANDBOX_SUPERVISOR);
	else
		sandbox_enter(vm->cfg.seccomp, SANDBOX_SUPERVISOR);
	struct phy_error err = { 0 };
	report_started(vm);
	int ret = start_vcpus(vm, &err);
	int req = VM_REQ_ERROR;
	while (!ret) {
		wait_for_request(vm);
		stop_vcpus(vm);
		/* Only a reset clears the request; a stop that arrived meanwhile
		 * stays and ends the loop. */
		req = VM_REQ_RESET;
		if (!atomic_compare_exchange_strong(&vm->request, &req, VM_REQ_NONE))
			break;
		ret = reboot_machine(vm, &err);
	}
	if (ret) {
		/* Threads that did start run until a request tells them to
		 * stop. */
		vm_request(vm, VM_REQ_ERROR);
		stop_vcpus(vm);
		req = VM_REQ_ERROR;
	}
	chardev_flush(&vm->serial);
	vm_devices_stopped(vm);
	pthread_mutex_lock(&vm->lock);
	vm->run_error = err;
	vm->exit_reason = exit_reason_for(req);
	vm->state = PHY_VM_STOPPED;
	pthread_cond_broadcast(&vm->park_cond); /* a pause may be waiting */
	pthread_mutex_unlock(&vm->lock);
	report_end(vm, exit_reason_for(req), &err);
	pthread_mutex_lock(&vm->lock);
	vm->finished = true;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

int phy_vm_start(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_start: NULL vm");
	pthread_mutex_lock(&vm->lock);
	if (vm->state != PHY_VM_CREATED) {
		pthread_mutex_unlock(&vm->lock);
		return phy_err(err, PHY_E_STATE, "VM already started");
	}
	vm->state = PHY_VM_RUNNING;
	pthread_mutex_unlock(&vm->lock);
	/* Not phy_thread_create(), for now: with every signal blocked here,
	 * two VMs in one process (e2e.api embed-two) saw one guest hang or
	 * triple-fault, twice in a row. Such deaths turned out to be the
	 * test rig's own (docs/performance.md, "The rig's own failures under
	 * load"), so blocking signals here again is open. The supervisor
	 * and the vCPUs it starts are confined like the VM's other threads. */
	vm->sandbox_inherited = sandbox_inherits(vm->cfg.seccomp);
	phy_thread_sandbox(vm->landlock.fd);
	int r = phy_thread_create_unmasked(&vm->supervisor, supervisor_thread, vm);
	phy_thread_sandbox(-1);
	if (r) {
		pthread_mutex_lock(&vm->lock);
		vm->state = PHY_VM_CREATED;
		pthread_mutex_unlock(&vm->lock);
		return phy_err_errno(err, PHY_E_INTERNAL, r,
				     "cannot start the VM's thread");
	}
	vm->supervisor_started = true;
	pthread_mutex_lock(&vm->lock);
	while (!vm->started_reported)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static void deadline_after(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int phy_vm_wait(struct phy_vm *vm, int timeout_ms,
		enum phy_exit_reason *reason, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_wait: NULL vm");
	pthread_mutex_lock(&vm->lock);
	if (vm->state == PHY_VM_CREATED) {
		pthread_mutex_unlock(&vm->lock);
		return phy_err(err, PHY_E_STATE, "VM not started");
	}
	struct timespec deadline;
	if (timeout_ms >= 0)
		deadline_after(&deadline, timeout_ms);
	while (!vm->finished) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&vm->cond, &vm->lock);
		} else if (pthread_cond_timedwait(&vm->cond, &vm->lock,
						  &deadline) == ETIMEDOUT) {
			break;
		}
	}
	bool stopped = vm->finished;
	if (reason)
		*reason = stopped ? vm->exit_reason : PHY_EXIT_NONE;
	int ret = 0;
	if (!stopped)
		ret = phy_err(err, PHY_E_STATE, "VM still running");
	else if (vm->exit_reason == PHY_EXIT_ERROR && err)
		*err = vm->run_error;
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

int phy_vm_stop(struct phy_vm *vm)
{
	if (!vm)
		return -PHY_E_INVALID;
	vm_request(vm, VM_REQ_STOP);
	return 0;
}

enum phy_vm_state phy_vm_state(const struct phy_vm *vm)
{
	if (!vm)
		return PHY_VM_STOPPED;
	struct phy_vm *v = (struct phy_vm *)vm;
	pthread_mutex_lock(&v->lock);
	enum phy_vm_state s = v->state;
	pthread_mutex_unlock(&v->lock);
	return s;
}

unsigned phy_vm_reboot_count(const struct phy_vm *vm)
{
	if (!vm)
		return 0;
	struct phy_vm *v = (struct phy_vm *)vm;
	pthread_mutex_lock(&v->lock);
	unsigned n = v->reboots;
	pthread_mutex_unlock(&v->lock);
	return n;
}

const char *phy_vm_crash_report(const struct phy_vm *vm)
{
	if (!vm || !vm->crash_report[0])
		return NULL;
	return vm->crash_report;
}

int phy_vm_set_serial_output(struct phy_vm *vm, phy_serial_output_fn fn,
			     void *opaque)
{
	if (!vm)
		return -PHY_E_INVALID;
	if (phy_vm_state(vm) != PHY_VM_CREATED)
		return -PHY_E_STATE;
	vm->serial.fn = fn;
	vm->serial.opaque = opaque;
	return 0;
}

void phy_vm_destroy(struct phy_vm *vm)
{
	if (!vm)
		return;
	/* No API request or window may reach a VM being torn down. */
	vm_frontends_stop(vm);
	if (vm->supervisor_started) {
		vm_request(vm, VM_REQ_STOP);
		pthread_join(vm->supervisor, NULL);
	}
	machine_teardown(vm);
	guest_mem_destroy(&vm->mem);
	kvm_host_close(&vm->kvm);
	boot_image_close(&vm->kernel);
	boot_image_close(&vm->initrd);
	vm_devices_close(vm);
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	/* No thread is left to emit an event: the monitor's last lines. */
	vm_frontends_close(vm);
	config_release(&vm->cfg);
	landlock_ruleset_close(&vm->landlock);
	pthread_mutex_destroy(&vm->lock);
	pthread_mutex_destroy(&vm->ctl_lock);
	pthread_mutex_destroy(&vm->event_lock);
	pthread_cond_destroy(&vm->park_cond);
	pthread_cond_destroy(&vm->cond);
	free(vm);
}
