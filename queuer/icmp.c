// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Answering a held SYN with the ICMP or ICMPv6 error that refused the
 * proxy's dial (issue 28): the same type and code, from the same sender,
 * quoting the client's own SYN, so the client's stack fails the connect at
 * once, as it would without a PEP. (Letting the SYN through instead would
 * meet the sender's ICMP rate limit toward the client's address, which the
 * dial, made from that address, has just spent: seconds of retransmissions.)
 * Raw sockets with our own IP header (IPPROTO_RAW), in the queuer's
 * network namespace: the error leaves toward the client as one the box
 * forwards would.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "queuer.h"

#define ICMP_QUOTE_MAX 576 /* an IPv4 ICMP error: at most this many bytes */

static int raw4 = -1, raw6 = -1;

static uint16_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int queuer_icmp_init(void)
{
	if (raw4 < 0)
		raw4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (raw6 < 0)
		raw6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	return raw4 >= 0 || raw6 >= 0 ? 0 : -errno;
}

void queuer_icmp_fini(void)
{
	if (raw4 >= 0)
		close(raw4);
	if (raw6 >= 0)
		close(raw6);
	raw4 = raw6 = -1;
}

/* PKT: the client's packet (network layer, LEN bytes), FROM: the error's
 * sender (4 or 16 bytes), TYPE/CODE of the family's ICMP. */
int queuer_icmp_send(int family, const uint8_t *pkt, size_t len, const uint8_t *from,
		     uint8_t type, uint8_t code)
{
	uint8_t buf[40 + 8 + ICMP_QUOTE_MAX];
	struct sockaddr_storage ss = { 0 };
	size_t n, hl = family == AF_INET ? 20 : 40;
	socklen_t sl;
	int fd = family == AF_INET ? raw4 : raw6;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (len < hl)
		return -EINVAL;
	if (len > ICMP_QUOTE_MAX - hl - 8)
		len = ICMP_QUOTE_MAX - hl - 8;
	n = hl + 8 + len;
	memset(buf, 0, hl + 8);
	memcpy(buf + hl + 8, pkt, len);
	buf[hl] = type;
	buf[hl + 1] = code;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)n); /* the kernel fills id and checksum */
		buf[8] = 64;
		buf[9] = IPPROTO_ICMP;
		memcpy(buf + 12, from, 4);
		memcpy(buf + 16, pkt + 12, 4); /* to the client: the SYN's source */
		put16(buf + hl + 2, (uint16_t)~csum_add(0, buf + hl, 8 + len));
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, pkt + 12, 4);
		sl = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		uint8_t ph[40] = { 0 };
		uint32_t plen = (uint32_t)(8 + len);

		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)plen);
		buf[6] = IPPROTO_ICMPV6;
		buf[7] = 64;
		memcpy(buf + 8, from, 16);
		memcpy(buf + 24, pkt + 8, 16);
		/* the pseudo-header: source, destination, length, next header */
		memcpy(ph, buf + 8, 32);
		ph[34] = (uint8_t)(plen >> 8);
		ph[35] = (uint8_t)plen;
		ph[39] = IPPROTO_ICMPV6;
		put16(buf + hl + 2, (uint16_t)~csum_add(csum_add(0, ph, 40), buf + hl, plen));
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, pkt + 8, 16);
		sl = sizeof(*sin6);
	}
	if (sendto(fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&ss, sl) < 0)
		return -errno;
	return 0;
}
