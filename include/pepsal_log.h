/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Logging to stderr (foreground) or syslog (daemon), shared by all programs. */
#ifndef PEPSAL_LOG_H
#define PEPSAL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

void pepsal_log_init(const char *ident, bool use_syslog, int facility, bool verbose);
bool pepsal_log_verbose(void);
void pepsal_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* At most BURST messages per INTERVAL_NS; the rest are counted and summarised
 * in the next message that passes. One per call site. */
struct pepsal_ratelimit {
	uint64_t interval_ns;
	unsigned int burst;
	uint64_t window_start;
	unsigned int printed;
	unsigned long suppressed;
};
#define PEPSAL_RATELIMIT_INIT(interval_s, burst_n) \
	{ (uint64_t)(interval_s) * 1000000000ull, (burst_n), 0, 0, 0 }
bool pepsal_ratelimit_ok(struct pepsal_ratelimit *rl);

#define pr_err(...)   pepsal_log(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  pepsal_log(LOG_WARNING, __VA_ARGS__)
#define pr_info(...)  pepsal_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) do { if (pepsal_log_verbose()) pepsal_log(LOG_DEBUG, __VA_ARGS__); } while (0)
/* Rate-limited variants for per-packet and per-connection trouble. */
#define pr_ratelimited(prio, ...) do { \
	static struct pepsal_ratelimit rl_ = PEPSAL_RATELIMIT_INIT(5, 10); \
	if (pepsal_ratelimit_ok(&rl_)) pepsal_log(prio, __VA_ARGS__); } while (0)

#endif
