/*
 * sim_state.c — one agent's persistent state as a line-oriented text file:
 *   uspc-sim-state 1
 *   boot =<cause> =<0|1 firmware updated> =<command key>
 *   activate =<command path> =<command key> =<originator>
 *   next <table path in {i} form> <next instance number>
 *   inst <instance path>
 *   val <parameter path> =<value>       (a literal value)
 *   tval <parameter path> =<template>    (a template, expanded on read)
 * Fields after '=' are percent-encoded (space, '%', '=', control bytes).
 * Instances come parent first. Written to <file>.tmp and renamed, so a
 * crash leaves the old or the new file, never half of one.
 * Loop thread of the agent's worker.
 */
#include "sim_state.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_handlers.h"

void sim_state_path(const struct sim_agent *a, char *buf, size_t cap)
{
	char name[256];
	size_t o = 0;
	for (const char *s = a->eid; *s && o + 1 < sizeof(name); s++)
		name[o++] = (isalnum((unsigned char)*s) || *s == '-' || *s == '.' || *s == '_')
				    ? *s
				    : '_';
	name[o] = '\0';
	snprintf(buf, cap, "%s/%s.state", a->w->cfg->state_dir, name);
}

static void put_enc(FILE *f, const char *s)
{
	fputc('=', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == '%' || c == '=' || c == 0x7f)
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

/* Decode "=..." in place; returns the string or NULL. */
static char *dec(char *s)
{
	if (!s || *s != '=')
		return NULL;
	char *o = s, *r = s + 1;
	while (*r) {
		if (r[0] == '%' && isxdigit((unsigned char)r[1]) && isxdigit((unsigned char)r[2])) {
			char hex[3] = { r[1], r[2], 0 };
			*o++ = (char)strtoul(hex, NULL, 16);
			r += 3;
		} else {
			*o++ = *r++;
		}
	}
	*o = '\0';
	return s;
}

static int inst_persists(struct sim_agent *a, const struct dm_inst *inst)
{
	const struct sim_model *m = a->w->model;
	const struct sim_ids *ids = &a->w->ids;
	if (!m->objs[inst->obj].persist)
		return 0;
	if (inst->obj == ids->sub && ids->sub_persistent != SM_NONE) {
		struct sim_dm_env env;
		char buf[16];
		sim_agent_env(a, &env);
		const char *v = sim_dm_get(&env, inst, ids->sub_persistent, buf, sizeof(buf));
		return !strcmp(v, "true") || !strcmp(v, "1");
	}
	return 1;
}

static void save_inst(struct sim_agent *a, FILE *f, const struct dm_inst *inst)
{
	const struct sim_model *m = a->w->model;
	char path[SIM_PATH_MAX];
	if (inst != &a->dm.root) {
		if (!inst_persists(a, inst))
			return;
		sim_dm_obj_path(m, inst, inst->obj, path, sizeof(path));
		fprintf(f, "inst %s\n", path);
	}
	for (size_t i = 0; i < inst->n_vals; i++) {
		const struct dm_val *v = &inst->vals[i];
		if (!m->params[v->param].persist ||
		    sim_param_path(m, inst, v->param, path, sizeof(path)) < 0)
			continue;
		fprintf(f, "%s %s ", (v->flags & DMV_TEMPLATE) ? "tval" : "val", path);
		put_enc(f, v->v);
		fputc('\n', f);
	}
	for (const struct dm_inst *c = inst->child; c; c = c->next)
		save_inst(a, f, c);
}

int sim_state_save(struct sim_agent *a)
{
	const struct sim_model *m = a->w->model;
	char path[1024], tmp[1100];
	sim_state_path(a, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("sim", "%s: cannot write %s: %s", a->eid, tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "uspc-sim-state 1\n");
	if (a->boot_cause) {
		fprintf(f, "boot ");
		put_enc(f, a->boot_cause);
		fprintf(f, " =%d ", a->boot_fw_updated ? 1 : 0);
		put_enc(f, a->boot_key);
		fputc('\n', f);
	}
	if (a->activate_path) {
		fprintf(f, "activate ");
		put_enc(f, a->activate_path);
		fputc(' ', f);
		put_enc(f, a->activate_key);
		fputc(' ', f);
		put_enc(f, a->activate_originator);
		fputc('\n', f);
	}
	for (size_t t = 0; t < m->n_objs; t++)
		if (m->objs[t].is_table)
			fprintf(f, "next %s %" PRIu32 "\n", m->objs[t].path,
				a->dm.next_num[m->objs[t].tidx]);
	save_inst(a, f, &a->dm.root);
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		log_warn("sim", "%s: cannot write %s: %s", a->eid, path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

/* Remove every instance of a persistent table: the file says which exist. */
static void clear_persistent(struct sim_agent *a, struct dm_inst *inst)
{
	const struct sim_model *m = a->w->model;
	for (struct dm_inst *c = inst->child, *next; c; c = next) {
		next = c->next;
		if (m->objs[c->obj].persist)
			sim_dm_delete(&a->dm, c);
		else
			clear_persistent(a, c);
	}
}

static int load_inst(struct sim_agent *a, char *path)
{
	const struct sim_model *m = a->w->model;
	size_t l = strlen(path);
	if (l < 4 || path[l - 1] != '.')
		return -1;
	path[l - 1] = '\0';
	char *dot = strrchr(path, '.');
	if (!dot)
		return -1;
	char *end;
	unsigned long num = strtoul(dot + 1, &end, 10);
	if (*end || !num || num > UINT32_MAX)
		return -1;
	dot[0] = '\0'; /* path is now "...Table" */
	char *tdot = strrchr(path, '.');
	if (!tdot)
		return -1;
	char tname[128];
	snprintf(tname, sizeof(tname), "%s", tdot + 1);
	tdot[1] = '\0';
	uint16_t pobj;
	struct dm_inst *parent = sim_dm_find(&a->dm, m, path, &pobj);
	if (!parent)
		return -1;
	uint16_t table = sim_model_child(m, pobj, tname);
	if (table == SM_NONE || !m->objs[table].is_table)
		return -1;
	if (sim_dm_child(parent, table, (uint32_t)num))
		return 0;
	return sim_dm_add_bare(&a->dm, m, parent, table, (uint32_t)num) ? 0 : -1;
}

static int load_val(struct sim_agent *a, char *path, char *value, int tmpl)
{
	const struct sim_model *m = a->w->model;
	char *dot = strrchr(path, '.');
	if (!dot || !value)
		return -1;
	char name[128];
	snprintf(name, sizeof(name), "%s", dot + 1);
	dot[1] = '\0';
	uint16_t obj;
	struct dm_inst *inst = sim_dm_find(&a->dm, m, path, &obj);
	if (!inst)
		return -1;
	uint16_t p = sim_model_param(m, obj, name);
	if (p == SM_NONE)
		return -1;
	return tmpl ? sim_dm_set_template(inst, p, value) : sim_dm_set(inst, p, value);
}

static int load_line(struct sim_agent *a, char *line)
{
	char *save = NULL;
	char *kw = strtok_r(line, " ", &save);
	char *f1 = strtok_r(NULL, " ", &save);
	char *f2 = strtok_r(NULL, " ", &save);
	char *f3 = strtok_r(NULL, " ", &save);
	if (!kw)
		return 0;
	if (!strcmp(kw, "inst"))
		return f1 ? load_inst(a, f1) : -1;
	if (!strcmp(kw, "val") || !strcmp(kw, "tval"))
		return f1 ? load_val(a, f1, dec(f2), kw[0] == 't') : -1;
	if (!strcmp(kw, "next")) {
		uint16_t t = f1 ? sim_model_find_obj(a->w->model, f1) : SM_NONE;
		if (t == SM_NONE || !a->w->model->objs[t].is_table || !f2)
			return -1;
		unsigned long n = strtoul(f2, NULL, 10);
		if (n > a->dm.next_num[a->w->model->objs[t].tidx] && n < UINT32_MAX)
			a->dm.next_num[a->w->model->objs[t].tidx] = (uint32_t)n;
		return 0;
	}
	if (!strcmp(kw, "boot")) {
		char *cause = dec(f1), *fw = dec(f2), *key = dec(f3);
		if (!cause || !fw || !key)
			return -1;
		free(a->boot_cause);
		free(a->boot_key);
		a->boot_cause = strdup(cause);
		a->boot_key = strdup(key);
		a->boot_fw_updated = fw[0] == '1';
		return 0;
	}
	if (!strcmp(kw, "activate")) {
		char *p = dec(f1), *k = dec(f2), *o = dec(f3);
		if (!p || !k || !o)
			return -1;
		free(a->activate_path);
		free(a->activate_key);
		free(a->activate_originator);
		a->activate_path = strdup(p);
		a->activate_key = strdup(k);
		a->activate_originator = strdup(o);
		return 0;
	}
	return -1;
}

int sim_state_load(struct sim_agent *a)
{
	char path[1024];
	sim_state_path(a, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 1 : -1;
	char *line = malloc(SIM_VALUE_MAX * 3 + SIM_PATH_MAX + 64);
	size_t cap = SIM_VALUE_MAX * 3 + SIM_PATH_MAX + 64;
	int lineno = 0, rc = 0;
	long total = 0;
	if (!line) {
		fclose(f);
		return -1;
	}
	while (fgets(line, (int)cap, f)) {
		lineno++;
		total += (long)strlen(line);
		if (total > (long)SIM_STATE_MAX_FILE) {
			log_warn("sim", "%s: %s is larger than %u bytes; rest ignored", a->eid,
				 path, SIM_STATE_MAX_FILE);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "uspc-sim-state 1")) {
				rc = -1;
				break;
			}
			clear_persistent(a, &a->dm.root);
			continue;
		}
		if (load_line(a, line) < 0)
			log_warn("sim", "%s: %s:%d: ignored (does not match the model)", a->eid,
				 path, lineno);
	}
	free(line);
	fclose(f);
	return rc;
}
