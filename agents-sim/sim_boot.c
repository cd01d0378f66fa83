/*
 * sim_boot.c — builds Boot!'s ParameterMap from the recipient controller's
 * BootParameter table (see sim_boot.h). Reads the agent's data model, never
 * changes it; owns nothing beyond one call. Invariant: at most
 * SIM_BOOTMAP_MAX_PARAMS entries, each parameter once. Loop thread only.
 */
#include "sim_boot.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_handlers.h"

struct map_ctx {
	struct sim_agent *a;
	struct sim_dm_env env;
	cJSON *obj;
	size_t n;
	int full; /* cap reached: stop walking */
};

static int is_true(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "1");
}

static void put_param(struct map_ctx *c, const struct dm_inst *inst, uint16_t p)
{
	const struct sim_model *m = c->env.m;
	char path[SIM_PATH_MAX], buf[SIM_VALUE_MAX];
	if (c->full || m->params[p].access == SM_WO ||
	    sim_param_path(m, inst, p, path, sizeof(path)) < 0 ||
	    cJSON_GetObjectItemCaseSensitive(c->obj, path))
		return;
	if (c->n >= SIM_BOOTMAP_MAX_PARAMS) {
		log_warn("sim", "%s: Boot! ParameterMap cut at %d parameters", c->a->eid,
			 SIM_BOOTMAP_MAX_PARAMS);
		c->full = 1;
		return;
	}
	if (cJSON_AddStringToObject(c->obj, path, sim_dm_get(&c->env, inst, p, buf, sizeof(buf))))
		c->n++;
}

/* Every parameter of obj (instantiated under inst) and below it. */
static void put_obj(struct map_ctx *c, const struct dm_inst *inst, uint16_t obj)
{
	const struct sm_obj *o = &c->env.m->objs[obj];
	for (size_t i = 0; i < o->n_params && !c->full; i++)
		put_param(c, inst, o->params[i]);
	for (size_t i = 0; i < o->n_children && !c->full; i++) {
		uint16_t ch = o->children[i];
		if (!c->env.m->objs[ch].is_table) {
			put_obj(c, inst, ch);
			continue;
		}
		for (const struct dm_inst *k = inst->child; k && !c->full; k = k->next)
			if (k->obj == ch)
				put_obj(c, k, ch);
	}
}

static void put_match(struct map_ctx *c, const struct dm_match *mt)
{
	switch (mt->kind) {
	case DM_M_PARAM:
		put_param(c, mt->inst, mt->id);
		break;
	case DM_M_OBJ:
		put_obj(c, mt->inst, mt->obj);
		break;
	case DM_M_TABLE:
		for (const struct dm_inst *k = mt->inst->child; k && !c->full; k = k->next)
			if (k->obj == mt->obj)
				put_obj(c, k, mt->obj);
		break;
	default:
		break; /* commands and events have no value */
	}
}

/* One BootParameter.{i}.ParameterName. */
static void put_name(struct map_ctx *c, const char *name)
{
	struct usp_path p;
	struct dm_matches ms = { 0 };
	char msg[256];
	if (usp_path_parse(name, &p, NULL) < 0) {
		log_debug("sim", "%s: BootParameter %s is not a valid path", c->a->eid, name);
		return;
	}
	if (sim_dm_resolve(&c->a->dm, &c->env, &p, &ms, msg, sizeof(msg)) == 0)
		for (size_t i = 0; i < ms.n && !c->full; i++)
			put_match(c, &ms.v[i]);
	else
		log_debug("sim", "%s: BootParameter %s: %s", c->a->eid, name, msg);
	sim_dm_matches_fini(&ms);
	usp_path_fini(&p);
}

char *sim_boot_parameter_map(struct sim_agent *a, struct dm_inst *ctrl)
{
	const struct sim_ids *ids = &a->w->ids;
	struct map_ctx c = { .a = a };
	char en[16], name[SIM_VALUE_MAX];
	char *out = NULL;
	sim_agent_env(a, &c.env);
	if (!(c.obj = cJSON_CreateObject()))
		return NULL;
	for (struct dm_inst *b = ctrl->child; ids->bootp != SM_NONE && b && !c.full; b = b->next) {
		if (b->obj != ids->bootp || ids->bootp_name == SM_NONE ||
		    (ids->bootp_enable != SM_NONE &&
		     !is_true(sim_dm_get(&c.env, b, ids->bootp_enable, en, sizeof(en)))))
			continue;
		sim_dm_get_copy(&c.env, b, ids->bootp_name, name, sizeof(name));
		if (name[0])
			put_name(&c, name);
	}
	out = cJSON_PrintUnformatted(c.obj);
	cJSON_Delete(c.obj);
	return out;
}
