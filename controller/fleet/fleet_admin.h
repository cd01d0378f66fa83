/*
 * fleet_admin.h — the operator's side of firmware campaigns
 * (docs/campaigns.md): create and plan a campaign, read its progress and
 * its devices, pause, resume, abort, retry the failed devices, list the
 * campaigns, and the fleet's software versions. uspctl uses it (and later
 * an HTTP API): the database logic is here, the printing is the caller's.
 *
 * Every function runs on a connection the caller owns, on the caller's
 * thread, and blocks. A control (pause, resume, abort, retry_failed) locks
 * the campaign's row FOR UPDATE, waiting for an engine's pass over it to
 * end, so operator and engine never act on a campaign at once; each change
 * writes a campaign_events row and NOTIFY uspc_campaign (payload: the id)
 * so the engines look at it at once.
 *
 * Whatever changes device states here (create, abort, retry_failed) also
 * recounts the campaign's campaign_counts in the same transaction, as the
 * engine expects.
 *
 * Results are new cJSON trees owned by the caller (cJSON_Delete); times in
 * them are ISO-8601 strings as PostgreSQL prints them. Errors: USPCTL_E_*
 * codes (usp_err.h) with err->msg for an operator; USPCTL_E_DATABASE when
 * PostgreSQL refused a statement or the connection is gone (err->msg then
 * starts with the SQLSTATE; fleet_admin_err_transient says whether a new
 * connection may help). A campaign's credentials are never in a result or
 * an error message.
 */
#ifndef USPC_FLEET_ADMIN_H
#define USPC_FLEET_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "fleet_spec.h"
#include "store_query.h"
#include "usp_err.h"

/*
 * A campaign's targets are uspctl's "targets" (docs/uspctl.md) as a struct
 * store_selector (store_query.h): explicit Endpoint IDs, or a selector whose
 * given fields combine with AND. Stored in campaigns.selector as jsonb with
 * exactly these keys, each only when given (the engine re-evaluates it for
 * continuous campaigns; the condition is sql/_sel_jsonb.sql):
 *   "eids": ["os::...", ...]   explicit Endpoint IDs
 *   "tag": "beta"              agents carrying the tag
 *   "model": "...", "manufacturer": "...", "software_version": "..."
 *   "eid_like": "os::00D09E-%" the eid glob as a LIKE pattern (\ escapes)
 *   "all": true                every agent (alone, or with the others)
 * fleet_admin_versions also takes online (the jsonb key "online": bool);
 * campaigns do not (offline devices wait in their wave).
 */

/* A campaign, by id (> 0) or else by name. */
struct fleet_ref {
	int64_t id;
	const char *name;
};

#define FLEET_ADMIN_EIDS_MAX 100000      /* explicit Endpoint IDs of a campaign */
#define FLEET_ADMIN_SKIPPED_LIST 1000    /* skipped devices a plan names */
#define FLEET_ADMIN_DEVICES_DEFAULT 1000 /* campaign_devices rows by default */
#define FLEET_ADMIN_DEVICES_MAX 100000

/*
 * Create a campaign in one transaction: the definition (spec, validated by
 * fleet_spec_parse) over the agents sel matches now. Agents whose model or
 * software version the definition excludes, or that already run its
 * version, become 'skipped' rows with that reason ('excluded_model',
 * 'excluded_version', 'already_at_target'); the others 'pending', in a
 * seeded order (md5(seed || ':' || eid); stratified by model and software
 * version unless spec->stratify is 0) and cut into waves. The seed is
 * spec->seed, or a random one in 0..2^31-1. actor (e.g. "uspctl:alice")
 * goes into the 'created' event.
 *
 * *out: {"campaign":id,"name","state":"running","targets","pending",
 * "skipped","seed","waves":[{"wave":1,"devices":n},...]}.
 *
 * Errors: BAD_FIELD (an unknown time zone, a definition that is not UTF-8),
 * BAD_TARGETS (an empty selector, online given, or a continuous campaign
 * given a list of Endpoint IDs), UNKNOWN_AGENT (an
 * explicit Endpoint ID not in the inventory), CAMPAIGN_EXISTS (the name is
 * taken), NO_TARGETS (nothing matches and the campaign is not continuous),
 * CAMPAIGN_CONFLICT (a device that would be updated is in another campaign
 * that is not done with it: the message counts them and names the first
 * few with their campaigns), DATABASE, INTERNAL. Nothing is created then.
 */
int fleet_admin_create(PGconn *c, const struct fleet_spec *spec, const struct store_selector *sel,
		       const char *actor, cJSON **out, struct uspc_err *err);

/*
 * What fleet_admin_create would do, computed the same way in a transaction
 * that is rolled back: the same fields (no "campaign"; "seed" is the one
 * chosen, give it to create for the same plan) plus "by_model" and
 * "by_from_version" ({"model": n}: the pending devices, "" for an agent
 * without one), "per_wave" ([{"wave","devices","by_model",
 * "by_from_version"}]) and "skipped_devices" ([{"agent","reason"}], the
 * first FLEET_ADMIN_SKIPPED_LIST by Endpoint ID, with
 * "skipped_devices_truncated": true when there are more). Same errors.
 */
int fleet_admin_plan(PGconn *c, const struct fleet_spec *spec, const struct store_selector *sel,
		     cJSON **out, struct uspc_err *err);

/*
 * A campaign's progress (docs/uspctl.md, campaign_status, lists every
 * field): state, counts per device state, per wave, per failure reason, per
 * model and from-version, rates, ETA, threshold headroom, top faults, the
 * window, the last events. clock_offset_s moves the clock the window is
 * read with (tests; the daemon has the same knob). UNKNOWN_CAMPAIGN,
 * DATABASE, INTERNAL.
 */
int fleet_admin_status(PGconn *c, const struct fleet_ref *ref, int64_t clock_offset_s, cJSON **out,
		       struct uspc_err *err);

/* Every campaign, newest first, as an array of {"campaign","name","state",
 * "reason","targets","wave","waves","counts":{"succeeded","failed",
 * "timed_out","in_progress","pending","skipped","canceled"},"created_at",
 * "finished_at"}. */
int fleet_admin_list(PGconn *c, cJSON **out, struct uspc_err *err);

/* campaign_devices filters; NULL / 0 do not filter. */
struct fleet_devices_filter {
	const char *state;  /* a device state name (fleet_fw.h) */
	const char *reason; /* e.g. "download_failed" */
	int wave;           /* 1-based */
	int64_t limit;      /* 0: FLEET_ADMIN_DEVICES_DEFAULT; at most _MAX */
};

/*
 * The campaign's devices in wave and seeded order: each(arg, device) per
 * row, device = {"agent","state","step","reason","fail_class","detail",
 * "attempt","wave","bank","model","from_version","started_at",
 * "finished_at","timeline":[...]} (borrowed for the call). A non-zero
 * return from each stops the walk. BAD_FIELD (an unknown state, a limit
 * out of range), UNKNOWN_CAMPAIGN, DATABASE, INTERNAL.
 */
int fleet_admin_devices(PGconn *c, const struct fleet_ref *ref,
			const struct fleet_devices_filter *f,
			int (*each)(void *arg, const cJSON *device), void *arg,
			struct uspc_err *err);

enum fleet_control {
	FLEET_CTL_PAUSE,  /* running | waiting_window → paused (paused: ok) */
	FLEET_CTL_RESUME, /* paused → running, breaker and thresholds start over */
	FLEET_CTL_ABORT,  /* → aborted; pending devices → canceled (aborted: ok) */
	/* failed / timed_out devices whose failure was retryable → pending
	 * with a whole budget of attempts (retry_base = attempt), unless
	 * another campaign has taken the device; a finished campaign runs
	 * again */
	FLEET_CTL_RETRY_FAILED,
};

/*
 * Apply a control, in one transaction that waits for the campaign's row
 * lock. *out: {"campaign","name","before","state","reason","changed"}
 * plus "canceled" (abort) or "retried" and "in_other_campaign"
 * (retry_failed). Asking for the state a campaign is in already is ok and
 * changes nothing. CAMPAIGN_STATE when the campaign's state does not allow
 * it (pause / resume a finished or aborted campaign, abort a finished
 * one, retry_failed on an aborted one), UNKNOWN_CAMPAIGN, CAMPAIGN_CONFLICT
 * (retry_failed raced with a create taking a device), DATABASE, INTERNAL.
 */
int fleet_admin_control(PGconn *c, const struct fleet_ref *ref, enum fleet_control op,
			const char *actor, cJSON **out, struct uspc_err *err);
const char *fleet_control_name(enum fleet_control op); /* "pause", ... */

/*
 * Fleet compliance from the inventory (what the devices report, not what
 * campaigns claim): an array of {"model","software_version","devices",
 * "online"}, one per model and software version of the agents sel matches
 * (NULL: all), by model and version. BAD_TARGETS, DATABASE, INTERNAL.
 */
int fleet_admin_versions(PGconn *c, const struct store_selector *sel, cJSON **out,
			 struct uspc_err *err);

/* A DATABASE error worth retrying on the same or a new connection
 * (store_err_is_transient's rules). */
int fleet_admin_err_transient(const struct uspc_err *err);

#endif
