// SPDX-License-Identifier: GPL-2.0-or-later
/* The proxy's life in the connection table: create, replace if stale, own. */
#include <errno.h>
#include <unistd.h>

#include "pepsal_log.h"
#include "table_owner.h"

#define FRESH_NS 3000000000ull      /* a heartbeat younger than this is alive */

int table_owner_init(const struct proxy_config *c, struct pepsal_table **out)
{
	char err[256];
	struct pepsal_table *t;
	int rc;

	rc = pepsal_table_create(c->shm_name, c->capacity, (mode_t)c->shm_mode, &t, err, sizeof(err));
	if (rc == -EEXIST) {
		struct pepsal_table_info info;

		rc = pepsal_table_attach(c->shm_name, false, &t, err, sizeof(err));
		if (rc) {
			pr_err("%s; not touching it (remove it yourself if it is stale)", err);
			return rc;
		}
		/* the library's rule: held if its pid lives and beat recently */
		pepsal_table_get_info(t, &info);
		if (pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns(),
					    FRESH_NS) == -EBUSY) {
			pr_err("another pepsal (pid %d) is using the table %s",
			       (int)info.heartbeat[PEPSAL_ROLE_PROXY].pid, c->shm_name);
			pepsal_table_detach(t);
			return -EBUSY;
		}
		pepsal_table_release_role(t, PEPSAL_ROLE_PROXY, getpid());
		pr_info("replacing the stale table %s", c->shm_name);
		pepsal_table_detach(t);
		pepsal_table_unlink(c->shm_name);
		rc = pepsal_table_create(c->shm_name, c->capacity, (mode_t)c->shm_mode, &t, err, sizeof(err));
	}
	if (rc) {
		pr_err("%s", err);
		return rc;
	}
	pepsal_table_set_pending_lifetime(t, c->pending_ns);
	*out = t;
	return 0;
}

int table_owner_attach(const struct proxy_config *c, struct pepsal_table **out)
{
	char err[256];
	int rc = pepsal_table_attach(c->shm_name, false, out, err, sizeof(err));

	if (rc)
		pr_err("--handover-fd: %s", err);
	return rc;
}

int table_owner_claim(struct pepsal_table *t)
{
	int rc = pepsal_table_claim_role(t, PEPSAL_ROLE_PROXY, getpid(), pepsal_now_ns(),
					 FRESH_NS);

	if (rc)
		pr_err("another pepsal holds the table %s", pepsal_table_name(t));
	return rc;
}

void table_owner_fini(struct pepsal_table *t, bool unmap)
{
	if (!t)
		return;
	pepsal_table_release_role(t, PEPSAL_ROLE_PROXY, getpid());
	pepsal_table_unlink(pepsal_table_name(t));
	if (unmap)
		pepsal_table_detach(t);
}
