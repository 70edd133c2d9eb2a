# SPDX-License-Identifier: GPL-2.0-or-later
# The comparison benchmark against peers (tests/bench/compare.sh, as root):
#   make bench               direct routing, pepsal (nfqueue, tproxy), HAProxy and
#                            socat, client ─ pep ─ server over veth, no delay;
#                            writes doc/bench/results.csv, the PNG plots and the
#                            section "Comparison with peers (no delay)" of
#                            doc/benchmarks.md
#   make bench BENCH_QUICK=1 one short round, a smoke test of the harness
#   make bench BENCH_IDLE=10000
#                            memory per connection with 10,000 idle connections,
#                            and the scale phase at 1,000, 3,000 and 10,000
#                            (idle and echoing): section "Scale" and its plots
# Other variables: BENCH_ROUNDS, BENCH_DESIGNS, BENCH_CONC, BENCH_CONC_WIDE,
# BENCH_SCALE, BENCH_SCALE_DESIGNS, BENCH_OUT (see compare.sh).
CONNLOAD := $(BUILD)/tests/connload

TEST_TOOLS += $(CONNLOAD)
# only the option table, the clock and the set-up timeline of libpepsal
$(CONNLOAD): $(BUILD)/tests/bench/connload.o $(BUILD)/shm/opts.o $(BUILD)/shm/timeline.o \
	$(BUILD)/shm/clock.o

bench: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/compare.sh

.PHONY: bench

# make bench-stop: SIGTERM to exit with connections, held SYNs' dials and
# the relay's dials in progress (tests/bench/stop-time.sh; doc/benchmarks.md,
# section Stopping)
bench-stop: deps
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/stop-time.sh
.PHONY: bench-stop
