/*
 * profile_run_internal.h — what the four files of a profile run share:
 * profile_run.c (the machine: begin/next, rounds, the round's action,
 * verdicts), profile_run_want.c (what each profile wants, compared with a
 * read and merged), profile_run_answer.c (reading the agent's answers) and
 * profile_run_work.c (the work object, per-agent state, small helpers).
 * Not a public header: callers use profile_run.h.
 */
#ifndef USPC_PROFILE_RUN_INTERNAL_H
#define USPC_PROFILE_RUN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "profile_run.h"
#include "profile_spec.h"
#include "usp_err.h"

#define PRUN_INDEX_MAX 100000 /* requested paths + resolved objects + params of one GetResp */
#define PRUN_MATCH_MAX 64     /* instances of one ensure_instance whose params are set */
#define PRUN_DELETE_MAX 256   /* instances one Delete removes */
#define PRUN_ADD_MAX 64       /* rows one Add creates */
#define PRUN_ITEMS_MAX 200000 /* desired values, rows and commands of one read */
#define PRUN_LOG_MAX 1000     /* history changes kept per profile and run */
#define PRUN_STATE_MAX 8192   /* entries of each map of a profile's state */
#define PRUN_TIMES_MAX 64     /* Set times kept per path */
#define PRUN_PATH_MAX 4096    /* longest path indexed or requested */
#define PRUN_SEARCH_MAX 16384 /* longest search path */
#define PRUN_SHOW_MAX 512     /* bytes of a value shown in history */
#define PRUN_MSG_MAX 200      /* bytes of an agent's err_msg kept */
#define PRUN_KEY_MAX 200      /* bytes of a once marker */
#define PRUN_ATTRS_MAX 1024   /* paths of one set_attributes (a profile names at most 1024) */

/* A hash map of borrowed strings (a string may be given in two parts). */
struct hent {
	const char *a, *b;
	size_t alen, blen;
	uint64_t h;
	const cJSON *j; /* what the key maps to (borrowed) */
	cJSON *w;       /* or a node being built */
	long i1, i2;
};

struct hmap {
	struct hent *e;
	size_t mask, n;
};

/* A list of owned strings. */
struct strv {
	char **v;
	size_t n, cap;
};

/* One call of prun_begin or prun_next. */
struct run {
	const struct prun_profile *p;
	size_t n;
	const struct prun_ctx *ctx;
	cJSON *work;  /* the new work, owned until handed out */
	cJSON **prof; /* work.profiles[i] */
	int round;
	int oom;
};

/* The kinds of the round's action (work.act.kind). */
enum { ACT_DELETE, ACT_ADD, ACT_SET, ACT_OPERATE, ACT_STAMP, ACT_ATTRS, ACT_KINDS };
extern const char *const prun_act_kinds[]; /* their names, by ACT_* */

/* A GetResp, indexed. */
struct rd {
	struct hmap rq;  /* requested_path -> its req_path_result */
	struct hmap val; /* resolved_path + key -> the value (a string) */
};

/* What each profile wants, as items. K_ATTR: a notification attribute,
 * path its prof_attr_key, target the parameter, want and have "0".."6". */
enum { K_SET, K_ADD, K_ADDN, K_DEL, K_CLAIM, K_OP, K_ATTR };

struct item {
	int kind;
	size_t prof, step;
	char *path;   /* merge key: param path, search path (row), table, instance */
	char *target; /* acted on when not path: the table of an Add, a Delete's instance */
	char *want;   /* K_SET: the expanded value; K_OP: the command key */
	const struct prof_value *v;
	const char *have; /* K_SET: the value read (borrowed), NULL absent */
	int differs, overridden, dropped, contested;
};
#define TGT(it) ((it)->target ? (it)->target : (it)->path)

struct items {
	struct item *v;
	size_t n, cap;
	int full;
};

/* profile_run_work.c */

/* The outcome named s, or -1. */
int prun_outcome_parse(const char *s);
/* o[key] (NULL when o is no object or has no key); the next three only
 * when of that type. */
const cJSON *prun_get(const cJSON *o, const char *key);
const char *prun_str_of(const cJSON *o, const char *key);
const cJSON *prun_arr_of(const cJSON *o, const char *key);
const cJSON *prun_obj_of(const cJSON *o, const char *key);
/* err_code of a failure member: a number (0 when absent or odd). */
int64_t prun_code_of(const cJSON *o);
/* Copy src into dst, cut to at most size - 1 bytes of valid UTF-8. */
void prun_copy(char *dst, size_t size, const char *src);
void prun_fmt(char *dst, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
/* "Device.Time.NTPServer1": the object path's length ("Device.Time."),
 * 0 when there is no parameter name after the last '.'. */
size_t prun_obj_len(const char *path);
/* v as history shows it: "(secret)" for write-only and secret names. */
const char *prun_shown(const char *path, int write_only, const char *v);
/* sp is a usable stamp parameter path. */
int prun_stamp_path_ok(const char *sp);
/* The write-only hash: lowercase hex SHA-256 of "<version>\n<path>\n<value>". */
int prun_wo_hash(int64_t version, const char *path, const char *value, char out[65]);
/* Set o[key] = item (replacing), noting out of memory. */
void prun_put(struct run *r, cJSON *o, const char *key, cJSON *item);
/* Append item to a, noting out of memory. */
void prun_push(struct run *r, cJSON *a, cJSON *item);
/* s cut to max bytes (at most PRUN_SHOW_MAX) as a new string. */
cJSON *prun_str_cut(const char *s, size_t max);
/* Profile i has no verdict yet. */
int prun_active(const struct run *r, size_t i);
/* A profile that acts (enforce or once, not a dry run). */
int prun_acting(const struct run *r, size_t i);
/* state[key] of profile i in the run's work. */
cJSON *prun_pstate(const struct run *r, size_t i, const char *key);
/* The profile's verdict is known (the first one stays). */
void prun_mark(struct run *r, size_t i, enum prun_outcome o, int retry, const char *detail);
/* A USP error on a path of profile i: permanent → not applicable, else failed. */
void prun_fail_path(struct run *r, size_t i, const char *path, int64_t code, const char *msg);
/* Every profile without a verdict has failed (retry). */
void prun_fail_active(struct run *r, const char *detail);
/* A change in profile i's history (at most PRUN_LOG_MAX, then counted). */
void prun_log_change(struct run *r, size_t i, const char *path, const char *old, const char *new,
		     const char *action, const char *result, int64_t code, const char *msg);
/* The state profile i starts this run with (see profile_run.h). */
cJSON *prun_state_init(struct run *r, size_t i);
/* The state to keep: the run's state with the profile's version. */
cJSON *prun_state_out(const struct run *r, size_t i);
/* 1 when path of profile i must not be set now: listed as contested, or
 * set contest_count times within the window (then listed, if mark). */
int prun_contested_now(struct run *r, size_t i, const char *path, int mark_it);
/* A successful Set of path by profile i, now. */
void prun_record_set(struct run *r, size_t i, const char *path);
/* ACT_* of a kind's name, or -1. */
int prun_act_kind(const char *s);
/* 0, or USPCTL_E_BAD_FIELD: this is not a work object of these profiles. */
int prun_work_ok(const cJSON *w, const struct prun_profile *p, size_t n, struct uspc_err *err);

/* profile_run_answer.c */

/* A map for about want entries: 0 or -1. */
int prun_hmap_init(struct hmap *m, size_t want);
void prun_hmap_fini(struct hmap *m);
/* The entry of s[0..len) (or s), or NULL. */
struct hent *prun_hmap_getn(const struct hmap *m, const char *s, size_t len);
struct hent *prun_hmap_get(const struct hmap *m, const char *s);
/* The entry of a..b, added (i1 = i2 = -1) when new; NULL when full. */
struct hent *prun_hmap_put(struct hmap *m, const char *a, size_t alen, const char *b, size_t blen);
/* Free what prun_rd_build indexed (after it returned 0). */
void prun_rd_fini(struct rd *rd);
/* Index a GetResp: 0, 1 unreadable, 2 too large, -1 out of memory. */
int prun_rd_build(struct rd *rd, const cJSON *res);
/* The value read at path, the req_path_result of a requested path; or NULL. */
const char *prun_rd_value(const struct rd *rd, const char *path);
const cJSON *prun_rd_req(const struct rd *rd, const char *path);
/* The distinct instance numbers directly under table among the resolved
 * paths of rr, ascending, in *out (malloc'd; NULL when none): 0 or -1. */
int prun_instances(const cJSON *rr, const char *table, int64_t **out, size_t *n);
/* The answer to the round's action; then the next round. 0 or -1. */
int prun_after_act(struct run *r, const cJSON *res, struct prun_step *out);
/* The answer to the round's read; then the decision. 0 or -1. */
int prun_after_read(struct run *r, const cJSON *res, struct prun_step *out);
/* The answer to the round's get_attributes: work.attrs, then the Get. */
int prun_after_attrs(struct run *r, const cJSON *res, struct prun_step *out);

/* profile_run_want.c */

/* Append s (taken; NULL: -1), or -1 and s freed. */
int prun_strv_take(struct strv *sv, char *s);
void prun_strv_fini(struct strv *sv);
/* a + b as a new string */
char *prun_cat(const char *a, const char *b);
/* Expand text for profile i, step k into buf (PROF_VALUE_MAX + 1 bytes):
 * 0, or 1 after marking the profile FAILED (not worth retrying). */
int prun_expand(struct run *r, size_t i, size_t k, const char *text, char *buf);
/* The paths profile i reads, into sv: 0, 1 the profile failed, -1 no memory. */
int prun_prof_reads(struct run *r, size_t i, struct strv *sv);
/* The notification paths profile i sets, into sv (none when the agent
 * is no TR-069 device): 0, or -1 no memory. */
int prun_prof_attrs(struct run *r, size_t i, struct strv *sv);
/* Step st applies to this agent (its protocol). */
int prun_step_applies(const struct run *r, const struct prof_step *st);
/* Every template of profile i has a value for this agent: 0, or 1 (FAILED). */
int prun_tpl_check(struct run *r, size_t i);
/* The once marker an operate step of profile i would leave now. */
void prun_once_key(const struct run *r, size_t i, const struct prof_step *st, char *out);
/* Work an acting profile has to do for this item. */
int prun_todo(const struct run *r, const struct item *it);
/* Path errors of this read, then the items, the merge and the decision. */
int prun_read_done(struct run *r, const struct rd *rd, struct prun_step *out);

/* profile_run.c */

/* The run is over: one verdict per profile. 0 or -1. */
int prun_finish(struct run *r, struct prun_step *out);
/* No answer: the run stops without verdicts. */
int prun_interrupt(struct run *r, struct prun_step *out);
/* After an answer that gives no values: read again, unless out of rounds. */
int prun_next_round(struct run *r, struct prun_step *out);
/* After a read: pick the round's action, or conclude. */
int prun_decide(struct run *r, const struct rd *rd, struct items *v, struct prun_step *out);
/* The round's reads: get_attributes first when work.attrs is not there
 * yet and a profile sets attributes, else the Get. 0 or -1. */
int prun_issue_read(struct run *r, struct prun_step *out);
/* The get_attributes of the first profile from `from` on that takes part
 * and names notification paths: 1 sent, 0 none, -1 out of memory. */
int prun_issue_attr_read(struct run *r, size_t from, struct prun_step *out);

#endif
