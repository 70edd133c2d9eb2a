# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-queuer: NFQUEUE SYN capture into the connection table; its parser
# unit test, fuzzer (make fuzz) and SYN benchmark (make bench-queuer).
# libpepsal.a by path: shm/module.mk, which names it, is read after this file
QUEUER_OBJS := $(addprefix $(BUILD)/queuer/,main.o options.o decide.o hold.o icmp.o nfq.o parse.o table.o)

PROGRAMS += $(BUILD)/pepsal-queuer
$(BUILD)/pepsal-queuer: $(QUEUER_OBJS) $(BUILD)/libpepsal.a

UNIT_TESTS += $(BUILD)/tests/test-parser
$(BUILD)/tests/test-parser: $(BUILD)/tests/unit/test-parser.o $(BUILD)/queuer/parse.o $(BUILD)/libpepsal.a

# make fuzz: libFuzzer on the packet parser for FUZZ_SECONDS (default 60),
# with AddressSanitizer and UBSan; skipped with a message without clang.
# New inputs go to $(BUILD)/fuzz/corpus; tests/fuzz/corpus holds the seeds.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_PARSER := $(BUILD)/fuzz/fuzz-parser
$(FUZZ_PARSER): tests/fuzz/fuzz-parser.c queuer/parse.c queuer/parse.h shm/endpoint.c
	$(call quiet,FUZZCC,$@)mkdir -p $(dir $@) && $(FUZZ_CC) -g -O1 -std=gnu11 \
		-D_GNU_SOURCE -Iinclude -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $<
fuzz:
	$(Q)if ! command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		echo "fuzz: $(FUZZ_CC) not found, skipping (install clang)"; exit 0; fi; \
	$(MAKE) --no-print-directory $(FUZZ_PARSER) && mkdir -p $(BUILD)/fuzz/corpus && \
	$(FUZZ_PARSER) -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 \
		$(BUILD)/fuzz/corpus tests/fuzz/corpus
.PHONY: fuzz

# make bench-queuer: SYNs per second the queuer records and the latency it
# adds to a SYN (tests/bench/syn-bench.sh, as root; figures in
# doc/benchmarks.md, section Queuer).
bench-queuer: $(BUILD)/pepsal-queuer $(BUILD)/tests/synflood $(BUILD)/tests/syn-heartbeat
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/syn-bench.sh
.PHONY: bench-queuer

# make bench-hostile: scans and floods against the real pepsal
# (tests/bench/hostile-bench.sh, as root; doc/benchmarks.md, section Scans
# and floods).
bench-hostile: $(BUILD)/tests/synflood
	$(Q)$(MAKE) --no-print-directory programs
	$(Q)BUILD=$(abspath $(BUILD)) bash tests/bench/hostile-bench.sh
.PHONY: bench-hostile

# the command line: value parsers, marks, the help's defaults against the code's
UNIT_TESTS += $(BUILD)/tests/test-queuer-opts
$(BUILD)/tests/test-queuer-opts: $(BUILD)/tests/unit/test-queuer-opts.o $(BUILD)/libpepsal.a
