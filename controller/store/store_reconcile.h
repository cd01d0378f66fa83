/*
 * store_reconcile.h — what a daemon reads at start-up to repair state a
 * crashed daemon left behind: agents the inventory shows online that have
 * not been onboarded since they came online (their MQTTConnectRecord may
 * have been taken by the crashed daemon and never acted on).
 *
 * Blocking, on a connection the caller owns.
 */
#ifndef USPC_STORE_RECONCILE_H
#define USPC_STORE_RECONCILE_H

#include <stddef.h>
#include <libpq-fe.h>

#include "store_conn.h"

struct store_agent_ref {
	char *eid;
	char *reply_topic;
	int mqtt_version; /* 5, 4 (3.1.1) or 0 when unknown */
};

/* Up to limit agents online in the inventory, with a reply topic, not
 * onboarded since they last came online; oldest first. 0 with *out (free
 * with store_agent_refs_free; NULL when none) and *n, or negative. */
int store_agents_to_probe(PGconn *pg, size_t limit, struct store_agent_ref **out, size_t *n,
			  struct uspc_err *err);
void store_agent_refs_free(struct store_agent_ref *r, size_t n);

#endif
