/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedder's controls over a running VM: pause and resume, the ACPI
 * power button, and a host-initiated reboot.
 *
 * Pause parks every vCPU thread outside KVM_RUN. phy_vm_pause() sets
 * pause_wanted and wakes the supervisor, which owns the vCPU threads and
 * kicks them (vm.c); each thread, back from KVM_RUN, sees the flag and
 * waits on park_cond. pause returns once every started vCPU thread is
 * parked. Threads that start later (a reboot while paused) park before
 * their first KVM_RUN, so a paused VM stays paused across a rebuild.
 * A stop, power off or reset request unparks the threads: the supervisor
 * broadcasts park_cond after the request is set, and a parked thread
 * leaves when it sees one.
 */
#include <stdio.h>
#include <unistd.h>

#include "arch/x86_64/layout.h"
#include "common/error.h"
#include "vmm/machine/rows.h"
#include "vmm/vm_internal.h"

static const char *state_name(enum phy_vm_state s)
{
	switch (s) {
	case PHY_VM_CREATED: return "not started";
	case PHY_VM_RUNNING: return "running";
	case PHY_VM_PAUSED: return "paused";
	case PHY_VM_STOPPED: return "stopped";
	}
	return "in an unknown state";
}

static int wrong_state(struct phy_error *err, const char *call,
		       enum phy_vm_state s)
{
	return phy_err(err, PHY_E_STATE, "%s: the VM is %s", call,
		       state_name(s));
}

static void wake_supervisor(struct phy_vm *vm)
{
	uint64_t one = 1;
	ssize_t r = write(vm->wake_fd, &one, sizeof(one));
	(void)r;
}

/* ---- the vCPU threads' side ---- */

void vm_vcpu_thread_begin(struct phy_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->vcpu_threads++;
	pthread_mutex_unlock(&vm->lock);
}

void vm_vcpu_thread_end(struct phy_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->vcpu_threads--;
	pthread_cond_broadcast(&vm->park_cond); /* a pause may wait for it */
	pthread_mutex_unlock(&vm->lock);
}

void vm_vcpu_park(struct phy_vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->vcpus_parked++;
	pthread_cond_broadcast(&vm->park_cond);
	while (atomic_load(&vm->pause_wanted) &&
	       atomic_load(&vm->request) == VM_REQ_NONE)
		pthread_cond_wait(&vm->park_cond, &vm->lock);
	vm->vcpus_parked--;
	pthread_mutex_unlock(&vm->lock);
}

void vm_vcpus_unpark(struct phy_vm *vm)
{
	/* vm_request() cannot do this itself: it must stay async-signal
	 * safe, and a condition variable is not. */
	pthread_mutex_lock(&vm->lock);
	pthread_cond_broadcast(&vm->park_cond);
	pthread_mutex_unlock(&vm->lock);
}

/* ---- the embedder's side ---- */

/*
 * The embedder's calls hold ctl_lock throughout, so they never interleave.
 * A state change and its event happen as one step: the event lock is taken
 * before the state is checked and dropped after the handler returns. What
 * the change lets happen next (the guest running again and powering off,
 * the supervisor ending the VM, which sets STOPPED before its SHUTDOWN
 * event) can then only be reported after this event.
 * Lock order: ctl_lock, event_lock, lock.
 */
static void begin_transition(struct phy_vm *vm)
{
	pthread_mutex_lock(&vm->event_lock);
	pthread_mutex_lock(&vm->lock);
}

/* Emits `kind` when ok, and ends what begin_transition() began (vm->lock
 * must already be released). */
static void end_transition(struct phy_vm *vm, bool ok,
			   enum phy_event_kind kind)
{
	if (ok)
		vm_emit_held(vm, kind, NULL, NULL);
	pthread_mutex_unlock(&vm->event_lock);
}

int phy_vm_pause(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_pause: NULL vm");
	pthread_mutex_lock(&vm->ctl_lock);
	pthread_mutex_lock(&vm->lock);
	enum phy_vm_state s = vm->state;
	if (s == PHY_VM_RUNNING)
		atomic_store(&vm->pause_wanted, true);
	pthread_mutex_unlock(&vm->lock);
	if (s != PHY_VM_RUNNING) {
		pthread_mutex_unlock(&vm->ctl_lock);
		return wrong_state(err, "phy_vm_pause", s);
	}
	wake_supervisor(vm); /* it kicks the vCPUs out of KVM_RUN */
	pthread_mutex_lock(&vm->lock);
	while (vm->vcpus_parked < vm->vcpu_threads &&
	       vm->state != PHY_VM_STOPPED)
		pthread_cond_wait(&vm->park_cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);

	begin_transition(vm);
	s = vm->state;
	if (s == PHY_VM_RUNNING)
		vm->state = PHY_VM_PAUSED;
	pthread_mutex_unlock(&vm->lock);
	end_transition(vm, s == PHY_VM_RUNNING, PHY_EVENT_PAUSED);
	pthread_mutex_unlock(&vm->ctl_lock);
	if (s == PHY_VM_STOPPED)
		return phy_err(err, PHY_E_STATE,
			       "phy_vm_pause: the VM stopped meanwhile");
	return 0;
}

int phy_vm_resume(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_resume: NULL vm");
	pthread_mutex_lock(&vm->ctl_lock);
	begin_transition(vm);
	enum phy_vm_state s = vm->state;
	if (s == PHY_VM_PAUSED) {
		atomic_store(&vm->pause_wanted, false);
		vm->state = PHY_VM_RUNNING;
		pthread_cond_broadcast(&vm->park_cond);
	}
	pthread_mutex_unlock(&vm->lock);
	end_transition(vm, s == PHY_VM_PAUSED, PHY_EVENT_RESUMED);
	pthread_mutex_unlock(&vm->ctl_lock);
	if (s != PHY_VM_PAUSED)
		return wrong_state(err, "phy_vm_resume", s);
	return 0;
}

int phy_vm_power_button(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID,
			       "phy_vm_power_button: NULL vm");
	pthread_mutex_lock(&vm->ctl_lock);
	begin_transition(vm);
	enum phy_vm_state s = vm->state;
	bool live = s == PHY_VM_RUNNING || s == PHY_VM_PAUSED;
	/* Between two machines of a reboot there is no button to press. */
	bool pressed = live && vm_press_power_button(vm);
	pthread_mutex_unlock(&vm->lock);
	end_transition(vm, pressed, PHY_EVENT_POWER_BUTTON);
	pthread_mutex_unlock(&vm->ctl_lock);
	if (!live)
		return wrong_state(err, "phy_vm_power_button", s);
	if (!pressed)
		return phy_err(err, PHY_E_STATE,
			       "phy_vm_power_button: the VM is rebooting");
	return 0;
}

int phy_vm_reboot(struct phy_vm *vm, struct phy_error *err)
{
	if (!vm)
		return phy_err(err, PHY_E_INVALID, "phy_vm_reboot: NULL vm");
	pthread_mutex_lock(&vm->ctl_lock);
	enum phy_vm_state s = phy_vm_state(vm);
	bool live = s == PHY_VM_RUNNING || s == PHY_VM_PAUSED;
	if (live) {
		/* The guest's reset path: the supervisor rebuilds the
		 * machine; the flag only tells the REBOOTING event who
		 * asked. */
		atomic_store(&vm->host_reboot, true);
		vm_request(vm, VM_REQ_RESET);
	}
	pthread_mutex_unlock(&vm->ctl_lock);
	if (!live)
		return wrong_state(err, "phy_vm_reboot", s);
	return 0;
}
