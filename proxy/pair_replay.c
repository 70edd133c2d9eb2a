// SPDX-License-Identifier: GPL-2.0-or-later
/* Seen nonces (pair_replay.h): a GHashTable of nonce -> expiry, swept of
 * expired nonces at most once a second, and before refusing for space. */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <string.h>

#include "pair_replay.h"

struct pair_replay {
	pthread_mutex_t lock;
	GHashTable *seen;      /* nonce (16 bytes, owned) -> expiry seconds */
	uint64_t window_s;
	unsigned int max;
	uint64_t swept_s;      /* last sweep */
};

static guint nonce_hash(gconstpointer p)
{
	guint h;

	memcpy(&h, p, sizeof(h)); /* random bytes: any four are a hash */
	return h;
}

static gboolean nonce_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, PAIR_NONCE_LEN) == 0;
}

struct pair_replay *pair_replay_new(uint64_t window_s, unsigned int max)
{
	struct pair_replay *r = g_new0(struct pair_replay, 1);

	pthread_mutex_init(&r->lock, NULL);
	r->seen = g_hash_table_new_full(nonce_hash, nonce_equal, g_free, NULL);
	r->window_s = window_s;
	r->max = max;
	return r;
}

void pair_replay_free(struct pair_replay *r)
{
	if (!r)
		return;
	g_hash_table_destroy(r->seen);
	pthread_mutex_destroy(&r->lock);
	g_free(r);
}

static gboolean expired(gpointer key, gpointer value, gpointer now)
{
	(void)key;
	return GPOINTER_TO_SIZE(value) < *(const uint64_t *)now;
}

static void sweep(struct pair_replay *r, uint64_t now_s)
{
	r->swept_s = now_s;
	g_hash_table_foreach_remove(r->seen, expired, &now_s);
}

int pair_replay_check(struct pair_replay *r, const uint8_t nonce[PAIR_NONCE_LEN],
		      uint64_t time_s, uint64_t now_s)
{
	/* refused by the time check from then on */
	uint64_t expiry = time_s + r->window_s + 1;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (now_s != r->swept_s)
		sweep(r, now_s);
	if (g_hash_table_contains(r->seen, nonce))
		rc = -EEXIST;
	else if (g_hash_table_size(r->seen) >= r->max)
		rc = -ENOSPC;
	else
		g_hash_table_insert(r->seen, g_memdup2(nonce, PAIR_NONCE_LEN),
				    GSIZE_TO_POINTER((gsize)expiry));
	pthread_mutex_unlock(&r->lock);
	return rc;
}

unsigned int pair_replay_size(struct pair_replay *r)
{
	unsigned int n;

	pthread_mutex_lock(&r->lock);
	n = g_hash_table_size(r->seen);
	pthread_mutex_unlock(&r->lock);
	return n;
}
