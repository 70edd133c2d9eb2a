# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal, the proxy: listener, transparent dial, relay thread pairs, timers,
# the queuer child. doc/hacking.md has the map of its files.
# libpepsal.a by path: shm/module.mk, which names it, is read after this file
PROXY_SRCS := proxy/main.c proxy/config.c proxy/stats.c proxy/limits.c \
              proxy/table_owner.c proxy/process.c proxy/listener.c proxy/dial.c \
              proxy/relay.c proxy/pump.c proxy/pipes.c proxy/conn.c proxy/workers.c \
              proxy/sockopt.c proxy/timers.c proxy/queuer_child.c proxy/adapt.c \
              proxy/predial.c proxy/relay_pause.c proxy/handover.c proxy/upgrade.c \
              proxy/config_pair.c proxy/pair_hdr.c proxy/pair_replay.c proxy/pair_pool.c \
              proxy/pair_gateway.c proxy/pair_terminal.c proxy/entry.c proxy/stop.c \
              proxy/repair.c proxy/migrate.c proxy/migrate_in.c proxy/migrate_wire.c
PROXY_OBJS := $(PROXY_SRCS:%.c=$(BUILD)/%.o)

PROGRAMS += $(BUILD)/pepsal
$(BUILD)/pepsal: $(PROXY_OBJS) $(BUILD)/libpepsal.a
