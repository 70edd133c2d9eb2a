/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pepsal connection table: a POSIX shared-memory segment that maps each
 * client endpoint (address:port) to the original destination of its SYN.
 *
 * The queuer records SYNs (pepsal_table_record_syn), the proxy claims the
 * entry of each accepted connection (pepsal_table_claim), keeps its counters
 * current and removes it at close; pepsal-shm reads the table without ever
 * writing to it. The library knows no process: it only offers the table.
 *
 * Every function that can fail returns 0 (or a slot index) on success and a
 * negative errno on failure; functions that take an error buffer fill it with
 * one sentence naming the segment and what is wrong.
 */
#ifndef PEPSAL_TABLE_H
#define PEPSAL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pepsal_clock.h"
#include "pepsal_endpoint.h"

#define PEPSAL_SHM_DEFAULT_NAME "/pepsal"
#define PEPSAL_TABLE_MIN_CAPACITY 16u
#define PEPSAL_TABLE_MAX_CAPACITY (1u << 20)
/* legacy max_conns (2112) plus as many pending entries */
#define PEPSAL_TABLE_DEFAULT_CAPACITY 4224u
#define PEPSAL_COUNTER_NAME_MAX 32 /* including the NUL */
/* named counters the table holds: both programs' catalogue
 * (include/pepsal_catalog.h, 63 names) and room for another program's */
#define PEPSAL_MAX_COUNTERS 96
/* queuers (one per NFQUEUE) whose liveness and counters the table keeps */
#define PEPSAL_MAX_QUEUES 64
/* pepsal_table_room before the proxy published any: no limit */
#define PEPSAL_ROOM_UNPUBLISHED UINT32_MAX
/* default share of the table one client address may hold as pending: 1/N */
#define PEPSAL_DEFAULT_ADDRESS_SHARE 2u

enum pepsal_state {
	PEPSAL_STATE_FREE = 0,
	PEPSAL_STATE_PENDING,     /* SYN seen, proxy has not accepted yet */
	PEPSAL_STATE_ESTABLISHED, /* proxy relays the connection */
	PEPSAL_STATE_CLOSING,     /* one direction finished */
};

/* Processes whose liveness the table records. */
enum pepsal_role {
	PEPSAL_ROLE_QUEUER = 0,
	PEPSAL_ROLE_PROXY,
	PEPSAL_ROLE_COUNT,
};

/* Counters each queuer keeps for its own queue (the "queuer.*" named
 * counters are the sum over every queue). */
enum pepsal_queue_counter {
	PEPSAL_QUEUE_PACKETS = 0, /* packets read from the queue */
	PEPSAL_QUEUE_SYNS,        /* of which opening SYNs */
	PEPSAL_QUEUE_RECORDED,    /* SYNs recorded or refreshed in the table */
	PEPSAL_QUEUE_MARKED,      /* SYNs let through marked (to the proxy) */
	PEPSAL_QUEUE_HELD,        /* connections held while the proxy dialed */
	PEPSAL_QUEUE_ENOBUFS,     /* socket overflows: SYNs bypassed */
	PEPSAL_QUEUE_COUNTERS,
};

/* One queue's slot, copied out. */
struct pepsal_queue_view {
	uint32_t queue;               /* NFQUEUE number */
	pid_t pid;                    /* 0: no queuer holds it now */
	uint64_t beat_ns;             /* CLOCK_MONOTONIC of the last heartbeat */
	uint64_t count[PEPSAL_QUEUE_COUNTERS];
};

/* Relay direction, for the byte counters. */
enum pepsal_dir {
	PEPSAL_DIR_C2S = 0, /* client to server */
	PEPSAL_DIR_S2C,
};

/* How pepsal_table_record_syn stored the SYN. */
enum pepsal_record_how {
	PEPSAL_RECORD_INSERTED = 0,
	PEPSAL_RECORD_REFRESHED, /* same client and destination, still pending */
	PEPSAL_RECORD_RECLAIMED, /* table was full: a stale pending entry made room */
};

/* A process-local copy of one entry. */
struct pepsal_entry_view {
	uint32_t slot;                /* index in the entry array */
	uint32_t gen;                 /* allocation generation of the slot */
	enum pepsal_state state;
	struct pepsal_endpoint client; /* as the queuer saw it in the SYN */
	struct pepsal_endpoint dst;    /* original destination */
	uint64_t syn_ns;              /* CLOCK_MONOTONIC time of the (last) SYN */
	uint64_t last_ns;             /* CLOCK_MONOTONIC time of last activity */
	uint64_t bytes[2];            /* indexed by enum pepsal_dir */
};

/* Header fields, copied out for display. */
struct pepsal_table_info {
	uint32_t version;
	uint32_t capacity;
	uint32_t entry_size;
	uint32_t used;                /* slots currently allocated */
	uint32_t pending;             /* of which pending */
	uint32_t room;                /* published by the proxy, or PEPSAL_ROOM_UNPUBLISHED */
	uint64_t segment_size;
	uint64_t created_realtime_ns; /* CLOCK_REALTIME at creation */
	uint64_t pending_lifetime_ns;
	uint64_t inserts, refreshes, lookups, hits, misses, evictions, table_full,
		removes, gc_removed, recoveries,
		deferred,             /* removes that found the lock busy, freed later */
		address_limited;      /* SYNs refused: their address held its share */
	struct {
		pid_t pid;            /* 0: never seen */
		uint64_t beat_ns;     /* CLOCK_MONOTONIC of the last heartbeat */
	} heartbeat[PEPSAL_ROLE_COUNT];
};

struct pepsal_table;

/* ---- segment life cycle ---------------------------------------------- */

/* Create a new segment (fails with -EEXIST if NAME exists). CAPACITY 0 means
 * the default; MODE 0 means 0600. */
int pepsal_table_create(const char *name, uint32_t capacity, mode_t mode,
			struct pepsal_table **out, char *err, size_t errlen);
/* Attach to an existing segment, checking magic, version and sizes. */
int pepsal_table_attach(const char *name, bool readonly,
			struct pepsal_table **out, char *err, size_t errlen);
void pepsal_table_detach(struct pepsal_table *t);
int pepsal_table_unlink(const char *name);
/* Normalise a user-given name ("pepsal" -> "/pepsal"); false if invalid. */
bool pepsal_shm_name_valid(const char *name, char *err, size_t errlen);

const char *pepsal_table_name(const struct pepsal_table *t);
uint32_t pepsal_table_capacity(const struct pepsal_table *t);
void pepsal_table_get_info(const struct pepsal_table *t,
			   struct pepsal_table_info *info);
void pepsal_table_set_pending_lifetime(struct pepsal_table *t, uint64_t ns);

/* ---- entries (writers take the table's robust lock) ------------------- */

/* Record a SYN from CLIENT to DST as a pending entry, or refresh the pending
 * entry that has the same client and destination. When the table is full a
 * pending entry older than the pending lifetime is reclaimed; established
 * entries are never touched. Returns the slot, or -ENOSPC (counted as
 * table-full). */
int pepsal_table_record_syn(struct pepsal_table *t,
			    const struct pepsal_endpoint *client,
			    const struct pepsal_endpoint *dst, uint64_t now_ns,
			    enum pepsal_record_how *how);

/* The same, but refuse (-EDQUOT, counted as address-limited) a new entry
 * when CLIENT's address already holds ADDR_LIMIT pending entries (0: no
 * limit). The queuer calls this one: one scanning or infected host cannot
 * fill the table. */
int pepsal_table_record_syn_limited(struct pepsal_table *t,
				    const struct pepsal_endpoint *client,
				    const struct pepsal_endpoint *dst, uint64_t now_ns,
				    uint32_t addr_limit, enum pepsal_record_how *how);
/* Pending entries CLIENT's address holds (its port is ignored), or -errno. */
int pepsal_table_address_pending(struct pepsal_table *t,
				 const struct pepsal_endpoint *client);

/* Find the pending entry of a connection the proxy accepted and mark it
 * established. PEER is the client endpoint as the proxy sees it; ORIG_DST,
 * when known (SO_ORIGINAL_DST), must match the entry's destination. If NAT
 * remapped the client's port, the pending entry from the same client address
 * to ORIG_DST with the oldest SYN is taken. Returns the slot or -ENOENT. */
int pepsal_table_claim(struct pepsal_table *t, const struct pepsal_endpoint *peer,
		       const struct pepsal_endpoint *orig_dst, uint64_t now_ns,
		       struct pepsal_entry_view *out);

/* Look up without changing anything (same matching as claim, any state). */
int pepsal_table_lookup(struct pepsal_table *t, const struct pepsal_endpoint *client,
			const struct pepsal_endpoint *dst,
			struct pepsal_entry_view *out);

/* Does the table hold a live entry with exactly CLIENT's endpoint (and DST,
 * if given)? 1 or 0, or a negative errno; counts nothing. The proxy asks it
 * before dialing from a client's address, so that its own connection never
 * takes the 4-tuple of a client connection conntrack already knows. */
int pepsal_table_holds(struct pepsal_table *t, const struct pepsal_endpoint *client,
		       const struct pepsal_endpoint *dst);

/* Change the state of the entry SLOT if it still has generation GEN. */
int pepsal_table_set_state(struct pepsal_table *t, uint32_t slot, uint32_t gen,
			   enum pepsal_state state);
/* Free the entry SLOT if it still has generation GEN (-ESTALE otherwise).
 * If the lock stays busy past its timeout (a holder stopped), the remove is
 * deferred: the slot is queued lock-free and freed by the next lock holder;
 * 0 is returned and the deferral counted. Only SLOT's owner removes it. */
int pepsal_table_remove(struct pepsal_table *t, uint32_t slot, uint32_t gen);
/* Free pending entries whose last SYN is older than LIFETIME_NS, oldest
 * first from the pending list: O(entries freed). Returns how many. */
int pepsal_table_gc(struct pepsal_table *t, uint64_t now_ns, uint64_t lifetime_ns);

/* Lock-free: add N relayed bytes and note activity, if SLOT still has
 * generation GEN. For the owner of SLOT. */
void pepsal_table_count_bytes(struct pepsal_table *t, uint32_t slot, uint32_t gen,
			      enum pepsal_dir dir, uint64_t n, uint64_t now_ns);
/* The same without the generation check (older callers). */
void pepsal_table_add_bytes(struct pepsal_table *t, uint32_t slot,
			    enum pepsal_dir dir, uint64_t n, uint64_t now_ns);

/* ---- the proxy's room (lock-free) ---------------------------------------- */

/* The proxy publishes how many more connections it can take (0: full);
 * republish whenever it changes. Until then the room is unlimited. */
void pepsal_table_set_room(struct pepsal_table *t, uint32_t room);
/* The room last published, or PEPSAL_ROOM_UNPUBLISHED. */
uint32_t pepsal_table_room(const struct pepsal_table *t);
/* May one more SYN be sent to the proxy? False when the published room is
 * 0, or when the pending entries added since it was published use it up:
 * the SYNs marked just before the proxy filled are at most its room. */
bool pepsal_table_room_ok(const struct pepsal_table *t);

/* ---- readers (lock-free, work on read-only attachments) ---------------- */

/* Copy one entry consistently. -ENOENT if free, -EAGAIN if a writer keeps
 * changing it (the caller may retry or skip). */
int pepsal_table_snapshot(const struct pepsal_table *t, uint32_t slot,
			  struct pepsal_entry_view *out);

/* ---- liveness and counters -------------------------------------------- */

void pepsal_table_heartbeat(struct pepsal_table *t, enum pepsal_role role,
			    pid_t pid, uint64_t now_ns);
/* Claim ROLE for PID: fails with -EBUSY if another live process holds it
 * and beat within FRESH_NS. */
int pepsal_table_claim_role(struct pepsal_table *t, enum pepsal_role role,
			    pid_t pid, uint64_t now_ns, uint64_t fresh_ns);
void pepsal_table_release_role(struct pepsal_table *t, enum pepsal_role role, pid_t pid);
/* True if ROLE's heartbeat is younger than FRESH_NS. */
bool pepsal_table_role_alive(const struct pepsal_table *t, enum pepsal_role role,
			     uint64_t now_ns, uint64_t fresh_ns);
const char *pepsal_role_name(enum pepsal_role role);

/* Per-queue queuers (shm/roles.c). Claim the slot of QUEUE for PID (the
 * slot of the same queue, else a free one): its index, -EBUSY if a live
 * process holds it and beat within FRESH_NS, -ENOSPC if every slot has
 * another queue. */
int pepsal_table_queue_claim(struct pepsal_table *t, uint32_t queue, pid_t pid,
			     uint64_t now_ns, uint64_t fresh_ns);
void pepsal_table_queue_beat(struct pepsal_table *t, int idx, pid_t pid, uint64_t now_ns);
void pepsal_table_queue_add(struct pepsal_table *t, int idx, enum pepsal_queue_counter c,
			    uint64_t n);
void pepsal_table_queue_release(struct pepsal_table *t, int idx, pid_t pid);
/* Copy slot IDX (0 to PEPSAL_MAX_QUEUES - 1): false if it was never used. */
bool pepsal_table_queue_get(const struct pepsal_table *t, int idx,
			    struct pepsal_queue_view *out);
bool pepsal_table_queue_alive(const struct pepsal_queue_view *q, uint64_t now_ns,
			      uint64_t fresh_ns);
const char *pepsal_queue_counter_name(enum pepsal_queue_counter c);

/* Named counters that processes register in the segment ("queuer.syns").
 * Returns the counter's index (the same for the same name) or -ENOSPC. */
int pepsal_table_counter_register(struct pepsal_table *t, const char *name);
void pepsal_table_counter_add(struct pepsal_table *t, int idx, uint64_t n);
void pepsal_table_counter_set(struct pepsal_table *t, int idx, uint64_t v);
/* Iterate: returns false past the last registered counter. */
bool pepsal_table_counter_get(const struct pepsal_table *t, int idx,
			      char name[PEPSAL_COUNTER_NAME_MAX], uint64_t *value);

/* ---- checks ------------------------------------------------------------ */

/* Verify every invariant (bitmap, chains, states). 0 or -EUCLEAN with ERR. */
int pepsal_table_check(struct pepsal_table *t, char *err, size_t errlen);

const char *pepsal_state_name(enum pepsal_state s);

#endif
