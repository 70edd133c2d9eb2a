# SPDX-License-Identifier: GPL-2.0-or-later
# libpepsal: the shared-memory connection table and the helpers every
# program shares (endpoints, logging, option tables); pepsal-shm.
LIBPEPSAL_SRCS := shm/table.c shm/index.c shm/endpoint.c shm/log.c shm/opts.c shm/counters.c
LIBPEPSAL := $(BUILD)/libpepsal.a

$(LIBPEPSAL): $(LIBPEPSAL_SRCS:%.c=$(BUILD)/%.o)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

PROGRAMS += $(BUILD)/pepsal-shm
$(BUILD)/pepsal-shm: $(BUILD)/shm/pepsal-shm.o $(BUILD)/shm/tcpinfo.o $(LIBPEPSAL)

UNIT_TESTS += $(BUILD)/tests/test-table
$(BUILD)/tests/test-table: $(BUILD)/tests/unit/test-table.o $(LIBPEPSAL)
TEST_TOOLS += $(BUILD)/tests/shm-fixture
$(BUILD)/tests/shm-fixture: $(BUILD)/tests/unit/shm-fixture.o $(LIBPEPSAL)

# make bench-shm: lookups/s and insert/claim/remove cycles/s at 50 and 90 % load
TEST_TOOLS += $(BUILD)/tests/bench-shm
$(BUILD)/tests/bench-shm: $(BUILD)/tests/unit/bench-shm.o $(LIBPEPSAL)
bench-shm: $(BUILD)/tests/bench-shm
	$(Q)taskset -c 0 $(BUILD)/tests/bench-shm 2>/dev/null || $(BUILD)/tests/bench-shm
.PHONY: bench-shm
