/*
 * test_store_sql.c — pure helpers of the store: array literals, JSON
 * strings, glob and prefix → LIKE, UTF-8 repair, tag syntax, error names,
 * and how the writer merges snapshot parameters into one document per
 * object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_conn.h"
#include "store_sql.h"
#include "store_wop.h"

static void array_literals_quote_and_escape(void **state)
{
	struct store_buf b;
	store_buf_init(&b, 1024);
	store_arr_begin(&b);
	store_arr_add(&b, "plain");
	store_arr_add(&b, NULL);
	store_arr_add(&b, "q\"b\\,{}");
	store_arr_add(&b, "");
	store_arr_add_i64(&b, -42);
	store_arr_end(&b);
	assert_string_equal(store_buf_str(&b), "{\"plain\",NULL,\"q\\\"b\\\\,{}\",\"\",-42}");
	store_buf_reset(&b);
	store_arr_begin(&b);
	store_arr_end(&b);
	assert_string_equal(store_buf_str(&b), "{}");
	store_buf_fini(&b);
}

static void buffer_cap_is_hard(void **state)
{
	struct store_buf b;
	store_buf_init(&b, 8);
	store_buf_adds(&b, "12345678");
	assert_string_equal(store_buf_str(&b), "12345678");
	store_buf_adds(&b, "9");
	assert_null(store_buf_str(&b));
	store_buf_adds(&b, "x"); /* stays failed */
	assert_null(store_buf_str(&b));
	store_buf_reset(&b);
	assert_string_equal(store_buf_str(&b), "");
	store_buf_fini(&b);
}

static void glob_to_like(void **state)
{
	char out[64];
	assert_int_equal(store_glob_to_like("os::*-?", out, sizeof(out)), 0);
	assert_string_equal(out, "os::%-_");
	assert_int_equal(store_glob_to_like("a%b_c\\d", out, sizeof(out)), 0);
	assert_string_equal(out, "a\\%b\\_cd");
	assert_int_equal(store_glob_to_like("lit\\*", out, sizeof(out)), 0);
	assert_string_equal(out, "lit*");
	assert_int_equal(store_glob_to_like("back\\\\", out, sizeof(out)), 0);
	assert_string_equal(out, "back\\\\");
	assert_int_equal(store_glob_to_like("trailing\\", out, sizeof(out)), STORE_E_ARG);
	assert_int_equal(store_glob_to_like("abcdef", out, 6), STORE_E_ARG);
	assert_int_equal(store_glob_to_like("abcde", out, 6), 0);
}

static void prefix_to_like(void **state)
{
	char out[32];
	assert_int_equal(store_prefix_to_like("Device.IP_1.", out, sizeof(out)), 0);
	assert_string_equal(out, "Device.IP\\_1.%");
	assert_int_equal(store_prefix_to_like("", out, sizeof(out)), 0);
	assert_string_equal(out, "%");
	assert_int_equal(store_prefix_to_like("abc", out, 4), STORE_E_ARG);
	assert_int_equal(store_prefix_to_like("abc", out, 5), 0);
}

static void json_strings(void **state)
{
	struct store_buf b;
	store_buf_init(&b, 1024);
	store_json_str(&b, "plain");
	store_buf_add(&b, " ", 1);
	store_json_str(&b, "q\"b\\s/\x01\n\x1f\x7f\xc3\xa9");
	store_buf_add(&b, " ", 1);
	store_json_str(&b, "");
	assert_string_equal(store_buf_str(&b),
			    "\"plain\" \"q\\\"b\\\\s/\\u0001\\u000a\\u001f\x7f\xc3\xa9\" \"\"");
	store_buf_fini(&b);
}

/* A snapshot op of n (path, value) pairs, as the writer queues it. */
static struct wop *snap_op(const char *eid, int64_t us, size_t n, const char **paths,
			   const char **values)
{
	struct wop *op = calloc(1, sizeof(*op));
	op->kind = WOP_SNAPSHOT;
	op->eid = eid;
	op->at_us = us;
	op->u.snap.n = n;
	op->u.snap.path = paths;
	op->u.snap.value = values;
	return op;
}

static void snapshot_merges_per_object(void **state)
{
	/* Two ops of agent b (the later one wins for Device.A.X), one of agent
	 * a; Device.A.B.C (object Device.A.B.) must not split Device.A.'s
	 * parameters, and a path without a '.' is its own object "". */
	const char *p1[] = { "Device.A.X", "Device.A.B.C", "Device.A.Y", "top" };
	const char *v1[] = { "1", "c", "y\"q", "t" };
	const char *p2[] = { "Device.A.X" };
	const char *v2[] = { "2" };
	const char *p3[] = { "Device.A.X" };
	const char *v3[] = { "a" };
	struct wop *ops[3] = { snap_op("b", 10, 4, p1, v1), snap_op("b", 20, 1, p2, v2),
			       snap_op("a", 5, 1, p3, v3) };
	struct store_buf c[4], doc;
	for (int i = 0; i < 4; i++) {
		store_buf_init(&c[i], 4096);
		store_arr_begin(&c[i]);
	}
	store_buf_init(&doc, 4096);
	int failed = -1;
	assert_int_equal(wop_fill_snapshot(c, &doc, ops, 3, &failed), 6);
	assert_int_equal(failed, 0);
	for (int i = 0; i < 4; i++)
		store_arr_end(&c[i]);
	assert_string_equal(store_buf_str(&c[0]), "{\"a\",\"b\",\"b\",\"b\"}");
	assert_string_equal(store_buf_str(&c[1]),
			    "{\"Device.A.\",\"\",\"Device.A.\",\"Device.A.B.\"}");
	assert_string_equal(store_buf_str(&c[2]),
			    "{\"{\\\"X\\\":\\\"a\\\"}\",\"{\\\"top\\\":\\\"t\\\"}\","
			    "\"{\\\"X\\\":\\\"2\\\",\\\"Y\\\":\\\"y\\\\\\\"q\\\"}\","
			    "\"{\\\"C\\\":\\\"c\\\"}\"}");
	assert_string_equal(store_buf_str(&c[3]), "{5,10,20,10}");
	/* A document past the scratch buffer's cap fails the batch, whole. */
	store_buf_fini(&doc);
	store_buf_init(&doc, 8);
	for (int i = 0; i < 4; i++)
		store_buf_reset(&c[i]);
	wop_fill_snapshot(c, &doc, ops, 3, &failed);
	assert_int_equal(failed, 1);
	for (int i = 0; i < 4; i++)
		store_buf_fini(&c[i]);
	store_buf_fini(&doc);
	for (int i = 0; i < 3; i++)
		free(ops[i]);
}

static void utf8_repair(void **state)
{
	char ok[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";
	assert_int_equal(store_utf8_repair(ok, strlen(ok)), 0);
	char bad[] = "a\xff"
		     "b\xc3"
		     "c\xe0\x80\x80"
		     "d\xed\xa0\x80";
	assert_int_equal(store_utf8_repair(bad, strlen(bad)), 8);
	assert_string_equal(bad, "a?b?c???d???");
	char overlong[] = "\xc0\xaf";
	assert_int_equal(store_utf8_repair(overlong, 2), 2);
	char cut[] = "x\xf0\x9f\x98";
	assert_int_equal(store_utf8_repair(cut, strlen(cut)), 3);
	assert_string_equal(cut, "x???");
}

static void tags(void **state)
{
	assert_true(store_tag_valid("lab-1.eu:x_y"));
	assert_true(store_tag_valid("tz:America/Argentina/Buenos_Aires"));
	assert_true(store_tag_valid("tz:Etc/GMT+3"));
	assert_false(store_tag_valid(""));
	assert_false(store_tag_valid(NULL));
	assert_false(store_tag_valid("a b"));
	assert_false(store_tag_valid("a'b"));
	char big[STORE_NAME_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(store_tag_valid(big));
	big[STORE_NAME_MAX] = '\0';
	assert_true(store_tag_valid(big));
}

static void error_names_and_sqlstate(void **state)
{
	assert_string_equal(store_error_name(STORE_E_FULL), "full");
	assert_string_equal(store_error_name(STORE_E_TIMEOUT), "timeout");
	assert_string_equal(store_error_name(STORE_E_BUSY), "busy");
	assert_string_equal(store_error_name(STORE_E_END_), "unknown");
	assert_string_equal(store_error_name(0), "unknown");
	struct uspc_err e = { STORE_E_DB, "40001: could not serialize access" };
	assert_string_equal(store_err_sqlstate(&e), "40001: could not serialize access");
	assert_true(store_err_is_transient(&e));
	struct uspc_err d = { STORE_E_DB, "23505: duplicate key" };
	assert_false(store_err_is_transient(&d));
	struct uspc_err c = { STORE_E_CONN, "no connection" };
	assert_true(store_err_is_transient(&c));
	struct uspc_err a = { STORE_E_ARG, "40001: not a db error" };
	assert_false(store_err_is_transient(&a));
	assert_true(store_err_needs_reconnect(&c));
	assert_false(store_err_needs_reconnect(&e));
	char buf[40];
	store_fmt_time(1700000000123456, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14 22:13:20.123456+00");
}

/* Every failure that is not a property of the data is retried (the writer
 * never drops an op for it); after some the connection is replaced. */
static void transient_sqlstates(void **state)
{
	static const struct {
		const char *msg;
		int transient, reconnect;
	} cases[] = {
		{ "08006: connection failure", 1, 0 },
		{ "25006: cannot execute INSERT in a read-only transaction", 1, 1 },
		{ "40001: could not serialize access", 1, 0 },
		{ "40P01: deadlock detected", 1, 0 },
		{ "53100: could not extend file: No space left on device", 1, 0 },
		{ "53200: out of memory", 1, 0 },
		{ "53300: too many connections", 1, 0 },
		{ "55P03: could not obtain lock", 1, 0 },
		{ "57014: canceling statement due to statement timeout", 1, 0 },
		{ "57P01: terminating connection due to administrator command", 1, 1 },
		{ "57P02: crash shutdown", 1, 1 },
		{ "57P03: the database system is starting up", 1, 1 },
		{ "58030: could not write to file", 1, 1 },
		{ "58000: system error", 1, 1 },
		{ "22P02: invalid input syntax for type json", 0, 0 },
		{ "23505: duplicate key", 0, 0 },
		{ "23514: new row violates check constraint", 0, 0 },
		{ "25001: active SQL transaction", 0, 0 },
		{ "42P01: relation does not exist", 0, 0 },
		{ "54000: program limit exceeded", 0, 0 },
		{ "57000: operator intervention", 0, 0 },
		{ "XX000: internal error", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct uspc_err e = { STORE_E_DB, "" };
		snprintf(e.msg, sizeof(e.msg), "%s", cases[i].msg);
		if (store_err_is_transient(&e) != cases[i].transient ||
		    store_err_needs_reconnect(&e) != cases[i].reconnect)
			fail_msg("%s: transient %d reconnect %d", cases[i].msg,
				 store_err_is_transient(&e), store_err_needs_reconnect(&e));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(array_literals_quote_and_escape),
		cmocka_unit_test(buffer_cap_is_hard),
		cmocka_unit_test(glob_to_like),
		cmocka_unit_test(prefix_to_like),
		cmocka_unit_test(json_strings),
		cmocka_unit_test(snapshot_merges_per_object),
		cmocka_unit_test(utf8_repair),
		cmocka_unit_test(tags),
		cmocka_unit_test(error_names_and_sqlstate),
		cmocka_unit_test(transient_sqlstates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
