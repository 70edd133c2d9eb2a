// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of the queuer's packet parser. Built by `make fuzz` with
 * clang -fsanitize=fuzzer,address,undefined; includes the .c files it needs
 * so nothing else is linked. Each input is parsed as a whole packet and as
 * the prefix of a longer one (the copy range cut case); a SYN verdict must
 * describe the packet's own family with nonzero ports.
 */
#include "../../queuer/parse.c"
#include "../../shm/endpoint.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, size_t wire)
{
	struct queuer_parsed p;
	enum queuer_parse_result r = queuer_parse(data, size, wire, &p);

	if (r == QP_SYN) {
		int fam = (data[0] >> 4) == 4 ? AF_INET : AF_INET6;

		if (p.client.family != fam || p.dst.family != fam || !p.client.port ||
		    !p.dst.port || p.why)
			__builtin_trap();
	} else if ((unsigned)r >= QP_RESULT_COUNT || !p.why) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* copy so that the sanitizer sees reads past SIZE exactly */
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check(buf, size, 0);
	check(buf, size, size + (size ? buf[0] : 0) + 1);
	free(buf);
	return 0;
}
