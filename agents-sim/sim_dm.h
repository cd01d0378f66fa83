/*
 * sim_dm.h — one agent's instantiated data model: a tree of table
 * instances over the shared schema (sim_model.h), the values that differ
 * from the schema's defaults, and path resolution (instance numbers,
 * wildcards, search expressions) for the message handlers.
 *
 * Values not stored are derived on read from the schema's default template,
 * the run's seed and the agent's index, so a run is reproducible and an
 * agent stores little. Single-threaded: the worker loop that owns the agent.
 */
#ifndef USPC_SIM_DM_H
#define USPC_SIM_DM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sim_model.h"
#include "usp_path.h"

#define SIM_VALUE_MAX 4096 /* bytes of one parameter value we accept/store */
#define SIM_PATH_MAX 1024

#define DMV_TEMPLATE 1u /* v is a template, expanded on read */
#define DMV_BORROWED 2u /* v points into the model: never freed */

struct dm_val {
	uint16_t param;
	uint8_t flags; /* DMV_* */
	char *v;
};

/* A table instance (or the root, obj 0, num 0). Children are the instances
 * of tables whose nearest table ancestor is this instance, in creation
 * order. Values are those of the instance's own params and of the params of
 * its single-instance sub-objects. */
struct dm_inst {
	struct dm_inst *parent, *child, *next;
	uint32_t num;
	uint16_t obj;
	uint16_t n_vals, cap_vals;
	struct dm_val *vals;
};

struct sim_dm {
	struct dm_inst root;
	uint32_t *next_num; /* per table (sm_obj.tidx): next instance number */
	size_t n_insts;
};

/* What template expansion needs to know about the agent (borrowed). */
struct sim_dm_env {
	const struct sim_model *m;
	uint64_t seed;
	uint32_t index; /* agent index (1-based by default) */
	const char *eid;
	const char *agent_topic;
	const char *controller_id;
	const char *controller_topic; /* a topic pattern: %s = eid (sim_topic_expand) */
	time_t boot_time;
	time_t now;
	double value_rate; /* multiplier for counter rates */
	/* Template variables beyond the ones above, looked up first (NULL:
	 * none): 1 with the value in out, or 0 when name is not one of them.
	 * The CWMP mode's ${serial}, ${acs_url}, ${cr_url}, ... */
	int (*var)(const struct sim_dm_env *env, const char *name, char *out, size_t cap);
	const void *var_ctx; /* for var */
};

enum dm_match_kind { DM_M_OBJ, DM_M_TABLE, DM_M_PARAM, DM_M_CMD, DM_M_EVENT };

/* One resolved element. inst is the nearest table instance owning it (for
 * DM_M_TABLE: the instance holding the table). */
struct dm_match {
	struct dm_inst *inst;
	uint16_t obj;
	uint16_t id;  /* param / cmd / event id */
	uint8_t kind; /* enum dm_match_kind */
};

struct dm_matches {
	struct dm_match *v;
	size_t n, cap;
};

int sim_dm_init(struct sim_dm *dm, const struct sim_model *m);
/* Build the factory tree: counted table instances and "instance" lines. */
int sim_dm_factory(struct sim_dm *dm, const struct sim_dm_env *env);
void sim_dm_fini(struct sim_dm *dm);

/* Value of param p as seen in instance inst: the stored value or the
 * expanded default. Returns a pointer to the stored string or to buf. */
const char *sim_dm_get(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		       char *buf, size_t cap);
/* Same, always leaving the value in buf (truncated to cap). */
void sim_dm_get_copy(const struct sim_dm_env *env, const struct dm_inst *inst, uint16_t p,
		     char *buf, size_t cap);
/* Store a value (copied). Returns 0 or -1 (no memory). */
int sim_dm_set(struct dm_inst *inst, uint16_t p, const char *value);
/* Store a template (copied), expanded on every read. 0 or -1. */
int sim_dm_set_template(struct dm_inst *inst, uint16_t p, const char *tmpl);
/* The stored entries of inst (for persistence). */
static inline size_t sim_dm_n_vals(const struct dm_inst *inst)
{
	return inst->n_vals;
}
/* Is a value stored for p (i.e. not derived)? */
int sim_dm_is_stored(const struct dm_inst *inst, uint16_t p);
/* Forget every stored value of inst whose param has persist=0. */
void sim_dm_drop_volatile(const struct sim_model *m, struct dm_inst *inst);

/* Create an instance of table under parent (num 0 = next number) with the
 * table's factory sub-instances. NULL if the number exists, the table is
 * full or memory runs out. */
struct dm_inst *sim_dm_add(struct sim_dm *dm, const struct sim_model *m, struct dm_inst *parent,
			   uint16_t table, uint32_t num);
/* The number sim_dm_add(num = 0) would give the next instance. */
uint32_t sim_dm_next_num(const struct sim_dm *dm, const struct sim_model *m,
			 const struct dm_inst *parent, uint16_t table);
/* Same without the factory sub-instances (restoring saved state). */
struct dm_inst *sim_dm_add_bare(struct sim_dm *dm, const struct sim_model *m,
				struct dm_inst *parent, uint16_t table, uint32_t num);
void sim_dm_delete(struct sim_dm *dm, struct dm_inst *inst);
/* Re-create the factory instances of table under parent (after a reboot
 * emptied a volatile table). */
int sim_dm_refill(struct sim_dm *dm, const struct sim_model *m, struct dm_inst *parent,
		  uint16_t table);
struct dm_inst *sim_dm_child(const struct dm_inst *parent, uint16_t table, uint32_t num);
size_t sim_dm_count(const struct dm_inst *parent, uint16_t table);

/* Path of object obj as instantiated under inst, with the trailing '.'.
 * Returns the length, or -1 if it does not fit. */
int sim_dm_obj_path(const struct sim_model *m, const struct dm_inst *inst, uint16_t obj, char *buf,
		    size_t cap);
/* Instance (and object) named by a plain instantiated object path such as
 * "Device.LocalAgent.Controller.1." (no search, trailing '.' optional).
 * NULL if it does not exist. */
struct dm_inst *sim_dm_find(struct sim_dm *dm, const struct sim_model *m, const char *path,
			    uint16_t *obj);

/*
 * Resolve a parsed path. On success returns 0 with the matches appended to
 * out (a search that matches nothing is success with none). On failure
 * returns the USP error code: 7026 (not in the supported data model) or
 * 7016 (a non-search path names a missing instance); msg says which part.
 */
int sim_dm_resolve(struct sim_dm *dm, const struct sim_dm_env *env, const struct usp_path *p,
		   struct dm_matches *out, char *msg, size_t cap);
void sim_dm_matches_fini(struct dm_matches *ms);
/* Does instance c satisfy selector s (instance number, '*', or a search
 * expression evaluated on c's current values)? 1 or 0. */
int sim_dm_inst_matches(const struct sim_dm_env *env, const struct dm_inst *c,
			const struct usp_path_seg *s);

/* Deterministic 64-bit hash of a seed and three values (splitmix64 mix). */
uint64_t sim_dm_hash(uint64_t seed, uint64_t a, uint64_t b, uint64_t c);
/* Format a time as TR-106 dateTime "YYYY-MM-DDTHH:MM:SSZ". */
void sim_dm_format_time(time_t t, char *buf, size_t cap);

/* MQTT topic patterns (--controller-topic, --topic-pattern; the
 * ${controller_topic} and ${agent_topic} template values): "%s" stands for
 * the agent's Endpoint ID (at most once), "%%" for '%'; no other '%', no
 * MQTT wildcard ('+', '#'), 1..SIM_TOPIC_MAX-1 bytes. Expanded when used,
 * so an agent stores none of it. */
#define SIM_TOPIC_MAX 256
/* 1 if pat is such a pattern, else 0. */
int sim_topic_pattern_ok(const char *pat);
/* pat expanded for eid into buf (truncated to cap-1 bytes). */
void sim_topic_expand(const char *pat, const char *eid, char *buf, size_t cap);

/* Index patterns (--eid-pattern, the CWMP mode's --serial-pattern and
 * credential patterns): one "%[0][width]d" or "%[0][width]u" stands for
 * the device's index, "%%" for '%'; no other '%'. */
#define SIM_INDEX_PATTERN_MAX 100 /* bytes of a pattern */
/* 1 if pat is such a pattern with at least min_convs (0 or 1) conversions
 * and shorter than SIM_INDEX_PATTERN_MAX, else 0. */
int sim_index_pattern_ok(const char *pat, int min_convs);
/* pat expanded for index into buf (truncated to cap-1 bytes). */
void sim_index_expand(const char *pat, uint32_t index, char *buf, size_t cap);

#endif
