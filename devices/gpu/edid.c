// SPDX-License-Identifier: Apache-2.0
#include "devices/gpu/edid.h"

#include <string.h>

#define DPI 96
#define REFRESH 60
#define MAX_CLOCK_10KHZ 65535u /* 16 bits of 10 kHz */

/* Reduced blanking: a fixed 160-pixel horizontal blank, and a vertical
 * blank of at least 460 us (over 2.84% of the lines at 60 Hz). */
#define H_BLANK 160
#define H_FRONT 48
#define H_SYNC 32
#define V_FRONT 3
#define V_SYNC 5

static unsigned mm(unsigned px)
{
	return px * 254 / (DPI * 10);
}

static void put_le16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void detailed_timing(uint8_t d[18], unsigned w, unsigned h)
{
	unsigned v_blank = h / 35 + 8;
	unsigned long long total =
		(unsigned long long)(w + H_BLANK) * (h + v_blank);
	unsigned long long clock = total * REFRESH / 10000; /* 10 kHz */
	if (clock > MAX_CLOCK_10KHZ)
		clock = MAX_CLOCK_10KHZ; /* a lower refresh rate */
	unsigned hmm = mm(w), vmm = mm(h);

	put_le16(d, (unsigned)clock);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)H_BLANK;
	d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((H_BLANK >> 8) & 0xf));
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)v_blank;
	d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((v_blank >> 8) & 0xf));
	d[8] = H_FRONT;
	d[9] = H_SYNC;
	d[10] = (uint8_t)((V_FRONT & 0xf) << 4 | (V_SYNC & 0xf));
	d[11] = 0; /* the high bits of the four sync values above */
	d[12] = (uint8_t)hmm;
	d[13] = (uint8_t)vmm;
	d[14] = (uint8_t)(((hmm >> 8) & 0xf) << 4 | ((vmm >> 8) & 0xf));
	d[15] = d[16] = 0; /* no borders */
	d[17] = 0x1a;	   /* digital separate sync, +hsync, -vsync */
}

/* A display descriptor: tag 0xFC is the monitor name, 0x10 is unused. */
static void descriptor(uint8_t d[18], uint8_t tag, const char *text)
{
	memset(d, 0, 18);
	d[3] = tag;
	if (!text)
		return;
	size_t n = strlen(text);
	memset(d + 5, ' ', 13);
	memcpy(d + 5, text, n);
	d[5 + n] = '\n';
}

/* Chromaticity of sRGB: red, green, blue and white x/y in 10 bits. */
static void chromaticity(uint8_t *c)
{
	static const unsigned xy[8] = {655, 338, 307, 614, 154, 61, 320, 337};
	c[0] = (uint8_t)((xy[0] & 3) << 6 | (xy[1] & 3) << 4 |
			 (xy[2] & 3) << 2 | (xy[3] & 3));
	c[1] = (uint8_t)((xy[4] & 3) << 6 | (xy[5] & 3) << 4 |
			 (xy[6] & 3) << 2 | (xy[7] & 3));
	for (unsigned i = 0; i < 8; i++)
		c[2 + i] = (uint8_t)(xy[i] >> 2);
}

void edid_build(uint8_t b[EDID_BLOCK_SIZE], unsigned width, unsigned height,
		uint32_t serial)
{
	static const uint8_t header[8] = {0,	0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0};
	/* "PHY": three letters of five bits, 'A' = 1, big-endian. */
	const unsigned vendor =
		('P' - '@') << 10 | ('H' - '@') << 5 | ('Y' - '@');

	memset(b, 0, EDID_BLOCK_SIZE);
	memcpy(b, header, sizeof(header));
	b[8] = (uint8_t)(vendor >> 8);
	b[9] = (uint8_t)vendor;
	put_le16(b + 10, 1); /* product code */
	for (unsigned i = 0; i < 4; i++)
		b[12 + i] = (uint8_t)(serial >> (8 * i));
	b[16] = 1;	     /* week */
	b[17] = 2024 - 1990; /* year */
	b[18] = 1;	     /* EDID 1.4 */
	b[19] = 4;
	b[20] = 0xa0; /* digital input, 8 bits per colour */
	b[21] = (uint8_t)(mm(width) / 10 ? mm(width) / 10 : 1); /* cm */
	b[22] = (uint8_t)(mm(height) / 10 ? mm(height) / 10 : 1);
	b[23] = 120;  /* gamma 2.2 */
	b[24] = 0x06; /* sRGB; the preferred timing is the native mode */
	chromaticity(b + 25);
	for (unsigned i = 0; i < 8; i++) /* no standard timings */
		b[38 + 2 * i] = b[39 + 2 * i] = 1;
	detailed_timing(b + 54, width, height);
	descriptor(b + 72, 0xfc, "phyllome");
	descriptor(b + 90, 0x10, NULL);
	descriptor(b + 108, 0x10, NULL);
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_BLOCK_SIZE - 1; i++)
		sum += b[i];
	b[EDID_BLOCK_SIZE - 1] = (uint8_t)(0x100 - sum);
}
