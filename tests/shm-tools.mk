# SPDX-License-Identifier: GPL-2.0-or-later
# Test tools on the connection table (tests/tools/): pepsal-test-room
# publishes the proxy's room as the proxy would, for the queuer's tests.
TEST_TOOLS += $(BUILD)/tests/pepsal-test-room
$(BUILD)/tests/pepsal-test-room: $(BUILD)/tests/tools/shm-room.o $(BUILD)/libpepsal.a
