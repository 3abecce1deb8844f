// SPDX-License-Identifier: Apache-2.0
#include "devices/gpu/png.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <png.h>

#include "common/error.h"

/* libpng reports errors by longjmp; the message is kept for the caller
 * (libpng's default handler would print it). */
struct png_failure {
	jmp_buf jmp;
	char msg[128];
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_failure *f = png_get_error_ptr(png);
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
	longjmp(f->jmp, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
}

/* Everything libpng may longjmp out of; volatile-free because nothing
 * changed here is read after the jump. */
static int encode(FILE *f, const uint8_t *rgb, unsigned width, unsigned height,
		  struct png_failure *fail)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, fail,
						  on_error, on_warning);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		snprintf(fail->msg, sizeof(fail->msg), "out of memory");
		return -1;
	}
	if (setjmp(fail->jmp)) {
		png_destroy_write_struct(&png, &info);
		return -1;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (unsigned y = 0; y < height; y++)
		png_write_row(png, rgb + (size_t)y * width * 3);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int png_write_rgb(const char *path, const uint8_t *rgb, unsigned width,
		  unsigned height, struct phy_error *err)
{
	struct png_failure fail = {.msg = ""};
	FILE *f = fopen(path, "wbe");
	if (!f)
		return phy_err_errno(err, PHY_E_IO, errno, "%s", path);
	int r = encode(f, rgb, width, height, &fail);
	if (fclose(f) && !r) {
		snprintf(fail.msg, sizeof(fail.msg), "%s", strerror(errno));
		r = -1;
	}
	if (r)
		return phy_err(err, PHY_E_IO, "%s: cannot write the PNG: %s",
			       path, fail.msg);
	return 0;
}
