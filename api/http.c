/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The parser is stateless: it is handed the whole buffered input each time
 * and either finds one complete request at its start or says what is
 * wrong. Requests are small (a head of at most 8 KiB), so re-reading them
 * costs nothing and there is no state machine to get wrong.
 */
#define _GNU_SOURCE
#include "api/http.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define METHOD_MAX 16

static long fail(struct http_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static long fail(struct http_error *err, int status, const char *fmt, ...)
{
	err->status = status;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Field values: visible ASCII, space, tab and obs-text; no controls. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || c == ' ' || is_vchar(c) || c >= 0x80;
}

/*
 * A request line that has not ended yet: reject what can never become a
 * valid one (binary garbage, a long method, a huge target) at once.
 */
static long check_partial_line(const char *s, size_t n, struct http_error *err)
{
	size_t spaces = 0, method_len = 0, target_len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' && i == n - 1)
			break;
		if (c == ' ') {
			spaces++;
			continue;
		}
		if (!is_vchar(c))
			return fail(err, 400, "invalid byte 0x%02x in the request line", c);
		if (spaces == 0 && (!is_tchar(c) || ++method_len > METHOD_MAX))
			return fail(err, 400, "malformed method");
		if (spaces == 1 && ++target_len > HTTP_MAX_TARGET)
			return fail(err, 414, "request target longer than %d bytes",
				    HTTP_MAX_TARGET);
	}
	if (spaces > 2 || (n && s[0] == ' '))
		return fail(err, 400, "malformed request line");
	return 0;
}

static long parse_version(const char *v, size_t n, struct http_request *req,
			  struct http_error *err)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' ||
	    v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9')
		return fail(err, 400, "malformed HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return fail(err, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
	req->minor = v[7] - '0';
	return 0;
}

/* Origin-form ("/api/v1/vm.info?x") or absolute-form
 * ("http://localhost/api/v1/vm.info"): keeps the path only. */
static long parse_target(const char *t, size_t n, struct http_request *req,
			 struct http_error *err)
{
	if (n > HTTP_MAX_TARGET)
		return fail(err, 414, "request target longer than %d bytes",
			    HTTP_MAX_TARGET);
	for (size_t i = 0; i < n; i++)
		if (!is_vchar((unsigned char)t[i]))
			return fail(err, 400, "invalid byte in the request target");
	const char *p = t, *end = t + n;
	if (n >= 7 && !strncasecmp(t, "http://", 7)) {
		p = memchr(t + 7, '/', n - 7);
		if (!p)
			p = "/", end = p + 1;
	} else if (n == 0 || t[0] != '/') {
		return fail(err, 400, "the request target must be a path");
	}
	size_t len = 0;
	while (p + len < end && p[len] != '?' && p[len] != '#')
		len++;
	memcpy(req->path, p, len);
	req->path[len] = '\0';
	return 0;
}

static long parse_request_line(const char *s, size_t n, struct http_request *req,
			       struct http_error *err)
{
	const char *sp1 = memchr(s, ' ', n);
	if (!sp1)
		return fail(err, 400, "malformed request line");
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(s + n - sp1 - 1));
	if (!sp2 || sp1 == s || sp2 == sp1 + 1 ||
	    memchr(sp2 + 1, ' ', (size_t)(s + n - sp2 - 1)))
		return fail(err, 400, "malformed request line");
	size_t mlen = (size_t)(sp1 - s);
	if (mlen > METHOD_MAX)
		return fail(err, 400, "malformed method");
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(err, 400, "malformed method");
	if (mlen == 3 && !memcmp(s, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 3 && !memcmp(s, "PUT", 3))
		req->method = HTTP_PUT;
	else if (mlen == 4 && !memcmp(s, "HEAD", 4))
		req->method = HTTP_HEAD;
	else
		req->method = HTTP_OTHER;
	if (parse_version(sp2 + 1, (size_t)(s + n - sp2 - 1), req, err))
		return -1;
	return parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), req, err);
}

struct head_state {
	unsigned nr_headers;
	bool have_length;
	size_t content_length;
	bool conn_close;
	bool conn_keep_alive;
};

static bool token_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !strncasecmp(s, word, n);
}

/* "close", "keep-alive", "Upgrade", ... separated by commas. */
static void parse_connection(const char *v, size_t n, struct head_state *h)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (token_is(v + start, i - start, "close"))
			h->conn_close = true;
		else if (token_is(v + start, i - start, "keep-alive"))
			h->conn_keep_alive = true;
	}
}

static long parse_content_length(const char *v, size_t n, struct head_state *h,
				 struct http_error *err)
{
	if (h->have_length)
		return fail(err, 400, "more than one Content-Length");
	if (n == 0 || n > 18)
		return fail(err, n > 18 ? 413 : 400, "bad Content-Length");
	uint64_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return fail(err, 400, "bad Content-Length");
		len = len * 10 + (uint64_t)(v[i] - '0');
	}
	if (len > HTTP_MAX_BODY)
		return fail(err, 413, "request body larger than %d bytes",
			    HTTP_MAX_BODY);
	h->have_length = true;
	h->content_length = (size_t)len;
	return 0;
}

static long parse_header(const char *s, size_t n, struct head_state *h,
			 struct http_error *err)
{
	if (s[0] == ' ' || s[0] == '\t')
		return fail(err, 400, "obsolete header line folding");
	if (++h->nr_headers > HTTP_MAX_HEADERS)
		return fail(err, 431, "more than %d header fields", HTTP_MAX_HEADERS);
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return fail(err, 400, "malformed header field");
	size_t name_len = (size_t)(colon - s);
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return fail(err, 400, "malformed header field name");
	const char *v = colon + 1, *end = s + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *p = v; p < end; p++)
		if (!is_field_char((unsigned char)*p))
			return fail(err, 400, "invalid byte 0x%02x in a header field",
				    (unsigned char)*p);
	size_t vlen = (size_t)(end - v);
	if (token_is(s, name_len, "content-length"))
		return parse_content_length(v, vlen, h, err);
	if (token_is(s, name_len, "transfer-encoding"))
		return fail(err, 411, "Transfer-Encoding is not supported: send a Content-Length");
	if (token_is(s, name_len, "connection"))
		parse_connection(v, vlen, h);
	return 0;
}

/* The line starting at buf[pos]: its length without CR LF in *n, the
 * offset after its LF as the result; 0 when its LF has not arrived. */
static size_t next_line(const char *buf, size_t len, size_t pos, size_t *n)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);
	if (!lf)
		return 0;
	size_t end = (size_t)(lf - buf);
	*n = end - pos;
	if (*n && buf[end - 1] == '\r')
		(*n)--;
	return end + 1;
}

long http_parse_request(const char *buf, size_t len, struct http_request *req,
			struct http_error *err)
{
	memset(req, 0, sizeof(*req));
	err->status = 0;
	err->message[0] = '\0';
	/* Everything up to the blank line must fit in HTTP_MAX_HEAD. */
	size_t head_len = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t pos = 0, n = 0, next;

	/* Empty lines before the request line are ignored (RFC 9112 2.2). */
	while (pos < head_len &&
	       (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < head_len &&
				     buf[pos + 1] == '\n')))
		pos += buf[pos] == '\r' ? 2 : 1;

	next = next_line(buf, head_len, pos, &n);
	if (!next) {
		if (check_partial_line(buf + pos, head_len - pos, err))
			return -1;
		if (len >= HTTP_MAX_HEAD)
			return fail(err, 414, "request line longer than %d bytes",
				    HTTP_MAX_HEAD);
		return 0;
	}
	if (memchr(buf + pos, '\r', n))
		return fail(err, 400, "stray CR in the request line");
	if (parse_request_line(buf + pos, n, req, err))
		return -1;

	struct head_state h = { 0 };
	for (pos = next;;) {
		next = next_line(buf, head_len, pos, &n);
		if (!next) {
			if (len >= HTTP_MAX_HEAD)
				return fail(err, 431, "request head longer than %d bytes",
					    HTTP_MAX_HEAD);
			return 0;
		}
		if (n == 0)
			break;
		if (parse_header(buf + pos, n, &h, err))
			return -1;
		pos = next;
	}
	req->keep_alive = req->minor >= 1 ? !h.conn_close
					  : h.conn_keep_alive && !h.conn_close;
	size_t total = next + h.content_length;
	if (len < total) {
		req->want = total;
		return 0;
	}
	if (h.content_length) {
		req->body = buf + next;
		req->body_len = h.content_length;
	}
	return (long)total;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void http_write_response(struct json_buf *out, int status, const char *allow,
			 const char *body, size_t body_len, bool close)
{
	json_printf(out, "HTTP/1.1 %d %s\r\nServer: phyllome-vmm API\r\n",
		    status, http_reason(status));
	if (allow)
		json_printf(out, "Allow: %s\r\n", allow);
	if (status != 204) {
		if (body_len)
			json_lit(out, "Content-Type: application/json\r\n");
		json_printf(out, "Content-Length: %zu\r\n", body_len);
	}
	if (close)
		json_lit(out, "Connection: close\r\n");
	json_lit(out, "\r\n");
	if (status != 204)
		json_raw(out, body, body_len);
}
