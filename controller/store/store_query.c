/*
 * store_query.c — synchronous queries for uspctl and the core (see
 * store_query.h).
 *
 * Owns nothing between calls; each function runs on the caller's
 * connection, on the caller's thread. JSON is built by PostgreSQL
 * (json_build_object / json_agg) and parsed once with cJSON, so every
 * column has one spelling, here.
 * Invariant: selectors never match everything by accident — an empty
 * selector is an error unless `all` is set.
 */
#include "store_query.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"
#include "store_stmt.h"

static const char *const state_names[] = {
#define STORE_TS_NAME_(ident, name) name,
	STORE_TASK_STATES(STORE_TS_NAME_)
#undef STORE_TS_NAME_
};

const char *store_task_state_name(enum store_task_state s)
{
	return (unsigned)s < STORE_TASK_STATE_COUNT_ ? state_names[s] : "?";
}

int store_task_state_from_name(const char *name)
{
	for (int i = 0; name && i < STORE_TASK_STATE_COUNT_; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -1;
}

int store_task_state_is_final(enum store_task_state s)
{
	return s == STORE_TASK_DONE || s == STORE_TASK_FAILED || s == STORE_TASK_EXPIRED ||
	       s == STORE_TASK_CANCELED || s == STORE_TASK_UNKNOWN;
}

void store_selector_init(struct store_selector *s)
{
	memset(s, 0, sizeof(*s));
	s->online = -1;
}

void store_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- selectors ---------------------------------------------------------- */

/* The selector is sql/_sel_where.sql: $1..$7; queries append their own
 * parameters from $8. */
#define SEL_NPARAMS 7

struct sel_params {
	const char *p[SEL_NPARAMS + 4];
	struct store_buf eids;
	char like[2 * STORE_EID_MAX + 2];
};

static int sel_check_field(const char *what, const char *v, struct uspc_err *err)
{
	if (v && strlen(v) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG, "selector %s longer than %d bytes", what,
				    STORE_NAME_MAX);
	return 0;
}

static int sel_prepare(const struct store_selector *s, struct sel_params *sp, struct uspc_err *err)
{
	memset(sp->p, 0, sizeof(sp->p));
	store_buf_init(&sp->eids, (size_t)STORE_QUERY_MAX_EIDS * (2 * STORE_EID_MAX + 3));
	int given = s->eids || s->tag || s->model || s->manufacturer || s->software_version ||
		    s->eid_glob || s->online >= 0;
	if (!given && !s->all)
		return uspc_err_set(err, STORE_E_ARG, "empty selector: give targets or \"all\"");
	int rc;
	if ((rc = sel_check_field("tag", s->tag, err)) < 0 ||
	    (rc = sel_check_field("model", s->model, err)) < 0 ||
	    (rc = sel_check_field("manufacturer", s->manufacturer, err)) < 0 ||
	    (rc = sel_check_field("software_version", s->software_version, err)) < 0)
		return rc;
	if (s->eids) {
		if (s->n_eids > STORE_QUERY_MAX_EIDS)
			return uspc_err_set(err, STORE_E_ARG, "%zu EIDs given, limit %d", s->n_eids,
					    STORE_QUERY_MAX_EIDS);
		store_arr_begin(&sp->eids);
		for (size_t i = 0; i < s->n_eids; i++)
			store_arr_add(&sp->eids, s->eids[i]);
		store_arr_end(&sp->eids);
		if (!(sp->p[0] = store_buf_str(&sp->eids)))
			return uspc_err_set(err, STORE_E_NOMEM, "EID list too large");
	}
	if (s->eid_glob) {
		if (store_glob_to_like(s->eid_glob, sp->like, sizeof(sp->like)) < 0)
			return uspc_err_set(err, STORE_E_ARG,
					    "bad EID glob (too long or ends in \\)");
		sp->p[5] = sp->like;
	}
	sp->p[1] = s->tag;
	sp->p[2] = s->model;
	sp->p[3] = s->manufacturer;
	sp->p[4] = s->software_version;
	sp->p[6] = s->online < 0 ? NULL : s->online ? "t" : "f";
	return 0;
}

static void sel_fini(struct sel_params *sp)
{
	store_buf_fini(&sp->eids);
}

int store_query_resolve(PGconn *c, const struct store_selector *sel, size_t max, char ***eids_out,
			size_t *n_out, struct uspc_err *err)
{
	struct sel_params sp;
	PGresult *r = NULL;
	char **v = NULL;
	char lim[24];
	*eids_out = NULL;
	*n_out = 0;
	if (!max || max > STORE_QUERY_MAX_EIDS)
		max = STORE_QUERY_MAX_EIDS;
	int rc = sel_prepare(sel, &sp, err);
	if (rc < 0)
		goto out;
	snprintf(lim, sizeof(lim), "%zu", max + 1);
	sp.p[SEL_NPARAMS] = lim;
	rc = store_exec(c, store_stmt_query_select_eids, SEL_NPARAMS + 1, sp.p, &r, err);
	if (rc < 0)
		goto out;
	size_t n = (size_t)PQntuples(r);
	if (n > max) {
		rc = uspc_err_set(err, STORE_E_ARG, "selector matches more than %zu agents", max);
		goto out;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = strdup(PQgetvalue(r, (int)i, 0)))) {
			store_strv_free(v, i);
			v = NULL;
		}
	if (!v) {
		rc = uspc_err_set(err, STORE_E_NOMEM, "out of memory resolving %zu agents", n);
		goto out;
	}
	*eids_out = v;
	*n_out = n;
out:
	PQclear(r);
	sel_fini(&sp);
	return rc;
}

/* Run a query whose first row, first column is JSON text; parse it. */
static int query_json(PGconn *c, const char *sql, int n, const char *const *p, cJSON **out,
		      struct uspc_err *err)
{
	PGresult *r = NULL;
	*out = NULL;
	int rc = store_exec(c, sql, n, p, &r, err);
	if (rc < 0)
		return rc;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return uspc_err_set(err, STORE_E_NOTFOUND, "not found");
	}
	*out = cJSON_Parse(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (!*out)
		return uspc_err_set(err, STORE_E_NOMEM, "out of memory parsing a query result");
	return 0;
}

/* ---- tasks ---------------------------------------------------------------- */

static int op_name_valid(const char *op)
{
	size_t n = op ? strlen(op) : 0;
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((op[i] >= 'a' && op[i] <= 'z') || op[i] == '_'))
			return 0;
	return 1;
}

static int task_spec_check(const struct store_task_spec *spec, struct uspc_err *err)
{
	if (!spec || !op_name_valid(spec->op))
		return uspc_err_set(err, STORE_E_ARG, "task op must be a USP request type name");
	if (!spec->request_json || strlen(spec->request_json) > STORE_JSON_MAX)
		return uspc_err_set(err, STORE_E_ARG, "task request JSON missing or over %d bytes",
				    STORE_JSON_MAX);
	cJSON *j = cJSON_Parse(spec->request_json);
	int obj = cJSON_IsObject(j);
	cJSON_Delete(j);
	if (!obj)
		return uspc_err_set(err, STORE_E_ARG, "task request must be a JSON object");
	if (spec->batch_id && strlen(spec->batch_id) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG, "batch_id longer than %d bytes",
				    STORE_NAME_MAX);
	if (spec->expires_in_ms < 0 || spec->not_before_in_ms < 0)
		return uspc_err_set(err, STORE_E_ARG, "negative expiry or delay");
	return 0;
}

int store_query_insert_tasks(PGconn *c, const char *const *eids, size_t n,
			     const struct store_task_spec *spec, int64_t *ids_out,
			     struct uspc_err *err)
{
	struct store_buf arr;
	PGresult *r = NULL;
	char exp[24], nb[24];
	int rc = task_spec_check(spec, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		return 0;
	if (n > STORE_QUERY_MAX_EIDS)
		return uspc_err_set(err, STORE_E_ARG, "%zu tasks in one insert, limit %d", n,
				    STORE_QUERY_MAX_EIDS);
	store_buf_init(&arr, n * (2 * STORE_EID_MAX + 3) + 16);
	store_arr_begin(&arr);
	for (size_t i = 0; i < n; i++) {
		if (!eids[i] || !*eids[i] || strlen(eids[i]) > STORE_EID_MAX) {
			rc = uspc_err_set(err, STORE_E_ARG, "EID #%zu is empty or too long", i + 1);
			goto out;
		}
		store_arr_add(&arr, eids[i]);
	}
	store_arr_end(&arr);
	snprintf(exp, sizeof(exp), "%" PRId64, spec->expires_in_ms);
	snprintf(nb, sizeof(nb), "%" PRId64, spec->not_before_in_ms);
	const char *p[6] = { store_buf_str(&arr), spec->op, spec->request_json,
			     spec->batch_id,      exp,      nb };
	if (!p[0]) {
		rc = uspc_err_set(err, STORE_E_NOMEM, "EID list too large");
		goto out;
	}
	rc = store_exec(c, store_stmt_query_insert_tasks, 6, p, &r, err);
	if (rc < 0)
		goto out;
	if ((size_t)PQntuples(r) != n) {
		rc = uspc_err_set(err, STORE_E_DB, "XX000: inserted %d tasks, expected %zu",
				  PQntuples(r), n);
		goto out;
	}
	for (size_t i = 0; ids_out && i < n; i++)
		ids_out[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
out:
	PQclear(r);
	store_buf_fini(&arr);
	return rc;
}

static int ids_param(struct store_buf *b, const int64_t *ids, size_t n, struct uspc_err *err)
{
	if (n > STORE_QUERY_MAX_IDS)
		return uspc_err_set(err, STORE_E_ARG, "%zu task ids, limit %d", n,
				    STORE_QUERY_MAX_IDS);
	b->max = n * 24 + 16;
	store_arr_begin(b);
	for (size_t i = 0; i < n; i++)
		store_arr_add_i64(b, ids[i]);
	store_arr_end(b);
	return store_buf_str(b) ? 0 : uspc_err_set(err, STORE_E_NOMEM, "task id list too large");
}

int store_query_task_status(PGconn *c, const int64_t *ids, size_t n, cJSON **out,
			    struct uspc_err *err)
{
	struct store_buf b;
	*out = NULL;
	store_buf_init(&b, 0);
	int rc = ids_param(&b, ids, n, err);
	if (rc == 0) {
		const char *p[1] = { store_buf_str(&b) };
		rc = query_json(c, store_stmt_query_task_status, 1, p, out, err);
	}
	store_buf_fini(&b);
	return rc;
}

int store_query_batch_status(PGconn *c, const char *batch_id, cJSON **out, struct uspc_err *err)
{
	*out = NULL;
	if (!batch_id || strlen(batch_id) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG, "batch_id missing or too long");
	const char *p[1] = { batch_id };
	return query_json(c, store_stmt_query_batch_status, 1, p, out, err);
}

int store_query_cancel(PGconn *c, const int64_t *ids, size_t n, const char *batch_id,
		       size_t *canceled, struct uspc_err *err)
{
	struct store_buf b;
	PGresult *r = NULL;
	store_buf_init(&b, 0);
	if (canceled)
		*canceled = 0;
	if (!ids && (!batch_id || strlen(batch_id) > STORE_NAME_MAX))
		return uspc_err_set(err, STORE_E_ARG, "cancel needs task ids or a batch_id");
	int rc = ids ? ids_param(&b, ids, n, err) : 0;
	if (rc == 0) {
		const char *p[2] = { ids ? store_buf_str(&b) : NULL, batch_id };
		rc = store_exec(c, store_stmt_query_cancel, 2, p, &r, err);
	}
	if (rc == 0 && canceled)
		*canceled = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	store_buf_fini(&b);
	return rc;
}

/* ---- inventory ------------------------------------------------------------ */

/* Agents after `after` (NULL: all), at most max; more is an error unless
 * truncate. */
static int query_agents(PGconn *c, const struct store_selector *sel, const char *after, size_t max,
			int truncate, cJSON **out, struct uspc_err *err)
{
	struct sel_params sp;
	char lim[24];
	*out = NULL;
	if (!max || max > STORE_QUERY_MAX_EIDS)
		max = STORE_QUERY_MAX_EIDS;
	if (after && (!*after || strlen(after) > STORE_EID_MAX))
		return uspc_err_set(err, STORE_E_ARG, "'after' must be an EID");
	int rc = sel_prepare(sel, &sp, err);
	if (rc == 0) {
		snprintf(lim, sizeof(lim), "%zu", truncate ? max : max + 1);
		sp.p[SEL_NPARAMS] = lim;
		sp.p[SEL_NPARAMS + 1] = after;
		rc = query_json(c, store_stmt_query_agents, SEL_NPARAMS + 2, sp.p, out, err);
	}
	if (rc == 0 && (size_t)cJSON_GetArraySize(*out) > max) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = uspc_err_set(err, STORE_E_ARG, "selector matches more than %zu agents", max);
	}
	sel_fini(&sp);
	return rc;
}

int store_query_agents(PGconn *c, const struct store_selector *sel, size_t max, cJSON **out,
		       struct uspc_err *err)
{
	return query_agents(c, sel, NULL, max, 0, out, err);
}

int store_query_agents_page(PGconn *c, const struct store_selector *sel, const char *after,
			    size_t limit, cJSON **out, struct uspc_err *err)
{
	return query_agents(c, sel, after, limit, limit > 0, out, err);
}

int store_query_agent_show(PGconn *c, const char *eid, cJSON **out, struct uspc_err *err)
{
	*out = NULL;
	if (!eid || !*eid || strlen(eid) > STORE_EID_MAX)
		return uspc_err_set(err, STORE_E_ARG, "EID missing or too long");
	const char *p[1] = { eid };
	int rc = query_json(c, store_stmt_query_agent_show, 1, p, out, err);
	if (rc == STORE_E_NOTFOUND)
		rc = uspc_err_set(err, STORE_E_NOTFOUND, "unknown agent %s", eid);
	return rc;
}

int store_query_tag(PGconn *c, const struct store_selector *sel, const char *tag, int add,
		    size_t *changed, struct uspc_err *err)
{
	struct sel_params sp;
	PGresult *r = NULL;
	if (changed)
		*changed = 0;
	if (!store_tag_valid(tag))
		return uspc_err_set(err, STORE_E_ARG, "tag must be 1..%d bytes of [A-Za-z0-9_.:-]",
				    STORE_NAME_MAX);
	int rc = sel_prepare(sel, &sp, err);
	if (rc == 0) {
		sp.p[SEL_NPARAMS] = tag;
		rc = store_exec(c, add ? store_stmt_query_tag_add : store_stmt_query_tag_remove,
				SEL_NPARAMS + 1, sp.p, &r, err);
	}
	if (rc == 0 && changed)
		*changed = (size_t)strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	sel_fini(&sp);
	return rc;
}

int store_query_snapshot(PGconn *c, const char *eid, const char *prefix, size_t max, cJSON **out,
			 struct uspc_err *err)
{
	char like[2 * STORE_PATH_MAX + 2], lim[24];
	*out = NULL;
	if (!eid || !*eid || strlen(eid) > STORE_EID_MAX)
		return uspc_err_set(err, STORE_E_ARG, "EID missing or too long");
	if (store_prefix_to_like(prefix ? prefix : "", like, sizeof(like)) < 0)
		return uspc_err_set(err, STORE_E_ARG, "path prefix too long");
	if (!max)
		max = 100000;
	snprintf(lim, sizeof(lim), "%zu", max + 1);
	const char *p[3] = { eid, like, lim };
	int rc = query_json(c, store_stmt_query_snapshot, 3, p, out, err);
	if (rc == 0 && (size_t)cJSON_GetArraySize(*out) > max) {
		cJSON_Delete(*out);
		*out = NULL;
		rc = uspc_err_set(err, STORE_E_ARG, "more than %zu snapshot rows under '%s'", max,
				  prefix ? prefix : "");
	}
	return rc;
}

/* ---- waiting for results ------------------------------------------------ */

int store_query_listen_done(PGconn *c, struct uspc_err *err)
{
	return store_exec(c, "LISTEN uspc_task_done", 0, NULL, NULL, err);
}

static void collect(PGconn *c, int64_t *ids, size_t cap, size_t *n)
{
	PGnotify *nt;
	while ((nt = PQnotifies(c)) != NULL) {
		if (!strcmp(nt->relname, "uspc_task_done")) {
			for (char *s = nt->extra; s && *s;) {
				char *end;
				errno = 0;
				long long v = strtoll(s, &end, 10);
				if (end == s || errno)
					break;
				if (*n < cap)
					ids[(*n)++] = v;
				s = *end == ',' ? end + 1 : end;
			}
		}
		PQfreemem(nt);
	}
}

int store_query_wait_done(PGconn *c, int timeout_ms, int64_t *ids, size_t cap, size_t *n,
			  struct uspc_err *err)
{
	*n = 0;
	if (!PQconsumeInput(c))
		goto lost;
	collect(c, ids, cap, n);
	if (*n || timeout_ms <= 0)
		return 0;
	struct pollfd p = { .fd = PQsocket(c), .events = POLLIN };
	int pr = poll(&p, 1, timeout_ms);
	if (pr < 0 && errno != EINTR)
		return uspc_err_set(err, STORE_E_CONN, "poll on the database socket: %s",
				    strerror(errno));
	if (pr <= 0)
		return 0;
	if (!PQconsumeInput(c))
		goto lost;
	collect(c, ids, cap, n);
	return 0;
lost : {
	const char *m = PQerrorMessage(c);
	return uspc_err_set(err, STORE_E_CONN, "database connection lost: %.*s",
			    (int)strcspn(m, "\n"), m);
}
}
