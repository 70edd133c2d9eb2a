// SPDX-License-Identifier: GPL-2.0-or-later
/* The pair's options (--pair-*): their value parsers and the check that
 * they fit the role. config.c's option table calls them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

#define PAIR_DEFAULT_PORT 5001

bool config_parse_pair_role(const char *arg, void *dst, char *err, size_t errlen)
{
	if (strcmp(arg, "terminal") == 0)
		*(enum pair_role *)dst = PAIR_ROLE_TERMINAL;
	else if (strcmp(arg, "gateway") == 0)
		*(enum pair_role *)dst = PAIR_ROLE_GATEWAY;
	else {
		snprintf(err, errlen, "expected terminal or gateway");
		return false;
	}
	return true;
}

/* A port of 1 to 5 digits, 1-65535. */
static bool port_of(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9' || strlen(s) > 5)
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* HOST[:PORT] or [HOST6][:PORT] into EP; ANY_OK: HOST may be empty (family
 * 0), PORT_NEEDED: the port must be there. */
static bool endpoint_of(const char *arg, struct pepsal_endpoint *ep, bool any_ok,
			bool port_needed)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *rest, *colon;
	uint8_t addr[16];
	uint16_t port = PAIR_DEFAULT_PORT;
	size_t n;
	int family = 0;

	if (arg[0] == '[') {
		rest = strchr(arg, ']');
		if (!rest)
			return false;
		n = (size_t)(rest - arg - 1);
		rest++;
		arg++;
		family = AF_INET6;
	} else if (any_ok && !strchr(arg, ':') && port_of(arg, &port)) {
		memset(ep, 0, sizeof(*ep)); /* PORT alone */
		ep->port = port;
		return true;
	} else {
		colon = strchr(arg, ':');
		if (colon && colon != strrchr(arg, ':'))
			return false; /* IPv6 without brackets: ambiguous */
		n = colon ? (size_t)(colon - arg) : strlen(arg);
		rest = arg + n;
		family = AF_INET;
	}
	if (n >= sizeof(host))
		return false;
	memcpy(host, arg, n);
	host[n] = '\0';
	if (*rest == ':') {
		if (!port_of(rest + 1, &port))
			return false;
	} else if (*rest || port_needed) {
		return false;
	}
	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	if (!n && any_ok)
		return true; /* any address */
	if (inet_pton(family, host, addr) != 1)
		return false;
	pepsal_endpoint_set(ep, family, addr, port);
	return true;
}

bool config_parse_pair_gateway(const char *arg, void *dst, char *err, size_t errlen)
{
	if (endpoint_of(arg, dst, false, false))
		return true;
	snprintf(err, errlen, "expected ADDR[:PORT] (198.18.4.2, 198.18.4.2:5001, "
		 "[fd00:4::2]:5001; default port %d)", PAIR_DEFAULT_PORT);
	return false;
}

bool config_parse_pair_listen(const char *arg, void *dst, char *err, size_t errlen)
{
	if (endpoint_of(arg, dst, true, false))
		return true;
	snprintf(err, errlen, "expected [ADDR]:PORT or PORT (:5001, 198.18.4.2:5001, "
		 "[fd00:4::2]:5001)");
	return false;
}

static bool net_of(const char *s, struct pair_net *net)
{
	char buf[INET6_ADDRSTRLEN + 5], *slash, *end;
	unsigned long len;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1)
		net->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, net->addr) == 1)
		net->family = AF_INET6;
	else
		return false;
	len = net->family == AF_INET ? 32 : 128;
	if (slash) {
		unsigned long max = len;

		if (slash[1] < '0' || slash[1] > '9')
			return false;
		len = strtoul(slash + 1, &end, 10);
		if (*end || len > max)
			return false;
	}
	net->len = (uint8_t)len;
	return true;
}

bool config_parse_pair_peers(const char *arg, void *dst, char *err, size_t errlen)
{
	struct pair_config *pc = dst;
	char buf[1024], *tok, *save = NULL;
	unsigned int before = pc->npeers;

	if (strlen(arg) >= sizeof(buf))
		goto bad;
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (pc->npeers == PAIR_PEERS_MAX) {
			snprintf(err, errlen, "at most %d peers", PAIR_PEERS_MAX);
			return false;
		}
		if (!net_of(tok, &pc->peers[pc->npeers]))
			goto bad;
		pc->npeers++;
	}
	if (pc->npeers > before)
		return true;
bad:
	snprintf(err, errlen, "expected ADDR[/LEN][,...] (198.18.3.1, 198.18.3.0/24, "
		 "fd00:3::/64)");
	return false;
}

bool config_pair_check(struct proxy_config *c, char *err, size_t errlen)
{
	struct pair_config *pc = &c->pair;
	bool term = pc->role == PAIR_ROLE_TERMINAL, gw = pc->role == PAIR_ROLE_GATEWAY;

	if (pc->role == PAIR_ROLE_NONE) {
		if (pc->gateway.family || pc->listen.port || pc->npeers || pc->key_file ||
		    pc->hold) {
			snprintf(err, errlen, "--pair-gateway, --pair-listen, --pair-peer, "
				 "--pair-hold and --pair-key-file need --pair-role");
			return false;
		}
		return true;
	}
	if (!pc->key_file) {
		snprintf(err, errlen, "--pair-role %s needs --pair-key-file",
			 term ? "terminal" : "gateway");
		return false;
	}
	if (term && (!pc->gateway.family || pc->listen.port || pc->npeers)) {
		snprintf(err, errlen, "--pair-role terminal needs --pair-gateway, and takes "
			 "no --pair-listen or --pair-peer");
		return false;
	}
	if (gw && (!pc->listen.port || !pc->npeers || pc->gateway.family)) {
		snprintf(err, errlen, "--pair-role gateway needs --pair-listen and "
			 "--pair-peer, and takes no --pair-gateway");
		return false;
	}
	c->leg[LEG_PAIR].sndbuf = c->leg[LEG_PAIR].rcvbuf = pc->buffer;
	if (pc->hold && (!term || c->accept_first)) {
		snprintf(err, errlen, "--pair-hold is for --pair-role terminal, without "
			 "--accept-first");
		return false;
	}
	if (term && !pc->hold)
		c->accept_first = true; /* the pair's default: see pepsal(8) */
	if (gw) {
		struct leg_opts *cl = &c->leg[LEG_CLIENT];
		const struct leg_opts *pl = &c->leg[LEG_PAIR];

		c->no_queuer = true; /* a gateway does not intercept */
		/* its client leg is the pair connection: what --client-* leaves
		 * unset is the pair's (and the adaptive cc's base is --pair-cc) */
		if (!cl->cc[0])
			memcpy(cl->cc, pl->cc, sizeof(cl->cc));
		if (!cl->sndbuf)
			cl->sndbuf = pl->sndbuf;
		if (!cl->rcvbuf)
			cl->rcvbuf = pl->rcvbuf;
		if (!cl->pacing)
			cl->pacing = pl->pacing;
	}
	return true;
}
