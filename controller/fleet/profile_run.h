/*
 * profile_run.h — one agent's application of its provisioning profiles (a
 * "run"), as a pure state machine: from the profiles in scope, the agent's
 * context and the answer to the last request, the next request (one USP
 * Get, Delete, Add, Set or Operate) or the verdict per profile. No I/O:
 * the profile engine (profile_pass.c) stores the run's state between
 * answers and inserts the requests as tasks; unit-tested
 * (test_profile_run) and fuzzed (fuzz_profile).
 *
 * A run is a loop of rounds. Each round reads, with one Get, exactly the
 * paths the profiles name (parameters, the search paths of ensure_* rows,
 * the tables of ensure_count, the stamp path), then compares every
 * desired value with the value just read — never with the snapshot — and
 * sends the first non-empty action of: one Delete (ensure_absent matches,
 * ensure_count excess: highest instance numbers first), one Add (missing
 * ensure_instance / subscribe rows with their keys and params,
 * ensure_count deficit), one Set (every differing value), one Operate (the
 * first operate step due), one Set of the stamp. All with allow_partial
 * true, every parameter required, so a failure is reported per object and
 * attributed to the profile that owns the path. After an action the next
 * round reads again; a round with nothing to do ends the run.
 *
 * TR-069 devices (ctx.cwmp): notification steps apply, subscribe steps do
 * not (a USP agent: the other way round). When a profile in the run has
 * notification steps, each round starts with one GetParameterAttributes
 * (op "get_attributes") of their paths before the Get, and the round's
 * actions gain one set_attributes of every differing attribute, after the
 * Set and before the Operate. An attribute merges apart from its
 * parameter's value: by prof_attr_key of its path.
 *
 * Merging: per concrete path the profile with the highest priority owns it
 * (ties cannot happen: profile_put refuses them); lower ones are
 * "overridden" there and do not count it. An audit profile compares and
 * never acts: a difference it owns makes it drifted. Profiles are given in
 * ascending priority; steps run in their order within a profile.
 *
 * Values compare by the type the definition gives: a JSON boolean matches
 * "true"/"1" or "false"/"0"; a number matches any text strtod reads to the
 * same value; a string matches exactly, except that "true"/"false" also
 * match "1"/"0". A write-only value matches when it reads back equal, or
 * reads back empty and the profile's state holds its hash for this profile
 * version (SHA-256 of version, path and value).
 *
 * Contested: each successful Set of a path is remembered (epoch seconds)
 * in the profile's per-agent state; a path that would be set for the
 * (contest_count + 1)th time within contest_window_s is not set but
 * marked contested, and stays so until the profile version changes or the
 * engine passes reset_contested.
 */
#ifndef USPC_PROFILE_RUN_H
#define USPC_PROFILE_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "profile_spec.h"
#include "usp_err.h"

#define PRUN_MAX_ROUNDS 8
#define PRUN_DETAIL_MAX 256

/* One profile in scope for the agent. */
struct prun_profile {
	const struct prof_spec *spec;
	int64_t version;
	/* The profile's per-agent state as the last run left it (NULL: none):
	 * {"version": v, "wo": {path: hash}, "once": {"<step index>": key},
	 *  "sets": {path: [epoch_s, ...]}, "contested": [path, ...]}.
	 * Borrowed. A state of another version is read as empty except
	 * "once" (whose keys carry their own version). */
	const cJSON *state;
};

/* What the engine knows about the agent and the occasion. */
struct prun_ctx {
	struct prof_tpl_ctx tpl;
	const char *boot_key;     /* the agent's current boot ("" unknown): once_per boot */
	int64_t now_s;            /* epoch seconds */
	int contest_count;        /* N: at most N Sets of one path ... */
	int64_t contest_window_s; /* ... within T seconds */
	const char *stamp_path;   /* "" or NULL: no stamp */
	int factory_reset;        /* the agent was factory reset: forget wo, sets, once "boot" */
	int force_write_only;     /* re-set write-only values whatever their hash */
	int reset_contested;
	int dry_run; /* profile_plan: read, compare, never act */
	int cwmp;    /* a TR-069 device (agents.protocol 'cwmp') */
};

/* How the last request ended (the task's final state). */
struct prun_answer {
	/* 1: the agent answered (result below, possibly a USP Error);
	 * 0: no answer (timeout, offline, expired, canceled, outcome unknown) */
	int answered;
	/* the compact response (docs/json.md): get_resp, delete_resp,
	 * add_resp, set_resp, operate_resp, or {"type":"error","err_code":..,
	 * "err_msg":..,"param_errs":[{"param_path","err_code","err_msg"}]} */
	const cJSON *result;
};

enum prun_outcome {
	PRUN_COMPLIANT,      /* every owned value matches a fresh read */
	PRUN_DRIFTED,        /* audit: an owned value differs */
	PRUN_FAILED,         /* a template without a value, a transient error, no convergence */
	PRUN_NOT_APPLICABLE, /* a permanent USP error on one of its paths */
	PRUN_CONTESTED,      /* a path keeps changing back */
};
const char *prun_outcome_name(enum prun_outcome o); /* "compliant", ... */

struct prun_verdict {
	enum prun_outcome outcome;
	int retry; /* FAILED by a transient error: worth retrying with back-off */
	char detail[PRUN_DETAIL_MAX]; /* "" or e.g. "Device.X.Y: 7013 not writable" */
	cJSON *state;                 /* the new per-agent state (owned by the verdict) */
	/* the audit entry (owned): {"outcome", "detail", "rounds",
	 *  "changes": [{"path", "old", "new", "action": "set"|"add"|"delete"|
	 *  "operate"|"set_notification"|"would_set"|..., "result": "ok"|"failed"|"overridden"|
	 *  "contested"|"not_applicable"|"drifted", "err_code", "err_msg"}]}
	 * ("drifted": an audit profile's or a dry run's difference, with the
	 * would_* action enforcing it takes; "changes_dropped": N when more
	 * changes than the history keeps)
	 * with write-only values and parameters named like secrets
	 * (…Password, …Passphrase, …PreSharedKey, …WEPKey, …Secret) shown as
	 * "(secret)". In a dry run, "changes" are what would be done. */
	cJSON *history;
};

struct prun_step {
	cJSON *work;    /* the run's state to keep until the answer (owned) */
	const char *op; /* the next request's type ("get", "set", ...), NULL when done */
	cJSON *request; /* its request arguments (docs/json.md), owned */
	int done;
	/* done without verdicts: the agent did not answer (the engine retries
	 * later or at the next onboarding); n_verdicts is 0 */
	int interrupted;
	struct prun_verdict *verdicts; /* done: one per profile, in input order */
	size_t n_verdicts;
	/* done: the concrete paths of this agent and their owner,
	 * {"Device.Time.NTPServer1": {"profile": "ntp", "version": 3}, ...} */
	cJSON *owners;
	char stamp[64]; /* done: the stamp value this run wrote or found ("" none) */
	/* interrupted: what the run already did, one state per profile in
	 * input order (a JSON array, owned): once markers of Operates that
	 * were sent, Set times, write-only hashes. Worth saving, so that an
	 * Operate that cut the run (a Reboot()) is not sent again; NULL
	 * otherwise. */
	cJSON *states;
};

void prun_step_fini(struct prun_step *s);

/* Start a run: the first read. */
int prun_begin(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx,
	       struct prun_step *out, struct uspc_err *err);

/* Advance a run after the request it asked for ended. work is what the
 * previous step returned; p, n and ctx must be the same profiles (same
 * versions, same order) as at prun_begin. Never fails on anything an agent
 * sends: a malformed answer is a transient failure of the run. Errors
 * (USPC_E_NOMEM, or USPCTL_E_BAD_FIELD for a work object this code did not
 * write) are the engine's. */
int prun_next(const struct prun_profile *p, size_t n, const struct prun_ctx *ctx, const cJSON *work,
	      const struct prun_answer *answer, struct prun_step *out, struct uspc_err *err);

/* The stamp for these profile versions: "uspc:" and 12 hex digits of the
 * SHA-256 of "name:version\n" lines in name order. */
void prun_stamp(const struct prun_profile *p, size_t n, char out[64]);

/* Error codes that make a profile not_applicable (the path or value
 * cannot work on this firmware): USP 7010 7011 7012 7013 7016 7017 7018
 * 7019 7021 7025 7026 7027; CWMP faults 9000 (method not supported), 9003
 * (invalid arguments), 9005 9006 9007 9008 (name, type, value, not
 * writable) and 9009 (notification request rejected). */
int prun_err_permanent(int64_t code);

#endif
