/*
 * uspctl_campaign.c — uspctl's campaign ops (campaign_create, _plan,
 * _status, _pause, _resume, _abort, _retry_failed, _devices, _list, and
 * fleet_versions) and --follow. The database side is fleet_admin.h; this
 * file turns a parsed line into its call and the answer into result lines
 * (uspctl_out.h): one {"id","ok":true,"result"} line per op, one line per
 * device (with "agent"), campaign or version for the listing ops, or one
 * line error.
 *
 * Owns nothing between calls; runs on the run's thread and connection.
 * Credentials never reach this file: fleet_admin keeps them out of every
 * result and message.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fleet_admin.h"
#include "store_conn.h"
#include "store_schema.h"
#include "uspctl_internal.h"

#define FOLLOW_POLL_MS 1000        /* at least; longer when a status takes long */
#define FOLLOW_LINE_EVERY_MS 10000 /* when stderr is not a terminal */
#define FOLLOW_RECONNECT_MS 30000

const char *uspctl_actor(struct uspctl_run *r)
{
	if (!r->actor[0]) {
		struct passwd pwbuf, *pw = NULL;
		char tmp[1024];
		if (r->o->actor)
			snprintf(r->actor, sizeof(r->actor), "%s", r->o->actor);
		else if (getpwuid_r(geteuid(), &pwbuf, tmp, sizeof(tmp), &pw) == 0 && pw &&
			 pw->pw_name)
			snprintf(r->actor, sizeof(r->actor), "uspctl:%.100s", pw->pw_name);
		else
			snprintf(r->actor, sizeof(r->actor), "uspctl:uid %u", (unsigned)geteuid());
	}
	return r->actor;
}

int uspctl_admin_again(struct uspctl_run *r, int rc, const struct uspc_err *err)
{
	if (rc != USPCTL_E_DATABASE)
		return 0;
	struct uspc_err e = *err;
	e.code = fleet_admin_err_transient(err) ? STORE_E_CONN : STORE_E_DB;
	return uspctl_db_recover(r, &e) == 0;
}

static void print_result(struct uspctl_run *r, const char *id, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	uspctl_out_expect(&r->out, 1);
	uspctl_out_result(&r->out, id, text ? text : "null");
	cJSON_free(text);
}

/* One line per item of arr (campaign_list, fleet_versions). */
static void print_items(struct uspctl_run *r, const char *id, const cJSON *arr)
{
	for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next)
		print_result(r, id, e);
}

struct dev_print {
	struct uspctl_run *r;
	const char *id;
};

static int print_device(void *arg, const cJSON *d)
{
	struct dev_print *p = arg;
	const cJSON *agent = cJSON_GetObjectItemCaseSensitive(d, "agent");
	char *text = cJSON_PrintUnformatted(d);
	uspctl_out_expect(&p->r->out, 1);
	uspctl_out_ok(&p->r->out, p->id, cJSON_IsString(agent) ? agent->valuestring : "", -1,
		      text ? text : "null", NULL, NULL);
	cJSON_free(text);
	return p->r->out.write_error;
}

static enum fleet_control control_of(enum uspctl_op op)
{
	switch (op) {
	case USPCTL_OP_CAMPAIGN_PAUSE:
		return FLEET_CTL_PAUSE;
	case USPCTL_OP_CAMPAIGN_RESUME:
		return FLEET_CTL_RESUME;
	case USPCTL_OP_CAMPAIGN_ABORT:
		return FLEET_CTL_ABORT;
	default:
		return FLEET_CTL_RETRY_FAILED;
	}
}

void uspctl_campaign(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	struct uspc_err err = { 0 };
	struct store_selector sel;
	struct fleet_ref ref = { .id = c->campaign_id, .name = c->campaign_name };
	cJSON *res = NULL;
	int rc = 0;
	uspctl_selector(&c->targets, &sel);
	switch (c->op) {
	case USPCTL_OP_CAMPAIGN_CREATE:
		ADMIN(r, rc, err,
		      fleet_admin_create(r->db, c->spec, &sel, uspctl_actor(r), &res, &err));
		break;
	case USPCTL_OP_CAMPAIGN_PLAN:
		ADMIN(r, rc, err, fleet_admin_plan(r->db, c->spec, &sel, &res, &err));
		break;
	case USPCTL_OP_CAMPAIGN_STATUS:
		ADMIN(r, rc, err,
		      fleet_admin_status(r->db, &ref, r->o->clock_offset_s, &res, &err));
		break;
	case USPCTL_OP_CAMPAIGN_PAUSE:
	case USPCTL_OP_CAMPAIGN_RESUME:
	case USPCTL_OP_CAMPAIGN_ABORT:
	case USPCTL_OP_CAMPAIGN_RETRY_FAILED:
		ADMIN(r, rc, err,
		      fleet_admin_control(r->db, &ref, control_of(c->op), uspctl_actor(r), &res,
					  &err));
		break;
	case USPCTL_OP_CAMPAIGN_DEVICES: {
		struct fleet_devices_filter f = { .state = c->dev_state,
						  .reason = c->dev_reason,
						  .wave = c->dev_wave,
						  .limit = c->dev_limit };
		struct dev_print p = { r, c->id };
		ADMIN(r, rc, err, fleet_admin_devices(r->db, &ref, &f, print_device, &p, &err));
		break;
	}
	case USPCTL_OP_CAMPAIGN_LIST:
		ADMIN(r, rc, err, fleet_admin_list(r->db, &res, &err));
		break;
	case USPCTL_OP_FLEET_VERSIONS:
		ADMIN(r, rc, err,
		      fleet_admin_versions(r->db, c->targets.given ? &sel : NULL, &res, &err));
		if (rc == 0 && c->targets.given && cJSON_GetArraySize(res) == 0)
			rc = uspc_err_set(&err, USPCTL_E_NO_TARGETS,
					  "no agent matches the selector");
		break;
	default:
		rc = uspc_err_set(&err, USPCTL_E_UNKNOWN_OP, "op is not a campaign op");
	}
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line, rc, err.msg);
	else if (c->op == USPCTL_OP_CAMPAIGN_LIST || c->op == USPCTL_OP_FLEET_VERSIONS)
		print_items(r, c->id, res);
	else if (res)
		print_result(r, c->id, res);
	cJSON_Delete(res);
}

/* ---- --follow ------------------------------------------------------------------ */

static int64_t num(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(j) ? (int64_t)j->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(j) ? j->valuestring : "";
}

/* 1h36m, 12m05s, 40s, 2d03h */
static void duration(int64_t s, char *buf, size_t size)
{
	if (s >= 86400)
		snprintf(buf, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRId64 "s", s);
}

/* campaign 7 gw-2.0 running wave 2/3: 812 succeeded, 3 failed, 120 in
 * progress, 9065 pending, 0 skipped; 95/min; eta 1h36m */
static void progress_line(const cJSON *st, char *buf, size_t size)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "counts");
	const cJSON *rate = cJSON_GetObjectItemCaseSensitive(st, "rate");
	const cJSON *eta = cJSON_GetObjectItemCaseSensitive(st, "eta_s");
	const cJSON *win = cJSON_GetObjectItemCaseSensitive(st, "window");
	char extra[96] = "", tail[160] = "", d[32];
	size_t n;
	if (num(k, "timed_out") || num(k, "canceled"))
		snprintf(extra, sizeof(extra), ", %" PRId64 " timed out, %" PRId64 " canceled",
			 num(k, "timed_out"), num(k, "canceled"));
	if (cJSON_IsNumber(eta)) {
		duration((int64_t)eta->valuedouble, d, sizeof(d));
		snprintf(tail, sizeof(tail), "; eta %s", d);
	} else {
		snprintf(tail, sizeof(tail), "; eta -");
	}
	if (win && cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(win, "open"))) {
		n = strlen(tail);
		duration(num(win, "opens_in_s"), d, sizeof(d));
		snprintf(tail + n, sizeof(tail) - n, "; window opens in %s", d);
	}
	snprintf(buf, size,
		 "campaign %" PRId64 " %.64s %s%s%.80s%s wave %" PRId64 "/%" PRId64 ": %" PRId64
		 " succeeded, %" PRId64 " failed, %" PRId64 " in progress, %" PRId64
		 " pending, %" PRId64 " skipped%s; %" PRId64 "/min%s",
		 num(st, "campaign"), str(st, "name"), str(st, "state"),
		 str(st, "reason")[0] ? " (" : "", str(st, "reason"),
		 str(st, "reason")[0] ? ")" : "", num(st, "wave"), num(st, "waves"),
		 num(k, "succeeded"), num(k, "failed"), num(k, "in_progress"), num(k, "pending"),
		 num(k, "skipped"), extra, num(rate, "successes_per_min"), tail);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL); /* a signal ends it early: the loop looks */
}

static int follow_connect(const struct uspctl_opts *o, PGconn **db, struct uspc_err *err)
{
	struct store_conn_opts co = { .conninfo = o->db, .application_name = "uspctl" };
	int64_t until = uspctl_now_ms() + FOLLOW_RECONNECT_MS;
	for (;;) {
		if (store_conn_open(&co, db, err) == 0)
			return 0;
		if (uspctl_now_ms() >= until || uspctl_interrupted())
			return -1;
		sleep_ms(1000);
	}
}

struct follow {
	const struct uspctl_opts *o;
	FILE *out, *err;
	PGconn *db;
	struct fleet_ref ref;
	int tty, quiet, shown;
	int64_t last_line_ms;
};

static void show(struct follow *f, const cJSON *st)
{
	char line[512];
	int64_t now = uspctl_now_ms();
	if (f->quiet)
		return;
	progress_line(st, line, sizeof(line));
	if (f->tty) {
		fprintf(f->err, "\r\033[K%s", line);
		f->shown = 1;
	} else if (!f->last_line_ms || now - f->last_line_ms >= FOLLOW_LINE_EVERY_MS) {
		fprintf(f->err, "%s\n", line);
		f->last_line_ms = now;
	}
	fflush(f->err);
}

static void clear(struct follow *f)
{
	if (f->shown)
		fputs("\r\033[K", f->err);
	f->shown = 0;
}

/* The campaign is over: finished or aborted, nothing in flight. */
static int over(const cJSON *st)
{
	const char *s = str(st, "state");
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "counts");
	return (!strcmp(s, "finished") || !strcmp(s, "aborted")) && num(k, "in_progress") == 0;
}

/* The end: the progress line once more, the status as a result line. */
static int follow_end(struct follow *f, const cJSON *st)
{
	struct uspctl_out out;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(st, "counts");
	char *text = cJSON_PrintUnformatted(st);
	char line[512];
	clear(f);
	if (!f->quiet) {
		progress_line(st, line, sizeof(line));
		fprintf(f->err, "%s\n", line);
	}
	uspctl_out_init(&out, f->out, f->err, 1, 0);
	uspctl_out_result(&out, "follow", text ? text : "null");
	cJSON_free(text);
	if (fflush(f->out) != 0 || out.write_error)
		return USPCTL_EXIT_USAGE;
	return !strcmp(str(st, "state"), "finished") && num(k, "failed") == 0 &&
			       num(k, "timed_out") == 0
		       ? USPCTL_EXIT_OK
		       : USPCTL_EXIT_FAILED;
}

/* One look at the campaign. 1: over (*status set), 0: not yet, <0: exit 2. */
static int follow_once(struct follow *f, int *status)
{
	struct uspc_err err = { 0 };
	cJSON *st = NULL;
	int rc = fleet_admin_status(f->db, &f->ref, f->o->clock_offset_s, &st, &err);
	if (rc == USPCTL_E_DATABASE && PQstatus(f->db) != CONNECTION_OK) {
		clear(f);
		fprintf(f->err, "uspctl: database connection lost (%s); reconnecting\n", err.msg);
		PQfinish(f->db);
		f->db = NULL;
		if (follow_connect(f->o, &f->db, &err) < 0) {
			fprintf(f->err, "uspctl: cannot use the database: %s\n", err.msg);
			return -1;
		}
		return 0;
	}
	if (rc < 0) {
		clear(f);
		fprintf(f->err, "uspctl: %s: %s\n", uspctl_error_name(rc), err.msg);
		return -1;
	}
	int done = over(st);
	if (done)
		*status = follow_end(f, st);
	else
		show(f, st);
	cJSON_Delete(st);
	return done;
}

int uspctl_follow(const struct uspctl_opts *o, const char *campaign, FILE *out, FILE *errf)
{
	struct follow f = { .o = o, .out = out, .err = errf, .tty = isatty(fileno(errf)) };
	struct uspc_err err = { 0 };
	char *end;
	int status = USPCTL_EXIT_USAGE;
	long long id = strtoll(campaign, &end, 10);
	if (*campaign >= '0' && *campaign <= '9' && !*end && id > 0)
		f.ref.id = id;
	else
		f.ref.name = campaign;
	f.quiet = o->quiet;
	if (follow_connect(o, &f.db, &err) < 0) {
		fprintf(errf, "uspctl: cannot use the database: %s\n", err.msg);
		return USPCTL_EXIT_USAGE;
	}
	if (store_schema_migrate(f.db, NULL, &err) < 0) {
		fprintf(errf, "uspctl: database schema: %s\n", err.msg);
		PQfinish(f.db);
		return USPCTL_EXIT_USAGE;
	}
	for (;;) {
		int64_t t0 = uspctl_now_ms();
		if (uspctl_interrupted()) {
			clear(&f);
			fprintf(errf,
				"uspctl: stopped following campaign %s (the campaign goes on)\n",
				campaign);
			status = USPCTL_EXIT_FAILED;
			break;
		}
		int rc = follow_once(&f, &status);
		if (rc < 0) {
			status = USPCTL_EXIT_USAGE;
			break;
		}
		if (rc > 0)
			break;
		/* a status of a huge campaign reads all its rows: keep the
		 * database's share of the time small */
		int64_t spent = uspctl_now_ms() - t0;
		sleep_ms(spent * 4 > FOLLOW_POLL_MS ? (int)(spent * 4) : FOLLOW_POLL_MS);
	}
	if (f.db)
		PQfinish(f.db);
	return status;
}
