/*
 * sim_dm.c — one agent's instance tree, its stored values, derived values
 * (template expansion of the schema's defaults) and path resolution.
 * Owned by the worker loop that owns the agent; no locks, no globals.
 * Invariants: root.obj == 0 and root.num == 0; an instance's obj is a table
 * whose nearest table ancestor is the parent instance's obj (or the root);
 * siblings of one table are in ascending num order; vals holds at most one
 * entry per param.
 */
#include "sim_dm.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t sim_dm_hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = seed ^ 0x9E3779B97F4A7C15ull;
	uint64_t in[3] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		x += in[i] + 0x9E3779B97F4A7C15ull;
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
		x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
		x ^= x >> 31;
	}
	return x;
}

void sim_dm_format_time(time_t t, char *buf, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int sim_dm_init(struct sim_dm *dm, const struct sim_model *m)
{
	memset(dm, 0, sizeof(*dm));
	dm->next_num = calloc(m->n_tables ? m->n_tables : 1, sizeof(*dm->next_num));
	if (!dm->next_num)
		return -1;
	for (size_t i = 0; i < m->n_tables; i++)
		dm->next_num[i] = 1;
	return 0;
}

static void free_vals(struct dm_inst *inst)
{
	for (size_t i = 0; i < inst->n_vals; i++)
		if (!(inst->vals[i].flags & DMV_BORROWED))
			free(inst->vals[i].v);
	free(inst->vals);
	inst->vals = NULL;
	inst->n_vals = inst->cap_vals = 0;
}

static void free_subtree(struct sim_dm *dm, struct dm_inst *inst)
{
	struct dm_inst *c = inst->child;
	while (c) {
		struct dm_inst *next = c->next;
		free_subtree(dm, c);
		free(c);
		dm->n_insts--;
		c = next;
	}
	inst->child = NULL;
	free_vals(inst);
}

void sim_dm_fini(struct sim_dm *dm)
{
	free_subtree(dm, &dm->root);
	free(dm->next_num);
	dm->next_num = NULL;
}

/* Salt identifying (instance chain, param) for per-value randomness. */
static uint64_t inst_salt(const struct dm_inst *inst, uint16_t p)
{
	uint64_t s = p;
	for (; inst; inst = inst->parent)
		s = s * 1000003u + inst->num * 31u + inst->obj;
	return s;
}

static uint32_t inst_num_at(const struct dm_inst *inst, int up)
{
	for (; inst && up > 0; up--)
		inst = inst->parent;
	return inst ? inst->num : 0;
}

/* Expand one ${name} or ${name:a:b} into out. */
static void expand_var(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		       const char *var, unsigned occ, char *out, size_t cap)
{
	uint64_t salt = inst_salt(inst, p);
	uint64_t h = sim_dm_hash(env->seed, env->index, salt, occ);
	long long lo, hi;
	unsigned nd;
	out[0] = '\0';
	if (env->var && env->var(env, var, out, cap))
		return;
	if (!strcmp(var, "n"))
		snprintf(out, cap, "%" PRIu32, env->index);
	else if (!strcmp(var, "i"))
		snprintf(out, cap, "%" PRIu32, inst_num_at(inst, 0));
	else if (!strcmp(var, "i2"))
		snprintf(out, cap, "%" PRIu32, inst_num_at(inst, 1));
	else if (!strcmp(var, "eid"))
		snprintf(out, cap, "%s", env->eid);
	else if (!strcmp(var, "agent_topic"))
		snprintf(out, cap, "%s", env->agent_topic);
	else if (!strcmp(var, "controller_id"))
		snprintf(out, cap, "%s", env->controller_id);
	else if (!strcmp(var, "controller_topic"))
		sim_topic_expand(env->controller_topic, env->eid, out, cap);
	else if (!strcmp(var, "serial"))
		snprintf(out, cap, "SIM%010" PRIX64,
			 (uint64_t)(sim_dm_hash(env->seed, env->index, 0x5e71a1, 0) &
				    0xFFFFFFFFFFull));
	else if (!strcmp(var, "mac"))
		snprintf(out, cap, "02:%02X:%02X:%02X:%02X:%02X", (unsigned)(h >> 8) & 0xFF,
			 (unsigned)(h >> 16) & 0xFF, (unsigned)(h >> 24) & 0xFF,
			 (unsigned)(h >> 32) & 0xFF, (unsigned)(h >> 40) & 0xFF);
	else if (!strcmp(var, "boot_time"))
		sim_dm_format_time(env->boot_time, out, cap);
	else if (!strcmp(var, "now"))
		sim_dm_format_time(env->now, out, cap);
	else if (sscanf(var, "rand:%lld:%lld", &lo, &hi) == 2 && hi >= lo)
		snprintf(out, cap, "%lld", lo + (long long)(h % (uint64_t)(hi - lo + 1)));
	else if (sscanf(var, "hex:%u", &nd) == 1 && nd >= 1 && nd <= 16)
		snprintf(out, cap, "%0*" PRIX64, (int)nd,
			 (uint64_t)(nd == 16 ? h : (h & ((1ull << (4 * nd)) - 1))));
	else
		snprintf(out, cap, "${%s}", var); /* unknown: left visible */
}

static void expand(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		   const char *tmpl, char *buf, size_t cap)
{
	size_t o = 0;
	char var[64], val[256];
	unsigned occ = 0;
	if (!cap)
		return;
	for (const char *s = tmpl; *s && o + 1 < cap;) {
		const char *close;
		if (s[0] == '$' && s[1] == '{' && (close = strchr(s + 2, '}')) &&
		    (size_t)(close - s - 2) < sizeof(var)) {
			memcpy(var, s + 2, (size_t)(close - s - 2));
			var[close - s - 2] = '\0';
			expand_var(env, inst, p, var, occ++, val, sizeof(val));
			size_t l = strlen(val);
			if (o + l >= cap)
				l = cap - 1 - o;
			memcpy(buf + o, val, l);
			o += l;
			s = close + 1;
		} else {
			buf[o++] = *s++;
		}
	}
	buf[o] = '\0';
}

static const struct dm_val *find_val(const struct dm_inst *inst, uint16_t p)
{
	for (size_t i = 0; i < inst->n_vals; i++)
		if (inst->vals[i].param == p)
			return &inst->vals[i];
	return NULL;
}

const char *sim_dm_get(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		       char *buf, size_t cap)
{
	const struct sm_param *sp = &env->m->params[p];
	const struct dm_val *v = find_val(inst, p);
	time_t up = env->now > env->boot_time ? env->now - env->boot_time : 0;
	switch ((enum sm_dyn)sp->dyn) {
	case SM_DYN_UPTIME:
		snprintf(buf, cap, "%lld", (long long)up);
		return buf;
	case SM_DYN_NOW:
		sim_dm_format_time(env->now, buf, cap);
		return buf;
	case SM_DYN_COUNTER: {
		expand(env, inst, p, v ? v->v : sp->def, buf, cap);
		unsigned long long base = strtoull(buf, NULL, 10);
		double add = sp->rate * env->value_rate * (double)up;
		snprintf(buf, cap, "%llu", base + (unsigned long long)add);
		return buf;
	}
	case SM_DYN_NONE:
		break;
	}
	if (v && !(v->flags & DMV_TEMPLATE))
		return v->v;
	expand(env, inst, p, v ? v->v : sp->def, buf, cap);
	return buf;
}

void sim_dm_get_copy(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		     char *buf, size_t cap)
{
	const char *v = sim_dm_get(env, inst, p, buf, cap);
	if (v != buf)
		snprintf(buf, cap, "%s", v);
}

static int set_val(struct dm_inst *inst, uint16_t p, char *v, unsigned flags)
{
	for (size_t i = 0; i < inst->n_vals; i++)
		if (inst->vals[i].param == p) {
			if (!(inst->vals[i].flags & DMV_BORROWED))
				free(inst->vals[i].v);
			inst->vals[i].v = v;
			inst->vals[i].flags = (uint8_t)flags;
			return 0;
		}
	if (inst->n_vals == inst->cap_vals) {
		if (inst->cap_vals >= 4096)
			return -1;
		uint16_t nc = inst->cap_vals ? (uint16_t)(inst->cap_vals * 2) : 4;
		struct dm_val *nv = realloc(inst->vals, nc * sizeof(*nv));
		if (!nv)
			return -1;
		inst->vals = nv;
		inst->cap_vals = nc;
	}
	inst->vals[inst->n_vals].param = p;
	inst->vals[inst->n_vals].flags = (uint8_t)flags;
	inst->vals[inst->n_vals++].v = v;
	return 0;
}

int sim_dm_set(struct dm_inst *inst, uint16_t p, const char *value)
{
	char *v = strdup(value);
	if (!v || set_val(inst, p, v, 0) < 0) {
		free(v);
		return -1;
	}
	return 0;
}

int sim_dm_set_template(struct dm_inst *inst, uint16_t p, const char *tmpl)
{
	char *v = strdup(tmpl);
	if (!v || set_val(inst, p, v, DMV_TEMPLATE) < 0) {
		free(v);
		return -1;
	}
	return 0;
}

int sim_dm_is_stored(const struct dm_inst *inst, uint16_t p)
{
	return find_val(inst, p) != NULL;
}

void sim_dm_drop_volatile(const struct sim_model *m, struct dm_inst *inst)
{
	size_t o = 0;
	for (size_t i = 0; i < inst->n_vals; i++) {
		if (!m->params[inst->vals[i].param].persist) {
			if (!(inst->vals[i].flags & DMV_BORROWED))
				free(inst->vals[i].v);
			continue;
		}
		inst->vals[o++] = inst->vals[i];
	}
	inst->n_vals = (uint16_t)o;
}

struct dm_inst *sim_dm_child(const struct dm_inst *parent, uint16_t table, uint32_t num)
{
	for (struct dm_inst *c = parent->child; c; c = c->next)
		if (c->obj == table && c->num == num)
			return c;
	return NULL;
}

size_t sim_dm_count(const struct dm_inst *parent, uint16_t table)
{
	size_t n = 0;
	for (struct dm_inst *c = parent->child; c; c = c->next)
		n += (c->obj == table);
	return n;
}

/* Factory sub-instances of every counted table directly below inst. */
static int add_counted(struct sim_dm *dm, const struct sim_model *m, struct dm_inst *inst,
		       uint16_t obj)
{
	const struct sm_obj *o = &m->objs[obj];
	for (size_t i = 0; i < o->n_children; i++) {
		uint16_t c = o->children[i];
		if (!m->objs[c].is_table) {
			if (add_counted(dm, m, inst, c) < 0)
				return -1;
			continue;
		}
		for (uint32_t k = 0; k < m->objs[c].count; k++)
			if (!sim_dm_add(dm, m, inst, c, 0))
				return -1;
	}
	return 0;
}

static struct dm_inst *add_inst(struct sim_dm *dm, const struct sim_model *m,
				struct dm_inst *parent, uint16_t table, uint32_t num, int factory);

struct dm_inst *sim_dm_add(struct sim_dm *dm, const struct sim_model *m, struct dm_inst *parent,
			   uint16_t table, uint32_t num)
{
	return add_inst(dm, m, parent, table, num, 1);
}

struct dm_inst *sim_dm_add_bare(struct sim_dm *dm, const struct sim_model *m,
				struct dm_inst *parent, uint16_t table, uint32_t num)
{
	return add_inst(dm, m, parent, table, num, 0);
}

uint32_t sim_dm_next_num(const struct sim_dm *dm, const struct sim_model *m,
			 const struct dm_inst *parent, uint16_t table)
{
	const struct sm_obj *t = &m->objs[table];
	uint32_t num = 0;
	if (m->objs[t->parent].table != SM_NONE) {
		for (struct dm_inst *c = parent->child; c; c = c->next)
			if (c->obj == table && c->num > num)
				num = c->num;
		return num + 1;
	}
	num = dm->next_num[t->tidx];
	while (sim_dm_child(parent, table, num))
		num++;
	return num;
}

static struct dm_inst *add_inst(struct sim_dm *dm, const struct sim_model *m,
				struct dm_inst *parent, uint16_t table, uint32_t num, int factory)
{
	const struct sm_obj *t = &m->objs[table];
	if (!t->is_table || sim_dm_count(parent, table) >= t->max_instances)
		return NULL;
	if (num == 0 && m->objs[t->parent].table != SM_NONE) {
		/* nested table: numbered per parent instance, like a real agent */
		for (struct dm_inst *c = parent->child; c; c = c->next)
			if (c->obj == table && c->num > num)
				num = c->num;
		num++;
	} else if (num == 0) {
		num = dm->next_num[t->tidx];
		while (sim_dm_child(parent, table, num))
			num++;
	} else if (sim_dm_child(parent, table, num)) {
		return NULL;
	}
	struct dm_inst *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->parent = parent;
	n->num = num;
	n->obj = table;
	if (num >= dm->next_num[t->tidx])
		dm->next_num[t->tidx] = num + 1;
	/* keep siblings of one table in ascending order */
	struct dm_inst **pp = &parent->child;
	while (*pp && !((*pp)->obj == table && (*pp)->num > num))
		pp = &(*pp)->next;
	n->next = *pp;
	*pp = n;
	dm->n_insts++;
	if (factory && add_counted(dm, m, n, table) < 0) {
		sim_dm_delete(dm, n);
		return NULL;
	}
	return n;
}

int sim_dm_refill(struct sim_dm *dm, const struct sim_model *m, struct dm_inst *parent,
		  uint16_t table)
{
	for (uint32_t k = 0; k < m->objs[table].count; k++)
		if (!sim_dm_add(dm, m, parent, table, k + 1))
			return -1;
	return 0;
}

void sim_dm_delete(struct sim_dm *dm, struct dm_inst *inst)
{
	struct dm_inst **pp = &inst->parent->child;
	while (*pp && *pp != inst)
		pp = &(*pp)->next;
	if (*pp)
		*pp = inst->next;
	free_subtree(dm, inst);
	free(inst);
	dm->n_insts--;
}

int sim_dm_obj_path(const struct sim_model *m, const struct dm_inst *inst, uint16_t obj, char *buf,
		    size_t cap)
{
	uint16_t chain[64];
	size_t n = 0;
	for (uint16_t o = obj; o != SM_NONE && n < 64; o = m->objs[o].parent)
		chain[n++] = o;
	size_t len = 0;
	for (size_t k = n; k-- > 0;) {
		const struct sm_obj *o = &m->objs[chain[k]];
		int w;
		if (o->is_table) {
			const struct dm_inst *i = inst;
			while (i && i->obj != chain[k])
				i = i->parent;
			w = snprintf(buf + len, cap - len, "%s.%" PRIu32 ".", o->name,
				     i ? i->num : 0);
		} else {
			w = snprintf(buf + len, cap - len, "%s.", o->name);
		}
		if (w < 0 || (size_t)w >= cap - len)
			return -1;
		len += (size_t)w;
	}
	return (int)len;
}

struct dm_inst *sim_dm_find(struct sim_dm *dm, const struct sim_model *m, const char *path,
			    uint16_t *obj_out)
{
	if (strncmp(path, "Device.", 7) && strcmp(path, "Device"))
		return NULL;
	struct dm_inst *inst = &dm->root;
	uint16_t obj = 0;
	int need_num = 0;
	char name[128];
	for (const char *s = path + (path[6] ? 7 : 6); *s;) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l >= sizeof(name))
			return NULL;
		memcpy(name, s, l);
		name[l] = '\0';
		if (need_num) {
			char *end;
			unsigned long num = strtoul(name, &end, 10);
			if (*end || !isdigit((unsigned char)name[0]))
				return NULL;
			inst = sim_dm_child(inst, obj, (uint32_t)num);
			if (!inst)
				return NULL;
			need_num = 0;
		} else {
			obj = sim_model_child(m, obj, name);
			if (obj == SM_NONE)
				return NULL;
			need_num = m->objs[obj].is_table;
		}
		s += l + (dot ? 1 : 0);
	}
	if (need_num)
		return NULL;
	if (obj_out)
		*obj_out = obj;
	return inst;
}

/* Build the factory tree. */
int sim_dm_factory(struct sim_dm *dm, const struct sim_dm_env *env)
{
	const struct sim_model *m = env->m;
	if (add_counted(dm, m, &dm->root, 0) < 0)
		return -1;
	for (size_t i = 0; i < m->n_finsts; i++) {
		const struct sm_factory_inst *fi = &m->finsts[i];
		/* parent must exist; create the instance itself if missing */
		char parent[SIM_PATH_MAX];
		size_t len = strlen(fi->path);
		if (len >= sizeof(parent))
			return -1;
		memcpy(parent, fi->path, len + 1);
		parent[len - 1] = '\0';
		char *dot = strrchr(parent, '.');
		if (!dot)
			return -1;
		uint32_t num = (uint32_t)strtoul(dot + 1, NULL, 10);
		*dot = '\0';
		dot = strrchr(parent, '.');
		if (!dot)
			return -1;
		dot[1] = '\0';
		struct dm_inst *pi = sim_dm_find(dm, m, parent, NULL);
		if (!pi)
			return -1;
		struct dm_inst *inst = sim_dm_child(pi, fi->obj, num);
		if (!inst && !(inst = sim_dm_add(dm, m, pi, fi->obj, num)))
			return -1;
		for (size_t k = 0; k < fi->n_vals; k++)
			if (set_val(inst, fi->vals[k].param, fi->vals[k].value,
				    DMV_TEMPLATE | DMV_BORROWED) < 0)
				return -1;
	}
	return 0;
}

void sim_dm_matches_fini(struct dm_matches *ms)
{
	free(ms->v);
	ms->v = NULL;
	ms->n = ms->cap = 0;
}

static int push_match(struct dm_matches *ms, struct dm_inst *inst, uint16_t obj, uint16_t id,
		      uint8_t kind)
{
	if (ms->n == ms->cap) {
		size_t nc = ms->cap ? ms->cap * 2 : 8;
		struct dm_match *nv = realloc(ms->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		ms->v = nv;
		ms->cap = nc;
	}
	ms->v[ms->n++] = (struct dm_match){ .inst = inst, .obj = obj, .id = id, .kind = kind };
	return 0;
}

/* Schema-only walk: every name exists, selectors follow tables, search
 * parameters exist. Independent of instances. */
static int check_schema(const struct sim_model *m, const struct usp_path *p, char *msg, size_t cap)
{
	uint16_t obj = 0;
	int at_table = 0;
	for (size_t i = 1; i < p->n_segs; i++) {
		const struct usp_path_seg *s = &p->segs[i];
		int last = (i + 1 == p->n_segs);
		if (s->kind != USP_SEG_NAME) {
			if (!at_table) {
				snprintf(msg, cap, "segment %zu selects an instance of a non-table",
					 i);
				return USP_ERR_INVALID_PATH;
			}
			at_table = 0;
			for (size_t c = 0; s->kind == USP_SEG_EXPR && c < s->n_conds; c++)
				if (sim_model_rel_param(m, obj, s->conds[c].param, NULL) ==
				    SM_NONE) {
					snprintf(msg, cap, "search parameter '%s' does not exist",
						 s->conds[c].param);
					return USP_ERR_INVALID_PATH;
				}
			continue;
		}
		if (at_table) {
			snprintf(msg, cap, "'%s' follows table '%s' without an instance", s->name,
				 m->objs[obj].name);
			return USP_ERR_INVALID_PATH;
		}
		uint16_t found = SM_NONE;
		if (last && p->kind == USP_PATH_PARAM)
			found = sim_model_param(m, obj, s->name);
		else if (last && p->kind == USP_PATH_COMMAND)
			found = sim_model_cmd(m, obj, s->name);
		else if (last && p->kind == USP_PATH_EVENT)
			found = sim_model_event(m, obj, s->name);
		else if ((found = sim_model_child(m, obj, s->name)) != SM_NONE) {
			obj = found;
			at_table = m->objs[obj].is_table;
		}
		if (found == SM_NONE) {
			snprintf(msg, cap, "'%s' is not in the supported data model of %s", s->name,
				 m->objs[obj].path);
			return USP_ERR_INVALID_PATH;
		}
	}
	return 0;
}

int sim_dm_inst_matches(const struct sim_dm_env *env, const struct dm_inst *c,
			const struct usp_path_seg *s)
{
	char buf[SIM_VALUE_MAX];
	if (s->kind == USP_SEG_WILDCARD)
		return 1;
	if (s->kind == USP_SEG_INSTANCE)
		return c->num == s->instance;
	for (size_t k = 0; k < s->n_conds; k++) {
		uint16_t p = sim_model_rel_param(env->m, c->obj, s->conds[k].param, NULL);
		if (p == SM_NONE)
			return 0;
		const char *v = sim_dm_get(env, c, p, buf, sizeof(buf));
		if (!usp_path_cond_match(&s->conds[k], v))
			return 0;
	}
	return 1;
}

/* One step of the instance walk: cur → next for segment s. */
static int step(struct sim_dm *dm, const struct sim_dm_env *env, const struct usp_path *p, size_t i,
		struct dm_matches *cur, struct dm_matches *next, char *msg, size_t cap)
{
	const struct sim_model *m = env->m;
	const struct usp_path_seg *s = &p->segs[i];
	int last = (i + 1 == p->n_segs);
	(void)dm;
	for (size_t k = 0; k < cur->n; k++) {
		struct dm_match *c = &cur->v[k];
		if (s->kind == USP_SEG_NAME) {
			uint16_t id;
			int rc;
			if (last && p->kind == USP_PATH_PARAM)
				rc = push_match(next, c->inst, c->obj,
						sim_model_param(m, c->obj, s->name), DM_M_PARAM);
			else if (last && p->kind == USP_PATH_COMMAND)
				rc = push_match(next, c->inst, c->obj,
						sim_model_cmd(m, c->obj, s->name), DM_M_CMD);
			else if (last && p->kind == USP_PATH_EVENT)
				rc = push_match(next, c->inst, c->obj,
						sim_model_event(m, c->obj, s->name), DM_M_EVENT);
			else {
				id = sim_model_child(m, c->obj, s->name);
				rc = push_match(next, c->inst, id, 0,
						m->objs[id].is_table ? DM_M_TABLE : DM_M_OBJ);
			}
			if (rc < 0)
				return USP_ERR_INTERNAL_ERROR;
			continue;
		}
		size_t before = next->n;
		for (struct dm_inst *ch = c->inst->child; ch; ch = ch->next)
			if (ch->obj == c->obj && sim_dm_inst_matches(env, ch, s) &&
			    push_match(next, ch, c->obj, 0, DM_M_OBJ) < 0)
				return USP_ERR_INTERNAL_ERROR;
		if (s->kind == USP_SEG_INSTANCE && next->n == before && !p->is_search) {
			char path[SIM_PATH_MAX];
			int l = sim_dm_obj_path(m, c->inst, m->objs[c->obj].parent, path,
						sizeof(path));
			snprintf(msg, cap, "%.*s%s.%" PRIu32 ". does not exist", l > 0 ? l : 0,
				 path, m->objs[c->obj].name, s->instance);
			return USP_ERR_OBJECT_DOES_NOT_EXIST;
		}
	}
	return 0;
}

int sim_dm_resolve(struct sim_dm *dm, const struct sim_dm_env *env, const struct usp_path *p,
		   struct dm_matches *out, char *msg, size_t cap)
{
	struct dm_matches a = { 0 }, b = { 0 };
	int rc = check_schema(env->m, p, msg, cap);
	if (rc)
		return rc;
	if (push_match(&a, &dm->root, 0, 0, DM_M_OBJ) < 0)
		return USP_ERR_INTERNAL_ERROR;
	for (size_t i = 1; i < p->n_segs && a.n; i++) {
		b.n = 0;
		rc = step(dm, env, p, i, &a, &b, msg, cap);
		if (rc)
			goto out;
		struct dm_matches t = a;
		a = b;
		b = t;
	}
	for (size_t k = 0; k < a.n; k++)
		if (push_match(out, a.v[k].inst, a.v[k].obj, a.v[k].id, a.v[k].kind) < 0) {
			rc = USP_ERR_INTERNAL_ERROR;
			goto out;
		}
out:
	sim_dm_matches_fini(&a);
	sim_dm_matches_fini(&b);
	return rc;
}

int sim_topic_pattern_ok(const char *pat)
{
	int eids = 0;
	size_t n = strlen(pat);
	if (n == 0 || n >= SIM_TOPIC_MAX || strpbrk(pat, "+#"))
		return 0;
	for (const char *s = pat; *s; s++) {
		if (*s != '%')
			continue;
		if (s[1] == 's')
			eids++;
		else if (s[1] != '%')
			return 0;
		s++;
	}
	return eids <= 1;
}

int sim_index_pattern_ok(const char *pat, int min_convs)
{
	int convs = 0;
	for (const char *s = pat; *s; s++) {
		if (*s != '%')
			continue;
		if (s[1] == '%') {
			s++;
			continue;
		}
		s++;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s != 'd' && *s != 'u')
			return 0;
		convs++;
	}
	return convs <= 1 && convs >= min_convs && strlen(pat) < SIM_INDEX_PATTERN_MAX;
}

void sim_index_expand(const char *pat, uint32_t index, char *buf, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (const char *s = pat; *s && o + 1 < cap; s++) {
		if (*s != '%') {
			buf[o++] = *s;
			continue;
		}
		if (s[1] == '%') {
			buf[o++] = '%';
			s++;
			continue;
		}
		int zero = 0, width = 0;
		const char *p = s + 1;
		if (*p == '0')
			zero = 1;
		while (*p >= '0' && *p <= '9' && width < 64)
			width = width * 10 + (*p++ - '0');
		if (*p != 'd' && *p != 'u') { /* not a conversion: copied as is */
			buf[o++] = *s;
			continue;
		}
		int w = zero ? snprintf(buf + o, cap - o, "%0*" PRIu32, width, index)
			     : snprintf(buf + o, cap - o, "%*" PRIu32, width, index);
		o += w > 0 ? (size_t)w : 0;
		if (o >= cap)
			o = cap - 1;
		s = p;
	}
	buf[o] = '\0';
}

void sim_topic_expand(const char *pat, const char *eid, char *buf, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (const char *s = pat; *s && o + 1 < cap; s++) {
		if (s[0] == '%' && s[1] == 's') {
			for (const char *e = eid; *e && o + 1 < cap; e++)
				buf[o++] = *e;
			s++;
			continue;
		}
		if (s[0] == '%' && s[1] == '%')
			s++;
		buf[o++] = *s;
	}
	buf[o] = '\0';
}
