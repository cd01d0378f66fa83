/*
 * fleet_report.c — what operators read about campaigns (fleet_admin.h):
 * status (one walk over the campaign's devices, shaped here into counts,
 * rates, threshold headroom and the window), list, devices, and fleet
 * versions from the inventory. Read-only; owns nothing between calls; runs
 * on the caller's connection and thread. Statements: sql/admin_status.sql,
 * admin_list.sql, admin_devices.sql, admin_versions.sql.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_admin.h"
#include "fleet_admin_internal.h"
#include "fleet_fw.h"
#include "fleet_stmt.h"

/* ---- status ------------------------------------------------------------------------- */

static int64_t get_i64(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : 0;
}

/* {state: n} with every device state (0 when absent) and in_progress. */
static cJSON *full_counts(const cJSON *raw, int64_t *n)
{
	cJSON *o = cJSON_CreateObject();
	int64_t busy = 0;
	for (int s = 0; o && s < FLEET_DS_COUNT_; s++) {
		const char *name = fleet_dev_state_name((enum fleet_dev_state)s);
		n[s] = get_i64(raw, name);
		if (s >= FLEET_DS_DOWNLOADING && s <= FLEET_DS_VERIFYING)
			busy += n[s];
		if (!cJSON_AddNumberToObject(o, name, (double)n[s])) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	if (o && !cJSON_AddNumberToObject(o, "in_progress", (double)busy)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *per_wave(const cJSON *raw, int waves)
{
	cJSON *a = cJSON_CreateArray();
	for (int w = 0; a && w < waves; w++) {
		char key[16];
		int64_t n[FLEET_DS_COUNT_];
		cJSON *e = cJSON_CreateObject(), *k;
		snprintf(key, sizeof(key), "%d", w);
		k = full_counts(cJSON_GetObjectItemCaseSensitive(raw, key), n);
		if (!e || !k || !cJSON_AddNumberToObject(e, "wave", w + 1) ||
		    !cJSON_AddItemToObject(e, "counts", k) || !cJSON_AddItemToArray(a, e)) {
			if (e && !cJSON_GetObjectItemCaseSensitive(e, "counts"))
				cJSON_Delete(k);
			cJSON_Delete(e);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static cJSON *threshold(const struct fleet_threshold *t, int64_t failed, int64_t finished,
			int64_t consecutive)
{
	cJSON *o = cJSON_CreateObject();
	double pct = finished > 0 ? round((double)failed * 1000.0 / (double)finished) / 10.0 : 0;
	if (o && (!cJSON_AddNumberToObject(o, "failed", (double)failed) ||
		  !cJSON_AddNumberToObject(o, "finished", (double)finished) ||
		  !cJSON_AddNumberToObject(o, "percent", pct) ||
		  !cJSON_AddNumberToObject(o, "limit", t->percent) ||
		  !cJSON_AddNumberToObject(o, "min_sample", (double)t->min_sample) ||
		  !cJSON_AddNumberToObject(o, "consecutive", (double)consecutive) ||
		  !cJSON_AddNumberToObject(o, "consecutive_limit", (double)t->consecutive))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Thresholds as the engine checks them: counted since the last resume. */
static cJSON *thresholds(const struct fleet_spec *s, const cJSON *raw, const int64_t *n)
{
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(raw, "class_failed");
	int64_t fin = n[FLEET_DS_SUCCEEDED] + n[FLEET_DS_FAILED] + n[FLEET_DS_TIMED_OUT] -
		      get_i64(raw, "base_finished");
	int64_t img = get_i64(cf, "image") - get_i64(raw, "base_image");
	int64_t inf = get_i64(cf, "infra") - get_i64(raw, "base_infra");
	cJSON *o = cJSON_CreateObject();
	cJSON *a = threshold(&s->image_threshold, img < 0 ? 0 : img, fin < 0 ? 0 : fin,
			     get_i64(raw, "consecutive_image"));
	cJSON *b = threshold(&s->infra_threshold, inf < 0 ? 0 : inf, fin < 0 ? 0 : fin,
			     get_i64(raw, "consecutive_infra"));
	if (!o || !a || !b) {
		cJSON_Delete(o);
		cJSON_Delete(a);
		cJSON_Delete(b);
		return NULL;
	}
	cJSON_AddItemToObject(o, "image", a);
	cJSON_AddItemToObject(o, "infra", b);
	return o;
}

static cJSON *window(const struct fleet_spec *s, const cJSON *clock)
{
	int64_t left = 0, opens = 0;
	cJSON *o = cJSON_CreateObject();
	int open = 1;
	if (!o)
		return NULL;
	if (cJSON_GetArraySize(clock) == 2)
		open = fleet_spec_window(s, (int)cJSON_GetArrayItem(clock, 0)->valuedouble,
					 (int)cJSON_GetArrayItem(clock, 1)->valuedouble, &left,
					 &opens);
	if (!cJSON_AddStringToObject(o, "timezone", s->timezone) ||
	    !cJSON_AddBoolToObject(o, "open", open) ||
	    !(open ? cJSON_AddNumberToObject(o, "left_s", (double)left)
		   : cJSON_AddNumberToObject(o, "opens_in_s", (double)opens))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Move raw[key] into o (null when raw has none). */
static int take(cJSON *o, cJSON *raw, const char *key)
{
	cJSON *j = cJSON_DetachItemFromObjectCaseSensitive(raw, key);
	if (!j)
		j = cJSON_CreateNull();
	if (!j)
		return 0;
	if (!cJSON_AddItemToObject(o, key, j)) {
		cJSON_Delete(j);
		return 0;
	}
	return 1;
}

static int add_item(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return 0;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return 0;
	}
	return 1;
}

static cJSON *rate_eta(cJSON *o, const cJSON *raw, const int64_t *n)
{
	int64_t spm = get_i64(raw, "successes_per_min");
	int64_t left = n[FLEET_DS_PENDING];
	for (int s = FLEET_DS_DOWNLOADING; s <= FLEET_DS_VERIFYING; s++)
		left += n[s];
	cJSON *rate = cJSON_CreateObject();
	if (!rate ||
	    !cJSON_AddNumberToObject(rate, "starts_per_min",
				     (double)get_i64(raw, "starts_per_min")) ||
	    !cJSON_AddNumberToObject(rate, "successes_per_min", (double)spm) ||
	    !add_item(o, "rate", rate))
		return NULL;
	if (left == 0)
		return cJSON_AddNumberToObject(o, "eta_s", 0);
	if (spm <= 0)
		return cJSON_AddNullToObject(o, "eta_s");
	return cJSON_AddNumberToObject(o, "eta_s", ceil((double)left * 60.0 / (double)spm));
}

/* The operator's status object from what admin_status.sql returned. */
static cJSON *status_json(cJSON *raw)
{
	static const char *const head[] = { "campaign", "name",       "state",       "reason",
					    "settled",  "wave",       "waves",       "targets",
					    "seed",     "created_at", "finished_at", NULL };
	struct fleet_spec spec;
	struct uspc_err perr;
	int64_t n[FLEET_DS_COUNT_];
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;
	fleet_spec_init(&spec);
	int have_spec = fleet_spec_parse(cJSON_GetObjectItemCaseSensitive(raw, "spec"), NULL, &spec,
					 &perr) == 0;
	for (size_t i = 0; ok && head[i]; i++)
		ok = take(o, raw, head[i]);
	ok = ok &&
	     add_item(o, "counts", full_counts(cJSON_GetObjectItemCaseSensitive(raw, "counts"), n));
	ok = ok && add_item(o, "per_wave",
			    per_wave(cJSON_GetObjectItemCaseSensitive(raw, "per_wave"),
				     (int)get_i64(o, "waves")));
	ok = ok && take(o, raw, "failures") && take(o, raw, "by_model") &&
	     take(o, raw, "by_from_version") && rate_eta(o, raw, n);
	if (ok && have_spec)
		ok = add_item(o, "thresholds", thresholds(&spec, raw, n));
	ok = ok && take(o, raw, "top_faults");
	if (ok && have_spec && spec.n_windows)
		ok = add_item(o, "window",
			      window(&spec, cJSON_GetObjectItemCaseSensitive(raw, "clock")));
	ok = ok && take(o, raw, "recent_events") && take(o, raw, "spec");
	fleet_spec_fini(&spec);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int fleet_admin_status(PGconn *c, const struct fleet_ref *ref, int64_t clock_offset_s, cJSON **out,
		       struct uspc_err *err)
{
	char sid[24], off[24];
	int64_t id = 0;
	PGresult *r = NULL;
	cJSON *raw = NULL;
	*out = NULL;
	int rc = adm_resolve(c, ref, &id, err);
	if (rc < 0)
		return rc;
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	snprintf(off, sizeof(off), "%" PRId64, clock_offset_s);
	const char *p[] = { sid, off };
	if ((rc = adm_q(c, fleet_stmt_admin_status, 2, p, &r, err)) == 0) {
		if (PQntuples(r) == 0)
			rc = uspc_err_set(err, USPCTL_E_UNKNOWN_CAMPAIGN, "no campaign %" PRId64,
					  id);
		else
			rc = adm_parse_json(r, &raw, err);
	}
	PQclear(r);
	if (rc == 0 && !(*out = status_json(raw)))
		rc = adm_oom(err);
	cJSON_Delete(raw);
	return rc;
}

/* ---- list, devices, versions ---------------------------------------------------------- */

int fleet_admin_list(PGconn *c, cJSON **out, struct uspc_err *err)
{
	PGresult *r = NULL;
	*out = NULL;
	int rc = adm_q(c, fleet_stmt_admin_list, 0, NULL, &r, err);
	if (rc == 0)
		rc = adm_parse_json(r, out, err);
	PQclear(r);
	return rc;
}

int fleet_admin_devices(PGconn *c, const struct fleet_ref *ref,
			const struct fleet_devices_filter *f,
			int (*each)(void *arg, const cJSON *device), void *arg,
			struct uspc_err *err)
{
	enum fleet_dev_state st;
	char sid[24], wave[16], lim[24];
	int64_t id = 0, limit = f->limit ? f->limit : FLEET_ADMIN_DEVICES_DEFAULT;
	PGresult *r = NULL;
	if (f->state && fleet_dev_state_parse(f->state, &st) < 0)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD,
				    "'state' must be a device state: pending, downloading, "
				    "downloaded, activating, rebooting, verifying, succeeded, "
				    "failed, timed_out, skipped or canceled");
	if (limit < 1 || limit > FLEET_ADMIN_DEVICES_MAX)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'limit' must be 1 to %d",
				    FLEET_ADMIN_DEVICES_MAX);
	if (f->wave < 0 || f->wave > FLEET_WAVES_MAX)
		return uspc_err_set(err, USPCTL_E_BAD_FIELD, "'wave' must be 1 to %d",
				    FLEET_WAVES_MAX);
	int rc = adm_resolve(c, ref, &id, err);
	if (rc < 0)
		return rc;
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	snprintf(wave, sizeof(wave), "%d", f->wave);
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	const char *p[] = { sid, f->state, f->reason, f->wave ? wave : NULL, lim };
	if ((rc = adm_q(c, fleet_stmt_admin_devices, 5, p, &r, err)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		cJSON *d = cJSON_Parse(PQgetvalue(r, i, 0));
		if (!d) {
			rc = adm_oom(err);
			break;
		}
		int stop = each(arg, d);
		cJSON_Delete(d);
		if (stop)
			break;
	}
	PQclear(r);
	return rc;
}

int fleet_admin_versions(PGconn *c, const struct store_selector *sel, cJSON **out,
			 struct uspc_err *err)
{
	char *text = NULL;
	PGresult *r = NULL;
	*out = NULL;
	int rc = sel ? adm_selector_text(sel, 0, &text, err) : 0;
	if (rc < 0)
		return rc;
	const char *p[] = { text ? text : "{\"all\":true}" };
	if ((rc = adm_q(c, fleet_stmt_admin_versions, 1, p, &r, err)) == 0)
		rc = adm_parse_json(r, out, err);
	PQclear(r);
	free(text);
	return rc;
}
