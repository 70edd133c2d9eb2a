// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * serve's request reader: the header ends at an empty line (CRLF or LF);
 * only its first line matters: GET or HEAD, a target, HTTP/1.x. Every
 * byte is looked at within LEN, never past it, whatever it holds.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

static void answer(struct http_answer *a, int status, const char *reason, const char *text)
{
	a->status = status;
	a->reason = reason;
	a->text = text;
	a->metrics = false;
}

bool http_request_read(const char *req, size_t len, struct http_answer *a)
{
	char line[320], method[16], target[256], version[16];
	size_t n;

	*a = (struct http_answer){ 0 };
	if (!memmem(req, len, "\r\n\r\n", 4) && !memmem(req, len, "\n\n", 2)) {
		if (len < HTTP_REQUEST_MAX - 1)
			return false;
		answer(a, 431, "Request Header Fields Too Large", "request too large\n");
		return true;
	}
	/* the request line, NUL-terminated, without what follows */
	for (n = 0; n < len && n < sizeof(line) - 1 && req[n] != '\r' && req[n] != '\n' &&
	     req[n] != '\0'; n++)
		line[n] = req[n];
	line[n] = '\0';
	if (sscanf(line, "%15[A-Z] %255[^ \r\n] %15[^ \r\n]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0) {
		answer(a, 400, "Bad Request", "bad request\n");
		return true;
	}
	a->head = strcmp(method, "HEAD") == 0;
	if (!a->head && strcmp(method, "GET") != 0) {
		answer(a, 405, "Method Not Allowed", "only GET and HEAD\n");
		return true;
	}
	target[strcspn(target, "?")] = '\0';
	if (strcmp(target, "/") == 0)
		answer(a, 200, "OK", "pepsal-shm: the metrics are at /metrics\n");
	else if (strcmp(target, "/metrics") != 0)
		answer(a, 404, "Not Found", "not found: the metrics are at /metrics\n");
	else {
		answer(a, 200, "OK", NULL);
		a->metrics = true;
	}
	return true;
}
