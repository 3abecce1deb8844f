/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/fw_cfg_internal.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define FW_CFG_SIGNATURE_BYTES "QEMU"
#define FW_CFG_ENTRY_MASK 0x3fff

static struct fw_cfg_item *fixed_item(struct fw_cfg *fw, uint16_t key)
{
	if ((key & FW_CFG_ENTRY_MASK) >= FW_CFG_FILE_FIRST)
		return NULL;
	return &fw->fixed[!!(key & FW_CFG_ARCH_LOCAL)][key & FW_CFG_ENTRY_MASK];
}

static struct fw_cfg_item *item_of(struct fw_cfg *fw, uint16_t key)
{
	/* QEMU ignores the old write-channel bit: a guest setting it selects
	 * the same item. */
	key &= (uint16_t)~FW_CFG_WRITE_CHANNEL;
	struct fw_cfg_item *it = fixed_item(fw, key);
	if (it)
		return it->present ? it : NULL;
	if (key >= FW_CFG_FILE_FIRST &&
	    (unsigned)(key - FW_CFG_FILE_FIRST) < fw->nr_files)
		return &fw->files[key - FW_CFG_FILE_FIRST].item;
	return NULL;
}

struct fw_cfg_item *fw_cfg_selected(struct fw_cfg *fw)
{
	return item_of(fw, fw->key);
}

void fw_cfg_select(struct fw_cfg *fw, uint16_t key)
{
	fw->key = key;
	fw->offset = 0;
}

static int set_item(struct fw_cfg_item *it, const void *data, size_t len,
		    bool writable, struct phy_error *err)
{
	uint8_t *copy = NULL;
	if (len > UINT32_MAX - 1)
		return phy_err(
			err, PHY_E_INVALID,
			"fw_cfg: an item of %zu bytes (the limit is 4 GiB)",
			len);
	if (len && !(copy = malloc(len)))
		return phy_err(err, PHY_E_NOMEM, "fw_cfg: out of memory");
	if (len)
		memcpy(copy, data, len);
	free(it->data);
	*it = (struct fw_cfg_item){copy, (uint32_t)len, true, writable};
	return 0;
}

/* The directory, rebuilt whole after each file: a be32 count, then one
 * entry per file in key order (which is name order). */
static int rebuild_dir(struct fw_cfg *fw, struct phy_error *err)
{
	size_t len = 4 + (size_t)fw->nr_files * sizeof(struct fw_cfg_dir_entry);
	uint8_t *dir = calloc(1, len);
	if (!dir)
		return phy_err(err, PHY_E_NOMEM, "fw_cfg: out of memory");
	uint32_t count = htobe32(fw->nr_files);
	memcpy(dir, &count, 4);
	for (unsigned i = 0; i < fw->nr_files; i++) {
		struct fw_cfg_dir_entry e = {
			.size = htobe32(fw->files[i].item.len),
			.select = htobe16((uint16_t)(FW_CFG_FILE_FIRST + i)),
		};
		memcpy(e.name, fw->files[i].name, FW_CFG_NAME_SIZE);
		memcpy(dir + 4 + i * sizeof(e), &e, sizeof(e));
	}
	struct fw_cfg_item *it = &fw->fixed[0][FW_CFG_FILE_DIR];
	free(it->data);
	*it = (struct fw_cfg_item){dir, (uint32_t)len, true, false};
	return 0;
}

struct fw_cfg *fw_cfg_create(const struct guest_mem *mem)
{
	struct fw_cfg *fw = calloc(1, sizeof(*fw));
	if (!fw)
		return NULL;
	pthread_mutex_init(&fw->lock, NULL);
	fw->mem = mem;
	uint32_t id = htole32(FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	if (set_item(&fw->fixed[0][FW_CFG_SIGNATURE], FW_CFG_SIGNATURE_BYTES, 4,
		     false, NULL) ||
	    set_item(&fw->fixed[0][FW_CFG_ID], &id, sizeof(id), false, NULL) ||
	    rebuild_dir(fw, NULL)) {
		fw_cfg_destroy(fw);
		return NULL;
	}
	return fw;
}

void fw_cfg_destroy(struct fw_cfg *fw)
{
	if (!fw)
		return;
	for (unsigned a = 0; a < 2; a++)
		for (unsigned k = 0; k < FW_CFG_FILE_FIRST; k++)
			free(fw->fixed[a][k].data);
	for (unsigned i = 0; i < fw->nr_files; i++)
		free(fw->files[i].item.data);
	free(fw->files);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}

int fw_cfg_add_item(struct fw_cfg *fw, uint16_t key, const void *data,
		    size_t len, struct phy_error *err)
{
	struct fw_cfg_item *it = fixed_item(fw, key);
	if (!it || (key & FW_CFG_WRITE_CHANNEL) || key == FW_CFG_SIGNATURE ||
	    key == FW_CFG_ID || key == FW_CFG_FILE_DIR)
		return phy_err(err, PHY_E_INVALID,
			       "fw_cfg: key 0x%04x is not one an item may use",
			       key);
	pthread_mutex_lock(&fw->lock);
	int rc = it->present ? phy_err(err, PHY_E_INVALID,
				       "fw_cfg: key 0x%04x added twice", key)
			     : set_item(it, data, len, false, err);
	pthread_mutex_unlock(&fw->lock);
	return rc;
}

int fw_cfg_add_u16(struct fw_cfg *fw, uint16_t key, uint16_t value,
		   struct phy_error *err)
{
	uint16_t le = htole16(value);
	return fw_cfg_add_item(fw, key, &le, sizeof(le), err);
}

int fw_cfg_add_u32(struct fw_cfg *fw, uint16_t key, uint32_t value,
		   struct phy_error *err)
{
	uint32_t le = htole32(value);
	return fw_cfg_add_item(fw, key, &le, sizeof(le), err);
}

int fw_cfg_add_u64(struct fw_cfg *fw, uint16_t key, uint64_t value,
		   struct phy_error *err)
{
	uint64_t le = htole64(value);
	return fw_cfg_add_item(fw, key, &le, sizeof(le), err);
}

/* Where `name` is or would go in the sorted file list. */
static unsigned file_index(const struct fw_cfg *fw, const char *name,
			   bool *found)
{
	unsigned lo = 0, hi = fw->nr_files;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int c = strcmp(name, fw->files[mid].name);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return lo;
}

static int insert_file(struct fw_cfg *fw, const char *name, const void *data,
		       size_t len, unsigned flags, struct phy_error *err)
{
	bool found;
	unsigned at = file_index(fw, name, &found);
	if (found)
		return phy_err(err, PHY_E_INVALID,
			       "fw_cfg: file \"%s\" added twice", name);
	if (fw->nr_files == FW_CFG_MAX_FILES)
		return phy_err(err, PHY_E_INVALID, "fw_cfg: more than %u files",
			       FW_CFG_MAX_FILES);
	if (fw->nr_files == fw->cap_files) {
		unsigned cap = fw->cap_files ? 2 * fw->cap_files : 16;
		struct fw_cfg_file *f = realloc(fw->files, cap * sizeof(*f));
		if (!f)
			return phy_err(err, PHY_E_NOMEM,
				       "fw_cfg: out of memory");
		fw->files = f;
		fw->cap_files = cap;
	}
	struct fw_cfg_file nf = {0};
	strcpy(nf.name, name);
	int rc = set_item(&nf.item, data, len, flags & FW_CFG_FILE_WRITABLE,
			  err);
	if (rc)
		return rc;
	memmove(&fw->files[at + 1], &fw->files[at],
		(fw->nr_files - at) * sizeof(nf));
	fw->files[at] = nf;
	fw->nr_files++;
	rc = rebuild_dir(fw, err);
	if (rc) { /* take it out again: the directory must list every file */
		free(nf.item.data);
		fw->nr_files--;
		memmove(&fw->files[at], &fw->files[at + 1],
			(fw->nr_files - at) * sizeof(nf));
	}
	return rc;
}

int fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data,
		    size_t len, unsigned flags, struct phy_error *err)
{
	size_t n = name ? strnlen(name, FW_CFG_NAME_SIZE) : 0;
	if (!n || n >= FW_CFG_NAME_SIZE)
		return phy_err(
			err, PHY_E_INVALID,
			"fw_cfg: a file name must have 1 to %d characters",
			FW_CFG_NAME_SIZE - 1);
	if (flags & ~FW_CFG_FILE_WRITABLE)
		return phy_err(err, PHY_E_INVALID,
			       "fw_cfg: unknown flags 0x%x for \"%s\"", flags,
			       name);
	pthread_mutex_lock(&fw->lock);
	int rc = insert_file(fw, name, data, len, flags, err);
	pthread_mutex_unlock(&fw->lock);
	return rc;
}

bool fw_cfg_find_file(struct fw_cfg *fw, const char *name, uint16_t *key,
		      uint32_t *size)
{
	bool found;
	pthread_mutex_lock(&fw->lock);
	unsigned i = file_index(fw, name, &found);
	if (found) {
		*key = (uint16_t)(FW_CFG_FILE_FIRST + i);
		*size = fw->files[i].item.len;
	}
	pthread_mutex_unlock(&fw->lock);
	return found;
}

size_t fw_cfg_read_item(struct fw_cfg *fw, uint16_t key, uint64_t offset,
			void *buf, size_t len)
{
	size_t n = 0;
	pthread_mutex_lock(&fw->lock);
	struct fw_cfg_item *it = item_of(fw, key);
	if (it && offset < it->len) {
		n = it->len - offset < len ? it->len - offset : len;
		memcpy(buf, it->data + offset, n);
	}
	pthread_mutex_unlock(&fw->lock);
	return n;
}

/* ---- The port registers ------------------------------------------------ */

static uint8_t data_read(struct fw_cfg *fw)
{
	struct fw_cfg_item *it = fw_cfg_selected(fw);
	if (!it || fw->offset >= it->len)
		return 0;
	return it->data[fw->offset++];
}

/* QEMU dropped data-port writes in 2.4; a writable file takes them here,
 * the same bytes a DMA WRITE would store, and nothing past its end. */
static void data_write(struct fw_cfg *fw, uint8_t v)
{
	struct fw_cfg_item *it = fw_cfg_selected(fw);
	if (it && it->writable && fw->offset < it->len)
		it->data[fw->offset++] = v;
}

static void fw_cfg_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	static const char dma_sig[8] = "QEMU CFG";
	struct fw_cfg *fw = opaque;
	pthread_mutex_lock(&fw->lock);
	for (uint32_t i = 0; i < len; i++) {
		uint64_t at = off + i;
		if (at <= FW_CFG_REG_DATA)
			data[i] = data_read(fw);
		else if (at >= FW_CFG_REG_DMA_HIGH && at < FW_CFG_PORT_SIZE)
			data[i] = (uint8_t)dma_sig[at - FW_CFG_REG_DMA_HIGH];
		else
			data[i] = 0;
	}
	pthread_mutex_unlock(&fw->lock);
}

static uint32_t be32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32toh(v);
}

static void fw_cfg_write(void *opaque, uint64_t off, const uint8_t *data,
			 uint32_t len)
{
	struct fw_cfg *fw = opaque;
	pthread_mutex_lock(&fw->lock);
	if (off == FW_CFG_REG_SELECTOR && len == 2) {
		fw_cfg_select(fw, (uint16_t)(data[0] | data[1] << 8));
	} else if (off <= FW_CFG_REG_DATA && len == 1) {
		data_write(fw, data[0]);
	} else if (off == FW_CFG_REG_DMA_HIGH && len == 4) {
		fw->dma_addr = (uint64_t)be32_at(data) << 32;
	} else if (off == FW_CFG_REG_DMA_LOW && len == 4) {
		uint64_t gpa = fw->dma_addr | be32_at(data);
		/* QEMU forgets the address before each access: a lone low
		 * half next time means an address below 4 GiB. */
		fw->dma_addr = 0;
		fw_cfg_dma(fw, gpa);
	} else if (off == FW_CFG_REG_DMA_HIGH && len == 8) {
		fw->dma_addr = 0;
		fw_cfg_dma(fw,
			   (uint64_t)be32_at(data) << 32 | be32_at(data + 4));
	}
	pthread_mutex_unlock(&fw->lock);
}

const struct bus_device_ops fw_cfg_bus_ops = {
	.read = fw_cfg_read,
	.write = fw_cfg_write,
};
