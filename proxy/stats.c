// SPDX-License-Identifier: GPL-2.0-or-later
/* The proxy's named counters, on libpepsal's counters helper. */
#include "pepsal_counters.h"
#include "pepsal_log.h"
#include "stats.h"

static const char *const counter_names[PC_COUNT] = {
	[PC_ACCEPTED] = "proxy.accepted",
	[PC_LOOKUP_MISS] = "proxy.lookup_miss",
	[PC_DIAL_FAILED] = "proxy.dial_failed",
	[PC_OVER_LIMIT] = "proxy.over_limit",
	[PC_ACTIVE] = "proxy.active",
	[PC_CLOSED] = "proxy.closed",
	[PC_RESETS] = "proxy.resets",
	[PC_IDLE_TIMEOUTS] = "proxy.idle_timeouts",
	[PC_ACCEPT_ERRORS] = "proxy.accept_errors",
	[PC_QUEUER_RESTARTS] = "proxy.queuer_restarts",
	[PC_MISS_SERVED] = "proxy.miss_served",
	[PC_SMALL_PIPES] = "proxy.small_pipes",
	[PC_CC_ADAPTED] = "proxy.cc_adapted",
	[PC_CC_RESTORED] = "proxy.cc_restored",
	[PC_CC_STARTED_LOSSY] = "proxy.cc_started_lossy",
	[PC_PREDIALED] = "proxy.predialed",
	[PC_PREDIAL_FAILED] = "proxy.predial_failed",
	[PC_PREDIAL_UNCLAIMED] = "proxy.predial_unclaimed",
	[PC_UPGRADES] = "proxy.upgrades",
	[PC_UPGRADES_FAILED] = "proxy.upgrades_failed",
	[PC_HA_SWITCHOVERS] = "proxy.ha_switchovers",
	[PC_HA_SWITCHOVERS_FAILED] = "proxy.ha_switchovers_failed",
	[PC_HA_MOVED_OUT] = "proxy.ha_moved_out",
	[PC_HA_MOVED_IN] = "proxy.ha_moved_in",
	[PC_HA_UNMOVABLE] = "proxy.ha_unmovable",
	[PC_PAIR_USED] = "proxy.pair_used",
	[PC_PAIR_POOL] = "proxy.pair_pool",
	[PC_PAIR_POOL_OPENED] = "proxy.pair_pool_opened",
	[PC_PAIR_POOL_STALE] = "proxy.pair_pool_stale",
	[PC_PAIR_ON_DEMAND] = "proxy.pair_on_demand",
	[PC_PAIR_CONNECT_FAILED] = "proxy.pair_connect_failed",
	[PC_PAIR_FALLBACK_DIRECT] = "proxy.pair_fallback_direct",
	[PC_PAIR_PROBE_REFUSED] = "proxy.pair_probe_refused",
	[PC_PAIR_ACCEPTED] = "proxy.pair_accepted",
	[PC_PAIR_REFUSED_PEER] = "proxy.pair_refused_peer",
	[PC_PAIR_REFUSED_AUTH] = "proxy.pair_refused_auth",
	[PC_PAIR_REFUSED_HEADER] = "proxy.pair_refused_header",
	[PC_PAIR_REFUSED_TIME] = "proxy.pair_refused_time",
	[PC_PAIR_REPLAY] = "proxy.pair_replay",
};

static struct pepsal_counters counters; /* table NULL until stats_init */

void stats_init(struct pepsal_table *t)
{
	if (pepsal_counters_init(&counters, t, counter_names, PC_COUNT))
		pr_warn("table %s has no room for some proxy counters: they will not be shown",
			pepsal_table_name(t));
}

void stats_fini(void)
{
	pepsal_counters_fini(&counters);
}

void stats_count(enum proxy_counter c, uint64_t n)
{
	pepsal_counters_add(&counters, c, n);
}

void stats_set(enum proxy_counter c, uint64_t v)
{
	pepsal_counters_set(&counters, c, v);
}
