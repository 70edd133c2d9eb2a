/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * serve's request reader: bytes a client sent (anything, from anyone who can
 * reach the port) to what to answer. Pure, no I/O: serve.c feeds it, the
 * fuzzer too (tests/fuzz/fuzz-serve.c).
 */
#ifndef PEPSAL_INSPECT_HTTP_H
#define PEPSAL_INSPECT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_REQUEST_MAX 4096 /* a request's header, at most (431 beyond) */

struct http_answer {
	int status;           /* 200, 400, 404, 405 or 431 */
	const char *reason;   /* "OK", "Not Found", ... */
	const char *text;     /* the body, unless METRICS */
	bool metrics;         /* 200 with the metrics as the body */
	bool head;            /* HEAD: the header only */
};

/* REQ[0..LEN), what the client sent so far (any bytes, NUL included):
 * false while its header is incomplete and may still grow, else true and
 * *A. A header that does not end within HTTP_REQUEST_MAX - 1 bytes is 431. */
bool http_request_read(const char *req, size_t len, struct http_answer *a);

#endif
