/*
 * store_tokens.c — the HTTP API's bearer tokens (see store_tokens.h).
 *
 * Owns nothing between calls. The pure helpers run on any thread; the
 * statements (sql/tokens_*.sql) on the caller's connection and thread.
 * Invariants: a token's text never reaches the database, a log or an
 * error message — only its SHA-256 (as hex, a statement parameter) and its
 * first STORE_TOKEN_PREFIX_LEN characters; a malformed token is refused
 * before any statement.
 */
#include "store_tokens.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "store_conn.h"
#include "store_stmt.h"

#define TOKEN_PREFIX "uspc_"
#define TOKEN_PREFIX_N 5
#define TOKEN_RANDOM_BYTES 32
#define TOKEN_B64_N 43 /* 32 bytes, base64url without padding */
#define TOKEN_TEXT_N (TOKEN_PREFIX_N + TOKEN_B64_N)

_Static_assert(TOKEN_TEXT_N < STORE_TOKEN_TEXT_MAX, "token text fits its buffer");

static const char *const role_names[] = { "none", "viewer", "operator", "admin" };

int store_role_from_name(const char *name)
{
	for (int i = STORE_ROLE_VIEWER; name && i <= STORE_ROLE_ADMIN; i++)
		if (!strcmp(name, role_names[i]))
			return i;
	return -1;
}

const char *store_role_name(enum store_role r)
{
	return (unsigned)r <= STORE_ROLE_ADMIN ? role_names[r] : "?";
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* n bytes as base64url without padding; out needs 4 * ceil(n / 3) + 1. */
static void b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (left > 1)
			out[o++] = b64url[(v >> 6) & 63];
		if (left > 2)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
}

int store_token_generate(char out[STORE_TOKEN_TEXT_MAX])
{
	unsigned char raw[TOKEN_RANDOM_BYTES];
	size_t got = 0;
	out[0] = '\0';
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	memcpy(out, TOKEN_PREFIX, TOKEN_PREFIX_N);
	b64url_encode(raw, sizeof(raw), out + TOKEN_PREFIX_N);
	memset(raw, 0, sizeof(raw));
	return 0;
}

int store_token_well_formed(const char *token)
{
	if (!token || strncmp(token, TOKEN_PREFIX, TOKEN_PREFIX_N) != 0)
		return 0;
	size_t i;
	for (i = TOKEN_PREFIX_N; token[i]; i++) {
		char ch = token[i];
		if (i >= TOKEN_TEXT_N || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
					   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return i == TOKEN_TEXT_N;
}

void store_token_hash(const char *token, unsigned char out[32])
{
	unsigned int n = 0;
	if (!EVP_Digest(token, strlen(token), out, &n, EVP_sha256(), NULL) || n != 32)
		memset(out, 0, 32); /* cannot happen with a working libcrypto */
}

int store_token_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > STORE_TOKEN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

/* The token's SHA-256 as 64 hex digits (the statements' parameter). */
static void hash_hex(const char *token, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char h[32];
	store_token_hash(token, h);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[h[i] >> 4];
		hex[2 * i + 1] = digits[h[i] & 15];
	}
	hex[64] = '\0';
	memset(h, 0, sizeof(h));
}

static int parse_row(const char *text, cJSON **out, struct uspc_err *err)
{
	if (!(*out = cJSON_Parse(text)))
		return uspc_err_set(err, STORE_E_NOMEM, "out of memory parsing a token row");
	return 0;
}

int store_token_check(PGconn *c, const char *token, struct store_token_who *who,
		      struct uspc_err *err)
{
	char hex[65];
	PGresult *r = NULL;
	memset(who, 0, sizeof(*who));
	if (!store_token_well_formed(token))
		return uspc_err_set(err, STORE_E_NOTFOUND, "not a uspc API token");
	hash_hex(token, hex);
	const char *p[1] = { hex };
	int rc = store_exec(c, store_stmt_tokens_check, 1, p, &r, err);
	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return uspc_err_set(err, STORE_E_NOTFOUND, "unknown, revoked or expired token");
	}
	int role = store_role_from_name(PQgetvalue(r, 0, 2));
	who->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	snprintf(who->name, sizeof(who->name), "%s", PQgetvalue(r, 0, 1));
	who->role = role < 0 ? STORE_ROLE_NONE : (enum store_role)role;
	PQclear(r);
	return 0;
}

/* Why a create found the name taken: the live token's dates. */
static int name_taken(PGconn *c, const char *name, struct uspc_err *err)
{
	PGresult *r = NULL;
	const char *p[1] = { name };
	if (store_exec(c, store_stmt_tokens_live, 1, p, &r, err) < 0)
		return err->code;
	int expired = PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	return uspc_err_set(err, STORE_E_EXISTS,
			    "a live token is named '%s'%s: revoke it first (token_revoke), or "
			    "choose another name",
			    name,
			    expired ? " (it has expired, but holds its name until revoked)" : "");
}

int store_token_create(PGconn *c, const char *name, enum store_role role, int64_t expires_s,
		       const char *actor, char token_out[STORE_TOKEN_TEXT_MAX], cJSON **row_out,
		       struct uspc_err *err)
{
	char hex[65], prefix[STORE_TOKEN_PREFIX_LEN + 1], exp[24];
	PGresult *r = NULL;
	token_out[0] = '\0';
	if (row_out)
		*row_out = NULL;
	if (!store_token_name_valid(name))
		return uspc_err_set(err, STORE_E_ARG,
				    "a token name is 1 to %d characters of A-Z a-z 0-9 _ . -",
				    STORE_TOKEN_NAME_MAX);
	if (role < STORE_ROLE_VIEWER || role > STORE_ROLE_ADMIN)
		return uspc_err_set(err, STORE_E_ARG,
				    "a token's role is viewer, operator or admin");
	if (expires_s < 0 || expires_s > STORE_TOKEN_EXPIRES_MAX)
		return uspc_err_set(err, STORE_E_ARG, "a token expires within 0 to %lld seconds",
				    (long long)STORE_TOKEN_EXPIRES_MAX);
	if (actor && strlen(actor) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG, "actor longer than %d bytes", STORE_NAME_MAX);
	char token[STORE_TOKEN_TEXT_MAX];
	if (store_token_generate(token) < 0)
		return uspc_err_set(err, STORE_E_DB, "getrandom: %s", strerror(errno));
	hash_hex(token, hex);
	snprintf(prefix, sizeof(prefix), "%.*s", STORE_TOKEN_PREFIX_LEN, token);
	snprintf(exp, sizeof(exp), "%" PRId64, expires_s);
	const char *p[6] = { name, store_role_name(role), hex, prefix, actor, exp };
	int rc = store_exec(c, store_stmt_tokens_create, 6, p, &r, err);
	if (rc == 0 && PQntuples(r) != 1)
		rc = name_taken(c, name, err);
	if (rc == 0 && row_out)
		rc = parse_row(PQgetvalue(r, 0, 0), row_out, err);
	if (rc == 0)
		memcpy(token_out, token, sizeof(token));
	memset(token, 0, sizeof(token));
	PQclear(r);
	return rc;
}

int store_token_list(PGconn *c, cJSON **out, struct uspc_err *err)
{
	char lim[24];
	PGresult *r = NULL;
	*out = NULL;
	snprintf(lim, sizeof(lim), "%d", STORE_TOKEN_LIST_MAX);
	const char *p[1] = { lim };
	int rc = store_exec(c, store_stmt_tokens_list, 1, p, &r, err);
	if (rc == 0)
		rc = parse_row(PQgetvalue(r, 0, 0), out, err);
	PQclear(r);
	return rc;
}

int store_token_revoke(PGconn *c, int64_t id, const char *name, cJSON **row_out,
		       struct uspc_err *err)
{
	char sid[24];
	PGresult *r = NULL;
	if (row_out)
		*row_out = NULL;
	if (id <= 0 && !store_token_name_valid(name))
		return uspc_err_set(err, STORE_E_ARG, "revoke a token by its id or its name");
	snprintf(sid, sizeof(sid), "%" PRId64, id);
	const char *p[2] = { id > 0 ? sid : NULL, id > 0 ? NULL : name };
	int rc = store_exec(c, store_stmt_tokens_revoke, 2, p, &r, err);
	if (rc == 0 && PQntuples(r) != 1) {
		if (id > 0)
			rc = uspc_err_set(err, STORE_E_NOTFOUND,
					  "no live token with id %" PRId64
					  " (unknown, or revoked already)",
					  id);
		else
			rc = uspc_err_set(err, STORE_E_NOTFOUND,
					  "no live token named '%s' (unknown, or revoked already)",
					  name);
	}
	if (rc == 0 && row_out)
		rc = parse_row(PQgetvalue(r, 0, 0), row_out, err);
	PQclear(r);
	return rc;
}
