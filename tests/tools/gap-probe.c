// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gap-probe: one steady stream through an echo server, to measure the
 * longest stall a connection sees (an upgrade, doc/benchmarks.md).
 * Usage: gap-probe HOST PORT INTERVAL_US STOPFILE
 * Sends a numbered 64-byte message every INTERVAL_US, reads its echo and
 * checks it, until STOPFILE exists; prints the messages, the longest and
 * the 99.9th-percentile gap between two echoes, in ms. Exit 1 on a wrong
 * echo, a reset or EOF.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pepsal_table.h" /* pepsal_now_ns */

#define MSG 64
#define MAX_GAPS (1 << 22)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int fd;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int main(int argc, char **argv)
{
	static uint64_t gaps[MAX_GAPS];
	uint64_t interval, last = 0, n = 0, max = 0;
	char out[MSG], in[MSG];
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST PORT INTERVAL_US STOPFILE\n", argv[0]);
		return 2;
	}
	interval = strtoull(argv[3], NULL, 10) * 1000;
	fd = dial(argv[1], argv[2]);
	if (fd < 0) {
		perror("connect");
		return 1;
	}
	while (access(argv[4], F_OK) != 0) {
		struct timespec ts = { 0, (long)interval };
		size_t got = 0;
		uint64_t now;

		memset(out, 'a' + (int)(n % 26), sizeof(out));
		snprintf(out, sizeof(out), "%llu ", (unsigned long long)n);
		if (write(fd, out, sizeof(out)) != (ssize_t)sizeof(out)) {
			perror("write");
			return 1;
		}
		while (got < sizeof(in)) {
			ssize_t r = read(fd, in + got, sizeof(in) - got);

			if (r <= 0) {
				fprintf(stderr, "message %llu: %s\n", (unsigned long long)n,
					r ? "read error" : "EOF");
				return 1;
			}
			got += (size_t)r;
		}
		if (memcmp(in, out, sizeof(in))) {
			fprintf(stderr, "message %llu: wrong echo\n", (unsigned long long)n);
			return 1;
		}
		now = pepsal_now_ns();
		if (last && n - 1 < MAX_GAPS) {
			gaps[n - 1] = now - last;
			if (now - last > max)
				max = now - last;
		}
		last = now;
		n++;
		nanosleep(&ts, NULL);
	}
	if (n > 1) {
		uint64_t k = n - 1 < MAX_GAPS ? n - 1 : MAX_GAPS;

		qsort(gaps, k, sizeof(gaps[0]), cmp_u64);
		printf("%llu messages, longest gap %.1f ms, p99.9 %.2f ms, median %.2f ms\n",
		       (unsigned long long)n, (double)max / 1e6, (double)gaps[k * 999 / 1000] / 1e6,
		       (double)gaps[k / 2] / 1e6);
	}
	close(fd);
	return 0;
}
