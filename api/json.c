/* SPDX-License-Identifier: Apache-2.0 */
#include "api/json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_buf_init(struct json_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void json_buf_init_fixed(struct json_buf *b, char *storage, size_t size)
{
	memset(b, 0, sizeof(*b));
	b->data = storage;
	b->cap = size;
	b->max = size;
	b->fixed = true;
	if (size)
		storage[0] = '\0';
	else
		b->failed = true;
}

void json_buf_free(struct json_buf *b)
{
	if (!b->fixed)
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void json_buf_reset(struct json_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

/* Room for n more bytes and the NUL. */
static bool reserve(struct json_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n < b->max && b->len + n < b->cap)
		return true;
	if (b->fixed || n >= b->max || b->len + n >= b->max) {
		b->failed = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap <= b->len + n)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	char *d = realloc(b->data, cap);
	if (!d) {
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void json_raw(struct json_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void json_lit(struct json_buf *b, const char *s)
{
	json_raw(b, s, strlen(s));
}

void json_printf(struct json_buf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		json_raw(b, small, (size_t)n);
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if none:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void json_strn(struct json_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	json_raw(b, "\"", 1);
	size_t run = 0; /* bytes copied as they are, flushed in one go */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char ubuf[8];
		size_t u = 0;
		if (c >= 0x80)
			u = utf8_len(s + i, n - i);
		if ((c >= 0x20 && c < 0x80 && c != '"' && c != '\\') || u) {
			if (u) {
				run += u;
				i += u - 1;
			} else {
				run++;
			}
			continue;
		}
		json_raw(b, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c >= 0x80) {
				esc = "\\ufffd";
			} else {
				snprintf(ubuf, sizeof(ubuf), "\\u%04x", c);
				esc = ubuf;
			}
		}
		json_lit(b, esc);
	}
	json_raw(b, (const char *)s + n - run, run);
	json_raw(b, "\"", 1);
}

void json_str(struct json_buf *b, const char *s)
{
	if (!s)
		json_lit(b, "null");
	else
		json_strn(b, s, strlen(s));
}

void json_u64(struct json_buf *b, uint64_t v)
{
	json_printf(b, "%" PRIu64, v);
}

void json_bool(struct json_buf *b, bool v)
{
	json_lit(b, v ? "true" : "false");
}
