/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a request body: one JSON object whose members are strings and
 * non-negative integers, the only bodies the control API takes. The
 * caller lists the members it knows; anything else (another member, a
 * value of another type, a duplicate, trailing text) is an error with a
 * one-line message for the client's 400.
 */
#ifndef PHY_API_JSON_READ_H
#define PHY_API_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_field_kind {
	JSON_FIELD_STRING, /* into str, NUL-terminated; no NUL inside */
	JSON_FIELD_UINT,   /* a decimal integer from 0 to max, into *uint */
};

struct json_field {
	const char *name;
	enum json_field_kind kind;
	bool required;
	char *str; /* JSON_FIELD_STRING: str_size bytes */
	size_t str_size;
	uint64_t *uint; /* JSON_FIELD_UINT */
	uint64_t max;
	bool seen; /* set when the body has the member */
};

/*
 * Parses text[0, len) into the fields. Returns 0, or -1 with `msg` saying
 * what is wrong (naming the member where there is one).
 */
int json_read_object(const char *text, size_t len, struct json_field *fields,
		     unsigned nr_fields, char *msg, size_t msg_size);

#endif
