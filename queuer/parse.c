// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The queuer's packet parser. It sees what NFQUEUE copies: the network-layer
 * packet, possibly cut at the copy range. Every length is checked against
 * the bytes we hold before it is used; anything we do not understand is "not
 * a SYN" with a reason, never a guess: a packet we decline is still accepted,
 * only not accelerated.
 */
#include <string.h>

#include "parse.h"

#define TCP_MIN_HDR 20
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

#define IPPROTO_TCP_ 6
/* IPv6 extension headers the parser walks (RFC 8200 section 4, RFC 7045). */
#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAGMENT 44
#define NH_ESP 50
#define NH_AH 51
#define NH_NONE 59
#define NH_DSTOPTS 60
#define NH_MOBILITY 135
#define NH_HIP 139
#define NH_SHIM6 140

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static enum queuer_parse_result fail(struct queuer_parsed *out,
				     enum queuer_parse_result r, const char *why)
{
	out->why = why;
	return r;
}

/* TCP at OFF; SEG_LEN is the length of the TCP segment on the wire. */
static enum queuer_parse_result parse_tcp(const uint8_t *pkt, size_t len, size_t off,
					  size_t seg_len, int family,
					  const uint8_t *saddr, const uint8_t *daddr,
					  struct queuer_parsed *out)
{
	const uint8_t *th = pkt + off;
	uint16_t sport, dport;
	size_t doff;

	if (seg_len < TCP_MIN_HDR)
		return fail(out, QP_MALFORMED, "TCP segment shorter than a TCP header");
	if (len < off + TCP_MIN_HDR)
		return fail(out, QP_TRUNCATED, "TCP header cut short");
	doff = (size_t)(th[12] >> 4) * 4;
	if (doff < TCP_MIN_HDR)
		return fail(out, QP_MALFORMED, "TCP data offset below 5");
	if (doff > seg_len)
		return fail(out, QP_MALFORMED, "TCP data offset beyond the segment");
	out->tcp_flags = th[13];
	if ((th[13] & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) != TCPF_SYN)
		return fail(out, QP_NOT_SYN, (th[13] & TCPF_SYN) ?
			    "SYN with ACK, RST or FIN" : "no SYN flag");
	sport = get16(th);
	dport = get16(th + 2);
	if (sport == 0 || dport == 0)
		return fail(out, QP_MALFORMED, "TCP port 0");
	pepsal_endpoint_set(&out->client, family, saddr, sport);
	pepsal_endpoint_set(&out->dst, family, daddr, dport);
	out->isn = (uint32_t)get16(th + 4) << 16 | get16(th + 6);
	out->why = NULL;
	return QP_SYN;
}

static enum queuer_parse_result parse_ipv4(const uint8_t *pkt, size_t len,
					   size_t wire_len, struct queuer_parsed *out)
{
	size_t ihl, tot_len;
	uint16_t frag;

	if (len < 20)
		return fail(out, QP_TRUNCATED, "IPv4 header cut short");
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20)
		return fail(out, QP_MALFORMED, "IPv4 header length below 5");
	tot_len = get16(pkt + 2);
	if (tot_len < ihl)
		return fail(out, QP_MALFORMED, "IPv4 total length below the header length");
	if (tot_len > wire_len)
		return fail(out, QP_MALFORMED, "IPv4 total length beyond the packet");
	if (len < ihl)
		return fail(out, QP_TRUNCATED, "IPv4 options cut short");
	frag = get16(pkt + 6);
	if (frag & 0x3fff) /* MF or a fragment offset: the DF bit alone is fine */
		return fail(out, QP_FRAGMENT, "IPv4 fragment");
	if (pkt[9] != IPPROTO_TCP_)
		return fail(out, QP_NOT_TCP, "IPv4 protocol is not TCP");
	out->tos = pkt[1];
	return parse_tcp(pkt, len < tot_len ? len : tot_len, ihl, tot_len - ihl,
			 AF_INET, pkt + 12, pkt + 16, out);
}

static enum queuer_parse_result parse_ipv6(const uint8_t *pkt, size_t len,
					   size_t wire_len, struct queuer_parsed *out)
{
	size_t off = 40, end, hlen;
	uint8_t nh;

	if (len < 40)
		return fail(out, QP_TRUNCATED, "IPv6 header cut short");
	end = 40 + (size_t)get16(pkt + 4);
	if (end == 40)
		return fail(out, QP_MALFORMED, "IPv6 payload length 0 (jumbogram or empty)");
	if (end > wire_len)
		return fail(out, QP_MALFORMED, "IPv6 payload length beyond the packet");
	if (len > end)
		len = end;
	nh = pkt[6];
	out->tos = (uint8_t)(get16(pkt) >> 4);
	for (int i = 0; i <= QUEUER_PARSE_MAX_EXTHDRS; i++) {
		const uint8_t *h = pkt + off;

		switch (nh) {
		case IPPROTO_TCP_:
			return parse_tcp(pkt, len, off, end - off, AF_INET6,
					 pkt + 8, pkt + 24, out);
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_MOBILITY:
		case NH_HIP:
		case NH_SHIM6:
		case NH_FRAGMENT:
		case NH_AH:
			break;
		case NH_ESP:
			return fail(out, QP_NOT_TCP, "IPv6 ESP: TCP not visible");
		case NH_NONE:
			return fail(out, QP_NOT_TCP, "IPv6 no next header");
		default:
			return fail(out, QP_NOT_TCP, "IPv6 next header is not TCP");
		}
		if (i == QUEUER_PARSE_MAX_EXTHDRS)
			break;
		if (end - off < 8)
			return fail(out, QP_MALFORMED, "IPv6 extension header beyond the payload");
		if (len < off + 8)
			return fail(out, QP_TRUNCATED, "IPv6 extension header cut short");
		if (nh == NH_FRAGMENT) {
			/* offset or more-fragments set: a real fragment; an atomic
			 * fragment (RFC 6946) is a whole packet and is walked */
			if (get16(h + 2) & 0xfff9)
				return fail(out, QP_FRAGMENT, "IPv6 fragment");
			hlen = 8;
		} else if (nh == NH_AH) {
			hlen = ((size_t)h[1] + 2) * 4;
		} else {
			hlen = ((size_t)h[1] + 1) * 8;
		}
		if (hlen > end - off)
			return fail(out, QP_MALFORMED, "IPv6 extension header beyond the payload");
		nh = h[0];
		off += hlen;
	}
	return fail(out, QP_NOT_TCP, "too many IPv6 extension headers");
}

enum queuer_parse_result queuer_parse(const uint8_t *pkt, size_t len, size_t wire_len,
				      struct queuer_parsed *out)
{
	memset(out, 0, sizeof(*out));
	if (wire_len == 0)
		wire_len = len;
	if (len > wire_len)
		return fail(out, QP_MALFORMED, "more bytes than the packet length");
	if (len < 1)
		return fail(out, QP_TRUNCATED, "empty packet");
	switch (pkt[0] >> 4) {
	case 4:
		return parse_ipv4(pkt, len, wire_len, out);
	case 6:
		return parse_ipv6(pkt, len, wire_len, out);
	default:
		return fail(out, QP_MALFORMED, "IP version is neither 4 nor 6");
	}
}

const char *queuer_parse_result_name(enum queuer_parse_result r)
{
	static const char *const names[QP_RESULT_COUNT] = {
		[QP_SYN] = "syn", [QP_NOT_SYN] = "not_syn", [QP_NOT_TCP] = "not_tcp",
		[QP_FRAGMENT] = "fragment", [QP_TRUNCATED] = "truncated",
		[QP_MALFORMED] = "malformed",
	};

	return (unsigned)r < QP_RESULT_COUNT ? names[r] : "unknown";
}
