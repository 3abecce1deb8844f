/* SPDX-License-Identifier: Apache-2.0 */
/* One DMA access of fw_cfg (the rules are in fw_cfg.h). */
#include "devices/legacy/fw_cfg_internal.h"

#include <endian.h>
#include <string.h>

/* Item bytes, then zeros past the item's end, into guest RAM. The whole
 * range is checked first: a refused READ writes nothing. */
static uint32_t dma_read(struct fw_cfg *fw, struct fw_cfg_item *it,
			 uint64_t gpa, uint32_t len)
{
	uint8_t *dst = guest_mem_ptr(fw->mem, gpa, len);
	if (!dst)
		return FW_CFG_DMA_ERROR;
	uint32_t avail = it && fw->offset < it->len ? it->len - fw->offset : 0;
	uint32_t n = len < avail ? len : avail;
	if (len - n > FW_CFG_DMA_MAX_ZERO_FILL)
		return FW_CFG_DMA_ERROR;
	if (n)
		memcpy(dst, it->data + fw->offset, n);
	memset(dst + n, 0, len - n);
	fw->offset += n;
	return 0;
}

/* Guest RAM into a writable item; like QEMU, a write that does not fit
 * before the item's end is refused whole. */
static uint32_t dma_write(struct fw_cfg *fw, struct fw_cfg_item *it,
			  uint64_t gpa, uint32_t len)
{
	if (!it || !it->writable || fw->offset >= it->len ||
	    len > it->len - fw->offset)
		return FW_CFG_DMA_ERROR;
	if (guest_mem_read(fw->mem, gpa, it->data + fw->offset, len))
		return FW_CFG_DMA_ERROR;
	fw->offset += len;
	return 0;
}

static void dma_skip(struct fw_cfg *fw, struct fw_cfg_item *it, uint32_t len)
{
	uint32_t avail = it && fw->offset < it->len ? it->len - fw->offset : 0;
	fw->offset += len < avail ? len : avail;
}

static void put_control(struct fw_cfg *fw, uint64_t gpa, uint32_t control)
{
	uint32_t be = htobe32(control);
	/* A descriptor outside RAM gets nothing: guest_mem_write checks. */
	guest_mem_write(fw->mem,
			gpa + offsetof(struct fw_cfg_dma_access, control), &be,
			sizeof(be));
}

void fw_cfg_dma(struct fw_cfg *fw, uint64_t gpa)
{
	struct fw_cfg_dma_access d;
	/* One copy: the guest may rewrite the descriptor meanwhile. */
	if (guest_mem_read(fw->mem, gpa, &d, sizeof(d))) {
		put_control(fw, gpa, FW_CFG_DMA_ERROR);
		return;
	}
	uint32_t control = be32toh(d.control);
	uint32_t len = be32toh(d.length);
	uint64_t addr = be64toh(d.address);
	if (control & FW_CFG_DMA_SELECT)
		fw_cfg_select(fw, (uint16_t)(control >> 16));
	struct fw_cfg_item *it = fw_cfg_selected(fw);

	/* Zero bytes to move is success at any address, as in QEMU. */
	uint32_t result = 0;
	if (len && (control & FW_CFG_DMA_READ))
		result = dma_read(fw, it, addr, len);
	else if (len && (control & FW_CFG_DMA_WRITE))
		result = dma_write(fw, it, addr, len);
	else if (control & FW_CFG_DMA_SKIP)
		dma_skip(fw, it, len);
	put_control(fw, gpa, result);
}
