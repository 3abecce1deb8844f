/* SPDX-License-Identifier: Apache-2.0 */
/* Loading an assembled payload (tests/payload/NAME.bin) for a test VM. */
#ifndef PHY_TESTS_PAYLOAD_FILE_H
#define PHY_TESTS_PAYLOAD_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The payload's bytes (malloc'd) and their count, or NULL. PAYLOAD_DIR
 * comes from tests/payload/CMakeLists.txt. */
static inline uint8_t *payload_read(const char *name, size_t *size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", PAYLOAD_DIR, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	fstat(fileno(f), &st);
	uint8_t *buf = malloc((size_t)st.st_size);
	*size = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	return buf;
}

#endif
