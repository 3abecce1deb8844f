/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An EDID 1.4 base block (VESA E-EDID) describing a virtual monitor whose
 * preferred mode is width x height: a detailed timing with CVT-style
 * reduced blanking at 60 Hz (lower when the pixel clock would not fit),
 * a physical size that makes 96 DPI, sRGB colour and the name "phyllome".
 */
#ifndef PHY_DEVICES_GPU_EDID_H
#define PHY_DEVICES_GPU_EDID_H

#include <stdint.h>

#define EDID_BLOCK_SIZE 128
#define EDID_MAX_ACTIVE 4095 /* 12 bits in a detailed timing */

/* width and height from 1 to EDID_MAX_ACTIVE; `serial` tells outputs
 * apart. Fills one block, checksum included. */
void edid_build(uint8_t block[EDID_BLOCK_SIZE], unsigned width, unsigned height,
		uint32_t serial);

#endif
