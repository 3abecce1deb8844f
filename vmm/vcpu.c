/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vCPU threads: KVM_RUN in a loop, PIO and MMIO exits dispatched to the
 * buses on this thread.
 *
 * Kicking a vCPU out of KVM_RUN needs a signal, but the library must not
 * install handlers. So the kick signal stays blocked in the thread and is
 * unblocked only inside KVM_RUN (KVM_SET_SIGNAL_MASK): a pending kick makes
 * KVM_RUN return EINTR and is then consumed with sigtimedwait(), never
 * delivered.
 *
 * Pause uses the same kick: a thread that finds the VM paused parks on a
 * condition variable outside KVM_RUN (vm_control.c) until it is resumed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86_64/vcpu_setup.h"
#include "common/error.h"
#include "common/sandbox.h"
#include "common/thread.h"
#include "vmm/config/cpu_affinity.h"
#include "vmm/vm_internal.h"

static int kick_signal(void)
{
	return SIGRTMIN;
}

int vcpu_create(struct phy_vm *vm, struct vcpu *vcpu, unsigned index,
		struct phy_error *err)
{
	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->index = index;
	vcpu->fd = ioctl(vm->m.vm_fd, KVM_CREATE_VCPU, index);
	if (vcpu->fd < 0)
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: cannot create vCPU %u", index);
	vcpu->run = mmap(NULL, (size_t)vm->kvm.vcpu_mmap_size,
			 PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return phy_err_errno(err, PHY_E_KVM, errno,
				     "KVM: cannot map vCPU %u", index);
	}
	return x86_vcpu_init(vcpu->fd, vm->kvm.supported_cpuid, index,
			     vm->cfg.cpus, vm->m.firmware, err);
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->kvm.vcpu_mmap_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct bus *pio = &vcpu->vm->m.pio;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	for (uint32_t i = 0; i < run->io.count; i++) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(pio, run->io.port, data, run->io.size);
		else
			bus_read(pio, run->io.port, data, run->io.size);
		data += run->io.size;
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct bus *mmio = &vcpu->vm->m.mmio;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
	if (run->mmio.is_write)
		bus_write(mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(mmio, run->mmio.phys_addr, run->mmio.data, len);
}

static void handle_system_event(struct vcpu *vcpu)
{
	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request(vcpu->vm, VM_REQ_POWEROFF);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request(vcpu->vm, VM_REQ_RESET);
		break;
	default:
		vm_crash(vcpu->vm, vcpu, "guest crash reported by KVM");
		break;
	}
}

/* Returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[128];
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vm_crash(vcpu->vm, vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(what, sizeof(what), "KVM internal error, suberror %u",
			 run->internal.suberror);
		vm_crash(vcpu->vm, vcpu, what);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vm_crash(vcpu->vm, vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
			 run->exit_reason);
		vm_crash(vcpu->vm, vcpu, what);
		return false;
	}
}

static int set_kvm_sigmask(struct vcpu *vcpu)
{
	sigset_t inside;
	sigfillset(&inside);
	sigdelset(&inside, kick_signal());
	union {
		struct kvm_signal_mask hdr;
		uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
	} m;
	m.hdr.len = 8; /* the kernel's sigset_t size */
	memcpy(m.hdr.sigset, &inside, 8);
	return ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &m);
}

static void consume_kick(void)
{
	sigset_t kick;
	sigemptyset(&kick);
	sigaddset(&kick, kick_signal());
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&kick, NULL, &zero) > 0)
		;
}

/* Waits out a pause. Back from one, the guest's kvmclock is flagged as
 * stopped (KVM_KVMCLOCK_CTRL), so its soft-lockup watchdog does not take
 * the lost time for a hung CPU; a guest without kvmclock makes it fail
 * with EINVAL, which changes nothing. */
static void park(struct vcpu *vcpu)
{
	struct phy_vm *vm = vcpu->vm;
	vm_vcpu_park(vm);
	if (atomic_load(&vm->request) == VM_REQ_NONE)
		ioctl(vcpu->fd, KVM_KVMCLOCK_CTRL, 0);
}

static void run_loop(struct vcpu *vcpu)
{
	struct phy_vm *vm = vcpu->vm;
	while (atomic_load(&vm->request) == VM_REQ_NONE) {
		/* Checked before every entry: a pause that begins after this
		 * load is seen through its kick, which makes KVM_RUN return
		 * at once. */
		if (atomic_load(&vm->pause_wanted)) {
			park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				consume_kick();
				continue;
			}
			char what[96];
			snprintf(what, sizeof(what), "KVM_RUN failed: %s",
				 strerror(errno));
			vm_crash(vm, vcpu, what);
			break;
		}
		if (!handle_exit(vcpu))
			break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct phy_vm *vm = vcpu->vm;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", vcpu->index);
	pthread_setname_np(pthread_self(), name);

	const struct cpu_affinity *aff = cpu_affinity_of(
		vm->cfg.affinity, vm->cfg.nr_affinity, vcpu->index);
	if (set_kvm_sigmask(vcpu) < 0) {
		vm_crash(vm, vcpu, "KVM_SET_SIGNAL_MASK failed");
	} else if (aff && cpu_affinity_bind_self(aff)) {
		/* config_validate() saw these CPUs allowed: they went since. */
		vm_crash(vm, vcpu, "--cpus: cannot bind the vCPU to its affinity");
	} else {
		sandbox_enter(vm->cfg.seccomp, SANDBOX_VCPU);
		run_loop(vcpu);
	}
	vm_vcpu_thread_end(vm);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu, struct phy_error *err)
{
	/* Counted before it exists, so a pause never finds "all parked"
	 * while a thread is about to run. */
	vm_vcpu_thread_begin(vcpu->vm);
	/* Every signal blocked: the embedder's signals go to its own
	 * threads and the kick stays pending until KVM_RUN unblocks it. */
	int r = phy_thread_create(&vcpu->thread, vcpu_thread, vcpu);
	if (r) {
		vm_vcpu_thread_end(vcpu->vm);
		return phy_err_errno(err, PHY_E_INTERNAL, r,
				     "cannot start vCPU %u thread", vcpu->index);
	}
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_kill(vcpu->thread, kick_signal());
}

void vcpu_join(struct vcpu *vcpu)
{
	if (vcpu->started)
		pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
