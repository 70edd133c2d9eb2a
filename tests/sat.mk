# SPDX-License-Identifier: GPL-2.0-or-later
# The satellite link emulator (tests/linkem/), the demo and the GEO benchmark.
#   make demo        client ─ term ─[600 ms, 20 Mbit/s]─ pep ─ server: no PEP, pepsal,
#                    the pepsal pair (DEMO_RUNS=1: one run of each, about a minute)
#   make demo-web    the same link: a 40-object TLS page in headless Chromium over
#                    HTTP/1.1 and HTTP/2, and 5 MB uploads, in the three columns
#   make bench-sat   the scenario matrix into doc/benchmarks.md (long; see tests/sat/bench.sh)
LINKEM := $(BUILD)/pepsal-linkem
LINKEM_SRCS := tests/linkem/main.c tests/linkem/nfq.c tests/linkem/loss.c tests/linkem/fifo.c

PROGRAMS += $(LINKEM)
# only the option table of libpepsal: the emulator needs nothing else from it
$(LINKEM): $(LINKEM_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/shm/opts.o

demo: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/sat/demo.sh

bench-sat: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/sat/bench.sh $(BENCH_ARGS)

demo-web: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/sat/demo-web.sh

.PHONY: demo demo-web bench-sat

