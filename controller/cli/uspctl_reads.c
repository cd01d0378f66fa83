/*
 * uspctl_reads.c — the reads the HTTP API pages through, as uspctl ops
 * (docs/uspctl.md): notifications, task_list, operation_results,
 * tag_list and fleet_summary. Each reaches its rows through an index and
 * stops at the command's limit: one statement (task_list: the ids, then
 * the tasks as task_status prints them); one result line per row, newest
 * first, with the row's "agent" (fleet_summary and tag_list: without); no
 * line when nothing matches.
 *
 * Owns nothing between calls; runs on the run's thread and connection
 * (which may be borrowed: every transaction opened here ends here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_query.h"
#include "store_sql.h"
#include "uspctl_internal.h"
#include "uspctl_stmt.h"

#define READS_DEFAULT 100 /* rows of a read without "limit" */
/* Up to this many agents, a read walks each agent's own (eid, id) index
 * and merges (reads_*_each.sql): at most limit rows per agent. With more,
 * one walk back along the primary key filters them. */
#define READS_EACH_MAX 1000
#define TAGS_MAX 10000 /* tag_list lines */

/* ---- targets ---------------------------------------------------------------- */

/* No targets, or only {"all":true}: every agent, nothing to resolve. */
static int every_agent(const struct uspctl_targets *t)
{
	return !t->given || (t->all && !t->n_eids && !t->tag && !t->model && !t->manufacturer &&
			     !t->software_version && !t->eid_glob && t->online < 0);
}

/*
 * The agents of a read as a text[] literal in *lit (*n of them; NULL:
 * every agent). 0 to go on; < 0 when there is nothing to read and the
 * line(s) saying why are printed: a selector that matched nothing
 * (no_targets), explicit EIDs none of which is known (their
 * unknown_agent lines), a database error.
 */
static int read_agents(struct uspctl_run *r, const struct uspctl_cmd *c, long line,
		       struct store_buf *lit, const char **out, size_t *n)
{
	char **eids = NULL;
	*out = NULL;
	*n = 0;
	if (every_agent(&c->targets))
		return 0;
	int rc = uspctl_resolve(r, c, line, &eids, n);
	if (rc < 0)
		return rc;
	if (*n == 0) {
		if (!c->targets.n_eids)
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_NO_TARGETS,
					      "no agent matches the selector");
		store_strv_free(eids, *n);
		return USPCTL_E_NO_TARGETS;
	}
	store_buf_init(lit, *n * (2 * STORE_EID_MAX + 3) + 16);
	store_arr_begin(lit);
	for (size_t i = 0; i < *n; i++)
		store_arr_add(lit, eids[i]);
	store_arr_end(lit);
	store_strv_free(eids, *n);
	if (!(*out = store_buf_str(lit))) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL, "out of memory");
		return USPCTL_E_INTERNAL;
	}
	return 0;
}

/* ---- printing --------------------------------------------------------------- */

/* One line per row of res: column json_col (JSON text, printed compact)
 * with the agent of column agent_col (-1: a line without agent). */
static void print_rows(struct uspctl_run *r, const char *id, PGresult *res, int agent_col,
		       int json_col)
{
	int n = PQntuples(res);
	uspctl_out_expect(&r->out, (uint64_t)n);
	for (int i = 0; i < n && !r->out.write_error; i++) {
		/* jsonb inside comes out of PostgreSQL with spaces: print it
		 * compact, as every other result line */
		cJSON *row = cJSON_Parse(PQgetvalue(res, i, json_col));
		char *text = row ? cJSON_PrintUnformatted(row) : NULL;
		const char *json = text ? text : PQgetvalue(res, i, json_col);
		if (agent_col >= 0)
			uspctl_out_ok(&r->out, id, PQgetvalue(res, i, agent_col), -1, json, NULL,
				      NULL);
		else
			uspctl_out_result(&r->out, id, json);
		cJSON_free(text);
		cJSON_Delete(row);
	}
}

static void limit_text(const struct uspctl_cmd *c, char *buf, size_t size)
{
	snprintf(buf, size, "%ld", c->limit > 0 ? c->limit : READS_DEFAULT);
}

/* Run sql (n params) and print its (agent, json) rows; a line error when
 * it fails. */
static void run_rows(struct uspctl_run *r, const struct uspctl_cmd *c, long line, const char *sql,
		     int n, const char *const *p)
{
	struct uspc_err err = { 0 };
	PGresult *res = NULL;
	int rc;
	DB_RETRY(r, rc, err, store_exec(r->db, sql, n, p, &res, &err));
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_DATABASE, err.msg);
	else
		print_rows(r, c->id, res, 0, 1);
	PQclear(res);
}

/* ---- notifications ------------------------------------------------------------ */

static void notifications(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char like[2 * STORE_PATH_MAX + 2], since[32], until[32], before[24], after[24], limit[24];
	struct store_buf lit = { 0 };
	const char *eids;
	size_t n;
	if (read_agents(r, c, line, &lit, &eids, &n) < 0)
		goto out;
	if (c->path_prefix && store_prefix_to_like(c->path_prefix, like, sizeof(like)) < 0) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_BAD_FIELD,
				      "'path' is too long");
		goto out;
	}
	snprintf(since, sizeof(since), "%.3f", c->since_s);
	snprintf(until, sizeof(until), "%.3f", c->until_s);
	snprintf(before, sizeof(before), "%lld", (long long)c->before);
	snprintf(after, sizeof(after), "%lld", (long long)c->after_id);
	limit_text(c, limit, sizeof(limit));
	const char *p[8] = { eids,
			     c->kind,
			     c->path_prefix ? like : NULL,
			     c->since_s > 0 ? since : NULL,
			     c->until_s > 0 ? until : NULL,
			     c->before > 0 ? before : NULL,
			     c->after_id >= 0 ? after : NULL,
			     limit };
	/* "after" follows a stream: oldest first from there */
	int each = eids && n <= READS_EACH_MAX, up = c->after_id >= 0;
	const char *sql =
		each ? (up ? uspctl_stmt_reads_notifications_each_up
			   : uspctl_stmt_reads_notifications_each)
		     : (up ? uspctl_stmt_reads_notifications_up : uspctl_stmt_reads_notifications);
	run_rows(r, c, line, sql, 8, p);
out:
	store_buf_fini(&lit);
}

/* ---- task_list ------------------------------------------------------------------ */

/* The ids of res's first column (task ids); NULL on OOM. */
static int64_t *column_ids(PGresult *res)
{
	int n = PQntuples(res);
	int64_t *ids = malloc(((size_t)n + 1) * sizeof(*ids));
	for (int i = 0; ids && i < n; i++)
		ids[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	return ids;
}

static void task_list(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char before[24], limit[24];
	struct store_buf lit = { 0 };
	struct uspc_err err = { 0 };
	PGresult *res = NULL;
	cJSON *arr = NULL;
	int64_t *ids = NULL;
	const char *eids;
	size_t n;
	int rc;
	if (read_agents(r, c, line, &lit, &eids, &n) < 0)
		goto out;
	snprintf(before, sizeof(before), "%lld", (long long)c->before);
	limit_text(c, limit, sizeof(limit));
	const char *p[6] = {
		eids, c->task_state, c->task_op, c->batch, c->before > 0 ? before : NULL, limit
	};
	const char *sql = eids && n <= READS_EACH_MAX ? uspctl_stmt_reads_tasks_each
						      : uspctl_stmt_reads_tasks;
	DB_RETRY(r, rc, err, store_exec(r->db, sql, 6, p, &res, &err));
	if (rc == 0 && PQntuples(res) > 0) {
		if (!(ids = column_ids(res))) {
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL,
					      "out of memory");
			goto out;
		}
		/* the task objects task_status prints, in the order of ids */
		DB_RETRY(r, rc, err,
			 store_query_task_status(r->db, ids, (size_t)PQntuples(res), &arr, &err));
	}
	if (rc < 0) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_DATABASE, err.msg);
		goto out;
	}
	uspctl_out_expect(&r->out, (uint64_t)cJSON_GetArraySize(arr));
	for (const cJSON *t = arr ? arr->child : NULL; t && !r->out.write_error; t = t->next) {
		const cJSON *tid = cJSON_GetObjectItemCaseSensitive(t, "id");
		const cJSON *eid = cJSON_GetObjectItemCaseSensitive(t, "eid");
		char *text = cJSON_PrintUnformatted(t);
		uspctl_out_ok(&r->out, c->id, cJSON_IsString(eid) ? eid->valuestring : "",
			      cJSON_IsNumber(tid) ? (int64_t)tid->valuedouble : -1,
			      text ? text : "null", NULL, NULL);
		cJSON_free(text);
	}
out:
	cJSON_Delete(arr);
	free(ids);
	PQclear(res);
	store_buf_fini(&lit);
}

/* ---- operation_results, tag_list -------------------------------------------------- */

static void operation_results(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char limit[24];
	struct store_buf lit = { 0 };
	const char *eids;
	size_t n;
	if (read_agents(r, c, line, &lit, &eids, &n) == 0) {
		limit_text(c, limit, sizeof(limit));
		const char *p[3] = { eids, c->command_key, limit };
		run_rows(r, c, line, uspctl_stmt_reads_operation_results, 3, p);
	}
	store_buf_fini(&lit);
}

static void tag_list(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char limit[24];
	struct uspc_err err = { 0 };
	PGresult *res = NULL;
	int rc;
	snprintf(limit, sizeof(limit), "%d", TAGS_MAX);
	const char *p[1] = { limit };
	DB_RETRY(r, rc, err, store_exec(r->db, uspctl_stmt_reads_tags, 1, p, &res, &err));
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_DATABASE, err.msg);
	else
		print_rows(r, c->id, res, -1, 0);
	PQclear(res);
}

/* ---- fleet_summary ------------------------------------------------------------------ */

/* {"agents", "models", "recent_onboardings", "tasks", "rejections"} from
 * one statement (reads_summary.sql: one pass over the inventory), in the
 * key order of docs/uspctl.md. Store codes in err (for DB_RETRY). */
static int summary_read(PGconn *db, cJSON **out, struct uspc_err *err)
{
	PGresult *res = NULL;
	*out = NULL;
	int rc = store_exec(db, uspctl_stmt_reads_summary, 0, NULL, &res, err);
	if (rc == 0 && !(*out = cJSON_Parse(PQgetvalue(res, 0, 0))))
		rc = uspc_err_set(err, STORE_E_NOMEM, "out of memory");
	PQclear(res);
	return rc;
}

static void fleet_summary(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	struct uspc_err err = { 0 };
	cJSON *sum = NULL;
	int rc;
	DB_RETRY(r, rc, err, summary_read(r->db, &sum, &err));
	if (rc < 0) {
		uspctl_out_line_error(&r->out, c->id, line,
				      rc == STORE_E_NOMEM ? USPCTL_E_INTERNAL : USPCTL_E_DATABASE,
				      err.msg);
		return;
	}
	char *text = cJSON_PrintUnformatted(sum);
	uspctl_out_expect(&r->out, 1);
	uspctl_out_result(&r->out, c->id, text ? text : "null");
	cJSON_free(text);
	cJSON_Delete(sum);
}

void uspctl_reads(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	switch (c->op) {
	case USPCTL_OP_NOTIFICATIONS:
		notifications(r, c, line);
		break;
	case USPCTL_OP_TASK_LIST:
		task_list(r, c, line);
		break;
	case USPCTL_OP_OPERATION_RESULTS:
		operation_results(r, c, line);
		break;
	case USPCTL_OP_TAG_LIST:
		tag_list(r, c, line);
		break;
	case USPCTL_OP_FLEET_SUMMARY:
		fleet_summary(r, c, line);
		break;
	default:
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_UNKNOWN_OP,
				      "op is not a read");
	}
}
