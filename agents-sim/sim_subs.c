/*
 * sim_subs.c — notifications of one agent. Reads the agent's
 * Subscription.{i} rows live (no copy to keep in step), builds Notify
 * messages, and owns the list of notifications awaiting NotifyResp
 * (struct sim_notif, one retry timer each, at most SIM_MAX_PENDING_NOTIFS).
 * Retry schedule (R-NOT.1): attempt n waits a random time in
 * [m*(k/1000)^(n-1), m*(k/1000)^n] s, exponent capped at 10.
 * Loop thread of the agent's worker.
 */
#include "sim_subs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sim_boot.h"
#include "sim_handlers.h"
#include "usp_record.h"

struct sim_notif {
	struct sim_notif *next;
	struct sim_timer t;
	struct sim_agent *a;
	char msg_id[64];
	char *to_id, *topic;
	uint8_t *msg;
	size_t len;
	unsigned attempt;
	uint32_t m, k;    /* retry minimum wait (s), multiplier (per mille) */
	time_t expire;    /* 0: never */
	uint64_t sent_us; /* first send, CLOCK_MONOTONIC µs: NotifyResp latency */
};

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

enum notif_kind {
	NK_EVENT = USP__NOTIFY__NOTIFICATION_EVENT,
	NK_VALUE_CHANGE = USP__NOTIFY__NOTIFICATION_VALUE_CHANGE,
	NK_CREATION = USP__NOTIFY__NOTIFICATION_OBJ_CREATION,
	NK_DELETION = USP__NOTIFY__NOTIFICATION_OBJ_DELETION,
	NK_OPER = USP__NOTIFY__NOTIFICATION_OPER_COMPLETE
};

static const char *kind_name(enum notif_kind k)
{
	switch (k) {
	case NK_EVENT:
		return "Event";
	case NK_VALUE_CHANGE:
		return "ValueChange";
	case NK_CREATION:
		return "ObjectCreation";
	case NK_DELETION:
		return "ObjectDeletion";
	case NK_OPER:
		return "OperationComplete";
	}
	return "";
}

/* End of the "[...]" starting at r (just past ']'), quotes honoured; NULL if
 * unterminated. */
static const char *expr_end(const char *r)
{
	int quoted = 0;
	for (const char *s = r + 1; *s; s++) {
		if (quoted && *s == '\\' && s[1])
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == ']')
			return s + 1;
	}
	return NULL;
}

static int all_digits(const char *p, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	return 1;
}

int sim_subs_ref_match(const char *ref, const char *path, sim_subs_expr_fn expr, void *ctx)
{
	const char *r = ref, *p = path;
	while (*r) {
		const char *re = r, *xe = NULL;
		if (*r == '[' && !(re = xe = expr_end(r)))
			return 0;
		while (*re && *re != '.')
			re++;
		const char *pe = p;
		while (*pe && *pe != '.')
			pe++;
		size_t rl = (size_t)(re - r), pl = (size_t)(pe - p);
		if (!*p && !pl)
			return 0;
		if ((rl == 1 && *r == '*') || (rl == 3 && !strncmp(r, "{i}", 3)) || xe) {
			if (!all_digits(p, pl))
				return 0;
			if (xe && expr &&
			    !expr(ctx, path, (size_t)(pe - path) + (*pe == '.'), r,
				  (size_t)(xe - r)))
				return 0;
		} else if (rl != pl || strncmp(r, p, rl)) {
			return 0;
		}
		r = re;
		p = pe;
		if (*r == '.') {
			r++;
			if (*p != '.')
				return 0;
			p++;
			if (!*r)
				return 1; /* object ref: covers the sub-tree */
		} else if (*p) {
			return 0;
		}
	}
	return !*p;
}

/* sim_subs_expr_fn on the agent's live data model (ctx is the agent). */
static int eval_expr(void *ctx, const char *inst_path, size_t inst_len, const char *expr,
		     size_t expr_len)
{
	struct sim_agent *a = ctx;
	char ipath[SIM_PATH_MAX], text[SIM_PATH_MAX];
	struct usp_path up;
	struct sim_dm_env env;
	int ok = 0;
	if (inst_len >= sizeof(ipath) || expr_len + 16 >= sizeof(text))
		return 0;
	memcpy(ipath, inst_path, inst_len);
	ipath[inst_len] = '\0';
	struct dm_inst *inst = sim_dm_find(&a->dm, a->w->model, ipath, NULL);
	if (!inst)
		return 0;
	/* parse the selector alone, behind a dummy table name */
	snprintf(text, sizeof(text), "Device.T.%.*s.", (int)expr_len, expr);
	if (usp_path_parse(text, &up, NULL) < 0)
		return 0;
	if (up.n_segs == 3 && up.segs[2].kind == USP_SEG_EXPR) {
		sim_agent_env(a, &env);
		ok = sim_dm_inst_matches(&env, inst, &up.segs[2]);
	}
	usp_path_fini(&up);
	return ok;
}

static int refs_match(struct sim_agent *a, const char *list, const char *path)
{
	char ref[SIM_PATH_MAX];
	for (const char *s = list; *s;) {
		while (*s == ' ' || *s == ',')
			s++;
		const char *e = s;
		int depth = 0;
		while (*e && (*e != ',' || depth)) {
			depth += (*e == '[') - (*e == ']');
			e++;
		}
		size_t l = (size_t)(e - s);
		while (l && s[l - 1] == ' ')
			l--;
		if (l && l < sizeof(ref)) {
			memcpy(ref, s, l);
			ref[l] = '\0';
			if (sim_subs_ref_match(ref, path, a ? eval_expr : NULL, a))
				return 1;
		}
		s = e;
	}
	return 0;
}

static int is_true(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "1");
}

static const char *val(struct sim_agent *a, const struct dm_inst *inst, uint16_t p, char *buf,
		       size_t cap)
{
	struct sim_dm_env env;
	if (p == SM_NONE)
		return "";
	sim_agent_env(a, &env);
	return sim_dm_get(&env, inst, p, buf, cap);
}

static void val_copy(struct sim_agent *a, const struct dm_inst *inst, uint16_t p, char *buf,
		     size_t cap)
{
	const char *v = val(a, inst, p, buf, cap);
	if (v != buf)
		snprintf(buf, cap, "%s", v);
}

static void notif_free(struct sim_notif *n)
{
	free(n->to_id);
	free(n->topic);
	free(n->msg);
	free(n);
}

static void notif_unlink(struct sim_notif *n)
{
	struct sim_notif **pp = &n->a->notifs;
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = n->next;
		n->a->n_notifs--;
	}
	sim_timer_cancel(n->a->w->loop, &n->t);
}

static uint64_t retry_delay_ms(struct sim_notif *n)
{
	unsigned e = n->attempt > 10 ? 10 : n->attempt;
	double k = n->k / 1000.0, m = n->m;
	double lo = m * pow(k, e - 1), hi = m * pow(k, e);
	double d = lo + (hi - lo) * sim_worker_rand(n->a->w);
	return (uint64_t)(d * 1000.0);
}

static void notif_timer(struct sim_timer *t)
{
	struct sim_notif *n = sim_container_of(t, struct sim_notif, t);
	struct sim_agent *a = n->a;
	if (n->expire && a->w->now >= n->expire) {
		log_debug("sim", "%s: notification %s expired", a->eid, n->msg_id);
		notif_unlink(n);
		notif_free(n);
		return;
	}
	if (a->state == SIM_A_ONLINE) {
		a->w->stats->notif_retries++;
		sim_agent_send_packed(a, n->to_id, n->topic, n->msg, n->len);
	}
	n->attempt++;
	sim_timer_arm(a->w->loop, &n->t, retry_delay_ms(n));
}

static void keep_for_retry(struct sim_agent *a, struct dm_inst *sub, struct dm_inst *ctrl,
			   const char *msg_id, const char *to_id, const char *topic, uint8_t *msg,
			   size_t len)
{
	const struct sim_ids *ids = &a->w->ids;
	char buf[64];
	struct sim_notif *n = calloc(1, sizeof(*n));
	if (!n) {
		free(msg);
		return;
	}
	while (a->n_notifs >= SIM_MAX_PENDING_NOTIFS) { /* drop the oldest */
		struct sim_notif *old = a->notifs;
		while (old->next)
			old = old->next;
		notif_unlink(old);
		notif_free(old);
		a->w->stats->dropped++;
	}
	n->a = a;
	n->sent_us = mono_us(); /* just sent (send_notify) */
	snprintf(n->msg_id, sizeof(n->msg_id), "%s", msg_id);
	n->to_id = strdup(to_id);
	n->topic = strdup(topic);
	n->msg = msg;
	n->len = len;
	n->attempt = 1;
	n->m = (uint32_t)strtoul(val(a, ctrl, ids->ctrl_retry_min, buf, sizeof(buf)), NULL, 10);
	n->k = (uint32_t)strtoul(val(a, ctrl, ids->ctrl_retry_mult, buf, sizeof(buf)), NULL, 10);
	if (n->m == 0)
		n->m = 5;
	if (n->k < 1000)
		n->k = 2000;
	unsigned long exp = strtoul(val(a, sub, ids->sub_expiration, buf, sizeof(buf)), NULL, 10);
	n->expire = exp ? a->w->now + (time_t)exp : 0;
	sim_timer_init(&n->t, notif_timer);
	if (!n->to_id || !n->topic || sim_timer_arm(a->w->loop, &n->t, retry_delay_ms(n)) < 0) {
		notif_free(n);
		return;
	}
	n->next = a->notifs;
	a->notifs = n;
	a->n_notifs++;
}

/* Fill the Notify's member child; ctrl is the recipient's Controller row. */
typedef int (*fill_fn)(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl);

/* Send one Notify for subscription sub (already matched). */
static void send_notify(struct sim_agent *a, struct dm_inst *sub, enum notif_kind kind,
			fill_fn fill, const void *arg)
{
	const struct sim_ids *ids = &a->w->ids;
	char recip[SIM_PATH_MAX], sid[256], eid[SIM_VALUE_MAX], topic[SIM_VALUE_MAX], tmp[16];
	char msg_id[64];
	val_copy(a, sub, ids->sub_recipient, recip, sizeof(recip));
	struct dm_inst *ctrl = sim_dm_find(&a->dm, a->w->model, recip, NULL);
	if (!ctrl || ctrl->obj != ids->ctrl)
		return;
	if (ids->ctrl_enable != SM_NONE &&
	    !is_true(val(a, ctrl, ids->ctrl_enable, tmp, sizeof(tmp))))
		return;
	val_copy(a, ctrl, ids->ctrl_eid, eid, sizeof(eid));
	if (!sim_agent_controller_topic(a, ctrl, topic, sizeof(topic)) || !eid[0])
		return;
	val_copy(a, sub, ids->sub_id, sid, sizeof(sid));
	int retry = is_true(val(a, sub, ids->sub_retry, tmp, sizeof(tmp)));
	usp_msgid_next(&a->w->msgid, msg_id, sizeof(msg_id));
	Usp__Msg *msg = usp_msg_new(msg_id, USP__HEADER__MSG_TYPE__NOTIFY);
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!msg)
		return;
	Usp__Notify *n = msg->body->request->notify;
	n->subscription_id = usp_pb_strdup(sid);
	n->send_resp = retry;
	ProtobufCMessage *child = usp_pb_set_child(&n->base, kind);
	if (!n->subscription_id || !child || fill(child, arg, ctrl) < 0 ||
	    usp_msg_encode(msg, &buf, &len) < 0) {
		usp_msg_free(msg);
		return;
	}
	usp_msg_free(msg);
	a->w->stats->notifs++;
	log_debug("sim", "%s: Notify %s sub=%s to %s retry=%d", a->eid, kind_name(kind), sid, eid,
		  retry);
	sim_agent_send_packed(a, eid, topic, buf, len);
	if (retry)
		keep_for_retry(a, sub, ctrl, msg_id, eid, topic, buf, len);
	else
		free(buf);
}

/* Every enabled subscription of kind whose ReferenceList covers path. */
static void dispatch(struct sim_agent *a, enum notif_kind kind, const char *path, fill_fn fill,
		     const void *arg)
{
	const struct sim_ids *ids = &a->w->ids;
	char buf[SIM_VALUE_MAX];
	if (ids->sub == SM_NONE)
		return;
	for (struct dm_inst *s = a->dm.root.child; s; s = s->next) {
		if (s->obj != ids->sub || !is_true(val(a, s, ids->sub_enable, buf, sizeof(buf))) ||
		    strcmp(val(a, s, ids->sub_type, buf, sizeof(buf)), kind_name(kind)) ||
		    !refs_match(a, val(a, s, ids->sub_refs, buf, sizeof(buf)), path))
			continue;
		send_notify(a, s, kind, fill, arg);
	}
}

struct vc_arg {
	const char *path, *value;
};

static int fill_vc(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl)
{
	(void)ctrl;
	const struct vc_arg *v = arg;
	Usp__Notify__ValueChange *vc = (Usp__Notify__ValueChange *)child;
	vc->param_path = usp_pb_strdup(v->path);
	vc->param_value = usp_pb_strdup(v->value);
	return vc->param_path && vc->param_value ? 0 : -1;
}

void sim_subs_value_change(struct sim_agent *a, const struct dm_inst *inst, uint16_t param,
			   const char *value)
{
	char path[SIM_PATH_MAX];
	if (a->w->model->params[param].vc_ignore ||
	    sim_param_path(a->w->model, inst, param, path, sizeof(path)) < 0)
		return;
	struct vc_arg v = { path, value };
	dispatch(a, NK_VALUE_CHANGE, path, fill_vc, &v);
}

struct oc_arg {
	struct sim_agent *a;
	struct dm_inst *inst;
	const char *path;
};

static int fill_creation(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl)
{
	(void)ctrl;
	const struct oc_arg *o = arg;
	Usp__Notify__ObjectCreation *oc = (Usp__Notify__ObjectCreation *)child;
	struct sim_req r = { .a = o->a };
	sim_agent_env(o->a, &r.env);
	oc->obj_path = usp_pb_strdup(o->path);
	return oc->obj_path ? SIM_PUT_UNIQUE_KEYS(&r, o->inst, oc) : -1;
}

void sim_subs_obj_creation(struct sim_agent *a, struct dm_inst *inst)
{
	char path[SIM_PATH_MAX];
	if (sim_dm_obj_path(a->w->model, inst, inst->obj, path, sizeof(path)) < 0)
		return;
	struct oc_arg o = { a, inst, path };
	dispatch(a, NK_CREATION, path, fill_creation, &o);
}

static int fill_deletion(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl)
{
	(void)ctrl;
	Usp__Notify__ObjectDeletion *od = (Usp__Notify__ObjectDeletion *)child;
	od->obj_path = usp_pb_strdup(arg);
	return od->obj_path ? 0 : -1;
}

void sim_subs_obj_deletion(struct sim_agent *a, const char *inst_path)
{
	dispatch(a, NK_DELETION, inst_path, fill_deletion, inst_path);
}

struct ev_arg {
	struct sim_agent *a; /* non-NULL: Boot!, add the recipient's ParameterMap */
	const char *obj_path, *name;
	const char *const *kv;
	size_t n;
};

static int fill_event(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl)
{
	const struct ev_arg *e = arg;
	Usp__Notify__Event *ev = (Usp__Notify__Event *)child;
	ev->obj_path = usp_pb_strdup(e->obj_path);
	ev->event_name = usp_pb_strdup(e->name);
	if (!ev->obj_path || !ev->event_name)
		return -1;
	for (size_t i = 0; i < e->n; i++)
		if (USP_PB_MAP_PUT(ev, params, e->kv[2 * i], e->kv[2 * i + 1]) < 0)
			return -1;
	if (!e->a)
		return 0;
	char *map = sim_boot_parameter_map(e->a, ctrl);
	int rc = map ? USP_PB_MAP_PUT(ev, params, "ParameterMap", map) : -1;
	free(map);
	return rc < 0 ? -1 : 0;
}

void sim_subs_event(struct sim_agent *a, const char *obj_path, const char *event_name,
		    const char *const *kv, size_t n)
{
	char path[SIM_PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", obj_path, event_name);
	struct ev_arg e = { NULL, obj_path, event_name, kv, n };
	dispatch(a, NK_EVENT, path, fill_event, &e);
}

void sim_subs_boot(struct sim_agent *a, const char *const *kv, size_t n)
{
	struct ev_arg e = { a, "Device.", "Boot!", kv, n };
	dispatch(a, NK_EVENT, "Device.Boot!", fill_event, &e);
}

struct op_arg {
	const char *obj_path, *name, *key;
	const char *const *kv;
	size_t n;
	uint32_t err;
	const char *err_msg;
};

static int fill_oper(ProtobufCMessage *child, const void *arg, struct dm_inst *ctrl)
{
	(void)ctrl;
	const struct op_arg *o = arg;
	Usp__Notify__OperationComplete *oc = (Usp__Notify__OperationComplete *)child;
	oc->obj_path = usp_pb_strdup(o->obj_path);
	oc->command_name = usp_pb_strdup(o->name);
	oc->command_key = usp_pb_strdup(o->key);
	if (!oc->obj_path || !oc->command_name || !oc->command_key)
		return -1;
	if (o->err) {
		Usp__Notify__OperationComplete__CommandFailure *f = USP_PB_CHILD(oc, cmd_failure);
		if (!f)
			return -1;
		f->err_code = o->err;
		f->err_msg = usp_pb_strdup(o->err_msg ? o->err_msg : usp_err_text(o->err));
		return f->err_msg ? 0 : -1;
	}
	Usp__Notify__OperationComplete__OutputArgs *out = USP_PB_CHILD(oc, req_output_args);
	if (!out)
		return -1;
	for (size_t i = 0; i < o->n; i++)
		if (USP_PB_MAP_PUT(out, output_args, o->kv[2 * i], o->kv[2 * i + 1]) < 0)
			return -1;
	return 0;
}

void sim_subs_oper_complete(struct sim_agent *a, const char *obj_path, const char *cmd_name,
			    const char *key, const char *const *kv, size_t n, uint32_t err_code,
			    const char *err_msg)
{
	char path[SIM_PATH_MAX];
	snprintf(path, sizeof(path), "%s%s", obj_path, cmd_name);
	struct op_arg o = { obj_path, cmd_name, key, kv, n, err_code, err_msg };
	dispatch(a, NK_OPER, path, fill_oper, &o);
}

void sim_subs_notify_resp(struct sim_agent *a, const char *msg_id)
{
	for (struct sim_notif *n = a->notifs; n; n = n->next)
		if (!strcmp(n->msg_id, msg_id)) {
			a->w->stats->notif_acked++;
			a->w->stats->notify_resp_us[sim_hist_bucket(mono_us() - n->sent_us)]++;
			notif_unlink(n);
			notif_free(n);
			return;
		}
}

void sim_subs_clear(struct sim_agent *a)
{
	while (a->notifs) {
		struct sim_notif *n = a->notifs;
		notif_unlink(n);
		notif_free(n);
	}
}

static time_t parse_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

void sim_subs_changed(struct sim_agent *a)
{
	const struct sim_ids *ids = &a->w->ids;
	char buf[SIM_VALUE_MAX];
	time_t best = 0;
	if (ids->sub == SM_NONE)
		return;
	for (struct dm_inst *s = a->dm.root.child; s; s = s->next) {
		if (s->obj != ids->sub || !is_true(val(a, s, ids->sub_enable, buf, sizeof(buf))) ||
		    strcmp(val(a, s, ids->sub_type, buf, sizeof(buf)), "Event") ||
		    !refs_match(NULL, val(a, s, ids->sub_refs, buf, sizeof(buf)),
				"Device.LocalAgent.Periodic!"))
			continue;
		struct dm_inst *ctrl = sim_dm_find(
			&a->dm, a->w->model, val(a, s, ids->sub_recipient, buf, sizeof(buf)), NULL);
		if (!ctrl)
			continue;
		unsigned long iv =
			strtoul(val(a, ctrl, ids->ctrl_periodic, buf, sizeof(buf)), NULL, 10);
		if (iv == 0)
			continue;
		if (!best || (time_t)iv < best)
			best = (time_t)iv;
	}
	if (!best)
		a->next_periodic = 0;
	else if (!a->next_periodic || a->next_periodic > a->w->now + best)
		a->next_periodic = a->w->now + best;
}

void sim_subs_tick(struct sim_agent *a)
{
	const struct sim_ids *ids = &a->w->ids;
	char buf[SIM_VALUE_MAX];
	if (ids->sub == SM_NONE)
		return;
	if (a->next_periodic && a->w->now >= a->next_periodic && a->state == SIM_A_ONLINE) {
		a->next_periodic = 0;
		sim_subs_event(a, "Device.LocalAgent.", "Periodic!", NULL, 0);
		sim_subs_changed(a);
	}
	if (ids->sub_ttl == SM_NONE)
		return;
	for (struct dm_inst *s = a->dm.root.child, *next; s; s = next) {
		next = s->next;
		if (s->obj != ids->sub)
			continue;
		unsigned long ttl = strtoul(val(a, s, ids->sub_ttl, buf, sizeof(buf)), NULL, 10);
		if (!ttl)
			continue;
		time_t created = parse_time(val(a, s, ids->sub_created, buf, sizeof(buf)));
		if (!created || a->w->now < created + (time_t)ttl)
			continue;
		char path[SIM_PATH_MAX];
		sim_dm_obj_path(a->w->model, s, s->obj, path, sizeof(path));
		log_debug("sim", "%s: %s expired (TimeToLive %lu s)", a->eid, path, ttl);
		sim_subs_obj_deletion(a, path); /* first: it may read the instance */
		sim_dm_delete(&a->dm, s);
		sim_agent_mark_dirty(a);
	}
}
