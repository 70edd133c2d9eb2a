/* SPDX-License-Identifier: GPL-2.0-or-later */
/* An IPv4 or IPv6 address and TCP port, as the table stores it. */
#ifndef PEPSAL_ENDPOINT_H
#define PEPSAL_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[ffff:...:ffff]:65535" plus NUL */
#define PEPSAL_ENDPOINT_STRLEN 56

struct pepsal_endpoint {
	uint8_t family;    /* AF_INET or AF_INET6 */
	uint8_t pad;
	uint16_t port;     /* host byte order */
	uint8_t addr[16];  /* IPv4 uses the first 4 bytes, the rest is zero */
};

bool pepsal_endpoint_equal(const struct pepsal_endpoint *a,
			   const struct pepsal_endpoint *b);
/* Same family and address, ports ignored. */
bool pepsal_endpoint_same_addr(const struct pepsal_endpoint *a,
			       const struct pepsal_endpoint *b);
/* Build from a sockaddr_in/sockaddr_in6 (v4-mapped IPv6 becomes IPv4). */
int pepsal_endpoint_from_sockaddr(struct pepsal_endpoint *ep,
				  const struct sockaddr *sa, socklen_t len);
/* Fill a sockaddr_storage; returns its length. */
socklen_t pepsal_endpoint_to_sockaddr(const struct pepsal_endpoint *ep,
				      struct sockaddr_storage *ss);
/* "198.18.0.1:80" or "[fd00::1]:80"; returns BUF. */
char *pepsal_endpoint_format(const struct pepsal_endpoint *ep,
			     char buf[PEPSAL_ENDPOINT_STRLEN]);
/* Only the address part. */
char *pepsal_endpoint_format_addr(const struct pepsal_endpoint *ep,
				  char buf[PEPSAL_ENDPOINT_STRLEN]);
/* Parse the format above; false on anything else. */
bool pepsal_endpoint_parse(struct pepsal_endpoint *ep, const char *s);
/* Set from raw network-order address bytes and a host-order port. */
void pepsal_endpoint_set(struct pepsal_endpoint *ep, int family,
			 const void *addr, uint16_t port);

#endif
