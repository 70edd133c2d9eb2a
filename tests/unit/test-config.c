// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of pepsal's command line (proxy/config.c): defaults, every
 * value parser, durations and sizes through the option table. */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../../proxy/config.c"
#include "help-defaults.h"

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
	g_assert_cmpuint(c.mark.value, ==, 2);
	g_assert_cmpuint(c.mark.mask, ==, 2);
	g_assert_cmpuint(c.route_mark.value, ==, 1);
	g_assert_cmpuint(c.route_mark.mask, ==, 1);
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

/* The one VALUE[/MASK] grammar (libpepsal's shm/mark.c), as both programs
 * take it, and the check that the mark and the routing mark stay apart. */
static void test_mark(void)
{
	struct pepsal_mark m = { 0, 0 };
	struct proxy_config c;

	g_assert_true(pepsal_parse_mark("0x2/0x2", &m, err, sizeof(err)));
	g_assert_cmpuint(m.value, ==, 2);
	g_assert_cmpuint(m.mask, ==, 2);
	g_assert_true(pepsal_parse_mark("4/12", &m, err, sizeof(err)));
	g_assert_cmpuint(m.value, ==, 4);
	g_assert_cmpuint(m.mask, ==, 12);
	g_assert_true(pepsal_parse_mark("0x10", &m, err, sizeof(err))); /* mask = value */
	g_assert_cmpuint(m.mask, ==, 0x10);
	g_assert_true(pepsal_parse_mark("010", &m, err, sizeof(err))); /* decimal, not octal */
	g_assert_cmpuint(m.value, ==, 10);
	g_assert_true(pepsal_parse_mark("0xffffffff/0xffffffff", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("0x3/0x2", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("0x2/0", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("0", &m, err, sizeof(err)));
	g_assert_nonnull(strstr(err, "zero"));
	g_assert_false(pepsal_parse_mark("0/0x2", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("0x100000000/0xffffffff", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("4294967296", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("-1/0x2", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("2/x", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("0x", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("2/", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark(" 2", &m, err, sizeof(err)));
	g_assert_false(pepsal_parse_mark("", &m, err, sizeof(err)));

	/* through the option table: the default, both options, the overlap */
	g_assert_cmpint(parse(&c, "--mark", "0x4", "--route-mark", "0x8/0x8", NULL), ==, 0);
	g_assert_cmpuint(c.mark.value, ==, 4);
	g_assert_cmpuint(c.route_mark.mask, ==, 8);
	g_assert_cmpint(parse(&c, "--mark", "0x1/0x1", NULL), ==, -2); /* the default route mark */
	g_assert_cmpint(parse(&c, "--mark", "0x4", "--route-mark", "0x6", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--mark", "0x1/0x1", "--route-mark", "0x4", NULL), ==, 0);
	/* tproxy mode has no queuer mark: only the routing mark counts */
	g_assert_cmpint(parse(&c, "--mode", "tproxy", "--mark", "0x1", NULL), ==, 0);
}

static void test_queues(void)
{
	struct proxy_config c;
	cpu_set_t set;
	uint32_t n = 0;

	g_assert_cmpint(parse(&c, NULL), ==, 0);
	g_assert_cmpuint(c.queues, ==, 1);
	g_assert_true(config_parse_queues("2", &n, err, sizeof(err)));
	g_assert_cmpuint(n, ==, 2);
	g_assert_true(config_parse_queues("64", &n, err, sizeof(err)));
	g_assert_false(config_parse_queues("0", &n, err, sizeof(err)));
	g_assert_false(config_parse_queues("65", &n, err, sizeof(err)));
	g_assert_false(config_parse_queues("-1", &n, err, sizeof(err)));
	g_assert_false(config_parse_queues("2x", &n, err, sizeof(err)));
	g_assert_false(config_parse_queues("", &n, err, sizeof(err)));
	/* auto: the CPUs this process may run on */
	g_assert_cmpint(sched_getaffinity(0, sizeof(set), &set), ==, 0);
	g_assert_true(config_parse_queues("auto", &n, err, sizeof(err)));
	g_assert_cmpuint(n, ==, CPU_COUNT(&set) > 64 ? 64 : CPU_COUNT(&set));
	/* the last queue must exist */
	g_assert_cmpint(parse(&c, "--queue", "65534", "--queues", "2", NULL), ==, 0);
	g_assert_cmpint(parse(&c, "--queue", "65535", "--queues", "2", NULL), ==, -2);
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

/* Issue 22.5: an option the role has no use for is refused, not ignored. */
static void test_role_options(void)
{
	static const char *const gateway_refuses[][3] = {
		{ "--mode", "tproxy" }, { "--mode", "nfqueue" }, { "-a", "198.18.4.2" },
		{ "-p", "5000" }, { "--queue", "3" }, { "--queues", "2" }, { "--mark", "0x4" },
		{ "--no-queuer" }, { "--queuer", "/bin/true" }, { "--accept-first" },
		{ "--hold-time", "1s" }, { "--pair-pool", "4" },
	};
	struct proxy_config c;

	for (size_t i = 0; i < G_N_ELEMENTS(gateway_refuses); i++) {
		const char *const *o = gateway_refuses[i];

		g_assert_cmpint(parse(&c, "--pair-role", "gateway", "--pair-listen", ":5001",
				      "--pair-peer", "198.18.3.1", "--pair-key-file", "/k",
				      o[0], o[1], NULL), ==, -2);
	}
	/* what a gateway does use */
	g_assert_cmpint(parse(&c, "--pair-role", "gateway", "--pair-listen", ":5001",
			      "--pair-peer", "198.18.3.1", "--pair-key-file", "/k", "-c", "10",
			      "--route-mark", "0x2", "--pair-cc", "cubic", "--idle-timeout", "1m",
			      NULL), ==, 0);
	/* the terminal: no gateway's options */
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      "--pair-key-file", "/k", "--pair-peer", "198.18.3.1", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-role", "terminal", "--pair-gateway", "198.18.4.2",
			      "--pair-key-file", "/k", "--pair-pool", "4", "-p", "5002", NULL), ==, 0);
	/* no role: no --pair-* at all, defaults included */
	g_assert_cmpint(parse(&c, "--pair-pool", "16", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-buffer", "16m", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-cc", "cubic", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--pair-rate", "20m", NULL), ==, -2);
}

/* Issue 22.4: -a is checked with the other values (status 2), not when
 * the listener binds. */
static void test_address(void)
{
	struct proxy_config c;

	g_assert_cmpint(parse(&c, "-a", "198.18.0.1", NULL), ==, 0);
	g_assert_cmpstr(c.address, ==, "198.18.0.1");
	g_assert_cmpint(parse(&c, "--address", "fd00::1", NULL), ==, 0);
	g_assert_cmpint(parse(&c, "-a", "foo", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-a", "198.18.0.256", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "-a", "198.18.0.1:5000", NULL), ==, -2);
}

/* Issue 22.6: durations take a fraction ("0.1s", as pepsal(8) writes the
 * range of --hold-time), and errors state the option's real range. */
static void test_fractions(void)
{
	struct proxy_config c;
	uint64_t v = 0;

	g_assert_cmpint(parse(&c, "--hold-time", "0.1s", NULL), ==, 0);
	g_assert_cmpuint(c.hold_ns, ==, 100000000ull);
	g_assert_cmpint(parse(&c, "--hold-time", "0.09s", NULL), ==, -2);
	g_assert_cmpint(parse(&c, "--hold-time", "60.5", NULL), ==, -2);
	g_assert_true(pepsal_parse_duration("1.5m", &v));
	g_assert_cmpuint(v, ==, 90 * 1000000000ull);
	g_assert_true(pepsal_parse_duration("0.000000001s", &v));
	g_assert_cmpuint(v, ==, 1);
	g_assert_false(pepsal_parse_duration("0.0000000001s", &v)); /* below 1 ns */
	g_assert_false(pepsal_parse_duration("1.", &v));
	g_assert_false(pepsal_parse_duration(".5s", &v));
	g_assert_false(pepsal_parse_duration("1.5.5s", &v));
	g_assert_false(pepsal_parse_duration("99999999999999999999h", &v));
	g_assert_true(pepsal_parse_size("1.5k", &v));
	g_assert_cmpuint(v, ==, 1536);
	g_assert_false(pepsal_parse_size("1.1k", &v)); /* 1126.4 bytes */
	g_assert_true(pepsal_parse_size("0.5", &v) == false);
}

/* The message of a bad duration names its range in the option's units. */
static void test_range_messages(void)
{
	struct proxy_config c;
	char buf[4096] = "";
	FILE *old = stderr, *f = fmemopen(buf, sizeof(buf) - 1, "w");

	g_assert_nonnull(f);
	stderr = f;
	g_assert_cmpint(parse(&c, "--hold-time", "90s", "--keepalive-idle", "0",
			      "-g", "0", "--pipe-size", "1", NULL), ==, -2);
	stderr = old;
	fclose(f);
	g_assert_nonnull(strstr(buf, "--hold-time: expected a number of seconds, or a number "
				"with ms, s, m or h (between 100ms and 1m)"));
	g_assert_nonnull(strstr(buf, "--keepalive-idle: expected a number of seconds, or a "
				"number with ms, s, m or h (between 1s and 32767s)"));
	g_assert_nonnull(strstr(buf, "--gc-interval: expected a number of seconds, or a number "
				"with ms, s, m or h (greater than zero)"));
	g_assert_nonnull(strstr(buf, "(between 4k and 1g)"));
	/* every bad value reported, one line each, then one hint */
	g_assert_nonnull(strstr(buf, "--pipe-size"));
	g_assert_nonnull(strstr(buf, "Try 'pepsal --help'"));
	g_assert_null(strstr(strstr(buf, "Try 'pepsal --help'") + 1, "Try 'pepsal --help'"));
}

/* Issue 23.7: the defaults in config_defaults and the "(default X)" of the
 * help agree: giving X explicitly changes nothing, for every option whose
 * help names a default. */
/* The same configuration: the strings by content, the rest byte for byte. */
static bool same_config(const struct proxy_config *x, const struct proxy_config *y)
{
	static struct proxy_config a, b;
	const char **sa[] = { &a.shm_name, &a.address, &a.conn_log, &a.queuer_path,
			      &a.pid_file, &a.pair.key_file };
	const char **sb[] = { &b.shm_name, &b.address, &b.conn_log, &b.queuer_path,
			      &b.pid_file, &b.pair.key_file };

	a = *x;
	b = *y;
	for (size_t i = 0; i < G_N_ELEMENTS(sa); i++) {
		if (!*sa[i] != !*sb[i] || (*sa[i] && strcmp(*sa[i], *sb[i]) != 0))
			return false;
		*sa[i] = *sb[i] = NULL;
	}
	memset(a.shm_name_buf, 0, sizeof(a.shm_name_buf));
	memset(b.shm_name_buf, 0, sizeof(b.shm_name_buf));
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static int parse_args(void *cfg, const char *const *args)
{
	char *argv[40] = { (char *)"pepsal" };
	int argc = 1;

	while (*args && argc < 39)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return config_parse(cfg, argc, argv);
}

static bool same_void(const void *a, const void *b)
{
	return same_config(a, b);
}

/* the pair's options in a terminal's configuration (they need a role);
 * the rest with -d, the pid file's default applies then */
static const char *const *base_args(const char *name)
{
	static const char *const terminal[] = { "--pair-role", "terminal", "--pair-gateway",
						"198.18.4.2", "--pair-key-file", "/k", NULL };
	static const char *const daemon[] = { "-d", NULL };

	return strncmp(name, "--pair-", 7) == 0 ? terminal : daemon;
}

static const struct pepsal_opt *table_of(void *cfg)
{
	return config_options(cfg);
}

static void test_help_defaults(void)
{
	static struct proxy_config ref, cfg;
	const struct help_defaults h = { parse_args, same_void, base_args, table_of, &ref, &cfg };

	g_assert_cmpuint(help_defaults_check(&h), >=, 25);
	/* --capacity said "at least 4224" (the default's floor) and took 16 */
	g_assert_cmpuint(help_minimums_check(&h), >=, 1);
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
	g_test_add_func("/config/queues", test_queues);
	g_test_add_func("/config/port-range", test_port_range);
	g_test_add_func("/config/rate", test_rate);
	g_test_add_func("/config/cc", test_cc);
	g_test_add_func("/config/cc-mode", test_cc_mode);
	g_test_add_func("/config/pair-endpoints", test_pair_endpoints);
	g_test_add_func("/config/pair-peers", test_pair_peers);
	g_test_add_func("/config/pair-roles", test_pair_roles);
	g_test_add_func("/config/role-options", test_role_options);
	g_test_add_func("/config/address", test_address);
	g_test_add_func("/config/fractions", test_fractions);
	g_test_add_func("/config/range-messages", test_range_messages);
	g_test_add_func("/config/help-defaults", test_help_defaults);
	return g_test_run();
}
