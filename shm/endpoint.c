// SPDX-License-Identifier: GPL-2.0-or-later
/* Endpoint conversions and formatting shared by every pepsal program. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pepsal_endpoint.h"

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool pepsal_endpoint_same_addr(const struct pepsal_endpoint *a,
			       const struct pepsal_endpoint *b)
{
	return a->family == b->family &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

bool pepsal_endpoint_equal(const struct pepsal_endpoint *a,
			   const struct pepsal_endpoint *b)
{
	return a->port == b->port && pepsal_endpoint_same_addr(a, b);
}

void pepsal_endpoint_set(struct pepsal_endpoint *ep, int family,
			 const void *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = (uint8_t)family;
	ep->port = port;
	memcpy(ep->addr, addr, addr_len(family));
}

int pepsal_endpoint_from_sockaddr(struct pepsal_endpoint *ep,
				  const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		pepsal_endpoint_set(ep, AF_INET, &sin->sin_addr, ntohs(sin->sin_port));
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			pepsal_endpoint_set(ep, AF_INET, &sin6->sin6_addr.s6_addr[12],
					    ntohs(sin6->sin6_port));
		else
			pepsal_endpoint_set(ep, AF_INET6, &sin6->sin6_addr,
					    ntohs(sin6->sin6_port));
		return 0;
	}
	return -EAFNOSUPPORT;
}

socklen_t pepsal_endpoint_to_sockaddr(const struct pepsal_endpoint *ep,
				      struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->port);
		memcpy(&sin->sin_addr, ep->addr, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(ep->port);
	memcpy(&sin6->sin6_addr, ep->addr, 16);
	return sizeof(*sin6);
}

char *pepsal_endpoint_format_addr(const struct pepsal_endpoint *ep,
				  char buf[PEPSAL_ENDPOINT_STRLEN])
{
	if ((ep->family != AF_INET && ep->family != AF_INET6) ||
	    !inet_ntop(ep->family, ep->addr, buf, PEPSAL_ENDPOINT_STRLEN))
		snprintf(buf, PEPSAL_ENDPOINT_STRLEN, "?");
	return buf;
}

char *pepsal_endpoint_format(const struct pepsal_endpoint *ep,
			     char buf[PEPSAL_ENDPOINT_STRLEN])
{
	char a[PEPSAL_ENDPOINT_STRLEN];

	pepsal_endpoint_format_addr(ep, a);
	snprintf(buf, PEPSAL_ENDPOINT_STRLEN, ep->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 a, ep->port);
	return buf;
}

static bool parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool pepsal_endpoint_parse(struct pepsal_endpoint *ep, const char *s)
{
	char host[PEPSAL_ENDPOINT_STRLEN];
	const char *colon;
	uint8_t addr[16];
	uint16_t port;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - s - 1);
		if (n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1 || !parse_port(close + 2, &port))
			return false;
		pepsal_endpoint_set(ep, AF_INET6, addr, port);
		return true;
	}
	colon = strrchr(s, ':');
	if (!colon)
		return false;
	n = (size_t)(colon - s);
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, addr) != 1 || !parse_port(colon + 1, &port))
		return false;
	pepsal_endpoint_set(ep, AF_INET, addr, port);
	return true;
}
