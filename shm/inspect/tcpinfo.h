/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal-shm's view of each connection's client leg: the proxy's accepted
 * socket, found with sock_diag (NETLINK_SOCK_DIAG, inet_diag with
 * INET_DIAG_INFO and INET_DIAG_CONG) by its remote endpoint, the client of
 * the table entry (and its local one, the original destination in tproxy
 * mode; the REDIRECT address in nfqueue mode). Only sockets of the caller's
 * network namespace are seen: run pepsal-shm where pepsal runs.
 */
#ifndef PEPSAL_SHM_TCPINFO_H
#define PEPSAL_SHM_TCPINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "pepsal_table.h"

/* Dump the TCP sockets of this namespace (both families) once; the entries
 * printed after it are matched against that dump. Failure (no sock_diag):
 * every entry shows no client leg. */
void tcpinfo_refresh(void);
/* ,"client_leg":{...} (or null) for entry V, AGE_S its age. */
void tcpinfo_json(const struct pepsal_entry_view *v, double age_s);
/* A second line for entry V in the text list, if its leg is found. */
void tcpinfo_text(const struct pepsal_entry_view *v, double age_s);

#endif
