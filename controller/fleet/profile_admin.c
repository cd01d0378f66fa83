/*
 * profile_admin.c — the operator's side of provisioning profiles
 * (profile_admin.h): profile_put, _plan, _status, _list, _delete,
 * _reconcile, _history, the path owners and per-device variables. The
 * statements are in sql/prof_admin_*.sql; the definition's rules are
 * profile_spec.c's; a plan's comparison is profile_run.c's, in a dry run.
 * Owns nothing between calls.
 */
#include "profile_admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet_admin.h"
#include "fleet_admin_internal.h"
#include "fleet_stmt.h"
#include "profile_run.h"
#include "profile_spec.h"
#include "store_query.h"

#define PLAN_POLL_MS 200

const char *const profile_admin_line_keys[] = {
	"id", "op", "allow_empty", "sample", "timeout", NULL
};

static const char *col(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static int64_t col_i64(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

/* A PostgreSQL text[] literal of strings (quoted, \ and " escaped); NULL
 * on out of memory. */
static char *text_array(const char *const *v, size_t n)
{
	size_t cap = 3;
	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(v[i]) + 3;
	char *s = malloc(cap), *o = s;
	if (!s)
		return NULL;
	*o++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				*o++ = '\\';
			*o++ = *c;
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = 0;
	return s;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Parse the line's definition. */
static int parse_def(const cJSON *def, struct prof_spec *s, struct uspc_err *err)
{
	prof_spec_init(s);
	return prof_spec_parse(def, profile_admin_line_keys, s, err);
}

/* Count (and sample) the agents sel selects: matched, online, sample eids. */
static int match(PGconn *c, const char *sel, int sample, int64_t *n, int64_t *online, cJSON **eids,
		 struct uspc_err *err)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", sample);
	const char *p[] = { sel, lim };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_match, 2, p, &r, err);
	if (rc == 0) {
		*n = col_i64(r, 0, 0);
		*online = col_i64(r, 0, 1);
		if (eids && !(*eids = cJSON_Parse(col(r, 0, 2))))
			rc = adm_oom(err);
	}
	PQclear(r);
	return rc;
}

int profile_admin_put(PGconn *c, const cJSON *def, int allow_empty, const char *actor, cJSON **out,
		      struct uspc_err *err)
{
	struct prof_spec s;
	char **paths = NULL, **vars = NULL;
	size_t n_paths = 0, n_vars = 0;
	char *defs = NULL, *sel = NULL, *paths_arr = NULL, *vars_arr = NULL;
	cJSON *norm = NULL;
	PGresult *r = NULL;
	int rc = parse_def(def, &s, err);
	if (rc < 0)
		goto out;
	if (prof_spec_paths(&s, &paths, &n_paths) < 0 || prof_spec_vars(&s, &vars, &n_vars) < 0 ||
	    !(norm = prof_spec_to_json(&s)) || !(defs = cJSON_PrintUnformatted(norm)) ||
	    !(sel = cJSON_PrintUnformatted(s.selector)) ||
	    !(paths_arr = text_array((const char *const *)paths, n_paths)) ||
	    !(vars_arr = text_array((const char *const *)vars, n_vars))) {
		rc = adm_oom(err);
		goto out;
	}
	if ((rc = adm_q(c, "BEGIN", 0, NULL, NULL, err)) < 0)
		goto out;
	/* variables no agent has */
	const char *pv[] = { vars_arr };
	if ((rc = adm_q(c, fleet_stmt_prof_admin_vars_unknown, 1, pv, &r, err)) < 0)
		goto rollback;
	if (PQntuples(r) > 0) {
		rc = uspc_err_set(err, USPCTL_E_BAD_FIELD,
				  "template ${var:%s}: no agent has this variable (load it with "
				  "profile_vars first)",
				  col(r, 0, 0));
		goto rollback;
	}
	PQclear(r);
	r = NULL;
	/* the priority tie */
	char prio[24];
	snprintf(prio, sizeof(prio), "%" PRId64, s.priority);
	const char *pc[] = { s.name, prio, paths_arr };
	if ((rc = adm_q(c, fleet_stmt_prof_admin_conflicts, 3, pc, &r, err)) < 0)
		goto rollback;
	if (PQntuples(r) > 0) {
		rc = uspc_err_set(err, USPCTL_E_PROFILE_CONFLICT,
				  "profile '%s' has the same priority %s and also names %s: give "
				  "one of them another priority (the higher one wins the path)",
				  col(r, 0, 0), prio,
				  col(r, 0, 1) ? col(r, 0, 1) : "a shared path");
		goto rollback;
	}
	PQclear(r);
	r = NULL;
	int64_t targets = 0, online = 0;
	if ((rc = match(c, sel, 0, &targets, &online, NULL, err)) < 0)
		goto rollback;
	if (targets == 0 && !allow_empty) {
		rc = uspc_err_set(err, USPCTL_E_NO_TARGETS,
				  "the selector selects no agent today; give \"allow_empty\": true "
				  "to create the profile for agents still to come");
		goto rollback;
	}
	const char *pp[] = { s.name,
			     defs,
			     sel,
			     prio,
			     s.mode == PROF_AUDIT  ? "audit"
			     : s.mode == PROF_ONCE ? "once"
						   : "enforce",
			     paths_arr,
			     actor };
	if ((rc = adm_q(c, fleet_stmt_prof_admin_put, 7, pp, &r, err)) < 0)
		goto rollback;
	int64_t version = col_i64(r, 0, 0);
	int fresh = col(r, 0, 1) && col(r, 0, 1)[0] == 't';
	if ((rc = adm_q(c, "COMMIT", 0, NULL, NULL, err)) < 0)
		goto out;
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "profile", s.name);
	cJSON_AddNumberToObject(*out, "version", (double)version);
	cJSON_AddBoolToObject(*out, "new", fresh);
	cJSON_AddNumberToObject(*out, "targets", (double)targets);
	cJSON_AddNumberToObject(*out, "online", (double)online);
	goto out;
rollback : {
	PGresult *x = PQexec(c, "ROLLBACK");
	PQclear(x);
}
out:
	PQclear(r);
	prof_spec_fini(&s);
	strv_free(paths, n_paths);
	strv_free(vars, n_vars);
	cJSON_Delete(norm);
	free(defs);
	free(sel);
	free(paths_arr);
	free(vars_arr);
	return rc;
}

/* ---- plan ----------------------------------------------------------------------------- */

/* The current definition of profile name, as JSON. */
static int current_def(PGconn *c, const char *name, cJSON **def, int64_t *version,
		       struct uspc_err *err)
{
	const char *p[] = { name };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_status, 1, p, &r, err);
	if (rc == 0 && (PQntuples(r) == 0 || col(r, 0, 1)[0] == 't'))
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_PROFILE, "no profile '%.64s'", name);
	if (rc == 0) {
		*version = col_i64(r, 0, 0);
		if (!(*def = cJSON_Parse(col(r, 0, 2))))
			rc = adm_oom(err);
	}
	PQclear(r);
	return rc;
}

struct plan_agent {
	char eid[257];
	PGresult *row; /* prof_admin_agent.sql */
	cJSON *vars, *tags;
	const char **tagv;
	struct prun_ctx ctx;
	struct prun_step s;
	int64_t task;
	char error[300];
};

static void plan_agent_fini(struct plan_agent *a)
{
	PQclear(a->row);
	cJSON_Delete(a->vars);
	cJSON_Delete(a->tags);
	free(a->tagv);
	prun_step_fini(&a->s);
}

static int plan_agent_load(PGconn *c, struct plan_agent *a, struct uspc_err *err)
{
	const char *p[] = { a->eid };
	int rc = adm_q(c, fleet_stmt_prof_admin_agent, 1, p, &a->row, err);
	if (rc < 0)
		return rc;
	if (PQntuples(a->row) == 0) {
		snprintf(a->error, sizeof(a->error), "not in the inventory");
		return 0;
	}
	struct prof_tpl_ctx *t = &a->ctx.tpl;
	t->eid = a->eid;
	t->serial = col(a->row, 0, 9);
	t->oui = col(a->row, 0, 10);
	t->model = col(a->row, 0, 11);
	t->manufacturer = col(a->row, 0, 12);
	t->product_class = col(a->row, 0, 13);
	t->software_version = col(a->row, 0, 14);
	a->tags = cJSON_Parse(col(a->row, 0, 15));
	int n = cJSON_GetArraySize(a->tags);
	if (!(a->tagv = calloc((size_t)n + 1, sizeof(*a->tagv))))
		return adm_oom(err);
	int k = 0;
	for (cJSON *x = a->tags ? a->tags->child : NULL; x; x = x->next)
		if (cJSON_IsString(x))
			a->tagv[k++] = x->valuestring;
	t->tags = a->tagv;
	t->n_tags = (size_t)k;
	a->vars = col(a->row, 0, 16) ? cJSON_Parse(col(a->row, 0, 16)) : NULL;
	t->vars = a->vars;
	a->ctx.boot_key = "";
	a->ctx.now_s = (int64_t)time(NULL);
	a->ctx.contest_count = 1000;
	a->ctx.contest_window_s = 1;
	a->ctx.stamp_path = "";
	a->ctx.dry_run = 1;
	a->ctx.cwmp = col(a->row, 0, 17) && strcmp(col(a->row, 0, 17), "t") == 0;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until the plan's Gets ended or the time is up; fill each agent's
 * step from its answer. */
static int plan_wait(PGconn *c, struct plan_agent *a, size_t n, const struct prun_profile *pp,
		     double timeout_s, struct uspc_err *err)
{
	int64_t until = now_ms() + (int64_t)(timeout_s * 1000);
	int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	if (!ids)
		return adm_oom(err);
	int rc = 0;
	for (;;) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (a[i].task > 0)
				ids[k++] = a[i].task;
		if (k == 0)
			break;
		cJSON *st = NULL;
		rc = store_query_task_status(c, ids, k, &st, err);
		if (rc < 0) {
			rc = uspc_err_set(err, USPCTL_E_DATABASE, "%s", err->msg);
			break;
		}
		for (const cJSON *t = st ? st->child : NULL; t; t = t->next) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
			const char *state =
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "state"));
			if (!cJSON_IsNumber(id) || !state || !strcmp(state, "queued") ||
			    !strcmp(state, "sent"))
				continue;
			for (size_t i = 0; i < n; i++) {
				if (a[i].task != (int64_t)id->valuedouble)
					continue;
				a[i].task = 0;
				struct prun_answer ans = { 0 };
				const cJSON *res = cJSON_GetObjectItemCaseSensitive(t, "result");
				if (res && !cJSON_IsNull(res)) {
					ans.answered = 1;
					ans.result = res;
				}
				cJSON *work = a[i].s.work;
				a[i].s.work = NULL;
				prun_step_fini(&a[i].s);
				memset(&a[i].s, 0, sizeof(a[i].s));
				struct uspc_err e2 = { 0 };
				if (prun_next(pp, 1, &a[i].ctx, work, &ans, &a[i].s, &e2) < 0)
					snprintf(a[i].error, sizeof(a[i].error), "%s", e2.msg);
				else if (a[i].s.interrupted)
					snprintf(a[i].error, sizeof(a[i].error),
						 "no answer to the Get (task %s)", state);
				cJSON_Delete(work);
			}
		}
		cJSON_Delete(st);
		if (now_ms() >= until) {
			for (size_t i = 0; i < n; i++)
				if (a[i].task > 0)
					snprintf(a[i].error, sizeof(a[i].error),
						 "no answer within %.0f s", timeout_s);
			break;
		}
		struct timespec ts = { 0, PLAN_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
	free(ids);
	return rc;
}

int profile_admin_plan(PGconn *c, const cJSON *def, int sample, double timeout_s, cJSON **out,
		       struct uspc_err *err)
{
	struct prof_spec s;
	cJSON *owned = NULL, *eids = NULL;
	char *sel = NULL;
	struct plan_agent *a = NULL;
	size_t n = 0;
	int64_t version = 0;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(def, "name");
	int only_name = cJSON_IsString(name) && cJSON_GetArraySize((cJSON *)def) >= 1;
	for (const cJSON *f = def->child; only_name && f; f = f->next) {
		int line_key = 0;
		for (const char *const *k = profile_admin_line_keys; *k; k++)
			line_key |= !strcmp(f->string, *k);
		only_name = line_key || !strcmp(f->string, "name");
	}
	int rc = 0;
	prof_spec_init(&s);
	if (only_name) {
		rc = current_def(c, name->valuestring, &owned, &version, err);
		if (rc == 0)
			rc = prof_spec_parse(owned, NULL, &s, err);
	} else {
		rc = prof_spec_parse(def, profile_admin_line_keys, &s, err);
	}
	if (rc < 0)
		goto out;
	if (!(sel = cJSON_PrintUnformatted(s.selector))) {
		rc = adm_oom(err);
		goto out;
	}
	int64_t targets = 0, online = 0;
	if ((rc = match(c, sel, sample, &targets, &online, &eids, err)) < 0)
		goto out;
	n = (size_t)cJSON_GetArraySize(eids);
	if (!(a = calloc(n ? n : 1, sizeof(*a)))) {
		rc = adm_oom(err);
		goto out;
	}
	struct prun_profile pp = { .spec = &s, .version = version ? version : 1, .state = NULL };
	size_t i = 0;
	for (const cJSON *e = eids->child; e && i < n; e = e->next, i++) {
		snprintf(a[i].eid, sizeof(a[i].eid), "%s", e->valuestring);
		if ((rc = plan_agent_load(c, &a[i], err)) < 0)
			goto out;
		if (a[i].error[0])
			continue;
		struct uspc_err e2 = { 0 };
		if (prun_begin(&pp, 1, &a[i].ctx, &a[i].s, &e2) < 0) {
			snprintf(a[i].error, sizeof(a[i].error), "%s", e2.msg);
			continue;
		}
		if (a[i].s.done)
			continue;
		char *req = cJSON_PrintUnformatted(a[i].s.request);
		struct store_task_spec ts = { .op = a[i].s.op,
					      .request_json = req,
					      .batch_id = "profile_plan",
					      .expires_in_ms = (int64_t)(timeout_s * 1000) };
		const char *eid = a[i].eid;
		if (!req) {
			rc = adm_oom(err);
			goto out;
		}
		rc = store_query_insert_tasks(c, &eid, 1, &ts, &a[i].task, err);
		free(req);
		if (rc < 0) {
			rc = uspc_err_set(err, USPCTL_E_DATABASE, "%s", err->msg);
			goto out;
		}
	}
	if ((rc = plan_wait(c, a, n, &pp, timeout_s, err)) < 0)
		goto out;
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "profile", s.name);
	cJSON_AddNumberToObject(*out, "targets", (double)targets);
	cJSON_AddNumberToObject(*out, "online", (double)online);
	cJSON *arr = cJSON_AddArrayToObject(*out, "sample");
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "agent", a[i].eid);
		if (a[i].error[0]) {
			cJSON_AddStringToObject(o, "error", a[i].error);
		} else if (a[i].s.n_verdicts > 0) {
			const struct prun_verdict *v = &a[i].s.verdicts[0];
			cJSON_AddStringToObject(o, "outcome", prun_outcome_name(v->outcome));
			if (v->detail[0])
				cJSON_AddStringToObject(o, "detail", v->detail);
			const cJSON *ch = cJSON_GetObjectItemCaseSensitive(v->history, "changes");
			cJSON_AddItemToObject(o, "changes",
					      ch ? cJSON_Duplicate(ch, 1) : cJSON_CreateArray());
		}
		cJSON_AddItemToArray(arr, o);
	}
out:
	for (i = 0; a && i < n; i++)
		plan_agent_fini(&a[i]);
	free(a);
	prof_spec_fini(&s);
	cJSON_Delete(owned);
	cJSON_Delete(eids);
	free(sel);
	return rc;
}

/* ---- reports and controls ------------------------------------------------------------- */

static cJSON *counts_of(const char *json)
{
	static const char *const keys[] = { "compliant",      "drifted",   "failed",
					    "not_applicable", "contested", "pending" };
	cJSON *in = json ? cJSON_Parse(json) : NULL, *o = cJSON_CreateObject();
	double targeted = 0;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
		targeted += cJSON_IsNumber(v) ? v->valuedouble : 0;
	}
	cJSON_AddNumberToObject(o, "targeted", targeted);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keys[i]);
		cJSON_AddNumberToObject(o, keys[i], cJSON_IsNumber(v) ? v->valuedouble : 0);
	}
	cJSON_Delete(in);
	return o;
}

int profile_admin_status(PGconn *c, const char *name, cJSON **out, struct uspc_err *err)
{
	const char *p[] = { name };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_status, 1, p, &r, err);
	if (rc == 0 && PQntuples(r) == 0)
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_PROFILE, "no profile '%.64s'", name);
	if (rc == 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		cJSON_AddNumberToObject(o, "version", (double)col_i64(r, 0, 0));
		cJSON_AddBoolToObject(o, "deleted", col(r, 0, 1)[0] == 't');
		cJSON_AddNumberToObject(o, "priority", (double)col_i64(r, 0, 3));
		cJSON_AddStringToObject(o, "mode", col(r, 0, 4));
		cJSON_AddItemToObject(o, "counts", counts_of(col(r, 0, 7)));
		cJSON_AddNumberToObject(o, "behind", (double)col_i64(r, 0, 8));
		cJSON_AddStringToObject(o, "created_at", col(r, 0, 5));
		if (col(r, 0, 6))
			cJSON_AddStringToObject(o, "created_by", col(r, 0, 6));
		cJSON *d = cJSON_Parse(col(r, 0, 2));
		cJSON_AddItemToObject(o, "definition", d ? d : cJSON_CreateNull());
		*out = o;
	}
	PQclear(r);
	return rc;
}

int profile_admin_list(PGconn *c, cJSON **out, struct uspc_err *err)
{
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_list, 0, NULL, &r, err);
	if (rc == 0) {
		cJSON *arr = cJSON_CreateArray();
		for (int i = 0; i < PQntuples(r); i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", col(r, i, 0));
			cJSON_AddNumberToObject(o, "version", (double)col_i64(r, i, 1));
			cJSON_AddBoolToObject(o, "deleted", col(r, i, 2)[0] == 't');
			cJSON_AddNumberToObject(o, "priority", (double)col_i64(r, i, 3));
			cJSON_AddStringToObject(o, "mode", col(r, i, 4));
			cJSON_AddStringToObject(o, "updated_at", col(r, i, 5));
			cJSON_AddItemToObject(o, "counts", counts_of(col(r, i, 6)));
			cJSON_AddItemToArray(arr, o);
		}
		*out = arr;
	}
	PQclear(r);
	return rc;
}

int profile_admin_delete(PGconn *c, const char *name, cJSON **out, struct uspc_err *err)
{
	const char *p[] = { name };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_delete, 1, p, &r, err);
	if (rc == 0 && col_i64(r, 0, 0) == 0)
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_PROFILE,
				  col(r, 0, 3)[0] == 't' ? "profile '%.64s' is already deleted"
							 : "no profile '%.64s'",
				  name);
	if (rc == 0) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "profile", name);
		cJSON_AddBoolToObject(*out, "deleted", 1);
		cJSON_AddNumberToObject(*out, "agents", (double)col_i64(r, 0, 1));
	}
	PQclear(r);
	return rc;
}

int profile_admin_reconcile(PGconn *c, const char *name, const char *const *eids, size_t n,
			    int force_write_only, int reset_contested, cJSON **out,
			    struct uspc_err *err)
{
	char *arr = eids ? text_array(eids, n) : NULL;
	if (eids && !arr)
		return adm_oom(err);
	const char *p[] = { name, arr, force_write_only ? "t" : "f", reset_contested ? "t" : "f" };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_reconcile, 4, p, &r, err);
	if (rc == 0 && col(r, 0, 2)[0] != 't')
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_PROFILE, "no profile '%.64s'", name);
	if (rc == 0) {
		*out = cJSON_CreateObject();
		cJSON_AddStringToObject(*out, "profile", name);
		cJSON_AddNumberToObject(*out, "queued", (double)col_i64(r, 0, 0));
		cJSON_AddNumberToObject(*out, "ready", (double)col_i64(r, 0, 1));
	}
	PQclear(r);
	free(arr);
	return rc;
}

/* Rows of one JSON text column as an array. */
static int json_rows(PGresult *r, cJSON **out, struct uspc_err *err)
{
	cJSON *arr = cJSON_CreateArray();
	if (!arr)
		return adm_oom(err);
	for (int i = 0; i < PQntuples(r); i++) {
		cJSON *o = cJSON_Parse(col(r, i, 0));
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	*out = arr;
	return 0;
}

int profile_admin_history(PGconn *c, const char *const *eids, size_t n, const char *name,
			  long limit, cJSON **out, struct uspc_err *err)
{
	char *arr = text_array(eids, n), lim[24];
	if (!arr)
		return adm_oom(err);
	snprintf(lim, sizeof(lim), "%ld", limit > 0 ? limit : PROFILE_HISTORY_DEFAULT);
	const char *p[] = { arr, name, lim };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_history, 3, p, &r, err);
	if (rc == 0)
		rc = json_rows(r, out, err);
	PQclear(r);
	free(arr);
	return rc;
}

int profile_admin_paths(PGconn *c, const char *const *eids, size_t n, const char *prefix,
			cJSON **out, struct uspc_err *err)
{
	char *arr = text_array(eids, n);
	if (!arr)
		return adm_oom(err);
	const char *p[] = { arr, prefix ? prefix : "" };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_prof_admin_paths, 2, p, &r, err);
	if (rc == 0)
		rc = json_rows(r, out, err);
	PQclear(r);
	free(arr);
	return rc;
}

int profile_admin_vars(PGconn *c, const char *const *eids, const cJSON *const *vars, size_t n,
		       cJSON **out, struct uspc_err *err)
{
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; list && i < n; i++) {
		if (!cJSON_IsObject(vars[i])) {
			cJSON_Delete(list);
			return uspc_err_set(err, USPCTL_E_BAD_FIELD,
					    "the variables of %.256s must be an object", eids[i]);
		}
		for (const cJSON *v = vars[i]->child; v; v = v->next)
			if (!cJSON_IsString(v) || strlen(v->string) == 0 ||
			    strlen(v->string) > PROF_VAR_NAME_MAX ||
			    strlen(v->valuestring) > PROF_VALUE_MAX) {
				cJSON_Delete(list);
				return uspc_err_set(
					err, USPCTL_E_BAD_FIELD,
					"variable '%.64s' of %.256s: names are 1 to %d bytes and "
					"values strings of at most %d bytes",
					v->string, eids[i], PROF_VAR_NAME_MAX, PROF_VALUE_MAX);
			}
		cJSON_AddItemToArray(list, cJSON_Duplicate(vars[i], 1));
	}
	char *arr = text_array(eids, n), *js = list ? cJSON_PrintUnformatted(list) : NULL;
	cJSON_Delete(list);
	int rc;
	if (!arr || !js) {
		rc = adm_oom(err);
	} else {
		const char *p[] = { arr, js };
		rc = adm_q(c, fleet_stmt_prof_admin_vars, 2, p, NULL, err);
	}
	if (rc == 0) {
		*out = cJSON_CreateObject();
		cJSON_AddNumberToObject(*out, "agents", (double)n);
	}
	free(arr);
	free(js);
	return rc;
}
