// SPDX-License-Identifier: Apache-2.0
#include "vmm/machine/firmware_acpi.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/legacy/fw_cfg.h"
#include "devices/legacy/fw_cfg_loader.h"

#define ACPI_BUF_SIZE 0x10000
#define TABLES_ALIGN 64
#define RSDP_ALIGN 16

static const char *file_of(const struct x86_acpi_links *l, uint32_t offset)
{
	return offset < l->rsdp_size ? FW_CFG_FILE_ACPI_RSDP :
				       FW_CFG_FILE_ACPI_TABLES;
}

/* The script: both files allocated, then every pointer patched, then
 * every checksum redone over the patched bytes. */
static int write_script(struct fw_cfg_loader *s, const struct x86_acpi_links *l,
			struct phy_error *err)
{
	int ret = fw_cfg_loader_allocate(s, FW_CFG_FILE_ACPI_TABLES,
					 TABLES_ALIGN, FW_CFG_LOADER_ZONE_HIGH,
					 err);
	if (!ret)
		ret = fw_cfg_loader_allocate(s, FW_CFG_FILE_ACPI_RSDP, RSDP_ALIGN,
					     FW_CFG_LOADER_ZONE_FSEG, err);
	for (unsigned i = 0; !ret && i < l->nr_pointers; i++)
		ret = fw_cfg_loader_add_pointer(s, file_of(l, l->pointers[i].offset),
						l->pointers[i].offset,
						l->pointers[i].size,
						FW_CFG_FILE_ACPI_TABLES, err);
	for (unsigned i = 0; !ret && i < l->nr_checksums; i++)
		ret = fw_cfg_loader_add_checksum(s, file_of(l, l->checksums[i].start),
						 l->checksums[i].start,
						 l->checksums[i].length,
						 l->checksums[i].checksum, err);
	return ret;
}

int firmware_acpi_add(struct fw_cfg *fw, const struct x86_acpi_config *cfg,
		      struct phy_error *err)
{
	uint8_t *buf = calloc(1, ACPI_BUF_SIZE);
	struct fw_cfg_loader *script = fw_cfg_loader_create();
	struct x86_acpi_links l;
	int ret = buf && script ? 0 :
				  phy_err(err, PHY_E_NOMEM, "ACPI: out of memory");
	long used = ret ? ret : x86_acpi_build_links(cfg, buf, ACPI_BUF_SIZE, &l, err);
	if (used < 0)
		ret = (int)used;
	if (!ret) {
		/* OVMF sums each range with its checksum byte in it. */
		for (unsigned i = 0; i < l.nr_checksums; i++)
			buf[l.checksums[i].checksum] = 0;
		ret = write_script(script, &l, err);
	}
	/* The tables file holds the RSDP's bytes too, at its start: nothing
	 * points there, so they stay unused, and every offset is the same in
	 * both files. */
	if (!ret)
		ret = fw_cfg_add_file(fw, FW_CFG_FILE_ACPI_TABLES, buf,
				      (size_t)used, 0, err);
	if (!ret)
		ret = fw_cfg_add_file(fw, FW_CFG_FILE_ACPI_RSDP, buf, l.rsdp_size,
				      0, err);
	size_t len = 0;
	const uint8_t *data = ret ? NULL : fw_cfg_loader_data(script, &len);
	if (!ret)
		ret = fw_cfg_add_file(fw, FW_CFG_FILE_TABLE_LOADER, data, len, 0,
				      err);
	fw_cfg_loader_destroy(script);
	free(buf);
	return ret;
}
