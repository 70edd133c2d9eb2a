/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shared-memory layout of the connection table. This is an ABI between
 * processes that may be built at different times: any change to these
 * structures bumps PEPSAL_TABLE_VERSION, and attach refuses other versions.
 *
 *   +----------------------+ 0
 *   | header               |  magic, version, geometry, lock, counters
 *   +----------------------+ bitmap_offset
 *   | bitmap of used slots |  one bit per entry, 64-bit words
 *   +----------------------+ client_index_offset
 *   | client index         |  nbuckets x u32: first slot+1 of each chain
 *   +----------------------+ flow_index_offset
 *   | flow index           |  nbuckets x u32 (client addr, destination)
 *   +----------------------+ addr_index_offset
 *   | address counts       |  2 x nbuckets x struct pepsal_shm_addr: pending
 *   |                      |  entries per client address (open addressing)
 *   +----------------------+ entries_offset
 *   | entries              |  capacity x struct pepsal_shm_entry
 *   +----------------------+ total_size
 *
 * Only this library's .c files include this header.
 */
#ifndef PEPSAL_SHM_LAYOUT_H
#define PEPSAL_SHM_LAYOUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pepsal_table.h"

#define PEPSAL_TABLE_MAGIC "PEPSALTB"
/* 3: per-queue queuer slots, 64 counters (the pair's); 4: 96 counters (the
 * SYN path's) */
#define PEPSAL_TABLE_VERSION 4u
#define PEPSAL_SHM_ALIGN 64u
#define PEPSAL_SHM_ROLE_SLOTS 4 /* PEPSAL_ROLE_COUNT plus spares */

struct pepsal_shm_heartbeat {
	_Atomic int32_t pid;        /* 0: role not held */
	uint32_t reserved;
	_Atomic uint64_t beat_ns;   /* CLOCK_MONOTONIC of the last beat */
};

/* One NFQUEUE's queuer (queues.c): claimed by queue number, kept across
 * restarts so its counters go on from where the last one stopped. */
struct pepsal_shm_queue {
	_Atomic uint32_t queue_plus1; /* NFQUEUE number + 1; 0: slot unused */
	_Atomic int32_t pid;        /* 0: no queuer holds it now */
	_Atomic uint64_t beat_ns;
	_Atomic uint64_t count[PEPSAL_QUEUE_COUNTERS];
	uint64_t reserved[7 - PEPSAL_QUEUE_COUNTERS];
};

_Static_assert(sizeof(struct pepsal_shm_queue) == 72, "queue slot is 72 bytes");

struct pepsal_shm_counter {
	char name[PEPSAL_COUNTER_NAME_MAX]; /* written once, before it is counted in */
	_Atomic uint64_t value;
};

struct pepsal_shm_header {
	char magic[8];              /* PEPSAL_TABLE_MAGIC, written last at creation */
	uint32_t version;           /* PEPSAL_TABLE_VERSION */
	uint32_t header_size;       /* sizeof(struct pepsal_shm_header) */
	uint32_t entry_size;        /* sizeof(struct pepsal_shm_entry) */
	uint32_t capacity;          /* number of entries */
	uint32_t nbuckets;          /* power of two >= capacity, per index */
	uint32_t bitmap_words;      /* ceil(capacity / 64) */
	uint64_t bitmap_offset;     /* byte offsets from the start of the segment */
	uint64_t client_index_offset;
	uint64_t flow_index_offset;
	uint64_t addr_index_offset;
	uint64_t entries_offset;
	uint64_t total_size;        /* size of the whole segment */
	uint64_t created_realtime_ns;
	uint64_t hash_seed[2];      /* random per table: no chosen-collision attacks */
	_Atomic uint64_t pending_lifetime_ns;

	/* Robust, process-shared: a holder killed by SIGKILL hands the next
	 * locker EOWNERDEAD, which repairs the table (see lock.c). */
	pthread_mutex_t lock;
	_Atomic uint32_t used;      /* slots allocated */
	uint32_t alloc_hint;        /* bitmap word to start searching from */
	_Atomic uint32_t counters_used; /* registered named counters */
	uint32_t reserved0;

	/* Pending entries on a FIFO in the order of their last SYN (slot+1,
	 * 0 ends): GC and eviction take the head. Lock held to change. */
	uint32_t pending_head, pending_tail;
	_Atomic uint32_t pending;   /* entries on that list */
	/* Room the proxy publishes (pepsal_table_set_room): connections it can
	 * still take, PEPSAL_ROOM_UNPUBLISHED if it never said; room_base is
	 * the pending count when it was published. Lock-free. */
	_Atomic uint32_t room;
	_Atomic uint32_t room_base;
	/* Removes that timed out on the lock: a lock-free stack of slot+1
	 * (linked by next_deferred) that the next lock holder frees. */
	_Atomic uint32_t deferred_head;
	uint32_t reserved0b;

	/* table statistics */
	_Atomic uint64_t inserts, refreshes, lookups, hits, misses, evictions,
		table_full, removes, gc_removed, recoveries, deferred, address_limited;
	uint64_t reserved1[4];

	struct pepsal_shm_heartbeat heartbeat[PEPSAL_SHM_ROLE_SLOTS];
	struct pepsal_shm_counter counters[PEPSAL_MAX_COUNTERS];
	struct pepsal_shm_queue queues[PEPSAL_MAX_QUEUES];
} __attribute__((aligned(PEPSAL_SHM_ALIGN)));

struct pepsal_shm_entry {
	/* Odd while a writer changes the entry: lock-free readers copy the
	 * entry and accept the copy only if seq was even and unchanged. */
	_Atomic uint32_t seq;
	uint32_t gen;               /* bumped at each allocation of the slot */
	uint32_t next_client;       /* client index chain: slot+1, 0 ends */
	uint32_t next_flow;         /* flow index chain: slot+1, 0 ends */
	uint8_t state;              /* enum pepsal_state */
	uint8_t family;             /* AF_INET or AF_INET6 */
	uint16_t client_port;       /* host byte order */
	uint16_t dst_port;
	uint16_t reserved0;
	uint8_t client_addr[16];    /* IPv4 in the first 4 bytes */
	uint8_t dst_addr[16];
	uint64_t syn_ns;            /* CLOCK_MONOTONIC of the last SYN */
	_Atomic uint64_t last_ns;   /* last activity; owner updates lock-free */
	_Atomic uint64_t bytes[2];  /* enum pepsal_dir; owner updates lock-free */
	uint32_t next_pending;      /* pending FIFO: slot+1, 0 ends */
	uint32_t prev_pending;
	/* deferred remove: DEFERRED_FLAG | gen once the owner asked for it
	 * (set by CAS, cleared by the lock holder that frees the slot) */
	_Atomic uint64_t deferred;
	uint32_t next_deferred;     /* deferred stack link: slot+1 */
	uint8_t reserved1[20];
};

_Static_assert(sizeof(struct pepsal_shm_entry) == 128, "entry is 128 bytes");

/* One client address and how many pending entries it holds; count 0 is a
 * free slot. Linear probing with backward-shift deletion, rebuilt by repair. */
struct pepsal_shm_addr {
	uint32_t count;
	uint8_t family;
	uint8_t reserved[3];
	uint8_t addr[16];
};

_Static_assert(sizeof(struct pepsal_shm_addr) == 24, "address slot is 24 bytes");

#define PEPSAL_DEFERRED_FLAG (1ull << 32)

/* Geometry derived from the capacity; attach checks the header against it. */
struct pepsal_shm_geometry {
	uint32_t capacity, nbuckets, bitmap_words, addr_slots;
	uint64_t bitmap_offset, client_index_offset, flow_index_offset,
		addr_index_offset, entries_offset, total_size;
};

/* The process-local handle. Geometry is copied here once validated, and
 * never re-read from the segment, so a corrupted header cannot send a
 * reader out of bounds. */
struct pepsal_table {
	char name[256];
	struct pepsal_shm_header *hdr;
	uint64_t *bitmap;
	uint32_t *client_index;
	uint32_t *flow_index;
	struct pepsal_shm_addr *addrs;
	struct pepsal_shm_entry *entries;
	struct pepsal_shm_geometry geo;
	size_t map_size;
	bool readonly;
};

void pepsal_shm_geometry(uint32_t capacity, struct pepsal_shm_geometry *g);

#endif
