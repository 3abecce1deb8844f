/* SPDX-License-Identifier: Apache-2.0 */
#include "devices/legacy/fw_cfg_loader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "devices/legacy/fw_cfg.h"

/* Field offsets inside a command: its le32 type, one or two names, then
 * the integers. */
#define NAME1 4
#define NAME2 (NAME1 + FW_CFG_NAME_SIZE)
#define AFTER1 NAME2
#define AFTER2 (NAME2 + FW_CFG_NAME_SIZE)

struct fw_cfg_loader {
	uint8_t *cmds;
	size_t nr_cmds, cap_cmds;
};

struct fw_cfg_loader *fw_cfg_loader_create(void)
{
	return calloc(1, sizeof(struct fw_cfg_loader));
}

void fw_cfg_loader_destroy(struct fw_cfg_loader *l)
{
	if (!l)
		return;
	free(l->cmds);
	free(l);
}

const uint8_t *fw_cfg_loader_data(const struct fw_cfg_loader *l, size_t *len)
{
	*len = l->nr_cmds * FW_CFG_LOADER_ENTRY_SIZE;
	return l->cmds;
}

static int check_name(const char *name, struct phy_error *err)
{
	size_t n = name ? strnlen(name, FW_CFG_NAME_SIZE) : 0;
	if (!n || n >= FW_CFG_NAME_SIZE)
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: a file name must have 1 to %d "
			       "characters",
			       FW_CFG_NAME_SIZE - 1);
	return 0;
}

/* The script's own ALLOCATE commands say which files are allocated
 * (names are NUL-padded, so one compares as a string). */
static bool is_allocated(const struct fw_cfg_loader *l, const char *name)
{
	for (size_t i = 0; i < l->nr_cmds; i++) {
		const uint8_t *c = l->cmds + i * FW_CFG_LOADER_ENTRY_SIZE;
		if (c[0] == FW_CFG_LOADER_ALLOCATE &&
		    !strcmp((const char *)c + NAME1, name))
			return true;
	}
	return false;
}

/* The file must be a valid name that an earlier ALLOCATE named. */
static int check_allocated(const struct fw_cfg_loader *l, const char *name,
			   struct phy_error *err)
{
	int rc = check_name(name, err);
	if (!rc && !is_allocated(l, name))
		rc = phy_err(err, PHY_E_INVALID,
			     "table-loader: \"%s\" is used before it is "
			     "allocated",
			     name);
	return rc;
}

/* A pointer of `size` bytes at dst_offset in dst to the file src. */
static int check_pointer(const struct fw_cfg_loader *l, const char *dst,
			 bool dst_allocated, uint32_t dst_offset, uint8_t size,
			 const char *src, struct phy_error *err)
{
	int rc = dst_allocated ? check_allocated(l, dst, err)
			       : check_name(dst, err);
	if (!rc)
		rc = check_allocated(l, src, err);
	if (rc)
		return rc;
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: a pointer of %u bytes (1, 2, 4 "
			       "or 8)",
			       size);
	if (dst_offset > UINT32_MAX - size)
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: a pointer at 0x%x in \"%s\" runs "
			       "past 4 GiB",
			       dst_offset, dst);
	return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A command of `type` appended, zeroed but for its type and first name;
 * NULL when out of memory. */
static uint8_t *append(struct fw_cfg_loader *l, uint32_t type, const char *name,
		       struct phy_error *err)
{
	if (l->nr_cmds == l->cap_cmds) {
		size_t cap = l->cap_cmds ? 2 * l->cap_cmds : 16;
		uint8_t *p = realloc(l->cmds, cap * FW_CFG_LOADER_ENTRY_SIZE);
		if (!p) {
			phy_err(err, PHY_E_NOMEM,
				"table-loader: out of memory");
			return NULL;
		}
		l->cmds = p;
		l->cap_cmds = cap;
	}
	uint8_t *c = l->cmds + l->nr_cmds++ * FW_CFG_LOADER_ENTRY_SIZE;
	memset(c, 0, FW_CFG_LOADER_ENTRY_SIZE);
	put_le(c, type, 4);
	memcpy(c + NAME1, name, strlen(name));
	return c;
}

int fw_cfg_loader_allocate(struct fw_cfg_loader *l, const char *file,
			   uint32_t align, enum fw_cfg_loader_zone zone,
			   struct phy_error *err)
{
	int rc = check_name(file, err);
	if (rc)
		return rc;
	if (!align || (align & (align - 1)) || align > FW_CFG_LOADER_MAX_ALIGN)
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: \"%s\": alignment %u is not a "
			       "power of two up to %u",
			       file, align, FW_CFG_LOADER_MAX_ALIGN);
	if (zone != FW_CFG_LOADER_ZONE_HIGH && zone != FW_CFG_LOADER_ZONE_FSEG)
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: \"%s\": unknown zone %d", file,
			       (int)zone);
	if (is_allocated(l, file))
		return phy_err(err, PHY_E_INVALID,
			       "table-loader: \"%s\" allocated twice", file);
	uint8_t *c = append(l, FW_CFG_LOADER_ALLOCATE, file, err);
	if (!c)
		return -PHY_E_NOMEM;
	put_le(c + AFTER1, align, 4);
	c[AFTER1 + 4] = (uint8_t)zone;
	return 0;
}

int fw_cfg_loader_add_pointer(struct fw_cfg_loader *l, const char *dst_file,
			      uint32_t dst_offset, uint8_t size,
			      const char *src_file, struct phy_error *err)
{
	int rc = check_pointer(l, dst_file, true, dst_offset, size, src_file,
			       err);
	if (rc)
		return rc;
	uint8_t *c = append(l, FW_CFG_LOADER_ADD_POINTER, dst_file, err);
	if (!c)
		return -PHY_E_NOMEM;
	memcpy(c + NAME2, src_file, strlen(src_file));
	put_le(c + AFTER2, dst_offset, 4);
	c[AFTER2 + 4] = size;
	return 0;
}

int fw_cfg_loader_add_checksum(struct fw_cfg_loader *l, const char *file,
			       uint32_t start, uint32_t len,
			       uint32_t checksum_offset, struct phy_error *err)
{
	int rc = check_allocated(l, file, err);
	if (!rc && start > UINT32_MAX - len)
		rc = phy_err(err, PHY_E_INVALID,
			     "table-loader: a checksum range at 0x%x in \"%s\" "
			     "runs past 4 GiB",
			     start, file);
	if (rc)
		return rc;
	uint8_t *c = append(l, FW_CFG_LOADER_ADD_CHECKSUM, file, err);
	if (!c)
		return -PHY_E_NOMEM;
	put_le(c + AFTER1, checksum_offset, 4);
	put_le(c + AFTER1 + 4, start, 4);
	put_le(c + AFTER1 + 8, len, 4);
	return 0;
}

int fw_cfg_loader_write_pointer(struct fw_cfg_loader *l, const char *dst_file,
				uint32_t dst_offset, uint8_t size,
				const char *src_file, uint32_t src_offset,
				struct phy_error *err)
{
	/* The pointer lives in a fw_cfg file, not in allocated memory. */
	int rc = check_pointer(l, dst_file, false, dst_offset, size, src_file,
			       err);
	if (rc)
		return rc;
	uint8_t *c = append(l, FW_CFG_LOADER_WRITE_POINTER, dst_file, err);
	if (!c)
		return -PHY_E_NOMEM;
	memcpy(c + NAME2, src_file, strlen(src_file));
	put_le(c + AFTER2, dst_offset, 4);
	put_le(c + AFTER2 + 4, src_offset, 4);
	c[AFTER2 + 8] = size;
	return 0;
}
