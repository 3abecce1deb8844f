/* SPDX-License-Identifier: Apache-2.0 */
/* The rows of the device table that code outside their own file looks up
 * with vm_device_find(): the window's devices, and the disks for tests. */
#ifndef PHY_VMM_MACHINE_ROWS_H
#define PHY_VMM_MACHINE_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/machine/device.h"

extern const struct device_type com1_type;
extern const struct device_type virtio_console_type;
extern const struct device_type virtio_blk_type;
extern const struct device_type virtio_gpu_type;
extern const struct device_type virtio_keyboard_type;
extern const struct device_type virtio_tablet_type;

/* dev_acpi_ged.c: latches the power button's event; false between two
 * machines of a reboot. vm->lock held. */
bool vm_press_power_button(struct phy_vm *vm);

/* dev_debug_exit.c: what the payload last wrote to the debug exit port. */
uint32_t vm_debug_exit_value(const struct phy_vm *vm);

/* dev_com1.c: offers input to the UART (a chardev_input_fn; opaque: the
 * COM1 row's vm_device). */
size_t vm_com1_input(void *opaque, const uint8_t *buf, size_t len);

#endif
