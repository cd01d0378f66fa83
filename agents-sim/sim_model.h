/*
 * sim_model.h — the simulator's supported data model (the schema), loaded
 * from a text file a user can edit (format: agents-sim/README.md).
 *
 * A model is immutable once loaded and shared by every agent of a process
 * (and, through fork, by every worker). Agents keep only their own
 * instances and the values that differ from the model's defaults
 * (sim_dm.h).
 */
#ifndef USPC_SIM_MODEL_H
#define USPC_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "usp_err.h"

#define SM_MAX_LINE 4096       /* bytes of one model-file line */
#define SM_MAX_FILE (4u << 20) /* bytes of one model file */
#define SM_MAX_ITEMS 60000     /* objects, params, commands, events each */
#define SM_MAX_ARGS 64         /* command arguments / event arguments */
#define SM_MAX_KEYSETS 4
#define SM_MAX_KEYS 4 /* params per unique-key set */
#define SM_NONE 0xFFFFu

/* Base types; values equal the wire enum ParamValueType. */
enum sm_type {
	SM_T_BASE64 = 1,
	SM_T_BOOL = 2,
	SM_T_DATETIME = 3,
	SM_T_DECIMAL = 4,
	SM_T_HEX = 5,
	SM_T_INT = 6,
	SM_T_LONG = 7,
	SM_T_STRING = 8,
	SM_T_UINT = 9,
	SM_T_ULONG = 10,
};

enum sm_access { SM_RO, SM_RW, SM_WO, SM_WONCE };
/* Values equal the wire enum ObjAccessType. */
enum sm_obj_access {
	SM_OBJ_RO = 0,
	SM_OBJ_ADD_DELETE = 1,
	SM_OBJ_ADD_ONLY = 2,
	SM_OBJ_DELETE_ONLY = 3
};

/* How a parameter's value moves over time (computed on read, never stored). */
enum sm_dyn {
	SM_DYN_NONE,
	SM_DYN_UPTIME,  /* seconds since the agent's last boot */
	SM_DYN_COUNTER, /* seeded base + rate * seconds since boot */
	SM_DYN_NOW,     /* current time, dateTime */
};

/* Built-in behaviour of a command (sim_ops.c). */
enum sm_handler {
	SM_H_GENERIC, /* sync: outputs are empty; async: completes after a delay */
	SM_H_REBOOT,
	SM_H_FACTORY_RESET,
	SM_H_FW_DOWNLOAD,
	SM_H_FW_ACTIVATE,
	SM_H_IPPING,
	SM_H_REQUEST_CANCEL,
};

struct sm_param {
	char *name;
	uint16_t obj;
	uint8_t type;      /* enum sm_type */
	uint8_t access;    /* enum sm_access */
	uint8_t dyn;       /* enum sm_dyn */
	uint8_t vc_ignore; /* ValueChange not honoured (VALUE_CHANGE_WILL_IGNORE) */
	uint8_t persist;   /* value survives reboot (default 1) */
	double rate;       /* SM_DYN_COUNTER units per second */
	char *def;         /* default value template (sim_dm.c expands it) */
	char *enums;       /* allowed values "a|b|c" or NULL */
	uint32_t max_len;  /* 0 = no limit beyond the simulator's cap */
};

struct sm_cmd {
	char *name; /* without "()" */
	uint16_t obj;
	uint8_t async;
	uint8_t handler;      /* enum sm_handler */
	uint32_t duration_ms; /* async completion delay for generic/ipping */
	size_t n_in, n_out;
	char **in; /* input argument names */
	uint8_t *in_mandatory;
	char **out;
};

struct sm_event {
	char *name; /* without "!" */
	uint16_t obj;
	size_t n_args;
	char **args;
};

struct sm_obj {
	char *path;      /* supported-DM form: "Device.WiFi.SSID.{i}." */
	char *name;      /* "SSID"; "Device" for the root */
	uint16_t parent; /* SM_NONE for the root */
	uint16_t table;  /* nearest table ancestor-or-self, SM_NONE if none */
	uint8_t is_table;
	uint8_t access;  /* enum sm_obj_access, tables only */
	uint8_t persist; /* tables: instances survive restart/reboot */
	uint8_t depth;   /* number of name segments, Device = 1 */
	uint16_t tidx;   /* tables: 0..n_tables-1 (per-agent counters) */
	uint32_t count;  /* factory instances per parent instance */
	uint32_t max_instances;
	size_t n_children, n_params, n_cmds, n_events;
	uint16_t *children, *params, *cmds, *events;
	size_t n_keysets;
	uint16_t keysets[SM_MAX_KEYSETS][SM_MAX_KEYS]; /* param ids, SM_NONE-terminated */
};

/* An explicit factory instance ("instance" line) and its values. */
struct sm_factory_val {
	uint16_t param;
	char *value; /* template, expanded on read */
};
struct sm_factory_inst {
	char *path; /* instantiated path, "Device.LocalAgent.Controller.1." */
	uint16_t obj;
	size_t n_vals;
	struct sm_factory_val *vals; /* params of the instance or of its
				       * single-instance children ("MQTT.Topic") */
};

struct sim_model {
	struct sm_obj *objs;
	struct sm_param *params;
	struct sm_cmd *cmds;
	struct sm_event *events;
	struct sm_factory_inst *finsts;
	size_t n_objs, n_params, n_cmds, n_events, n_finsts, n_tables;
	size_t cap_objs, cap_params, cap_cmds, cap_events, cap_finsts;
};

/* Load a model file. On error returns < 0 and err says "file:line: why". */
int sim_model_load(const char *file, struct sim_model **out, struct uspc_err *err);
/* Same, from a NUL-terminated buffer; name is used in error messages. */
int sim_model_parse(const char *text, const char *name, struct sim_model **out,
		    struct uspc_err *err);
void sim_model_free(struct sim_model *m);

/* Object by supported-DM path ("Device.WiFi.SSID.{i}.", trailing "{i}."
 * optional for tables); SM_NONE if unknown. */
uint16_t sim_model_find_obj(const struct sim_model *m, const char *schema_path);
uint16_t sim_model_child(const struct sim_model *m, uint16_t obj, const char *name);
uint16_t sim_model_param(const struct sim_model *m, uint16_t obj, const char *name);
uint16_t sim_model_cmd(const struct sim_model *m, uint16_t obj, const char *name);
uint16_t sim_model_event(const struct sim_model *m, uint16_t obj, const char *name);
/* Resolve "Stats.BytesSent" relative to obj through single-instance children
 * only. *owner_obj receives the object holding the param. SM_NONE if not. */
uint16_t sim_model_rel_param(const struct sim_model *m, uint16_t obj, const char *rel,
			     uint16_t *owner_obj);
/* Is param p part of a unique-key set of its table? */
int sim_model_is_key(const struct sim_model *m, uint16_t p);

/* Type names as written in model files ("unsignedInt"); NULL if unknown. */
const char *sim_model_type_name(enum sm_type t);
/* Check value against a param's type, enum list and length:
 * 0, or a USP error code (7011 invalid type, 7012 invalid value). */
int sim_model_check_value(const struct sm_param *p, const char *value);

#endif
