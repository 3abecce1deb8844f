/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What fw_cfg.c (items, files, the port registers) and fw_cfg_dma.c (one
 * DMA access) share. Everything here is guarded by fw->lock.
 */
#ifndef PHY_DEVICES_LEGACY_FW_CFG_INTERNAL_H
#define PHY_DEVICES_LEGACY_FW_CFG_INTERNAL_H

#include <pthread.h>

#include "devices/legacy/fw_cfg.h"

struct fw_cfg_item {
	uint8_t *data;
	uint32_t len;
	bool present;
	bool writable;
};

struct fw_cfg_file {
	char name[FW_CFG_NAME_SIZE];
	struct fw_cfg_item item;
};

struct fw_cfg {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	/* Numbered items: [0] plain keys, [1] FW_CFG_ARCH_LOCAL ones. */
	struct fw_cfg_item fixed[2][FW_CFG_FILE_FIRST];
	struct fw_cfg_file *files; /* sorted by name; key FILE_FIRST + index */
	unsigned nr_files;
	unsigned cap_files;
	uint16_t key;	 /* the selection */
	uint32_t offset; /* into the selected item, at most its length */
	uint64_t dma_addr;
};

/* The selected item, or NULL when the key names none. */
struct fw_cfg_item *fw_cfg_selected(struct fw_cfg *fw);

/* Selects `key` at offset 0 (a key with no item reads as empty). */
void fw_cfg_select(struct fw_cfg *fw, uint16_t key);

/* Runs the DMA access whose descriptor the guest put at `gpa`. */
void fw_cfg_dma(struct fw_cfg *fw, uint64_t gpa);

#endif
