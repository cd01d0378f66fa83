/*
 * uspctl_db.h — the few statements uspctl needs beyond store_query.h:
 * reading the outcome of many tasks at once, expiring its own overdue
 * queued tasks (so expiry works while no daemon runs), reading
 * OperationComplete results, and finding tasks a lost connection may
 * already have committed.
 *
 * Blocking; on a connection the calling thread owns. Results are PGresults
 * the caller clears; columns are named by the enums below.
 */
#ifndef USPC_USPCTL_DB_H
#define USPC_USPCTL_DB_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "usp_err.h"

#define USPCTL_DB_MAX_IDS 100000 /* ids per statement */

enum uspctl_db_task_col {
	USPCTL_DB_T_ID,
	USPCTL_DB_T_STATE,
	USPCTL_DB_T_RESULT,        /* jsonb as text, or NULL */
	USPCTL_DB_T_ERROR_CODE,    /* or NULL */
	USPCTL_DB_T_ERROR_MESSAGE, /* or NULL */
	USPCTL_DB_T_EXPIRES_AT,    /* ISO-8601 or NULL */
};

/* Tasks among ids (final_only: only those in a final state), by id. */
int uspctl_db_tasks(PGconn *c, const int64_t *ids, size_t n, int final_only, PGresult **res,
		    struct uspc_err *err);

/* Mark the queued tasks among ids whose expires_at has passed 'expired'
 * (NOTIFY uspc_task_done as the daemon does). *n_expired may be NULL. */
int uspctl_db_expire(PGconn *c, const int64_t *ids, size_t n, size_t *n_expired,
		     struct uspc_err *err);

enum uspctl_db_comp_col {
	USPCTL_DB_C_TASK,
	USPCTL_DB_C_OBJ_PATH,
	USPCTL_DB_C_COMMAND_NAME,
	USPCTL_DB_C_STATE,    /* complete | failed */
	USPCTL_DB_C_OUTPUT,   /* jsonb text or NULL */
	USPCTL_DB_C_ERR_CODE, /* or NULL */
	USPCTL_DB_C_ERR_MSG,  /* or NULL */
};

/* Finished OperationComplete rows (not TransferComplete!) of each (task,
 * eid, command_key), recorded after the task was created, ordered by task. */
int uspctl_db_completions(PGconn *c, const int64_t *tasks, const char *const *eids,
			  const char *const *keys, size_t n, PGresult **res, struct uspc_err *err);

/* Tasks (id, eid) of batch_id for these EIDs: what an insert whose commit
 * fate is unknown did write. */
int uspctl_db_adopt(PGconn *c, const char *batch_id, const char *const *eids, size_t n,
		    PGresult **res, struct uspc_err *err);

#endif
