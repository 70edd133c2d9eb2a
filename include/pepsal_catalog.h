/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The named counters of pepsal and pepsal-queuer, said once: each one's
 * enum (proxy/stats.h, queuer/queuer.h), its name in the table, whether it
 * counts (a counter) or holds a current value (a gauge), and what it means.
 * The programs register the names; pepsal-shm exports each with its type
 * and description (metrics, and the "counters" command), and
 * tests/ns/manpages.sh checks pepsal-shm(8)'s COUNTERS section against it.
 *
 *   X(ENUM, "name", COUNTER or GAUGE, "Description.")
 */
#ifndef PEPSAL_CATALOG_H
#define PEPSAL_CATALOG_H

#include <stddef.h>

#define PEPSAL_PROXY_COUNTERS(X) \
	X(PC_ACCEPTED, "proxy.accepted", COUNTER, \
	  "Connections taken for relaying: accepted from clients, and on a pair gateway " \
	  "those a valid pair connection brought.") \
	X(PC_LOOKUP_MISS, "proxy.lookup_miss", COUNTER, \
	  "Accepted connections without a table entry (nfqueue mode), and connections to " \
	  "the proxy's own port (reset).") \
	X(PC_DIAL_FAILED, "proxy.dial_failed", COUNTER, \
	  "Dials of the original destination that failed (refused, unreachable, " \
	  "prohibited, timed out); the client is reset.") \
	X(PC_OVER_LIMIT, "proxy.over_limit", COUNTER, \
	  "Connections reset for want of room: --max-conns relayed already, the table " \
	  "full (tproxy mode), no file descriptor left, too many idle pair connections.") \
	X(PC_ACTIVE, "proxy.active", GAUGE, "Connections relayed now.") \
	X(PC_CLOSED, "proxy.closed", COUNTER, "Relayed connections that ended, closed or reset.") \
	X(PC_RESETS, "proxy.resets", COUNTER, \
	  "Relayed connections ended by a reset: an error on either leg (idle timeouts " \
	  "apart).") \
	X(PC_IDLE_TIMEOUTS, "proxy.idle_timeouts", COUNTER, \
	  "Relayed connections reset by --idle-timeout.") \
	X(PC_ACCEPT_ERRORS, "proxy.accept_errors", COUNTER, \
	  "Failures of accept(2), running out of file descriptors included.") \
	X(PC_QUEUER_RESTARTS, "proxy.queuer_restarts", COUNTER, \
	  "Restarts of pepsal-queuer after it died.") \
	X(PC_MISS_SERVED, "proxy.miss_served", COUNTER, \
	  "Lookup misses relayed all the same, to conntrack's original destination (an " \
	  "entry evicted while pending).") \
	X(PC_SMALL_PIPES, "proxy.small_pipes", GAUGE, \
	  "Pooled splice pipes the kernel would not enlarge to --pipe-size.") \
	X(PC_CC_ADAPTED, "proxy.cc_adapted", COUNTER, \
	  "Client legs switched to --client-cc-lossy: loss without queueing (adaptive mode).") \
	X(PC_CC_RESTORED, "proxy.cc_restored", COUNTER, \
	  "Client legs switched back to --client-cc once their loss cleared.") \
	X(PC_CC_STARTED_LOSSY, "proxy.cc_started_lossy", COUNTER, \
	  "Client legs that started on --client-cc-lossy: their client's link was lossy " \
	  "already.") \
	X(PC_PREDIALED, "proxy.predialed", COUNTER, \
	  "Held SYNs whose server accepted the proxy's dial.") \
	X(PC_PREDIAL_FAILED, "proxy.predial_failed", COUNTER, \
	  "Held SYNs whose server refused or did not answer.") \
	X(PC_PREDIAL_UNCLAIMED, "proxy.predial_unclaimed", COUNTER, \
	  "Server connections dialed for a held SYN whose client never came: reset.") \
	X(PC_UPGRADES, "proxy.upgrades", COUNTER, \
	  "Take-overs by a new process (SIGUSR2, systemctl reload).") \
	X(PC_UPGRADES_FAILED, "proxy.upgrades_failed", COUNTER, \
	  "Upgrades that failed: the old process kept serving.") \
	X(PC_PAIR_USED, "proxy.pair_used", COUNTER, \
	  "Terminal: connections carried to the gateway over a pair connection.") \
	X(PC_PAIR_POOL, "proxy.pair_pool", GAUGE, "Terminal: warm pair connections ready now.") \
	X(PC_PAIR_POOL_OPENED, "proxy.pair_pool_opened", COUNTER, \
	  "Terminal: pair connections opened, for the pool and on demand.") \
	X(PC_PAIR_POOL_STALE, "proxy.pair_pool_stale", COUNTER, \
	  "Terminal: pooled pair connections found closed by the gateway, dropped.") \
	X(PC_PAIR_ON_DEMAND, "proxy.pair_on_demand", COUNTER, \
	  "Terminal: pair connections opened for a connection: the pool was empty.") \
	X(PC_PAIR_CONNECT_FAILED, "proxy.pair_connect_failed", COUNTER, \
	  "Terminal: pair connections the gateway did not accept.") \
	X(PC_PAIR_FALLBACK_DIRECT, "proxy.pair_fallback_direct", COUNTER, \
	  "Terminal: connections relayed to their server directly: no pair connection " \
	  "could be had.") \
	X(PC_PAIR_PROBE_REFUSED, "proxy.pair_probe_refused", COUNTER, \
	  "Terminal: probes the gateway refused (another key, clocks apart).") \
	X(PC_PAIR_ACCEPTED, "proxy.pair_accepted", COUNTER, \
	  "Gateway: pair connections whose header was valid.") \
	X(PC_PAIR_REFUSED_PEER, "proxy.pair_refused_peer", COUNTER, \
	  "Gateway: pair connections from an address not in --pair-peer.") \
	X(PC_PAIR_REFUSED_AUTH, "proxy.pair_refused_auth", COUNTER, \
	  "Gateway: pair headers made with another key, or altered.") \
	X(PC_PAIR_REFUSED_HEADER, "proxy.pair_refused_header", COUNTER, \
	  "Gateway: pair headers truncated, malformed, of an unknown version, or never sent.") \
	X(PC_PAIR_REFUSED_TIME, "proxy.pair_refused_time", COUNTER, \
	  "Gateway: authentic pair headers whose time was outside the window.") \
	X(PC_PAIR_REPLAY, "proxy.pair_replay", COUNTER, \
	  "Gateway: authentic pair headers whose nonce was seen already.") \
	X(PC_HA_SWITCHOVERS, "proxy.ha_switchovers", COUNTER, \
	  "Two boxes: switchovers to --ha-peer (SIGUSR1) done.") \
	X(PC_HA_SWITCHOVERS_FAILED, "proxy.ha_switchovers_failed", COUNTER, \
	  "Two boxes: switchovers that failed, given or taken: every connection stayed " \
	  "where it was.") \
	X(PC_HA_MOVED_OUT, "proxy.ha_moved_out", COUNTER, \
	  "Two boxes: connections moved to the other box.") \
	X(PC_HA_MOVED_IN, "proxy.ha_moved_in", COUNTER, \
	  "Two boxes: connections taken from the other box.") \
	X(PC_HA_UNMOVABLE, "proxy.ha_unmovable", COUNTER, \
	  "Two boxes: connections past both FINs when moving (LAST_ACK, CLOSING): reset " \
	  "at both ends.")

#define PEPSAL_QUEUER_COUNTERS(X) \
	X(QC_PACKETS, "queuer.packets", COUNTER, "Packets received from the NFQUEUE.") \
	X(QC_SYNS, "queuer.syns", COUNTER, "Of which opening SYNs (no ACK).") \
	X(QC_RECORDED, "queuer.recorded", COUNTER, "SYNs written as new pending entries.") \
	X(QC_REFRESHED, "queuer.refreshed", COUNTER, \
	  "SYNs that refreshed a pending entry (retransmissions).") \
	X(QC_RECLAIMED, "queuer.reclaimed", COUNTER, \
	  "New entries that took the slot of a stale pending one.") \
	X(QC_MARKED, "queuer.marked", COUNTER, \
	  "SYNs accepted with the mark: the proxy takes them.") \
	X(QC_UNMARKED_PROXY_DOWN, "queuer.unmarked_proxy_down", COUNTER, \
	  "SYNs passed unmarked, not recorded: the proxy's heartbeat was stale.") \
	X(QC_UNMARKED_PROXY_FULL, "queuer.unmarked_proxy_full", COUNTER, \
	  "SYNs passed unmarked, not recorded: the proxy published no room.") \
	X(QC_UNMARKED_ADDRESS_SHARE, "queuer.unmarked_address_share", COUNTER, \
	  "SYNs passed unmarked, not recorded: their client address held its share of " \
	  "the table (--address-share).") \
	X(QC_TABLE_FULL, "queuer.table_full", COUNTER, "SYNs passed unmarked: no free slot.") \
	X(QC_RECORD_ERRORS, "queuer.record_errors", COUNTER, \
	  "SYNs passed unmarked: any other table error.") \
	X(QC_NOT_SYN, "queuer.not_syn", COUNTER, \
	  "TCP packets that are not an opening SYN (passed).") \
	X(QC_NOT_TCP, "queuer.not_tcp", COUNTER, \
	  "Packets that are not TCP, or TCP behind ESP (passed).") \
	X(QC_FRAGMENTS, "queuer.fragments", COUNTER, "IP fragments (passed).") \
	X(QC_MALFORMED, "queuer.malformed", COUNTER, \
	  "Truncated or inconsistent headers (passed).") \
	X(QC_VERDICT_ERRORS, "queuer.verdict_errors", COUNTER, "Verdicts not sent or refused.") \
	X(QC_ENOBUFS, "queuer.enobufs", COUNTER, \
	  "Packets that bypassed the queuer as its netlink socket overflowed (ENOBUFS, " \
	  "or gaps in the packet ids): the kernel accepted them itself " \
	  "(--queue-bypass, fail-open), end to end.") \
	X(QC_QUEUE_FULL, "queuer.queue_full", COUNTER, \
	  "Wake-ups of the queuer that found the kernel queue at its length " \
	  "(--queue-maxlen): meanwhile new SYNs passed it end to end (fail-open).") \
	X(QC_BAD_MESSAGES, "queuer.bad_messages", COUNTER, "Unusable netlink messages.") \
	X(QC_VERDICT_BATCHES, "queuer.verdict_batches", COUNTER, "Batch verdict messages sent.") \
	X(QC_HELD, "queuer.held", COUNTER, \
	  "Connections whose SYN was held while the proxy dialed the server.") \
	X(QC_HOLD_CONNECTED, "queuer.hold_connected", COUNTER, \
	  "Of the held, those whose server accepted: marked.") \
	X(QC_HOLD_REFUSED, "queuer.hold_refused", COUNTER, \
	  "Of the held, those whose server refused: passed unmarked.") \
	X(QC_HOLD_FAILED, "queuer.hold_failed", COUNTER, \
	  "Of the held, those whose dial failed otherwise (an ICMP error, a timeout): " \
	  "passed unmarked.") \
	X(QC_HOLD_EXPIRED, "queuer.hold_expired", COUNTER, \
	  "Of the held, those whose --hold-time ran out first: passed unmarked.") \
	X(QC_HOLD_UNMARKED, "queuer.hold_unmarked", COUNTER, \
	  "Held connections let through unmarked.") \
	X(QC_HOLD_RETRANSMITS, "queuer.hold_retransmits", COUNTER, \
	  "SYNs of a connection held or decided already: given the same answer.") \
	X(QC_HOLD_FULL, "queuer.hold_full", COUNTER, \
	  "SYNs not held (--hold-max reached, or the channel full): accept-first.") \
	X(QC_HOLD_ICMP, "queuer.hold_icmp", COUNTER, \
	  "Held SYNs answered at once with the ICMP or ICMPv6 error that refused the " \
	  "proxy's dial for them.")

/* The enum constant of an entry: X(PEPSAL_CATALOG_ENUM) inside an enum. */
#define PEPSAL_CATALOG_ENUM(e, name, kind, help) e,
/* Its name at its index: X(PEPSAL_CATALOG_NAME) inside a name array. */
#define PEPSAL_CATALOG_NAME(e, name, kind, help) [e] = name,

enum pepsal_metric_kind {
	PEPSAL_METRIC_COUNTER = 0, /* counts: only grows from the table's creation */
	PEPSAL_METRIC_GAUGE,       /* a current value, set by its owner */
};

struct pepsal_counter_def {
	const char *name;          /* "proxy.active" */
	enum pepsal_metric_kind kind;
	const char *help;          /* one sentence */
};

/* Every counter of both lists, the proxy's first, in their order. */
extern const struct pepsal_counter_def pepsal_counter_defs[];
extern const size_t pepsal_counter_ndefs;
/* The definition of the counter called NAME, NULL if no program of ours
 * registers it (another process may: its kind is then guessed). */
const struct pepsal_counter_def *pepsal_counter_def(const char *name);

#endif
