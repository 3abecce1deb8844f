/* SPDX-License-Identifier: Apache-2.0 */
/* Firmware images and their variable stores: what is accepted, where each
 * part goes below 4 GiB, and garbage. */
#include <stdlib.h>

#include "boot/firmware.h"
#include "check.h"

#define KIB 1024u

static const uint8_t nv_guid[16] = {
	0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76, 0x8b, 0x4c,
	0xa9, 0x85, 0x27, 0x47, 0x07, 0x5b, 0x4f, 0x50,
};

/* An image of `size` bytes with a reset vector, starting with a variable
 * store of vars_len bytes (0: none). */
static uint8_t *image(size_t size, uint64_t vars_len)
{
	uint8_t *p = calloc(1, size);
	memset(p + size - 16, 0x90, 16);
	p[size - 16 + 2] = 0xe9;
	if (vars_len) {
		memcpy(p + 0x10, nv_guid, 16);
		for (unsigned i = 0; i < 8; i++)
			p[0x20 + i] = (uint8_t)(vars_len >> (8 * i));
		memcpy(p + 0x28, "_FVH", 4);
	}
	return p;
}

static void test_check_image(void)
{
	struct phy_error e;
	uint8_t *p = image(2048 * KIB, 0);
	CHECK(firmware_check_image(p, 2048 * KIB, "firmware", &e) == 0);
	CHECK(firmware_check_image(p, 2048 * KIB - 1, "firmware", &e) ==
	      -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "--firmware: 2097151 bytes is not a firmware image");
	memset(p + 2048 * KIB - 16, 0xff, 16);
	CHECK(firmware_check_image(p, 2048 * KIB, "firmware", &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "no reset vector");
	memset(p + 2048 * KIB - 16, 0, 16);
	CHECK(firmware_check_image(p, 2048 * KIB, "firmware", &e) == -PHY_E_IMAGE);
	CHECK(firmware_check_image(p, 0, "firmware", &e) == -PHY_E_IMAGE);
	free(p);
	/* One page too many for the space below 4 GiB. */
	size_t big = FIRMWARE_MAX_SIZE + 4 * KIB;
	p = image(big, 0);
	CHECK(firmware_check_image(p, big, "firmware", &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "do not fit below 4 GiB");
	CHECK(firmware_check_image(p + 4 * KIB, big - 4 * KIB, "firmware", &e) == 0);
	free(p);
}

static void test_vars(void)
{
	struct phy_error e;
	uint8_t *v = image(528 * KIB, 528 * KIB);
	CHECK(firmware_vars_store_size(v, 528 * KIB) == 528 * KIB);
	CHECK(firmware_check_vars(v, 528 * KIB, "firmware", &e) == 0);
	/* The file and the store it holds disagree. */
	CHECK(firmware_check_vars(v, 524 * KIB, "firmware", &e) == -PHY_E_IMAGE);
	CHECK(firmware_vars_store_size(v, 524 * KIB) == 0);
	uint8_t *w = image(1024 * KIB, 528 * KIB);
	CHECK(firmware_check_vars(w, 1024 * KIB, "firmware", &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "the variable store is 540672 bytes but the file has 1048576");
	/* Wrong signature, wrong GUID, a length that is no page multiple. */
	v[0x28] = 'X';
	CHECK(firmware_check_vars(v, 528 * KIB, "firmware", &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "not a UEFI variable store");
	v[0x28] = '_';
	v[0x10] ^= 1;
	CHECK(firmware_vars_store_size(v, 528 * KIB) == 0);
	v[0x10] ^= 1;
	v[0x20] = 1;
	CHECK(firmware_vars_store_size(v, 528 * KIB) == 0);
	CHECK(firmware_vars_store_size(v, 16) == 0);
	free(v);
	free(w);
}

static void test_layout(void)
{
	struct phy_error e;
	struct firmware_layout l;
	/* OVMF_CODE_4M.fd (3.5 MiB) with OVMF_VARS_4M.fd below it. */
	uint8_t *code = image(3568 * KIB, 0);
	CHECK(firmware_layout(code, 3568 * KIB, 528 * KIB, &l, "firmware", &e) == 0);
	CHECK_EQ_U64(l.code_gpa, 0xffc84000);
	CHECK_EQ_U64(l.code_size, 3568 * KIB);
	CHECK_EQ_U64(l.vars_gpa, 0xffc84000 - 528 * KIB);
	CHECK(!l.vars_overlay && l.code_offset == 0);
	CHECK(firmware_layout(code, 3568 * KIB, 0, &l, "firmware", &e) == 0);
	CHECK(l.vars_size == 0 && l.code_gpa == 0xffc84000);
	/* Variables that would not fit below the image. */
	CHECK(firmware_layout(code, 3568 * KIB, 16384 * KIB, &l, "firmware", &e) ==
	      -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "do not fit below 4 GiB together");
	free(code);
	/* OVMF.fd: its first 128 KiB are the store the file replaces. */
	uint8_t *all = image(2048 * KIB, 128 * KIB);
	CHECK(firmware_layout(all, 2048 * KIB, 128 * KIB, &l, "firmware", &e) == 0);
	CHECK(l.vars_overlay && l.vars_gpa == 0xffe00000);
	CHECK_EQ_U64(l.code_gpa, 0xffe20000);
	CHECK_EQ_U64(l.code_offset, 128 * KIB);
	CHECK_EQ_U64(l.code_size, 1920 * KIB);
	/* A store of another size is not where that firmware looks. */
	CHECK(firmware_layout(all, 2048 * KIB, 528 * KIB, &l, "firmware", &e) ==
	      -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "the variables file has 540672 bytes but "
				      "the image's own variable store has 131072");
	free(all);
}

int main(void)
{
	test_check_image();
	test_vars();
	test_layout();
	return check_report("test_firmware");
}
