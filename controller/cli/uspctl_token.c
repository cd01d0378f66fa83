/*
 * uspctl_token.c — uspctl's token ops (token_create, token_list,
 * token_revoke): the bearer tokens of the HTTP API, through
 * store_tokens.h. One {"id","ok":true,"result"} line per op (token_list:
 * one per token), or one line error.
 *
 * Owns nothing between calls; runs on the run's thread and connection.
 * The token's text appears once, in token_create's result line, and is
 * wiped from this file's buffer afterwards; the database holds only its
 * SHA-256.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store_tokens.h"
#include "uspctl_internal.h"

static int code_of(int rc)
{
	switch (rc) {
	case STORE_E_EXISTS:
		return USPCTL_E_TOKEN_EXISTS;
	case STORE_E_NOTFOUND:
		return USPCTL_E_UNKNOWN_TOKEN;
	case STORE_E_ARG:
		return USPCTL_E_BAD_FIELD;
	case STORE_E_NOMEM:
		return USPCTL_E_INTERNAL;
	default:
		return USPCTL_E_DATABASE;
	}
}

static void print_result(struct uspctl_run *r, const char *id, const cJSON *j)
{
	char *text = cJSON_PrintUnformatted(j);
	uspctl_out_expect(&r->out, 1);
	uspctl_out_result(&r->out, id, text ? text : "null");
	cJSON_free(text);
}

void uspctl_token(struct uspctl_run *r, const struct uspctl_cmd *c, long line)
{
	struct uspc_err err = { 0 };
	char token[STORE_TOKEN_TEXT_MAX] = "";
	cJSON *res = NULL;
	int rc, role;
	/* create and revoke are not retried after a lost connection: the first
	 * try may have committed (the retry would then say token_exists or
	 * unknown_token); token_list shows what is so */
	switch (c->op) {
	case USPCTL_OP_TOKEN_CREATE:
		role = store_role_from_name(c->token_role);
		rc = store_token_create(r->db, c->token_name,
					role < 0 ? STORE_ROLE_NONE : (enum store_role)role,
					c->token_expires_s, uspctl_actor(r), token, &res, &err);
		if (rc == 0 && !cJSON_AddStringToObject(res, "token", token))
			rc = uspc_err_set(&err, STORE_E_NOMEM, "out of memory");
		break;
	case USPCTL_OP_TOKEN_LIST:
		DB_RETRY(r, rc, err, store_token_list(r->db, &res, &err));
		break;
	case USPCTL_OP_TOKEN_REVOKE:
		rc = store_token_revoke(r->db, c->token_id, c->token_name, &res, &err);
		break;
	default:
		rc = uspc_err_set(&err, USPCTL_E_UNKNOWN_OP, "op is not a token op");
	}
	if (rc < 0)
		uspctl_out_line_error(&r->out, c->id, line,
				      rc == USPCTL_E_UNKNOWN_OP ? rc : code_of(rc), err.msg);
	else if (c->op == USPCTL_OP_TOKEN_LIST)
		for (const cJSON *t = res ? res->child : NULL; t; t = t->next)
			print_result(r, c->id, t);
	else
		print_result(r, c->id, res);
	if (res && c->op == USPCTL_OP_TOKEN_CREATE) {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "token");
		if (cJSON_IsString(t))
			memset(t->valuestring, 0, strlen(t->valuestring));
	}
	memset(token, 0, sizeof(token));
	cJSON_Delete(res);
}
