# SPDX-License-Identifier: GPL-2.0-or-later
# pepsal-shm: the inspector of the connection table (inspect.h has the map
# of its files). Included by shm/module.mk, after LIBPEPSAL.
PROGRAMS += $(BUILD)/pepsal-shm
PEPSAL_SHM_SRCS := $(addprefix shm/inspect/,main.c stats.c list.c watch.c rows.c metrics.c \
	serve.c http.c counters.c tcpinfo.c util.c)
$(BUILD)/pepsal-shm: $(PEPSAL_SHM_SRCS:%.c=$(BUILD)/%.o) $(LIBPEPSAL)
