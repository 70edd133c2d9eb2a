// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The queuer's side of the connection table: attach (or create with
 * --create), claim the queuer role, and follow the segment when it is
 * replaced.
 *
 * Why follow: a proxy that starts finds a stale table, unlinks it and creates
 * a new one under the same name. A queuer that runs on its own (pepsal
 * --no-queuer) would keep recording into the orphaned segment, where no
 * proxy ever beats: every SYN would pass unmarked, unaccelerated, silently.
 * So once a second the queuer compares the inode behind the name with the
 * one it mapped, and moves to the new segment when they differ.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "queuer.h"

#define ROLE_FRESH_NS 3000000000ull

/* The inode behind NAME (POSIX shm lives in /dev/shm on Linux), 0 if none. */
static ino_t shm_inode(const char *name)
{
	char path[320];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/shm/%s", name[0] == '/' ? name + 1 : name);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* Attach, and be sure of which segment: the inode is the same before and
 * after the attach, or we try again. */
static int attach_known(const char *name, struct pepsal_table **t, ino_t *ino,
			char *err, size_t errlen)
{
	for (int tries = 0; tries < 3; tries++) {
		ino_t before = shm_inode(name);
		int r = pepsal_table_attach(name, false, t, err, errlen);

		if (r < 0)
			return r;
		*ino = shm_inode(name);
		if (*ino == before)
			return 0;
		pepsal_table_detach(*t);
	}
	snprintf(err, errlen, "shm segment %s keeps being replaced", name);
	return -EAGAIN;
}

/* Our queue's slot: one queuer per NFQUEUE, several queues per table. */
static int claim_role(struct pepsal_table *t, uint32_t queue)
{
	int r = pepsal_table_queue_claim(t, queue, getpid(), pepsal_now_ns(), ROLE_FRESH_NS);

	if (r == -EBUSY) {
		for (int i = 0; i < PEPSAL_MAX_QUEUES; i++) {
			struct pepsal_queue_view q;

			if (pepsal_table_queue_get(t, i, &q) && q.queue == queue)
				pr_err("another queuer (pid %d) is running for queue %u on table "
				       "%s; stop it first", (int)q.pid, queue, pepsal_table_name(t));
		}
	} else if (r == -ENOSPC) {
		pr_err("table %s has no slot left for queue %u: at most %d queues",
		       pepsal_table_name(t), queue, PEPSAL_MAX_QUEUES);
	} else if (r < 0) {
		pr_err("cannot claim the queuer role in table %s: %s", pepsal_table_name(t),
		       strerror(-r));
	} else {
		/* the table's queuer heartbeat: some queuer is alive */
		pepsal_table_heartbeat(t, PEPSAL_ROLE_QUEUER, getpid(), pepsal_now_ns());
	}
	return r;
}

int queuer_table_open(struct queuer *qr, const char *name, bool create, uint32_t capacity)
{
	char err[512];
	int r = attach_known(name, &qr->table, &qr->table_ino, err, sizeof(err));

	if (r == -ENOENT && create) {
		r = pepsal_table_create(name, capacity, 0, &qr->table, err, sizeof(err));
		if (r == 0) {
			qr->table_ino = shm_inode(name);
			pr_info("created table %s with %u entries", pepsal_table_name(qr->table),
				capacity);
		} else if (r == -EEXIST) { /* someone created it meanwhile */
			r = attach_known(name, &qr->table, &qr->table_ino, err, sizeof(err));
		}
	}
	if (r < 0) {
		pr_err("%s", err);
		qr->table = NULL;
		return r;
	}
	r = claim_role(qr->table, qr->queue);
	if (r < 0) {
		pepsal_table_detach(qr->table);
		qr->table = NULL;
		return r;
	}
	qr->queue_slot = r;
	queuer_address_limit(qr);
	queuer_counters_register(qr);
	return 0;
}

void queuer_table_close(struct queuer *qr)
{
	if (!qr->table)
		return;
	queuer_counters_flush(qr, NULL);
	pepsal_table_queue_release(qr->table, qr->queue_slot, getpid());
	pepsal_table_release_role(qr->table, PEPSAL_ROLE_QUEUER, getpid());
	pepsal_table_detach(qr->table);
	qr->table = NULL;
}

void queuer_table_follow(struct queuer *qr)
{
	const char *name = pepsal_table_name(qr->table);
	struct pepsal_table *nt;
	char err[512];
	ino_t ino = shm_inode(name), nino;
	int slot;

	if (ino == qr->table_ino)
		return;
	if (!ino) { /* removed: the proxy stopped; its heartbeat goes stale */
		if (!qr->table_gone)
			pr_warn("table %s was removed; SYNs pass unmarked until it is back",
				name);
		qr->table_gone = true;
		return;
	}
	/* a new segment: it may still be being initialised, then retry later */
	if (attach_known(name, &nt, &nino, err, sizeof(err)) < 0) {
		pr_ratelimited(LOG_WARNING, "table %s was replaced but is not usable yet: %s",
			       name, err);
		return;
	}
	slot = claim_role(nt, qr->queue);
	if (slot < 0) {
		pepsal_table_detach(nt);
		return;
	}
	pr_info("table %s was replaced (proxy restarted?): following the new one", name);
	queuer_table_close(qr);
	qr->table = nt;
	qr->table_ino = nino;
	qr->table_gone = false;
	qr->queue_slot = slot;
	queuer_address_limit(qr);
	queuer_counters_register(qr);
}
