/*
 * profile_pass.c — one pass of the profile engine (profile_pass,
 * fleet_engine_internal.h), on the engine's thread and connection:
 *   1. merge the kicks (onboardings, reconciles, the walks below) into
 *      profile_runs, one run per agent;
 *   2. walk the scope of each profile whose version is new or whose last
 *      walk is old: pending rows for agents it now selects, out_of_scope
 *      for those it no longer does, kicks for the ready ones;
 *   3. kick agents whose retry or drift check is due;
 *   4. start waiting runs, within profile_max_inflight runs under way
 *      across all engines: choose the profiles that take part, Get;
 *   5. advance runs whose request ended (profile_run.c decides what next),
 *      and record the verdicts, the audit rows and the path owners.
 * Each run's step is one transaction under the run's row lock (FOR UPDATE
 * SKIP LOCKED), so engines of several daemons share the work and a daemon
 * may die at any point: the step's request and the run's state commit
 * together or not at all. All state is in the database; the only memory
 * kept between passes is a cache of parsed definitions (immutable rows).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "fleet_engine_internal.h"
#include "fleet_stmt.h"
#include "log.h"
#include "profile_run.h"
#include "profile_spec.h"

#define LOG_COMP "profile"
#define KICKS_PER_PASS 5000
#define DUE_PER_PASS 2000
#define SCOPE_ROWS_PER_WALK 20000
#define RUN_STEPS_PER_TXN 100
#define RUN_MAX_AGE_S 900        /* a run under way longer is cut short */
#define TASK_UNSENT_EXPIRY_S 120 /* a run's request not sent by then expires */
#define RUN_ATTEMPTS_MAX 5       /* runs cut short in a row before giving up until a trigger */
#define RETRY_BASE_S 60
#define RETRY_MAX_S 3600

/* ---- parsed definitions, by (name, version) --------------------------------------- */

struct prof_cached {
	char name[PROF_NAME_MAX + 1];
	int64_t version;
	struct prof_spec spec;
	int ok;
};

struct prof_cache {
	struct prof_cached e[PROFILE_CACHE_MAX];
	size_t n;
};

void profile_cache_free(struct prof_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		prof_spec_fini(&c->e[i].spec);
	free(c);
}

/* The parsed definition of name@version (text: its JSON), or NULL when it
 * does not parse (logged once). */
static const struct prof_spec *cached_spec(struct fleet_engine *e, const char *name,
					   int64_t version, const char *text)
{
	if (!e->pcache && !(e->pcache = calloc(1, sizeof(*e->pcache))))
		return NULL;
	struct prof_cache *c = e->pcache;
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].version == version && strcmp(c->e[i].name, name) == 0)
			return c->e[i].ok ? &c->e[i].spec : NULL;
	if (c->n == PROFILE_CACHE_MAX) {
		for (size_t i = 0; i < c->n; i++)
			prof_spec_fini(&c->e[i].spec);
		c->n = 0;
	}
	struct prof_cached *x = &c->e[c->n++];
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->version = version;
	prof_spec_init(&x->spec);
	struct uspc_err err = { 0 };
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	x->ok = j && prof_spec_parse(j, NULL, &x->spec, &err) == 0;
	cJSON_Delete(j);
	if (!x->ok)
		log_error(LOG_COMP,
			  "profile %s version %" PRId64 ": stored definition unreadable: %s", name,
			  version, err.msg[0] ? err.msg : "not JSON");
	return x->ok ? &x->spec : NULL;
}

/* ---- helpers -------------------------------------------------------------------------- */

static const char *col(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static int64_t col_i64(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static int col_bool(PGresult *r, int row, int c)
{
	return !PQgetisnull(r, row, c) && PQgetvalue(r, row, c)[0] == 't';
}

static int exec_hot(struct fleet_engine *e, const char *sql, int n, const char *const *p,
		    PGresult **r, struct uspc_err *err)
{
	return store_exec_prepared(e->db, &e->prep, sql, n, p, r, err);
}

static int has_word(const char *csv, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = csv; p && *p;) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		if (len == n && strncmp(p, w, n) == 0)
			return 1;
		p = q ? q + 1 : NULL;
	}
	return 0;
}

/* A factory reset, by the Cause of a Boot! (TR-181: LocalFactoryReset,
 * RemoteFactoryReset). */
static int cause_is_factory_reset(const char *cause)
{
	return cause && strstr(cause, "FactoryReset") != NULL;
}

/* The agent as the templates and the run see it; strings point into the
 * result row or into tags/vars (owned here). */
struct agent_ctx {
	char eid[257];
	struct prun_ctx ctx;
	cJSON *tags_json, *vars;
	const char **tags;
	char boot_key[32];
};

static void agent_ctx_fini(struct agent_ctx *a)
{
	cJSON_Delete(a->tags_json);
	cJSON_Delete(a->vars);
	free(a->tags);
	memset(a, 0, sizeof(*a));
}

/* Fill a from columns c0.. of row: serial, oui, model, manufacturer,
 * product_class, software_version, tags (JSON), vars (JSON or NULL); and
 * from column c_cwmp whether the agent is a TR-069 device. */
static int agent_ctx_load(struct fleet_engine *e, struct agent_ctx *a, const char *eid, PGresult *r,
			  int row, int c0, int c_cwmp, int64_t boot_key)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->eid, sizeof(a->eid), "%s", eid);
	struct prof_tpl_ctx *t = &a->ctx.tpl;
	t->eid = a->eid;
	t->serial = col(r, row, c0);
	t->oui = col(r, row, c0 + 1);
	t->model = col(r, row, c0 + 2);
	t->manufacturer = col(r, row, c0 + 3);
	t->product_class = col(r, row, c0 + 4);
	t->software_version = col(r, row, c0 + 5);
	a->tags_json = cJSON_Parse(col(r, row, c0 + 6) ? col(r, row, c0 + 6) : "[]");
	int n = cJSON_GetArraySize(a->tags_json);
	a->tags = calloc((size_t)n + 1, sizeof(*a->tags));
	if (!a->tags)
		return -1;
	int k = 0;
	for (cJSON *x = a->tags_json ? a->tags_json->child : NULL; x; x = x->next)
		if (cJSON_IsString(x))
			a->tags[k++] = x->valuestring;
	t->tags = a->tags;
	t->n_tags = (size_t)k;
	const char *vars = col(r, row, c0 + 7);
	a->vars = vars ? cJSON_Parse(vars) : NULL;
	t->vars = a->vars;
	snprintf(a->boot_key, sizeof(a->boot_key), "%" PRId64, boot_key);
	a->ctx.boot_key = boot_key ? a->boot_key : "";
	a->ctx.now_s = (int64_t)time(NULL);
	a->ctx.contest_count = e->o.profile_contest_count;
	a->ctx.contest_window_s = e->o.profile_contest_window_s;
	a->ctx.stamp_path = e->o.profile_stamp_path ? e->o.profile_stamp_path : "";
	a->ctx.cwmp = col_bool(r, row, c_cwmp);
	return 0;
}

/* One profile of a run, from prof_inscope.sql / prof_run_profiles.sql. */
struct member {
	char name[PROF_NAME_MAX + 1];
	int64_t version;
	const struct prof_spec *spec;
	struct prof_spec passive; /* a shallow copy in audit mode (once, applied) */
	int is_passive;
	int has_row;
	int64_t row_version;
	char row_state[20];
	cJSON *pstate;
	char fw[129];
	int64_t boot_seen;
	int applied;
	int64_t attempt;
};

static void members_free(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(m[i].pstate);
	free(m);
}

/* Read member rows first .. first+count-1 of r (columns: eid, name,
 * version, definition, priority, row version, row state, pstate, fw,
 * boot_seen, applied, attempt [, passive]). */
static struct member *members_read(struct fleet_engine *e, PGresult *r, int first, int count,
				   size_t *n_out)
{
	struct member *m = calloc(count > 0 ? (size_t)count : 1, sizeof(*m));
	if (!m)
		return NULL;
	size_t k = 0;
	for (int i = first; i < first + count; i++) {
		struct member *x = &m[k];
		snprintf(x->name, sizeof(x->name), "%s", col(r, i, 1));
		x->version = col_i64(r, i, 2);
		x->spec = cached_spec(e, x->name, x->version, col(r, i, 3));
		if (!x->spec)
			continue;
		x->has_row = !PQgetisnull(r, i, 5);
		x->row_version = col_i64(r, i, 5);
		snprintf(x->row_state, sizeof(x->row_state), "%s", col(r, i, 6));
		const char *ps = col(r, i, 7);
		x->pstate = ps ? cJSON_Parse(ps) : NULL;
		snprintf(x->fw, sizeof(x->fw), "%s", col(r, i, 8) ? col(r, i, 8) : "");
		x->boot_seen = col_i64(r, i, 9);
		x->applied = col_bool(r, i, 10);
		x->attempt = col_i64(r, i, 11);
		if (PQnfields(r) > 12)
			x->is_passive = col_bool(r, i, 12);
		if (x->is_passive) {
			x->passive = *x->spec;
			x->passive.mode = PROF_AUDIT;
		}
		k++;
	}
	*n_out = k;
	return m;
}

/* The rows of r (sorted by its first column, the eid) that belong to eid:
 * *first and *count. */
static void rows_of(PGresult *r, const char *eid, int *first, int *count)
{
	int n = r ? PQntuples(r) : 0, i = 0;
	while (i < n && strcmp(col(r, i, 0), eid) != 0)
		i++;
	*first = i;
	while (i < n && strcmp(col(r, i, 0), eid) == 0)
		i++;
	*count = i - *first;
}

/* Rows of the runs in r (eid in column 0) for a batch statement: the eids
 * as a text[] literal (names are checked Endpoint IDs: quoted, \ and "
 * escaped). NULL on out of memory. */
static char *eid_array(PGresult *r)
{
	size_t cap = 3;
	for (int i = 0; i < PQntuples(r); i++)
		cap += 2 * strlen(col(r, i, 0)) + 3;
	char *s = malloc(cap), *o = s;
	if (!s)
		return NULL;
	*o++ = '{';
	for (int i = 0; i < PQntuples(r); i++) {
		if (i)
			*o++ = ',';
		*o++ = '"';
		for (const char *c = col(r, i, 0); *c; c++) {
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

static void members_to_prun(struct member *m, size_t n, struct prun_profile *p)
{
	for (size_t i = 0; i < n; i++) {
		p[i].spec = m[i].is_passive ? &m[i].passive : m[i].spec;
		p[i].version = m[i].version;
		p[i].state = m[i].pstate;
	}
}

/* ---- 1-3: kicks, scope walks, due retries and drift checks --------------------------- */

static int absorb_kicks(struct fleet_engine *e, struct uspc_err *err)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", KICKS_PER_PASS);
	const char *p[] = { lim };
	PGresult *r = NULL;
	int rc = exec_hot(e, fleet_stmt_prof_absorb, 1, p, &r, err);
	PQclear(r);
	return rc;
}

static unsigned triggers_of(const char *json)
{
	if (!json)
		return PROF_T_DEFAULT;
	unsigned t = 0;
	cJSON *j = cJSON_Parse(json);
	for (cJSON *x = j ? j->child : NULL; x; x = x->next)
		if (cJSON_IsString(x)) {
			t |= strcmp(x->valuestring, "scope") == 0 ? PROF_T_SCOPE : 0;
			t |= strcmp(x->valuestring, "version") == 0 ? PROF_T_VERSION : 0;
		}
	cJSON_Delete(j);
	return t;
}

static int scope_walks(struct fleet_engine *e, struct uspc_err *err)
{
	char every[24];
	snprintf(every, sizeof(every), "%d", e->o.profile_scope_s);
	const char *p0[] = { every };
	PGresult *h = NULL;
	int rc = store_exec(e->db, fleet_stmt_prof_heads, 1, p0, &h, err);
	for (int i = 0; rc == 0 && i < PQntuples(h); i++) {
		unsigned t = triggers_of(col(h, i, 2));
		char lim[16];
		snprintf(lim, sizeof(lim), "%d", SCOPE_ROWS_PER_WALK);
		const char *p[] = { col(h, i, 0), col(h, i, 1), (t & PROF_T_SCOPE) ? "t" : "f",
				    (t & PROF_T_VERSION) ? "t" : "f", lim };
		PGresult *r = NULL;
		rc = store_exec(e->db, fleet_stmt_prof_scope, 5, p, &r, err);
		if (rc == 0 && col_i64(r, 0, 0) > 0 && (col_i64(r, 0, 1) || col_i64(r, 0, 2)))
			log_info(LOG_COMP,
				 "profile %s v%s: %" PRId64 " agent(s) in scope, %" PRId64
				 " left it, %" PRId64 " kicked",
				 col(h, i, 0), col(h, i, 1), col_i64(r, 0, 1), col_i64(r, 0, 2),
				 col_i64(r, 0, 3));
		PQclear(r);
	}
	PQclear(h);
	return rc;
}

static int kick_due(struct fleet_engine *e, struct uspc_err *err)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%d", DUE_PER_PASS);
	const char *p[] = { lim };
	PGresult *r = NULL;
	int rc = exec_hot(e, fleet_stmt_prof_due, 1, p, &r, err);
	PQclear(r);
	return rc;
}

/* ---- 4: starting runs ----------------------------------------------------------------- */

/* Does run (its triggers) need to happen for member m? */
static int member_wants(const struct member *m, const char *triggers, int64_t boot_key,
			const char *fw, int factory_reset)
{
	if (!m->has_row || m->row_version != m->version || strcmp(m->row_state, "pending") == 0 ||
	    factory_reset)
		return 1;
	if (has_word(triggers, "demand") || has_word(triggers, "retry") ||
	    has_word(triggers, "drift") || has_word(triggers, "again") ||
	    has_word(triggers, "scope") || has_word(triggers, "version"))
		return 1;
	if (has_word(triggers, "onboarding")) {
		unsigned t = m->spec->triggers;
		if (t & PROF_T_ONBOARDING)
			return 1;
		if ((t & PROF_T_BOOT) && boot_key > m->boot_seen)
			return 1;
		if ((t & PROF_T_FIRMWARE) && strcmp(fw, m->fw) != 0)
			return 1;
	}
	return 0;
}

/* Whether m takes part in a run, and how: 0 no, 1 yes, 2 passive
 * (audit-only: a once profile already applied). */
static int member_takes_part(const struct member *m, const char *names, const char *triggers,
			     const char *fw, int factory_reset)
{
	int same = m->has_row && m->row_version == m->version;
	if (same && strcmp(m->row_state, "not_applicable") == 0 && strcmp(fw, m->fw) == 0 &&
	    !factory_reset &&
	    !(has_word(triggers, "demand") && (!names[0] || has_word(names, m->name))))
		return 0;
	/* a once profile that reached its values once (compliant then; a
	 * passive run's verdict is drifted or contested) keeps its paths but
	 * never writes again; one that failed or could not apply, or of a new
	 * version, applies again */
	if (m->spec->mode == PROF_ONCE && m->applied && !factory_reset && same &&
	    (!strcmp(m->row_state, "compliant") || !strcmp(m->row_state, "drifted") ||
	     !strcmp(m->row_state, "contested")))
		return 2;
	return 1;
}

static int run_step(struct fleet_engine *e, const char *eid, const struct prun_step *s,
		    const char *profiles_json, int64_t boot_key, int factory_reset,
		    struct uspc_err *err);
static int run_finish(struct fleet_engine *e, const char *eid, const char *triggers,
		      struct member *m, size_t n, struct prun_step *s, int again, int attempt,
		      const struct agent_ctx *a, int64_t boot_key, int agent_ready,
		      struct uspc_err *err);

static int start_one(struct fleet_engine *e, PGresult *r, int i, PGresult *pr, struct uspc_err *err)
{
	const char *eid = col(r, i, 0), *triggers = col(r, i, 1), *names = col(r, i, 2);
	int ready = col_bool(r, i, 7), known = col_bool(r, i, 8);
	int64_t boot_key = col_i64(r, i, 17);
	const char *cause = col(r, i, 18);
	if (!ready || !known) {
		/* the agent's next onboarding kicks it again */
		const char *p[] = { eid, "f", "0", "f" };
		return exec_hot(e, fleet_stmt_prof_run_end, 4, p, NULL, err);
	}
	struct agent_ctx a;
	if (agent_ctx_load(e, &a, eid, r, i, 9, 19, boot_key) < 0)
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	const char *fw = a.ctx.tpl.software_version ? a.ctx.tpl.software_version : "";
	int first, count, rc = 0;
	rows_of(pr, eid, &first, &count);
	size_t n = 0;
	struct member *m = members_read(e, pr, first, count, &n), *mm = NULL;
	if (!m)
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	if (rc < 0)
		goto out;
	/* a factory reset since the verdicts this agent's rows hold */
	int factory_reset = 0, wants = 0;
	for (size_t k = 0; k < n; k++)
		if (m[k].has_row && m[k].applied && boot_key > m[k].boot_seen &&
		    cause_is_factory_reset(cause))
			factory_reset = 1;
	for (size_t k = 0; k < n; k++)
		wants |= member_wants(&m[k], triggers, boot_key, fw, factory_reset);
	/* the members that take part, as copies (pstate stays owned by m) */
	mm = calloc(n ? n : 1, sizeof(*mm));
	if (!mm) {
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		goto out;
	}
	size_t kept = 0;
	for (size_t k = 0; k < n && wants; k++) {
		int how = member_takes_part(&m[k], names, triggers, fw, factory_reset);
		if (!how)
			continue;
		mm[kept] = m[k];
		mm[kept].is_passive = how == 2;
		if (how == 2) {
			mm[kept].passive = *m[k].spec;
			mm[kept].passive.mode = PROF_AUDIT;
		}
		kept++;
	}
	if (kept == 0) {
		const char *p[] = { eid, "f", "0", "t" };
		rc = exec_hot(e, fleet_stmt_prof_run_end, 4, p, NULL, err);
		goto out;
	}
	struct prun_profile *pp = calloc(kept, sizeof(*pp));
	cJSON *list = cJSON_CreateArray();
	if (!pp || !list) {
		free(pp);
		cJSON_Delete(list);
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		goto out;
	}
	members_to_prun(mm, kept, pp);
	for (size_t k = 0; k < kept; k++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", mm[k].name);
		cJSON_AddNumberToObject(o, "version", (double)mm[k].version);
		cJSON_AddBoolToObject(o, "passive", mm[k].is_passive);
		cJSON_AddNumberToObject(o, "ord", (double)k);
		cJSON_AddItemToArray(list, o);
	}
	a.ctx.factory_reset = factory_reset;
	a.ctx.force_write_only = col_bool(r, i, 3);
	a.ctx.reset_contested = col_bool(r, i, 4);
	struct prun_step s = { 0 };
	rc = prun_begin(pp, kept, &a.ctx, &s, err);
	if (rc == 0 && !s.done) {
		char *lj = cJSON_PrintUnformatted(list);
		rc = lj ? run_step(e, eid, &s, lj, boot_key, factory_reset, err)
			: uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		free(lj);
	} else if (rc == 0) {
		rc = run_finish(e, eid, triggers, mm, kept, &s, col_bool(r, i, 5),
				(int)col_i64(r, i, 6), &a, boot_key, 1, err);
	}
	prun_step_fini(&s);
	free(pp);
	cJSON_Delete(list);
out:
	free(mm);
	if (m)
		members_free(m, n);
	agent_ctx_fini(&a);
	return rc;
}

static int run_step(struct fleet_engine *e, const char *eid, const struct prun_step *s,
		    const char *profiles_json, int64_t boot_key, int factory_reset,
		    struct uspc_err *err)
{
	char *req = cJSON_PrintUnformatted(s->request);
	char *work = cJSON_PrintUnformatted(s->work);
	char exp[16], bk[24];
	snprintf(exp, sizeof(exp), "%d", TASK_UNSENT_EXPIRY_S);
	snprintf(bk, sizeof(bk), "%" PRId64, boot_key);
	int rc;
	if (!req || !work) {
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	} else {
		const char *p[] = { eid,           s->op, req, work,
				    profiles_json, exp,   bk,  factory_reset ? "t" : "f",
				    e->node };
		rc = exec_hot(e, fleet_stmt_prof_step, 9, p, NULL, err);
		if (rc == 0)
			e->tasks_this_pass++;
	}
	free(req);
	free(work);
	return rc;
}

static int64_t retry_delay_s(int64_t attempt)
{
	int64_t d = RETRY_BASE_S;
	for (int64_t i = 1; i < attempt && d < RETRY_MAX_S; i++)
		d *= 2;
	return d < RETRY_MAX_S ? d : RETRY_MAX_S;
}

/* The next drift check of spec on eid: every_s plus a jitter the agent's
 * id fixes (so checks spread and stay put). */
static int64_t drift_delay_s(const struct prof_spec *spec, const char *eid)
{
	if (!(spec->triggers & PROF_T_DRIFT) || spec->drift_every_s <= 0)
		return 0;
	uint64_t h = 1469598103934665603ULL;
	for (const char *c = eid; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	int64_t j =
		spec->drift_jitter_s > 0 ? (int64_t)(h % (uint64_t)(spec->drift_jitter_s + 1)) : 0;
	return spec->drift_every_s + j;
}

/* Write the verdicts of a finished run, its owners, and end it. */
static int run_finish(struct fleet_engine *e, const char *eid, const char *triggers,
		      struct member *m, size_t n, struct prun_step *s, int again, int attempt,
		      const struct agent_ctx *a, int64_t boot_key, int agent_ready,
		      struct uspc_err *err)
{
	int rc = 0;
	if (s->interrupted) {
		int64_t backoff = 0;
		if (agent_ready && attempt + 1 < RUN_ATTEMPTS_MAX)
			backoff = retry_delay_s(attempt + 1) / 4;
		char b[24];
		snprintf(b, sizeof(b), "%" PRId64, backoff);
		/* what the run did before it was cut keeps (an Operate that
		 * rebooted the agent must not be sent again) */
		size_t k = 0;
		for (cJSON *st = s->states ? s->states->child : NULL; rc == 0 && st && k < n;
		     st = st->next, k++) {
			char *ps = cJSON_PrintUnformatted(st), ver[24];
			snprintf(ver, sizeof(ver), "%" PRId64, m[k].version);
			const char *p[] = { eid, m[k].name, ver, ps };
			rc = ps ? exec_hot(e, fleet_stmt_prof_save_state, 4, p, NULL, err)
				: uspc_err_set(err, USPC_E_NOMEM, "out of memory");
			free(ps);
		}
		const char *p[] = { eid, again ? "t" : "f", b,
				    backoff == 0 && agent_ready ? "t" : "f" };
		fleet_engine_count(e, &e->st.profile_interrupted, 1);
		return rc < 0 ? rc : exec_hot(e, fleet_stmt_prof_run_end, 4, p, NULL, err);
	}
	const char *fw = a->ctx.tpl.software_version ? a->ctx.tpl.software_version : "";
	char bk[24];
	snprintf(bk, sizeof(bk), "%" PRId64, boot_key);
	cJSON *names = cJSON_CreateArray();
	for (size_t k = 0; rc == 0 && k < n && k < s->n_verdicts; k++) {
		struct prun_verdict *v = &s->verdicts[k];
		int64_t att = v->outcome == PRUN_FAILED && v->retry ? m[k].attempt + 1 : 0;
		char att_s[24], retry_s[24], drift_s[24], ver[24];
		snprintf(att_s, sizeof(att_s), "%" PRId64, att);
		snprintf(retry_s, sizeof(retry_s), "%" PRId64,
			 v->outcome == PRUN_FAILED && v->retry ? retry_delay_s(att) : 0);
		snprintf(drift_s, sizeof(drift_s), "%" PRId64, drift_delay_s(m[k].spec, eid));
		snprintf(ver, sizeof(ver), "%" PRId64, m[k].version);
		char *ps = v->state ? cJSON_PrintUnformatted(v->state) : strdup("{}");
		char *hist = v->history ? cJSON_PrintUnformatted(v->history) : strdup("{}");
		if (!ps || !hist) {
			rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		} else {
			const char *p[] = {
				eid,       m[k].name, ver,     prun_outcome_name(v->outcome),
				v->detail, ps,        fw,      bk,
				att_s,     retry_s,   drift_s, triggers,
				hist,      e->node
			};
			rc = exec_hot(e, fleet_stmt_prof_verdict, 14, p, NULL, err);
		}
		free(ps);
		free(hist);
		cJSON_AddItemToArray(names, cJSON_CreateString(m[k].name));
		fleet_engine_count(e, &e->st.profile_verdicts, 1);
	}
	if (rc == 0 && s->owners) {
		char *ow = cJSON_PrintUnformatted(s->owners);
		char *nm = NULL;
		/* a text[] literal of the names (names are [a-z0-9_.-]) */
		size_t cap = 3 + n * (PROF_NAME_MAX + 3);
		nm = malloc(cap);
		if (nm) {
			size_t o = 0;
			nm[o++] = '{';
			for (size_t k = 0; k < n; k++)
				o += (size_t)snprintf(nm + o, cap - o, "%s\"%s\"", k ? "," : "",
						      m[k].name);
			snprintf(nm + o, cap - o, "}");
		}
		if (!ow || !nm) {
			rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		} else {
			const char *p[] = { eid, ow, nm };
			rc = exec_hot(e, fleet_stmt_prof_owners, 3, p, NULL, err);
		}
		free(ow);
		free(nm);
	}
	cJSON_Delete(names);
	if (rc == 0) {
		/* provisioned_at is kept whether or not this daemon gates: the
		 * gate may be on in another daemon, or turned on later */
		const char *p[] = { eid, again ? "t" : "f", "0", "t" };
		rc = exec_hot(e, fleet_stmt_prof_run_end, 4, p, NULL, err);
	}
	if (rc == 0 && e->o.profile_gate) {
		/* tasks that waited for the gate (another daemon's gate: its
		 * feeder's sweep unparks them within a minute) */
		char arr[300];
		snprintf(arr, sizeof(arr), "{\"%s\"}", eid);
		const char *p[] = { arr };
		rc = store_exec(e->db, fleet_stmt_prof_unpark, 1, p, NULL, err);
	}
	return rc;
}

typedef int (*run_fn)(struct fleet_engine *e, PGresult *r, int i, PGresult *pr,
		      struct uspc_err *err);

/* One transaction over a batch of runs: take them (take_sql with its
 * params: the runs, locked, eid first), read the profiles of all of them
 * with members_sql in one statement (unprepared: planned for the array it
 * gets, where a generic plan for any array was 1.5 times slower), apply fn
 * to each. Returns the number taken, or < 0. */
static int run_batch(struct fleet_engine *e, const char *take_sql, int n, const char *const *p,
		     const char *members_sql, run_fn fn, struct uspc_err *err)
{
	PGresult *r = NULL, *pr = NULL;
	int rc = store_exec(e->db, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0)
		rc = exec_hot(e, take_sql, n, p, &r, err);
	int got = rc == 0 ? PQntuples(r) : 0;
	char *eids = got ? eid_array(r) : NULL;
	if (got && !eids)
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	if (rc == 0 && got) {
		const char *pe[] = { eids };
		rc = store_exec(e->db, members_sql, 1, pe, &pr, err);
	}
	free(eids);
	for (int i = 0; rc == 0 && i < got; i++)
		rc = fn(e, r, i, pr, err);
	PQclear(pr);
	PQclear(r);
	if (rc == 0)
		rc = store_exec(e->db, "COMMIT", 0, NULL, NULL, err);
	if (rc < 0) {
		PGresult *x = PQexec(e->db, "ROLLBACK");
		PQclear(x);
		return rc;
	}
	return got;
}

static int start_runs(struct fleet_engine *e, struct uspc_err *err)
{
	PGresult *c = NULL;
	int rc = exec_hot(e, fleet_stmt_prof_inflight, 0, NULL, &c, err);
	int64_t inflight = rc == 0 ? col_i64(c, 0, 0) : 0;
	PQclear(c);
	int64_t room = e->o.profile_max_inflight - inflight;
	while (rc == 0 && room > 0) {
		int64_t take = room < RUN_STEPS_PER_TXN ? room : RUN_STEPS_PER_TXN;
		char lim[24];
		snprintf(lim, sizeof(lim), "%" PRId64, take);
		const char *p[] = { lim };
		int got = run_batch(e, fleet_stmt_prof_claim, 1, p, fleet_stmt_prof_inscope,
				    start_one, err);
		if (got < 0)
			return got;
		fleet_engine_count(e, &e->st.profile_started, (uint64_t)got);
		if (got < take)
			break;
		room -= got;
	}
	return rc;
}

/* ---- 5: advancing runs ---------------------------------------------------------------- */

static int advance_one(struct fleet_engine *e, PGresult *r, int i, PGresult *pr,
		       struct uspc_err *err)
{
	const char *eid = col(r, i, 0), *triggers = col(r, i, 1);
	int again = col_bool(r, i, 5), attempt = (int)col_i64(r, i, 6);
	const char *work_s = col(r, i, 8);
	int64_t boot_key = col_i64(r, i, 9);
	int factory_reset = col_bool(r, i, 10);
	const char *tstate = col(r, i, 11), *result = col(r, i, 12);
	int ready = col_bool(r, i, 21);
	struct agent_ctx a;
	if (agent_ctx_load(e, &a, eid, r, i, 13, 22, boot_key) < 0)
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	a.ctx.factory_reset = factory_reset;
	a.ctx.force_write_only = col_bool(r, i, 3);
	a.ctx.reset_contested = col_bool(r, i, 4);
	int first, count, rc = 0;
	rows_of(pr, eid, &first, &count);
	size_t n = 0;
	struct member *m = members_read(e, pr, first, count, &n);
	struct prun_profile *pp = m ? calloc(n ? n : 1, sizeof(*pp)) : NULL;
	cJSON *work = work_s ? cJSON_Parse(work_s) : NULL;
	cJSON *res = result ? cJSON_Parse(result) : NULL;
	struct prun_step s = { 0 };
	if (rc == 0 && (!m || !pp))
		rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	if (rc < 0)
		goto out;
	members_to_prun(m, n, pp);
	/* answered: the task ended with the agent's answer (done, or failed
	 * with a USP Error in its result) */
	struct prun_answer ans = { .answered = 0, .result = NULL };
	if (tstate && (strcmp(tstate, "done") == 0 || strcmp(tstate, "failed") == 0) && res) {
		ans.answered = 1;
		ans.result = res;
	}
	int prc = work ? prun_next(pp, n, &a.ctx, work, &ans, &s, err) : -1;
	if (prc < 0) {
		/* a run this engine cannot continue (a definition gone, a
		 * state it did not write): end it, the next trigger starts over */
		log_warn(LOG_COMP, "run of %s dropped: %s", eid,
			 err->msg[0] ? err->msg : "unreadable state");
		memset(err, 0, sizeof(*err));
		const char *p[] = { eid, "f", "0", "f" };
		rc = exec_hot(e, fleet_stmt_prof_run_end, 4, p, NULL, err);
		goto out;
	}
	if (!s.done)
		rc = run_step(e, eid, &s, NULL, boot_key, factory_reset, err);
	else
		rc = run_finish(e, eid, triggers, m, n, &s, again, attempt, &a, boot_key, ready,
				err);
out:
	prun_step_fini(&s);
	cJSON_Delete(work);
	cJSON_Delete(res);
	free(pp);
	if (m)
		members_free(m, n);
	agent_ctx_fini(&a);
	return rc;
}

static int advance_runs(struct fleet_engine *e, struct uspc_err *err)
{
	for (;;) {
		char lim[16], age[16];
		snprintf(lim, sizeof(lim), "%d", RUN_STEPS_PER_TXN);
		snprintf(age, sizeof(age), "%d", RUN_MAX_AGE_S);
		const char *p[] = { lim, age };
		int got = run_batch(e, fleet_stmt_prof_started, 2, p, fleet_stmt_prof_run_profiles,
				    advance_one, err);
		if (got < 0)
			return got;
		fleet_engine_count(e, &e->st.profile_steps, (uint64_t)got);
		if (got < RUN_STEPS_PER_TXN)
			return 0;
	}
}

int profile_pass(struct fleet_engine *e, struct uspc_err *err)
{
	int rc = absorb_kicks(e, err);
	if (rc == 0)
		rc = advance_runs(e, err);
	if (rc == 0)
		rc = scope_walks(e, err);
	if (rc == 0)
		rc = kick_due(e, err);
	if (rc == 0)
		rc = absorb_kicks(e, err);
	if (rc == 0)
		rc = start_runs(e, err);
	return rc;
}
