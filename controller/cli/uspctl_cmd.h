/*
 * uspctl_cmd.h — the batch tool's command-line contract: one JSON object per
 * input line is parsed and validated into a struct uspctl_cmd. Pure (no I/O,
 * no database): the same parser runs in uspctl and in the fuzz target.
 *
 * A line: {"id":"1","op":"get","targets":T,"paths":["Device.DeviceInfo."],...}
 * See docs/uspctl.md for every op and its fields.
 */
#ifndef USPC_USPCTL_CMD_H
#define USPC_USPCTL_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "usp_err.h"

#define USPCTL_LINE_MAX (1024 * 1024) /* bytes per input line */
#define USPCTL_ID_MAX 128
#define USPCTL_MAX_EIDS 100000 /* explicit EIDs in one command */
#define USPCTL_MAX_PATHS 1024

/* X(op, "name", is a USP request, USP message type name or NULL) */
#define USPCTL_OPS(X)                                                                    \
	X(GET, "get", 1, "get")                                                          \
	X(SET, "set", 1, "set")                                                          \
	X(ADD, "add", 1, "add")                                                          \
	X(DELETE, "delete", 1, "delete")                                                 \
	X(OPERATE, "operate", 1, "operate")                                              \
	X(GET_SUPPORTED_DM, "get_supported_dm", 1, "get_supported_dm")                   \
	X(GET_INSTANCES, "get_instances", 1, "get_instances")                            \
	X(GET_SUPPORTED_PROTOCOL, "get_supported_protocol", 1, "get_supported_protocol") \
	X(SET_ATTRIBUTES, "set_attributes", 1, "set_attributes")                         \
	X(GET_ATTRIBUTES, "get_attributes", 1, "get_attributes")                         \
	X(LIST_AGENTS, "list_agents", 0, NULL)                                           \
	X(SHOW_AGENT, "show_agent", 0, NULL)                                             \
	X(TAG, "tag", 0, NULL)                                                           \
	X(UNTAG, "untag", 0, NULL)                                                       \
	X(SUBSCRIBE, "subscribe", 1, "add")                                              \
	X(UNSUBSCRIBE, "unsubscribe", 1, "delete")                                       \
	X(SNAPSHOT, "snapshot", 0, NULL)                                                 \
	X(TASK_STATUS, "task_status", 0, NULL)                                           \
	X(CANCEL, "cancel", 0, NULL)                                                     \
	X(CAMPAIGN_CREATE, "campaign_create", 0, NULL)                                   \
	X(CAMPAIGN_PLAN, "campaign_plan", 0, NULL)                                       \
	X(CAMPAIGN_STATUS, "campaign_status", 0, NULL)                                   \
	X(CAMPAIGN_PAUSE, "campaign_pause", 0, NULL)                                     \
	X(CAMPAIGN_RESUME, "campaign_resume", 0, NULL)                                   \
	X(CAMPAIGN_ABORT, "campaign_abort", 0, NULL)                                     \
	X(CAMPAIGN_RETRY_FAILED, "campaign_retry_failed", 0, NULL)                       \
	X(CAMPAIGN_DEVICES, "campaign_devices", 0, NULL)                                 \
	X(CAMPAIGN_LIST, "campaign_list", 0, NULL)                                       \
	X(FLEET_VERSIONS, "fleet_versions", 0, NULL)                                     \
	X(PROFILE_PUT, "profile_put", 0, NULL)                                           \
	X(PROFILE_PLAN, "profile_plan", 0, NULL)                                         \
	X(PROFILE_STATUS, "profile_status", 0, NULL)                                     \
	X(PROFILE_LIST, "profile_list", 0, NULL)                                         \
	X(PROFILE_DELETE, "profile_delete", 0, NULL)                                     \
	X(PROFILE_RECONCILE, "profile_reconcile", 0, NULL)                               \
	X(PROFILE_HISTORY, "profile_history", 0, NULL)                                   \
	X(PROFILE_PATHS, "profile_paths", 0, NULL)                                       \
	X(PROFILE_VARS, "profile_vars", 0, NULL)                                         \
	X(REJECTIONS, "rejections", 0, NULL)                                             \
	X(NOTIFICATIONS, "notifications", 0, NULL)                                       \
	X(TASK_LIST, "task_list", 0, NULL)                                               \
	X(OPERATION_RESULTS, "operation_results", 0, NULL)                               \
	X(TAG_LIST, "tag_list", 0, NULL)                                                 \
	X(FLEET_SUMMARY, "fleet_summary", 0, NULL)                                       \
	X(TOKEN_CREATE, "token_create", 0, NULL)                                         \
	X(TOKEN_LIST, "token_list", 0, NULL)                                             \
	X(TOKEN_REVOKE, "token_revoke", 0, NULL)

enum uspctl_op {
#define USPCTL_OP_ENUM_(op, name, usp, type) USPCTL_OP_##op,
	USPCTL_OPS(USPCTL_OP_ENUM_)
#undef USPCTL_OP_ENUM_
		USPCTL_OP_COUNT_
};

/* Error identifiers reported in result lines as error.code: USPCTL_E_*
 * (USPCTL_ERRORS in usp_err.h). */
const char *uspctl_error_name(int code);

struct fleet_spec; /* fleet_spec.h */

/* Target selection: explicit EIDs, or a selector over the inventory. */
struct uspctl_targets {
	char **eids; /* explicit endpoint IDs (owned) */
	size_t n_eids;
	int all; /* {"all": true} */
	char *tag, *model, *manufacturer, *software_version, *eid_glob;
	int online; /* -1 any, 0 offline, 1 online */
	int given;  /* "targets" was present */
};

struct uspctl_cmd {
	char id[USPCTL_ID_MAX + 1];
	enum uspctl_op op;
	struct uspctl_targets targets;
	/* USP ops: the request in docs/json.md shape for usp_type, validated */
	const char *usp_type;
	cJSON *usp_args; /* owned */
	/* options (negative = not given, use the global default) */
	int wait; /* -1, 0, 1 */
	double timeout_s;
	double expires_s;
	int wait_complete; /* operate: wait for OperationComplete */
	long max_inflight; /* this command's tasks in flight at once */
	/* fleet ops */
	char **strings; /* tag/untag: tags; snapshot: path prefixes; task_status/cancel: task ids as text */
	size_t n_strings;
	/* campaign ops (uspctl_op_is_campaign) */
	struct fleet_spec *spec;      /* campaign_create / _plan: the definition (owned) */
	int64_t campaign_id;          /* "campaign": an id (> 0), or 0 ... */
	char *campaign_name;          /* ... and a name (owned) */
	char *dev_state, *dev_reason; /* campaign_devices filters (owned, NULL: any) */
	int dev_wave;                 /* 1-based; 0 any */
	long dev_limit;               /* 0: the default */
	/* profile ops (uspctl_op_is_profile): the line itself (profile_admin.h
	 * reads the definition from it) and its common fields */
	cJSON *line;       /* owned */
	char *profile;     /* "name" (owned) */
	char *path_prefix; /* profile_paths: "path" (owned) */
	int write_only, reset_contested, allow_empty;
	long sample, limit; /* limit: profile_history, rejections, list_agents and the
			     * reads below (0: the default) */
	/* rejections: filters (owned, NULL: any; since_s 0: any age) */
	char *rej_sender, *rej_reason;
	double since_s; /* rejections, notifications */
	/* list_agents: only agents whose eid sorts after this one (owned) */
	char *after;
	/* notifications, task_list, operation_results: filters (owned, NULL:
	 * any; path_prefix above is notifications' "path"; until_s 0: any
	 * age; before 0: any id) */
	char *kind, *task_state, *task_op, *batch, *command_key;
	double until_s;
	int64_t before;
	int64_t after_id; /* notifications: only newer ids, oldest first (-1: not given) */
	/* token ops (uspctl_op_is_token): token_create's name, role, expires
	 * (seconds, 0: never); token_revoke's token_id or name */
	char *token_name, *token_role;
	int64_t token_id;
	long token_expires_s;
};

void uspctl_cmd_init(struct uspctl_cmd *c);
void uspctl_cmd_fini(struct uspctl_cmd *c);
const char *uspctl_op_name(enum uspctl_op op);
int uspctl_op_is_usp(enum uspctl_op op);
/* campaign_* and fleet_versions: answered by fleet_admin (uspctl_campaign.c). */
int uspctl_op_is_campaign(enum uspctl_op op);
/* profile_*: answered by profile_admin (uspctl_profile.c). */
int uspctl_op_is_profile(enum uspctl_op op);
/* token_*: the HTTP API's tokens, through store_tokens.h (uspctl_token.c). */
int uspctl_op_is_token(enum uspctl_op op);

/*
 * Parse one line (not necessarily NUL-terminated). On failure returns a
 * USPCTL_E_* code, err->msg says what, and c->id holds the line's "id" if it
 * could be read (so the error result can carry it).
 */
int uspctl_cmd_parse(const char *line, size_t len, struct uspctl_cmd *c, struct uspc_err *err);

#endif
