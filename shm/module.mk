# SPDX-License-Identifier: GPL-2.0-or-later
# libpepsal: the shared-memory connection table and the helpers every
# program shares (endpoints, logging, option tables, marks, the counters'
# catalogue, the daemons' process plumbing); pepsal-shm in shm/inspect/.
LIBPEPSAL_SRCS := shm/segment.c shm/lock.c shm/slots.c shm/entries.c shm/check.c \
	shm/roles.c shm/seg-counters.c shm/clock.c shm/endpoint.c shm/log.c shm/opts.c \
	shm/mark.c shm/counters.c shm/catalog.c shm/timeline.c shm/sched.c shm/daemon.c
LIBPEPSAL := $(BUILD)/libpepsal.a

$(LIBPEPSAL): $(LIBPEPSAL_SRCS:%.c=$(BUILD)/%.o)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

# pepsal-shm, the inspector, in a folder of its own
include shm/inspect/module.mk

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
# entries of every kind for the tests of list, watch and metrics
TEST_TOOLS += $(BUILD)/tests/shm-crowd
$(BUILD)/tests/shm-crowd: $(BUILD)/tests/unit/shm-crowd.o $(LIBPEPSAL)
