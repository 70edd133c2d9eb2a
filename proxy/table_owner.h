/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The proxy owns the connection table: it creates it, replaces a stale
 * one, holds the proxy role in it and removes it at exit. */
#ifndef PEPSAL_PROXY_TABLE_OWNER_H
#define PEPSAL_PROXY_TABLE_OWNER_H

#include <stdbool.h>

#include "config.h"
#include "pepsal_table.h"

/* Create the table CFG names: replace a valid one no live proxy holds;
 * refuse anything else. 0 or -errno, reported. */
int table_owner_init(const struct proxy_config *cfg, struct pepsal_table **out);
/* An upgrade: attach to the table the old process serves (it stays). */
int table_owner_attach(const struct proxy_config *cfg, struct pepsal_table **out);
/* Hold the proxy role for this process (after -d forked). 0 or -EBUSY, reported. */
int table_owner_claim(struct pepsal_table *t);
/* Give up the role and remove the table; unmap it only if UNMAP (threads
 * that may still touch it keep it mapped until the process exits). */
void table_owner_fini(struct pepsal_table *t, bool unmap);

#endif
