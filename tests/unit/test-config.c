// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of pepsal's command line (proxy/config.c): defaults, every
 * value parser, durations and sizes through the option table. */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../../proxy/config.c"

static char err[256];

/* config_parse over a NULL-terminated list of arguments after "pepsal". */
static int parse(struct proxy_config *c, ...)
{
	char *argv[32] = { (char *)"pepsal" };
	int argc = 1;
	va_list ap;

	va_start(ap, c);
	for (char *a; (a = va_arg(ap, char *)) && argc < 31;)
		argv[argc++] = a;
	va_end(ap);
	return config_parse(c, argc, argv);
}

static void test_defaults(void)
{
	struct proxy_config c;

	g_assert_cmpint(parse(&c, NULL), ==, 0);
	g_assert_cmpuint(c.port, ==, 5000);
	g_assert_cmpuint(c.max_conns, ==, 2112);
	g_assert_true(c.transparent);
	g_assert_true(c.nodelay);
	g_assert_true(c.keepalive);
	g_assert_cmpstr(c.shm_name, ==, "/pepsal");
	g_assert_cmpstr(c.mark, ==, "0x2/0x2");
	g_assert_cmpuint(c.upstream_ports, ==, (32767u << 16) | 20000u);
	g_assert_cmpuint(c.pipe_size, ==, 1u << 20);
	g_assert_cmpuint(c.connect_timeout_ns, ==, 10 * 1000000000ull);
	g_assert_cmpuint(c.shm_mode, ==, 0600);
	g_assert_cmpint(c.mode, ==, MODE_NFQUEUE);
}

static void test_durations_sizes(void)
{
	struct proxy_config c;

	g_assert_cmpint(parse(&c, "--idle-timeout", "500ms", "-g", "2h", "-t", "90",
			      "--pipe-size", "64k", "--client-sndbuf", "4m",
			      "--connect-timeout", "3s", NULL), ==, 0);
	g_assert_cmpuint(c.idle_timeout_ns, ==, 500000000ull);
	g_assert_cmpuint(c.gc_interval_ns, ==, 2 * 3600 * 1000000000ull);
	g_assert_cmpuint(c.pending_ns, ==, 90 * 1000000000ull);
	g_assert_cmpuint(c.pipe_size, ==, 65536);
	g_assert_cmpuint(c.leg[LEG_CLIENT].sndbuf, ==, 4u << 20);
	g_assert_cmpuint(c.connect_timeout_ns, ==, 3000000000ull);
	/* out of range or malformed: refused */
	g_assert_cmpint(parse(&c, "--pipe-size", "1k", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pipe-size", "4x", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-g", "0", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-g", "-5", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--idle-timeout", "5 s", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-c", "0", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-c", "1000001", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-p", "65536", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-p", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--no-such-option", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "extra", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-V", NULL), ==, -1);
	g_assert_cmpint(parse(&c, "--no-transparent", NULL), ==, 0);
	g_assert_false(c.transparent);
	g_assert_cmpint(parse(&c, "--nagle", "--no-keepalive", NULL), ==, 0);
	g_assert_false(c.nodelay);
	g_assert_false(c.keepalive);
	g_assert_cmpint(parse(&c, "--nagle", "-n", NULL), ==, 0); /* the last wins */
	g_assert_true(c.nodelay);
}

static void test_mode(void)
{
	enum proxy_mode m = MODE_NFQUEUE;

	g_assert_true(config_parse_mode("tproxy", &m, err, sizeof(err)));
	g_assert_cmpint(m, ==, MODE_TPROXY);
	g_assert_true(config_parse_mode("nfqueue", &m, err, sizeof(err)));
	g_assert_cmpint(m, ==, MODE_NFQUEUE);
	g_assert_false(config_parse_mode("TPROXY", &m, err, sizeof(err)));
	g_assert_false(config_parse_mode("", &m, err, sizeof(err)));
	g_assert_nonnull(strstr(err, "nfqueue or tproxy"));
}

static void test_shm_name(void)
{
	char buf[NAME_MAX + 2];
	struct proxy_config c;

	g_assert_true(config_parse_shm_name("pep", buf, err, sizeof(err)));
	g_assert_cmpstr(buf, ==, "/pep");
	g_assert_true(config_parse_shm_name("/pep", buf, err, sizeof(err)));
	g_assert_cmpstr(buf, ==, "/pep");
	g_assert_false(config_parse_shm_name("a/b", buf, err, sizeof(err)));
	g_assert_false(config_parse_shm_name("/", buf, err, sizeof(err)));
	g_assert_false(config_parse_shm_name("..", buf, err, sizeof(err)));
	g_assert_cmpint(parse(&c, "--shm", "mine", NULL), ==, 0);
	g_assert_cmpstr(c.shm_name, ==, "/mine");
}

static void test_shm_mode(void)
{
	uint32_t m = 0;

	g_assert_true(config_parse_shm_mode("0640", &m, err, sizeof(err)));
	g_assert_cmpuint(m, ==, 0640);
	g_assert_true(config_parse_shm_mode("666", &m, err, sizeof(err)));
	g_assert_cmpuint(m, ==, 0666);
	g_assert_false(config_parse_shm_mode("0400", &m, err, sizeof(err)));
	g_assert_false(config_parse_shm_mode("0700", &m, err, sizeof(err)));
	g_assert_false(config_parse_shm_mode("0689", &m, err, sizeof(err)));
	g_assert_false(config_parse_shm_mode("-600", &m, err, sizeof(err)));
	g_assert_false(config_parse_shm_mode("", &m, err, sizeof(err)));
}

static void test_mark(void)
{
	const char *m = NULL;

	g_assert_true(config_parse_mark("0x2/0x2", &m, err, sizeof(err)));
	g_assert_cmpstr(m, ==, "0x2/0x2");
	g_assert_true(config_parse_mark("4/12", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("0x2", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("0x3/0x2", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("0x2/0", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("0x100000000/0xffffffff", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("-1/0x2", &m, err, sizeof(err)));
	g_assert_false(config_parse_mark("2/x", &m, err, sizeof(err)));
}

static void test_port_range(void)
{
	uint32_t r = 1;

	g_assert_true(config_parse_port_range("20000-32767", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, (32767u << 16) | 20000u);
	g_assert_true(config_parse_port_range("5-5", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, (5u << 16) | 5u);
	g_assert_true(config_parse_port_range("system", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, 0);
	g_assert_false(config_parse_port_range("0-10", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range("10-5", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range("1-65536", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range("1-2x", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range("-1-5", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range(" 1-5", &r, err, sizeof(err)));
	g_assert_false(config_parse_port_range("4294967297-5", &r, err, sizeof(err)));
}

static void test_rate(void)
{
	uint64_t r = 0;

	g_assert_true(config_parse_rate("20m", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, 2500000);
	g_assert_true(config_parse_rate("8k", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, 1000);
	g_assert_true(config_parse_rate("1000g", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, 125000000000ull);
	g_assert_true(config_parse_rate("64000", &r, err, sizeof(err)));
	g_assert_cmpuint(r, ==, 8000);
	g_assert_false(config_parse_rate("7999", &r, err, sizeof(err)));
	g_assert_false(config_parse_rate("1001g", &r, err, sizeof(err)));
	g_assert_false(config_parse_rate("0", &r, err, sizeof(err)));
	g_assert_false(config_parse_rate("-20m", &r, err, sizeof(err)));
	g_assert_false(config_parse_rate("20mb", &r, err, sizeof(err)));
	g_assert_false(config_parse_rate("18446744073709551615g", &r, err, sizeof(err)));
}

static void test_cc(void)
{
	char cc[PROXY_CC_NAME_MAX] = "";

	g_assert_true(config_parse_cc("reno", cc, err, sizeof(err)));
	g_assert_cmpstr(cc, ==, "reno");
	g_assert_false(config_parse_cc("no-such-cc", cc, err, sizeof(err)));
	g_assert_false(config_parse_cc("", cc, err, sizeof(err)));
	g_assert_false(config_parse_cc("a-name-longer-than-16", cc, err, sizeof(err)));
	g_assert_cmpstr(cc, ==, "reno");
}

/* --client-cc-mode: adaptive by default, with bbr for lossy legs. */
static void test_cc_mode(void)
{
	struct proxy_config c;
	enum cc_mode m = CC_MODE_ADAPTIVE;

	g_assert_cmpint(parse(&c, NULL), ==, 0);
	g_assert_cmpint(c.cc_mode, ==, CC_MODE_ADAPTIVE);
	g_assert_cmpstr(c.cc_lossy, ==, "bbr");
	g_assert_cmpint(parse(&c, "--client-cc-mode", "fixed", "--client-cc-lossy", "reno",
			      NULL), ==, 0);
	g_assert_cmpint(c.cc_mode, ==, CC_MODE_FIXED);
	g_assert_cmpstr(c.cc_lossy, ==, "reno");
	g_assert_false(config_parse_cc_mode("auto", &m, err, sizeof(err)));
	g_assert_cmpint(m, ==, CC_MODE_ADAPTIVE);
	g_assert_true(config_parse_cc_mode("fixed", &m, err, sizeof(err)));
	g_assert_cmpint(m, ==, CC_MODE_FIXED);
	g_assert_cmpint(parse(&c, "--client-cc-mode", "sometimes", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--client-cc-lossy", "no-such-cc", NULL), ==, -2);
}

static void test_pair_endpoints(void)
{
	struct pepsal_endpoint ep;
	char a[PEPSAL_ENDPOINT_STRLEN];

	g_assert_true(config_parse_pair_gateway("198.18.4.2", &ep, err, sizeof(err)));
	g_assert_cmpstr(pepsal_endpoint_format(&ep, a), ==, "198.18.4.2:5001");
	g_assert_true(config_parse_pair_gateway("198.18.4.2:6000", &ep, err, sizeof(err)));
	g_assert_cmpuint(ep.port, ==, 6000);
	g_assert_true(config_parse_pair_gateway("[fd00:4::2]:5002", &ep, err, sizeof(err)));
	g_assert_cmpint(ep.family, ==, AF_INET6);
	g_assert_cmpuint(ep.port, ==, 5002);
	g_assert_true(config_parse_pair_gateway("[fd00:4::2]", &ep, err, sizeof(err)));
	g_assert_cmpuint(ep.port, ==, 5001);
	g_assert_false(config_parse_pair_gateway("fd00:4::2", &ep, err, sizeof(err)));
	g_assert_false(config_parse_pair_gateway("198.18.4.2:0", &ep, err, sizeof(err)));
	g_assert_false(config_parse_pair_gateway("198.18.4.2:65536", &ep, err, sizeof(err)));
	g_assert_false(config_parse_pair_gateway(":5001", &ep, err, sizeof(err)));
	g_assert_false(config_parse_pair_gateway("gateway.example", &ep, err, sizeof(err)));
	g_assert_nonnull(strstr(err, "ADDR[:PORT]"));
	g_assert_true(config_parse_pair_listen(":5001", &ep, err, sizeof(err)));
	g_assert_cmpint(ep.family, ==, 0);
	g_assert_cmpuint(ep.port, ==, 5001);
	g_assert_true(config_parse_pair_listen("5003", &ep, err, sizeof(err)));
	g_assert_cmpint(ep.family, ==, 0);
	g_assert_cmpuint(ep.port, ==, 5003);
	g_assert_true(config_parse_pair_listen("[::]:5001", &ep, err, sizeof(err)));
	g_assert_cmpint(ep.family, ==, AF_INET6);
	g_assert_false(config_parse_pair_listen("x:5001", &ep, err, sizeof(err)));
}

static void test_pair_peers(void)
{
	struct pair_config pc = { 0 };

	g_assert_true(config_parse_pair_peers("198.18.3.1,fd00:3::/64", &pc, err, sizeof(err)));
	g_assert_cmpuint(pc.npeers, ==, 2);
	g_assert_cmpuint(pc.peers[0].len, ==, 32);
	g_assert_cmpuint(pc.peers[1].len, ==, 64);
	g_assert_true(config_parse_pair_peers("10.0.0.0/8", &pc, err, sizeof(err))); /* appends */
	g_assert_cmpuint(pc.npeers, ==, 3);
	g_assert_false(config_parse_pair_peers("10.0.0.0/33", &pc, err, sizeof(err)));
	g_assert_false(config_parse_pair_peers("10.0.0.0/", &pc, err, sizeof(err)));
	g_assert_false(config_parse_pair_peers("", &pc, err, sizeof(err)));
	g_assert_false(config_parse_pair_peers("host", &pc, err, sizeof(err)));
}

static void test_pair_roles(void)
{
	struct proxy_config c;

	g_assert_cmpint(parse(&c, NULL), ==, 0);
	g_assert_cmpint(c.pair.role, ==, PAIR_ROLE_NONE);
	g_assert_cmpuint(c.pair.pool, ==, 16);
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      "--pair-key-file", "/k", NULL), ==, 0);
	g_assert_true(c.accept_first); /* the pair is accept-first */
	g_assert_cmpuint(c.leg[LEG_PAIR].sndbuf, ==, 16u << 20);
	g_assert_cmpint(parse(&c, "--pair-role", "gateway", "--pair-listen", ":5001",
			      "--pair-peer", "198.18.3.1", "--pair-key-file", "/k",
			      "--pair-buffer", "4m", NULL), ==, 0);
	g_assert_true(c.no_queuer);
	g_assert_cmpuint(c.leg[LEG_PAIR].rcvbuf, ==, 4u << 20);
	g_assert_cmpuint(c.leg[LEG_CLIENT].rcvbuf, ==, 4u << 20); /* the gateway's client leg */
	/* what a role lacks, or what it does not take: exit 2 */
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-key-file", "/k", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-role", "gateway", "--pair-listen", ":5001",
			      "--pair-key-file", "/k", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-gateway", "198.18.4.2", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-role", "both", NULL), ==, -2);
	/* --pair-hold: the terminal holds SYNs (not accept-first) */
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      "--pair-key-file", "/k", "--pair-hold", NULL), ==, 0);
	g_assert_false(c.accept_first);
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      "--pair-key-file", "/k", "--pair-hold", "--accept-first", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-hold", NULL), ==, -2);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/durations-sizes", test_durations_sizes);
	g_test_add_func("/config/mode", test_mode);
	g_test_add_func("/config/shm-name", test_shm_name);
	g_test_add_func("/config/shm-mode", test_shm_mode);
	g_test_add_func("/config/mark", test_mark);
	g_test_add_func("/config/port-range", test_port_range);
	g_test_add_func("/config/rate", test_rate);
	g_test_add_func("/config/cc", test_cc);
	g_test_add_func("/config/cc-mode", test_cc_mode);
	g_test_add_func("/config/pair-endpoints", test_pair_endpoints);
	g_test_add_func("/config/pair-peers", test_pair_peers);
	g_test_add_func("/config/pair-roles", test_pair_roles);
	return g_test_run();
}
