// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of pepsal-shm serve's request reader (shm/inspect/
 * http.c): whatever a client sends, in whatever pieces. The input is read
 * as serve reads it, growing from the first byte, cut where its first byte
 * says, and at its full length: nothing may crash or read past what was
 * received, an answer once given stays, and every answer is one serve can
 * send (a known status; the metrics only as a 200 to GET or HEAD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../shm/inspect/http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct http_answer *a)
{
	switch (a->status) {
	case 200: case 400: case 404: case 405: case 431:
		break;
	default:
		__builtin_trap();
	}
	if (!a->reason || (!a->metrics && !a->text) || (a->metrics && a->status != 200))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* serve's buffer: at most HTTP_REQUEST_MAX - 1 bytes are received */
	size_t len = size < HTTP_REQUEST_MAX - 1 ? size : HTTP_REQUEST_MAX - 1;
	size_t step = size ? 1 + data[0] % 64 : 1;
	char *buf = malloc(len ? len : 1); /* exactly what was received: ASan sees past it */
	struct http_answer a;
	bool done = false;

	if (!buf)
		return 0;
	memcpy(buf, data, len);
	for (size_t got = step < len ? step : len; ; got = got + step < len ? got + step : len) {
		bool complete = http_request_read(buf, got, &a);

		if (done && !complete)
			__builtin_trap(); /* a complete header never becomes incomplete */
		if (complete) {
			check(&a);
			done = true;
		}
		if (got == len)
			break;
	}
	/* a full buffer always has an answer (431 at worst) */
	if (len == HTTP_REQUEST_MAX - 1 && !done)
		__builtin_trap();
	free(buf);
	return 0;
}
