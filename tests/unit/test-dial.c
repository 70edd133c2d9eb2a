// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of the upstream dial (proxy/dial.c): the source-port choice
 * against the table, connects that succeed, are refused or cancelled.
 * Runs in a network namespace of its own when root (unit-net.h). */
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "../../proxy/dial.c"
#include "unit-net.h"

static char shm_name[64], err[256];
static struct pepsal_table *table;
static struct proxy_config cfg;

static struct pepsal_endpoint lo_ep(uint8_t host, uint16_t port)
{
	struct pepsal_endpoint e;
	uint8_t a[4] = { 127, 0, 0, host };

	pepsal_endpoint_set(&e, AF_INET, a, port);
	return e;
}

static void setup(void)
{
	pepsal_table_unlink(shm_name);
	g_assert_cmpint(pepsal_table_create(shm_name, 64, 0, &table, err, sizeof(err)), ==, 0);
	cfg = (struct proxy_config){ .transparent = true, .connect_timeout_ns = 2000000000ull,
				     .upstream_ports = (30003u << 16) | 30000u };
}

static void teardown(void)
{
	pepsal_table_detach(table);
	pepsal_table_unlink(shm_name);
}

static void test_choose_skips_held(void)
{
	struct dial_ctx d;
	struct pepsal_endpoint client = lo_ep(5, 0), dst = lo_ep(1, 80), held;

	setup();
	d = (struct dial_ctx){ .cfg = &cfg, .table = table };
	for (uint16_t p = 30000; p < 30003; p++) {
		held = lo_ep(5, p);
		g_assert_cmpint(pepsal_table_record_syn(table, &held, &dst, pepsal_now_ns(), NULL), >=, 0);
	}
	for (int i = 0; i < 20; i++)
		g_assert_cmpuint(dial_choose_port(&d, cfg.upstream_ports, &client, &dst), ==, 30003);
	/* a held port toward another destination is free toward this one */
	{
		struct pepsal_endpoint other = lo_ep(1, 81);

		g_assert_cmpuint(dial_choose_port(&d, cfg.upstream_ports, &client, &other), >=, 30000);
	}
	held = lo_ep(5, 30003);
	g_assert_cmpint(pepsal_table_record_syn(table, &held, &dst, pepsal_now_ns(), NULL), >=, 0);
	g_assert_cmpuint(dial_choose_port(&d, cfg.upstream_ports, &client, &dst), ==, 0);
	/* without a table nothing is held */
	d.table = NULL;
	g_assert_cmpuint(dial_choose_port(&d, cfg.upstream_ports, &client, &dst), >=, 30000);
	teardown();
}

static void test_connects_transparently(void)
{
	struct dial_ctx d;
	struct sockaddr_in peer;
	socklen_t sl = sizeof(peer);
	uint16_t port = 0;
	int l = unit_listen(&port), fd, s;
	struct pepsal_endpoint client = lo_ep(5, 0), dst = lo_ep(1, port);

	setup();
	d = (struct dial_ctx){ .cfg = &cfg, .table = table };
	g_assert_cmpint(l, >=, 0);
	fd = dial_upstream(&d, &client, &dst);
	g_assert_cmpint(fd, >=, 0);
	s = accept(l, (struct sockaddr *)&peer, &sl);
	g_assert_cmpint(s, >=, 0);
	/* from the client's address, a port of the range */
	g_assert_cmpuint(ntohl(peer.sin_addr.s_addr), ==, 0x7f000005);
	g_assert_cmpuint(ntohs(peer.sin_port), >=, 30000);
	g_assert_cmpuint(ntohs(peer.sin_port), <=, 30003);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, O_NONBLOCK); /* as the pump wants */
	close(s);
	close(fd);
	close(l);
	teardown();
}

static void test_refused_and_cancelled(void)
{
	struct stop stop = STOP_INIT;
	struct dial_ctx d;
	uint16_t port = 0;
	int l = unit_listen(&port);
	struct pepsal_endpoint client = lo_ep(5, 0), dst = lo_ep(1, port);

	setup();
	g_assert_cmpint(stop_init(&stop), ==, 0);
	d = (struct dial_ctx){ .cfg = &cfg, .table = table, .stop = &stop };
	close(l); /* nobody listens there now */
	g_assert_cmpint(dial_upstream(&d, &client, &dst), ==, -ECONNREFUSED);
	cfg.transparent = false;
	g_assert_cmpint(dial_upstream(&d, &client, &dst), ==, -ECONNREFUSED);
	/* a destination that never answers: 198.18.0.1 routed into a private
	 * namespace's lo would answer; an unroutable one fails at once */
	dst = (struct pepsal_endpoint){ 0 };
	{
		uint8_t a[4] = { 198, 18, 0, 1 };

		pepsal_endpoint_set(&dst, AF_INET, a, 80);
	}
	stop_set(&stop);
	{
		int rc = dial_upstream(&d, &client, &dst);

		g_assert_cmpint(rc, <, 0);
		g_assert_true(rc == -ECANCELED || rc == -ENETUNREACH || rc == -EHOSTUNREACH);
	}
	stop_fini(&stop);
	teardown();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	unit_net_private();
	snprintf(shm_name, sizeof(shm_name), "/pepsal-unit-dial-%d", (int)getpid());
	g_test_add_func("/dial/choose-skips-held", test_choose_skips_held);
	g_test_add_func("/dial/connects-transparently", test_connects_transparently);
	g_test_add_func("/dial/refused-and-cancelled", test_refused_and_cancelled);
	return g_test_run();
}
