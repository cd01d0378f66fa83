/*
 * cwmp_sim_state.c — a CPE's state file (see cwmp_sim_state.h):
 *   uspc-cwmp-sim-state 1
 *   val <parameter path> =<value>
 *   tc =<command key> =<fault code> =<fault string> =<start> =<complete>
 * Fields after '=' are percent-encoded (space, '%', '=', control bytes).
 * Loop thread of the CPE's worker.
 */
#include "cwmp_sim_state.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define STATE_LINE_MAX 8192

static int path_of(const struct cwmp_cpe *c, char *buf, size_t cap)
{
	const char *dir = c->w->cfg->state_dir;
	char name[256];
	size_t o = 0;
	if (!dir)
		return -1;
	for (const char *s = c->eid; *s && o + 1 < sizeof(name); s++)
		name[o++] = (isalnum((unsigned char)*s) || *s == '-' || *s == '.' || *s == '_')
				    ? *s
				    : '_';
	name[o] = '\0';
	int n = snprintf(buf, cap, "%s/%s.cwmp-state", dir, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void put_enc(FILE *f, const char *s)
{
	fputc('=', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= ' ' || ch == '%' || ch == '=' || ch == 0x7f)
			fprintf(f, "%%%02X", ch);
		else
			fputc(ch, f);
	}
}

/* Next "=field" of *s decoded in place; NULL if none. */
static char *next_field(char **s)
{
	char *p = *s;
	while (*p == ' ')
		p++;
	if (*p != '=')
		return NULL;
	char *start = ++p, *o = start;
	while (*p && *p != ' ' && *p != '\n') {
		if (p[0] == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
			char hex[3] = { p[1], p[2], 0 };
			*o++ = (char)strtoul(hex, NULL, 16);
			p += 3;
		} else {
			*o++ = *p++;
		}
	}
	if (*p)
		p++;
	*o = '\0';
	*s = p;
	return start;
}

static void load_tc(struct cwmp_cpe *c, char *rest)
{
	char *key = next_field(&rest), *code = next_field(&rest), *str = next_field(&rest);
	char *start = next_field(&rest), *done = next_field(&rest);
	if (!key || !code || !str || !start || !done)
		return;
	struct cwmp_cpe_tc *tc = calloc(1, sizeof(*tc));
	if (!tc)
		return;
	tc->key = strdup(key);
	tc->string = strdup(str);
	tc->code = (unsigned)strtoul(code, NULL, 10);
	snprintf(tc->start, sizeof(tc->start), "%s", start);
	snprintf(tc->complete, sizeof(tc->complete), "%s", done);
	if (!tc->key || !tc->string) {
		free(tc->key);
		free(tc->string);
		free(tc);
		return;
	}
	c->tc = tc;
}

int cwmp_sim_state_load(struct cwmp_cpe *c)
{
	char path[1024], line[STATE_LINE_MAX];
	if (path_of(c, path, sizeof(path)) < 0)
		return 1;
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? 1 : -1;
	struct sim_dm_env env;
	struct cwmp_sim_dmref d = { .dm = &c->dm, .env = &env, .attrs = &c->attrs };
	cwmp_cpe_env(c, &env);
	if (!fgets(line, sizeof(line), f) || strncmp(line, "uspc-cwmp-sim-state 1", 21)) {
		log_warn("cwmp-sim", "%s: not a state file; starting from the factory", path);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *rest;
		if (!strncmp(line, "val ", 4)) {
			char *name = line + 4, *sp = strchr(name, ' ');
			if (!sp)
				continue;
			*sp = '\0';
			rest = sp + 1;
			char *v = next_field(&rest);
			if (v && cwmp_sim_rpc_set(&d, name, v) < 0)
				log_debug("cwmp-sim", "%s: %s is gone from the model", path, name);
		} else if (!strncmp(line, "tc ", 3)) {
			load_tc(c, line + 3);
		}
	}
	fclose(f);
	return 0;
}

int cwmp_sim_state_save(struct cwmp_cpe *c)
{
	char path[1024], tmp[1100];
	c->dirty = 0;
	if (path_of(c, path, sizeof(path)) < 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("cwmp-sim", "%s: %s", tmp, strerror(errno));
		return -1;
	}
	const struct sim_model *m = c->w->model;
	const struct dm_inst *root = &c->dm.root;
	fprintf(f, "uspc-cwmp-sim-state 1\n");
	for (size_t i = 0; i < root->n_vals; i++) {
		const struct dm_val *v = &root->vals[i];
		if (v->flags & DMV_TEMPLATE)
			continue;
		const struct sm_param *p = &m->params[v->param];
		fprintf(f, "val %s%s ", m->objs[p->obj].path, p->name);
		put_enc(f, v->v);
		fputc('\n', f);
	}
	if (c->tc) {
		fprintf(f, "tc ");
		put_enc(f, c->tc->key);
		fprintf(f, " =%u ", c->tc->code);
		put_enc(f, c->tc->string);
		fputc(' ', f);
		put_enc(f, c->tc->start);
		fputc(' ', f);
		put_enc(f, c->tc->complete);
		fputc('\n', f);
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		log_warn("cwmp-sim", "%s: cannot write: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

void cwmp_sim_state_remove(struct cwmp_cpe *c)
{
	char path[1024];
	if (path_of(c, path, sizeof(path)) == 0)
		remove(path);
}
