// SPDX-License-Identifier: Apache-2.0
#include "vmm/machine/firmware_bootorder.h"

#include <stdio.h>

#include "common/error.h"
#include "devices/legacy/fw_cfg.h"

#define BOOTORDER_MAX 4096

size_t firmware_bootorder_format(const unsigned *slots, unsigned nr,
				 char *out, size_t size)
{
	size_t len = 0;
	for (unsigned i = 0; i < nr; i++) {
		int n = snprintf(out + len, size - len, "%s/pci@i0cf8/scsi@%x/disk@0,0",
				 i ? "\n" : "", slots[i]);
		if (n < 0 || (size_t)n >= size - len)
			return 0;
		len += (size_t)n;
	}
	return nr ? len + 1 : 0;
}

int firmware_bootorder_add(struct fw_cfg *fw, const unsigned *slots,
			   unsigned nr, struct phy_error *err)
{
	char buf[BOOTORDER_MAX];
	if (!nr)
		return 0;
	size_t len = firmware_bootorder_format(slots, nr, buf, sizeof(buf));
	if (!len)
		return phy_err(err, PHY_E_INTERNAL, "fw_cfg: bootorder too long");
	return fw_cfg_add_file(fw, FW_CFG_FILE_BOOTORDER, buf, len, 0, err);
}
