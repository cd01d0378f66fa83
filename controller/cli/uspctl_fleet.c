/*
 * uspctl_fleet.c — target resolution and the fleet ops of uspctl
 * (list_agents, show_agent, tag, untag, snapshot, task_status, cancel,
 * rejections), answered from the database without touching agents; the
 * reads of uspctl_reads.c and the token ops of uspctl_token.c are
 * dispatched from here too.
 *
 * Owns nothing between calls; runs on the run's thread and connection.
 * Invariant: every agent (or task) a command names gets exactly one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_query.h"
#include "store_sql.h"
#include "uspctl_internal.h"
#include "uspctl_stmt.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, de-duplicated copy of v (pointers borrowed). NULL on OOM. */
static const char **sorted_unique(char *const *v, size_t n, size_t *n_out)
{
	const char **s = malloc((n ? n : 1) * sizeof(*s));
	size_t k = 0;
	if (!s)
		return NULL;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || strcmp(s[k - 1], s[i]) != 0)
			s[k++] = s[i];
	*n_out = k;
	return s;
}

void uspctl_selector(const struct uspctl_targets *t, struct store_selector *sel)
{
	store_selector_init(sel);
	sel->all = t->all || !t->given;
	sel->eids = (const char *const *)t->eids;
	sel->n_eids = t->n_eids;
	sel->tag = t->tag;
	sel->model = t->model;
	sel->manufacturer = t->manufacturer;
	sel->software_version = t->software_version;
	sel->eid_glob = t->eid_glob;
	sel->online = t->online;
}

/* given (sorted, unique) minus found (sorted): an unknown_agent line each. */
static void report_unknown(struct uspctl_run *r, const char *id, const char *const *given,
			   size_t n_given, const char *const *found, size_t n_found)
{
	size_t f = 0;
	for (size_t i = 0; i < n_given; i++) {
		while (f < n_found && strcmp(found[f], given[i]) < 0)
			f++;
		if (f < n_found && strcmp(found[f], given[i]) == 0)
			continue;
		uspctl_out_expect(&r->out, 1);
		uspctl_out_fail(&r->out, id, given[i], -1, USPCTL_E_UNKNOWN_AGENT,
				"agent not in the inventory (it never connected to a uspc daemon)",
				0, NULL, NULL);
	}
}

static void db_line_error(struct uspctl_run *r, const char *id, long line,
			  const struct uspc_err *err)
{
	uspctl_out_line_error(&r->out, id, line,
			      err->code == STORE_E_ARG ? USPCTL_E_BAD_TARGETS : USPCTL_E_DATABASE,
			      err->msg);
}

int uspctl_resolve(struct uspctl_run *r, const struct uspctl_cmd *c, long line, char ***eids,
		   size_t *n)
{
	struct store_selector sel;
	struct uspc_err err = { 0 };
	const char **given = NULL;
	size_t n_given = 0;
	int rc;
	*eids = NULL;
	*n = 0;
	uspctl_selector(&c->targets, &sel);
	if (c->targets.n_eids) {
		if (!(given = sorted_unique(c->targets.eids, c->targets.n_eids, &n_given))) {
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL,
					      "out of memory");
			return USPCTL_E_INTERNAL;
		}
		sel.all = 0;
		sel.eids = given;
		sel.n_eids = n_given;
	}
	DB_RETRY(r, rc, err, store_query_resolve(r->db, &sel, 0, eids, n, &err));
	if (rc < 0) {
		db_line_error(r, c->id, line, &err);
	} else if (given) {
		report_unknown(r, c->id, given, n_given, (const char *const *)*eids, *n);
	}
	free(given);
	return rc < 0 ? rc : 0;
}

/* ---- list_agents / show_agent ---------------------------------------------- */

static void print_agents(struct uspctl_run *r, const char *id, const cJSON *arr)
{
	uspctl_out_expect(&r->out, (uint64_t)cJSON_GetArraySize(arr));
	for (const cJSON *a = arr ? arr->child : NULL; a; a = a->next) {
		const cJSON *eid = cJSON_GetObjectItemCaseSensitive(a, "eid");
		char *text = cJSON_PrintUnformatted(a);
		uspctl_out_ok(&r->out, id, cJSON_IsString(eid) ? eid->valuestring : "", -1,
			      text ? text : "null", NULL, NULL);
		cJSON_free(text);
	}
}

/* The explicit EIDs (sorted) a page of agents covers: those after
 * `after` and, when the page is full, up to its last agent. */
static size_t page_window(const char **given, size_t n, const char *after, const cJSON *arr,
			  long limit, const char ***first)
{
	const cJSON *last = cJSON_GetArrayItem(arr, cJSON_GetArraySize(arr) - 1);
	const cJSON *last_eid = cJSON_GetObjectItemCaseSensitive(last, "eid");
	size_t lo = 0, hi = n;
	while (after && lo < n && strcmp(given[lo], after) <= 0)
		lo++;
	if (limit > 0 && cJSON_GetArraySize(arr) >= limit && cJSON_IsString(last_eid))
		while (hi > lo && strcmp(given[hi - 1], last_eid->valuestring) > 0)
			hi--;
	*first = given + lo;
	return hi - lo;
}

/* list_agents: every agent the targets pick, or one page of them (limit,
 * after: keyset paging by eid, in byte order). */
static void list_agents(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	struct store_selector sel;
	struct uspc_err err = { 0 };
	cJSON *arr = NULL;
	const char **given = NULL;
	size_t n_given = 0;
	int rc;
	uspctl_selector(&c->targets, &sel);
	if (c->targets.n_eids) {
		if (!(given = sorted_unique(c->targets.eids, c->targets.n_eids, &n_given)))
			goto oom;
		sel.all = 0;
		sel.eids = given;
		sel.n_eids = n_given;
	}
	DB_RETRY(r, rc, err,
		 store_query_agents_page(r->db, &sel, c->after, c->limit > 0 ? (size_t)c->limit : 0,
					 &arr, &err));
	if (rc < 0) {
		db_line_error(r, c->id, line, &err);
		goto out;
	}
	if (given) {
		size_t nf = 0;
		const char **found = malloc(((size_t)cJSON_GetArraySize(arr) + 1) * sizeof(*found));
		if (!found)
			goto oom;
		for (const cJSON *a = arr->child; a; a = a->next) {
			const cJSON *eid = cJSON_GetObjectItemCaseSensitive(a, "eid");
			if (cJSON_IsString(eid))
				found[nf++] = eid->valuestring;
		}
		/* a page answers for the EIDs inside it only */
		const char **in_page;
		size_t n_in = page_window(given, n_given, c->after, arr, c->limit, &in_page);
		report_unknown(r, c->id, in_page, n_in, found, nf);
		free(found);
	} else if (cJSON_GetArraySize(arr) == 0 && !c->after) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_NO_TARGETS,
				      "no agent matches the selector");
	}
	print_agents(r, c->id, arr);
	goto out;
oom:
	uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL, "out of memory");
out:
	cJSON_Delete(arr);
	free(given);
}

/* Resolve; on zero agents from a selector print no_targets. 0 with agents,
 * else the code of the line error printed. */
static int resolve_some(struct uspctl_run *r, const struct uspctl_cmd *c, long line, char ***eids,
			size_t *n)
{
	int rc = uspctl_resolve(r, c, line, eids, n);
	if (rc < 0)
		return rc;
	if (*n == 0) {
		if (!c->targets.n_eids)
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_NO_TARGETS,
					      "no agent matches the selector");
		store_strv_free(*eids, *n);
		*eids = NULL;
		return USPCTL_E_NO_TARGETS;
	}
	uspctl_out_expect(&r->out, *n);
	return 0;
}

static void show_agent(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char **eids;
	size_t n;
	if (resolve_some(r, c, line, &eids, &n) < 0)
		return;
	for (size_t i = 0; i < n && !r->fatal; i++) {
		struct uspc_err err = { 0 };
		cJSON *a = NULL;
		int rc;
		DB_RETRY(r, rc, err, store_query_agent_show(r->db, eids[i], &a, &err));
		if (rc < 0) {
			uspctl_out_fail(&r->out, c->id, eids[i], -1,
					rc == STORE_E_NOTFOUND ? USPCTL_E_UNKNOWN_AGENT
							       : USPCTL_E_DATABASE,
					err.msg, 0, NULL, NULL);
			continue;
		}
		char *text = cJSON_PrintUnformatted(a);
		uspctl_out_ok(&r->out, c->id, eids[i], -1, text ? text : "null", NULL, NULL);
		cJSON_free(text);
		cJSON_Delete(a);
	}
	store_strv_free(eids, n);
}

/* ---- tag / untag --------------------------------------------------------- */

static void tag(struct uspctl_run *r, const struct uspctl_cmd *c, long line, int add)
{
	char **eids;
	size_t n;
	struct uspc_err err = { 0 };
	struct store_selector sel;
	cJSON *arr = NULL;
	int rc = 0;
	for (size_t i = 0; i < c->n_strings; i++)
		if (!store_tag_valid(c->strings[i])) {
			uspctl_out_line_error(
				&r->out, c->id, line, USPCTL_E_BAD_FIELD,
				"a tag is 1 to 256 characters of A-Z a-z 0-9 _ . : - / +");
			return;
		}
	if (resolve_some(r, c, line, &eids, &n) < 0)
		return;
	store_selector_init(&sel);
	sel.eids = (const char *const *)eids;
	sel.n_eids = n;
	for (size_t i = 0; i < c->n_strings && rc == 0; i++)
		DB_RETRY(r, rc, err, store_query_tag(r->db, &sel, c->strings[i], add, NULL, &err));
	if (rc == 0)
		DB_RETRY(r, rc, err, store_query_agents(r->db, &sel, 0, &arr, &err));
	for (size_t i = 0; rc < 0 && i < n; i++)
		uspctl_out_fail(&r->out, c->id, eids[i], -1, USPCTL_E_DATABASE, err.msg, 0, NULL,
				NULL);
	for (const cJSON *a = arr ? arr->child : NULL; a; a = a->next) {
		const cJSON *eid = cJSON_GetObjectItemCaseSensitive(a, "eid");
		const cJSON *tags = cJSON_GetObjectItemCaseSensitive(a, "tags");
		char *t = tags ? cJSON_PrintUnformatted(tags) : NULL;
		struct store_buf b;
		store_buf_init(&b, (size_t)16 << 20);
		store_buf_adds(&b, "{\"tags\":");
		store_buf_adds(&b, t ? t : "[]");
		store_buf_adds(&b, "}");
		uspctl_out_ok(&r->out, c->id, cJSON_IsString(eid) ? eid->valuestring : "", -1,
			      store_buf_str(&b) ? store_buf_str(&b) : "{}", NULL, NULL);
		store_buf_fini(&b);
		cJSON_free(t);
	}
	cJSON_Delete(arr);
	store_strv_free(eids, n);
}

/* ---- snapshot ----------------------------------------------------------- */

static int snapshot_one(struct uspctl_run *r, const struct uspctl_cmd *c, const char *eid,
			cJSON **out, struct uspc_err *err)
{
	size_t n = c->n_strings ? c->n_strings : 1;
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		cJSON *part = NULL;
		int rc;
		const char *prefix = c->n_strings ? c->strings[i] : NULL;
		DB_RETRY(r, rc, *err, store_query_snapshot(r->db, eid, prefix, 0, &part, err));
		if (rc < 0) {
			cJSON_Delete(*out);
			*out = NULL;
			return rc;
		}
		if (!*out) {
			*out = part;
			continue;
		}
		while (part->child) {
			cJSON *e = cJSON_DetachItemViaPointer(part, part->child);
			if (cJSON_GetObjectItemCaseSensitive(*out, e->string))
				cJSON_Delete(e); /* overlapping prefixes */
			else
				cJSON_AddItemToObject(*out, e->string, e);
		}
		cJSON_Delete(part);
	}
	return 0;
}

static void snapshot(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char **eids;
	size_t n;
	if (resolve_some(r, c, line, &eids, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct uspc_err err = { 0 };
		cJSON *snap;
		if (snapshot_one(r, c, eids[i], &snap, &err) < 0) {
			uspctl_out_fail(&r->out, c->id, eids[i], -1,
					err.code == STORE_E_ARG ? USPCTL_E_BAD_FIELD
								: USPCTL_E_DATABASE,
					err.msg, 0, NULL, NULL);
			continue;
		}
		char *text = cJSON_PrintUnformatted(snap);
		uspctl_out_ok(&r->out, c->id, eids[i], -1, text ? text : "{}", NULL, NULL);
		cJSON_free(text);
		cJSON_Delete(snap);
	}
	store_strv_free(eids, n);
}

/* ---- task_status / cancel ---------------------------------------------------- */

/* c->strings as task ids; after a line error, its code. */
static int task_ids(struct uspctl_run *r, const struct uspctl_cmd *c, long line, int64_t **ids)
{
	if (c->n_strings > STORE_QUERY_MAX_IDS) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_BAD_FIELD,
				      "too many task ids in one command (limit 100000)");
		return USPCTL_E_BAD_FIELD;
	}
	*ids = malloc((c->n_strings + 1) * sizeof(**ids));
	if (!*ids) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_INTERNAL, "out of memory");
		return USPCTL_E_INTERNAL;
	}
	for (size_t i = 0; i < c->n_strings; i++) {
		char *end;
		const char *s = c->strings[i];
		long long v = strtoll(s, &end, 10);
		if (*s < '0' || *s > '9' || *end || v <= 0) {
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_BAD_FIELD,
					      "'tasks' must be task ids (positive integers)");
			free(*ids);
			*ids = NULL;
			return USPCTL_E_BAD_FIELD;
		}
		(*ids)[i] = v;
	}
	return 0;
}

static int64_t task_id_of(const cJSON *t)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
	if (cJSON_IsNumber(id))
		return (int64_t)id->valuedouble;
	return cJSON_IsString(id) ? strtoll(id->valuestring, NULL, 10) : -1;
}

static int cmp_task(const void *a, const void *b)
{
	int64_t x = task_id_of(*(const cJSON *const *)a), y = task_id_of(*(const cJSON *const *)b);
	return x < y ? -1 : x > y;
}

/* The task objects of arr sorted by id, for lookups (NULL when empty). */
static const cJSON **index_tasks(const cJSON *arr, size_t *n)
{
	*n = 0;
	size_t cap = (size_t)cJSON_GetArraySize(arr);
	const cJSON **v = malloc((cap + 1) * sizeof(*v));
	for (const cJSON *a = arr ? arr->child : NULL; v && a; a = a->next)
		v[(*n)++] = a;
	if (v)
		qsort(v, *n, sizeof(*v), cmp_task);
	return v;
}

static const cJSON *find_task(const cJSON **v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int64_t m = task_id_of(v[mid]);
		if (m == id)
			return v[mid];
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Print one line per id: the task, not_cancelable, or unknown_task. */
static void print_tasks(struct uspctl_run *r, const struct uspctl_cmd *c, long line,
			const int64_t *ids, size_t n, const cJSON *arr, int cancel)
{
	size_t n_idx;
	const cJSON **idx = index_tasks(arr, &n_idx);
	for (size_t i = 0; i < n; i++) {
		const cJSON *t = idx ? find_task(idx, n_idx, ids[i]) : NULL;
		if (!t) {
			char msg[96];
			snprintf(msg, sizeof(msg), "task %lld does not exist", (long long)ids[i]);
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_UNKNOWN_TASK, msg);
			continue;
		}
		const cJSON *eid = cJSON_GetObjectItemCaseSensitive(t, "eid");
		const cJSON *state = cJSON_GetObjectItemCaseSensitive(t, "state");
		const char *agent = cJSON_IsString(eid) ? eid->valuestring : "";
		const char *st = cJSON_IsString(state) ? state->valuestring : "?";
		uspctl_out_expect(&r->out, 1);
		if (cancel && strcmp(st, "canceled") != 0) {
			char msg[160];
			snprintf(msg, sizeof(msg),
				 "task %lld is %s: only queued tasks can be canceled",
				 (long long)ids[i], st);
			uspctl_out_fail(&r->out, c->id, agent, ids[i], USPCTL_E_NOT_CANCELABLE, msg,
					0, NULL, NULL);
			continue;
		}
		char *text = cJSON_PrintUnformatted(t);
		uspctl_out_ok(&r->out, c->id, agent, ids[i], text ? text : "null", NULL, NULL);
		cJSON_free(text);
	}
	free(idx);
}

static void tasks_op(struct uspctl_run *r, const struct uspctl_cmd *c, long line, int cancel)
{
	int64_t *ids;
	cJSON *arr = NULL;
	struct uspc_err err = { 0 };
	int rc = 0;
	if (task_ids(r, c, line, &ids) < 0)
		return;
	if (cancel)
		DB_RETRY(r, rc, err,
			 store_query_cancel(r->db, ids, c->n_strings, NULL, NULL, &err));
	if (rc == 0)
		DB_RETRY(r, rc, err, store_query_task_status(r->db, ids, c->n_strings, &arr, &err));
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_DATABASE, err.msg);
	else
		print_tasks(r, c, line, ids, c->n_strings, arr, cancel);
	cJSON_Delete(arr);
	free(ids);
}

/* ---- rejections ----------------------------------------------------------- */

#define REJECTIONS_DEFAULT 100

/* The rejections table, newest first: one result line per row (none when
 * nothing matches). */
static void rejections(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	char like[2 * 512 + 2], since[32], limit[24];
	struct uspc_err err = { 0 };
	PGresult *res = NULL;
	int rc;
	if (c->rej_sender && store_glob_to_like(c->rej_sender, like, sizeof(like)) < 0) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_BAD_FIELD,
				      "'sender' is not a valid glob (it ends in a lone \\)");
		return;
	}
	snprintf(since, sizeof(since), "%.3f", c->since_s);
	snprintf(limit, sizeof(limit), "%ld", c->limit > 0 ? c->limit : REJECTIONS_DEFAULT);
	const char *p[4] = { c->rej_sender ? like : NULL, c->rej_reason,
			     c->since_s > 0 ? since : NULL, limit };
	DB_RETRY(r, rc, err, store_exec(r->db, uspctl_stmt_rejections, 4, p, &res, &err));
	if (rc < 0) {
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_DATABASE, err.msg);
		PQclear(res);
		return;
	}
	int n = PQntuples(res);
	uspctl_out_expect(&r->out, (uint64_t)n);
	for (int i = 0; i < n && !r->out.write_error; i++) {
		/* compact, as every other result line */
		cJSON *row = cJSON_Parse(PQgetvalue(res, i, 0));
		char *text = row ? cJSON_PrintUnformatted(row) : NULL;
		uspctl_out_result(&r->out, c->id, text ? text : PQgetvalue(res, i, 0));
		cJSON_free(text);
		cJSON_Delete(row);
	}
	PQclear(res);
}

void uspctl_fleet(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	switch (c->op) {
	case USPCTL_OP_LIST_AGENTS:
		list_agents(r, c, line);
		break;
	case USPCTL_OP_SHOW_AGENT:
		show_agent(r, c, line);
		break;
	case USPCTL_OP_TAG:
		tag(r, c, line, 1);
		break;
	case USPCTL_OP_UNTAG:
		tag(r, c, line, 0);
		break;
	case USPCTL_OP_SNAPSHOT:
		snapshot(r, c, line);
		break;
	case USPCTL_OP_TASK_STATUS:
		tasks_op(r, c, line, 0);
		break;
	case USPCTL_OP_CANCEL:
		tasks_op(r, c, line, 1);
		break;
	case USPCTL_OP_REJECTIONS:
		rejections(r, c, line);
		break;
	case USPCTL_OP_NOTIFICATIONS:
	case USPCTL_OP_TASK_LIST:
	case USPCTL_OP_OPERATION_RESULTS:
	case USPCTL_OP_TAG_LIST:
	case USPCTL_OP_FLEET_SUMMARY:
		uspctl_reads(r, c, line);
		break;
	case USPCTL_OP_TOKEN_CREATE:
	case USPCTL_OP_TOKEN_LIST:
	case USPCTL_OP_TOKEN_REVOKE:
		uspctl_token(r, c, line);
		break;
	default:
		uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_UNKNOWN_OP,
				      "op is not a fleet op");
	}
}
