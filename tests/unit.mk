# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the proxy's modules (GLib GTest); a test either includes the
# .c it tests (for its static functions) or links its objects.
UNIT_TESTS += $(BUILD)/tests/test-config
$(BUILD)/tests/test-config: $(BUILD)/tests/unit/test-config.o $(BUILD)/proxy/config_pair.o $(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-limits
$(BUILD)/tests/test-limits: $(BUILD)/tests/unit/test-limits.o $(BUILD)/proxy/limits.o $(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-pipes
$(BUILD)/tests/test-pipes: $(BUILD)/tests/unit/test-pipes.o
UNIT_TESTS += $(BUILD)/tests/test-dial
$(BUILD)/tests/test-dial: $(BUILD)/tests/unit/test-dial.o $(BUILD)/proxy/sockopt.o $(BUILD)/proxy/stop.o \
	$(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-stop
$(BUILD)/tests/test-stop: $(BUILD)/tests/unit/test-stop.o $(BUILD)/proxy/stop.o $(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-relay
$(BUILD)/tests/test-relay: $(BUILD)/tests/unit/test-relay.o \
	$(addprefix $(BUILD)/proxy/,relay.o relay_pause.o pump.o pipes.o conn.o workers.o dial.o sockopt.o stats.o adapt.o stop.o) \
	$(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-adapt
$(BUILD)/tests/test-adapt: $(BUILD)/tests/unit/test-adapt.o $(BUILD)/proxy/adapt.o $(BUILD)/proxy/stats.o \
	$(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-conn
$(BUILD)/tests/test-conn: $(BUILD)/tests/unit/test-conn.o $(BUILD)/proxy/sockopt.o $(BUILD)/libpepsal.a
UNIT_TESTS += $(BUILD)/tests/test-pair
$(BUILD)/tests/test-pair: $(BUILD)/tests/unit/test-pair.o $(BUILD)/proxy/pair_hdr.o \
	$(BUILD)/proxy/pair_replay.o $(BUILD)/libpepsal.a
