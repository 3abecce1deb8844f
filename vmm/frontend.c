// SPDX-License-Identifier: Apache-2.0
/* The walks over a VM's front-ends (frontend.h), and their listeners. */
#include "common/error.h"
#include "vmm/vm_internal.h"

int vm_frontends_open(struct phy_vm *vm, const struct vm_frontend *const *fe,
		      unsigned n, struct phy_error *err)
{
	if (n > VM_MAX_FRONTENDS)
		return phy_err(err, PHY_E_INTERNAL, "too many front-ends");
	for (unsigned i = 0; i < n; i++) {
		void *state = NULL;
		int ret = fe[i]->open(vm, &vm->cfg, &state, err);
		if (ret)
			return ret;
		if (state)
			vm->frontends[vm->nr_frontends++] = (typeof(vm->frontends[0])){
				fe[i], state };
	}
	return 0;
}

void vm_frontends_machine(struct phy_vm *vm, bool built)
{
	for (unsigned i = 0; i < vm->nr_frontends; i++)
		if (vm->frontends[i].fe->machine)
			vm->frontends[i].fe->machine(vm->frontends[i].state, vm, built);
}

void vm_frontends_stop(struct phy_vm *vm)
{
	for (unsigned i = 0; i < vm->nr_frontends; i++)
		vm->frontends[i].fe->stop(vm->frontends[i].state);
}

void vm_frontends_close(struct phy_vm *vm)
{
	for (unsigned i = vm->nr_frontends; i-- > 0;)
		vm->frontends[i].fe->close(vm->frontends[i].state);
	vm->nr_frontends = 0;
}

int vm_add_listener(struct phy_vm *vm, vm_listener_fn fn, void *opaque)
{
	if (vm->nr_listeners == VM_MAX_FRONTENDS)
		return -PHY_E_INTERNAL;
	vm->listeners[vm->nr_listeners].fn = fn;
	vm->listeners[vm->nr_listeners].opaque = opaque;
	vm->nr_listeners++;
	return 0;
}
