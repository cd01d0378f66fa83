/*
 * cwmp_sim_rpc.c — a simulated CPE's answers to ACS requests, computed
 * from its instance tree (sim_dm) and notification attributes. Owns
 * nothing beyond the response it builds and the action it returns.
 * Invariants: a request that faults leaves the model and the attributes as
 * they were; every string put into a response is malloc'd (cwmp_msg_free).
 * Loop thread of the CPE's worker.
 */
#include "cwmp_sim_rpc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_MSG_MAX 256

/* ---- attributes ---- */

void cwmp_sim_attrs_clear(struct cwmp_sim_attrs *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static size_t attr_find(const struct cwmp_sim_attrs *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].name, name))
			return i;
	return SIZE_MAX;
}

int cwmp_sim_attrs_get(const struct cwmp_sim_attrs *a, const char *name)
{
	size_t i = attr_find(a, name);
	return i == SIZE_MAX ? 0 : a->v[i].notification;
}

static int attrs_put(struct cwmp_sim_attrs *a, const char *name, int notification)
{
	size_t i = attr_find(a, name);
	if (notification == 0) {
		if (i != SIZE_MAX) {
			free(a->v[i].name);
			a->v[i] = a->v[--a->n];
		}
		return 0;
	}
	if (i != SIZE_MAX) {
		a->v[i].notification = (uint8_t)notification;
		return 0;
	}
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 4;
		struct cwmp_sim_attr *nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		a->v = nv;
		a->cap = nc;
	}
	char *n = strdup(name);
	if (!n)
		return -1;
	a->v[a->n++] = (struct cwmp_sim_attr){ .name = n, .notification = (uint8_t)notification };
	return 0;
}

/* Forget the attributes of every parameter below prefix (a deleted instance). */
static void attrs_drop_prefix(struct cwmp_sim_attrs *a, const char *prefix)
{
	size_t pl = strlen(prefix);
	for (size_t i = a->n; i-- > 0;)
		if (!strncmp(a->v[i].name, prefix, pl)) {
			free(a->v[i].name);
			a->v[i] = a->v[--a->n];
		}
}

void cwmp_sim_action_fini(struct cwmp_sim_action *a)
{
	struct cwmp_download *d = &a->dl;
	free(a->key);
	free(d->command_key);
	free(d->file_type);
	free(d->url);
	free(d->username);
	free(d->password);
	free(d->target_file_name);
	free(d->success_url);
	free(d->failure_url);
	memset(a, 0, sizeof(*a));
}

const char *cwmp_sim_xsd_type(uint8_t sm_type)
{
	/* the model file's type names are the xsd names CWMP uses */
	const char *n = sim_model_type_name((enum sm_type)sm_type);
	return n ? n : "string";
}

/* ---- paths ---- */

enum node_kind { N_OBJ, N_TABLE, N_PARAM };

/* A resolved TR-069 name: an object (inst, obj), a table without an
 * instance (inst = the instance holding it, obj = the table) or a
 * parameter of obj in inst. */
struct node {
	struct dm_inst *inst;
	uint16_t obj, param;
	uint8_t kind;
};

static int all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 9)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* 0 with *out, or -1 if the name is not in this CPE's model. */
static int lookup(struct cwmp_sim_dmref *d, const char *path, struct node *out)
{
	const struct sim_model *m = d->env->m;
	struct dm_inst *inst = &d->dm->root;
	uint16_t obj = 0;
	int need_num = 0;
	char seg[128];
	if (!*path) {
		*out = (struct node){ .inst = inst, .obj = 0, .kind = N_OBJ };
		return 0;
	}
	if (strncmp(path, "Device.", 7))
		return -1;
	int is_param = path[strlen(path) - 1] != '.';
	for (const char *s = path + 7; *s;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l >= sizeof(seg))
			return -1;
		memcpy(seg, s, l);
		seg[l] = '\0';
		if (!dot) { /* the last segment of a parameter path */
			if (need_num)
				return -1;
			uint16_t p = sim_model_param(m, obj, seg);
			if (p == SM_NONE)
				return -1;
			*out = (struct node){
				.inst = inst, .obj = obj, .param = p, .kind = N_PARAM
			};
			return 0;
		}
		if (need_num) {
			if (!all_digits(seg, l))
				return -1;
			inst = sim_dm_child(inst, obj, (uint32_t)strtoul(seg, NULL, 10));
			if (!inst)
				return -1;
			need_num = 0;
		} else {
			obj = sim_model_child(m, obj, seg);
			if (obj == SM_NONE)
				return -1;
			need_num = m->objs[obj].is_table;
		}
		s = dot + 1;
	}
	if (is_param)
		return -1;
	*out = (struct node){ .inst = inst, .obj = obj, .kind = need_num ? N_TABLE : N_OBJ };
	return 0;
}

/* Full name of a node into buf; -1 if it does not fit. */
static int node_name(const struct sim_model *m, const struct node *n, char *buf, size_t cap)
{
	int l;
	if (n->kind == N_TABLE) {
		l = sim_dm_obj_path(m, n->inst, m->objs[n->obj].parent, buf, cap);
		if (l < 0)
			return -1;
		int w = snprintf(buf + l, cap - (size_t)l, "%s.", m->objs[n->obj].name);
		return w < 0 || (size_t)w >= cap - (size_t)l ? -1 : 0;
	}
	l = sim_dm_obj_path(m, n->inst, n->obj, buf, cap);
	if (l < 0)
		return -1;
	if (n->kind == N_PARAM) {
		int w = snprintf(buf + l, cap - (size_t)l, "%s", m->params[n->param].name);
		return w < 0 || (size_t)w >= cap - (size_t)l ? -1 : 0;
	}
	return 0;
}

/* Writable as GetParameterNames reports it: a parameter that can be set,
 * a table that AddObject accepts, an instance DeleteObject accepts. */
static int node_writable(const struct sim_model *m, const struct node *n)
{
	if (n->kind == N_PARAM)
		return m->params[n->param].access != SM_RO;
	const struct sm_obj *o = &m->objs[n->obj];
	if (n->kind == N_TABLE)
		return o->access == SM_OBJ_ADD_DELETE || o->access == SM_OBJ_ADD_ONLY;
	if (o->is_table && n->inst->obj == n->obj)
		return o->access == SM_OBJ_ADD_DELETE || o->access == SM_OBJ_DELETE_ONLY;
	return 0;
}

typedef int (*visit_fn)(void *ctx, const struct node *n);

/* Depth first below object obj of inst: the object itself (with_objs),
 * its parameters, then its children (tables: the table, then each
 * instance). Stops at the first non-zero return of fn. */
static int visit(struct cwmp_sim_dmref *d, struct dm_inst *inst, uint16_t obj, int with_objs,
		 visit_fn fn, void *ctx)
{
	const struct sim_model *m = d->env->m;
	const struct sm_obj *o = &m->objs[obj];
	struct node n = { .inst = inst, .obj = obj, .kind = N_OBJ };
	int rc;
	if (with_objs && (rc = fn(ctx, &n)))
		return rc;
	for (size_t i = 0; i < o->n_params; i++) {
		n = (struct node){
			.inst = inst, .obj = obj, .param = o->params[i], .kind = N_PARAM
		};
		if ((rc = fn(ctx, &n)))
			return rc;
	}
	for (size_t i = 0; i < o->n_children; i++) {
		uint16_t c = o->children[i];
		if (!m->objs[c].is_table) {
			if ((rc = visit(d, inst, c, with_objs, fn, ctx)))
				return rc;
			continue;
		}
		n = (struct node){ .inst = inst, .obj = c, .kind = N_TABLE };
		if (with_objs && (rc = fn(ctx, &n)))
			return rc;
		for (struct dm_inst *ch = inst->child; ch; ch = ch->next)
			if (ch->obj == c && (rc = visit(d, ch, c, with_objs, fn, ctx)))
				return rc;
	}
	return 0;
}

/* Visit everything a node covers (a parameter: itself). */
static int visit_node(struct cwmp_sim_dmref *d, const struct node *n, int with_objs, visit_fn fn,
		      void *ctx)
{
	int rc;
	if (n->kind == N_PARAM)
		return fn(ctx, n);
	if (n->kind == N_OBJ)
		return visit(d, n->inst, n->obj, with_objs, fn, ctx);
	if (with_objs && (rc = fn(ctx, n)))
		return rc;
	for (struct dm_inst *ch = n->inst->child; ch; ch = ch->next)
		if (ch->obj == n->obj && (rc = visit(d, ch, n->obj, with_objs, fn, ctx)))
			return rc;
	return 0;
}

/* ---- responses ---- */

#define E_NOMEM (-1)
#define E_TOO_MANY 9004

static void fault_strings(unsigned code, const char **soap_code, const char **text)
{
	const char *t = cwmp_fault_text(code);
	*text = t ? t : "Fault";
	*soap_code = (code == 9003 || (code >= 9005 && code <= 9008)) ? "Client" : "Server";
}

/* Replace whatever resp holds with a Fault (keeps ns and ID). */
static int set_fault(struct cwmp_msg *resp, unsigned code, const char *detail)
{
	enum cwmp_ns ns = resp->ns;
	char *id = resp->header.id;
	const char *sc, *text;
	resp->header.id = NULL;
	cwmp_msg_free(resp);
	memset(resp, 0, sizeof(*resp));
	resp->ns = ns;
	resp->header.id = id;
	resp->header.hold_requests = resp->header.no_more_requests = -1;
	resp->header.session_timeout = -1;
	resp->method = CWMP_M_FAULT;
	fault_strings(code, &sc, &text);
	resp->fault.soap_faultcode = strdup(sc);
	resp->fault.soap_faultstring = strdup("CWMP fault");
	resp->fault.code = code;
	resp->fault.string = strdup(detail && *detail ? detail : text);
	if (!resp->fault.soap_faultcode || !resp->fault.soap_faultstring || !resp->fault.string)
		return E_NOMEM;
	return 0;
}

struct collect {
	struct cwmp_sim_dmref *d;
	struct cwmp_msg *resp;
	size_t cap;
	int next_level; /* GPN */
};

static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return 0;
	if (n >= CWMP_MAX_LIST)
		return E_TOO_MANY;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return E_NOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static int collect_value(void *ctx, const struct node *n)
{
	struct collect *c = ctx;
	const struct sim_model *m = c->d->env->m;
	struct cwmp_msg *r = c->resp;
	char name[SIM_PATH_MAX], buf[SIM_VALUE_MAX];
	if (n->kind != N_PARAM)
		return 0;
	int rc = grow((void **)&r->values, r->n_values, &c->cap, sizeof(*r->values));
	if (rc)
		return rc;
	if (node_name(m, n, name, sizeof(name)) < 0)
		return E_TOO_MANY;
	const struct sm_param *sp = &m->params[n->param];
	const char *v = sp->access == SM_WO
				? ""
				: sim_dm_get(c->d->env, n->inst, n->param, buf, sizeof(buf));
	struct cwmp_param_value *pv = &r->values[r->n_values++];
	pv->name = strdup(name);
	pv->value = strdup(v);
	pv->type = strdup(cwmp_sim_xsd_type(sp->type));
	return pv->name && pv->value && pv->type ? 0 : E_NOMEM;
}

static int collect_info(void *ctx, const struct node *n)
{
	struct collect *c = ctx;
	const struct sim_model *m = c->d->env->m;
	struct cwmp_msg *r = c->resp;
	char name[SIM_PATH_MAX];
	int rc = grow((void **)&r->infos, r->n_infos, &c->cap, sizeof(*r->infos));
	if (rc)
		return rc;
	if (node_name(m, n, name, sizeof(name)) < 0)
		return E_TOO_MANY;
	struct cwmp_param_info *pi = &r->infos[r->n_infos++];
	pi->name = strdup(name);
	pi->writable = node_writable(m, n);
	return pi->name ? 0 : E_NOMEM;
}

static int collect_attr(void *ctx, const struct node *n)
{
	struct collect *c = ctx;
	struct cwmp_msg *r = c->resp;
	char name[SIM_PATH_MAX];
	if (n->kind != N_PARAM)
		return 0;
	int rc = grow((void **)&r->attrs, r->n_attrs, &c->cap, sizeof(*r->attrs));
	if (rc)
		return rc;
	if (node_name(c->d->env->m, n, name, sizeof(name)) < 0)
		return E_TOO_MANY;
	struct cwmp_param_attr *pa = &r->attrs[r->n_attrs++];
	memset(pa, 0, sizeof(*pa));
	pa->name = strdup(name);
	pa->notification = cwmp_sim_attrs_get(c->d->attrs, name);
	return pa->name ? 0 : E_NOMEM;
}

/* Run fn over each of names (GPV, GPA): 0, or a fault code / E_NOMEM. */
static int over_names(struct cwmp_sim_dmref *d, char **names, size_t n_names, visit_fn fn,
		      struct collect *c, char *msg, size_t cap)
{
	for (size_t i = 0; i < n_names; i++) {
		struct node n;
		if (lookup(d, names[i], &n) < 0) {
			snprintf(msg, cap, "%.200s is not a parameter or object", names[i]);
			return 9005;
		}
		int rc = visit_node(d, &n, 0, fn, c);
		if (rc)
			return rc;
	}
	return 0;
}

static int do_gpv(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  char *msg, size_t cap)
{
	struct collect c = { .d = d, .resp = resp };
	resp->method = CWMP_M_GET_PARAMETER_VALUES_RESPONSE;
	return over_names(d, req->names, req->n_names, collect_value, &c, msg, cap);
}

static int do_gpa(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  char *msg, size_t cap)
{
	struct collect c = { .d = d, .resp = resp };
	resp->method = CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE;
	return over_names(d, req->names, req->n_names, collect_attr, &c, msg, cap);
}

static int do_gpn(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  char *msg, size_t cap)
{
	const struct sim_model *m = d->env->m;
	const char *path = req->parameter_path ? req->parameter_path : "";
	struct collect c = { .d = d, .resp = resp };
	struct node n;
	resp->method = CWMP_M_GET_PARAMETER_NAMES_RESPONSE;
	if (lookup(d, path, &n) < 0) {
		snprintf(msg, cap, "%.200s is not a parameter or object", path);
		return 9005;
	}
	if (n.kind == N_PARAM && req->next_level) {
		snprintf(msg, cap, "NextLevel true with a parameter name");
		return 9003;
	}
	if (!req->next_level)
		return visit_node(d, &n, 1, collect_info, &c);
	if (!*path) /* the top of the hierarchy: the root object alone */
		return collect_info(&c, &n);
	if (n.kind == N_TABLE) {
		for (struct dm_inst *ch = n.inst->child; ch; ch = ch->next) {
			struct node in = { .inst = ch, .obj = n.obj, .kind = N_OBJ };
			int rc = ch->obj == n.obj ? collect_info(&c, &in) : 0;
			if (rc)
				return rc;
		}
		return 0;
	}
	const struct sm_obj *o = &m->objs[n.obj];
	for (size_t i = 0; i < o->n_params; i++) {
		struct node pn = {
			.inst = n.inst, .obj = n.obj, .param = o->params[i], .kind = N_PARAM
		};
		int rc = collect_info(&c, &pn);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < o->n_children; i++) {
		uint16_t ch = o->children[i];
		struct node cn = { .inst = n.inst,
				   .obj = ch,
				   .kind = m->objs[ch].is_table ? N_TABLE : N_OBJ };
		int rc = collect_info(&c, &cn);
		if (rc)
			return rc;
	}
	return 0;
}

static int set_param_key(struct cwmp_sim_dmref *d, const char *key)
{
	char buf[8];
	uint16_t p;
	if (cwmp_sim_rpc_get(d, "Device.ManagementServer.ParameterKey", buf, sizeof(buf), &p) < 0)
		return 0; /* the model has none */
	return cwmp_sim_rpc_set(d, "Device.ManagementServer.ParameterKey", key ? key : "");
}

static int add_spv_fault(struct cwmp_msg *resp, size_t *cap, const char *name, unsigned code)
{
	int rc = grow((void **)&resp->fault.spv, resp->fault.n_spv, cap, sizeof(*resp->fault.spv));
	if (rc)
		return rc;
	const char *t = cwmp_fault_text(code);
	struct cwmp_spv_fault *f = &resp->fault.spv[resp->fault.n_spv++];
	f->name = strdup(name);
	f->code = code;
	f->string = strdup(t ? t : "Fault");
	return f->name && f->string ? 0 : E_NOMEM;
}

/* The fault one SetParameterValues entry gets (0 if it can be set). */
static unsigned spv_check(struct cwmp_sim_dmref *d, const struct cwmp_param_value *v,
			  struct node *n)
{
	const struct sim_model *m = d->env->m;
	if (!v->name || lookup(d, v->name, n) < 0 || n->kind != N_PARAM)
		return 9005;
	const struct sm_param *sp = &m->params[n->param];
	if (sp->access == SM_RO)
		return 9008;
	if (v->type && *v->type && strcmp(v->type, cwmp_sim_xsd_type(sp->type)))
		return 9006;
	if (sim_model_check_value(sp, v->value ? v->value : "") != 0)
		return 9007;
	return 0;
}

static int do_spv(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  struct cwmp_sim_action *act)
{
	struct node *nodes = calloc(req->n_values ? req->n_values : 1, sizeof(*nodes));
	size_t fcap = 0;
	int rc = 0, bad = 0;
	if (!nodes)
		return E_NOMEM;
	for (size_t i = 0; i < req->n_values && !rc; i++) {
		unsigned code = spv_check(d, &req->values[i], &nodes[i]);
		for (size_t j = 0; !code && j < i; j++) /* a parameter named twice */
			if (!strcmp(req->values[j].name, req->values[i].name))
				code = 9003;
		if (!code)
			continue;
		if (!bad && (rc = set_fault(resp, 9003, NULL)) != 0)
			break;
		bad = 1;
		rc = add_spv_fault(resp, &fcap, req->values[i].name ? req->values[i].name : "",
				   code);
	}
	if (rc || bad) {
		free(nodes);
		return rc;
	}
	for (size_t i = 0; i < req->n_values; i++) {
		const struct sm_param *sp = &d->env->m->params[nodes[i].param];
		const char *v = req->values[i].value ? req->values[i].value : "";
		if (sp->type == SM_T_BOOL) /* stored as read back: true/false */
			v = (!strcmp(v, "1") || !strcmp(v, "true")) ? "true" : "false";
		if (sim_dm_set(nodes[i].inst, nodes[i].param, v) < 0) {
			free(nodes);
			return E_NOMEM;
		}
		if (!strncmp(req->values[i].name, "Device.ManagementServer.", 24))
			act->mgmt_changed = 1;
	}
	free(nodes);
	resp->method = CWMP_M_SET_PARAMETER_VALUES_RESPONSE;
	resp->status = 0;
	return set_param_key(d, req->parameter_key) < 0 ? E_NOMEM : 0;
}

struct spa_ctx {
	struct cwmp_sim_dmref *d;
	int notification;
	int apply;   /* 0: check only */
	int partial; /* the name was a partial path: skip what cannot notify */
};

/* Active notification is refused on values that move by themselves. */
static int cannot_notify(const struct sm_param *sp)
{
	return sp->dyn != SM_DYN_NONE || sp->vc_ignore;
}

static int spa_param(void *ctx, const struct node *n)
{
	struct spa_ctx *s = ctx;
	const struct sm_param *sp = &s->d->env->m->params[n->param];
	char name[SIM_PATH_MAX];
	if (n->kind != N_PARAM)
		return 0;
	if (s->notification == 2 && cannot_notify(sp))
		return s->partial ? 0 : 9009;
	if (!s->apply)
		return 0;
	if (node_name(s->d->env->m, n, name, sizeof(name)) < 0)
		return E_TOO_MANY;
	return attrs_put(s->d->attrs, name, s->notification) < 0 ? E_NOMEM : 0;
}

static int do_spa(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  char *msg, size_t cap)
{
	resp->method = CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE;
	for (int apply = 0; apply < 2; apply++) {
		for (size_t i = 0; i < req->n_set_attrs; i++) {
			const struct cwmp_set_attr *a = &req->set_attrs[i];
			struct node n;
			if (!a->notification_change)
				continue;
			if (!a->name || lookup(d, a->name, &n) < 0) {
				snprintf(msg, cap, "%.200s is not a parameter or object",
					 a->name ? a->name : "");
				return 9005;
			}
			if (a->notification < 0 || a->notification > 2) {
				snprintf(msg, cap, "Notification %d is not supported",
					 a->notification);
				return 9003;
			}
			struct spa_ctx s = { .d = d,
					     .notification = a->notification,
					     .apply = apply,
					     .partial = n.kind != N_PARAM };
			int rc = visit_node(d, &n, 0, spa_param, &s);
			if (rc == 9009)
				snprintf(msg, cap, "active notification refused on %.200s",
					 a->name);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int do_add(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		  char *msg, size_t cap)
{
	const struct sim_model *m = d->env->m;
	const char *name = req->object_name ? req->object_name : "";
	struct node n;
	if (!*name || lookup(d, name, &n) < 0 || n.kind != N_TABLE) {
		snprintf(msg, cap, "%.200s is not a table", name);
		return 9005;
	}
	if (!node_writable(m, &n)) {
		snprintf(msg, cap, "%.200s does not accept AddObject", name);
		return 9005;
	}
	struct dm_inst *inst = sim_dm_add(d->dm, m, n.inst, n.obj, 0);
	if (!inst) {
		snprintf(msg, cap, "%.200s is full", name);
		return 9004;
	}
	resp->method = CWMP_M_ADD_OBJECT_RESPONSE;
	resp->instance_number = inst->num;
	resp->status = 0;
	return set_param_key(d, req->parameter_key) < 0 ? E_NOMEM : 0;
}

static int do_delete(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		     char *msg, size_t cap)
{
	const struct sim_model *m = d->env->m;
	const char *name = req->object_name ? req->object_name : "";
	struct node n;
	if (!*name || lookup(d, name, &n) < 0 || n.kind != N_OBJ || !m->objs[n.obj].is_table ||
	    n.inst->obj != n.obj) {
		snprintf(msg, cap, "%.200s is not an instance", name);
		return 9005;
	}
	if (!node_writable(m, &n)) {
		snprintf(msg, cap, "%.200s does not accept DeleteObject", name);
		return 9005;
	}
	char prefix[SIM_PATH_MAX];
	if (node_name(m, &n, prefix, sizeof(prefix)) == 0)
		attrs_drop_prefix(d->attrs, prefix);
	sim_dm_delete(d->dm, n.inst);
	resp->method = CWMP_M_DELETE_OBJECT_RESPONSE;
	resp->status = 0;
	return set_param_key(d, req->parameter_key) < 0 ? E_NOMEM : 0;
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

static int do_download(const struct cwmp_msg *req, struct cwmp_msg *resp,
		       struct cwmp_sim_action *act, char *msg, size_t cap)
{
	const struct cwmp_download *q = &req->download;
	const char *url = q->url ? q->url : "";
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		snprintf(msg, cap, "unsupported transfer protocol: %.200s", url);
		return 9013;
	}
	struct cwmp_download *dl = &act->dl;
	act->act = CWMP_SIM_ACT_DOWNLOAD;
	dl->command_key = dup0(q->command_key);
	dl->file_type = dup0(q->file_type);
	dl->url = dup0(url);
	dl->username = dup0(q->username);
	dl->password = dup0(q->password);
	dl->target_file_name = dup0(q->target_file_name);
	dl->success_url = dup0(q->success_url);
	dl->failure_url = dup0(q->failure_url);
	dl->file_size = q->file_size;
	dl->delay_seconds = q->delay_seconds;
	if (!dl->command_key || !dl->file_type || !dl->url || !dl->username || !dl->password ||
	    !dl->target_file_name || !dl->success_url || !dl->failure_url)
		return E_NOMEM;
	resp->method = CWMP_M_DOWNLOAD_RESPONSE;
	resp->status = 1; /* not done yet: TransferComplete follows */
	resp->start_time = strdup("0001-01-01T00:00:00Z");
	resp->complete_time = strdup("0001-01-01T00:00:00Z");
	return resp->start_time && resp->complete_time ? 0 : E_NOMEM;
}

static const char *const rpc_methods[] = {
	"GetRPCMethods",
	"GetParameterNames",
	"GetParameterValues",
	"SetParameterValues",
	"GetParameterAttributes",
	"SetParameterAttributes",
	"AddObject",
	"DeleteObject",
	"Reboot",
	"FactoryReset",
	"Download",
};

static int do_get_rpc_methods(struct cwmp_msg *resp)
{
	size_t n = sizeof(rpc_methods) / sizeof(rpc_methods[0]);
	resp->method = CWMP_M_GET_RPC_METHODS_RESPONSE;
	resp->methods = calloc(n, sizeof(*resp->methods));
	if (!resp->methods)
		return E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(resp->methods[i] = strdup(rpc_methods[i])))
			return E_NOMEM;
		resp->n_methods = i + 1;
	}
	return 0;
}

static int dispatch(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
		    struct cwmp_sim_action *act, char *msg, size_t cap)
{
	switch (req->method) {
	case CWMP_M_GET_PARAMETER_VALUES:
		return do_gpv(d, req, resp, msg, cap);
	case CWMP_M_GET_PARAMETER_NAMES:
		return do_gpn(d, req, resp, msg, cap);
	case CWMP_M_GET_PARAMETER_ATTRIBUTES:
		return do_gpa(d, req, resp, msg, cap);
	case CWMP_M_SET_PARAMETER_ATTRIBUTES:
		return do_spa(d, req, resp, msg, cap);
	case CWMP_M_SET_PARAMETER_VALUES:
		return do_spv(d, req, resp, act);
	case CWMP_M_ADD_OBJECT:
		return do_add(d, req, resp, msg, cap);
	case CWMP_M_DELETE_OBJECT:
		return do_delete(d, req, resp, msg, cap);
	case CWMP_M_GET_RPC_METHODS:
		return do_get_rpc_methods(resp);
	case CWMP_M_REBOOT:
		act->act = CWMP_SIM_ACT_REBOOT;
		act->key = dup0(req->command_key);
		resp->method = CWMP_M_REBOOT_RESPONSE;
		return act->key ? 0 : E_NOMEM;
	case CWMP_M_FACTORY_RESET:
		act->act = CWMP_SIM_ACT_FACTORY_RESET;
		resp->method = CWMP_M_FACTORY_RESET_RESPONSE;
		return 0;
	case CWMP_M_DOWNLOAD:
		return do_download(req, resp, act, msg, cap);
	default:
		snprintf(msg, cap, "%s is not supported",
			 req->method == CWMP_M_UNKNOWN && req->unknown_name
				 ? req->unknown_name
				 : cwmp_method_name(req->method));
		return 9000;
	}
}

int cwmp_sim_rpc_answer(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
			struct cwmp_sim_action *act)
{
	char msg[FAULT_MSG_MAX] = "";
	memset(resp, 0, sizeof(*resp));
	memset(act, 0, sizeof(*act));
	resp->ns = req->ns;
	resp->header.hold_requests = resp->header.no_more_requests = -1;
	resp->header.session_timeout = -1;
	if (req->header.id && !(resp->header.id = strdup(req->header.id)))
		return E_NOMEM;
	int rc = dispatch(d, req, resp, act, msg, sizeof(msg));
	if (rc > 0 && resp->method != CWMP_M_FAULT) {
		cwmp_sim_action_fini(act);
		rc = set_fault(resp, (unsigned)rc, msg);
	}
	if (rc < 0) {
		cwmp_msg_free(resp);
		memset(resp, 0, sizeof(*resp));
		cwmp_sim_action_fini(act);
		return -1;
	}
	return 0;
}

int cwmp_sim_rpc_get(struct cwmp_sim_dmref *d, const char *name, char *buf, size_t cap,
		     uint16_t *param)
{
	struct node n;
	if (lookup(d, name, &n) < 0 || n.kind != N_PARAM)
		return -1;
	if (param)
		*param = n.param;
	sim_dm_get_copy(d->env, n.inst, n.param, buf, cap);
	return 0;
}

int cwmp_sim_rpc_set(struct cwmp_sim_dmref *d, const char *name, const char *value)
{
	struct node n;
	if (lookup(d, name, &n) < 0 || n.kind != N_PARAM)
		return -1;
	return sim_dm_set(n.inst, n.param, value);
}
