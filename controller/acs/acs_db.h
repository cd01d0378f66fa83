/*
 * acs_db.h — uspc-acs's statements, each on a connection the caller
 * borrowed from the pool (store_pool): the Inform transaction, a device's
 * task claims, the session lease, parameter types, per-device
 * credentials, TransferComplete and connection-request bookkeeping.
 * Batched writes (task results, snapshot) go through the store writer
 * instead (store_writer.h).
 *
 * Every function returns 0 or a negative STORE_E_* code with err set.
 */
#ifndef USPC_ACS_DB_H
#define USPC_ACS_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "usp_err.h"

struct acs_inform_in {
	const char *eid, *node, *session_id;
	int lease_s;
	const char *info_json;   /* see uspc_cwmp_inform in migration 12 */
	const char *events_json; /* [{"code":..,"command_key":..}] */
	const char *events_hash;
	unsigned retry_count;
	const char *msg_id; /* unique per Inform: the notifications' msg_id prefix */
};

struct acs_inform_out {
	int leased; /* 0: another node holds this device's session */
	char holder[128];
	int duplicate;  /* the events were stored by an earlier attempt */
	int64_t queued; /* tasks waiting for the device */
	int cwmp;       /* the row is a CWMP device's (not a dual-stack USP agent's) */
};

int acs_db_inform(PGconn *c, const struct acs_inform_in *in, struct acs_inform_out *out,
		  struct uspc_err *err);

/* A task claimed for the device in session. */
struct acs_db_task {
	int64_t id;
	char *op;
	char *request_json;
	int attempts;
};
void acs_db_tasks_free(struct acs_db_task *t, size_t n);

/* Claim up to limit queued tasks of eid (oldest first, not before their
 * not_before, not expired, SKIP LOCKED) for node: state 'sent'. Only a
 * CWMP device's (agents.protocol 'cwmp'). */
int acs_db_claim(PGconn *c, const char *eid, const char *node, int limit, struct acs_db_task **out,
		 size_t *n, struct uspc_err *err);

/* Put tasks this node claimed back to 'queued' (they were never sent, or
 * were idempotent and their answer was lost). */
int acs_db_requeue(PGconn *c, const char *node, const int64_t *ids, size_t n, struct uspc_err *err);

/* End the session lease of eid if session_id still holds it; acked: the
 * CPE sent a request after InformResponse, so it had it (its Inform's
 * events are delivered; the same events again are new ones). */
int acs_db_release(PGconn *c, const char *eid, const char *session_id, int acked,
		   struct uspc_err *err);

/* Types of parameters (model-form paths) for a model: calls found() for
 * each one known. */
int acs_db_types_get(PGconn *c, const char *model_key, const char *const *paths, size_t n,
		     void (*found)(void *arg, const char *path, const char *type), void *arg,
		     struct uspc_err *err);
/* Record types (paths in model form, deduplicated by the caller). */
int acs_db_types_put(PGconn *c, const char *model_key, const char *const *paths,
		     const char *const *types, size_t n, struct uspc_err *err);

/* Per-device credentials: 1 and the fields when the device has a row,
 * 0 when it has none. */
int acs_db_credentials(PGconn *c, const char *eid, char *username, size_t ulen, char *realm,
		       size_t rlen, char ha1_hex[33], struct uspc_err *err);

/* The CPE accepted an asynchronous command (Reboot, FactoryReset,
 * Download): its operation_results row, 'requested' (or 'complete' when
 * done is set), written before the session goes on, so the event that
 * completes it can never arrive first. */
int acs_db_oper_requested(PGconn *c, const char *eid, const char *command_key, const char *obj_path,
			  const char *command_name, int done, struct uspc_err *err);

/* A TransferComplete: the Download's operation_results row (by
 * CommandKey) becomes complete or failed; the report is stored as USP's
 * TransferComplete! is (an operation_results row of command_name
 * 'TransferComplete!' with CommandKey, FaultCode, FaultString, StartTime,
 * CompleteTime, so a firmware campaign reads both protocols' alike), and
 * as a notification (kind 'event', path 'TransferComplete'). */
int acs_db_transfer_complete(PGconn *c, const char *eid, const char *command_key,
			     unsigned fault_code, const char *fault_string, const char *start,
			     const char *complete, const char *msg_id, struct uspc_err *err);

/* The device's UDPConnectionRequestAddress, from an Inform that reports
 * it ("" clears it): kept for UDP connection requests. Writes only when it
 * changed. */
int acs_db_udp_cr_address(PGconn *c, const char *eid, const char *address, struct uspc_err *err);

#endif
