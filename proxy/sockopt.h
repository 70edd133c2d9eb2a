/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Socket options of the relayed legs, and the two ways of ending a socket
 * with a RST. */
#ifndef PEPSAL_PROXY_SOCKOPT_H
#define PEPSAL_PROXY_SOCKOPT_H

#include <stddef.h>

#include "config.h"

/* Apply LEG's options of CFG (cc, buffers, pacing, nodelay, keepalive) to
 * FD. 0, or -errno with ERR naming the option that failed. */
int leg_apply(int fd, enum proxy_leg leg, const struct proxy_config *cfg,
	      char *err, size_t errlen);
/* IPv4 TOS / IPv6 traffic class of FD (a socket of FAMILY): the DSCP (and
 * ECN bits, which the kernel manages) of what it sends. */
void sock_set_tos(int fd, int family, int tos);
/* Ask the listening socket FD (of FAMILY) to keep the TOS / traffic class
 * its connections' packets arrive with, for sock_received_tos. */
void sock_keep_received_tos(int fd, int family);
/* The TOS byte (IPv6: traffic class) the peer's packets carried on FD, an
 * accepted socket of such a listener, or -1 when unknown. */
int sock_received_tos(int fd, int family);
/* IP_RECVERR / IPV6_RECVERR on FD: ICMP errors about it are queued with
 * their type, code and sender (for a dial only: on an established TCP
 * socket it also makes every ICMP unreachable fatal). */
void sock_recverr(int fd, int family, bool on);
/* The ICMP error on FD's error queue. */
struct sock_icmp {
	uint8_t family;      /* of the sender: AF_INET / AF_INET6 */
	uint8_t type, code;
	uint8_t from[16];
};
/* 0 and *OUT, or -ENOENT when no ICMP error is queued. */
int sock_icmp_error(int fd, struct sock_icmp *out);
/* Close FD so that the peer gets a RST. */
void sock_reset_close(int fd);
/* Abort a socket other threads may block on: RST to the peer, wakes them. */
void sock_abort(int fd);

#endif
