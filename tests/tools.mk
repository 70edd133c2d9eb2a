# SPDX-License-Identifier: GPL-2.0-or-later
# Tools of the namespace tests and benchmarks (built by "make", not run by
# the test runner).
# libpepsal.a by path: shm/module.mk, which names it, is read after this file

# records a SYN in a table as the queuer would (tests/tools/shm-record.c)
TEST_TOOLS += $(BUILD)/tests/pepsal-test-record
$(BUILD)/tests/pepsal-test-record: $(BUILD)/tests/tools/shm-record.o $(BUILD)/libpepsal.a

# beats the proxy role in a table (namespace test, benchmark)
TEST_TOOLS += $(BUILD)/tests/syn-heartbeat
$(BUILD)/tests/syn-heartbeat: $(BUILD)/tests/bench/syn-heartbeat.o $(BUILD)/libpepsal.a

# a SYN generator (scans, floods): make bench-queuer, the flood tests
TEST_TOOLS += $(BUILD)/tests/synflood
$(BUILD)/tests/synflood: $(BUILD)/tests/bench/synflood.o $(BUILD)/libpepsal.a

# takes the table's lock and stops itself holding it (tests/tools/shm-lockhold.c)
TEST_TOOLS += $(BUILD)/tests/pepsal-test-lockhold
$(BUILD)/tests/pepsal-test-lockhold: $(BUILD)/tests/tools/shm-lockhold.o $(BUILD)/libpepsal.a

# publishes the proxy's room as the proxy would, for the queuer's tests
TEST_TOOLS += $(BUILD)/tests/pepsal-test-room
$(BUILD)/tests/pepsal-test-room: $(BUILD)/tests/tools/shm-room.o $(BUILD)/libpepsal.a

# one steady echo stream, its longest gap (the upgrade's stall, doc/benchmarks.md)
TEST_TOOLS += $(BUILD)/tests/gap-probe
$(BUILD)/tests/gap-probe: $(BUILD)/tests/tools/gap-probe.o $(BUILD)/libpepsal.a

# the steady streams of the two-box tests (tests/ns/ha-*.sh), in C: a
# thousand of them without the tool's own lateness in their gaps
TEST_TOOLS += $(BUILD)/tests/ha-streams
$(BUILD)/tests/ha-streams: $(BUILD)/tests/tools/ha-streams.o $(BUILD)/libpepsal.a
