/*
 * sim_model.c — loads the simulator's data-model file into an immutable
 * struct sim_model (objects, parameters, commands, events, factory
 * instances). Owns nothing at run time; called once at start-up by the
 * main thread before workers fork. Invariants after a successful load:
 * objs[0] is "Device."; every object's parent precedes it; every id stored
 * in an object's lists is valid; key sets name params of that table.
 */
#include "sim_model.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 96

struct parse_ctx {
	struct sim_model *m;
	const char *name;
	int line;
	struct uspc_err *err;
};

static int perr(struct parse_ctx *c, const char *fmt, const char *arg)
	__attribute__((format(printf, 2, 0)));
static int perr(struct parse_ctx *c, const char *fmt, const char *arg)
{
	char what[200];
	/* fmt is always one of this file's literals with at most one %s */
	const char *pct = strstr(fmt, "%s");
	if (pct)
		snprintf(what, sizeof(what), "%.*s%.80s%s", (int)(pct - fmt), fmt, arg ? arg : "",
			 pct + 2);
	else
		snprintf(what, sizeof(what), "%s", fmt);
	return uspc_err_set(c->err, -1, "%s:%d: %s", c->name, c->line, what);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	if (n >= SM_MAX_ITEMS)
		return -1;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);
	if (!p)
		return -1;
	memset((char *)p + *cap * elem, 0, (nc - *cap) * elem);
	*arr = p;
	*cap = nc;
	return 0;
}

static int push_id(uint16_t **arr, size_t *n, uint16_t id)
{
	uint16_t *p = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!p)
		return -1;
	p[(*n)++] = id;
	*arr = p;
	return 0;
}

/* Split a line into tokens in place. A token is a run of non-blanks; a
 * double-quoted part ("a b") may contain blanks, \" and \\. Returns the
 * count, or -1 on an unterminated quote. */
static int tokenize(char *s, char **tok, int max)
{
	int n = 0;
	while (*s) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			break;
		if (n == max)
			return -1;
		char *out = s;
		tok[n++] = out;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s != '"') {
				*out++ = *s++;
				continue;
			}
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
					s++;
				*out++ = *s++;
			}
			if (*s != '"')
				return -1;
			s++;
		}
		if (*s)
			s++;
		*out = '\0';
	}
	return n;
}

/* Value of "key=..." among tokens [from, n), or NULL. */
static const char *attr(char **tok, int n, int from, const char *key)
{
	size_t kl = strlen(key);
	for (int i = from; i < n; i++)
		if (!strncmp(tok[i], key, kl) && tok[i][kl] == '=')
			return tok[i] + kl + 1;
	return NULL;
}

static int check_attrs(struct parse_ctx *c, char **tok, int n, int from, const char *const *known)
{
	for (int i = from; i < n; i++) {
		const char *eq = strchr(tok[i], '=');
		size_t kl = eq ? (size_t)(eq - tok[i]) : strlen(tok[i]);
		int ok = 0;
		for (const char *const *k = known; *k; k++)
			if (strlen(*k) == kl && !strncmp(*k, tok[i], kl))
				ok = 1;
		if (!ok || !eq)
			return perr(c, "unknown or malformed attribute '%s'", tok[i]);
	}
	return 0;
}

static int parse_uint(const char *s, uint32_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

uint16_t sim_model_find_obj(const struct sim_model *m, const char *path)
{
	size_t len = strlen(path);
	for (size_t i = 0; i < m->n_objs; i++) {
		const char *p = m->objs[i].path;
		if (!strcmp(p, path))
			return (uint16_t)i;
		/* a table may be named without its trailing "{i}." */
		size_t pl = strlen(p);
		if (m->objs[i].is_table && pl == len + 4 && !strncmp(p, path, len))
			return (uint16_t)i;
	}
	return SM_NONE;
}

uint16_t sim_model_child(const struct sim_model *m, uint16_t obj, const char *name)
{
	const struct sm_obj *o = &m->objs[obj];
	for (size_t i = 0; i < o->n_children; i++)
		if (!strcmp(m->objs[o->children[i]].name, name))
			return o->children[i];
	return SM_NONE;
}

uint16_t sim_model_param(const struct sim_model *m, uint16_t obj, const char *name)
{
	const struct sm_obj *o = &m->objs[obj];
	for (size_t i = 0; i < o->n_params; i++)
		if (!strcmp(m->params[o->params[i]].name, name))
			return o->params[i];
	return SM_NONE;
}

uint16_t sim_model_cmd(const struct sim_model *m, uint16_t obj, const char *name)
{
	const struct sm_obj *o = &m->objs[obj];
	for (size_t i = 0; i < o->n_cmds; i++)
		if (!strcmp(m->cmds[o->cmds[i]].name, name))
			return o->cmds[i];
	return SM_NONE;
}

uint16_t sim_model_event(const struct sim_model *m, uint16_t obj, const char *name)
{
	const struct sm_obj *o = &m->objs[obj];
	for (size_t i = 0; i < o->n_events; i++)
		if (!strcmp(m->events[o->events[i]].name, name))
			return o->events[i];
	return SM_NONE;
}

uint16_t sim_model_rel_param(const struct sim_model *m, uint16_t obj, const char *rel,
			     uint16_t *owner_obj)
{
	char name[128];
	while (1) {
		const char *dot = strchr(rel, '.');
		if (!dot) {
			if (owner_obj)
				*owner_obj = obj;
			return sim_model_param(m, obj, rel);
		}
		size_t l = (size_t)(dot - rel);
		if (l == 0 || l >= sizeof(name))
			return SM_NONE;
		memcpy(name, rel, l);
		name[l] = '\0';
		uint16_t c = sim_model_child(m, obj, name);
		if (c == SM_NONE || m->objs[c].is_table)
			return SM_NONE;
		obj = c;
		rel = dot + 1;
	}
}

int sim_model_is_key(const struct sim_model *m, uint16_t p)
{
	const struct sm_obj *o = &m->objs[m->params[p].obj];
	if (!o->is_table)
		return 0;
	for (size_t s = 0; s < o->n_keysets; s++)
		for (size_t k = 0; k < SM_MAX_KEYS && o->keysets[s][k] != SM_NONE; k++)
			if (o->keysets[s][k] == p)
				return 1;
	return 0;
}

static const struct {
	const char *name;
	enum sm_type type;
} type_names[] = {
	{ "string", SM_T_STRING },     { "boolean", SM_T_BOOL },  { "int", SM_T_INT },
	{ "unsignedInt", SM_T_UINT },  { "long", SM_T_LONG },     { "unsignedLong", SM_T_ULONG },
	{ "dateTime", SM_T_DATETIME }, { "base64", SM_T_BASE64 }, { "hexBinary", SM_T_HEX },
	{ "decimal", SM_T_DECIMAL },
};

const char *sim_model_type_name(enum sm_type t)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	return NULL;
}

/* Split "Device.A.{i}.B" into its parent object path and last name. The
 * parent path keeps its trailing '.'. */
static int split_last(const char *path, char *parent, size_t cap, const char **last)
{
	const char *dot = strrchr(path, '.');
	if (!dot || (size_t)(dot - path + 1) >= cap)
		return -1;
	memcpy(parent, path, (size_t)(dot - path + 1));
	parent[dot - path + 1] = '\0';
	*last = dot + 1;
	return **last ? 0 : -1;
}

static int valid_name(const char *s, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int add_object(struct parse_ctx *c, const char *path, int is_table, uint16_t *out)
{
	struct sim_model *m = c->m;
	size_t len = strlen(path);
	char parent[SM_MAX_LINE], name_buf[128];
	const char *name;
	size_t name_len;
	if (sim_model_find_obj(m, path) != SM_NONE)
		return perr(c, "object '%s' declared twice", path);
	if (!strcmp(path, "Device.")) {
		if (is_table || m->n_objs)
			return perr(c, "'Device.' must be the first object and not a table", NULL);
		parent[0] = '\0';
		name = "Device";
		name_len = 6;
	} else {
		const char *suffix = is_table ? ".{i}." : ".";
		size_t sl = strlen(suffix);
		if (len <= sl || strcmp(path + len - sl, suffix) || len >= sizeof(parent))
			return perr(c,
				    is_table ? "table path '%s' must end in '.{i}.'"
					     : "object path '%s' must end in '.'",
				    path);
		memcpy(parent, path, len - sl);
		parent[len - sl] = '\0';
		const char *dot = strrchr(parent, '.');
		if (!dot)
			return perr(c, "bad object path '%s'", path);
		name_len = strlen(dot + 1);
		if (name_len >= sizeof(name_buf))
			return perr(c, "object name too long in '%s'", path);
		memcpy(name_buf, dot + 1, name_len + 1);
		name = name_buf;
		parent[dot - parent + 1] = '\0';
	}
	if (!valid_name(name, name_len))
		return perr(c, "bad object name in '%s'", path);
	uint16_t pid = SM_NONE;
	if (parent[0]) {
		pid = sim_model_find_obj(m, parent);
		if (pid == SM_NONE)
			return perr(c, "parent of '%s' is not declared (declare parents first)",
				    path);
	}
	if (grow((void **)&m->objs, &m->cap_objs, m->n_objs, sizeof(*m->objs)) < 0)
		return perr(c, "too many objects", NULL);
	uint16_t id = (uint16_t)m->n_objs;
	struct sm_obj *o = &m->objs[id];
	memset(o, 0, sizeof(*o));
	o->path = strdup(path);
	o->name = strndup(name, name_len);
	if (!o->path || !o->name) {
		free(o->path);
		free(o->name);
		return perr(c, "out of memory", NULL);
	}
	m->n_objs++;
	o->parent = pid;
	o->is_table = (uint8_t)is_table;
	o->persist = 1;
	o->depth = (uint8_t)(pid == SM_NONE ? 1 : m->objs[pid].depth + 1);
	o->table = is_table ? id : (pid == SM_NONE ? SM_NONE : m->objs[pid].table);
	o->tidx = is_table ? (uint16_t)m->n_tables++ : SM_NONE;
	for (size_t s = 0; s < SM_MAX_KEYSETS; s++)
		for (size_t k = 0; k < SM_MAX_KEYS; k++)
			o->keysets[s][k] = SM_NONE;
	if (pid != SM_NONE && push_id(&m->objs[pid].children, &m->objs[pid].n_children, id) < 0)
		return perr(c, "out of memory", NULL);
	*out = id;
	return 0;
}

static int parse_object_line(struct parse_ctx *c, char **tok, int n, int is_table)
{
	static const char *const obj_attrs[] = { NULL };
	static const char *const tab_attrs[] = {
		"access", "keys", "count", "max", "persist", NULL
	};
	uint16_t id;
	if (n < 2)
		return perr(c, "missing path", NULL);
	if (check_attrs(c, tok, n, 2, is_table ? tab_attrs : obj_attrs) < 0)
		return -1;
	if (add_object(c, tok[1], is_table, &id) < 0)
		return -1;
	if (!is_table)
		return 0;
	struct sm_obj *o = &c->m->objs[id];
	const char *a = attr(tok, n, 2, "access");
	o->access = SM_OBJ_RO;
	o->max_instances = 1000;
	if (a) {
		if (!strcmp(a, "add_delete"))
			o->access = SM_OBJ_ADD_DELETE;
		else if (!strcmp(a, "add_only"))
			o->access = SM_OBJ_ADD_ONLY;
		else if (!strcmp(a, "delete_only"))
			o->access = SM_OBJ_DELETE_ONLY;
		else if (strcmp(a, "read_only"))
			return perr(c, "bad table access '%s'", a);
	}
	if ((a = attr(tok, n, 2, "count")) && parse_uint(a, &o->count) < 0)
		return perr(c, "bad count '%s'", a);
	if ((a = attr(tok, n, 2, "max")) && parse_uint(a, &o->max_instances) < 0)
		return perr(c, "bad max '%s'", a);
	if ((a = attr(tok, n, 2, "persist")))
		o->persist = !strcmp(a, "yes");
	return 0;
}

/* keys=Alias;ID,Recipient — resolved once all params are known. */
static int resolve_keys(struct parse_ctx *c, uint16_t obj, const char *spec)
{
	struct sm_obj *o = &c->m->objs[obj];
	char buf[512];
	if (strlen(spec) >= sizeof(buf))
		return perr(c, "keys too long", NULL);
	strcpy(buf, spec);
	char *save1 = NULL;
	for (char *set = strtok_r(buf, ";", &save1); set; set = strtok_r(NULL, ";", &save1)) {
		if (o->n_keysets == SM_MAX_KEYSETS)
			return perr(c, "too many key sets", NULL);
		size_t k = 0;
		char *save2 = NULL;
		for (char *key = strtok_r(set, ",", &save2); key;
		     key = strtok_r(NULL, ",", &save2)) {
			uint16_t p = sim_model_param(c->m, obj, key);
			if (p == SM_NONE)
				return perr(c, "unique key '%s' is not a parameter of the table",
					    key);
			if (k == SM_MAX_KEYS)
				return perr(c, "too many keys in a set", NULL);
			o->keysets[o->n_keysets][k++] = p;
		}
		o->n_keysets++;
	}
	return 0;
}

static int parse_type(const char *s, uint8_t *out)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (!strcmp(type_names[i].name, s)) {
			*out = (uint8_t)type_names[i].type;
			return 0;
		}
	return -1;
}

static int parse_access(const char *s, uint8_t *out)
{
	static const char *const names[] = { "ro", "rw", "wo", "wonce" };
	for (uint8_t i = 0; i < 4; i++)
		if (!strcmp(names[i], s)) {
			*out = i;
			return 0;
		}
	return -1;
}

static int parse_param_line(struct parse_ctx *c, char **tok, int n)
{
	static const char *const known[] = { "default", "enum",    "dyn",    "rate",
					     "vc",      "persist", "maxlen", NULL };
	struct sim_model *m = c->m;
	char parent[SM_MAX_LINE];
	const char *name;
	if (n < 4)
		return perr(c, "usage: param PATH TYPE ro|rw|wo|wonce [attr=value...]", NULL);
	if (check_attrs(c, tok, n, 4, known) < 0)
		return -1;
	if (split_last(tok[1], parent, sizeof(parent), &name) < 0 ||
	    !valid_name(name, strlen(name)))
		return perr(c, "bad parameter path '%s'", tok[1]);
	uint16_t obj = sim_model_find_obj(m, parent);
	if (obj == SM_NONE || strcmp(m->objs[obj].path, parent))
		return perr(c, "object of '%s' is not declared", tok[1]);
	if (sim_model_param(m, obj, name) != SM_NONE)
		return perr(c, "parameter '%s' declared twice", tok[1]);
	if (grow((void **)&m->params, &m->cap_params, m->n_params, sizeof(*m->params)) < 0)
		return perr(c, "too many parameters", NULL);
	struct sm_param *p = &m->params[m->n_params];
	memset(p, 0, sizeof(*p));
	p->obj = obj;
	p->persist = 1;
	if (parse_type(tok[2], &p->type) < 0)
		return perr(c, "unknown type '%s'", tok[2]);
	if (parse_access(tok[3], &p->access) < 0)
		return perr(c, "unknown access '%s' (ro, rw, wo, wonce)", tok[3]);
	const char *a;
	if ((a = attr(tok, n, 4, "dyn"))) {
		if (!strcmp(a, "uptime"))
			p->dyn = SM_DYN_UPTIME;
		else if (!strcmp(a, "counter"))
			p->dyn = SM_DYN_COUNTER;
		else if (!strcmp(a, "now"))
			p->dyn = SM_DYN_NOW;
		else
			return perr(c, "unknown dyn '%s' (uptime, counter, now)", a);
		p->vc_ignore = 1;
	}
	if ((a = attr(tok, n, 4, "rate"))) {
		char *end;
		p->rate = strtod(a, &end);
		if (*end || p->rate < 0)
			return perr(c, "bad rate '%s'", a);
	}
	if ((a = attr(tok, n, 4, "vc")))
		p->vc_ignore = !strcmp(a, "ignore");
	if ((a = attr(tok, n, 4, "persist")))
		p->persist = !strcmp(a, "yes");
	if ((a = attr(tok, n, 4, "maxlen")) && parse_uint(a, &p->max_len) < 0)
		return perr(c, "bad maxlen '%s'", a);
	a = attr(tok, n, 4, "default");
	p->def = strdup(a ? a : "");
	p->name = strdup(name);
	a = attr(tok, n, 4, "enum");
	p->enums = a ? strdup(a) : NULL;
	if (!p->def || !p->name || (a && !p->enums)) {
		free(p->def);
		free(p->name);
		free(p->enums);
		return perr(c, "out of memory", NULL);
	}
	uint16_t id = (uint16_t)m->n_params++;
	if (push_id(&m->objs[obj].params, &m->objs[obj].n_params, id) < 0)
		return perr(c, "out of memory", NULL);
	return 0;
}

/* "a,!b,c" → names; '!' marks mandatory. */
static int parse_list(struct parse_ctx *c, const char *spec, char ***names, uint8_t **mand,
		      size_t *n)
{
	*n = 0;
	if (!spec || !*spec)
		return 0;
	char buf[SM_MAX_LINE];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (*n == SM_MAX_ARGS)
			return perr(c, "too many arguments", NULL);
		int m = (*t == '!');
		char **nn = realloc(*names, (*n + 1) * sizeof(char *));
		if (!nn)
			return perr(c, "out of memory", NULL);
		*names = nn;
		if (mand) {
			uint8_t *nm = realloc(*mand, *n + 1);
			if (!nm)
				return perr(c, "out of memory", NULL);
			*mand = nm;
			nm[*n] = (uint8_t)m;
		} else if (m) {
			return perr(c, "'!' (mandatory) only applies to input arguments", NULL);
		}
		if (!(nn[*n] = strdup(t + m)))
			return perr(c, "out of memory", NULL);
		(*n)++;
	}
	return 0;
}

static int parse_handler(const char *s, uint8_t *out)
{
	static const char *const names[] = { "generic",       "reboot",      "factory_reset",
					     "fw_download",   "fw_activate", "ipping",
					     "request_cancel" };
	for (uint8_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], s)) {
			*out = i;
			return 0;
		}
	return -1;
}

static int parse_command_line(struct parse_ctx *c, char **tok, int n)
{
	static const char *const known[] = { "in", "out", "handler", "duration", NULL };
	struct sim_model *m = c->m;
	char parent[SM_MAX_LINE];
	const char *name;
	if (n < 3 || (strcmp(tok[2], "sync") && strcmp(tok[2], "async")))
		return perr(c, "usage: command PATH() sync|async [in=..] [out=..] [handler=..]",
			    NULL);
	if (check_attrs(c, tok, n, 3, known) < 0)
		return -1;
	size_t len = strlen(tok[1]);
	if (len < 3 || strcmp(tok[1] + len - 2, "()"))
		return perr(c, "command path '%s' must end in '()'", tok[1]);
	tok[1][len - 2] = '\0';
	if (split_last(tok[1], parent, sizeof(parent), &name) < 0 ||
	    !valid_name(name, strlen(name)))
		return perr(c, "bad command path '%s'", tok[1]);
	uint16_t obj = sim_model_find_obj(m, parent);
	if (obj == SM_NONE || strcmp(m->objs[obj].path, parent))
		return perr(c, "object of '%s' is not declared", tok[1]);
	if (grow((void **)&m->cmds, &m->cap_cmds, m->n_cmds, sizeof(*m->cmds)) < 0)
		return perr(c, "too many commands", NULL);
	struct sm_cmd *cmd = &m->cmds[m->n_cmds];
	memset(cmd, 0, sizeof(*cmd));
	if (!(cmd->name = strdup(name)))
		return perr(c, "out of memory", NULL);
	m->n_cmds++; /* counted now so sim_model_free releases partial lists */
	cmd->obj = obj;
	cmd->async = !strcmp(tok[2], "async");
	cmd->duration_ms = 1000;
	const char *a;
	if ((a = attr(tok, n, 3, "handler")) && parse_handler(a, &cmd->handler) < 0)
		return perr(c, "unknown handler '%s'", a);
	if ((a = attr(tok, n, 3, "duration")) && parse_uint(a, &cmd->duration_ms) < 0)
		return perr(c, "bad duration '%s'", a);
	if (parse_list(c, attr(tok, n, 3, "in"), &cmd->in, &cmd->in_mandatory, &cmd->n_in) < 0 ||
	    parse_list(c, attr(tok, n, 3, "out"), &cmd->out, NULL, &cmd->n_out) < 0)
		return -1;
	return push_id(&m->objs[obj].cmds, &m->objs[obj].n_cmds, (uint16_t)(m->n_cmds - 1)) < 0
		       ? perr(c, "out of memory", NULL)
		       : 0;
}

static int parse_event_line(struct parse_ctx *c, char **tok, int n)
{
	static const char *const known[] = { "args", NULL };
	struct sim_model *m = c->m;
	char parent[SM_MAX_LINE];
	const char *name;
	if (n < 2)
		return perr(c, "usage: event PATH! [args=a,b]", NULL);
	if (check_attrs(c, tok, n, 2, known) < 0)
		return -1;
	size_t len = strlen(tok[1]);
	if (len < 2 || tok[1][len - 1] != '!')
		return perr(c, "event path '%s' must end in '!'", tok[1]);
	tok[1][len - 1] = '\0';
	if (split_last(tok[1], parent, sizeof(parent), &name) < 0 ||
	    !valid_name(name, strlen(name)))
		return perr(c, "bad event path '%s'", tok[1]);
	uint16_t obj = sim_model_find_obj(m, parent);
	if (obj == SM_NONE || strcmp(m->objs[obj].path, parent))
		return perr(c, "object of '%s' is not declared", tok[1]);
	if (grow((void **)&m->events, &m->cap_events, m->n_events, sizeof(*m->events)) < 0)
		return perr(c, "too many events", NULL);
	struct sm_event *e = &m->events[m->n_events];
	memset(e, 0, sizeof(*e));
	if (!(e->name = strdup(name)))
		return perr(c, "out of memory", NULL);
	m->n_events++;
	e->obj = obj;
	if (parse_list(c, attr(tok, n, 2, "args"), &e->args, NULL, &e->n_args) < 0)
		return -1;
	return push_id(&m->objs[obj].events, &m->objs[obj].n_events, (uint16_t)(m->n_events - 1)) <
			       0
		       ? perr(c, "out of memory", NULL)
		       : 0;
}

/* "instance Device.A.1.B.2. Name=Value MQTT.Topic=x" */
static int parse_instance_line(struct parse_ctx *c, char **tok, int n)
{
	struct sim_model *m = c->m;
	char schema[SM_MAX_LINE];
	if (n < 2)
		return perr(c, "usage: instance PATH.N. [Param=Value...]", NULL);
	size_t len = strlen(tok[1]);
	if (len >= sizeof(schema) || len < 2 || tok[1][len - 1] != '.')
		return perr(c, "bad instance path '%s'", tok[1]);
	/* numbers → {i} */
	size_t o = 0;
	for (const char *s = tok[1]; *s;) {
		if (isdigit((unsigned char)*s) && (s == tok[1] || s[-1] == '.')) {
			while (isdigit((unsigned char)*s))
				s++;
			memcpy(schema + o, "{i}", 3);
			o += 3;
		} else {
			schema[o++] = *s++;
		}
		if (o + 4 >= sizeof(schema))
			return perr(c, "instance path too long", NULL);
	}
	schema[o] = '\0';
	uint16_t obj = sim_model_find_obj(m, schema);
	if (obj == SM_NONE || !m->objs[obj].is_table || strcmp(m->objs[obj].path, schema))
		return perr(c, "'%s' is not an instance of a declared table", tok[1]);
	if (grow((void **)&m->finsts, &m->cap_finsts, m->n_finsts, sizeof(*m->finsts)) < 0)
		return perr(c, "too many instances", NULL);
	struct sm_factory_inst *fi = &m->finsts[m->n_finsts];
	memset(fi, 0, sizeof(*fi));
	if (!(fi->path = strdup(tok[1])))
		return perr(c, "out of memory", NULL);
	m->n_finsts++;
	fi->obj = obj;
	if (n > 2 && !(fi->vals = calloc((size_t)(n - 2), sizeof(*fi->vals))))
		return perr(c, "out of memory", NULL);
	for (int i = 2; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq)
			return perr(c, "expected Param=Value, got '%s'", tok[i]);
		*eq = '\0';
		uint16_t p = sim_model_rel_param(m, obj, tok[i], NULL);
		if (p == SM_NONE)
			return perr(c, "'%s' is not a parameter of the instance", tok[i]);
		if (!(fi->vals[fi->n_vals].value = strdup(eq + 1)))
			return perr(c, "out of memory", NULL);
		fi->vals[fi->n_vals++].param = p;
	}
	return 0;
}

struct pending_keys {
	uint16_t obj;
	int line;
	char *spec;
};

static int parse_line(struct parse_ctx *c, char *line, struct pending_keys **pk, size_t *npk)
{
	char *tok[MAX_TOKENS];
	int n = tokenize(line, tok, MAX_TOKENS);
	if (n < 0)
		return perr(c, "unterminated quote or too many tokens", NULL);
	if (n == 0)
		return 0;
	if (!strcmp(tok[0], "object"))
		return parse_object_line(c, tok, n, 0);
	if (!strcmp(tok[0], "table")) {
		if (parse_object_line(c, tok, n, 1) < 0)
			return -1;
		const char *k = attr(tok, n, 2, "keys");
		if (!k)
			return 0;
		struct pending_keys *np = realloc(*pk, (*npk + 1) * sizeof(**pk));
		if (!np)
			return perr(c, "out of memory", NULL);
		*pk = np;
		np[*npk].obj = (uint16_t)(c->m->n_objs - 1);
		np[*npk].line = c->line;
		if (!(np[*npk].spec = strdup(k)))
			return perr(c, "out of memory", NULL);
		(*npk)++;
		return 0;
	}
	if (!strcmp(tok[0], "param"))
		return parse_param_line(c, tok, n);
	if (!strcmp(tok[0], "command"))
		return parse_command_line(c, tok, n);
	if (!strcmp(tok[0], "event"))
		return parse_event_line(c, tok, n);
	if (!strcmp(tok[0], "instance"))
		return parse_instance_line(c, tok, n);
	return perr(c, "unknown keyword '%s' (object, table, param, command, event, instance)",
		    tok[0]);
}

int sim_model_parse(const char *text, const char *name, struct sim_model **out,
		    struct uspc_err *err)
{
	*out = NULL;
	struct sim_model *m = calloc(1, sizeof(*m));
	struct parse_ctx c = { .m = m, .name = name, .line = 0, .err = err };
	struct pending_keys *pk = NULL;
	size_t npk = 0;
	int rc = -1;
	char line[SM_MAX_LINE + 1];
	if (!m)
		return uspc_err_set(err, -1, "%s: out of memory", name);
	for (const char *s = text; *s;) {
		const char *nl = strchr(s, '\n');
		size_t l = nl ? (size_t)(nl - s) : strlen(s);
		c.line++;
		if (l > SM_MAX_LINE) {
			perr(&c, "line longer than %s bytes", "4096");
			goto out;
		}
		memcpy(line, s, l);
		line[l] = '\0';
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (parse_line(&c, line, &pk, &npk) < 0)
			goto out;
		s += l + (nl ? 1 : 0);
	}
	c.line = 0;
	if (m->n_objs == 0) {
		uspc_err_set(err, -1, "%s: no objects (the first line must be 'object Device.')",
			     name);
		goto out;
	}
	for (size_t i = 0; i < npk; i++) {
		c.line = pk[i].line;
		if (resolve_keys(&c, pk[i].obj, pk[i].spec) < 0)
			goto out;
	}
	*out = m;
	m = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < npk; i++)
		free(pk[i].spec);
	free(pk);
	sim_model_free(m);
	return rc;
}

int sim_model_load(const char *file, struct sim_model **out, struct uspc_err *err)
{
	*out = NULL;
	FILE *f = fopen(file, "rb");
	if (!f)
		return uspc_err_set(err, -1, "%s: %s", file, strerror(errno));
	char *buf = malloc(SM_MAX_FILE + 1);
	size_t n = buf ? fread(buf, 1, SM_MAX_FILE + 1, f) : 0;
	fclose(f);
	if (!buf)
		return uspc_err_set(err, -1, "%s: out of memory", file);
	if (n > SM_MAX_FILE) {
		free(buf);
		return uspc_err_set(err, -1, "%s: larger than %u bytes", file, SM_MAX_FILE);
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return uspc_err_set(err, -1, "%s: contains a NUL byte (not a text file?)", file);
	}
	int rc = sim_model_parse(buf, file, out, err);
	free(buf);
	return rc;
}

void sim_model_free(struct sim_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_objs; i++) {
		free(m->objs[i].path);
		free(m->objs[i].name);
		free(m->objs[i].children);
		free(m->objs[i].params);
		free(m->objs[i].cmds);
		free(m->objs[i].events);
	}
	for (size_t i = 0; i < m->n_params; i++) {
		free(m->params[i].name);
		free(m->params[i].def);
		free(m->params[i].enums);
	}
	for (size_t i = 0; i < m->n_cmds; i++) {
		for (size_t j = 0; j < m->cmds[i].n_in; j++)
			free(m->cmds[i].in[j]);
		for (size_t j = 0; j < m->cmds[i].n_out; j++)
			free(m->cmds[i].out[j]);
		free(m->cmds[i].in);
		free(m->cmds[i].in_mandatory);
		free(m->cmds[i].out);
		free(m->cmds[i].name);
	}
	for (size_t i = 0; i < m->n_events; i++) {
		for (size_t j = 0; j < m->events[i].n_args; j++)
			free(m->events[i].args[j]);
		free(m->events[i].args);
		free(m->events[i].name);
	}
	for (size_t i = 0; i < m->n_finsts; i++) {
		for (size_t j = 0; j < m->finsts[i].n_vals; j++)
			free(m->finsts[i].vals[j].value);
		free(m->finsts[i].vals);
		free(m->finsts[i].path);
	}
	free(m->objs);
	free(m->params);
	free(m->cmds);
	free(m->events);
	free(m->finsts);
	free(m);
}

static int check_number(const char *v, int is_signed, int is_decimal, long double lo,
			long double hi)
{
	const char *s = v;
	if (*s == '-') {
		if (!is_signed)
			return -1;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.' && is_decimal) {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s)
		return -1;
	if (is_decimal)
		return 0;
	errno = 0;
	long double d = strtold(v, NULL);
	return (errno || d < lo || d > hi) ? -1 : 0;
}

static int check_datetime(const char *v)
{
	/* YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm) */
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;
	for (i = 0; pat[i]; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != pat[i])
			return -1;
	}
	const char *s = v + i;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z')
		return s[1] ? -1 : 0;
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) &&
	    isdigit((unsigned char)s[2]) && s[3] == ':' && isdigit((unsigned char)s[4]) &&
	    isdigit((unsigned char)s[5]) && !s[6])
		return 0;
	return *s ? -1 : 0;
}

static int check_enum(const char *enums, const char *v)
{
	size_t vl = strlen(v);
	for (const char *s = enums; *s;) {
		const char *bar = strchr(s, '|');
		size_t l = bar ? (size_t)(bar - s) : strlen(s);
		if (l == vl && !strncmp(s, v, l))
			return 0;
		s += l + (bar ? 1 : 0);
	}
	return -1;
}

int sim_model_check_value(const struct sm_param *p, const char *v)
{
	int bad = 0;
	switch ((enum sm_type)p->type) {
	case SM_T_BOOL:
		bad = strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "1") && strcmp(v, "0");
		break;
	case SM_T_INT:
		bad = check_number(v, 1, 0, INT32_MIN, INT32_MAX);
		break;
	case SM_T_UINT:
		bad = check_number(v, 0, 0, 0, UINT32_MAX);
		break;
	case SM_T_LONG:
		bad = check_number(v, 1, 0, (long double)INT64_MIN, (long double)INT64_MAX);
		break;
	case SM_T_ULONG:
		bad = check_number(v, 0, 0, 0, (long double)UINT64_MAX);
		break;
	case SM_T_DECIMAL:
		bad = check_number(v, 1, 1, 0, 0);
		break;
	case SM_T_DATETIME:
		bad = check_datetime(v);
		break;
	case SM_T_HEX:
		for (const char *s = v; *s; s++)
			bad |= !isxdigit((unsigned char)*s);
		bad |= (strlen(v) % 2) != 0;
		break;
	case SM_T_BASE64:
		for (const char *s = v; *s; s++)
			bad |= !(isalnum((unsigned char)*s) || *s == '+' || *s == '/' || *s == '=');
		break;
	case SM_T_STRING:
		break;
	}
	if (bad)
		return USP_ERR_INVALID_TYPE;
	if (p->max_len && strlen(v) > p->max_len)
		return USP_ERR_INVALID_VALUE;
	if (p->enums && check_enum(p->enums, v) < 0)
		return USP_ERR_INVALID_VALUE;
	return 0;
}
