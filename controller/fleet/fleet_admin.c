/*
 * fleet_admin.c — the operator's side of campaigns that changes them
 * (fleet_admin.h): create and plan, the controls. The reports (status,
 * list, devices, fleet versions) are in fleet_report.c; the helpers both
 * use are declared in fleet_admin_internal.h.
 *
 * Owns nothing between calls; every function runs on the caller's
 * connection and thread. The statements are sql/admin_*.sql. A create or a
 * plan computes its rows once, in a temporary table (fleet_plan, dropped
 * at the end of the transaction): the conflict check and either the plan's
 * summary (then ROLLBACK) or the insert (then COMMIT) read the same rows
 * and cut the same waves from them (the first rank of each wave, computed
 * here from the number of pending rows), so a plan shows what a create
 * with the same seed does. Invariant: a campaign's credentials (campaigns.secret) are written
 * here and never read back, and no error message may quote them.
 */
#include "fleet_admin.h"
#include "fleet_admin_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fleet_fw.h"
#include "fleet_stmt.h"
#include "store_conn.h"
#include "store_sql.h"
#include "usp_utf8.h"

#define DB_ERR(err) ((err)->code = USPCTL_E_DATABASE)

const char *fleet_control_name(enum fleet_control op)
{
	static const char *const names[] = { "pause", "resume", "abort", "retry_failed" };
	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

int fleet_admin_err_transient(const struct uspc_err *err)
{
	struct uspc_err e = *err;
	if (e.code != USPCTL_E_DATABASE)
		return 0;
	e.code = STORE_E_DB;
	return store_err_is_transient(&e);
}

/* ---- small helpers ----------------------------------------------------------- */

/* store_exec, with every failure reported as USPCTL_E_DATABASE. */
int adm_q(PGconn *c, const char *sql, int n, const char *const *p, PGresult **r,
	  struct uspc_err *err)
{
	int rc = store_exec(c, sql, n, p, r, err);
	if (rc < 0) {
		DB_ERR(err);
		return USPCTL_E_DATABASE;
	}
	return 0;
}

static void adm_rollback(PGconn *c)
{
	struct uspc_err e;
	(void)store_exec(c, "ROLLBACK", 0, NULL, NULL, &e);
}

static int64_t adm_col_i64(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int adm_oom(struct uspc_err *err)
{
	return uspc_err_set(err, USPCTL_E_INTERNAL, "out of memory");
}

/* campaign_counts of campaign sid recounted from its rows, after a change
 * of device states made outside the engine (in the caller's transaction). */
static int adm_recount(PGconn *c, const char *sid, struct uspc_err *err)
{
	const char *p[] = { sid };
	int rc = adm_q(c, fleet_stmt_counts_clear, 1, p, NULL, err);
	return rc < 0 ? rc : adm_q(c, fleet_stmt_counts_rebuild, 1, p, NULL, err);
}

/* Parse the JSON text in row 0, column 0 of r. */
int adm_parse_json(PGresult *r, cJSON **out, struct uspc_err *err)
{
	*out = NULL;
	if (PQntuples(r) < 1 || PQgetisnull(r, 0, 0))
		return uspc_err_set(err, USPCTL_E_INTERNAL, "no result row");
	if (!(*out = cJSON_Parse(PQgetvalue(r, 0, 0))))
		return adm_oom(err);
	return 0;
}

/* A campaign's id from ref: UNKNOWN_CAMPAIGN when there is none. */
int adm_resolve(PGconn *c, const struct fleet_ref *ref, int64_t *id, struct uspc_err *err)
{
	char sid[24];
	PGresult *r = NULL;
	if (ref->id <= 0 && (!ref->name || !ref->name[0]))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "no campaign given");
	snprintf(sid, sizeof(sid), "%" PRId64, ref->id > 0 ? ref->id : 0);
	const char *p[] = { sid, ref->name ? ref->name : "" };
	int rc = adm_q(c, fleet_stmt_admin_lookup, 2, p, &r, err);
	if (rc == 0 && PQntuples(r) != 1) {
		if (ref->id > 0)
			rc = uspc_err_set(err, USPCTL_E_UNKNOWN_CAMPAIGN, "no campaign %" PRId64,
					  ref->id);
		else
			rc = uspc_err_set(err, USPCTL_E_UNKNOWN_CAMPAIGN,
					  "no campaign named '%.128s'", ref->name);
	}
	if (rc == 0)
		*id = adm_col_i64(r, 0, 0);
	PQclear(r);
	return rc;
}

/* ---- selectors ---------------------------------------------------------------- */

static int add_str(cJSON *o, const char *key, const char *v)
{
	return !v || cJSON_AddStringToObject(o, key, v) != NULL;
}

/* The selector as the jsonb text campaigns.selector holds (fleet_admin.h).
 * for_campaign: online may not be given. The caller frees *out. */
int adm_selector_text(const struct store_selector *s, int for_campaign, char **out,
		      struct uspc_err *err)
{
	char like[2 * STORE_EID_MAX + 2];
	*out = NULL;
	if (for_campaign && s->online >= 0)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
				    "a campaign's targets do not take 'online': offline devices "
				    "are targets too and wait in their wave");
	int given = s->eids || s->tag || s->model || s->manufacturer || s->software_version ||
		    s->eid_glob || s->online >= 0;
	if (!given && !s->all)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
				    "empty selector: use {\"all\":true} to target every agent");
	if (s->n_eids > FLEET_ADMIN_EIDS_MAX)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS, "%zu endpoint IDs given, limit %d",
				    s->n_eids, FLEET_ADMIN_EIDS_MAX);
	if (s->eid_glob && store_glob_to_like(s->eid_glob, like, sizeof(like)) < 0)
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS,
				    "bad 'eid' glob (too long or ends in \\)");
	cJSON *o = cJSON_CreateObject(), *a = NULL;
	int ok = o != NULL;
	if (ok && s->eids) {
		ok = (a = cJSON_AddArrayToObject(o, "eids")) != NULL;
		for (size_t i = 0; ok && i < s->n_eids; i++)
			ok = cJSON_AddItemToArray(a, cJSON_CreateString(s->eids[i]));
	}
	ok = ok && add_str(o, "tag", s->tag) && add_str(o, "model", s->model) &&
	     add_str(o, "manufacturer", s->manufacturer) &&
	     add_str(o, "software_version", s->software_version) &&
	     add_str(o, "eid_like", s->eid_glob ? like : NULL);
	if (ok && s->online >= 0)
		ok = cJSON_AddBoolToObject(o, "online", s->online) != NULL;
	if (ok && s->all)
		ok = cJSON_AddTrueToObject(o, "all") != NULL;
	*out = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!*out)
		return adm_oom(err);
	if (!usp_utf8_valid(*out, strlen(*out))) {
		free(*out);
		*out = NULL;
		return uspc_err_set(err, USPCTL_E_BAD_TARGETS, "'targets' is not valid UTF-8");
	}
	return 0;
}

/* ---- create and plan ------------------------------------------------------------ */

static int64_t random_seed(void)
{
	uint32_t v;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	return (int64_t)(v & 0x7fffffffu);
}

/* The definition as stored: fleet_spec_to_json with the seed chosen. */
static int spec_text(const struct fleet_spec *spec, int64_t seed, char **out, struct uspc_err *err)
{
	cJSON *j = fleet_spec_to_json(spec);
	*out = NULL;
	if (j) {
		cJSON_DeleteItemFromObjectCaseSensitive(j, "seed");
		if (cJSON_AddNumberToObject(j, "seed", (double)seed))
			*out = cJSON_PrintUnformatted(j);
	}
	cJSON_Delete(j);
	if (!*out)
		return adm_oom(err);
	if (!usp_utf8_valid(*out, strlen(*out)))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "the campaign definition holds text that is not valid UTF-8");
	return 0;
}

/* PostgreSQL array literal of n strings into b. */
static const char *strv_literal(struct store_buf *b, char *const *v, size_t n)
{
	store_arr_begin(b);
	for (size_t i = 0; i < n; i++)
		store_arr_add(b, v[i]);
	store_arr_end(b);
	return store_buf_str(b);
}

static int check_tz(PGconn *c, const char *tz, struct uspc_err *err)
{
	const char *p[] = { tz };
	int rc = store_exec(c, fleet_stmt_admin_tz, 1, p, NULL, err);
	if (rc == 0)
		return 0;
	if (!strncmp(store_err_sqlstate(err), "22023", 5))
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'window.timezone': unknown time zone '%s' (an IANA name such "
				    "as Europe/Paris)",
				    tz);
	DB_ERR(err);
	return USPCTL_E_DATABASE;
}

static int check_name(PGconn *c, const char *name, struct uspc_err *err)
{
	const char *p[] = { "0", name };
	PGresult *r = NULL;
	int rc = adm_q(c, fleet_stmt_admin_lookup, 2, p, &r, err);
	if (rc == 0 && PQntuples(r) > 0)
		rc = uspc_err_set(err, USPCTL_E_CAMPAIGN_EXISTS,
				  "a campaign named '%.128s' exists (campaign %s)", name,
				  PQgetvalue(r, 0, 0));
	PQclear(r);
	return rc;
}

/* "a, b (campaign 3 'x'), ..." of r's rows (column col, and with col2 >= 0
 * the campaign in col2 and col2 + 1) into buf: whole items only, then
 * ", ..." when rows (or, by total, more rows) did not fit. */
static void list_rows(PGresult *r, int col, int col2, int64_t total, char *buf, size_t size)
{
	size_t len = 0;
	int i;
	buf[0] = '\0';
	for (i = 0; i < PQntuples(r); i++) {
		char item[400];
		if (col2 < 0)
			snprintf(item, sizeof(item), "%s%.200s", i ? ", " : "",
				 PQgetvalue(r, i, col));
		else
			snprintf(item, sizeof(item), "%s%.200s (campaign %s '%.64s')",
				 i ? ", " : "", PQgetvalue(r, i, col), PQgetvalue(r, i, col2),
				 PQgetvalue(r, i, col2 + 1));
		if (len + strlen(item) + 6 > size)
			break;
		memcpy(buf + len, item, strlen(item) + 1);
		len += strlen(item);
	}
	if ((i < PQntuples(r) || total > i) && len + 6 <= size)
		memcpy(buf + len, i ? ", ..." : "...", i ? 6 : 4);
}

static int check_unknown_eids(PGconn *c, const char *sel, struct uspc_err *err)
{
	const char *p[] = { sel };
	PGresult *r = NULL;
	char names[180];
	int rc = adm_q(c, fleet_stmt_admin_unknown_eids, 1, p, &r, err);
	if (rc == 0 && PQntuples(r) > 0) {
		list_rows(r, 1, -1, adm_col_i64(r, 0, 0), names, sizeof(names));
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_AGENT,
				  "%s of the endpoint IDs given %s not in the inventory: %s",
				  PQgetvalue(r, 0, 0), adm_col_i64(r, 0, 0) == 1 ? "is" : "are",
				  names);
	}
	PQclear(r);
	return rc;
}

static int check_conflicts(PGconn *c, struct uspc_err *err)
{
	PGresult *r = NULL;
	char names[170];
	int rc = adm_q(c, fleet_stmt_admin_plan_conflicts, 0, NULL, &r, err);
	if (rc == 0 && PQntuples(r) > 0) {
		int64_t n = adm_col_i64(r, 0, 0);
		list_rows(r, 1, 2, n, names, sizeof(names));
		rc = uspc_err_set(
			err, USPCTL_E_CAMPAIGN_CONFLICT,
			"%" PRId64 " target%s %s in another campaign that is not done with "
			"%s: %s",
			n, n == 1 ? "" : "s", n == 1 ? "is" : "are", n == 1 ? "it" : "them", names);
	}
	PQclear(r);
	return rc;
}

/* What create and plan share: the rows, in fleet_plan. */
struct plan {
	const struct fleet_spec *spec;
	char *sel, *spec_json;
	int64_t seed, pending, skipped;
	int64_t ends[FLEET_WAVES_MAX]; /* cumulative, over the pending devices */
	/* the first rank of every wave after the first, "{r2,r3,...}": a
	 * pending row's wave is width_bucket(rank, firsts) */
	char firsts[FLEET_WAVES_MAX * 21 + 3];
};

/* pl->ends and pl->firsts from pl->pending: wave w holds ranks
 * ends[w-1]+1 .. ends[w]. */
static void plan_waves(struct plan *pl)
{
	const struct fleet_spec *s = pl->spec;
	size_t len = 0;
	pl->firsts[len++] = '{';
	for (size_t w = 0; w < s->n_waves; w++) {
		pl->ends[w] = fleet_spec_wave_end(s, w, pl->pending);
		if (w + 1 < s->n_waves)
			len += (size_t)snprintf(pl->firsts + len, sizeof(pl->firsts) - len,
						"%s%" PRId64, w ? "," : "", pl->ends[w] + 1);
	}
	snprintf(pl->firsts + len, sizeof(pl->firsts) - len, "}");
}

static int plan_rows(PGconn *c, struct plan *pl, struct uspc_err *err)
{
	const struct fleet_spec *s = pl->spec;
	struct store_buf xm, xv;
	char seed[24];
	PGresult *r = NULL;
	store_buf_init(&xm, 1 << 20);
	store_buf_init(&xv, 1 << 20);
	snprintf(seed, sizeof(seed), "%" PRId64, pl->seed);
	const char *p[] = { pl->sel,
			    seed,
			    s->stratify ? "true" : "false",
			    strv_literal(&xm, s->exclude_models, s->n_exclude_models),
			    strv_literal(&xv, s->exclude_versions, s->n_exclude_versions),
			    s->version };
	int rc = !p[3] || !p[4] ? adm_oom(err) : 0;
	if (rc == 0)
		rc = adm_q(c, fleet_stmt_admin_plan_table, 0, NULL, NULL, err);
	if (rc == 0)
		rc = adm_q(c, fleet_stmt_admin_plan_rows, 6, p, NULL, err);
	if (rc == 0)
		rc = adm_q(c, "ANALYZE fleet_plan", 0, NULL, NULL, err);
	if (rc == 0)
		rc = adm_q(c, fleet_stmt_admin_plan_counts, 0, NULL, &r, err);
	if (rc == 0) {
		pl->pending = adm_col_i64(r, 0, 0);
		pl->skipped = adm_col_i64(r, 0, 1);
		if (pl->pending + pl->skipped == 0 && !s->continuous)
			rc = uspc_err_set(err, USPCTL_E_NO_TARGETS,
					  "no agent matches the targets (a continuous campaign "
					  "may start with none)");
	}
	if (rc == 0)
		rc = check_conflicts(c, err);
	if (rc == 0)
		plan_waves(pl);
	PQclear(r);
	store_buf_fini(&xm);
	store_buf_fini(&xv);
	return rc;
}

/* The fields create and plan both return. */
static cJSON *plan_json(const struct plan *pl, int64_t id)
{
	cJSON *o = cJSON_CreateObject(), *waves, *w;
	int ok = o != NULL;
	if (ok && id > 0)
		ok = cJSON_AddNumberToObject(o, "campaign", (double)id) != NULL;
	ok = ok && cJSON_AddStringToObject(o, "name", pl->spec->name) &&
	     cJSON_AddStringToObject(o, "state", "running") &&
	     cJSON_AddNumberToObject(o, "targets", (double)(pl->pending + pl->skipped)) &&
	     cJSON_AddNumberToObject(o, "pending", (double)pl->pending) &&
	     cJSON_AddNumberToObject(o, "skipped", (double)pl->skipped) &&
	     cJSON_AddNumberToObject(o, "seed", (double)pl->seed) &&
	     (waves = cJSON_AddArrayToObject(o, "waves")) != NULL;
	for (size_t i = 0; ok && i < pl->spec->n_waves; i++) {
		int64_t n = pl->ends[i] - (i ? pl->ends[i - 1] : 0);
		ok = (w = cJSON_CreateObject()) && cJSON_AddItemToArray(waves, w) &&
		     cJSON_AddNumberToObject(w, "wave", (double)(i + 1)) &&
		     cJSON_AddNumberToObject(w, "devices", (double)n);
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Move every item of from into to (from is freed). */
static void merge(cJSON *to, cJSON *from)
{
	while (from && from->child) {
		cJSON *e = cJSON_DetachItemViaPointer(from, from->child);
		cJSON_AddItemToObject(to, e->string, e);
	}
	cJSON_Delete(from);
}

static int plan_summary(PGconn *c, const struct plan *pl, cJSON **out, struct uspc_err *err)
{
	char waves[16], lim[16];
	PGresult *r = NULL;
	cJSON *sum = NULL;
	snprintf(waves, sizeof(waves), "%zu", pl->spec->n_waves);
	snprintf(lim, sizeof(lim), "%d", pl->skipped ? FLEET_ADMIN_SKIPPED_LIST : 0);
	const char *p[] = { waves, lim, pl->firsts };
	int rc = adm_q(c, fleet_stmt_admin_plan_summary, 3, p, &r, err);
	if (rc == 0)
		rc = adm_parse_json(r, &sum, err);
	PQclear(r);
	if (rc < 0)
		return rc;
	if (!(*out = plan_json(pl, 0))) {
		cJSON_Delete(sum);
		return adm_oom(err);
	}
	merge(*out, sum);
	if (pl->skipped > FLEET_ADMIN_SKIPPED_LIST)
		cJSON_AddTrueToObject(*out, "skipped_devices_truncated");
	return 0;
}

static int insert_campaign(PGconn *c, const struct plan *pl, const char *actor, int64_t *id,
			   struct uspc_err *err)
{
	char seed[24], waves[16], targets[24], cid[24], msg[256];
	char *secret = NULL;
	cJSON *sj = fleet_spec_secret_json(pl->spec);
	PGresult *r = NULL;
	if (sj && !(secret = cJSON_PrintUnformatted(sj))) {
		cJSON_Delete(sj);
		return adm_oom(err);
	}
	cJSON_Delete(sj);
	snprintf(seed, sizeof(seed), "%" PRId64, pl->seed);
	snprintf(waves, sizeof(waves), "%zu", pl->spec->n_waves);
	snprintf(targets, sizeof(targets), "%" PRId64, pl->pending + pl->skipped);
	const char *p[] = { pl->spec->name, pl->spec_json, pl->sel, secret, seed, waves, targets };
	int rc = adm_q(c, fleet_stmt_admin_insert_campaign, 7, p, &r, err);
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	if (rc == 0)
		*id = adm_col_i64(r, 0, 0);
	PQclear(r);
	snprintf(cid, sizeof(cid), "%" PRId64, *id);
	const char *pd[] = { cid, pl->firsts };
	if (rc == 0)
		rc = adm_q(c, fleet_stmt_admin_insert_devices, 2, pd, NULL, err);
	if (rc == 0)
		rc = adm_recount(c, cid, err);
	snprintf(msg, sizeof(msg),
		 "%" PRId64 " targets, %" PRId64 " pending, %" PRId64
		 " skipped; %zu wave%s; seed %" PRId64 "%s",
		 pl->pending + pl->skipped, pl->pending, pl->skipped, pl->spec->n_waves,
		 pl->spec->n_waves == 1 ? "" : "s", pl->seed,
		 pl->spec->continuous ? "; continuous" : "");
	const char *pe[] = { cid, actor, "created", msg };
	if (rc == 0)
		rc = adm_q(c, fleet_stmt_admin_event, 4, pe, NULL, err);
	return rc;
}

/* A unique violation at insert: a create that raced with another one. */
static int map_unique(struct uspc_err *err, const char *name)
{
	if (err->code != USPCTL_E_DATABASE || strncmp(store_err_sqlstate(err), "23505", 5))
		return err->code;
	if (strstr(err->msg, "campaigns_name_key"))
		return uspc_err_set(err, USPCTL_E_CAMPAIGN_EXISTS,
				    "a campaign named '%.128s' exists", name);
	if (strstr(err->msg, "campaign_devices_one_active"))
		return uspc_err_set(err, USPCTL_E_CAMPAIGN_CONFLICT,
				    "another campaign took some of the targets meanwhile; try "
				    "again (campaign_plan shows which)");
	return err->code;
}

/* A message never quotes the credentials (PostgreSQL may quote a value). */
static void scrub(const struct fleet_spec *s, struct uspc_err *err)
{
	if ((s->password[0] && strstr(err->msg, s->password)) ||
	    (s->username[0] && strstr(err->msg, s->username)))
		snprintf(err->msg, sizeof(err->msg),
			 "the database refused the campaign (its message is withheld: it "
			 "quoted the credentials)");
}

static int create_or_plan(PGconn *c, const struct fleet_spec *spec,
			  const struct store_selector *sel, const char *actor, cJSON **out,
			  struct uspc_err *err)
{
	struct plan pl = { .spec = spec };
	int64_t id = 0;
	int in_tx = 0, rc;
	*out = NULL;
	if (!spec->name[0] || !spec->version[0] || spec->n_urls < 1 || spec->n_waves < 1 ||
	    spec->n_waves > FLEET_WAVES_MAX)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "incomplete campaign definition (name, firmware, waves)");
	if (spec->continuous && sel->eids)
		return uspc_err_set(
			err, USPCTL_E_BAD_TARGETS,
			"a continuous campaign takes a selector, not a list of endpoint "
			"IDs: it is what agents that match later are checked against");
	pl.seed = spec->seed >= 0 ? spec->seed : random_seed();
	if ((rc = adm_selector_text(sel, 1, &pl.sel, err)) < 0 ||
	    (rc = spec_text(spec, pl.seed, &pl.spec_json, err)) < 0)
		goto out;
	if (spec->n_windows && (rc = check_tz(c, spec->timezone, err)) < 0)
		goto out;
	if ((rc = adm_q(c, "BEGIN", 0, NULL, NULL, err)) < 0)
		goto out;
	in_tx = 1;
	if ((rc = check_name(c, spec->name, err)) < 0 ||
	    (sel->eids && (rc = check_unknown_eids(c, pl.sel, err)) < 0) ||
	    (rc = plan_rows(c, &pl, err)) < 0)
		goto out;
	if (!actor) {
		rc = plan_summary(c, &pl, out, err);
		goto out; /* a plan never commits */
	}
	if ((rc = insert_campaign(c, &pl, actor, &id, err)) < 0) {
		rc = map_unique(err, spec->name);
		goto out;
	}
	if ((rc = adm_q(c, "COMMIT", 0, NULL, NULL, err)) < 0) {
		rc = map_unique(err, spec->name);
		goto out;
	}
	in_tx = 0;
	if (!(*out = plan_json(&pl, id)))
		rc = uspc_err_set(err, USPCTL_E_INTERNAL,
				  "campaign %" PRId64 " created, but out of memory for the result",
				  id);
out:
	if (in_tx)
		adm_rollback(c);
	if (rc < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		scrub(spec, err);
	}
	free(pl.sel);
	free(pl.spec_json);
	return rc;
}

int fleet_admin_create(PGconn *c, const struct fleet_spec *spec, const struct store_selector *sel,
		       const char *actor, cJSON **out, struct uspc_err *err)
{
	return create_or_plan(c, spec, sel, actor && *actor ? actor : "unknown", out, err);
}

int fleet_admin_plan(PGconn *c, const struct fleet_spec *spec, const struct store_selector *sel,
		     cJSON **out, struct uspc_err *err)
{
	return create_or_plan(c, spec, sel, NULL, out, err);
}

/* ---- controls ------------------------------------------------------------------------- */

struct ctl {
	int64_t id;
	char sid[24];
	const char *actor;
	char name[FLEET_NAME_MAX + 1];
	char before[16], after[16];
	char reason[256];
	int changed;
	int64_t canceled, retried, blocked;
};

static int event(PGconn *c, struct ctl *k, const char *kind, const char *msg, struct uspc_err *err)
{
	const char *p[] = { k->sid, k->actor, kind, msg };
	return adm_q(c, fleet_stmt_admin_event, 4, p, NULL, err);
}

static int refuse(struct ctl *k, enum fleet_control op, struct uspc_err *err)
{
	return uspc_err_set(err, USPCTL_E_CAMPAIGN_STATE, "campaign %" PRId64 " is %s: %s", k->id,
			    k->before,
			    op == FLEET_CTL_ABORT          ? "it cannot be aborted"
			    : op == FLEET_CTL_RETRY_FAILED ? "an aborted campaign is not retried"
							   : "only a running, waiting or paused "
							     "campaign can be paused or resumed");
}

static int do_pause(PGconn *c, struct ctl *k, struct uspc_err *err)
{
	if (!strcmp(k->before, "paused"))
		return 0;
	snprintf(k->reason, sizeof(k->reason), "paused by %s", k->actor);
	snprintf(k->after, sizeof(k->after), "paused");
	const char *p[] = { k->sid, k->reason };
	int rc = adm_q(c, fleet_stmt_admin_pause, 2, p, NULL, err);
	k->changed = 1;
	return rc < 0 ? rc : event(c, k, "paused", k->reason, err);
}

static int do_resume(PGconn *c, struct ctl *k, struct uspc_err *err)
{
	char msg[400];
	if (strcmp(k->before, "paused"))
		return 0;
	snprintf(msg, sizeof(msg), "resumed by %s%s%.300s", k->actor, k->reason[0] ? "; was: " : "",
		 k->reason);
	snprintf(k->after, sizeof(k->after), "running");
	k->reason[0] = '\0';
	const char *p[] = { k->sid };
	int rc = adm_q(c, fleet_stmt_admin_resume, 1, p, NULL, err);
	k->changed = 1;
	return rc < 0 ? rc : event(c, k, "resumed", msg, err);
}

static int do_abort(PGconn *c, struct ctl *k, struct uspc_err *err)
{
	char note[200], msg[300];
	PGresult *r = NULL;
	if (!strcmp(k->before, "aborted"))
		return 0;
	snprintf(k->reason, sizeof(k->reason), "aborted by %s", k->actor);
	snprintf(note, sizeof(note), "canceled: campaign aborted by %s", k->actor);
	snprintf(k->after, sizeof(k->after), "aborted");
	const char *p[] = { k->sid, k->reason, note };
	int rc = adm_q(c, fleet_stmt_admin_abort, 3, p, &r, err);
	if (rc == 0)
		k->canceled = adm_col_i64(r, 0, 0);
	PQclear(r);
	if (rc == 0 && k->canceled)
		rc = adm_recount(c, k->sid, err);
	k->changed = 1;
	snprintf(msg, sizeof(msg), "%s: %" PRId64 " pending device%s canceled", k->reason,
		 k->canceled, k->canceled == 1 ? "" : "s");
	return rc < 0 ? rc : event(c, k, "aborted", msg, err);
}

static int do_retry(PGconn *c, struct ctl *k, struct uspc_err *err)
{
	char note[200], msg[300];
	PGresult *r = NULL;
	snprintf(note, sizeof(note), "retry_failed by %s", k->actor);
	const char *p[] = { k->sid, note };
	int rc = adm_q(c, fleet_stmt_admin_retry, 2, p, &r, err);
	if (rc < 0) {
		if (!strncmp(store_err_sqlstate(err), "23505", 5))
			rc = uspc_err_set(err, USPCTL_E_CAMPAIGN_CONFLICT,
					  "another campaign took some of the devices meanwhile; "
					  "try again");
		return rc;
	}
	snprintf(k->after, sizeof(k->after), "%s", PQgetvalue(r, 0, 0));
	snprintf(k->reason, sizeof(k->reason), "%s", PQgetvalue(r, 0, 1));
	k->retried = adm_col_i64(r, 0, 2);
	k->blocked = adm_col_i64(r, 0, 3);
	PQclear(r);
	if (k->retried == 0)
		return 0;
	k->changed = 1;
	if ((rc = adm_recount(c, k->sid, err)) < 0)
		return rc;
	snprintf(msg, sizeof(msg),
		 "%s: %" PRId64 " device%s back to pending%s; %" PRId64 " left to another campaign",
		 note, k->retried, k->retried == 1 ? "" : "s",
		 strcmp(k->before, k->after) ? ", the campaign runs again" : "", k->blocked);
	return event(c, k, "retried", msg, err);
}

static int allowed(enum fleet_control op, const char *state)
{
	int done = !strcmp(state, "finished") || !strcmp(state, "aborted");
	switch (op) {
	case FLEET_CTL_PAUSE:
	case FLEET_CTL_RESUME:
		return !done;
	case FLEET_CTL_ABORT:
		return strcmp(state, "finished") != 0;
	case FLEET_CTL_RETRY_FAILED:
		return strcmp(state, "aborted") != 0;
	}
	return 0;
}

static cJSON *ctl_json(const struct ctl *k, enum fleet_control op)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddNumberToObject(o, "campaign", (double)k->id) &&
		 cJSON_AddStringToObject(o, "name", k->name) &&
		 cJSON_AddStringToObject(o, "before", k->before) &&
		 cJSON_AddStringToObject(o, "state", k->after) &&
		 (k->reason[0] ? cJSON_AddStringToObject(o, "reason", k->reason)
			       : cJSON_AddNullToObject(o, "reason")) &&
		 cJSON_AddBoolToObject(o, "changed", k->changed);
	if (ok && op == FLEET_CTL_ABORT)
		ok = cJSON_AddNumberToObject(o, "canceled", (double)k->canceled) != NULL;
	if (ok && op == FLEET_CTL_RETRY_FAILED)
		ok = cJSON_AddNumberToObject(o, "retried", (double)k->retried) &&
		     cJSON_AddNumberToObject(o, "in_other_campaign", (double)k->blocked);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fleet_admin_control(PGconn *c, const struct fleet_ref *ref, enum fleet_control op,
			const char *actor, cJSON **out, struct uspc_err *err)
{
	struct ctl k = { .actor = actor && *actor ? actor : "unknown" };
	PGresult *r = NULL;
	*out = NULL;
	int rc = adm_resolve(c, ref, &k.id, err);
	if (rc < 0)
		return rc;
	snprintf(k.sid, sizeof(k.sid), "%" PRId64, k.id);
	if ((rc = adm_q(c, "BEGIN", 0, NULL, NULL, err)) < 0)
		return rc;
	const char *p[] = { k.sid };
	if ((rc = adm_q(c, fleet_stmt_admin_lock, 1, p, &r, err)) == 0 && PQntuples(r) != 1)
		rc = uspc_err_set(err, USPCTL_E_UNKNOWN_CAMPAIGN, "no campaign %" PRId64, k.id);
	if (rc == 0) {
		snprintf(k.name, sizeof(k.name), "%s", PQgetvalue(r, 0, 1));
		snprintf(k.before, sizeof(k.before), "%s", PQgetvalue(r, 0, 2));
		snprintf(k.after, sizeof(k.after), "%s", k.before);
		snprintf(k.reason, sizeof(k.reason), "%s", PQgetvalue(r, 0, 3));
		if (!allowed(op, k.before))
			rc = refuse(&k, op, err);
	}
	PQclear(r);
	if (rc == 0) {
		switch (op) {
		case FLEET_CTL_PAUSE:
			rc = do_pause(c, &k, err);
			break;
		case FLEET_CTL_RESUME:
			rc = do_resume(c, &k, err);
			break;
		case FLEET_CTL_ABORT:
			rc = do_abort(c, &k, err);
			break;
		case FLEET_CTL_RETRY_FAILED:
			rc = do_retry(c, &k, err);
			break;
		}
	}
	if (rc == 0)
		rc = adm_q(c, "COMMIT", 0, NULL, NULL, err);
	else
		adm_rollback(c);
	if (rc == 0 && !(*out = ctl_json(&k, op)))
		rc = adm_oom(err);
	return rc;
}
