// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * synflood: the SYN generator of the queuer benchmark. It sends IPv4 TCP
 * SYNs from one network namespace (raw socket, sendmmsg batches, a distinct
 * source address:port per SYN so each is a new table entry) and captures
 * them in another (AF_PACKET with kernel receive timestamps), then prints
 * one line of key=value figures:
 *   sent, sent_pps, received, lost, lat_p50_us, lat_p90_us, lat_p99_us,
 *   and with --shm the queuer's counters over the run (q_packets,
 *   q_stored = recorded + refreshed, q_marked, stored_pps).
 * The send time travels in the SYN's sequence number (microseconds, mod
 * 2^32), so the latency is kernel receive time minus send time, one clock.
 * Only for namespaces made by the benchmark script; addresses must be in
 * 198.18.0.0/15.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_opts.h"
#include "pepsal_table.h"

#define BATCH 64
#define PKT_LEN 40
#define MAX_SAMPLES (8u << 20)

static struct {
	const char *tx_ns, *rx_ns, *rx_if, *src, *dst, *shm;
	uint32_t dport, sources, rate, batch, count;
	uint64_t duration_ns;
	bool spread;
} o = { .rx_if = "eth0", .src = "198.18.1.2", .dst = "198.18.2.2", .dport = 9,
	.sources = 200, .batch = BATCH, .duration_ns = 3000000000ull };

static struct {
	int fd;
	uint32_t *lat_us;         /* one sample per SYN received */
	atomic_size_t n;          /* the receiver counts, main polls it */
	atomic_bool stop;
} rx;

static uint64_t now_ns(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

/* A 40-byte IPv4 SYN from SADDR:SPORT with sequence number SEQ. */
static void build_syn(uint8_t *p, uint32_t saddr, uint32_t daddr, uint16_t sport,
		      uint32_t seq)
{
	uint8_t *th = p + 20;
	uint32_t sum;

	memset(p, 0, PKT_LEN);
	p[0] = 0x45;
	p[3] = PKT_LEN;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, &saddr, 4);
	memcpy(p + 16, &daddr, 4);
	th[0] = (uint8_t)(sport >> 8);
	th[1] = (uint8_t)sport;
	th[2] = (uint8_t)(o.dport >> 8);
	th[3] = (uint8_t)o.dport;
	th[4] = (uint8_t)(seq >> 24);
	th[5] = (uint8_t)(seq >> 16);
	th[6] = (uint8_t)(seq >> 8);
	th[7] = (uint8_t)seq;
	th[12] = 5 << 4;
	th[13] = 0x02;
	th[14] = 0xfa;
	th[15] = 0xf0;
	/* pseudo-header + segment; the kernel fills the IP checksum */
	sum = csum_add(0, p + 12, 8) + IPPROTO_TCP + 20;
	sum = csum_add(sum, th, 20);
	sum = csum_fold(sum);
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
}

static int enter_netns(const char *name)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* ---- receiver --------------------------------------------------------- */

static void *rx_main(void *arg)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint8_t bufs[BATCH][128];
	char ctl[BATCH][64];

	(void)arg;
	while (!atomic_load(&rx.stop)) {
		struct pollfd pfd = { rx.fd, POLLIN, 0 };
		int n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1,
				.msg_control = ctl[i], .msg_controllen = sizeof(ctl[i]) };
		}
		n = recvmmsg(rx.fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			const uint8_t *p = bufs[i];
			struct cmsghdr *c;
			uint64_t t = 0;
			uint32_t seq;

			if (msgs[i].msg_len < PKT_LEN || p[0] != 0x45 || p[9] != IPPROTO_TCP ||
			    p[33] != 0x02 || (uint32_t)(p[22] << 8 | p[23]) != o.dport)
				continue;
			for (c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
					struct timespec ts;

					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					t = (uint64_t)ts.tv_sec * 1000000000ull +
					    (uint64_t)ts.tv_nsec;
				}
			if (!t)
				t = now_ns(CLOCK_REALTIME);
			seq = (uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 | (uint32_t)p[26] << 8 | p[27];
			size_t k = atomic_load_explicit(&rx.n, memory_order_relaxed);

			if (k < MAX_SAMPLES)
				rx.lat_us[k] = (uint32_t)(t / 1000) - seq;
			atomic_store(&rx.n, k + 1); /* the only writer */
		}
	}
	return NULL;
}

static int open_rx(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	int one = 1, size = 32 << 20;

	rx.fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (rx.fd < 0)
		return -errno;
	sll.sll_ifindex = (int)if_nametoindex(o.rx_if);
	if (!sll.sll_ifindex || bind(rx.fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -ENODEV;
	setsockopt(rx.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

/* ---- counters of the queuer ------------------------------------------- */

/* packets, recorded + refreshed (stored), marked */
static int read_counters(struct pepsal_table *t, uint64_t v[3])
{
	static const char *const names[4] = { "queuer.packets", "queuer.recorded",
					      "queuer.marked", "queuer.refreshed" };
	char name[PEPSAL_COUNTER_NAME_MAX];
	uint64_t val;

	memset(v, 0, 3 * sizeof(v[0]));
	for (int i = 0; pepsal_table_counter_get(t, i, name, &val); i++)
		for (int k = 0; k < 4; k++)
			if (strcmp(name, names[k]) == 0)
				v[k == 3 ? 1 : k] += val;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(const uint32_t *s, size_t n, double p)
{
	return n ? s[(size_t)((double)(n - 1) * p)] : 0.0;
}

static const struct pepsal_opt opts[] = {
	{ "tx-netns", 0, PEPSAL_OPT_STRING, &o.tx_ns, "NS", "send from this namespace", 0, 0, NULL },
	{ "rx-netns", 0, PEPSAL_OPT_STRING, &o.rx_ns, "NS", "capture in this namespace", 0, 0, NULL },
	{ "rx-if", 0, PEPSAL_OPT_STRING, &o.rx_if, "IF", "capture interface (eth0)", 0, 0, NULL },
	{ "src", 0, PEPSAL_OPT_STRING, &o.src, "ADDR", "first source address (198.18.1.2)", 0, 0, NULL },
	{ "sources", 0, PEPSAL_OPT_U32, &o.sources, "N", "source addresses used (200)", 1, 250, NULL },
	{ "dst", 0, PEPSAL_OPT_STRING, &o.dst, "ADDR", "destination (198.18.2.2)", 0, 0, NULL },
	{ "dport", 0, PEPSAL_OPT_U32, &o.dport, "PORT", "destination port (9)", 1, 65535, NULL },
	{ "rate", 0, PEPSAL_OPT_U32, &o.rate, "PPS", "SYNs per second, 0: as fast as possible", 0, 0, NULL },
	{ "batch", 0, PEPSAL_OPT_U32, &o.batch, "N", "SYNs per sendmmsg (64)", 1, BATCH, NULL },
	{ "duration", 0, PEPSAL_OPT_DURATION, &o.duration_ns, "DURATION", "how long to send (3s)", 1, 0, NULL },
	{ "spread", 0, PEPSAL_OPT_FLAG, &o.spread, NULL, "next source address at every SYN "
	  "(default: after 64512 ports)", 0, 0, NULL },
	{ "count", 0, PEPSAL_OPT_U32, &o.count, "N", "stop after N SYNs (0: no limit)", 0, 0, NULL },
	{ "shm", 0, PEPSAL_OPT_STRING, &o.shm, "NAME", "read the queuer's counters in this table", 0, 0, NULL },
	{ NULL, 0, 0, NULL, NULL, NULL, 0, 0, NULL },
};

int main(int argc, char **argv)
{
	static uint8_t pkts[BATCH][PKT_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct pepsal_table *t = NULL;
	uint64_t q0[3], q1[3], sent = 0, start, end, next, interval_ns = 0;
	uint32_t saddr0, daddr, port = 1024, host = 0;
	pthread_t th;
	char err[256];
	int tx, r;

	r = pepsal_opts_parse("synflood", "--tx-netns NS --rx-netns NS [OPTIONS]", opts, argc, argv);
	if (r < 0)
		return r == -2 ? 0 : 2;
	if (!o.tx_ns || !o.rx_ns || inet_pton(AF_INET, o.src, &saddr0) != 1 ||
	    inet_pton(AF_INET, o.dst, &daddr) != 1 ||
	    (ntohl(saddr0) & 0xfffe0000) != 0xc6120000 || (ntohl(daddr) & 0xfffe0000) != 0xc6120000) {
		fprintf(stderr, "synflood: --tx-netns and --rx-netns are required; addresses "
			"must be IPv4 in 198.18.0.0/15\n");
		return 2;
	}
	if (o.shm && pepsal_table_attach(o.shm, true, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "synflood: %s\n", err);
		return 1;
	}
	rx.lat_us = calloc(MAX_SAMPLES, sizeof(uint32_t));
	if (!rx.lat_us || (r = enter_netns(o.rx_ns)) < 0 || (r = open_rx()) < 0 ||
	    (r = enter_netns(o.tx_ns)) < 0) {
		fprintf(stderr, "synflood: setting up the namespaces: %s\n", strerror(r ? -r : ENOMEM));
		return 1;
	}
	tx = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (tx < 0) {
		perror("synflood: raw socket");
		return 1;
	}
	sin.sin_addr.s_addr = daddr;
	for (uint32_t i = 0; i < o.batch; i++) {
		iov[i] = (struct iovec){ pkts[i], PKT_LEN };
		msgs[i].msg_hdr = (struct msghdr){ .msg_name = &sin, .msg_namelen = sizeof(sin),
						   .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	if (pthread_create(&th, NULL, rx_main, NULL) != 0)
		return 1;
	if (o.rate)
		interval_ns = 1000000000ull * o.batch / o.rate;
	if (t)
		read_counters(t, q0);
	start = next = now_ns(CLOCK_MONOTONIC);
	end = start + o.duration_ns;
	while (now_ns(CLOCK_MONOTONIC) < end && (!o.count || sent < o.count)) {
		uint32_t us = (uint32_t)(now_ns(CLOCK_REALTIME) / 1000);
		uint32_t batch = o.batch;
		int n;

		if (o.count && o.count - sent < batch)
			batch = (uint32_t)(o.count - sent);
		for (uint32_t i = 0; i < batch; i++) {
			/* a new (address, port) for every SYN: 64512 ports x sources */
			if (o.spread && ++host < o.sources) {
				/* same port, next address */
			} else if (o.spread) {
				host = 0;
				port = port == 65535 ? 1024 : port + 1;
			} else if (++port > 65535) {
				port = 1024;
				host = (host + 1) % o.sources;
			}
			build_syn(pkts[i], htonl(ntohl(saddr0) + host), daddr, (uint16_t)port, us);
		}
		n = sendmmsg(tx, msgs, batch, 0);
		if (n > 0)
			sent += (uint64_t)n;
		if (interval_ns) {
			struct timespec ts;

			next += interval_ns;
			ts.tv_sec = (time_t)(next / 1000000000ull);
			ts.tv_nsec = (long)(next % 1000000000ull);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	}
	end = now_ns(CLOCK_MONOTONIC);
	/* let the last SYNs arrive: stop once nothing came for 300 ms */
	for (size_t last = (size_t)-1; last != atomic_load(&rx.n);) {
		struct timespec ts = { 0, 300 * 1000 * 1000 };

		last = atomic_load(&rx.n);
		nanosleep(&ts, NULL);
	}
	atomic_store(&rx.stop, true);
	pthread_join(th, NULL);
	if (t)
		read_counters(t, q1);
	{
		double secs = (double)(end - start) / 1e9;
		size_t got = atomic_load(&rx.n), ns = got < MAX_SAMPLES ? got : MAX_SAMPLES;

		qsort(rx.lat_us, ns, sizeof(uint32_t), cmp_u32);
		printf("sent=%llu sent_pps=%.0f received=%zu lost=%lld lat_p50_us=%.0f "
		       "lat_p90_us=%.0f lat_p99_us=%.0f", (unsigned long long)sent,
		       (double)sent / secs, got, (long long)sent - (long long)got,
		       pct(rx.lat_us, ns, 0.5), pct(rx.lat_us, ns, 0.9), pct(rx.lat_us, ns, 0.99));
		if (t)
			printf(" q_packets=%llu q_stored=%llu q_marked=%llu stored_pps=%.0f",
			       (unsigned long long)(q1[0] - q0[0]),
			       (unsigned long long)(q1[1] - q0[1]),
			       (unsigned long long)(q1[2] - q0[2]), (double)(q1[1] - q0[1]) / secs);
		printf("\n");
	}
	return 0;
}
