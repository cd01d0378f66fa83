/*
 * fleet_pass.c — one pass of the campaign engine over one campaign
 * (fleet_pass_campaign, fleet_engine_internal.h), in one transaction under
 * the campaign's row lock (FOR UPDATE SKIP LOCKED):
 *   1. read the definition, the clock in the window's time zone and the
 *      device counts (campaign_counts);
 *   2. advance each device with a step in flight (fleet_fw.c decides;
 *      apply() writes the decision and its task in one statement),
 *      checking the failure thresholds after every device that finishes;
 *   3. move the campaign between running, waiting_window and paused,
 *      advance waves (success threshold, soak time, offline grace) and
 *      finish it;
 *   4. start pending devices within max_inflight and the start rate;
 *   5. for continuous campaigns, let newly matching agents join;
 *   6. write the counts and the campaign's row.
 * Runs on the engine's thread and connection; keeps nothing between passes
 * but the staged-device cursor hint in struct fleet_engine.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "fleet_engine_internal.h"
#include "fleet_fw.h"
#include "fleet_spec.h"
#include "fleet_stmt.h"
#include "log.h"
#include "store_sql.h"
#include "usp_utf8.h"

#define LOG_COMP "campaign"
#define JOIN_EVERY_S 30

/* One campaign during a pass. */
struct camp {
	int64_t id;
	char name[FLEET_NAME_MAX + 1];
	struct fleet_spec spec;
	char state[16], reason[320];
	int wave, waves;
	int64_t wave_age_s, done_age_s; /* -1: the wave is not done */
	int64_t consec_image, consec_infra;
	int64_t base_finished, base_image, base_infra;
	double tokens, tokens_age_s;
	char *selector;
	int64_t joined_age_s;
	/* counts: [wave][state][failure class] */
	int64_t (*n)[FLEET_DS_COUNT_][3];
	int window_open;
	int64_t window_left_s, opens_in_s;
	int wave_done; /* for engine_campaign.sql $6: 1 set, -1 clear, 0 keep */
	int next_wave;
	int64_t joined;
	int activations;
};

static int exec(struct fleet_engine *e, const char *sql, int n, const char *const *p, PGresult **r,
		struct uspc_err *err)
{
	return store_exec(e->db, sql, n, p, r, err);
}

/* The statements every device step or pass runs: prepared once per
 * connection (planning the step's update cost more than running it). */
static int exec_hot(struct fleet_engine *e, const char *sql, int n, const char *const *p,
		    PGresult **r, struct uspc_err *err)
{
	return store_exec_prepared(e->db, &e->prep, sql, n, p, r, err);
}

static const char *col(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c);
}

static int64_t col_i64(PGresult *r, int row, int c)
{
	const char *s = col(r, row, c);
	return s ? strtoll(s, NULL, 10) : 0;
}

static int col_bool(PGresult *r, int row, int c)
{
	const char *s = col(r, row, c);
	return s && s[0] == 't';
}

/* Cut s in place to its longest valid UTF-8 prefix: a formatted line may
 * have been cut inside a character, and PostgreSQL refuses such text. */
static const char *utf8_fit(char *s)
{
	s[usp_utf8_valid_prefix(s, strlen(s))] = '\0';
	return s;
}

static void event(struct fleet_engine *e, struct camp *c, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void event(struct fleet_engine *e, struct camp *c, const char *kind, const char *fmt, ...)
{
	char msg[512], id[24], actor[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_fit(msg);
	snprintf(id, sizeof(id), "%" PRId64, c->id);
	snprintf(actor, sizeof(actor), "engine:%s", e->node);
	const char *p[] = { id, actor, kind, msg };
	struct uspc_err err = { 0 };
	if (exec(e, fleet_stmt_engine_event, 4, p, NULL, &err) < 0)
		log_warn(LOG_COMP, "campaign %" PRId64 ": event not recorded: %s", c->id, err.msg);
	log_info(LOG_COMP, "campaign %" PRId64 " (%s): %s: %s", c->id, c->name, kind, msg);
}

/* ---- counts and thresholds ------------------------------------------------------ */

static int64_t wave_count(const struct camp *c, int w, enum fleet_dev_state s)
{
	return w >= 0 && w < c->waves ? c->n[w][s][0] + c->n[w][s][1] + c->n[w][s][2] : 0;
}

static int64_t total(const struct camp *c, enum fleet_dev_state s)
{
	int64_t t = 0;
	for (int w = 0; w < c->waves; w++)
		t += wave_count(c, w, s);
	return t;
}

/* Failed and timed-out devices of one class, all waves. */
static int64_t class_failed(const struct camp *c, enum fleet_fail_class fc)
{
	int64_t t = 0;
	for (int w = 0; w < c->waves; w++)
		t += c->n[w][FLEET_DS_FAILED][fc] + c->n[w][FLEET_DS_TIMED_OUT][fc];
	return t;
}

static int64_t inflight(const struct camp *c, int with_downloaded)
{
	return total(c, FLEET_DS_DOWNLOADING) + total(c, FLEET_DS_ACTIVATING) +
	       total(c, FLEET_DS_REBOOTING) + total(c, FLEET_DS_VERIFYING) +
	       (with_downloaded ? total(c, FLEET_DS_DOWNLOADED) : 0);
}

static int64_t finished(const struct camp *c)
{
	return total(c, FLEET_DS_SUCCEEDED) + total(c, FLEET_DS_FAILED) +
	       total(c, FLEET_DS_TIMED_OUT);
}

static int active_state(const struct camp *c)
{
	return !strcmp(c->state, "running") || !strcmp(c->state, "waiting_window");
}

static void set_state(struct camp *c, const char *state, const char *reason)
{
	snprintf(c->state, sizeof(c->state), "%s", state ? state : "");
	snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
	utf8_fit(c->reason);
}

static void pause_for(struct fleet_engine *e, struct camp *c, const char *kind, const char *why)
{
	if (!active_state(c))
		return;
	set_state(c, "paused", why);
	event(e, c, kind, "paused: %s", why);
}

/* Whether threshold t of class `what` trips with `failed` of `fin` finished
 * devices (since the last resume) and `consec` failures in a row; why. */
static int trips(const struct fleet_threshold *t, const char *what, int64_t failed, int64_t fin,
		 int64_t consec, char *why, size_t size)
{
	if (t->consecutive && consec >= t->consecutive) {
		snprintf(why, size, "%" PRId64 " %s failures in a row (limit %" PRId64 ")", consec,
			 what, t->consecutive);
		return 1;
	}
	if (fin < t->min_sample || fin <= 0 || (double)failed * 100.0 / (double)fin <= t->percent)
		return 0;
	snprintf(why, size,
		 "%s failure threshold: %" PRId64 " of %" PRId64
		 " finished devices failed (%.1f%% > %g%%, sample %" PRId64 " >= %" PRId64 ")",
		 what, failed, fin, (double)failed * 100.0 / (double)fin, t->percent, fin,
		 t->min_sample);
	return 1;
}

/* After every device that finished: the breakers and the two thresholds. */
static void check_thresholds(struct fleet_engine *e, struct camp *c)
{
	char why[256];
	if (!active_state(c))
		return;
	int64_t fin = finished(c) - c->base_finished;
	if (trips(&c->spec.image_threshold, "image",
		  class_failed(c, FLEET_FC_IMAGE) - c->base_image, fin, c->consec_image, why,
		  sizeof(why)) ||
	    trips(&c->spec.infra_threshold, "infrastructure",
		  class_failed(c, FLEET_FC_INFRA) - c->base_infra, fin, c->consec_infra, why,
		  sizeof(why)))
		pause_for(e, c, "threshold", why);
}

/* Move a device between states in the counts; count a finished one. */
static void account(struct fleet_engine *e, struct camp *c, int wave, enum fleet_dev_state from,
		    const struct fleet_dev_out *o)
{
	if (wave < 0 || wave >= c->waves || from == o->state)
		return;
	/* a device in flight or pending has no failure class */
	c->n[wave][from][FLEET_FC_NONE]--;
	c->n[wave][o->state][o->fail_class]++;
	if (o->state == FLEET_DS_SUCCEEDED) {
		c->consec_image = c->consec_infra = 0;
	} else if (o->state == FLEET_DS_FAILED || o->state == FLEET_DS_TIMED_OUT) {
		if (o->fail_class == FLEET_FC_IMAGE)
			c->consec_image++;
		else if (o->fail_class == FLEET_FC_INFRA)
			c->consec_infra++;
	} else {
		return;
	}
	check_thresholds(e, c);
}

/* ---- applying a device's step -------------------------------------------------------- */

static int apply(struct fleet_engine *e, struct camp *c, int64_t id, const char *eid,
		 const struct fleet_dev_out *o, struct uspc_err *err)
{
	char note[sizeof(o->note)], detail[sizeof(o->detail)], reason[sizeof(o->reason)];
	memcpy(note, o->note, sizeof(note));
	memcpy(detail, o->detail, sizeof(detail));
	memcpy(reason, o->reason, sizeof(reason));
	note[sizeof(note) - 1] = detail[sizeof(detail) - 1] = reason[sizeof(reason) - 1] = '\0';
	char sid[24], cid[24], attempt[16], dl[24], due[24];
	char *req = o->task_req ? cJSON_PrintUnformatted(o->task_req) : NULL;
	if (o->task_req && !req)
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(attempt, sizeof(attempt), "%d", o->attempt);
	snprintf(dl, sizeof(dl), "%" PRId64, o->deadline_s);
	snprintf(due, sizeof(due), "%" PRId64, o->due_s);
	const char *fc = fleet_fail_class_name(o->fail_class);
	const char *p[21] = {
		sid,
		fleet_dev_state_name(o->state),
		o->step,
		utf8_fit(reason),
		fc ? fc : "",
		utf8_fit(detail),
		o->retryable ? "true" : "false",
		attempt,
		o->bank,
		o->single_bank ? "true" : "false",
		o->no_activate ? "true" : "false",
		o->task_op,
		req,
		o->command_key,
		dl,
		due,
		o->clear_task ? "true" : "false",
		utf8_fit(note),
		cid,
		eid,
		e->node,
	};
	PGresult *r = NULL;
	int rc = exec_hot(e, fleet_stmt_engine_update, 21, p, &r, err);
	if (rc == 0 && PQntuples(r) == 1)
		e->tasks_this_pass += (uint64_t)col_i64(r, 0, 0);
	PQclear(r);
	free(req);
	return rc;
}

/* ---- in-flight devices ------------------------------------------------------------- */

static enum fleet_task_end task_end(const char *state)
{
	if (!strcmp(state, "done"))
		return FLEET_TASK_DONE;
	if (!strcmp(state, "failed"))
		return FLEET_TASK_FAILED;
	if (!strcmp(state, "unknown"))
		return FLEET_TASK_UNKNOWN;
	if (!strcmp(state, "expired") || !strcmp(state, "canceled"))
		return FLEET_TASK_LOST;
	return FLEET_TASK_NONE;
}

/* An aborted campaign: devices that have not activated stop here. */
static int abort_device(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	memset(o, 0, sizeof(*o));
	if (in->state != FLEET_DS_DOWNLOADING && in->state != FLEET_DS_DOWNLOADED)
		return fleet_fw_advance(in, o);
	o->changed = 1;
	o->state = FLEET_DS_CANCELED;
	snprintf(o->reason, sizeof(o->reason), "aborted");
	snprintf(o->bank, sizeof(o->bank), "%s", in->bank ? in->bank : "");
	o->single_bank = in->single_bank;
	o->no_activate = in->no_activate;
	o->attempt = in->attempt;
	o->deadline_s = -1;
	o->clear_task = 1;
	if (in->state == FLEET_DS_DOWNLOADED && !in->single_bank && in->bank && *in->bank) {
		/* the staged image must never boot: Available=false (TR-181) */
		cJSON *r = cJSON_CreateObject(), *objs, *obj, *ps, *p;
		if (!r || !(objs = cJSON_AddArrayToObject(r, "update_objs")) ||
		    !(obj = cJSON_CreateObject()) || !cJSON_AddItemToArray(objs, obj) ||
		    !cJSON_AddStringToObject(obj, "obj_path", in->bank) ||
		    !(ps = cJSON_AddArrayToObject(obj, "param_settings")) ||
		    !(p = cJSON_CreateObject()) || !cJSON_AddItemToArray(ps, p) ||
		    !cJSON_AddStringToObject(p, "param", "Available") ||
		    !cJSON_AddStringToObject(p, "value", "false")) {
			cJSON_Delete(r);
			return -1;
		}
		o->task_op = "set";
		o->task_req = r;
		snprintf(o->note, sizeof(o->note),
			 "campaign aborted before activation; %s set Available=false", in->bank);
	} else {
		snprintf(o->note, sizeof(o->note), "campaign aborted before activation");
	}
	return 0;
}

/* Windows read in each device's own zone (window.device_timezone_tag). */
static int per_device_zones(const struct camp *c)
{
	return c->spec.n_windows && c->spec.device_tz_tag[0];
}

/* Where the last look at a campaign's staged devices stopped: with windows
 * per device zone, staged devices whose window is closed must not hide
 * those behind them, so each pass goes on from here (a hint only: any
 * engine may start from 0). */
static int64_t *staged_cursor(struct fleet_engine *e, int64_t campaign)
{
	size_t slot = (size_t)campaign % FLEET_CURSORS;
	if (e->cursor_campaign[slot] != campaign) {
		e->cursor_campaign[slot] = campaign;
		e->cursor[slot] = 0;
	}
	return &e->cursor[slot];
}

static int advance_inflight(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	int aborted = !strcmp(c->state, "aborted");
	int per_device = per_device_zones(c);
	int running = !strcmp(c->state, "running");
	int may_activate = running && (c->window_open || per_device);
	char cid[24], lim[16], staged[24], off[24], after[24];
	int64_t room = c->spec.max_inflight - inflight(c, 0);
	int64_t *cursor = staged_cursor(e, c->id), last_staged = 0;
	int64_t want = aborted      ? (int64_t)e->o.devices_per_pass
		       : per_device ? (room > 0 ? (int64_t)e->o.devices_per_pass : 0)
		       : room > 0   ? room
				    : 0;
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(lim, sizeof(lim), "%d", e->o.devices_per_pass);
	snprintf(staged, sizeof(staged), "%" PRId64, want);
	snprintf(off, sizeof(off), "%" PRId64, e->o.clock_offset_s);
	snprintf(after, sizeof(after), "%" PRId64, per_device ? *cursor : 0);
	const char *p[] = { cid,    may_activate || aborted ? "true" : "false", lim,
			    staged, per_device ? c->spec.device_tz_tag : NULL,  off,
			    after };
	PGresult *r = NULL;
	int rc = exec(e, fleet_stmt_engine_inflight, 7, p, &r, err);
	if (rc < 0)
		return rc;
	int64_t staged_seen = 0;
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		struct fleet_dev_in in = { 0 };
		struct fleet_dev_out o;
		cJSON *result = NULL, *transfer = NULL, *boot = NULL;
		if (fleet_dev_state_parse(col(r, i, 2), &in.state) < 0)
			continue;
		in.spec = &c->spec;
		in.campaign = c->id;
		in.id = col_i64(r, i, 0);
		in.step = col(r, i, 3);
		in.attempt = (int)col_i64(r, i, 4);
		in.bank = col(r, i, 5);
		in.single_bank = col_bool(r, i, 6);
		in.no_activate = col_bool(r, i, 7);
		in.deadline_passed = col_bool(r, i, 8);
		in.task = task_end(col(r, i, 9));
		if (col(r, i, 10))
			in.task_result = result = cJSON_Parse(col(r, i, 10));
		in.task_err = col_i64(r, i, 11);
		in.task_err_msg = col(r, i, 12);
		if (col(r, i, 13))
			in.transfer = transfer = cJSON_Parse(col(r, i, 13));
		in.oper_state = (int)col_i64(r, i, 14);
		in.oper_msg = col(r, i, 15);
		in.agent_ready = col_bool(r, i, 16);
		in.agent_back = col_bool(r, i, 17);
		if (col(r, i, 18))
			in.boot = boot = cJSON_Parse(col(r, i, 18));
		int wave = (int)col_i64(r, i, 19);
		in.retry_base = (int)col_i64(r, i, 20);
		in.agent_online = col_bool(r, i, 21);
		in.cwmp = col_bool(r, i, 24);
		in.may_activate = may_activate && c->activations < room;
		in.window_left_s = c->window_left_s;
		if (in.state == FLEET_DS_DOWNLOADED) {
			staged_seen++;
			last_staged = in.id;
		}
		if (per_device && in.state == FLEET_DS_DOWNLOADED) {
			int dow = (int)col_i64(r, i, 22), sec = (int)col_i64(r, i, 23);
			int64_t left = c->window_left_s, opens;
			int open = dow >= 0 ? fleet_spec_window(&c->spec, dow, sec, &left, &opens)
					    : c->window_open;
			in.may_activate = in.may_activate && open;
			in.window_left_s = left;
		}
		if (in.state == FLEET_DS_DOWNLOADED && !in.may_activate && !aborted) {
			cJSON_Delete(result);
			cJSON_Delete(transfer);
			cJSON_Delete(boot);
			continue;
		}
		int arc = aborted ? abort_device(&in, &o) : fleet_fw_advance(&in, &o);
		if (arc == 0 && o.changed) {
			rc = apply(e, c, in.id, col(r, i, 1), &o, err);
			if (rc == 0) {
				if (in.state == FLEET_DS_DOWNLOADED &&
				    o.state == FLEET_DS_ACTIVATING)
					c->activations++;
				account(e, c, wave, in.state, &o);
				fleet_engine_count(e, &e->st.advanced, 1);
			}
		}
		cJSON_Delete(o.task_req);
		cJSON_Delete(result);
		cJSON_Delete(transfer);
		cJSON_Delete(boot);
	}
	PQclear(r);
	/* a full page of staged devices: go on after it next time; else
	 * start again from the first */
	*cursor = per_device && staged_seen >= want ? last_staged : 0;
	return rc;
}

/* ---- waves, windows, finishing ---------------------------------------------------- */

static void update_window(struct fleet_engine *e, struct camp *c)
{
	/* with zones per device each device waits for its own window, and
	 * the campaign stays running */
	if (!active_state(c) || c->spec.n_windows == 0 || per_device_zones(c))
		return;
	if (c->window_open && !strcmp(c->state, "waiting_window")) {
		set_state(c, "running", NULL);
		event(e, c, "window", "activation window open (%" PRId64 " s left)",
		      c->window_left_s);
	} else if (!c->window_open && !strcmp(c->state, "running")) {
		char why[128];
		snprintf(why, sizeof(why),
			 "activation window closed; the next opens in %" PRId64 " s",
			 c->opens_in_s);
		set_state(c, "waiting_window", why);
		event(e, c, "window", "%s", why);
	}
}

/* Whether waves lo..hi have pending devices that can start, or parked
 * (offline) ones. */
static int wave_pending(struct fleet_engine *e, struct camp *c, int lo, int hi, int *startable,
			int *parked, struct uspc_err *err)
{
	char cid[24], a[16], b[16];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(a, sizeof(a), "%d", lo);
	snprintf(b, sizeof(b), "%d", hi);
	const char *p[] = { cid, a, b };
	PGresult *r = NULL;
	int rc = exec(e, fleet_stmt_engine_wave_pending, 3, p, &r, err);
	if (rc == 0) {
		*startable = col_bool(r, 0, 0);
		*parked = col_bool(r, 0, 1);
	}
	PQclear(r);
	return rc;
}

static int advance_waves(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	int w = c->wave;
	const struct fleet_wave *wv = &c->spec.waves[w < (int)c->spec.n_waves ? w : 0];
	if (!active_state(c))
		return 0;
	int64_t succ = wave_count(c, w, FLEET_DS_SUCCEEDED);
	int64_t fail = wave_count(c, w, FLEET_DS_FAILED) + wave_count(c, w, FLEET_DS_TIMED_OUT);
	int64_t busy = wave_count(c, w, FLEET_DS_DOWNLOADING) +
		       wave_count(c, w, FLEET_DS_DOWNLOADED) +
		       wave_count(c, w, FLEET_DS_ACTIVATING) +
		       wave_count(c, w, FLEET_DS_REBOOTING) + wave_count(c, w, FLEET_DS_VERIFYING);
	int last = w + 1 == c->waves;
	int64_t pending = last ? total(c, FLEET_DS_PENDING) : wave_count(c, w, FLEET_DS_PENDING);
	if (last) /* stragglers of earlier waves that came back finish first */
		busy = inflight(c, 1);
	int startable = 0, parked = 0;
	if (busy > 0)
		return 0;
	if (pending > 0) {
		int rc = wave_pending(e, c, last ? 0 : w, w, &startable, &parked, err);
		if (rc < 0)
			return rc;
	}
	int grace_over = c->wave_age_s >= c->spec.offline_grace_s;
	if (startable || (parked && !grace_over))
		return 0;
	double pct = succ + fail ? (double)succ * 100.0 / (double)(succ + fail) : 100.0;
	if (c->done_age_s < 0) {
		c->wave_done = 1;
		c->done_age_s = 0;
		if (pct < wv->success_percent) {
			char why[256];
			snprintf(why, sizeof(why),
				 "wave %d finished with %.1f%% succeeded (%" PRId64 " of %" PRId64
				 "), below its success_percent %g%%",
				 w + 1, pct, succ, succ + fail, wv->success_percent);
			pause_for(e, c, "wave", why);
			return 0;
		}
		event(e, c, "wave",
		      "wave %d of %d done: %" PRId64 " succeeded, %" PRId64 " failed%s%s", w + 1,
		      c->waves, succ, fail, parked ? ", devices offline past the grace time" : "",
		      w + 1 < c->waves && wv->soak_s ? "; soaking" : "");
	}
	if (w + 1 < c->waves) {
		if (c->done_age_s >= wv->soak_s) {
			c->wave++;
			c->next_wave = 1;
			c->wave_done = -1;
			c->done_age_s = -1;
			c->wave_age_s = 0;
			event(e, c, "wave", "wave %d of %d starts", c->wave + 1, c->waves);
		}
		return 0;
	}
	if (c->spec.continuous)
		return 0;
	char cid[24];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	const char *p[] = { cid };
	PGresult *r = NULL;
	int rc = exec(e, fleet_stmt_engine_offline_end, 1, p, &r, err);
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		int ow = (int)col_i64(r, i, 0);
		int64_t off = col_i64(r, i, 1);
		if (ow >= 0 && ow < c->waves) {
			c->n[ow][FLEET_DS_TIMED_OUT][FLEET_FC_INFRA] += off;
			c->n[ow][FLEET_DS_PENDING][FLEET_FC_NONE] -= off;
		}
	}
	PQclear(r);
	if (rc < 0)
		return rc;
	char why[200];
	snprintf(why, sizeof(why),
		 "%" PRId64 " succeeded, %" PRId64 " failed, %" PRId64 " timed out, %" PRId64
		 " skipped",
		 total(c, FLEET_DS_SUCCEEDED), total(c, FLEET_DS_FAILED),
		 total(c, FLEET_DS_TIMED_OUT), total(c, FLEET_DS_SKIPPED));
	set_state(c, "finished", why);
	event(e, c, "finished", "%s", why);
	return 0;
}

/* ---- starting devices ------------------------------------------------------------- */

static int dispatch(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	if (!active_state(c))
		return 0;
	int64_t room = c->spec.max_inflight - inflight(c, 0);
	double rate = (double)c->spec.max_starts_per_minute;
	if (rate > 0) {
		double cap = rate / 6.0 > 1.0 ? rate / 6.0 : 1.0;
		c->tokens = fmin(cap, c->tokens + c->tokens_age_s * rate / 60.0);
		if ((double)room > floor(c->tokens))
			room = (int64_t)floor(c->tokens);
	}
	if (room > e->o.devices_per_pass)
		room = e->o.devices_per_pass;
	if (room <= 0)
		return 0;
	char cid[24], wave[16], lim[24];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(wave, sizeof(wave), "%d", c->wave);
	snprintf(lim, sizeof(lim), "%" PRId64, room * 2 + 100);
	const char *p[] = { cid, wave, lim };
	PGresult *r = NULL;
	int rc = exec_hot(e, fleet_stmt_engine_dispatch, 3, p, &r, err);
	int64_t started = 0;
	for (int i = 0; rc == 0 && i < PQntuples(r) && started < room; i++) {
		if (!col(r, i, 0))
			continue;
		struct fleet_dev_in in = { .spec = &c->spec,
					   .campaign = c->id,
					   .id = col_i64(r, i, 0),
					   .state = FLEET_DS_PENDING,
					   .attempt = (int)col_i64(r, i, 2),
					   .retry_base = (int)col_i64(r, i, 5),
					   .cwmp = col_bool(r, i, 6) };
		struct fleet_dev_out o;
		int wv = (int)col_i64(r, i, 3);
		fleet_fw_start(&in, &o);
		if (!o.changed)
			break; /* out of memory: try again next pass */
		rc = apply(e, c, in.id, col(r, i, 1), &o, err);
		cJSON_Delete(o.task_req);
		if (rc == 0) {
			account(e, c, wv, FLEET_DS_PENDING, &o);
			started++;
			if (rate > 0)
				c->tokens -= 1.0;
		}
	}
	if (rc == 0 && PQntuples(r) > 0) {
		int64_t parked = col_i64(r, PQntuples(r) - 1, 4);
		if (parked)
			log_debug(LOG_COMP,
				  "campaign %" PRId64 ": %" PRId64 " offline device(s) parked",
				  c->id, parked);
	}
	PQclear(r);
	fleet_engine_count(e, &e->st.started, (uint64_t)started);
	return rc;
}

static int join_continuous(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	if (!c->spec.continuous || !c->selector ||
	    !(active_state(c) || !strcmp(c->state, "paused")) ||
	    (c->joined_age_s >= 0 && c->joined_age_s < JOIN_EVERY_S))
		return 0;
	char cid[24], wave[16], seed[24];
	struct store_buf ex[2];
	char *const *lists[2] = { c->spec.exclude_models, c->spec.exclude_versions };
	size_t counts[2] = { c->spec.n_exclude_models, c->spec.n_exclude_versions };
	for (int k = 0; k < 2; k++) {
		store_buf_init(&ex[k], 1 << 20);
		store_arr_begin(&ex[k]);
		for (size_t i = 0; i < counts[k]; i++)
			store_arr_add(&ex[k], lists[k][i]);
		store_arr_end(&ex[k]);
	}
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(wave, sizeof(wave), "%d", c->waves - 1);
	snprintf(seed, sizeof(seed), "%" PRId64, c->spec.seed);
	const char *p[] = {
		c->selector,          cid, wave, seed, c->spec.version, store_buf_str(&ex[0]),
		store_buf_str(&ex[1])
	};
	PGresult *r = NULL;
	int rc = !p[5] || !p[6] ? uspc_err_set(err, USPC_E_NOMEM, "exclusion lists too large")
				: exec(e, fleet_stmt_engine_join, 7, p, &r, err);
	if (rc == 0) {
		int64_t skipped = col_i64(r, 0, 1);
		c->joined = col_i64(r, 0, 0) + skipped;
		c->n[c->waves - 1][FLEET_DS_PENDING][FLEET_FC_NONE] += col_i64(r, 0, 0);
		c->n[c->waves - 1][FLEET_DS_SKIPPED][FLEET_FC_NONE] += skipped;
		if (c->joined)
			event(e, c, "joined",
			      "%" PRId64 " newly matching agent(s) joined wave %d (%" PRId64
			      " skipped)",
			      c->joined, c->waves, skipped);
		c->joined_age_s = 0;
	}
	PQclear(r);
	store_buf_fini(&ex[0]);
	store_buf_fini(&ex[1]);
	return rc;
}

/* ---- one campaign ------------------------------------------------------------------- */

static int load(struct fleet_engine *e, struct camp *c, PGresult *r, struct uspc_err *err)
{
	cJSON *spec = cJSON_Parse(col(r, 0, 0));
	cJSON *secret = col(r, 0, 1) ? cJSON_Parse(col(r, 0, 1)) : NULL;
	fleet_spec_init(&c->spec);
	int rc = spec ? fleet_spec_parse(spec, NULL, &c->spec, err)
		      : uspc_err_set(err, USPCTL_E_BAD_FIELD, "not JSON");
	if (rc == 0 && fleet_spec_set_secret(&c->spec, secret) < 0)
		rc = uspc_err_set(err, USPCTL_E_BAD_FIELD, "unreadable credentials");
	cJSON_Delete(spec);
	cJSON_Delete(secret);
	set_state(c, col(r, 0, 2), col(r, 0, 3));
	c->wave = (int)col_i64(r, 0, 4);
	c->waves = (int)col_i64(r, 0, 5);
	c->wave_age_s = col_i64(r, 0, 6);
	c->done_age_s = col_i64(r, 0, 7);
	c->consec_image = col_i64(r, 0, 8);
	c->consec_infra = col_i64(r, 0, 9);
	c->tokens = strtod(col(r, 0, 10), NULL);
	c->tokens_age_s = strtod(col(r, 0, 11), NULL);
	c->selector = col(r, 0, 12) ? strdup(col(r, 0, 12)) : NULL;
	c->joined_age_s = col_i64(r, 0, 13);
	snprintf(c->name, sizeof(c->name), "%s", col(r, 0, 14) ? col(r, 0, 14) : "");
	c->base_finished = col_i64(r, 0, 15);
	c->base_image = col_i64(r, 0, 16);
	c->base_infra = col_i64(r, 0, 17);
	if (rc == 0 && (c->waves < 1 || c->waves != (int)c->spec.n_waves || c->wave < 0 ||
			c->wave >= c->waves))
		rc = uspc_err_set(err, USPCTL_E_BAD_FIELD,
				  "wave %d of %d does not fit the definition", c->wave, c->waves);
	if (rc == 0) {
		c->n = calloc((size_t)c->waves, sizeof(*c->n));
		if (!c->n)
			rc = uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	}
	(void)e;
	return rc;
}

static int read_counts(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	char cid[24];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	const char *p[] = { cid };
	PGresult *r = NULL;
	int rc = exec_hot(e, fleet_stmt_engine_counts, 1, p, &r, err);
	if (rc == 0 && PQntuples(r) == 0) {
		/* none yet (a campaign from before the counts were kept) */
		PQclear(r);
		r = NULL;
		rc = exec(e, fleet_stmt_counts_clear, 1, p, NULL, err);
		if (rc == 0)
			rc = exec(e, fleet_stmt_counts_rebuild, 1, p, NULL, err);
		if (rc == 0)
			rc = exec(e, fleet_stmt_engine_counts, 1, p, &r, err);
	}
	for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
		int w = (int)col_i64(r, i, 0);
		enum fleet_dev_state s;
		const char *fc = col(r, i, 2);
		int k = !strcmp(fc, "image")   ? FLEET_FC_IMAGE
			: !strcmp(fc, "infra") ? FLEET_FC_INFRA
					       : 0;
		if (w < 0 || w >= c->waves || fleet_dev_state_parse(col(r, i, 1), &s) < 0)
			continue;
		c->n[w][s][k] += col_i64(r, i, 3);
	}
	PQclear(r);
	return rc;
}

static int save_counts(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	struct store_buf b[4];
	for (int i = 0; i < 4; i++) {
		store_buf_init(&b[i], 1 << 20);
		store_arr_begin(&b[i]);
	}
	for (int w = 0; w < c->waves; w++)
		for (int s = 0; s < FLEET_DS_COUNT_; s++)
			for (int k = 0; k < 3; k++) {
				if (c->n[w][s][k] <= 0)
					continue;
				const char *fc = fleet_fail_class_name((enum fleet_fail_class)k);
				store_arr_add_i64(&b[0], w);
				store_arr_add(&b[1], fleet_dev_state_name((enum fleet_dev_state)s));
				store_arr_add(&b[2], fc ? fc : "");
				store_arr_add_i64(&b[3], c->n[w][s][k]);
			}
	char cid[24];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	const char *p[5] = { cid };
	int rc = 0;
	for (int i = 0; i < 4; i++) {
		store_arr_end(&b[i]);
		if (!(p[i + 1] = store_buf_str(&b[i])))
			rc = uspc_err_set(err, USPC_E_NOMEM, "campaign counts too large");
	}
	if (rc == 0)
		rc = exec(e, fleet_stmt_counts_clear, 1, p, NULL, err);
	if (rc == 0)
		rc = exec_hot(e, fleet_stmt_engine_counts_save, 5, p, NULL, err);
	for (int i = 0; i < 4; i++)
		store_buf_fini(&b[i]);
	return rc;
}

static int read_window(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	c->window_open = 1;
	c->window_left_s = c->opens_in_s = 0;
	if (c->spec.n_windows == 0)
		return 0;
	char off[24];
	snprintf(off, sizeof(off), "%" PRId64, e->o.clock_offset_s);
	const char *p[] = { c->spec.timezone, off };
	PGresult *r = NULL;
	int rc = exec(e, fleet_stmt_engine_clock, 2, p, &r, err);
	if (rc == 0)
		c->window_open =
			fleet_spec_window(&c->spec, (int)col_i64(r, 0, 0), (int)col_i64(r, 0, 1),
					  &c->window_left_s, &c->opens_in_s);
	PQclear(r);
	return rc;
}

static int save(struct fleet_engine *e, struct camp *c, struct uspc_err *err)
{
	int settled = (!strcmp(c->state, "finished") || !strcmp(c->state, "aborted")) &&
		      inflight(c, 1) == 0;
	char cid[24], wave[16], done[8], ci[24], cf[24], tok[48], joined[24];
	snprintf(cid, sizeof(cid), "%" PRId64, c->id);
	snprintf(wave, sizeof(wave), "%d", c->wave);
	snprintf(done, sizeof(done), "%d", c->wave_done);
	snprintf(ci, sizeof(ci), "%" PRId64, c->consec_image);
	snprintf(cf, sizeof(cf), "%" PRId64, c->consec_infra);
	snprintf(tok, sizeof(tok), "%.6f", c->tokens < 0 ? 0.0 : c->tokens);
	snprintf(joined, sizeof(joined), "%" PRId64, c->joined);
	const char *p[] = { cid,
			    c->state,
			    c->reason,
			    wave,
			    c->next_wave ? "true" : "false",
			    done,
			    ci,
			    cf,
			    tok,
			    c->joined_age_s == 0 ? "true" : "false",
			    settled ? "true" : "false",
			    joined,
			    e->node };
	return exec_hot(e, fleet_stmt_engine_campaign, 13, p, NULL, err);
}

int fleet_pass_campaign(struct fleet_engine *e, int64_t id, struct uspc_err *err)
{
	struct camp c = { .id = id };
	char cid[24];
	snprintf(cid, sizeof(cid), "%" PRId64, id);
	const char *p[] = { cid };
	PGresult *r = NULL;
	int rc = exec(e, "BEGIN", 0, NULL, NULL, err);
	if (rc == 0)
		rc = exec_hot(e, fleet_stmt_engine_lock, 1, p, &r, err);
	if (rc < 0) {
		PQclear(r);
		(void)exec(e, "ROLLBACK", 0, NULL, NULL, NULL);
		return rc;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		return exec(e, "ROLLBACK", 0, NULL, NULL, err); /* another engine has it */
	}
	struct uspc_err perr = { 0 };
	int bad = load(e, &c, r, &perr);
	PQclear(r);
	if (bad == USPC_E_NOMEM) {
		rc = bad;
	} else if (bad < 0) {
		/* a definition the engine cannot read: stop it where it is */
		char why[300];
		snprintf(why, sizeof(why), "definition unreadable: %.250s", perr.msg);
		if (strcmp(c.state, "paused") && strcmp(c.state, "aborted") &&
		    strcmp(c.state, "finished")) {
			const char *q[] = { cid, why };
			rc = exec(e,
				  "UPDATE campaigns SET state = 'paused', reason = $2, "
				  "updated_at = now() WHERE id = $1::bigint",
				  2, q, NULL, err);
			if (rc == 0)
				event(e, &c, "error", "paused: %s", why);
			log_error(LOG_COMP, "campaign %" PRId64 ": %s", id, why);
		}
		goto out;
	}
	if (rc == 0)
		rc = read_counts(e, &c, err);
	if (rc == 0 && read_window(e, &c, err) < 0) {
		/* the zone vanished from the server's tz database */
		char why[300];
		snprintf(why, sizeof(why), "time zone %s unusable: %.200s", c.spec.timezone,
			 err->msg);
		rc = exec(e, "ROLLBACK", 0, NULL, NULL, err);
		if (rc == 0)
			rc = exec(e, "BEGIN", 0, NULL, NULL, err);
		if (rc == 0) {
			r = NULL;
			rc = exec(e, fleet_stmt_engine_lock, 1, p, &r, err);
			int got = rc == 0 && PQntuples(r) == 1;
			PQclear(r);
			if (got) {
				c.window_open = 0;
				pause_for(e, &c, "error", why);
			} else {
				goto out;
			}
		}
	}
	if (rc == 0)
		rc = advance_inflight(e, &c, err);
	if (rc == 0)
		update_window(e, &c);
	if (rc == 0)
		rc = join_continuous(e, &c, err);
	if (rc == 0)
		rc = advance_waves(e, &c, err);
	if (rc == 0)
		rc = dispatch(e, &c, err);
	if (rc == 0)
		rc = save_counts(e, &c, err);
	if (rc == 0)
		rc = save(e, &c, err);
out:
	if (rc == 0)
		rc = exec(e, "COMMIT", 0, NULL, NULL, err);
	else
		(void)exec(e, "ROLLBACK", 0, NULL, NULL, NULL);
	fleet_spec_fini(&c.spec);
	free(c.selector);
	free(c.n);
	return rc;
}
