/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Building JSON text: a byte buffer that grows (or a fixed one that only
 * records that it ran out), and a string escaper that always produces valid
 * JSON, whatever bytes a path or message holds.
 */
#ifndef PHY_API_JSON_H
#define PHY_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char *data;    /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	size_t max;    /* growth limit: a reply cannot eat the host's memory */
	bool fixed;    /* caller's storage: never reallocated */
	bool failed;   /* out of memory or space: the text is incomplete */
};

/* A growing buffer of at most `max` bytes. */
void json_buf_init(struct json_buf *b, size_t max);
/* A buffer in the caller's storage (e.g. on the stack). */
void json_buf_init_fixed(struct json_buf *b, char *storage, size_t size);
void json_buf_free(struct json_buf *b);
void json_buf_reset(struct json_buf *b);

void json_raw(struct json_buf *b, const char *s, size_t n);
void json_lit(struct json_buf *b, const char *s);
void json_printf(struct json_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "s" with JSON escapes. Control characters become \uXXXX; bytes that are
 * not valid UTF-8 become U+FFFD, so the output is always valid JSON. A NULL
 * s is written as null. */
void json_str(struct json_buf *b, const char *s);
/* The same for a string of known length (may hold NUL bytes). */
void json_strn(struct json_buf *b, const char *s, size_t n);

void json_u64(struct json_buf *b, uint64_t v);
void json_bool(struct json_buf *b, bool v);

#endif
