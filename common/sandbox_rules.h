/* SPDX-License-Identifier: Apache-2.0 */
/* The allow-lists of common/sandbox.c, one per thread kind. */
#ifndef PHY_COMMON_SANDBOX_RULES_H
#define PHY_COMMON_SANDBOX_RULES_H

#include <seccomp.h>

#include "common/sandbox.h"

/* Adds the kind's allow rules to ctx: 0 or a negative errno. */
int sandbox_rules_add(scmp_filter_ctx ctx, enum sandbox_kind kind);

#endif
