/*
 * cwmp_sim_cpe.c — one simulated CPE: its identity and data model, its
 * pending events, and the session state machine
 *
 *   IDLE --event--> QUEUED --slot--> INFORM --InformResponse--> [TC] --> ACS
 *   ACS --request--> ACS (answer posted) --204--> IDLE | QUEUED | DOWN
 *   any session state --failure--> BACKOFF --timer--> QUEUED
 *   DOWN --reboot delay--> (boot) QUEUED;  DOWN --no-return--> GONE
 *
 * with one move_state() that logs each transition. Owns its data model,
 * events, session connection and timers. Loop thread of its worker.
 */
#include "cwmp_sim_cpe.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_auth.h"
#include "cwmp_msg.h"
#include "cwmp_sim_http.h"
#include "cwmp_sim_state.h"
#include "log.h"
#include "sim_fw.h"

#define FW_FILE_TYPE "1 Firmware Upgrade Image"
#define MAX_VC 64 /* changed parameters remembered for one Inform */

struct cwmp_cpe_dl {
	struct cwmp_download req; /* owned copies */
	struct sim_timer timer;
	struct cwmp_http_conn *fetch;
	struct cwmp_cpe *c;
	char start[32];
	uint8_t started;
};

static void on_http_done(void *arg, const struct cwmp_http_result *r);
static void end_session(struct cwmp_cpe *c, int ok, long retry_after);
static void want_session(struct cwmp_cpe *c);
static void reboot(struct cwmp_cpe *c, enum cwmp_cpe_after kind);
static void on_dl_timer(struct sim_timer *t);

const char *cwmp_cpe_state_name(enum cwmp_cpe_state s)
{
	static const char *const names[CPE_STATE_COUNT] = {
		[CPE_IDLE] = "IDLE", [CPE_QUEUED] = "QUEUED", [CPE_INFORM] = "INFORM",
		[CPE_TC] = "TC",     [CPE_ACS] = "ACS",       [CPE_BACKOFF] = "BACKOFF",
		[CPE_DOWN] = "DOWN", [CPE_GONE] = "GONE",
	};
	return (unsigned)s < CPE_STATE_COUNT ? names[s] : "?";
}

static void move_state(struct cwmp_cpe *c, enum cwmp_cpe_state to, const char *why)
{
	if (c->state == to)
		return;
	log_debug("cwmp-sim", "%s: %s --%s--> %s", c->eid,
		  cwmp_cpe_state_name((enum cwmp_cpe_state)c->state), why, cwmp_cpe_state_name(to));
	c->state = (uint8_t)to;
}

/* ---- template variables of the CWMP overlay (Device.ManagementServer.) ---- */

/* A password: derived from the user name with key as uspc-acs derives it
 * (the factory's side of acs_auth.h), or the pattern without a key. */
static void derived_or_pattern(const unsigned char *key, size_t key_len, const char *user_pat,
			       const char *pass_pat, uint32_t index, char *out, size_t cap)
{
	char user[ACS_USERNAME_MAX], pw[ACS_DERIVED_PASSWORD_LEN + 1];
	if (!key) {
		sim_index_expand(pass_pat, index, out, cap);
		return;
	}
	sim_index_expand(user_pat, index, user, sizeof(user));
	if (acs_auth_derive(key, key_len, user, pw) < 0)
		pw[0] = '\0';
	snprintf(out, cap, "%s", pw);
}

static int cpe_var(const struct sim_dm_env *env, const char *name, char *out, size_t cap)
{
	const struct cwmp_cpe *c = env->var_ctx;
	const struct cwmp_sim_config *cfg = c->w->cfg;
	if (!strcmp(name, "serial"))
		snprintf(out, cap, "%s", c->serial);
	else if (!strcmp(name, "acs_url"))
		snprintf(out, cap, "%s", cfg->acs_url);
	else if (!strcmp(name, "acs_username"))
		sim_index_expand(cfg->acs_user_pattern ? cfg->acs_user_pattern : "", c->index, out,
				 cap);
	else if (!strcmp(name, "acs_password"))
		derived_or_pattern(cfg->acs_key, cfg->acs_key_len,
				   cfg->acs_user_pattern ? cfg->acs_user_pattern : "",
				   cfg->acs_password_pattern, c->index, out, cap);
	else if (!strcmp(name, "cr_url"))
		snprintf(out, cap, "http://%s:%d/cr/%" PRIu32, cfg->cr_host, c->w->cr_port,
			 c->index);
	else if (!strcmp(name, "cr_username"))
		sim_index_expand(cfg->cr_user_pattern, c->index, out, cap);
	else if (!strcmp(name, "cr_password"))
		derived_or_pattern(cfg->cr_key, cfg->cr_key_len, cfg->cr_user_pattern,
				   cfg->cr_password_pattern, c->index, out, cap);
	else if (!strcmp(name, "inform_interval"))
		snprintf(out, cap, "%" PRIu32, cfg->inform_interval);
	else if (!strcmp(name, "retry_min")) /* the parameter is whole seconds */
		snprintf(out, cap, "%.0f", cfg->retry_base_s < 1 ? 1 : cfg->retry_base_s);
	else if (!strcmp(name, "retry_mult"))
		snprintf(out, cap, "%" PRIu32, cfg->retry_multiplier);
	else
		return 0;
	return 1;
}

void cwmp_cpe_env(const struct cwmp_cpe *c, struct sim_dm_env *env)
{
	memset(env, 0, sizeof(*env));
	env->m = c->w->model;
	env->seed = c->w->cfg->seed;
	env->index = c->index;
	env->eid = c->eid;
	env->agent_topic = "";
	env->controller_id = "";
	env->controller_topic = "";
	env->boot_time = c->boot_time;
	env->now = c->w->now;
	env->value_rate = 1;
	env->var = cpe_var;
	env->var_ctx = c;
}

/* A root parameter's value ("" when the model lacks it). */
static char *get(struct cwmp_cpe *c, uint16_t p, char *buf, size_t cap)
{
	struct sim_dm_env env;
	if (p == SM_NONE) {
		buf[0] = '\0';
		return buf;
	}
	cwmp_cpe_env(c, &env);
	sim_dm_get_copy(&env, &c->dm.root, p, buf, cap);
	return buf;
}

static void set_root(struct cwmp_cpe *c, uint16_t p, const char *v)
{
	if (p != SM_NONE && sim_dm_set(&c->dm.root, p, v) == 0)
		c->dirty = 1;
}

/* Identity overrides (--oui, --product-class) on a factory model. */
static void apply_identity(struct cwmp_cpe *c)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	if (cfg->oui)
		sim_dm_set(&c->dm.root, c->w->ids.oui, cfg->oui);
	if (cfg->product_class)
		sim_dm_set(&c->dm.root, c->w->ids.product_class, cfg->product_class);
}

static int factory_model(struct cwmp_cpe *c)
{
	struct sim_dm_env env;
	sim_dm_fini(&c->dm);
	if (sim_dm_init(&c->dm, c->w->model) < 0)
		return -1;
	cwmp_cpe_env(c, &env);
	if (sim_dm_factory(&c->dm, &env) < 0)
		return -1;
	if (c->w->ids.oui != SM_NONE && c->w->ids.product_class != SM_NONE)
		apply_identity(c);
	cwmp_sim_attrs_clear(&c->attrs);
	return 0;
}

static double num(struct cwmp_cpe *c, uint16_t p, double dflt)
{
	char buf[64];
	if (p == SM_NONE)
		return dflt;
	get(c, p, buf, sizeof(buf));
	char *end;
	double v = strtod(buf, &end);
	return end != buf ? v : dflt;
}

/* ---- timers ---- */

static uint64_t ms(double s)
{
	return s <= 0 ? 0 : (uint64_t)(s * 1000.0);
}

static void arm_periodic(struct cwmp_cpe *c, int first)
{
	char buf[16];
	double iv = num(c, c->w->ids.ms_pi_interval, c->w->cfg->inform_interval);
	int on = c->w->ids.ms_pi_enable == SM_NONE ||
		 strcmp(get(c, c->w->ids.ms_pi_enable, buf, sizeof(buf)), "false");
	sim_timer_cancel(c->w->loop, &c->periodic);
	if (!on || iv < 1)
		return;
	/* the first one at a phase of its own, so a fleet started together
	 * spreads its periodic informs over the interval */
	double delay = first ? iv * cwmp_sim_worker_rand(c->w) : iv;
	sim_timer_arm(c->w->loop, &c->periodic, ms(delay < 0.001 ? 0.001 : delay));
}

static void on_periodic(struct sim_timer *t)
{
	struct cwmp_cpe *c = sim_container_of(t, struct cwmp_cpe, periodic);
	arm_periodic(c, 0);
	if (c->state == CPE_DOWN || c->state == CPE_GONE)
		return;
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_PERIODIC, NULL);
	want_session(c);
}

/* A new value for a parameter an ACS asked to hear about. */
static int next_value(struct cwmp_cpe *c, const struct sm_param *sp, const char *cur, char *out,
		      size_t cap)
{
	switch ((enum sm_type)sp->type) {
	case SM_T_BOOL:
		snprintf(out, cap, "%s",
			 strcmp(cur, "true") && strcmp(cur, "1") ? "true" : "false");
		return 0;
	case SM_T_INT:
	case SM_T_LONG:
		snprintf(out, cap, "%lld", strtoll(cur, NULL, 10) + 1);
		return 0;
	case SM_T_UINT:
	case SM_T_ULONG:
		snprintf(out, cap, "%llu", strtoull(cur, NULL, 10) + 1);
		return sim_model_check_value(sp, out) ? -1 : 0;
	case SM_T_DATETIME:
		sim_dm_format_time(c->w->now, out, cap);
		return 0;
	case SM_T_STRING:
		if (sp->enums) { /* the next allowed value after the current one */
			const char *e = sp->enums, *hit = strstr(e, cur);
			const char *nx = hit && *cur ? strchr(hit, '|') : NULL;
			nx = nx ? nx + 1 : e;
			size_t l = strcspn(nx, "|");
			snprintf(out, cap, "%.*s", (int)l, nx);
			return 0;
		}
		snprintf(out, cap, "vc-%" PRIu32 "-%lld", c->index, (long long)c->w->now);
		if (sp->max_len && strlen(out) > sp->max_len)
			out[sp->max_len] = '\0';
		return 0;
	default:
		return -1;
	}
}

static void on_value_change(struct sim_timer *t)
{
	struct cwmp_cpe *c = sim_container_of(t, struct cwmp_cpe, vc_timer);
	double iv = c->w->cfg->value_change_s;
	sim_timer_arm(c->w->loop, &c->vc_timer, ms(iv * (0.5 + cwmp_sim_worker_rand(c->w))));
	if (c->state == CPE_DOWN || c->state == CPE_GONE)
		return;
	size_t active = 0;
	for (size_t i = 0; i < c->attrs.n; i++)
		active += c->attrs.v[i].notification == 2;
	if (!active)
		return;
	size_t pick = (size_t)(cwmp_sim_worker_rand(c->w) * (double)active);
	const char *name = NULL;
	for (size_t i = 0; i < c->attrs.n; i++)
		if (c->attrs.v[i].notification == 2 && !pick--) {
			name = c->attrs.v[i].name;
			break;
		}
	struct sim_dm_env env;
	struct cwmp_sim_dmref d = { .dm = &c->dm, .env = &env, .attrs = &c->attrs };
	char cur[SIM_VALUE_MAX], nv[SIM_VALUE_MAX];
	uint16_t p;
	cwmp_cpe_env(c, &env);
	if (!name || cwmp_sim_rpc_get(&d, name, cur, sizeof(cur), &p) < 0 ||
	    next_value(c, &c->w->model->params[p], cur, nv, sizeof(nv)) < 0 ||
	    cwmp_sim_rpc_set(&d, name, nv) < 0)
		return;
	c->dirty = 1;
	c->w->stats->value_changes++;
	int known = 0;
	for (size_t i = 0; i < c->n_vc; i++)
		known |= !strcmp(c->vc[i], name);
	if (!known && c->n_vc < MAX_VC) {
		char **nvv = realloc(c->vc, (c->n_vc + 1u) * sizeof(*nvv));
		if (nvv) {
			c->vc = nvv;
			if ((c->vc[c->n_vc] = strdup(name)))
				c->n_vc++;
		}
	}
	log_debug("cwmp-sim", "%s: value change %s = %s", c->eid, name, nv);
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_VALUE_CHANGE, NULL);
	want_session(c);
}

static void vc_sent_delivered(struct cwmp_cpe *c)
{
	if (!c->n_vc)
		return;
	for (size_t i = 0; i < c->n_vc_sent && i < c->n_vc; i++)
		free(c->vc[i]);
	size_t k = c->n_vc_sent < c->n_vc ? c->n_vc_sent : c->n_vc;
	memmove(c->vc, c->vc + k, (c->n_vc - k) * sizeof(*c->vc));
	c->n_vc = (uint16_t)(c->n_vc - k);
	c->n_vc_sent = 0;
}

static void vc_clear(struct cwmp_cpe *c)
{
	for (size_t i = 0; i < c->n_vc; i++)
		free(c->vc[i]);
	free(c->vc);
	c->vc = NULL;
	c->n_vc = c->n_vc_sent = 0;
}

/* ---- sending ---- */

static void trace_env(struct cwmp_cpe *c, const char *dir, const char *doc, size_t len)
{
	if (c->w->cfg->trace)
		log_info("cwmp-sim", "%s %s %zu bytes:\n%.*s", c->eid, dir, len,
			 (int)(len > 65536 ? 65536 : len), doc);
}

static int post_msg(struct cwmp_cpe *c, struct cwmp_msg *m)
{
	size_t len = 0;
	int err = 0;
	char *doc = cwmp_build(m, &len, &err);
	if (!doc) {
		log_warn("cwmp-sim", "%s: cannot build %s: %s", c->eid, cwmp_method_name(m->method),
			 cwmp_err_str(err));
		return -1;
	}
	trace_env(c, "->", doc, len);
	int rc = cwmp_http_post(c->conn, get(c, c->w->ids.ms_url, (char[512]){ 0 }, 512), doc, len);
	free(doc);
	return rc;
}

static void header_init(struct cwmp_cpe *c, struct cwmp_msg *m, char *id, size_t cap)
{
	memset(m, 0, sizeof(*m));
	snprintf(id, cap, "%" PRIu32, ++c->seq);
	m->ns = (enum cwmp_ns)c->ns;
	m->header.id = id;
	m->header.hold_requests = m->header.no_more_requests = -1;
	m->header.session_timeout = -1;
}

/* The forced Inform parameters, then the changed values. */
static const char *const inform_params[] = { "dm_version", "hw",  "sw",    "prov",
					     "cr_url",     "key", "period" };

static uint16_t inform_param(const struct cwmp_sim_ids *ids, size_t i)
{
	const uint16_t v[] = { ids->dm_version,    ids->hw_version, ids->sw_version,
			       ids->prov_code,     ids->ms_cr_url,  ids->ms_param_key,
			       ids->ms_pi_interval };
	return v[i];
}

static void full_name(const struct sim_model *m, uint16_t p, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s", m->objs[m->params[p].obj].path, m->params[p].name);
}

static int post_inform(struct cwmp_cpe *c)
{
	const struct sim_model *mo = c->w->model;
	const struct cwmp_sim_ids *ids = &c->w->ids;
	struct cwmp_msg m;
	char id[16], now[32], manu[256], oui[64], pc[128];
	size_t np = sizeof(inform_params) / sizeof(inform_params[0]);
	size_t cap = np + c->n_vc;
	struct cwmp_param_value *pv = calloc(cap, sizeof(*pv));
	struct cwmp_event *evs = calloc(c->ev.n ? c->ev.n : 1, sizeof(*evs));
	char *names = malloc(cap * SIM_PATH_MAX), *vals = malloc(cap * 512);
	int rc = -1;
	if (!pv || !evs || !names || !vals)
		goto out;
	header_init(c, &m, id, sizeof(id));
	m.method = CWMP_M_INFORM;
	m.inform.device_id.manufacturer = get(c, ids->manufacturer, manu, sizeof(manu));
	m.inform.device_id.oui = get(c, ids->oui, oui, sizeof(oui));
	m.inform.device_id.product_class = get(c, ids->product_class, pc, sizeof(pc));
	m.inform.device_id.serial_number = c->serial;
	cwmp_sim_events_mark_sent(&c->ev);
	for (size_t i = 0; i < c->ev.n; i++) {
		evs[i].code = (char *)cwmp_sim_ev_code((enum cwmp_sim_ev)c->ev.v[i].kind);
		evs[i].command_key = c->ev.v[i].key;
	}
	m.inform.events = evs;
	m.inform.n_events = c->ev.n;
	m.inform.max_envelopes = 1;
	sim_dm_format_time(c->w->now, now, sizeof(now));
	m.inform.current_time = now;
	m.inform.retry_count = c->retry_count;
	size_t n = 0;
	for (size_t i = 0; i < np; i++) {
		uint16_t p = inform_param(ids, i);
		if (p == SM_NONE)
			continue;
		full_name(mo, p, names + n * SIM_PATH_MAX, SIM_PATH_MAX);
		get(c, p, vals + n * 512, 512);
		pv[n] = (struct cwmp_param_value){ .name = names + n * SIM_PATH_MAX,
						   .value = vals + n * 512,
						   .type = (char *)cwmp_sim_xsd_type(
							   mo->params[p].type) };
		n++;
	}
	struct sim_dm_env env;
	struct cwmp_sim_dmref d = { .dm = &c->dm, .env = &env, .attrs = &c->attrs };
	uint16_t p;
	cwmp_cpe_env(c, &env);
	c->n_vc_sent = 0;
	for (size_t i = 0; i < c->n_vc; i++, c->n_vc_sent++) {
		if (cwmp_sim_rpc_get(&d, c->vc[i], vals + n * 512, 512, &p) < 0)
			continue; /* deleted since */
		snprintf(names + n * SIM_PATH_MAX, SIM_PATH_MAX, "%s", c->vc[i]);
		pv[n] = (struct cwmp_param_value){ .name = names + n * SIM_PATH_MAX,
						   .value = vals + n * 512,
						   .type = (char *)cwmp_sim_xsd_type(
							   mo->params[p].type) };
		n++;
	}
	m.inform.params = pv;
	m.inform.n_params = n;
	rc = post_msg(c, &m);
out:
	free(pv);
	free(evs);
	free(names);
	free(vals);
	return rc;
}

static int post_tc(struct cwmp_cpe *c)
{
	struct cwmp_msg m;
	char id[16];
	header_init(c, &m, id, sizeof(id));
	m.method = CWMP_M_TRANSFER_COMPLETE;
	m.transfer.command_key = c->tc->key;
	m.transfer.fault.code = c->tc->code;
	m.transfer.fault.string = c->tc->string;
	m.transfer.start_time = c->tc->start;
	m.transfer.complete_time = c->tc->complete;
	return post_msg(c, &m);
}

static int post_empty(struct cwmp_cpe *c)
{
	char url[512];
	trace_env(c, "->", "(empty POST)", 0);
	return cwmp_http_post(c->conn, get(c, c->w->ids.ms_url, url, sizeof(url)), NULL, 0);
}

/* ---- sessions ---- */

static void want_session(struct cwmp_cpe *c)
{
	if (c->state == CPE_IDLE) {
		move_state(c, CPE_QUEUED, "event");
		cwmp_sim_worker_enqueue(c->w, c);
	}
}

void cwmp_cpe_start_session(struct cwmp_cpe *c)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	char user[257], pass[257];
	struct cwmp_http_opts o = {
		.user = get(c, c->w->ids.ms_user, user, sizeof(user)),
		.password = get(c, c->w->ids.ms_pass, pass, sizeof(pass)),
		.cookies = !cfg->quirk_no_cookies,
		.chunked = cfg->quirk_chunked,
		.empty_chunked = cfg->quirk_empty_post_chunked,
		.timeout_s = cfg->http_timeout_s,
		.cafile = cfg->cafile,
		.insecure = cfg->tls_insecure,
	};
	c->informed = 0;
	c->hold = 0;
	c->w->stats->in_session++;
	c->conn = cwmp_http_conn_new(c->w->http, &o, on_http_done, c);
	move_state(c, CPE_INFORM, "slot");
	if (!c->conn || post_inform(c) < 0)
		end_session(c, 0, 0);
}

static void fail(struct cwmp_cpe *c, const char *what, const struct cwmp_http_result *r)
{
	if (r && r->status == 503)
		c->w->stats->http_503++;
	log_debug("cwmp-sim", "%s: session failed in %s: %s (HTTP %ld)", c->eid,
		  cwmp_cpe_state_name((enum cwmp_cpe_state)c->state), what, r ? r->status : 0);
	end_session(c, 0, r && r->status == 503 ? r->retry_after : 0);
}

/* Parse a 200 body; 0 with *m, or -1 (logged). */
static int parse(struct cwmp_cpe *c, const struct cwmp_http_result *r, struct cwmp_msg *m)
{
	char err[256];
	trace_env(c, "<-", r->body, r->len);
	int rc = cwmp_parse(r->body, r->len, m, err, sizeof(err));
	if (rc < 0)
		log_debug("cwmp-sim", "%s: unreadable envelope: %s (%s)", c->eid, err,
			  cwmp_err_str(rc));
	return rc < 0 ? -1 : 0;
}

static void next_cpe_request(struct cwmp_cpe *c)
{
	if (c->tc && !c->hold) {
		move_state(c, CPE_TC, "send TransferComplete");
		if (post_tc(c) < 0)
			end_session(c, 0, 0);
		return;
	}
	move_state(c, CPE_ACS, "empty POST");
	if (post_empty(c) < 0)
		end_session(c, 0, 0);
}

static void got_inform_response(struct cwmp_cpe *c, const struct cwmp_msg *m)
{
	if (m->method != CWMP_M_INFORM_RESPONSE) {
		log_debug("cwmp-sim", "%s: Inform answered by %s (fault %u)", c->eid,
			  m->method == CWMP_M_FAULT ? "a Fault" : cwmp_method_name(m->method),
			  m->fault.code);
		end_session(c, 0, 0);
		return;
	}
	cwmp_sim_events_delivered(&c->ev);
	vc_sent_delivered(c);
	c->retry_count = 0;
	c->informed = 1;
	c->dirty = 1;
	c->hold = m->header.hold_requests == 1;
	c->w->stats->informs++;
	next_cpe_request(c);
}

static void got_tc_response(struct cwmp_cpe *c, const struct cwmp_msg *m)
{
	if (m->method == CWMP_M_TRANSFER_COMPLETE_RESPONSE) {
		free(c->tc->key);
		free(c->tc->string);
		free(c->tc);
		c->tc = NULL;
		c->dirty = 1;
	} else if (m->method != CWMP_M_FAULT) {
		end_session(c, 0, 0);
		return;
	}
	/* a Fault (say 8005, retry): keep it for the next session */
	move_state(c, CPE_ACS, "empty POST");
	if (post_empty(c) < 0)
		end_session(c, 0, 0);
}

static void take_action(struct cwmp_cpe *c, struct cwmp_sim_action *a)
{
	switch (a->act) {
	case CWMP_SIM_ACT_REBOOT:
		if (c->after == AFTER_NONE)
			c->after = AFTER_REBOOT;
		free(c->reboot_key);
		c->reboot_key = a->key;
		a->key = NULL;
		break;
	case CWMP_SIM_ACT_FACTORY_RESET:
		c->after = AFTER_FACTORY;
		break;
	case CWMP_SIM_ACT_DOWNLOAD: {
		struct cwmp_cpe_dl *dl = calloc(1, sizeof(*dl));
		if (!dl)
			break;
		dl->req = a->dl;
		memset(&a->dl, 0, sizeof(a->dl));
		dl->c = c;
		sim_timer_init(&dl->timer, on_dl_timer);
		c->dl = dl; /* starts when the session ends */
		break;
	}
	case CWMP_SIM_ACT_NONE:
		break;
	}
	if (a->mgmt_changed)
		arm_periodic(c, 0);
	c->dirty = 1;
}

/* Answer one ACS request and post the answer. */
static void answer(struct cwmp_cpe *c, const struct cwmp_msg *req)
{
	struct sim_dm_env env;
	struct cwmp_sim_dmref d = { .dm = &c->dm, .env = &env, .attrs = &c->attrs };
	struct cwmp_msg resp;
	struct cwmp_sim_action act;
	cwmp_cpe_env(c, &env);
	c->w->stats->rpcs++;
	if (req->method == CWMP_M_DOWNLOAD && c->dl) { /* one download at a time */
		size_t len;
		int err;
		char *doc = cwmp_build_fault(req->ns, req->header.id, 9004,
					     "a download is already under way", &len, &err);
		c->w->stats->faults_sent++;
		if (!doc || cwmp_http_post(c->conn, get(c, c->w->ids.ms_url, (char[512]){ 0 }, 512),
					   doc, len) < 0)
			end_session(c, 0, 0);
		free(doc);
		return;
	}
	if (cwmp_sim_rpc_answer(&d, req, &resp, &act) < 0) {
		end_session(c, 0, 0);
		return;
	}
	if (resp.method == CWMP_M_FAULT)
		c->w->stats->faults_sent++;
	take_action(c, &act);
	cwmp_sim_action_fini(&act);
	int rc = post_msg(c, &resp);
	cwmp_msg_free(&resp);
	if (rc < 0)
		end_session(c, 0, 0);
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static void on_http_done(void *arg, const struct cwmp_http_result *r)
{
	struct cwmp_cpe *c = arg;
	struct cwmp_msg m;
	if (r->curl_code) {
		fail(c, r->error, r);
		return;
	}
	if (c->state == CPE_ACS &&
	    (r->status == 204 || (r->status == 200 && blank(r->body, r->len)))) {
		trace_env(c, "<-", "(HTTP 204: session over)", 0);
		end_session(c, 1, 0);
		return;
	}
	if (r->status != 200) {
		fail(c, "HTTP status", r);
		return;
	}
	if (parse(c, r, &m) < 0) {
		fail(c, "unreadable envelope", r);
		return;
	}
	switch (c->state) {
	case CPE_INFORM:
		got_inform_response(c, &m);
		break;
	case CPE_TC:
		got_tc_response(c, &m);
		break;
	case CPE_ACS:
		if (m.method == CWMP_M_FAULT || m.method == CWMP_M_EMPTY ||
		    m.method == CWMP_M_INFORM_RESPONSE ||
		    m.method == CWMP_M_TRANSFER_COMPLETE_RESPONSE)
			end_session(c, 0, 0); /* not a request: nothing to answer */
		else
			answer(c, &m);
		break;
	default:
		break;
	}
	cwmp_msg_free(&m);
}

/* ---- downloads ---- */

static void dl_free(struct cwmp_cpe *c)
{
	struct cwmp_cpe_dl *dl = c->dl;
	if (!dl)
		return;
	sim_timer_cancel(c->w->loop, &dl->timer);
	cwmp_http_conn_free(dl->fetch);
	struct cwmp_sim_action a = { .dl = dl->req };
	cwmp_sim_action_fini(&a);
	free(dl);
	c->dl = NULL;
}

static struct cwmp_cpe_tc *tc_new(struct cwmp_cpe *c, const char *key, unsigned code,
				  const char *string, const char *start)
{
	struct cwmp_cpe_tc *tc = calloc(1, sizeof(*tc));
	if (!tc)
		return NULL;
	tc->key = strdup(key ? key : "");
	tc->string = strdup(string ? string : "");
	tc->code = code;
	snprintf(tc->start, sizeof(tc->start), "%s", start);
	sim_dm_format_time(c->w->now, tc->complete, sizeof(tc->complete));
	if (!tc->key || !tc->string) {
		free(tc->key);
		free(tc->string);
		free(tc);
		return NULL;
	}
	return tc;
}

static void tc_free(struct cwmp_cpe_tc *tc)
{
	if (!tc)
		return;
	free(tc->key);
	free(tc->string);
	free(tc);
}

static void dl_finish(struct cwmp_cpe *c, unsigned fault, const char *why)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	struct cwmp_cpe_dl *dl = c->dl;
	const char *url = dl->req.url;
	int injected = sim_fw_fault_chosen(cfg->seed, c->index, SIM_FWF_DOWNLOAD_FAIL,
					   cfg->fw_fail_fraction) ||
		       (cfg->fw_fail_url && strstr(url, cfg->fw_fail_url));
	if (!fault && injected) {
		fault = cfg->fw_fail_code;
		why = "download failed (simulated)";
		log_info("cwmp-sim", "%s: firmware fault %s: %s", c->eid,
			 sim_fw_fault_name(SIM_FWF_DOWNLOAD_FAIL), url);
	}
	int firmware = !strcmp(dl->req.file_type, FW_FILE_TYPE);
	struct cwmp_cpe_tc *tc = tc_new(c, dl->req.command_key, fault, fault ? why : "", dl->start);
	if (fault)
		c->w->stats->downloads_failed++;
	else
		c->w->stats->downloads_ok++;
	if (!fault && firmware && tc) {
		char ver[256];
		const char *from = *dl->req.target_file_name ? dl->req.target_file_name : url;
		sim_fw_version_from_url(from, ver, sizeof(ver));
		free(c->fw_version);
		c->fw_version = strdup(ver);
		tc_free(c->tc_boot);
		c->tc_boot = tc;
		dl_free(c);
		if (c->state == CPE_INFORM || c->state == CPE_TC || c->state == CPE_ACS)
			c->after = AFTER_FW_REBOOT; /* after this session */
		else
			reboot(c, AFTER_FW_REBOOT);
		return;
	}
	dl_free(c);
	if (!tc)
		return;
	tc_free(c->tc);
	c->tc = tc;
	c->dirty = 1;
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_TRANSFER_COMPLETE, NULL);
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_M_DOWNLOAD, tc->key);
	want_session(c);
}

/* TR-069 transfer faults for a real fetch. */
static unsigned fetch_fault(const struct cwmp_http_result *r, uint64_t want, const char **why)
{
	if (r->curl_code == 6 || r->curl_code == 7 ||
	    r->curl_code == 28) { /* resolve, connect, timeout */
		*why = "cannot contact the file server";
		return 9015;
	}
	if (r->curl_code) {
		*why = "download did not complete";
		return 9017;
	}
	if (r->status == 401 || r->status == 403) {
		*why = "file server authentication failed";
		return 9012;
	}
	if (r->status < 200 || r->status > 299) {
		*why = "cannot access the file";
		return 9016;
	}
	if (want && r->bytes != want) {
		*why = "file size differs from FileSize";
		return 9018;
	}
	return 0;
}

static void on_fetch_done(void *arg, const struct cwmp_http_result *r)
{
	struct cwmp_cpe_dl *dl = arg;
	const char *why = "";
	unsigned f = fetch_fault(r, dl->req.file_size, &why);
	log_debug("cwmp-sim", "%s: fetched %s: HTTP %ld, %" PRIu64 " bytes, fault %u", dl->c->eid,
		  dl->req.url, r->status, r->bytes, f);
	dl_finish(dl->c, f, why);
}

static void on_dl_timer(struct sim_timer *t)
{
	struct cwmp_cpe_dl *dl = sim_container_of(t, struct cwmp_cpe_dl, timer);
	struct cwmp_cpe *c = dl->c;
	const struct cwmp_sim_config *cfg = c->w->cfg;
	if (dl->started) { /* the simulated transfer time is over */
		dl_finish(c, 0, NULL);
		return;
	}
	dl->started = 1;
	sim_dm_format_time(c->w->now, dl->start, sizeof(dl->start));
	if (!cfg->fetch) {
		sim_timer_arm(c->w->loop, &dl->timer, ms(cfg->fw_download_s));
		return;
	}
	struct cwmp_http_opts o = { .timeout_s = 3600,
				    .cafile = cfg->cafile,
				    .insecure = cfg->tls_insecure };
	dl->fetch = cwmp_http_conn_new(c->w->http, &o, on_fetch_done, dl);
	if (!dl->fetch ||
	    cwmp_http_get(dl->fetch, dl->req.url, dl->req.username, dl->req.password) < 0)
		dl_finish(c, 9002, "internal error");
}

static void dl_schedule(struct cwmp_cpe *c)
{
	sim_timer_arm(c->w->loop, &c->dl->timer, ms((double)c->dl->req.delay_seconds));
}

/* ---- reboots ---- */

static void boot(struct cwmp_cpe *c, enum cwmp_cpe_after kind)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	c->w->stats->down--;
	c->w->stats->boots++;
	c->boot_time = c->w->now;
	cwmp_sim_events_reboot(&c->ev);
	vc_clear(c);
	if (kind == AFTER_FACTORY) {
		cwmp_sim_events_clear(&c->ev);
		tc_free(c->tc);
		c->tc = NULL;
		if (factory_model(c) < 0)
			log_error("cwmp-sim", "%s: out of memory at factory reset", c->eid);
		cwmp_sim_state_remove(c);
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_BOOTSTRAP, NULL);
	}
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_BOOT, NULL);
	if (kind == AFTER_REBOOT && c->reboot_key)
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_M_REBOOT, c->reboot_key);
	free(c->reboot_key);
	c->reboot_key = NULL;
	if (c->tc_boot) { /* firmware: the new image runs, or not */
		char ver[300];
		struct cwmp_cpe_tc *tc = c->tc_boot;
		c->tc_boot = NULL;
		sim_dm_format_time(c->w->now, tc->complete, sizeof(tc->complete));
		if (sim_fw_fault_chosen(cfg->seed, c->index, SIM_FWF_BOOT_FAIL,
					cfg->fw_boot_fail_fraction)) {
			log_info("cwmp-sim", "%s: firmware fault %s", c->eid,
				 sim_fw_fault_name(SIM_FWF_BOOT_FAIL));
			tc->code = 9010;
			free(tc->string);
			tc->string = strdup("image failed to boot (simulated)");
		} else {
			int wrong = sim_fw_fault_chosen(cfg->seed, c->index, SIM_FWF_WRONG_VERSION,
							cfg->fw_wrong_version_fraction);
			snprintf(ver, sizeof(ver), "%s%s", c->fw_version ? c->fw_version : "",
				 wrong ? "-rc0" : "");
			set_root(c, c->w->ids.sw_version, ver);
		}
		if (sim_fw_fault_chosen(cfg->seed, c->index, SIM_FWF_LOSE_BOOT,
					cfg->fw_lose_boot_fraction)) {
			log_info("cwmp-sim", "%s: firmware fault %s", c->eid,
				 sim_fw_fault_name(SIM_FWF_LOSE_BOOT));
			tc_free(tc);
		} else {
			tc_free(c->tc);
			c->tc = tc;
		}
	}
	free(c->fw_version);
	c->fw_version = NULL;
	if (c->tc) { /* undelivered TransferComplete: say so again */
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_TRANSFER_COMPLETE, NULL);
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_M_DOWNLOAD, c->tc->key);
	}
	c->dirty = 1;
	c->retry_count = 0;
	move_state(c, CPE_IDLE, "boot");
	arm_periodic(c, 1);
	want_session(c);
}

static void on_timer(struct sim_timer *t)
{
	struct cwmp_cpe *c = sim_container_of(t, struct cwmp_cpe, timer);
	if (c->state == CPE_DOWN) {
		enum cwmp_cpe_after kind = (enum cwmp_cpe_after)c->after;
		c->after = AFTER_NONE;
		boot(c, kind);
		return;
	}
	if (c->state == CPE_BACKOFF) {
		move_state(c, CPE_IDLE, "retry");
		want_session(c);
	}
}

static void reboot(struct cwmp_cpe *c, enum cwmp_cpe_after kind)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	sim_timer_cancel(c->w->loop, &c->timer);
	c->w->stats->down++;
	dl_free(c);
	if (c->state == CPE_QUEUED)
		c->state = CPE_IDLE; /* the worker skips it when it comes up */
	if (kind == AFTER_FW_REBOOT && sim_fw_fault_chosen(cfg->seed, c->index, SIM_FWF_NO_RETURN,
							   cfg->fw_no_return_fraction)) {
		log_info("cwmp-sim", "%s: firmware fault %s: not coming back", c->eid,
			 sim_fw_fault_name(SIM_FWF_NO_RETURN));
		sim_timer_cancel(c->w->loop, &c->periodic);
		sim_timer_cancel(c->w->loop, &c->vc_timer);
		move_state(c, CPE_GONE, "reboot");
		return;
	}
	c->after = (uint8_t)kind;
	move_state(c, CPE_DOWN, "reboot");
	sim_timer_arm(c->w->loop, &c->timer, ms(cfg->reboot_delay_s));
}

/* ---- session end ---- */

static int has_work(const struct cwmp_cpe *c)
{
	return c->ev.n > 0;
}

static void end_session(struct cwmp_cpe *c, int ok, long retry_after)
{
	const struct cwmp_sim_config *cfg = c->w->cfg;
	struct cwmp_sim_stats *st = c->w->stats;
	cwmp_http_conn_free(c->conn);
	c->conn = NULL;
	st->in_session--;
	cwmp_sim_worker_session_done(c->w);
	if (ok) {
		st->sessions_ok++;
	} else {
		st->sessions_failed++;
		if (!c->informed) {
			cwmp_sim_events_failed(&c->ev);
			c->n_vc_sent = 0;
		}
		c->retry_count++;
	}
	if (c->dirty)
		cwmp_sim_state_save(c);
	enum cwmp_cpe_after after = (enum cwmp_cpe_after)c->after;
	c->after = AFTER_NONE;
	move_state(c, CPE_IDLE, ok ? "session over" : "session failed");
	if (after != AFTER_NONE) {
		reboot(c, after);
		return;
	}
	if (c->dl && !c->dl->started && !sim_timer_armed(&c->dl->timer))
		dl_schedule(c);
	if (!has_work(c))
		return;
	if (ok) {
		want_session(c); /* events that came up during the session */
		return;
	}
	double u = cwmp_sim_worker_rand(c->w), wait;
	if (retry_after > 0) {
		wait = cwmp_sim_retry_after_wait((double)retry_after, u);
	} else {
		const struct cwmp_sim_ids *ids = &c->w->ids;
		double m = ids->ms_retry_min != SM_NONE &&
					   sim_dm_is_stored(&c->dm.root, ids->ms_retry_min)
				   ? num(c, ids->ms_retry_min, cfg->retry_base_s)
				   : cfg->retry_base_s;
		double k = num(c, ids->ms_retry_mult, cfg->retry_multiplier);
		wait = cwmp_sim_retry_wait(c->retry_count, m, k < 1000 ? 1000 : (unsigned)k, u);
	}
	move_state(c, CPE_BACKOFF, "retry later");
	sim_timer_arm(c->w->loop, &c->timer, ms(wait));
}

/* ---- connection requests ---- */

void cwmp_cpe_connection_request(struct cwmp_cpe *c)
{
	c->w->stats->crs++;
	switch (c->state) {
	case CPE_INFORM:
	case CPE_TC:
	case CPE_ACS:
		/* in a session already: the ACS can use it; nothing more */
		log_debug("cwmp-sim", "%s: connection request during a session", c->eid);
		return;
	case CPE_BACKOFF:
		sim_timer_cancel(c->w->loop, &c->timer);
		move_state(c, CPE_IDLE, "connection request");
		break;
	default:
		break;
	}
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_CONNECTION_REQUEST, NULL);
	want_session(c);
}

int cwmp_cpe_cr_credentials(struct cwmp_cpe *c, char *user, char *password, size_t cap)
{
	if (c->state == CPE_DOWN || c->state == CPE_GONE)
		return 1;
	get(c, c->w->ids.ms_cr_user, user, cap);
	get(c, c->w->ids.ms_cr_pass, password, cap);
	return 0;
}

/* ---- life cycle ---- */

int cwmp_cpe_init(struct cwmp_cpe *c, struct cwmp_sim_worker *w, uint32_t index)
{
	const struct cwmp_sim_config *cfg = w->cfg;
	char eid[CWMP_EID_MAX], manu[256], oui[64], pc[128];
	memset(c, 0, sizeof(*c));
	c->w = w;
	c->index = index;
	c->ns = (uint8_t)cfg->ns;
	c->boot_time = w->now;
	sim_timer_init(&c->timer, on_timer);
	sim_timer_init(&c->periodic, on_periodic);
	sim_timer_init(&c->vc_timer, on_value_change);
	sim_index_expand(cfg->serial_pattern, index, c->serial, sizeof(c->serial));
	c->eid = strdup("");
	if (!c->eid || sim_dm_init(&c->dm, w->model) < 0 || factory_model(c) < 0)
		return -1;
	struct cwmp_device_id id = {
		.manufacturer = get(c, w->ids.manufacturer, manu, sizeof(manu)),
		.oui = get(c, w->ids.oui, oui, sizeof(oui)),
		.product_class = get(c, w->ids.product_class, pc, sizeof(pc)),
		.serial_number = c->serial,
	};
	if (cwmp_endpoint_id(&id, eid, sizeof(eid)) < 0) {
		log_error("cwmp-sim", "CPE %" PRIu32 ": no endpoint id (OUI '%s', serial '%s')",
			  index, oui, c->serial);
		return -1;
	}
	free(c->eid);
	if (!(c->eid = strdup(eid)))
		return -1;
	int st = cwmp_sim_state_load(c);
	if (st != 0) /* first start: no state kept */
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_BOOTSTRAP, NULL);
	cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_BOOT, NULL);
	if (c->tc) {
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_TRANSFER_COMPLETE, NULL);
		cwmp_sim_events_add(&c->ev, CWMP_SIM_EV_M_DOWNLOAD, c->tc->key);
	}
	w->stats->boots++;
	arm_periodic(c, 1);
	if (cfg->value_change_s > 0)
		sim_timer_arm(w->loop, &c->vc_timer,
			      ms(cfg->value_change_s * cwmp_sim_worker_rand(w)) + 1);
	want_session(c);
	return 0;
}

void cwmp_cpe_stop(struct cwmp_cpe *c)
{
	if (c->conn) {
		cwmp_http_conn_free(c->conn);
		c->conn = NULL;
		c->w->stats->in_session--;
	}
	if (c->state == CPE_DOWN)
		c->w->stats->down--;
	if (c->w->cfg->state_dir && c->state != CPE_GONE)
		cwmp_sim_state_save(c);
}

void cwmp_cpe_fini(struct cwmp_cpe *c)
{
	if (!c->w)
		return;
	sim_timer_cancel(c->w->loop, &c->timer);
	sim_timer_cancel(c->w->loop, &c->periodic);
	sim_timer_cancel(c->w->loop, &c->vc_timer);
	dl_free(c);
	cwmp_http_conn_free(c->conn);
	tc_free(c->tc);
	tc_free(c->tc_boot);
	free(c->fw_version);
	free(c->reboot_key);
	vc_clear(c);
	cwmp_sim_events_clear(&c->ev);
	cwmp_sim_attrs_clear(&c->attrs);
	sim_dm_fini(&c->dm);
	free(c->eid);
	memset(c, 0, sizeof(*c));
}
