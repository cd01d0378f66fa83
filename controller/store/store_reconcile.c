/*
 * store_reconcile.c — start-up reads of a daemon (see store_reconcile.h).
 * Owns nothing beyond the arrays it returns.
 */
#include "store_reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_conn.h"
#include "store_stmt.h"

void store_agent_refs_free(struct store_agent_ref *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].eid);
		free(r[i].reply_topic);
	}
	free(r);
}

int store_agents_to_probe(PGconn *pg, size_t limit, struct store_agent_ref **out, size_t *n,
			  struct uspc_err *err)
{
	char lim[24];
	const char *p[1] = { lim };
	PGresult *r = NULL;
	*out = NULL;
	*n = 0;
	snprintf(lim, sizeof(lim), "%zu", limit);
	int rc = store_exec(pg, store_stmt_reconcile_to_probe, 1, p, &r, err);
	if (rc < 0)
		return rc;
	size_t rows = (size_t)PQntuples(r);
	struct store_agent_ref *v = rows ? calloc(rows, sizeof(*v)) : NULL;
	if (rows && !v) {
		PQclear(r);
		return uspc_err_set(err, STORE_E_NOMEM, "out of memory reading agents to probe");
	}
	for (size_t i = 0; i < rows; i++) {
		v[i].eid = strdup(PQgetvalue(r, (int)i, 0));
		v[i].reply_topic = strdup(PQgetvalue(r, (int)i, 1));
		v[i].mqtt_version = atoi(PQgetvalue(r, (int)i, 2));
		if (!v[i].eid || !v[i].reply_topic) {
			store_agent_refs_free(v, i + 1);
			PQclear(r);
			return uspc_err_set(err, STORE_E_NOMEM,
					    "out of memory reading agents to probe");
		}
	}
	PQclear(r);
	*out = v;
	*n = rows;
	return 0;
}
