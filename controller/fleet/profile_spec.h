/*
 * profile_spec.h — a provisioning profile's definition: the fields an
 * operator gives profile_put / profile_plan (docs/profiles.md), validated
 * and normalised into struct prof_spec. Pure (no I/O): uspctl parses what
 * the operator wrote, the daemon parses what the database holds (the
 * normalised JSON from prof_spec_to_json), and the fuzz target parses
 * anything.
 *
 * The definition (every key optional unless said):
 *   "name":      required; 1..64 bytes of [a-z0-9_.-], starting [a-z0-9]
 *   "selector":  required; uspctl's selector keys ("all": true, "tag",
 *                "model", "manufacturer", "software_version", "eid" (a
 *                glob), "eids": [..]) plus "where": ["Device.X.Y == \"v\"",
 *                "Device.A.B != \"w\""], predicates on the snapshot
 *   "priority":  required; integer 0..1000000 (higher wins a path)
 *   "mode":      "enforce" (default) | "audit" | "once"
 *   "triggers":  array of "onboarding", "boot", "firmware", "scope",
 *                "version", "drift"; default ["onboarding","scope","version"]
 *   "drift_check": {"every_s": 1..31536000, "jitter_s": 0..every_s};
 *                required when "drift" is a trigger, refused otherwise
 *   "steps":     required, 1..PROF_STEPS_MAX, each an object with one key:
 *     {"set": {"Device.Time.NTPServer1": VALUE, ...}}
 *     {"ensure_instance": {"table": "Device.WiFi.SSID.", "keys": {"Name": VALUE},
 *                          "params": {"SSID": VALUE, ...}}}
 *     {"ensure_absent": {"table": "Device.NAT.PortMapping.", "match": {"Description": VALUE}}}
 *     {"ensure_count": {"table": "Device.X.Y.", "min": 0.., "max": min..}}
 *     {"subscribe": {"id": "..", "notif_type": "ValueChange"|"ObjectCreation"|
 *                    "ObjectDeletion"|"OperationComplete"|"Event",
 *                    "reference_list": "Device.WiFi.SSID.*.SSID"}}
 *     {"operate": {"command": "Device.Reboot()", "args": {"Cause": VALUE},
 *                  "once_per": "version" (default) | "boot" | "firmware"}}
 *     {"notification": {"Device.WiFi.SSID.1.SSID": "active", ...}}
 *                  TR-069 notification attributes: "off", "passive",
 *                  "active" or 0..6, stored as the number; parameter paths
 *                  as for "set". Applied to TR-069 devices only (a
 *                  subscribe step to USP agents only): see profile_run.h
 * The selector is also read in its stored form (what prof_spec_to_json
 * writes, so that the normalised JSON reads back): "eid_like" (a LIKE
 * pattern, instead of "eid") and "where" entries as objects {"path":..,
 * "op":"=="|"!=","value":..}. "where" alone is refused (it only narrows:
 * add "all": true). ensure_count takes "min" (default 0) and/or "max"
 * (default PROF_COUNT_MAX), at least one of them.
 * VALUE: a JSON string, number or boolean, or {"value": <one of those>,
 * "write_only": true} for a parameter that reads back empty (a password).
 * Strings may hold templates: ${eid} ${serial} ${oui} ${model}
 * ${manufacturer} ${product_class} ${software_version} ${tag:NAME} (the
 * rest of the agent's first tag "NAME:...") ${var:NAME} (a per-device
 * variable); "$$" is a literal "$". Templates are allowed in values only,
 * never in paths or table names.
 */
#ifndef USPC_PROFILE_SPEC_H
#define USPC_PROFILE_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "usp_err.h"

#define PROF_NAME_MAX 64
#define PROF_PRIORITY_MAX 1000000
#define PROF_STEPS_MAX 64
#define PROF_PARAMS_MAX 256 /* per step */
#define PROF_PATHS_MAX 1024 /* paths named by one profile, all steps */
#define PROF_VALUE_MAX 4096 /* bytes of one value, before and after templates */
#define PROF_WHERE_MAX 16
#define PROF_VARS_MAX 64 /* distinct ${var:NAME} of one profile */
#define PROF_VAR_NAME_MAX 64
#define PROF_KEYS_MAX 8       /* ensure_instance keys, ensure_absent match */
#define PROF_ARGS_MAX 64      /* operate input arguments */
#define PROF_COUNT_MAX 1000   /* ensure_count min and max */
#define PROF_EIDS_MAX 100000  /* selector "eids" */
#define PROF_SEL_TEXT_MAX 256 /* selector strings (eid glob, tag, model, ...) */

enum prof_mode { PROF_ENFORCE, PROF_AUDIT, PROF_ONCE };

enum prof_trigger {
	PROF_T_ONBOARDING = 1 << 0, /* every (re)onboarding of the agent */
	PROF_T_BOOT = 1 << 1,       /* an onboarding that follows a Boot! */
	PROF_T_FIRMWARE = 1 << 2,   /* an onboarding on a new SoftwareVersion */
	PROF_T_SCOPE = 1 << 3,      /* the agent entered the selector */
	PROF_T_VERSION = 1 << 4,    /* a new version of the profile */
	PROF_T_DRIFT = 1 << 5,      /* the periodic drift check */
};
#define PROF_T_DEFAULT (PROF_T_ONBOARDING | PROF_T_SCOPE | PROF_T_VERSION)

enum prof_vtype { PROF_V_STRING, PROF_V_BOOL, PROF_V_NUMBER };

/* A value as written: text is the template (for a bool "true"/"false",
 * for a number its canonical text: integers without a fraction, else
 * the shortest %g form that reads back to the same value: "0.1"). */
struct prof_value {
	enum prof_vtype type;
	char *text;
	int write_only;
	int has_template; /* text contains ${...} or "$$": expand it with prof_tpl_expand */
};

/* A parameter: name is a full path for "set" (Device....Param), the
 * parameter's name relative to the table's instance for ensure_* keys,
 * match and params, an input argument name for operate's args. */
struct prof_param {
	char *name;
	struct prof_value v;
};

enum prof_step_kind {
	PROF_STEP_SET,
	PROF_STEP_ENSURE_INSTANCE,
	PROF_STEP_ENSURE_ABSENT,
	PROF_STEP_ENSURE_COUNT,
	PROF_STEP_SUBSCRIBE, /* stored as an ensure_instance on Device.LocalAgent.Subscription. */
	PROF_STEP_OPERATE,
	PROF_STEP_NOTIFICATION, /* params: path -> PROF_V_NUMBER 0..6 */
};

enum prof_once { PROF_ONCE_VERSION, PROF_ONCE_BOOT, PROF_ONCE_FIRMWARE };

struct prof_step {
	enum prof_step_kind kind;
	char *table;             /* ensure_*, subscribe: "Device.WiFi.SSID." (ends in '.') */
	struct prof_param *keys; /* ensure_instance and subscribe: keys; ensure_absent: match */
	size_t n_keys;
	struct prof_param *params; /* set (full paths), ensure_instance/subscribe params */
	size_t n_params;
	int64_t min, max;        /* ensure_count */
	char *command;           /* operate: "Device.Reboot()" */
	struct prof_param *args; /* operate input arguments */
	size_t n_args;
	enum prof_once once_per;
};

/* A snapshot predicate of the selector. */
struct prof_where {
	char *path;
	int negate; /* 0: ==, 1: != */
	char *value;
};

struct prof_spec {
	char name[PROF_NAME_MAX + 1];
	int64_t priority;
	enum prof_mode mode;
	unsigned triggers;     /* PROF_T_* bits */
	int64_t drift_every_s; /* 0 = none */
	int64_t drift_jitter_s;
	/* the selector as stored (the jsonb shape of fleet_admin.h: "eids",
	 * "tag", "model", "manufacturer", "software_version", "eid_like",
	 * "all", plus "where": [{"path","op":"=="|"!=","value"}]); owned */
	cJSON *selector;
	struct prof_where where[PROF_WHERE_MAX];
	size_t n_where;
	struct prof_step *steps;
	size_t n_steps;
};

void prof_spec_init(struct prof_spec *s);
void prof_spec_fini(struct prof_spec *s);

/* Read a definition from obj. Keys that share the object but are not the
 * definition's (given in `ignore`, NULL-terminated: "id", "op") are
 * skipped; any other unknown key is an error. Paths are checked with the
 * USP path parser: "set" keys are parameter paths without wildcards or
 * search expressions, tables are object paths ending in '.', with no
 * instance number at their end. Returns 0, or USPCTL_E_BAD_FIELD /
 * USPCTL_E_INVALID_PATH / USPCTL_E_BAD_TARGETS with err->msg naming the
 * step (1-based) and field. On error s holds partial data: call
 * prof_spec_fini. */
int prof_spec_parse(const cJSON *obj, const char *const *ignore, struct prof_spec *s,
		    struct uspc_err *err);

/* The normalised definition as JSON; prof_spec_parse reads it back to an
 * equal spec. NULL on out of memory. */
cJSON *prof_spec_to_json(const struct prof_spec *s);

/* The paths this profile may write, as new strings in *out (free each and
 * the array): "set" paths as written; ensure_instance/subscribe params as
 * "<table>[K1==\"v1\"&&K2==\"v2\"].<param>" with the keys' template text;
 * ensure_absent / ensure_count as "<table>" (they own the table's rows);
 * notification paths as prof_attr_key gives them. Two profiles whose
 * lists share an entry could set the same path. */
int prof_spec_paths(const struct prof_spec *s, char ***out, size_t *n);

/* A parameter's notification attribute as a path list and the owners name
 * it, apart from its value: "<path>#notification" (a new string, NULL out
 * of memory). PROF_ATTR_SUFFIX is what follows the path. */
#define PROF_ATTR_SUFFIX "#notification"
char *prof_attr_key(const char *path);

/* The distinct ${var:NAME} names used, as new strings (free each and the
 * array). */
int prof_spec_vars(const struct prof_spec *s, char ***out, size_t *n);

/* Template context: what an agent's inventory and variables give. */
struct prof_tpl_ctx {
	const char *eid, *serial, *oui, *model, *manufacturer, *product_class, *software_version;
	const char *const *tags;
	size_t n_tags;
	const cJSON *vars; /* {"NAME": "value"} or NULL */
};

/* Expand the templates of text into out (cap bytes, NUL-terminated).
 * Returns 0, or -1 with why (cap bytes) naming the template that has no
 * value for this agent ("${var:ssid}: no such variable for this agent",
 * "${tag:region}: no tag region:...") or that the result is too long. */
int prof_tpl_expand(const char *text, const struct prof_tpl_ctx *ctx, char *out, size_t cap,
		    char *why, size_t why_cap);

#endif
