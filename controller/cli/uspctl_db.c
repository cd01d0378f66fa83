/*
 * uspctl_db.c — uspctl's own statements (see uspctl_db.h). Parameters go
 * through PQexecParams as array literals built with store_sql.h; nothing is
 * string-built into SQL.
 *
 * Owns nothing between calls; caller's thread and connection.
 */
#include "uspctl_db.h"

#include <stdlib.h>

#include "store_conn.h"
#include "store_sql.h"
#include "uspctl_stmt.h"

#define ID_TEXT_MAX 24 /* one bigint and a comma */

/* Both literal builders leave *b initialised (store_buf_fini is safe). */
static int ids_literal(struct store_buf *b, const int64_t *ids, size_t n, struct uspc_err *err)
{
	store_buf_init(b, (n + 1) * ID_TEXT_MAX);
	if (n > USPCTL_DB_MAX_IDS)
		return uspc_err_set(err, STORE_E_ARG, "%zu task ids in one statement, limit %d", n,
				    USPCTL_DB_MAX_IDS);
	store_arr_begin(b);
	for (size_t i = 0; i < n; i++)
		store_arr_add_i64(b, ids[i]);
	store_arr_end(b);
	if (!store_buf_str(b))
		return uspc_err_set(err, STORE_E_NOMEM, "out of memory");
	return 0;
}

static int strs_literal(struct store_buf *b, const char *const *v, size_t n, struct uspc_err *err)
{
	store_buf_init(b, (n + 1) * (2 * STORE_NAME_MAX + 4) + 2 * STORE_EID_MAX);
	if (n > USPCTL_DB_MAX_IDS)
		return uspc_err_set(err, STORE_E_ARG, "%zu values in one statement, limit %d", n,
				    USPCTL_DB_MAX_IDS);
	store_arr_begin(b);
	for (size_t i = 0; i < n; i++)
		store_arr_add(b, v[i]);
	store_arr_end(b);
	if (!store_buf_str(b))
		return uspc_err_set(err, STORE_E_ARG, "values too long for one statement");
	return 0;
}

/*
 * Run a statement that reaches tasks by id with sequential scans disabled
 * for it alone. Planned with statistics from before a campaign's inserts
 * (autovacuum analyzes within a minute or so), a status read of 500 ids
 * scanned the whole tasks table (seen: 9,500 rows filtered out per read, in
 * a table that grows with every finished task). uspctl's other statements
 * (selectors over the inventory) keep the planner's free choice.
 */
static int exec_by_key(PGconn *c, const char *sql, int n, const char *const *p, PGresult **res,
		       struct uspc_err *err)
{
	int rc = store_exec(c, "SET enable_seqscan = off", 0, NULL, NULL, err);
	if (rc == 0)
		rc = store_exec(c, sql, n, p, res, err);
	/* A failed RESET means a lost connection: the next statement reports it,
	 * and a new session starts with the default again. */
	struct uspc_err ignored = { 0 };
	store_exec(c, "RESET enable_seqscan", 0, NULL, NULL, &ignored);
	return rc;
}

int uspctl_db_tasks(PGconn *c, const int64_t *ids, size_t n, int final_only, PGresult **res,
		    struct uspc_err *err)
{
	const char *sql = uspctl_stmt_db_tasks;
	struct store_buf b;
	*res = NULL;
	int rc = ids_literal(&b, ids, n, err);
	if (rc == 0) {
		const char *p[2] = { store_buf_str(&b), final_only ? "t" : "f" };
		rc = exec_by_key(c, sql, 2, p, res, err);
	}
	store_buf_fini(&b);
	return rc;
}

int uspctl_db_expire(PGconn *c, const int64_t *ids, size_t n, size_t *n_expired,
		     struct uspc_err *err)
{
	const char *sql = uspctl_stmt_db_expire;
	struct store_buf b;
	PGresult *r = NULL;
	if (n_expired)
		*n_expired = 0;
	int rc = ids_literal(&b, ids, n, err);
	if (rc == 0) {
		const char *p[1] = { store_buf_str(&b) };
		rc = exec_by_key(c, sql, 1, p, &r, err);
	}
	if (rc == 0 && n_expired && PQntuples(r) == 1)
		*n_expired = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	store_buf_fini(&b);
	return rc;
}

int uspctl_db_completions(PGconn *c, const int64_t *tasks, const char *const *eids,
			  const char *const *keys, size_t n, PGresult **res, struct uspc_err *err)
{
	const char *sql = uspctl_stmt_db_completions;
	struct store_buf bt, be, bk;
	*res = NULL;
	int rc = ids_literal(&bt, tasks, n, err);
	store_buf_init(&be, 0);
	store_buf_init(&bk, 0);
	if (rc == 0 && (rc = strs_literal(&be, eids, n, err)) == 0 &&
	    (rc = strs_literal(&bk, keys, n, err)) == 0) {
		const char *p[3] = { store_buf_str(&bt), store_buf_str(&be), store_buf_str(&bk) };
		rc = exec_by_key(c, sql, 3, p, res, err);
	}
	store_buf_fini(&bt);
	store_buf_fini(&be);
	store_buf_fini(&bk);
	return rc;
}

int uspctl_db_adopt(PGconn *c, const char *batch_id, const char *const *eids, size_t n,
		    PGresult **res, struct uspc_err *err)
{
	static const char sql[] =
		"SELECT id, eid FROM tasks WHERE batch_id = $1 AND eid = ANY($2::text[]) ORDER BY id";
	struct store_buf b;
	*res = NULL;
	int rc = strs_literal(&b, eids, n, err);
	if (rc == 0) {
		const char *p[2] = { batch_id, store_buf_str(&b) };
		rc = exec_by_key(c, sql, 2, p, res, err);
	}
	store_buf_fini(&b);
	return rc;
}
