/*
 * uspctl_profile.c — uspctl's provisioning profile ops (profile_put,
 * _plan, _status, _list, _delete, _reconcile, _history, _paths, _vars).
 * The database side is profile_admin.h; this file resolves targets, makes
 * the call and prints the answer (uspctl_out.h): one {"id","ok":true,
 * "result"} line per op, one line per item for the listing ops, or one
 * line error. Owns nothing between calls; runs on the run's thread and
 * connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "profile_admin.h"
#include "store_query.h"
#include "uspctl_internal.h"

#define PLAN_TIMEOUT_DEFAULT_S 30.0

static void print_result(struct uspctl_run *r, const char *id, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	uspctl_out_expect(&r->out, 1);
	uspctl_out_result(&r->out, id, text ? text : "null");
	cJSON_free(text);
}

/* One line per item; history and paths items carry their "agent". */
static void print_items(struct uspctl_run *r, const char *id, const cJSON *arr)
{
	for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
		const cJSON *agent = cJSON_GetObjectItemCaseSensitive(e, "agent");
		if (!cJSON_IsString(agent)) {
			print_result(r, id, e);
			continue;
		}
		char *text = cJSON_PrintUnformatted(e);
		uspctl_out_expect(&r->out, 1);
		uspctl_out_ok(&r->out, id, agent->valuestring, -1, text ? text : "null", NULL,
			      NULL);
		cJSON_free(text);
	}
}

void uspctl_profile(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	struct uspc_err err = { 0 };
	cJSON *res = NULL;
	char **eids = NULL;
	size_t n = 0;
	int rc = 0, listing = 0;
	/* ops over agents: resolve their targets first (unknown explicit
	 * EIDs get their own unknown_agent line) */
	int resolve = c->targets.given && c->op != USPCTL_OP_PROFILE_VARS;
	if (resolve && (rc = uspctl_resolve(r, c, line, &eids, &n)) < 0)
		return;
	if (resolve && n == 0 && c->op != USPCTL_OP_PROFILE_RECONCILE) {
		if (c->targets.n_eids == 0)
			uspctl_out_line_error(&r->out, c->id, line, USPCTL_E_NO_TARGETS,
					      "the selector matched no agent");
		store_strv_free(eids, n);
		return;
	}
	switch (c->op) {
	case USPCTL_OP_PROFILE_PUT:
		ADMIN(r, rc, err,
		      profile_admin_put(r->db, c->line, c->allow_empty, uspctl_actor(r), &res,
					&err));
		break;
	case USPCTL_OP_PROFILE_PLAN:
		ADMIN(r, rc, err,
		      profile_admin_plan(r->db, c->line,
					 c->sample >= 0 ? (int)c->sample
							: PROFILE_PLAN_SAMPLE_DEFAULT,
					 c->timeout_s > 0 ? c->timeout_s : PLAN_TIMEOUT_DEFAULT_S,
					 &res, &err));
		break;
	case USPCTL_OP_PROFILE_STATUS:
		ADMIN(r, rc, err, profile_admin_status(r->db, c->profile, &res, &err));
		break;
	case USPCTL_OP_PROFILE_LIST:
		ADMIN(r, rc, err, profile_admin_list(r->db, &res, &err));
		listing = 1;
		break;
	case USPCTL_OP_PROFILE_DELETE:
		ADMIN(r, rc, err, profile_admin_delete(r->db, c->profile, &res, &err));
		break;
	case USPCTL_OP_PROFILE_RECONCILE:
		if (c->targets.given && n == 0) {
			rc = uspc_err_set(&err, USPCTL_E_NO_TARGETS, "no agent to reconcile");
			break;
		}
		ADMIN(r, rc, err,
		      profile_admin_reconcile(r->db, c->profile,
					      c->targets.given ? (const char *const *)eids : NULL,
					      n, c->write_only, c->reset_contested, &res, &err));
		break;
	case USPCTL_OP_PROFILE_HISTORY:
		ADMIN(r, rc, err,
		      profile_admin_history(r->db, (const char *const *)eids, n, c->profile,
					    c->limit, &res, &err));
		listing = 1;
		break;
	case USPCTL_OP_PROFILE_PATHS:
		ADMIN(r, rc, err,
		      profile_admin_paths(r->db, (const char *const *)eids, n, c->path_prefix, &res,
					  &err));
		listing = 1;
		break;
	case USPCTL_OP_PROFILE_VARS: {
		const cJSON *vars = cJSON_GetObjectItemCaseSensitive(c->line, "vars");
		/* variables may come before their agent: no inventory check */
		ADMIN(r, rc, err,
		      profile_admin_vars(r->db, (const char *const *)c->targets.eids, &vars, 1,
					 &res, &err));
		break;
	}
	default:
		rc = uspc_err_set(&err, USPCTL_E_UNKNOWN_OP, "op is not a profile op");
	}
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line, rc, err.msg);
	else if (listing)
		print_items(r, c->id, res);
	else if (res)
		print_result(r, c->id, res);
	cJSON_Delete(res);
	store_strv_free(eids, n);
}
