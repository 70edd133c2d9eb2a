// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness of the upgrade's message reader (proxy/handover.c):
 * the input is one message on a SOCK_SEQPACKET socket, with descriptors
 * attached, read by handover_recv for a message type, or by
 * handover_recv_conns for a number of connections. Its first bytes say how:
 *   0  descriptors to attach (low 4 bits), and bit 7: frame the rest with
 *      a valid header (type from byte 2) so that the fuzzer reaches the
 *      payload's checks at once
 *   1  what to read: bits 0-3 the type wanted (HO_CONNS: by
 *      handover_recv_conns, for bits 4-6 + 1 connections)
 *   2  the framed header's type
 * Nothing may crash, and every descriptor received is either handed to
 * the caller (and closed here) or closed by the reader: none leaks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../proxy/handover.c"

#define FDS_SCAN 128   /* descriptors looked at for leaks (the harness uses few) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sv[2] = { -1, -1 }, devnull = -1;

static unsigned int open_fds(void)
{
	unsigned int n = 0;

	for (int fd = 0; fd < FDS_SCAN; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* Whatever the reader sent back (ACKs, NAKs): gone before the next run. */
static void drain_peer(void)
{
	char buf[256];

	while (recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static void send_input(const uint8_t *data, size_t size)
{
	unsigned int nfds = data[0] & 0x0f;
	size_t len = size - 3;
	int fds[16], rc;

	if (len > MAX_PAYLOAD)
		len = MAX_PAYLOAD;
	for (unsigned int i = 0; i < nfds; i++)
		fds[i] = devnull;
	if (data[0] & 0x80)
		rc = handover_send(sv[0], data[2], data + 3, len, fds, nfds);
	else /* the raw bytes as they are */
		rc = send_msg(sv[0], &(struct iovec){ (void *)(data + 3), len }, 1, fds, nfds);
	if (rc < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct relay_conn_state st[8];
	static uint8_t payload[MAX_PAYLOAD];
	unsigned int want, before, nfds = 0;
	int fds[HANDOVER_MAX_FDS];
	char err[256];
	size_t got = 0, len;
	int rc;

	if (sv[0] < 0) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			abort();
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (size < 3)
		return 0;
	err[0] = '\0';
	before = open_fds();
	send_input(data, size);
	want = data[1] & 0x0f;
	if (want == HO_CONNS) {
		unsigned int n = ((data[1] >> 4) & 7) + 1;

		rc = handover_recv_conns(sv[1], st, n, 0, err, sizeof(err));
		if (rc == 0) {
			for (unsigned int i = 0; i < n; i++)
				if (st[i].fd[0] < 0 || (st[i].pipe[0].fd[0] < 0) != (st[i].pipe[0].fd[1] < 0))
					__builtin_trap();
			handover_close_conns(st, n);
		}
	} else {
		/* the payload sizes the callers give */
		len = want == HO_HELLO ? sizeof(struct handover_hello) :
		      want == HO_OFFER ? sizeof(struct handover_offer) :
		      want == HO_BEGIN ? sizeof(struct handover_begin) : 0;
		rc = handover_recv(sv[1], want, payload, len, &got, fds, HANDOVER_MAX_FDS, &nfds, 0,
				   err, sizeof(err));
		if (rc == 0 && (got != len || nfds > HANDOVER_MAX_FDS))
			__builtin_trap();
		if (rc != 0 && nfds)
			__builtin_trap(); /* nothing handed over on an error */
		for (unsigned int i = 0; i < nfds; i++)
			close(fds[i]);
	}
	if (rc != 0 && !err[0])
		__builtin_trap(); /* every error says why */
	/* a message the reader did not take (a timeout) goes with its fds */
	while (recv(sv[1], payload, sizeof(payload), MSG_DONTWAIT) >= 0)
		;
	drain_peer();
	if (open_fds() != before)
		__builtin_trap(); /* a descriptor leaked */
	return 0;
}
