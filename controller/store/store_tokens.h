/*
 * store_tokens.h — bearer tokens of the HTTP API (table api_tokens, schema
 * version 8): make one, check one, list and revoke them.
 *
 * A token is "uspc_" followed by 43 characters of base64url (no padding)
 * of 32 bytes from getrandom(2): 48 characters. The database keeps its
 * SHA-256 and its first 12 characters (the prefix, to recognise it in a
 * list), never the token: it is shown once, when it is made.
 *
 * The pure functions (roles, generate, well_formed, hash) may run on any
 * thread; the others block on a connection the calling thread owns. Rows
 * are new cJSON trees owned by the caller (cJSON_Delete):
 *   {"token_id":7,"name":"console","role":"operator","prefix":"uspc_AbCdEfG",
 *    "created_at":"2026-...+00:00","created_by":"uspctl:alice",
 *    "expires_at":null,"revoked_at":null,"last_used_at":null}
 * with every key present (null when unset) and never the hash.
 */
#ifndef USPC_STORE_TOKENS_H
#define USPC_STORE_TOKENS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "usp_err.h"

/* What a token may do; ordered, so a check is role >= the one needed. */
enum store_role {
	STORE_ROLE_NONE = 0,
	STORE_ROLE_VIEWER = 1,
	STORE_ROLE_OPERATOR = 2,
	STORE_ROLE_ADMIN = 3
};
/* "viewer", "operator", "admin" → the role; -1 if unknown ("none" too). */
int store_role_from_name(const char *name);
/* "none", "viewer", "operator", "admin"; "?" out of range. */
const char *store_role_name(enum store_role r);

#define STORE_TOKEN_TEXT_MAX 64    /* buffer incl. NUL */
#define STORE_TOKEN_NAME_MAX 64    /* 1..64 of A-Z a-z 0-9 _ . - */
#define STORE_TOKEN_PREFIX_LEN 12  /* what lists show of a token */
#define STORE_TOKEN_LIST_MAX 10000 /* rows store_token_list returns, newest first */
#define STORE_TOKEN_EXPIRES_MAX (10LL * 365 * 86400) /* seconds */

/* "uspc_" + 43 chars base64url (no padding) of 32 random bytes. 0 or -1
 * (getrandom failed). */
int store_token_generate(char out[STORE_TOKEN_TEXT_MAX]);
/* 1/0: the "uspc_" prefix, the length (48) and the base64url alphabet. */
int store_token_well_formed(const char *token);
/* SHA-256 of the whole token text. */
void store_token_hash(const char *token, unsigned char out[32]);
/* 1/0: 1..STORE_TOKEN_NAME_MAX bytes of A-Z a-z 0-9 _ . - */
int store_token_name_valid(const char *name);

struct store_token_who {
	int64_t id;
	char name[65];
	enum store_role role;
};

/*
 * Look the token up: 0 and *who when it exists, is not revoked and not
 * expired; STORE_E_NOTFOUND otherwise (a malformed token too, without a
 * query); other STORE_E_* on database errors. Sets last_used_at at most
 * once a minute per token, in the same statement (a CTE), so a check is
 * ONE round trip.
 */
int store_token_check(PGconn *c, const char *token, struct store_token_who *who,
		      struct uspc_err *err);

/*
 * Make a token named name (store_token_name_valid) with role (VIEWER to
 * ADMIN) that expires expires_s seconds from now (0 = never; at most
 * STORE_TOKEN_EXPIRES_MAX), recording actor (may be NULL) as created_by.
 * 0 with token_out (the only copy of the token) and *row_out (may be
 * NULL: not wanted); STORE_E_EXISTS when a live (not revoked) token has
 * that name — expired or not: revoke it first; STORE_E_ARG for a bad
 * argument; other STORE_E_* on database errors.
 */
int store_token_create(PGconn *c, const char *name, enum store_role role, int64_t expires_s,
		       const char *actor, char token_out[STORE_TOKEN_TEXT_MAX], cJSON **row_out,
		       struct uspc_err *err);

/* Every token, live and revoked, newest first (at most
 * STORE_TOKEN_LIST_MAX): *out is an array of rows. */
int store_token_list(PGconn *c, cJSON **out /* array of rows */, struct uspc_err *err);

/* Revoke by id (> 0) or else by name (the live token of that name):
 * 0 with *row_out (revoked_at set; may be NULL); STORE_E_NOTFOUND when
 * none is live (unknown, or revoked already). */
int store_token_revoke(PGconn *c, int64_t id, const char *name, cJSON **row_out,
		       struct uspc_err *err);

#endif
