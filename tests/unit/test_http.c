/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control API's HTTP request parser and response writer: good requests
 * in every accepted form, each kind of malformed or oversized one with its
 * status, partial input, pipelining, and random garbage.
 */
#include <stdlib.h>

#include "check.h"
#include "api/http.h"

static struct http_request req;
static struct http_error perr;

static long parse(const char *s)
{
	return http_parse_request(s, strlen(s), &req, &perr);
}

static void good(const char *s, enum http_method m, const char *path)
{
	long n = parse(s);
	CHECK(n == (long)strlen(s));
	if (n != (long)strlen(s))
		fprintf(stderr, "  request: %s -> %ld %d %s\n", s, n, perr.status,
			perr.message);
	CHECK(req.method == m);
	CHECK(!strcmp(req.path, path));
}

static void bad(const char *s, int status)
{
	long n = parse(s);
	CHECK(n == -1);
	CHECK_EQ_U64(perr.status, status);
	CHECK(perr.message[0] != '\0');
	if (n != -1 || perr.status != status)
		fprintf(stderr, "  request: %.60s -> %ld %d\n", s, n, perr.status);
}

static void test_good(void)
{
	good("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\n\r\n",
	     HTTP_GET, "/api/v1/vmm.ping");
	CHECK(req.minor == 1 && req.keep_alive && !req.body && !req.body_len);
	/* What curl --unix-socket sends. */
	good("PUT /api/v1/vm.pause HTTP/1.1\r\nHost: localhost\r\n"
	     "User-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
	     HTTP_PUT, "/api/v1/vm.pause");
	/* Absolute form, query dropped, no headers at all. */
	good("GET http://localhost/api/v1/vm.info?x=1 HTTP/1.1\r\n\r\n",
	     HTTP_GET, "/api/v1/vm.info");
	good("GET HTTP://localhost HTTP/1.1\r\n\r\n", HTTP_GET, "/");
	good("GET /a#frag HTTP/1.1\r\n\r\n", HTTP_GET, "/a");
	/* Bare LF line ends, leading empty lines. */
	good("\r\n\nGET /x HTTP/1.1\nHost: a\n\n", HTTP_GET, "/x");
	/* Other methods parse; the router answers 405. */
	good("DELETE /api/v1/vm.info HTTP/1.1\r\n\r\n", HTTP_OTHER, "/api/v1/vm.info");
	good("HEAD /api/v1/vm.info HTTP/1.1\r\n\r\n", HTTP_HEAD, "/api/v1/vm.info");
	good("get / HTTP/1.1\r\n\r\n", HTTP_OTHER, "/"); /* methods are case-sensitive */
	good("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tabs:\t v \t\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
	     HTTP_GET, "/");
	/* A body, sized by Content-Length, any header case. */
	good("PUT /api/v1/vm.resize HTTP/1.1\r\ncontent-LENGTH: 5\r\n\r\nhello",
	     HTTP_PUT, "/api/v1/vm.resize");
	CHECK(req.body_len == 5 && req.body && !memcmp(req.body, "hello", 5));
	good("PUT /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_PUT, "/a");
	CHECK(req.body == NULL && req.body_len == 0);
}

static void test_body_limit(void)
{
	size_t head = strlen("PUT /a HTTP/1.1\r\nContent-Length: 65536\r\n\r\n");
	char *buf = malloc(head + HTTP_MAX_BODY);
	memcpy(buf, "PUT /a HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", head);
	memset(buf + head, 'b', HTTP_MAX_BODY);
	CHECK(http_parse_request(buf, head, &req, &perr) == 0);
	CHECK(req.want == head + HTTP_MAX_BODY);
	CHECK(http_parse_request(buf, head + 100, &req, &perr) == 0);
	CHECK(http_parse_request(buf, head + HTTP_MAX_BODY, &req, &perr) ==
	      (long)(head + HTTP_MAX_BODY));
	CHECK(req.body_len == HTTP_MAX_BODY);
	free(buf);
	bad("PUT /a HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
	/* Refused as soon as the header is seen, before the blank line. */
	bad("PUT /a HTTP/1.1\r\nContent-Length: 99999999999\r\n", 413);
	bad("PUT /a HTTP/1.1\r\nContent-Length: 184467440737095516160\r\n\r\n", 413);
}

static void test_connection(void)
{
	good("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", HTTP_GET, "/");
	CHECK(!req.keep_alive);
	good("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", HTTP_GET, "/");
	CHECK(!req.keep_alive);
	good("GET / HTTP/1.0\r\n\r\n", HTTP_GET, "/");
	CHECK(req.minor == 0 && !req.keep_alive);
	good("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", HTTP_GET, "/");
	CHECK(req.keep_alive);
	good("GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", HTTP_GET, "/");
	CHECK(req.keep_alive);
}

static void test_partial(void)
{
	const char *full = "PUT /api/v1/vm.pause HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 3\r\n\r\nabc";
	size_t len = strlen(full);
	for (size_t i = 0; i < len; i++) {
		long n = http_parse_request(full, i, &req, &perr);
		CHECK(n == 0);
		if (n)
			fprintf(stderr, "  prefix %zu: %ld %d %s\n", i, n,
				perr.status, perr.message);
	}
	CHECK(http_parse_request(full, len, &req, &perr) == (long)len);
	/* A lone CR at the end may still become CR LF. */
	CHECK(parse("GET / HTTP/1.1\r") == 0);
	CHECK(parse("\r") == 0);
}

static void test_malformed(void)
{
	/* Request line. */
	bad("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400); /* TLS hello, at once */
	bad("GET\x01", 400);
	bad(" GET / HTTP/1.1\r\n\r\n", 400);
	bad("GET  / HTTP/1.1\r\n\r\n", 400);
	bad("GET / HTTP/1.1 \r\n\r\n", 400);
	bad("GET /\r\n\r\n", 400);
	bad("GET\r\n\r\n", 400);
	bad("GET / HTTP/1.1 extra\r\n\r\n", 400);
	bad("G(T / HTTP/1.1\r\n\r\n", 400);
	bad("GETGETGETGETGETGETGET / HTTP/1.1\r\n\r\n", 400);
	bad("GET / HTTP/1.1\rX\n\r\n", 400);
	bad("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	bad("GET /a\tb HTTP/1.1\r\n\r\n", 400);
	bad("GET a/b HTTP/1.1\r\n\r\n", 400);
	bad("OPTIONS * HTTP/1.1\r\n\r\n", 400);
	bad("GET / HTTP/1.x\r\n\r\n", 400);
	bad("GET / HTTP/11\r\n\r\n", 400);
	bad("GET / http/1.1\r\n\r\n", 400);
	bad("GET / HTTP/2.0\r\n\r\n", 505);
	bad("GET / HTTP/1.2\r\n\r\n", 505);
	bad("GET / HTTP/0.9\r\n\r\n", 505);
	/* Header fields. */
	bad("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\n: x\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400);
	bad("GET / HTTP/1.1\r\nA\x80: b\r\n\r\n", 400);
	bad("PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400);
	bad("PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	bad("PUT / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400);
	bad("PUT / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400);
	bad("PUT / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n", 400);
	bad("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411);
	bad("PUT / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	/* A NUL anywhere. */
	static const char nul[] = "GET / HTTP/1.1\r\nA: \0\r\n\r\n";
	CHECK(http_parse_request(nul, sizeof(nul) - 1, &req, &perr) == -1);
	static const char nul2[] = "GET /\0 HTTP/1.1\r\n\r\n";
	CHECK(http_parse_request(nul2, sizeof(nul2) - 1, &req, &perr) == -1);
}

static void test_oversized(void)
{
	char *buf = malloc(HTTP_MAX_REQUEST + 1);
	/* A target over the limit: 414, before the line ends. */
	size_t n = (size_t)snprintf(buf, 64, "GET /");
	memset(buf + n, 'a', HTTP_MAX_TARGET + 10);
	CHECK(http_parse_request(buf, n + HTTP_MAX_TARGET + 10, &req, &perr) == -1);
	CHECK_EQ_U64(perr.status, 414);
	strcpy(buf + n + HTTP_MAX_TARGET + 10, " HTTP/1.1\r\n\r\n");
	CHECK(parse(buf) == -1 && perr.status == 414);
	/* Exactly at the limit is fine. */
	n = (size_t)snprintf(buf, 64, "GET /");
	memset(buf + n, 'a', HTTP_MAX_TARGET - 1);
	strcpy(buf + n + HTTP_MAX_TARGET - 1, " HTTP/1.1\r\n\r\n");
	CHECK(parse(buf) == (long)strlen(buf));

	/* A head that never ends: 431 once it reaches HTTP_MAX_HEAD. */
	n = (size_t)snprintf(buf, 64, "GET / HTTP/1.1\r\n");
	while (n < HTTP_MAX_HEAD + 100)
		n += (size_t)sprintf(buf + n, "X-Pad: %0200d\r\n", 0);
	CHECK(http_parse_request(buf, HTTP_MAX_HEAD - 1, &req, &perr) == 0);
	CHECK(http_parse_request(buf, HTTP_MAX_HEAD, &req, &perr) == -1);
	CHECK_EQ_U64(perr.status, 431);
	/* Too many fields, each small. */
	n = (size_t)snprintf(buf, 64, "GET / HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		n += (size_t)sprintf(buf + n, "A: b\r\n");
	strcpy(buf + n, "\r\n");
	CHECK(parse(buf) == -1 && perr.status == 431);
	/* A request line as long as a head: 400 (it is not a valid one) or
	 * 414; never a wait for more. */
	memset(buf, 'A', HTTP_MAX_HEAD);
	CHECK(http_parse_request(buf, HTTP_MAX_HEAD, &req, &perr) == -1);
	free(buf);
}

static void test_pipelined(void)
{
	const char *two = "GET /one HTTP/1.1\r\n\r\n"
			  "PUT /two HTTP/1.1\r\nContent-Length: 2\r\n\r\nxy"
			  "GET /thr";
	size_t len = strlen(two), off = 0;
	long n = http_parse_request(two, len, &req, &perr);
	CHECK(n > 0 && !strcmp(req.path, "/one"));
	off += (size_t)n;
	n = http_parse_request(two + off, len - off, &req, &perr);
	CHECK(n > 0 && !strcmp(req.path, "/two") && req.body_len == 2);
	off += (size_t)n;
	CHECK(http_parse_request(two + off, len - off, &req, &perr) == 0);
	CHECK(off + 8 == len);
}

static void test_response(void)
{
	struct json_buf out;
	json_buf_init(&out, 4096);
	http_write_response(&out, 200, NULL, "{}", 2, false);
	CHECK(!strcmp(out.data, "HTTP/1.1 200 OK\r\nServer: phyllome-vmm API\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: 2\r\n\r\n{}"));
	json_buf_reset(&out);
	http_write_response(&out, 204, NULL, "ignored", 7, false);
	CHECK(!strcmp(out.data, "HTTP/1.1 204 No Content\r\n"
				"Server: phyllome-vmm API\r\n\r\n"));
	json_buf_reset(&out);
	http_write_response(&out, 405, "PUT", "{\"error\":\"x\"}", 13, true);
	CHECK_STR_CONTAINS(out.data, "HTTP/1.1 405 Method Not Allowed\r\n");
	CHECK_STR_CONTAINS(out.data, "Allow: PUT\r\n");
	CHECK_STR_CONTAINS(out.data, "Connection: close\r\n");
	CHECK_STR_CONTAINS(out.data, "Content-Length: 13\r\n");
	CHECK_STR_CONTAINS(out.data, "\r\n\r\n{\"error\":\"x\"}");
	json_buf_free(&out);
	int codes[] = { 400, 404, 408, 411, 413, 414, 431, 500, 503, 505 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(http_reason(codes[i]), "Unknown"));
}

/* Random bytes and mutated requests: never a crash, an answer within the
 * buffer, a 4xx/5xx status on every error, a NUL-terminated path. */
static void test_garbage(void)
{
	static const char *seeds[] = {
		"GET /api/v1/vm.info HTTP/1.1\r\nHost: x\r\n\r\n",
		"PUT /api/v1/vm.pause HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
		"GET http://h/api HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	};
	unsigned seed = 4242;
	char buf[512];
	for (int i = 0; i < 200000; i++) {
		const char *s = seeds[rand_r(&seed) % 3];
		size_t len = strlen(s);
		memcpy(buf, s, len);
		int muts = 1 + rand_r(&seed) % 4;
		for (int m = 0; m < muts; m++) {
			size_t at = (size_t)rand_r(&seed) % len;
			switch (rand_r(&seed) % 3) {
			case 0: buf[at] = (char)rand_r(&seed); break;
			case 1: len = at; break;
			default: buf[at] = "\r\n :/\t0"[rand_r(&seed) % 7]; break;
			}
			if (!len)
				break;
		}
		long n = http_parse_request(buf, len, &req, &perr);
		CHECK(n >= -1 && n <= (long)len);
		if (n < 0)
			CHECK(perr.status >= 400 && perr.status < 600);
		if (n > 0) {
			CHECK(memchr(req.path, '\0', sizeof(req.path)) != NULL);
			CHECK(req.path[0] == '/');
			CHECK(!req.body_len || (req.body >= buf &&
					       req.body + req.body_len <= buf + len));
		}
	}
}

int main(void)
{
	test_good();
	test_body_limit();
	test_connection();
	test_partial();
	test_malformed();
	test_oversized();
	test_pipelined();
	test_response();
	test_garbage();
	return check_report("test_http");
}
