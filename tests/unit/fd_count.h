/* SPDX-License-Identifier: Apache-2.0 */
/* The process's open descriptors (plus the directory's own three
 * entries), for tests that check that nothing leaked. */
#ifndef PHY_TEST_FD_COUNT_H
#define PHY_TEST_FD_COUNT_H

#include <dirent.h>

static inline unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;
	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

#endif
