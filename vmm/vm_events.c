/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the VM tells its embedder: one-line log messages about guest
 * misbehaviour (phy_vm_set_log) and lifecycle events (phy_vm_set_event_handler).
 * Both hooks are set before phy_vm_start(), so the threads that call them
 * read them without a lock; events are serialised so the embedder's
 * handler never runs twice at once for one VM.
 */
#include <time.h>

#include "vmm/vm_internal.h"

int phy_vm_set_log(struct phy_vm *vm, phy_log_fn fn, void *opaque)
{
	if (!vm)
		return -PHY_E_INVALID;
	if (phy_vm_state(vm) != PHY_VM_CREATED)
		return -PHY_E_STATE;
	vm->log_fn = fn;
	vm->log_opaque = opaque;
	return 0;
}

int phy_vm_set_event_handler(struct phy_vm *vm, phy_event_fn fn, void *opaque)
{
	if (!vm)
		return -PHY_E_INVALID;
	if (phy_vm_state(vm) != PHY_VM_CREATED)
		return -PHY_E_STATE;
	vm->event_fn = fn;
	vm->event_opaque = opaque;
	return 0;
}

const char *phy_event_name(enum phy_event_kind kind)
{
	switch (kind) {
	case PHY_EVENT_STARTED: return "started";
	case PHY_EVENT_PAUSED: return "paused";
	case PHY_EVENT_RESUMED: return "resumed";
	case PHY_EVENT_REBOOTING: return "rebooting";
	case PHY_EVENT_REBOOTED: return "rebooted";
	case PHY_EVENT_POWER_BUTTON: return "power_button";
	case PHY_EVENT_SHUTDOWN: return "shutdown";
	case PHY_EVENT_CRASH: return "crash";
	case PHY_EVENT_DEVICE_ERROR: return "device_error";
	}
	return "unknown";
}

void vm_log(void *opaque, const char *msg)
{
	struct phy_vm *vm = opaque;
	if (vm->log_fn)
		vm->log_fn(vm->log_opaque, msg);
}

void vm_emit_held(struct phy_vm *vm, enum phy_event_kind kind,
		  const char *device, const char *message)
{
	if (!vm->event_fn && !vm->nr_listeners)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	struct phy_event ev = {
		.kind = kind,
		.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000u +
				(uint64_t)ts.tv_nsec,
		.device = device,
		.message = message,
	};
	for (unsigned i = 0; i < vm->nr_listeners; i++)
		vm->listeners[i].fn(vm->listeners[i].opaque, &ev); /* front-ends */
	if (vm->event_fn)
		vm->event_fn(vm->event_opaque, &ev);
}

void vm_emit(struct phy_vm *vm, enum phy_event_kind kind, const char *device,
	     const char *message)
{
	pthread_mutex_lock(&vm->event_lock);
	vm_emit_held(vm, kind, device, message);
	pthread_mutex_unlock(&vm->event_lock);
}

void vm_device_error(struct phy_vm *vm, const char *device, const char *msg)
{
	vm_log(vm, msg);
	vm_emit(vm, PHY_EVENT_DEVICE_ERROR, device, msg);
}
