// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of pepsal's command line: the input, cut at NUL bytes,
 * is an argument vector for config_parse (the option table of every value
 * kind: durations, sizes, rates, port ranges, marks, modes, names) and
 * every value parser is also fed the whole input as one string. Nothing may
 * crash, and an accepted configuration must hold what the parsers promise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/config.c"
#include "../../proxy/config_pair.c"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static void check_config(const struct proxy_config *c)
{
	uint32_t lo = c->upstream_ports & 0xffff, hi = c->upstream_ports >> 16;

	if (c->port < 1 || c->port > 65535 || c->max_conns < 1 || !c->shm_name ||
	    c->shm_name[0] != '/' || (c->upstream_ports && (lo < 1 || lo > hi)) ||
	    c->pipe_size < 4096 || (c->shm_mode & 0600) != 0600 || c->shm_mode > 0666 ||
	    !c->gc_interval_ns || !c->pending_ns || c->queues < 1 ||
	    c->queues > PEPSAL_MAX_QUEUES || c->queue + c->queues - 1 > 65535)
		__builtin_trap();
	if (c->mode == MODE_NFQUEUE && (c->mark.mask & c->route_mark.mask))
		__builtin_trap();
	if (c->pair.role == PAIR_ROLE_TERMINAL && (!c->pair.gateway.port || !c->pair.key_file ||
						   (!c->pair.hold && !c->accept_first)))
		__builtin_trap();
	if (c->pair.role == PAIR_ROLE_GATEWAY && (!c->pair.listen.port || !c->pair.npeers ||
						  !c->no_queuer))
		__builtin_trap();
	for (int l = 0; l < 3; l++)
		if (strnlen(c->leg[l].cc, PROXY_CC_NAME_MAX) == PROXY_CC_NAME_MAX ||
		    (c->leg[l].pacing && c->leg[l].pacing < 1000))
			__builtin_trap();
}

static void each_parser(const char *s)
{
	union {
		char buf[NAME_MAX + 2];
		uint64_t u64;
		uint32_t u32;
		const char *str;
		struct pepsal_mark mark;
		enum proxy_mode mode;
	} dst;
	char err[256];

	memset(&dst, 0, sizeof(dst));
	if (config_parse_rate(s, &dst.u64, err, sizeof(err)) && (dst.u64 < 1000 ||
	    dst.u64 > 125000000000ull))
		__builtin_trap();
	if (config_parse_port_range(s, &dst.u32, err, sizeof(err)) && dst.u32 &&
	    ((dst.u32 & 0xffff) < 1 || (dst.u32 & 0xffff) > (dst.u32 >> 16)))
		__builtin_trap();
	if (config_parse_shm_mode(s, &dst.u32, err, sizeof(err)) && dst.u32 > 0666)
		__builtin_trap();
	if (pepsal_opt_mark(s, &dst.mark, err, sizeof(err)) &&
	    (!dst.mark.value || (dst.mark.value & ~dst.mark.mask)))
		__builtin_trap();
	if (config_parse_queues(s, &dst.u32, err, sizeof(err)) &&
	    (dst.u32 < 1 || dst.u32 > PEPSAL_MAX_QUEUES))
		__builtin_trap();
	config_parse_mode(s, &dst.mode, err, sizeof(err));
	if (config_parse_shm_name(s, dst.buf, err, sizeof(err)) && dst.buf[0] != '/')
		__builtin_trap();
	config_parse_cc(s, dst.buf, err, sizeof(err));
	{
		struct pair_config pc = { 0 };
		struct pepsal_endpoint ep;

		if (config_parse_pair_gateway(s, &ep, err, sizeof(err)) && (!ep.port || !ep.family))
			__builtin_trap();
		if (config_parse_pair_listen(s, &ep, err, sizeof(err)) && !ep.port)
			__builtin_trap();
		if (config_parse_pair_peers(s, &pc, err, sizeof(err)) &&
		    (!pc.npeers || pc.npeers > PAIR_PEERS_MAX))
			__builtin_trap();
		for (unsigned int i = 0; i < pc.npeers; i++)
			if (pc.peers[i].len > (pc.peers[i].family == AF_INET ? 32 : 128))
				__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_config cfg;
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 1];
	FILE *out = stdout, *errf = stderr;
	int argc = 1, rc;
	size_t i = 0;

	if (!copy)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	memcpy(copy, data, size);
	copy[size] = '\0';
	each_parser(copy);
	argv[0] = (char *)"pepsal";
	while (i <= size && argc < MAX_ARGS) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	/* the parsers' messages (and --help) go nowhere */
	stdout = stderr = devnull;
	rc = config_parse(&cfg, argc, argv);
	stdout = out;
	stderr = errf;
	if (rc == 0)
		check_config(&cfg);
	free(copy);
	return 0;
}
