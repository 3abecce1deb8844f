/* SPDX-License-Identifier: Apache-2.0 */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int phy_err(struct phy_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -code;
}

int phy_err_errno(struct phy_error *err, int code, int errnum,
		  const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < sizeof(err->message))
			snprintf(err->message + n, sizeof(err->message) - n,
				 ": %s", strerror(errnum));
		err->code = code;
	}
	return -code;
}
