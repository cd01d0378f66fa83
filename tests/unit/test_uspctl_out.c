/* test_uspctl_out.c — the result-line contract of uspctl: exact bytes of
 * ok / failed / line-error lines, JSON escaping (control characters,
 * quotes, invalid UTF-8), every line parses as JSON, and the counters that
 * decide the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "uspctl_cmd.h"
#include "uspctl_out.h"

struct cap {
	char *buf;
	size_t len;
	FILE *f;
	FILE *err;
	struct uspctl_out o;
};

static void cap_open(struct cap *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->buf, &c->len);
	c->err = tmpfile();
	assert_non_null(c->f);
	assert_non_null(c->err);
	uspctl_out_init(&c->o, c->f, c->err, 0, 0);
}

static const char *cap_text(struct cap *c)
{
	fflush(c->f);
	return c->buf;
}

static void cap_close(struct cap *c)
{
	fclose(c->f);
	fclose(c->err);
	free(c->buf);
}

static void test_ok_line(void **state)
{
	struct cap c;
	cap_open(&c);
	uspctl_out_ok(&c.o, "q1", "os::00D09E-SIM000001", 42, "{\"type\":\"get_resp\"}", NULL,
		      NULL);
	assert_string_equal(
		cap_text(&c),
		"{\"id\":\"q1\",\"agent\":\"os::00D09E-SIM000001\",\"ok\":true,\"task\":42,"
		"\"result\":{\"type\":\"get_resp\"}}\n");
	assert_int_equal(c.o.ok, 1);
	assert_int_equal(c.o.failed, 0);
	cap_close(&c);
}

static void test_fail_line(void **state)
{
	struct cap c;
	cap_open(&c);
	uspctl_out_fail(&c.o, "s", "proto::a", 7, USPCTL_E_USP_ERROR, "Invalid path", 7026, NULL,
			NULL);
	uspctl_out_fail(&c.o, "s", "proto::b", -1, USPCTL_E_UNKNOWN_AGENT, "", 0, NULL, NULL);
	assert_string_equal(
		cap_text(&c),
		"{\"id\":\"s\",\"agent\":\"proto::a\",\"ok\":false,\"task\":7,\"error\":"
		"{\"code\":\"usp_error\",\"message\":\"Invalid path\",\"usp_err_code\":7026}}\n"
		"{\"id\":\"s\",\"agent\":\"proto::b\",\"ok\":false,\"error\":"
		"{\"code\":\"unknown_agent\",\"message\":\"unknown_agent\"}}\n");
	assert_int_equal(c.o.failed, 2);
	assert_int_equal(c.o.line_errors, 0);
	cap_close(&c);
}

static void test_line_error(void **state)
{
	struct cap c;
	cap_open(&c);
	uspctl_out_line_error(&c.o, "", 3, USPCTL_E_MALFORMED_JSON, "malformed JSON near byte 5");
	uspctl_out_line_error(&c.o, "x", 4, USPCTL_E_UNKNOWN_OP, "unknown op 'frob'");
	assert_string_equal(
		cap_text(&c),
		"{\"id\":null,\"line\":3,\"ok\":false,\"error\":{\"code\":\"malformed_json\","
		"\"message\":\"malformed JSON near byte 5\"}}\n"
		"{\"id\":\"x\",\"line\":4,\"ok\":false,\"error\":{\"code\":\"unknown_op\","
		"\"message\":\"unknown op 'frob'\"}}\n");
	assert_int_equal(c.o.line_errors, 2);
	assert_int_equal(c.o.failed, 2);
	assert_int_equal(c.o.expected, 2);
	cap_close(&c);
}

static void test_extra_key(void **state)
{
	struct cap c;
	cap_open(&c);
	uspctl_out_ok(&c.o, "op", "e", 1, "{}", "completions", "[{\"state\":\"complete\"}]");
	assert_string_equal(cap_text(&c),
			    "{\"id\":\"op\",\"agent\":\"e\",\"ok\":true,\"task\":1,\"result\":{},"
			    "\"completions\":[{\"state\":\"complete\"}]}\n");
	cap_close(&c);
}

static void test_escaping(void **state)
{
	struct cap c;
	cap_open(&c);
	/* quote, backslash, newline, tab, DEL, a valid 2-byte and 4-byte
	 * sequence, a lone continuation byte, a truncated sequence, an
	 * overlong encoding and a surrogate */
	const char *nasty =
		"a\"b\\c\nd\te\x7f \xc3\xa9 \xf0\x9f\x98\x80 \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80";
	uspctl_out_json_string(c.f, nasty);
	assert_string_equal(cap_text(&c),
			    "\"a\\\"b\\\\c\\nd\\te\\u007f \xc3\xa9 \xf0\x9f\x98\x80 \\ufffd "
			    "\\ufffd\\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\"");
	cap_close(&c);
}

static void test_lines_parse_as_json(void **state)
{
	struct cap c;
	cap_open(&c);
	uspctl_out_ok(&c.o, "id\"1\n", "agent\x01\xff", 1, "{\"a\":[1,2]}", NULL, NULL);
	uspctl_out_fail(&c.o, "id", "a", 2, USPCTL_E_TIMEOUT, "no result\r\n", 0, "result", "{}");
	uspctl_out_line_error(&c.o, NULL, 9, USPCTL_E_LINE_TOO_LONG, "too long");
	char *text = strdup(cap_text(&c));
	int lines = 0;
	for (char *save, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *j = cJSON_Parse(l);
		assert_non_null(j);
		assert_true(cJSON_IsBool(cJSON_GetObjectItem(j, "ok")));
		cJSON_Delete(j);
		lines++;
	}
	assert_int_equal(lines, 3);
	cJSON *first = cJSON_Parse(c.buf);
	assert_string_equal(cJSON_GetObjectItem(first, "id")->valuestring, "id\"1\n");
	cJSON_Delete(first);
	free(text);
	cap_close(&c);
}

static void test_summary(void **state)
{
	struct cap c;
	cap_open(&c);
	c.o.commands = 2;
	uspctl_out_ok(&c.o, "a", "e1", 1, "{}", NULL, NULL);
	uspctl_out_fail(&c.o, "a", "e2", 2, USPCTL_E_EXPIRED, "expired", 0, NULL, NULL);
	uspctl_out_summary(&c.o);
	char buf[512] = "";
	rewind(c.err);
	assert_non_null(fgets(buf, sizeof(buf), c.err));
	assert_non_null(strstr(buf, "2 commands, 2 results: 1 ok, 1 failed (0 lines not run)"));
	cap_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_line),    cmocka_unit_test(test_fail_line),
		cmocka_unit_test(test_line_error), cmocka_unit_test(test_extra_key),
		cmocka_unit_test(test_escaping),   cmocka_unit_test(test_lines_parse_as_json),
		cmocka_unit_test(test_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
