// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * "Limited by": per connection, the client leg's congestion control, cwnd,
 * RTT, delivery rate and where its time went, read from another process's
 * sockets through sock_diag. tcpi_busy_time is the time the socket had
 * data to send (the kernel's chrono: busy + rwnd-limited + sndbuf-limited);
 * what is left of the connection's age it was limited by the application
 * (nothing to send); busy minus the other two is time limited by the
 * congestion window (or the network).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpinfo.h"

#define CC_MAX 16

struct leg {
	struct pepsal_endpoint local, remote;
	char cc[CC_MAX];
	struct tcp_info ti; /* zero beyond what the kernel sent */
};

static struct {
	struct leg *s;
	size_t n, cap;
} legs;

/* An endpoint from inet_diag's address words, IPv4-mapped IPv6 as IPv4. */
static void endpoint_of(struct pepsal_endpoint *e, int family, const __be32 *addr,
			__be16 port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(e, 0, sizeof(*e));
	e->port = ntohs(port);
	if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
		e->family = AF_INET;
		memcpy(e->addr, (const uint8_t *)addr + 12, 4);
	} else {
		e->family = (uint8_t)family;
		memcpy(e->addr, addr, family == AF_INET ? 4 : 16);
	}
}

static void add_leg(const struct inet_diag_msg *m, size_t len)
{
	const struct rtattr *a = (const struct rtattr *)(m + 1);
	int rlen = (int)(len - NLMSG_ALIGN(sizeof(*m))); /* RTA_NEXT may go below 0 */
	struct leg *l;

	if (len < NLMSG_ALIGN(sizeof(*m)))
		return;
	if (legs.n == legs.cap) {
		size_t cap = legs.cap ? 2 * legs.cap : 256;
		struct leg *s = realloc(legs.s, cap * sizeof(*s));

		if (!s)
			return;
		legs.s = s, legs.cap = cap;
	}
	l = &legs.s[legs.n++];
	memset(l, 0, sizeof(*l));
	endpoint_of(&l->local, m->idiag_family, m->id.idiag_src, m->id.idiag_sport);
	endpoint_of(&l->remote, m->idiag_family, m->id.idiag_dst, m->id.idiag_dport);
	for (; RTA_OK(a, rlen); a = RTA_NEXT(a, rlen)) {
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == INET_DIAG_INFO)
			memcpy(&l->ti, RTA_DATA(a), n < sizeof(l->ti) ? n : sizeof(l->ti));
		else if (a->rta_type == INET_DIAG_CONG)
			snprintf(l->cc, sizeof(l->cc), "%.*s", (int)n, (const char *)RTA_DATA(a));
	}
}

/* One dump of FAMILY's TCP sockets into legs; 0 or -errno. */
static int dump(int fd, int family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = (uint8_t)family, .sdiag_protocol = IPPROTO_TCP,
		       .idiag_ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_CONG - 1)),
		       /* connections only: no listener, no TIME_WAIT, no SYN_RECV */
		       .idiag_states = 0xfff & ~((1u << 10) | (1u << 6) | (1u << 3)) },
	};
	static char buf[65536] __attribute__((aligned(8)));

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		size_t len;

		if (got < 0)
			return errno == EINTR ? 0 : -errno;
		len = (size_t)got;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
				add_leg(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN);
		}
		if (!got)
			return 0;
	}
}

void tcpinfo_refresh(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	legs.n = 0;
	if (fd < 0)
		return;
	if (dump(fd, AF_INET) == 0)
		dump(fd, AF_INET6);
	close(fd);
}

static const struct leg *find(const struct pepsal_entry_view *v)
{
	const struct leg *any = NULL;

	for (size_t i = 0; i < legs.n; i++) {
		const struct leg *l = &legs.s[i];

		if (!pepsal_endpoint_equal(&l->remote, &v->client))
			continue;
		if (pepsal_endpoint_equal(&l->local, &v->dst))
			return l; /* tproxy: the accepted socket has the original address */
		if (!any)
			any = l;  /* nfqueue: the REDIRECT address */
	}
	return any;
}

/* Where the leg's time went, in microseconds. */
struct spent {
	uint64_t rwnd, sndbuf, cwnd, app;
	const char *most;
};

static struct spent spent_of(const struct tcp_info *ti, double age_s)
{
	uint64_t age = (uint64_t)(age_s * 1e6), busy = ti->tcpi_busy_time;
	struct spent s = { .rwnd = ti->tcpi_rwnd_limited, .sndbuf = ti->tcpi_sndbuf_limited };
	uint64_t best;

	s.cwnd = busy > s.rwnd + s.sndbuf ? busy - s.rwnd - s.sndbuf : 0;
	s.app = age > busy ? age - busy : 0;
	s.most = "rwnd", best = s.rwnd;
	if (s.cwnd > best)
		s.most = "cwnd", best = s.cwnd;
	if (s.sndbuf > best)
		s.most = "sndbuf", best = s.sndbuf;
	if (s.app > best)
		s.most = "app";
	return s;
}

static double pct(uint64_t part, double age_s)
{
	return age_s > 0 ? 100.0 * (double)part / (age_s * 1e6) : 0.0;
}

void tcpinfo_json(const struct pepsal_entry_view *v, double age_s)
{
	const struct leg *l = find(v);
	const struct tcp_info *ti;
	struct spent s;

	if (!l) {
		printf(",\"client_leg\":null");
		return;
	}
	ti = &l->ti;
	s = spent_of(ti, age_s);
	printf(",\"client_leg\":{\"cc\":\"");
	for (const char *p = l->cc; *p; p++)
		if (*p > 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
			putchar(*p);
	printf("\",\"cwnd\":%u,\"mss\":%u,\"ssthresh\":%u,\"rtt_ms\":%.3f,\"min_rtt_ms\":%.3f,"
	       "\"delivery_rate_bps\":%" PRIu64 ",\"snd_wnd\":%u,\"retrans\":%u,"
	       "\"bytes_retrans\":%" PRIu64 ",\"bytes_acked\":%" PRIu64 ",\"busy_ms\":%.3f,"
	       "\"rwnd_limited_ms\":%.3f,\"sndbuf_limited_ms\":%.3f,\"cwnd_limited_ms\":%.3f,"
	       "\"app_limited_ms\":%.3f,\"limited_by\":\"%s\"}",
	       ti->tcpi_snd_cwnd, ti->tcpi_snd_mss, ti->tcpi_snd_ssthresh, ti->tcpi_rtt / 1e3,
	       ti->tcpi_min_rtt / 1e3, (uint64_t)ti->tcpi_delivery_rate * 8, ti->tcpi_snd_wnd,
	       ti->tcpi_total_retrans, (uint64_t)ti->tcpi_bytes_retrans,
	       (uint64_t)ti->tcpi_bytes_acked, ti->tcpi_busy_time / 1e3,
	       s.rwnd / 1e3, s.sndbuf / 1e3, s.cwnd / 1e3, s.app / 1e3, s.most);
}

void tcpinfo_text(const struct pepsal_entry_view *v, double age_s)
{
	const struct leg *l = find(v);
	const struct tcp_info *ti;
	struct spent s;
	char cc[CC_MAX];

	if (!l)
		return;
	ti = &l->ti;
	s = spent_of(ti, age_s);
	for (int i = 0; i < CC_MAX; i++)
		cc[i] = l->cc[i] && (l->cc[i] <= 0x20 || l->cc[i] >= 0x7f) ? '?' : l->cc[i];
	printf("  client leg: %s cwnd %u rtt %.1f ms (min %.1f) delivery %.2f Mbit/s "
	       "retrans %u; limited by %s: rwnd %.0f %% cwnd %.0f %% sndbuf %.0f %% app %.0f %%\n",
	       cc[0] ? cc : "?", ti->tcpi_snd_cwnd, ti->tcpi_rtt / 1e3, ti->tcpi_min_rtt / 1e3,
	       (double)ti->tcpi_delivery_rate * 8 / 1e6, ti->tcpi_total_retrans, s.most,
	       pct(s.rwnd, age_s), pct(s.cwnd, age_s), pct(s.sndbuf, age_s), pct(s.app, age_s));
}
