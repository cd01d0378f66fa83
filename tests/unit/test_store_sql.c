/*
 * test_store_sql.c — pure helpers of the store: array literals, glob and
 * prefix → LIKE, UTF-8 repair, tag syntax, password redaction, error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store_conn.h"
#include "store_sql.h"

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
	assert_int_equal(store_glob_to_like("trailing\\", out, sizeof(out)), -1);
	assert_int_equal(store_glob_to_like("abcdef", out, 6), -1);
	assert_int_equal(store_glob_to_like("abcde", out, 6), 0);
}

static void prefix_to_like(void **state)
{
	char out[32];
	assert_int_equal(store_prefix_to_like("Device.IP_1.", out, sizeof(out)), 0);
	assert_string_equal(out, "Device.IP\\_1.%");
	assert_int_equal(store_prefix_to_like("", out, sizeof(out)), 0);
	assert_string_equal(out, "%");
	assert_int_equal(store_prefix_to_like("abc", out, 4), -1);
	assert_int_equal(store_prefix_to_like("abc", out, 5), 0);
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

static void redaction(void **state)
{
	char out[256];
	store_conn_redact("postgresql://uspc:s3cret@127.0.0.1:5432/uspc", out, sizeof(out));
	assert_string_equal(out, "postgresql://uspc@127.0.0.1:5432/uspc");
	store_conn_redact("postgresql://u@h/db?sslmode=require&password=s3cret", out, sizeof(out));
	assert_null(strstr(out, "s3cret"));
	store_conn_redact("host=h password=s3cret dbname=uspc", out, sizeof(out));
	assert_string_equal(out, "host=h dbname=uspc");
	store_conn_redact("host=h password = 'a b\\' c' dbname=uspc", out, sizeof(out));
	assert_string_equal(out, "host=h dbname=uspc");
	store_conn_redact("postgresql://h/db", out, sizeof(out));
	assert_string_equal(out, "postgresql://h/db");
}

static void error_names_and_sqlstate(void **state)
{
	assert_string_equal(store_error_name(STORE_E_FULL), "full");
	assert_string_equal(store_error_name(STORE_E_TIMEOUT), "timeout");
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
	char buf[40];
	store_fmt_time(1700000000123456, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14 22:13:20.123456+00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(array_literals_quote_and_escape),
		cmocka_unit_test(buffer_cap_is_hard),
		cmocka_unit_test(glob_to_like),
		cmocka_unit_test(prefix_to_like),
		cmocka_unit_test(utf8_repair),
		cmocka_unit_test(tags),
		cmocka_unit_test(redaction),
		cmocka_unit_test(error_names_and_sqlstate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
