// SPDX-License-Identifier: Apache-2.0
#include "boot/firmware.h"

#include <string.h>

#include "common/error.h"

/* EFI_FIRMWARE_VOLUME_HEADER (PI spec, vol. 3, 3.2.1). */
#define FV_GUID_OFFSET 0x10
#define FV_LENGTH_OFFSET 0x20
#define FV_SIGNATURE_OFFSET 0x28
#define FV_HEADER_MIN 0x48
#define RESET_VECTOR_SIZE 16

/* EFI_SYSTEM_NV_DATA_FV_GUID, fff12b8d-7696-4c8b-a985-2747075b4f50, as it
 * is stored. */
static const uint8_t nv_data_fv_guid[16] = {
	0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
	0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50,
};

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t b)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != b)
			return false;
	return true;
}

int firmware_check_image(const uint8_t *data, size_t size, const char *opt,
			 struct phy_error *err)
{
	if (!size || size % FIRMWARE_PAGE)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: %zu bytes is not a firmware image (not a "
			       "whole number of 4 KiB pages)", opt, size);
	if (size > FIRMWARE_MAX_SIZE)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: %zu bytes do not fit below 4 GiB (at most "
			       "%llu MiB)", opt, size,
			       (unsigned long long)(FIRMWARE_MAX_SIZE >> 20));
	const uint8_t *rv = data + size - RESET_VECTOR_SIZE;
	if (all_bytes(rv, RESET_VECTOR_SIZE, 0xff) ||
	    all_bytes(rv, RESET_VECTOR_SIZE, 0x00))
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: not a firmware image (no reset vector in "
			       "its last 16 bytes)", opt);
	return 0;
}

uint64_t firmware_vars_store_size(const uint8_t *data, size_t size)
{
	if (size < FV_HEADER_MIN ||
	    memcmp(data + FV_SIGNATURE_OFFSET, "_FVH", 4) ||
	    memcmp(data + FV_GUID_OFFSET, nv_data_fv_guid, 16))
		return 0;
	uint64_t len = get_le64(data + FV_LENGTH_OFFSET);
	return len && len <= size && len % FIRMWARE_PAGE == 0 ? len : 0;
}

int firmware_check_vars(const uint8_t *data, size_t size, const char *opt,
			struct phy_error *err)
{
	uint64_t len = firmware_vars_store_size(data, size);
	if (!len)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: not a UEFI variable store (no NV-data "
			       "firmware volume at its start)", opt);
	if (len != size)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: the variable store is %llu bytes but the "
			       "file has %zu", opt, (unsigned long long)len,
			       size);
	return 0;
}

int firmware_layout(const uint8_t *image, size_t image_size,
		    uint64_t vars_size, struct firmware_layout *out,
		    const char *opt, struct phy_error *err)
{
	memset(out, 0, sizeof(*out));
	out->code_gpa = FIRMWARE_TOP - image_size;
	out->code_size = image_size;
	if (!vars_size)
		return 0;
	out->vars_size = vars_size;
	uint64_t own = firmware_vars_store_size(image, image_size);
	if (own && own != vars_size)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: the variables file has %llu bytes but the "
			       "image's own variable store has %llu", opt,
			       (unsigned long long)vars_size,
			       (unsigned long long)own);
	if (own && vars_size < image_size) {
		out->vars_overlay = true;
		out->vars_gpa = out->code_gpa;
		out->code_gpa += vars_size;
		out->code_size -= vars_size;
		out->code_offset = vars_size;
		return 0;
	}
	if (vars_size > FIRMWARE_MAX_SIZE - image_size)
		return phy_err(err, PHY_E_IMAGE,
			       "--%s: the image and its %llu-byte variables "
			       "file do not fit below 4 GiB together", opt,
			       (unsigned long long)vars_size);
	out->vars_gpa = out->code_gpa - vars_size;
	return 0;
}
