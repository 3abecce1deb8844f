/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 for the control API: a request parser over a byte buffer (no
 * I/O, so the unit tests and the fuzzer drive it directly) and the response
 * writer. Deliberately small: origin-form or absolute-form targets, a
 * Content-Length body (no Transfer-Encoding), persistent connections and
 * pipelining. Every limit is an error with its own status code.
 */
#ifndef PHY_API_HTTP_H
#define PHY_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api/json.h"

#define HTTP_MAX_HEAD 8192        /* request line and headers, blank line included */
#define HTTP_MAX_TARGET 1024      /* the request-target */
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_REQUEST (HTTP_MAX_HEAD + HTTP_MAX_BODY)

enum http_method {
	HTTP_GET,
	HTTP_PUT,
	HTTP_HEAD,  /* served no endpoint, but its answer must have no body */
	HTTP_OTHER, /* a valid token we do not serve (POST, DELETE, ...) */
};

struct http_request {
	enum http_method method;
	char path[HTTP_MAX_TARGET + 1]; /* without query; NUL-terminated */
	int minor;                      /* HTTP/1.minor: 0 or 1 */
	bool keep_alive;                /* the connection may carry another request */
	const char *body;               /* into the parsed buffer; NULL when empty */
	size_t body_len;
	/* When the parser asks for more bytes: the request's whole length once
	 * its head is complete (the body is still coming), 0 before. Lets the
	 * caller skip parsing again until that much has arrived. */
	size_t want;
	/* Descriptors that came with the request (SCM_RIGHTS): set by the
	 * server, not the parser; the server closes them after the answer. */
	const int *fds;
	unsigned nr_fds;
};

struct http_error {
	int status;        /* 400, 408, 411, 413, 414, 431, 505 */
	char message[128]; /* for the {"error": ...} reply */
};

/*
 * Parses the request at the start of buf[0, len). Returns its length (head
 * and body) when it is complete, 0 when more bytes are needed, and -1 when
 * it is malformed or too large: err says which status to answer, and the
 * connection must be closed after that answer (its framing is lost).
 * Rejects a bad request line as soon as it is seen, so garbage gets its
 * answer without waiting for a timeout.
 */
long http_parse_request(const char *buf, size_t len, struct http_request *req,
			struct http_error *err);

/* The reason phrase of a status code ("Not Found"). */
const char *http_reason(int status);

/*
 * Appends a complete response: status line, Server, Content-Type (when there
 * is a body), Content-Length (except for 204), Allow (when non-NULL),
 * Connection: close (when close) and the body.
 */
void http_write_response(struct json_buf *out, int status, const char *allow,
			 const char *body, size_t body_len, bool close);

#endif
