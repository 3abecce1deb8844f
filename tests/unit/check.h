/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal assertion layer for unit tests: failures are counted and reported,
 * and the process exit status tells ctest whether anything failed. */
#ifndef PHY_TEST_CHECK_H
#define PHY_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                           \
	do {                                                                  \
		check_count++;                                                \
		if (!(cond)) {                                                \
			check_failures++;                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                             \
		}                                                             \
	} while (0)

/* A set-up step the whole test program depends on (in helpers that
 * return a value): a failure is reported and the program exits 1. */
#define NEED(cond)                                                            \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: set-up failed: %s\n",         \
				__FILE__, __LINE__, #cond);                   \
			exit(1);                                              \
		}                                                             \
	} while (0)

/* A set-up step the rest of a test function depends on: a failure is
 * counted and reported, and the function returns at once. */
#define REQUIRE(cond)                                                         \
	do {                                                                  \
		check_count++;                                                \
		if (!(cond)) {                                                \
			check_failures++;                                     \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n",        \
				__FILE__, __LINE__, #cond);                   \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                    \
	do {                                                                  \
		uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);            \
		check_count++;                                                \
		if (va_ != vb_) {                                             \
			check_failures++;                                     \
			fprintf(stderr,                                       \
				"%s:%d: CHECK failed: %s == %s (0x%" PRIx64   \
				" != 0x%" PRIx64 ")\n",                       \
				__FILE__, __LINE__, #a, #b, va_, vb_);        \
		}                                                             \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                       \
	do {                                                                  \
		const char *h_ = (hay);                                       \
		check_count++;                                                \
		if (!h_ || !strstr(h_, (needle))) {                           \
			check_failures++;                                     \
			fprintf(stderr, "%s:%d: CHECK failed: \"%s\" lacks \"%s\"\n", \
				__FILE__, __LINE__, h_ ? h_ : "(null)", (needle)); \
		}                                                             \
	} while (0)

static inline int check_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
