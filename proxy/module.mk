# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal, the proxy: listener, transparent dial, relay thread pairs, timers,
# the queuer child.
# libpepsal.a by path: shm/module.mk, which names it, is read after this file
PROXY_SRCS := proxy/main.c proxy/config.c proxy/listener.c proxy/dial.c proxy/relay.c \
              proxy/conn.c proxy/workers.c proxy/sockopt.c proxy/timers.c proxy/queuer_child.c

PROGRAMS += $(BUILD)/pepsal
$(BUILD)/pepsal: $(PROXY_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/libpepsal.a

# a test helper (tests/tools/): records a SYN in a table as the queuer would
PROGRAMS += $(BUILD)/tests/pepsal-test-record
$(BUILD)/tests/pepsal-test-record: $(BUILD)/tests/tools/shm-record.o $(BUILD)/libpepsal.a
