// SPDX-License-Identifier: Apache-2.0
/*
 * A strict reader for small flat objects (RFC 8259's grammar for the
 * parts it accepts): whitespace, strings with every escape (surrogate
 * pairs become one UTF-8 character), integers without sign, fraction or
 * exponent. It reads a member's value straight into the caller's field,
 * so there is no tree and no allocation; a value it does not expect is an
 * error, not something to skip.
 */
#define _GNU_SOURCE
#include "api/json_read.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct reader {
	const char *p, *end;
	char *msg;
	size_t msg_size;
};

static int fail(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg, r->msg_size, fmt, ap);
	va_end(ap);
	return -1;
}

static void skip_space(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* Whether the next character is c (after whitespace); takes it if so. */
static bool take(struct reader *r, char c)
{
	skip_space(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(struct reader *r, unsigned *out)
{
	unsigned v = 0;
	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* The code point of a \u escape (the "\u" taken), pairs joined. */
static int unicode_escape(struct reader *r, unsigned *cp)
{
	unsigned hi, lo;
	if (hex4(r, &hi))
		return -1;
	if (hi < 0xd800 || hi > 0xdfff) {
		*cp = hi;
		return 0;
	}
	if (hi > 0xdbff || r->end - r->p < 2 || r->p[0] != '\\' ||
	    r->p[1] != 'u')
		return -1; /* a lone surrogate */
	r->p += 2;
	if (hex4(r, &lo) || lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* Appends cp as UTF-8; false when it does not fit. */
static bool put_utf8(char *out, size_t size, size_t *n, unsigned cp)
{
	char b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (*n + k >= size) /* and the NUL */
		return false;
	memcpy(out + *n, b, k);
	*n += k;
	return true;
}

static const char *simple_escape(char c)
{
	switch (c) {
	case '"':
		return "\"";
	case '\\':
		return "\\";
	case '/':
		return "/";
	case 'b':
		return "\b";
	case 'f':
		return "\f";
	case 'n':
		return "\n";
	case 'r':
		return "\r";
	case 't':
		return "\t";
	}
	return NULL;
}

/*
 * A string (the opening quote taken) into out[size], NUL-terminated.
 * what names it in messages ("a member name", "\"path\"").
 */
static int read_string(struct reader *r, char *out, size_t size,
		       const char *what)
{
	size_t n = 0;
	for (;;) {
		if (r->p == r->end)
			return fail(r, "%s: the string is not terminated",
				    what);
		unsigned char c = (unsigned char)*r->p++;
		unsigned cp = c;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(r,
				    "%s: a control character in a string "
				    "(escape it)",
				    what);
		if (c == '\\') {
			if (r->p == r->end)
				return fail(r,
					    "%s: the string is not "
					    "terminated",
					    what);
			char e = *r->p++;
			const char *s = simple_escape(e);
			if (s)
				cp = (unsigned char)*s;
			else if (e != 'u' || unicode_escape(r, &cp))
				return fail(r, "%s: a bad escape in a string",
					    what);
			if (cp == 0)
				return fail(r,
					    "%s: a NUL character (\\u0000) "
					    "in a string",
					    what);
			if (!put_utf8(out, size, &n, cp))
				return fail(r, "%s: longer than %zu bytes",
					    what, size - 1);
			continue;
		}
		if (n + 1 >= size)
			return fail(r, "%s: longer than %zu bytes", what,
				    size - 1);
		out[n++] = (char)c;
	}
	out[n] = 0;
	return 0;
}

static int read_uint(struct reader *r, struct json_field *f)
{
	const char *start = r->p;
	uint64_t v = 0;
	bool big = false;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		unsigned d = (unsigned)(*r->p++ - '0');
		big |= v > (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	size_t digits = (size_t)(r->p - start);
	bool more =
		r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E');
	if (!digits || more || (digits > 1 && *start == '0'))
		return fail(r, "\"%s\" must be an integer from 0 to %llu",
			    f->name, (unsigned long long)f->max);
	if (big || v > f->max)
		return fail(r, "\"%s\" is out of range (0 to %llu)", f->name,
			    (unsigned long long)f->max);
	*f->uint = v;
	return 0;
}

static int read_value(struct reader *r, struct json_field *f)
{
	char what[80];
	skip_space(r);
	if (f->kind == JSON_FIELD_STRING) {
		if (!take(r, '"'))
			return fail(r, "\"%s\" must be a string", f->name);
		snprintf(what, sizeof(what), "\"%s\"", f->name);
		return read_string(r, f->str, f->str_size, what);
	}
	if (r->p < r->end && *r->p == '-')
		return fail(r, "\"%s\" must be an integer from 0 to %llu",
			    f->name, (unsigned long long)f->max);
	return read_uint(r, f);
}

static struct json_field *find(struct json_field *fields, unsigned n,
			       const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static int read_members(struct reader *r, struct json_field *fields, unsigned n)
{
	if (take(r, '}'))
		return 0;
	do {
		char name[64];
		if (!take(r, '"'))
			return fail(r, "a member name (a string) expected");
		if (read_string(r, name, sizeof(name), "a member name"))
			return -1;
		struct json_field *f = find(fields, n, name);
		if (!f)
			return fail(r, "unknown member \"%s\"", name);
		if (f->seen)
			return fail(r, "\"%s\" is given twice", name);
		f->seen = true;
		if (!take(r, ':'))
			return fail(r, "':' expected after \"%s\"", name);
		if (read_value(r, f))
			return -1;
	} while (take(r, ','));
	if (!take(r, '}'))
		return fail(r, "',' or '}' expected");
	return 0;
}

int json_read_object(const char *text, size_t len, struct json_field *fields,
		     unsigned nr_fields, char *msg, size_t msg_size)
{
	struct reader r = {text, text + len, msg, msg_size};
	for (unsigned i = 0; i < nr_fields; i++)
		fields[i].seen = false;
	if (!take(&r, '{'))
		return fail(&r, "the body must be a JSON object");
	if (read_members(&r, fields, nr_fields))
		return -1;
	skip_space(&r);
	if (r.p != r.end)
		return fail(&r, "text after the object");
	for (unsigned i = 0; i < nr_fields; i++)
		if (fields[i].required && !fields[i].seen)
			return fail(&r, "\"%s\" is missing", fields[i].name);
	return 0;
}
