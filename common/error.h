/* SPDX-License-Identifier: Apache-2.0 */
/* Internal error reporting: fill a struct phy_error and return its code. */
#ifndef PHY_COMMON_ERROR_H
#define PHY_COMMON_ERROR_H

#include <phyllome/vmm.h>

/* Sets err (when non-NULL) and returns -code, so callers can write
 * `return phy_err(err, PHY_E_INVALID, "...")`. */
int phy_err(struct phy_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like phy_err() but appends ": strerror(errnum)". */
int phy_err_errno(struct phy_error *err, int code, int errnum,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
