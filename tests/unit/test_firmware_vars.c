/* SPDX-License-Identifier: Apache-2.0 */
/* The variables file: created from which template, locked, and nothing
 * written when the template is garbage. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/firmware.h"
#include "check.h"
#include "vmm/machine/firmware_vars.h"

#define STORE 0x2000u

static char dir[] = "/tmp/phy-vars-XXXXXX";

static void store(uint8_t *p, uint64_t len, uint8_t fill)
{
	static const uint8_t guid[16] = { 0x8d, 0x2b, 0xf1, 0xff, 0x96, 0x76,
					  0x8b, 0x4c, 0xa9, 0x85, 0x27, 0x47,
					  0x07, 0x5b, 0x4f, 0x50 };
	memset(p, fill, len);
	memset(p, 0, 0x48);
	memcpy(p + 0x10, guid, 16);
	for (unsigned i = 0; i < 8; i++)
		p[0x20 + i] = (uint8_t)(len >> (8 * i));
	memcpy(p + 0x28, "_FVH", 4);
}

static char *path(const char *name)
{
	char *p;
	CHECK(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

static void put(const char *file, const uint8_t *d, size_t n)
{
	FILE *f = fopen(file, "w");
	CHECK(f && fwrite(d, 1, n, f) == n);
	if (f)
		fclose(f);
}

static void test_vars(void)
{
	struct phy_error e;
	struct firmware_vars v, w;
	uint8_t tmpl[STORE], image[0x4000];
	memset(image, 0x90, sizeof(image));

	/* The OVMF_VARS file beside an OVMF_CODE image is the default. */
	char *code = path("OVMF_CODE_X.fd"), *vars_t = path("OVMF_VARS_X.fd");
	char *mine = path("mine.fd");
	store(tmpl, STORE, 0xa5);
	put(vars_t, tmpl, STORE);
	REQUIRE(firmware_vars_open(&v, mine, NULL, code, image, sizeof(image),
				   &e) == 0);
	CHECK(v.size == STORE && !memcmp(v.data, tmpl, STORE));
	/* A second VMM on the same file is refused. */
	CHECK(firmware_vars_open(&w, mine, NULL, code, image, sizeof(image),
				 &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "is in use by another VM");
	firmware_vars_close(&w);
	/* What the guest programs reaches the file. */
	v.data[STORE - 1] = 0x11;
	firmware_vars_close(&v);
	REQUIRE(firmware_vars_open(&v, mine, NULL, code, image, sizeof(image),
				   &e) == 0);
	CHECK(v.data[STORE - 1] == 0x11);
	firmware_vars_close(&v);

	/* An image with a store of its own: that store is the template. */
	char *own = path("own.fd");
	store(image, STORE, 0x5a);
	REQUIRE(firmware_vars_open(&v, own, NULL, "/x/OVMF.fd", image,
				   sizeof(image), &e) == 0);
	CHECK(v.size == STORE && v.data[STORE - 1] == 0x5a);
	firmware_vars_close(&v);

	/* Garbage: no template, a template that is no store, a file that is
	 * no store. Nothing is created. */
	char *none = path("none.fd"), *junk = path("junk.fd");
	memset(image, 0x90, sizeof(image));
	CHECK(firmware_vars_open(&v, none, NULL, "/x/bios.bin", image,
				 sizeof(image), &e) == -PHY_E_INVALID);
	CHECK_STR_CONTAINS(e.message, "there is no template for it");
	firmware_vars_close(&v);
	put(junk, image, sizeof(image));
	CHECK(firmware_vars_open(&v, none, junk, code, image, sizeof(image),
				 &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "--firmware: vars_template: not a UEFI variable store");
	firmware_vars_close(&v);
	CHECK(access(none, F_OK) < 0);
	CHECK(firmware_vars_open(&v, junk, NULL, code, image, sizeof(image),
				 &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "--firmware: vars: not a UEFI variable store");
	firmware_vars_close(&v);
	/* A template the image's own store would not take. */
	store(image, STORE / 2, 0x5a);
	CHECK(firmware_vars_open(&v, none, vars_t, "/x/OVMF.fd", image,
				 sizeof(image), &e) == -PHY_E_IMAGE);
	CHECK_STR_CONTAINS(e.message, "the image's own variable store has 4096");
	firmware_vars_close(&v);
	CHECK(access(none, F_OK) < 0);
	memset(image, 0x90, sizeof(image));
	CHECK(firmware_vars_open(&v, none, "/nonexistent", code, image,
				 sizeof(image), &e) == -PHY_E_IMAGE);
	CHECK(firmware_vars_open(&v, dir, NULL, code, image, sizeof(image),
				 &e) < 0);
	firmware_vars_close(&v);
	CHECK(access(none, F_OK) < 0);

	char *files[] = { vars_t, mine, own, junk };
	for (unsigned i = 0; i < 4; i++)
		unlink(files[i]);
	free(code);
	free(vars_t);
	free(mine);
	free(own);
	free(none);
	free(junk);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	test_vars();
	rmdir(dir);
	return check_report("test_firmware_vars");
}
