# SPDX-License-Identifier: GPL-2.0-or-later
# libpepsal: the shared-memory connection table and the helpers every
# program shares (endpoints, logging, option tables); pepsal-shm.
LIBPEPSAL_SRCS := shm/table.c shm/index.c shm/endpoint.c shm/log.c shm/opts.c
LIBPEPSAL := $(BUILD)/libpepsal.a

$(LIBPEPSAL): $(LIBPEPSAL_SRCS:%.c=$(BUILD)/%.o)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

PROGRAMS += $(BUILD)/pepsal-shm
$(BUILD)/pepsal-shm: $(BUILD)/shm/pepsal-shm.o $(LIBPEPSAL)

UNIT_TESTS += $(BUILD)/tests/test-table
$(BUILD)/tests/test-table: $(BUILD)/tests/unit/test-table.o $(LIBPEPSAL)
TEST_TOOLS += $(BUILD)/tests/shm-fixture
$(BUILD)/tests/shm-fixture: $(BUILD)/tests/unit/shm-fixture.o $(LIBPEPSAL)
