/* SPDX-License-Identifier: Apache-2.0 */
/* Writing screenshots: 8-bit RGB PNG files through libpng. */
#ifndef PHY_DEVICES_GPU_PNG_H
#define PHY_DEVICES_GPU_PNG_H

#include <stdint.h>

#include <phyllome/vmm.h>

/* rgb: `height` rows of `width` pixels, 3 bytes each, top row first.
 * Returns 0, or -PHY_E_IO with err naming the file. */
int png_write_rgb(const char *path, const uint8_t *rgb, unsigned width,
		  unsigned height, struct phy_error *err);

#endif
