# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-queuer: NFQUEUE SYN capture into the connection table; its parser
# unit test, fuzzer (make fuzz) and SYN benchmark (make bench-queuer).
# libpepsal.a by path: shm/module.mk, which names it, is read after this file
QUEUER_OBJS := $(addprefix $(BUILD)/queuer/,main.o decide.o nfq.o parse.o)

PROGRAMS += $(BUILD)/pepsal-queuer
$(BUILD)/pepsal-queuer: $(QUEUER_OBJS) $(BUILD)/libpepsal.a

UNIT_TESTS += $(BUILD)/tests/test-parser
$(BUILD)/tests/test-parser: $(BUILD)/tests/unit/test-parser.o $(BUILD)/queuer/parse.o $(BUILD)/libpepsal.a

# Test helper: beats the proxy role in a table (namespace test, benchmark).
PROGRAMS += $(BUILD)/tests/syn-heartbeat
$(BUILD)/tests/syn-heartbeat: $(BUILD)/tests/bench/syn-heartbeat.o $(BUILD)/libpepsal.a
