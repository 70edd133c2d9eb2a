// SPDX-License-Identifier: GPL-2.0-or-later
/* Logging: stderr with a timestamp in the foreground, syslog as a daemon. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "pepsal_log.h"
#include "pepsal_clock.h"

static struct {
	const char *ident;  /* program name in every line */
	bool use_syslog;
	bool verbose;       /* LOG_DEBUG messages wanted */
} log_state = { "pepsal", false, false };

static pthread_mutex_t ratelimit_lock = PTHREAD_MUTEX_INITIALIZER;

void pepsal_log_init(const char *ident, bool use_syslog, int facility, bool verbose)
{
	log_state.ident = ident;
	log_state.use_syslog = use_syslog;
	log_state.verbose = verbose;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

bool pepsal_log_verbose(void)
{
	return log_state.verbose;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_DEBUG: return "debug";
	default: return "info";
	}
}

void pepsal_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (log_state.use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		char line[1024];
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		vsnprintf(line, sizeof(line), fmt, ap);
		/* one fprintf per line so threads do not interleave */
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s: %s\n", tm.tm_hour, tm.tm_min,
			tm.tm_sec, ts.tv_nsec / 1000000, log_state.ident, prio_name(prio), line);
	}
	va_end(ap);
}

bool pepsal_ratelimit_ok(struct pepsal_ratelimit *rl)
{
	uint64_t now = pepsal_now_ns();
	unsigned long suppressed = 0;
	bool ok;

	pthread_mutex_lock(&ratelimit_lock);
	if (now - rl->window_start >= rl->interval_ns) {
		suppressed = rl->suppressed;
		rl->window_start = now;
		rl->printed = 0;
		rl->suppressed = 0;
	}
	ok = rl->printed < rl->burst;
	if (ok)
		rl->printed++;
	else
		rl->suppressed++;
	pthread_mutex_unlock(&ratelimit_lock);
	if (suppressed)
		pepsal_log(LOG_WARNING, "%lu similar messages suppressed", suppressed);
	return ok;
}
