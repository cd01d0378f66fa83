/*
 * test_store_tokens_db.c — the HTTP API's tokens against a real PostgreSQL
 * (store_tokens.h, table api_tokens of schema version 8): a created token
 * checks with its role and nothing else does; the table holds no token
 * text; one live token per name; revoked and expired tokens stop
 * checking; last_used_at moves at most once a minute, in the check's one
 * statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_tokens.h"
#include "test_store_common.h"

static struct tdb t;

static int setup(void **state)
{
	tdb_create(&t, "tokens_db");
	return 0;
}

static int teardown(void **state)
{
	tdb_drop(&t);
	return 0;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static void create_check_list(void **state)
{
	struct uspc_err err = { 0 };
	struct store_token_who who;
	char tok[STORE_TOKEN_TEXT_MAX], sql[256];
	cJSON *row = NULL, *arr = NULL;
	assert_int_equal(store_token_create(t.c, "console", STORE_ROLE_OPERATOR, 0, "test:me", tok,
					    &row, &err),
			 0);
	assert_true(store_token_well_formed(tok));
	assert_string_equal(str(row, "name"), "console");
	assert_string_equal(str(row, "role"), "operator");
	assert_string_equal(str(row, "created_by"), "test:me");
	assert_memory_equal(str(row, "prefix"), tok, STORE_TOKEN_PREFIX_LEN);
	assert_int_equal(strlen(str(row, "prefix")), STORE_TOKEN_PREFIX_LEN);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(row, "expires_at")));
	assert_null(cJSON_GetObjectItemCaseSensitive(row, "hash"));
	assert_null(cJSON_GetObjectItemCaseSensitive(row, "token"));
	int64_t id = (int64_t)cJSON_GetObjectItemCaseSensitive(row, "token_id")->valuedouble;
	cJSON_Delete(row);

	assert_int_equal(store_token_check(t.c, tok, &who, &err), 0);
	assert_int_equal(who.id, id);
	assert_string_equal(who.name, "console");
	assert_int_equal(who.role, STORE_ROLE_OPERATOR);

	/* the table holds the SHA-256 and the prefix, never the token */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM api_tokens t WHERE position('%s' in t::text) > 0",
		 tok + STORE_TOKEN_PREFIX_LEN);
	assert_int_equal(tdb_int(t.c, sql), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM api_tokens WHERE hash = sha256('%s'::bytea)", tok);
	assert_int_equal(tdb_int(t.c, sql), 1);

	/* one letter off, another prefix, well formed but unknown */
	char other[STORE_TOKEN_TEXT_MAX];
	memcpy(other, tok, sizeof(other));
	other[20] = other[20] == 'A' ? 'B' : 'A';
	assert_int_equal(store_token_check(t.c, other, &who, &err), STORE_E_NOTFOUND);
	assert_int_equal(who.role, STORE_ROLE_NONE);
	assert_int_equal(store_token_generate(other), 0);
	assert_int_equal(store_token_check(t.c, other, &who, &err), STORE_E_NOTFOUND);

	assert_int_equal(store_token_list(t.c, &arr, &err), 0);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);
}

static void one_live_token_per_name(void **state)
{
	struct uspc_err err = { 0 };
	struct store_token_who who;
	char a[STORE_TOKEN_TEXT_MAX], b[STORE_TOKEN_TEXT_MAX];
	cJSON *row = NULL;
	assert_int_equal(store_token_create(t.c, "ci", STORE_ROLE_VIEWER, 0, NULL, a, NULL, &err),
			 0);
	assert_int_equal(store_token_create(t.c, "ci", STORE_ROLE_ADMIN, 0, NULL, b, &row, &err),
			 STORE_E_EXISTS);
	assert_null(row);
	assert_string_equal(b, "");
	assert_non_null(strstr(err.msg, "'ci'"));
	/* revoked by name: it stops checking, and the name is free again */
	assert_int_equal(store_token_revoke(t.c, 0, "ci", &row, &err), 0);
	assert_non_null(str(row, "revoked_at"));
	cJSON_Delete(row);
	assert_int_equal(store_token_check(t.c, a, &who, &err), STORE_E_NOTFOUND);
	assert_int_equal(store_token_revoke(t.c, 0, "ci", NULL, &err), STORE_E_NOTFOUND);
	assert_int_equal(store_token_create(t.c, "ci", STORE_ROLE_ADMIN, 0, NULL, b, NULL, &err),
			 0);
	assert_int_equal(store_token_check(t.c, b, &who, &err), 0);
	assert_int_equal(who.role, STORE_ROLE_ADMIN);
	/* by id: the second time it is not live */
	assert_int_equal(store_token_revoke(t.c, who.id, NULL, NULL, &err), 0);
	assert_int_equal(store_token_revoke(t.c, who.id, NULL, NULL, &err), STORE_E_NOTFOUND);
	assert_int_equal(store_token_check(t.c, b, &who, &err), STORE_E_NOTFOUND);
	/* bad arguments */
	assert_int_equal(store_token_create(t.c, "a b", STORE_ROLE_ADMIN, 0, NULL, b, NULL, &err),
			 STORE_E_ARG);
	assert_int_equal(store_token_create(t.c, "x", STORE_ROLE_NONE, 0, NULL, b, NULL, &err),
			 STORE_E_ARG);
	assert_int_equal(store_token_create(t.c, "x", STORE_ROLE_ADMIN, -1, NULL, b, NULL, &err),
			 STORE_E_ARG);
	assert_int_equal(store_token_revoke(t.c, 0, NULL, NULL, &err), STORE_E_ARG);
}

static void expired_tokens_stop_checking(void **state)
{
	struct uspc_err err = { 0 };
	struct store_token_who who;
	char tok[STORE_TOKEN_TEXT_MAX], again[STORE_TOKEN_TEXT_MAX];
	cJSON *row = NULL;
	assert_int_equal(
		store_token_create(t.c, "brief", STORE_ROLE_VIEWER, 3600, NULL, tok, &row, &err),
		0);
	assert_non_null(str(row, "expires_at"));
	cJSON_Delete(row);
	assert_int_equal(store_token_check(t.c, tok, &who, &err), 0);
	tdb_exec(t.c, "UPDATE api_tokens SET expires_at = now() - interval '1 second'"
		      " WHERE name = 'brief'");
	assert_int_equal(store_token_check(t.c, tok, &who, &err), STORE_E_NOTFOUND);
	/* an expired token holds its name until it is revoked */
	assert_int_equal(
		store_token_create(t.c, "brief", STORE_ROLE_VIEWER, 0, NULL, again, NULL, &err),
		STORE_E_EXISTS);
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(store_token_revoke(t.c, 0, "brief", NULL, &err), 0);
	assert_int_equal(
		store_token_create(t.c, "brief", STORE_ROLE_VIEWER, 0, NULL, again, NULL, &err), 0);
}

static void last_used_at_once_a_minute(void **state)
{
	struct uspc_err err = { 0 };
	struct store_token_who who;
	char tok[STORE_TOKEN_TEXT_MAX];
	assert_int_equal(
		store_token_create(t.c, "used", STORE_ROLE_VIEWER, 0, NULL, tok, NULL, &err), 0);
	const char *at = "SELECT coalesce(extract(epoch FROM last_used_at) * 1000000, 0)::bigint"
			 " FROM api_tokens WHERE name = 'used' AND revoked_at IS NULL";
	assert_int_equal(tdb_int(t.c, at), 0);
	assert_int_equal(store_token_check(t.c, tok, &who, &err), 0);
	long long first = tdb_int(t.c, at);
	assert_true(first > 0);
	/* checks within the minute write nothing (the row keeps its version) */
	long long xmin =
		tdb_int(t.c, "SELECT xmin::text::bigint FROM api_tokens WHERE name = 'used'"
			     " AND revoked_at IS NULL");
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_token_check(t.c, tok, &who, &err), 0);
	assert_int_equal(tdb_int(t.c, at), first);
	assert_int_equal(tdb_int(t.c, "SELECT xmin::text::bigint FROM api_tokens WHERE name = "
				      "'used' AND revoked_at IS NULL"),
			 xmin);
	/* a minute later the next check moves it */
	tdb_exec(t.c, "UPDATE api_tokens SET last_used_at = last_used_at - interval '61 seconds'"
		      " WHERE name = 'used'");
	long long old = tdb_int(t.c, at);
	assert_int_equal(store_token_check(t.c, tok, &who, &err), 0);
	assert_true(tdb_int(t.c, at) > old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_check_list),
		cmocka_unit_test(one_live_token_per_name),
		cmocka_unit_test(expired_tokens_stop_checking),
		cmocka_unit_test(last_used_at_once_a_minute),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
