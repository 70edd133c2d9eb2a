// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * shm-crowd NAME build | pump CLIENT BYTES-PER-SECOND
 * A table for the tests of pepsal-shm list, watch and metrics: "build"
 * creates six entries with different clients, destinations, states, ages
 * and byte counts (the list in tests/ns/shm-list.sh), and two named
 * counters: crowd.events (added to: 5) and crowd.active (set: 7); "pump"
 * adds bytes to the entry of CLIENT (both directions, S>C twice C>S)
 * every 10 ms until killed, and registers a counter "crowd.pumped" that
 * counts the ticks.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pepsal_table.h"

static const struct {
	const char *client, *dst;
	enum pepsal_state state;
	unsigned int age_s;
	uint64_t c2s, s2c;
} crowd[] = {
	{ "198.18.1.2:40001", "198.18.2.2:80", PEPSAL_STATE_ESTABLISHED, 90, 1000, 5000000 },
	{ "198.18.1.2:40002", "198.18.2.2:443", PEPSAL_STATE_ESTABLISHED, 10, 200, 20000 },
	{ "198.18.1.3:40003", "198.18.2.3:80", PEPSAL_STATE_PENDING, 2, 0, 0 },
	{ "198.18.4.9:40004", "198.18.2.2:80", PEPSAL_STATE_CLOSING, 60, 50, 60 },
	{ "[fd00:1::2]:40005", "[fd00:2::2]:443", PEPSAL_STATE_ESTABLISHED, 30, 9000000, 1 },
	{ "[fd00:1::3]:40006", "[fd00:2::2]:80", PEPSAL_STATE_PENDING, 1, 0, 0 },
};

static int build(struct pepsal_table *t)
{
	uint64_t now = pepsal_now_ns();
	int events = pepsal_table_counter_register(t, "crowd.events");
	int active = pepsal_table_counter_register(t, "crowd.active");
	/* two of pepsal's, whose kind the catalogue knows and no last word tells */
	int pool = pepsal_table_counter_register(t, "proxy.pair_pool");
	int closed = pepsal_table_counter_register(t, "proxy.closed");

	if (events < 0 || active < 0 || pool < 0 || closed < 0)
		return 1;
	pepsal_table_counter_add(t, events, 5);
	pepsal_table_counter_set(t, active, 7);
	pepsal_table_counter_set(t, pool, 3);
	pepsal_table_counter_add(t, closed, 11);
	if (now < 100 * 1000000000ull) {
		fprintf(stderr, "shm-crowd: the clock started less than 100 s ago\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(crowd) / sizeof(crowd[0]); i++) {
		struct pepsal_endpoint c, d;
		struct pepsal_entry_view v;
		uint64_t syn = now - crowd[i].age_s * 1000000000ull;

		if (!pepsal_endpoint_parse(&c, crowd[i].client) ||
		    !pepsal_endpoint_parse(&d, crowd[i].dst) ||
		    pepsal_table_record_syn(t, &c, &d, syn, NULL) < 0)
			return 1;
		if (crowd[i].state == PEPSAL_STATE_PENDING)
			continue;
		if (pepsal_table_claim(t, &c, &d, syn, &v) < 0)
			return 1;
		pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_C2S, crowd[i].c2s, syn);
		pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_S2C, crowd[i].s2c, syn);
		if (crowd[i].state == PEPSAL_STATE_CLOSING)
			pepsal_table_set_state(t, v.slot, v.gen, PEPSAL_STATE_CLOSING);
	}
	return 0;
}

static int pump(struct pepsal_table *t, const char *client, const char *rate)
{
	uint64_t per_tick = strtoull(rate, NULL, 10) / 100;
	struct pepsal_endpoint c;
	struct pepsal_entry_view v;
	int idx = pepsal_table_counter_register(t, "crowd.pumped");

	if (!pepsal_endpoint_parse(&c, client) || pepsal_table_lookup(t, &c, NULL, &v) < 0 ||
	    idx < 0) {
		fprintf(stderr, "shm-crowd: no entry for %s\n", client);
		return 1;
	}
	for (;;) {
		uint64_t now = pepsal_now_ns();

		pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_C2S, per_tick, now);
		pepsal_table_add_bytes(t, v.slot, PEPSAL_DIR_S2C, 2 * per_tick, now);
		pepsal_table_counter_add(t, idx, 1);
		poll(NULL, 0, 10);
	}
}

int main(int argc, char **argv)
{
	struct pepsal_table *t;
	char err[512];
	int r;

	if (argc == 3 && strcmp(argv[2], "build") == 0)
		r = pepsal_table_create(argv[1], 64, 0, &t, err, sizeof(err));
	else if (argc == 5 && strcmp(argv[2], "pump") == 0)
		r = pepsal_table_attach(argv[1], false, &t, err, sizeof(err));
	else {
		fprintf(stderr, "usage: shm-crowd NAME build | pump CLIENT BYTES-PER-SECOND\n");
		return 2;
	}
	if (r) {
		fprintf(stderr, "shm-crowd: %s\n", err);
		return 1;
	}
	r = argc == 3 ? build(t) : pump(t, argv[3], argv[4]);
	pepsal_table_detach(t);
	return r;
}
