/*
 * profile_admin.h — the operator's side of provisioning profiles
 * (docs/profiles.md): put a new version, preview it, read its status and
 * the fleet's profiles, delete one, apply one now, read an agent's audit
 * trail and path owners, load per-device variables. uspctl uses it (and
 * later an HTTP API): the database logic is here, the printing is the
 * caller's.
 *
 * Every function runs on a connection the caller owns, on the caller's
 * thread, and blocks. Changes are one transaction each and wake the
 * profile engines (NOTIFY uspc_profile). Results are new cJSON trees owned
 * by the caller. Errors: USPCTL_E_* codes (usp_err.h) with err->msg for an
 * operator; USPCTL_E_DATABASE when PostgreSQL refused a statement or the
 * connection is gone (fleet_admin_err_transient says whether a new
 * connection may help).
 */
#ifndef USPC_PROFILE_ADMIN_H
#define USPC_PROFILE_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "usp_err.h"

#define PROFILE_PLAN_SAMPLE_DEFAULT 5
#define PROFILE_PLAN_SAMPLE_MAX 50
#define PROFILE_HISTORY_DEFAULT 100
#define PROFILE_HISTORY_MAX 10000

/* The keys of a uspctl line that are not the definition's. */
extern const char *const profile_admin_line_keys[];

/*
 * profile_put: def is the line (the definition's fields at its top level,
 * beside profile_admin_line_keys). Refused, changing nothing: a definition
 * prof_spec_parse refuses; a selector that selects no agent today (unless
 * allow_empty); a ${var:NAME} no agent has; a live profile with the same
 * priority that names one of the same paths (USPCTL_E_PROFILE_CONFLICT).
 * A definition equal to the current version's is not a new version.
 * *out: {"profile","version","new":bool,"targets":n,"online":n}.
 */
int profile_admin_put(PGconn *c, const cJSON *def, int allow_empty, const char *actor, cJSON **out,
		      struct uspc_err *err);

/*
 * profile_plan: the definition (as for put) or, when def holds only
 * "name", that profile's current version. Counts the agents it selects
 * and, for up to sample online agents, Gets what it names (tasks, waited
 * for up to timeout_s) and shows what it would change, without changing
 * anything. *out: {"profile","targets","online","sample":[{"agent",
 * "outcome","changes":[...]} or {"agent","error"}]}.
 */
int profile_admin_plan(PGconn *c, const cJSON *def, int sample, double timeout_s, cJSON **out,
		       struct uspc_err *err);

/* {"name","version","deleted","priority","mode","created_at","created_by",
 *  "definition","counts":{targeted, compliant, drifted, failed,
 *  not_applicable, contested, pending},"behind":n}; USPCTL_E_UNKNOWN_PROFILE. */
int profile_admin_status(PGconn *c, const char *name, cJSON **out, struct uspc_err *err);

/* An array of {"name","version","deleted","priority","mode","updated_at","counts"}. */
int profile_admin_list(PGconn *c, cJSON **out, struct uspc_err *err);

/* {"profile","deleted":true,"agents":n}; USPCTL_E_UNKNOWN_PROFILE. */
int profile_admin_delete(PGconn *c, const char *name, cJSON **out, struct uspc_err *err);

/* Apply profile name now on eids (NULL: every agent in its scope):
 * {"profile","queued":n,"ready":n}. USPCTL_E_UNKNOWN_PROFILE. */
int profile_admin_reconcile(PGconn *c, const char *name, const char *const *eids, size_t n,
			    int force_write_only, int reset_contested, cJSON **out,
			    struct uspc_err *err);

/* The audit rows of eids (only profile name when not NULL), newest first,
 * at most limit: an array of {"id","agent","profile","version","triggers",
 * "outcome","detail","at","by","changes","rounds"}. */
int profile_admin_history(PGconn *c, const char *const *eids, size_t n, const char *name,
			  long limit, cJSON **out, struct uspc_err *err);

/* The path owners of eids under prefix ("" all): an array of {"agent",
 * "path","profile","version","since","state","value"}. */
int profile_admin_paths(PGconn *c, const char *const *eids, size_t n, const char *prefix,
			cJSON **out, struct uspc_err *err);

/* Per-device variables: eids[i] gets vars[i] (an object of strings),
 * replacing what it had; all or nothing. *out: {"agents":n}. */
int profile_admin_vars(PGconn *c, const char *const *eids, const cJSON *const *vars, size_t n,
		       cJSON **out, struct uspc_err *err);

#endif
