/*
 * test_usp_path.c — unit tests for controller/usp/usp_path.c: the exact
 * parsed structure of every accepted form, one negative case (or more) per
 * USP_PATH_E_* code with the byte offset in the message, limits at and past
 * their bounds, usp_path_cond_match numeric/boolean/string semantics and
 * usp_path_to_schema.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "usp_path.h"

/* ---- allocation failure (linked with -Wl,--wrap=calloc) ---------------- */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static int calloc_fail;

void *__wrap_calloc(size_t n, size_t size)
{
	if (calloc_fail)
		return NULL;
	return __real_calloc(n, size);
}

/* ---- helpers ------------------------------------------------------------ */

static void parse_ok(const char *text, struct usp_path *p)
{
	struct uspc_err err;
	int rc = usp_path_parse(text, p, &err);
	if (rc != 0)
		fail_msg("'%s' rejected: %d %s", text, rc, err.msg);
	assert_int_equal(err.code, 0);
	assert_true(p->n_segs >= 1);
	assert_int_equal(p->segs[0].kind, USP_SEG_NAME);
	assert_string_equal(p->segs[0].name, "Device");
}

/* Parse must fail with code; the message must contain want_msg (e.g. the
 * "byte N" offset) and the output must be left empty. */
static void parse_bad(const char *text, int code, const char *want_msg)
{
	struct usp_path p;
	struct uspc_err err;
	memset(&p, 0xab, sizeof(p));
	int rc = usp_path_parse(text, &p, &err);
	if (rc != code)
		fail_msg("'%s': got %d (%s) want %d (%s); msg: %s", text ? text : "(null)", rc,
			 usp_path_error_text(rc), code, usp_path_error_text(code), err.msg);
	assert_int_equal(err.code, code);
	assert_null(p.segs);
	assert_int_equal(p.n_segs, 0);
	if (want_msg && !strstr(err.msg, want_msg))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want_msg);
	usp_path_fini(&p);
}

static void assert_name(const struct usp_path *p, size_t i, const char *name)
{
	assert_true(i < p->n_segs);
	assert_int_equal(p->segs[i].kind, USP_SEG_NAME);
	assert_string_equal(p->segs[i].name, name);
}

static void assert_cond(const struct usp_path_cond *c, const char *param, enum usp_cmp_op op,
			const char *value)
{
	assert_string_equal(c->param, param);
	assert_int_equal(c->op, op);
	assert_string_equal(c->value, value);
}

/* ---- positive forms ----------------------------------------------------- */

static void test_param_path(void **state)
{
	struct usp_path p;
	parse_ok("Device.WiFi.SSID.2.Name", &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_int_equal(p.n_segs, 5);
	assert_name(&p, 1, "WiFi");
	assert_name(&p, 2, "SSID");
	assert_int_equal(p.segs[3].kind, USP_SEG_INSTANCE);
	assert_int_equal(p.segs[3].instance, 2);
	assert_null(p.segs[3].name);
	assert_name(&p, 4, "Name");
	assert_int_equal(p.is_search, 0);
	usp_path_fini(&p);

	parse_ok("Device.DeviceInfo.SoftwareVersion", &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_int_equal(p.n_segs, 3);
	assert_name(&p, 2, "SoftwareVersion");
	usp_path_fini(&p);
}

static void test_object_paths(void **state)
{
	struct usp_path p;
	parse_ok("Device.", &p);
	assert_int_equal(p.kind, USP_PATH_OBJECT);
	assert_int_equal(p.n_segs, 1);
	usp_path_fini(&p);

	parse_ok("Device.IP.Interface.", &p);
	assert_int_equal(p.kind, USP_PATH_OBJECT);
	assert_int_equal(p.n_segs, 3);
	assert_name(&p, 2, "Interface");
	usp_path_fini(&p);

	parse_ok("Device.IP.Interface.3.", &p);
	assert_int_equal(p.kind, USP_PATH_OBJECT);
	assert_int_equal(p.n_segs, 4);
	assert_int_equal(p.segs[3].kind, USP_SEG_INSTANCE);
	assert_int_equal(p.segs[3].instance, 3);
	usp_path_fini(&p);

	parse_ok("Device.IP.Interface.1.IPv4Address.4294967295.", &p);
	assert_int_equal(p.n_segs, 6);
	assert_int_equal(p.segs[3].instance, 1);
	assert_name(&p, 4, "IPv4Address");
	assert_int_equal(p.segs[5].instance, 4294967295u);
	usp_path_fini(&p);
}

static void test_command_and_event(void **state)
{
	struct usp_path p;
	parse_ok("Device.Reboot()", &p);
	assert_int_equal(p.kind, USP_PATH_COMMAND);
	assert_int_equal(p.n_segs, 2);
	assert_name(&p, 1, "Reboot");
	usp_path_fini(&p);

	parse_ok("Device.IP.Diagnostics.IPPing()", &p);
	assert_int_equal(p.kind, USP_PATH_COMMAND);
	assert_name(&p, 3, "IPPing");
	usp_path_fini(&p);

	parse_ok("Device.Boot!", &p);
	assert_int_equal(p.kind, USP_PATH_EVENT);
	assert_int_equal(p.n_segs, 2);
	assert_name(&p, 1, "Boot");
	usp_path_fini(&p);

	parse_ok("Device.LocalAgent.Subscription.*.Trigger!", &p);
	assert_int_equal(p.kind, USP_PATH_EVENT);
	assert_int_equal(p.segs[3].kind, USP_SEG_WILDCARD);
	assert_name(&p, 4, "Trigger");
	assert_int_equal(p.is_search, 1);
	usp_path_fini(&p);
}

static void test_names_tr106(void **state)
{
	struct usp_path p;
	parse_ok("Device._Vendor-X.Obj_2.X_ACME-COM_Param", &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_name(&p, 1, "_Vendor-X");
	assert_name(&p, 2, "Obj_2");
	assert_name(&p, 3, "X_ACME-COM_Param");
	usp_path_fini(&p);
}

static void test_wildcard(void **state)
{
	struct usp_path p;
	parse_ok("Device.IP.Interface.*.Type", &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_int_equal(p.n_segs, 5);
	assert_int_equal(p.segs[3].kind, USP_SEG_WILDCARD);
	assert_int_equal(p.is_search, 1);
	usp_path_fini(&p);

	parse_ok("Device.IP.Interface.*.", &p);
	assert_int_equal(p.kind, USP_PATH_OBJECT);
	assert_int_equal(p.segs[3].kind, USP_SEG_WILDCARD);
	usp_path_fini(&p);
}

static void test_unique_key(void **state)
{
	struct usp_path p;
	parse_ok("Device.LocalAgent.Controller.[Alias==\"cpe-1\"].Enable", &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_int_equal(p.n_segs, 5);
	assert_int_equal(p.segs[3].kind, USP_SEG_EXPR);
	assert_int_equal(p.segs[3].n_conds, 1);
	assert_cond(&p.segs[3].conds[0], "Alias", USP_CMP_EQ, "cpe-1");
	assert_name(&p, 4, "Enable");
	assert_int_equal(p.is_search, 1);
	usp_path_fini(&p);

	/* compound key, TR-369 example */
	parse_ok("Device.NAT.PortMapping.[RemoteHost==\"\"&&ExternalPort==0&&Protocol==\"TCP\"].",
		 &p);
	assert_int_equal(p.kind, USP_PATH_OBJECT);
	assert_int_equal(p.segs[3].n_conds, 3);
	assert_cond(&p.segs[3].conds[0], "RemoteHost", USP_CMP_EQ, "");
	assert_cond(&p.segs[3].conds[1], "ExternalPort", USP_CMP_EQ, "0");
	assert_cond(&p.segs[3].conds[2], "Protocol", USP_CMP_EQ, "TCP");
	usp_path_fini(&p);
}

static void test_search_expression(void **state)
{
	struct usp_path p;
	parse_ok("Device.IP.Interface.[Enable==true&&Stats.BytesSent>1000].IPv4Address."
		 "[AddressingType!=\"Static\"].IPAddress",
		 &p);
	assert_int_equal(p.kind, USP_PATH_PARAM);
	assert_int_equal(p.n_segs, 7);
	assert_int_equal(p.segs[3].kind, USP_SEG_EXPR);
	assert_int_equal(p.segs[3].n_conds, 2);
	assert_cond(&p.segs[3].conds[0], "Enable", USP_CMP_EQ, "true");
	assert_cond(&p.segs[3].conds[1], "Stats.BytesSent", USP_CMP_GT, "1000");
	assert_name(&p, 4, "IPv4Address");
	assert_int_equal(p.segs[5].n_conds, 1);
	assert_cond(&p.segs[5].conds[0], "AddressingType", USP_CMP_NE, "Static");
	assert_name(&p, 6, "IPAddress");
	usp_path_fini(&p);

	parse_ok("Device.X.[a<1&&b<=-2&&c>=3.25&&d>-0.5&&e!=false].", &p);
	assert_int_equal(p.segs[2].n_conds, 5);
	assert_cond(&p.segs[2].conds[0], "a", USP_CMP_LT, "1");
	assert_cond(&p.segs[2].conds[1], "b", USP_CMP_LE, "-2");
	assert_cond(&p.segs[2].conds[2], "c", USP_CMP_GE, "3.25");
	assert_cond(&p.segs[2].conds[3], "d", USP_CMP_GT, "-0.5");
	assert_cond(&p.segs[2].conds[4], "e", USP_CMP_NE, "false");
	usp_path_fini(&p);
}

static void test_quoted_values(void **state)
{
	struct usp_path p;
	/* \" and \\ escapes; ']' '.' '&&' and spaces inside quotes are data */
	parse_ok("Device.X.[N==\"a\\\"b\\\\c\"&&M==\"x].y&&z w\"].", &p);
	assert_int_equal(p.n_segs, 3);
	assert_int_equal(p.segs[2].n_conds, 2);
	assert_cond(&p.segs[2].conds[0], "N", USP_CMP_EQ, "a\"b\\c");
	assert_cond(&p.segs[2].conds[1], "M", USP_CMP_EQ, "x].y&&z w");
	usp_path_fini(&p);

	/* TR-369 percent escapes: %22 is '"', %25 is '%'; other % literal */
	parse_ok("Device.X.[N==\"%22q%22 100%25 %41\"].", &p);
	assert_cond(&p.segs[2].conds[0], "N", USP_CMP_EQ, "\"q\" 100% %41");
	usp_path_fini(&p);

	/* a quoted timestamp may be ordered */
	parse_ok("Device.X.[T>\"2024-01-01T00:00:00Z\"].", &p);
	assert_cond(&p.segs[2].conds[0], "T", USP_CMP_GT, "2024-01-01T00:00:00Z");
	usp_path_fini(&p);
}

static void test_limits_at_bound(void **state)
{
	struct usp_path p;
	char buf[USP_PATH_MAX_LEN + 2];

	/* exactly USP_PATH_MAX_SEGS segments */
	strcpy(buf, "Device.");
	for (int i = 1; i < USP_PATH_MAX_SEGS; i++)
		strcat(buf, "A.");
	parse_ok(buf, &p);
	assert_int_equal(p.n_segs, USP_PATH_MAX_SEGS);
	usp_path_fini(&p);

	/* exactly USP_PATH_MAX_LEN bytes */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "Device.");
	memset(buf + 7, 'a', USP_PATH_MAX_LEN - 7);
	parse_ok(buf, &p);
	assert_int_equal(p.n_segs, 2);
	assert_int_equal(strlen(p.segs[1].name), USP_PATH_MAX_LEN - 7);
	usp_path_fini(&p);

	/* exactly USP_PATH_MAX_CONDS conditions */
	strcpy(buf, "Device.X.[");
	for (int i = 0; i < USP_PATH_MAX_CONDS; i++)
		strcat(buf, i ? "&&a==1" : "a==1");
	strcat(buf, "].");
	parse_ok(buf, &p);
	assert_int_equal(p.segs[2].n_conds, USP_PATH_MAX_CONDS);
	usp_path_fini(&p);
}

static void test_fini_safe(void **state)
{
	struct usp_path p;
	memset(&p, 0, sizeof(p));
	usp_path_fini(&p);
	usp_path_fini(NULL);
	parse_ok("Device.A.", &p);
	usp_path_fini(&p);
	assert_null(p.segs);
	usp_path_fini(&p); /* twice is harmless */
}

/* ---- one negative case (at least) per error code ------------------------ */

static void test_err_empty(void **state)
{
	parse_bad("", USP_PATH_E_EMPTY, NULL);
	parse_bad(NULL, USP_PATH_E_EMPTY, NULL);
}

static void test_err_too_long(void **state)
{
	char buf[USP_PATH_MAX_LEN + 2];
	strcpy(buf, "Device.");
	memset(buf + 7, 'a', USP_PATH_MAX_LEN + 1 - 7);
	buf[USP_PATH_MAX_LEN + 1] = '\0';
	parse_bad(buf, USP_PATH_E_TOO_LONG, "1024");
}

static void test_err_too_many_segments(void **state)
{
	char buf[256];
	strcpy(buf, "Device.");
	for (int i = 1; i <= USP_PATH_MAX_SEGS; i++)
		strcat(buf, "A.");
	/* segment 65 starts at byte 7 + 63*2 */
	parse_bad(buf, USP_PATH_E_TOO_MANY_SEGMENTS, "byte 133");
}

static void test_err_not_device_root(void **state)
{
	parse_bad("Device", USP_PATH_E_NOT_DEVICE_ROOT, "byte 0");
	parse_bad("device.IP.", USP_PATH_E_NOT_DEVICE_ROOT, NULL);
	parse_bad("Devices.IP.", USP_PATH_E_NOT_DEVICE_ROOT, NULL);
	parse_bad(".Device.", USP_PATH_E_NOT_DEVICE_ROOT, NULL);
	parse_bad("IP.Interface.", USP_PATH_E_NOT_DEVICE_ROOT, NULL);
}

static void test_err_empty_segment(void **state)
{
	parse_bad("Device..IP", USP_PATH_E_EMPTY_SEGMENT, "byte 7");
	parse_bad("Device.IP..Interface", USP_PATH_E_EMPTY_SEGMENT, "byte 10");
}

static void test_err_bad_name(void **state)
{
	parse_bad("Device.I P", USP_PATH_E_BAD_NAME, "byte 8");
	parse_bad("Device.-IP.", USP_PATH_E_BAD_NAME, "byte 7");
	parse_bad("Device.IP.Inter#face", USP_PATH_E_BAD_NAME, "'#' at byte 15");
	parse_bad("Device.IP[1].", USP_PATH_E_BAD_NAME, "byte 9");
	parse_bad("Device.IP.{i}.", USP_PATH_E_BAD_NAME, "byte 10");
	parse_bad("Device.A.\x01", USP_PATH_E_BAD_NAME, "\\x01 at byte 9");
}

static void test_err_bad_instance(void **state)
{
	parse_bad("Device.IP.Interface.0.", USP_PATH_E_BAD_INSTANCE, "byte 20");
	parse_bad("Device.IP.Interface.01.", USP_PATH_E_BAD_INSTANCE, "byte 20");
	parse_bad("Device.IP.Interface.4294967296.", USP_PATH_E_BAD_INSTANCE, "exceeds");
	parse_bad("Device.IP.Interface.99999999999999999999999.", USP_PATH_E_BAD_INSTANCE, NULL);
	parse_bad("Device.IP.Interface.1a.", USP_PATH_E_BAD_INSTANCE, "byte 21");
}

static void test_err_unterminated_expr(void **state)
{
	parse_bad("Device.X.[A==1", USP_PATH_E_UNTERMINATED_EXPR, "byte 14");
	parse_bad("Device.X.[A==\"abc", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[A==\"a\"", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[A", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[A==", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[A==\"x\\", USP_PATH_E_UNTERMINATED_EXPR, NULL);
	parse_bad("Device.X.[A==1&", USP_PATH_E_UNTERMINATED_EXPR, NULL);
}

static void test_err_empty_expr(void **state)
{
	parse_bad("Device.X.[].", USP_PATH_E_EMPTY_EXPR, "byte 9");
}

static void test_err_bad_expr_param(void **state)
{
	parse_bad("Device.X.[==1].", USP_PATH_E_BAD_EXPR_PARAM, "byte 10");
	parse_bad("Device.X.[1A==1].", USP_PATH_E_BAD_EXPR_PARAM, "byte 10");
	parse_bad("Device.X.[A.==1].", USP_PATH_E_BAD_EXPR_PARAM, "byte 12");
	parse_bad("Device.X.[A.*.B==1].", USP_PATH_E_BAD_EXPR_PARAM, NULL);
	parse_bad("Device.X.[A B==1].", USP_PATH_E_BAD_EXPR_PARAM, "byte 11");
	parse_bad("Device.X.[A==1&&].", USP_PATH_E_BAD_EXPR_PARAM, "byte 16");
}

static void test_err_bad_operator(void **state)
{
	parse_bad("Device.X.[Alias].", USP_PATH_E_BAD_OPERATOR, "byte 15");
	parse_bad("Device.X.[A=1].", USP_PATH_E_BAD_OPERATOR, "byte 11");
	parse_bad("Device.X.[A!1].", USP_PATH_E_BAD_OPERATOR, NULL);
	parse_bad("Device.X.[A=>1].", USP_PATH_E_BAD_OPERATOR, NULL);
	parse_bad("Device.X.[A\"x\"].", USP_PATH_E_BAD_OPERATOR, NULL);
	parse_bad("Device.X.[Enable<true].", USP_PATH_E_BAD_OPERATOR, "boolean");
}

static void test_err_bad_value(void **state)
{
	parse_bad("Device.X.[A==].", USP_PATH_E_BAD_VALUE, "byte 13");
	parse_bad("Device.X.[A==abc].", USP_PATH_E_BAD_VALUE, "byte 13");
	parse_bad("Device.X.[A==007].", USP_PATH_E_BAD_VALUE, NULL);
	parse_bad("Device.X.[A==1.].", USP_PATH_E_BAD_VALUE, NULL);
	parse_bad("Device.X.[A==1,B==2].", USP_PATH_E_BAD_VALUE, NULL);
	parse_bad("Device.X.[A===1].", USP_PATH_E_BAD_VALUE, NULL);
	parse_bad("Device.X.[A==\"x\"B==1].", USP_PATH_E_BAD_VALUE, "'B' at byte 16");
	parse_bad("Device.X.[A==1&B==1].", USP_PATH_E_BAD_VALUE, NULL);
	parse_bad("Device.X.[A==\"a\\nb\"].", USP_PATH_E_BAD_VALUE, "unknown escape");
	parse_bad("Device.X.[A==True].", USP_PATH_E_BAD_VALUE, NULL);
}

static void test_err_too_many_conds(void **state)
{
	char buf[256];
	strcpy(buf, "Device.X.[");
	for (int i = 0; i <= USP_PATH_MAX_CONDS; i++)
		strcat(buf, i ? "&&a==1" : "a==1");
	strcat(buf, "].");
	parse_bad(buf, USP_PATH_E_TOO_MANY_CONDS, "byte 9");
}

static void test_err_misplaced_selector(void **state)
{
	parse_bad("Device.1.", USP_PATH_E_MISPLACED_SELECTOR, "byte 7");
	parse_bad("Device.*.", USP_PATH_E_MISPLACED_SELECTOR, "byte 7");
	parse_bad("Device.[A==1].", USP_PATH_E_MISPLACED_SELECTOR, "byte 7");
	parse_bad("Device.IP.Interface.1.2.", USP_PATH_E_MISPLACED_SELECTOR, "byte 22");
	parse_bad("Device.IP.Interface.*.[A==1].", USP_PATH_E_MISPLACED_SELECTOR, NULL);
}

static void test_err_trailing_text(void **state)
{
	parse_bad("Device.Reboot().", USP_PATH_E_TRAILING_TEXT, "byte 15");
	parse_bad("Device.Reboot()x", USP_PATH_E_TRAILING_TEXT, NULL);
	parse_bad("Device.Boot!.X", USP_PATH_E_TRAILING_TEXT, "byte 12");
	parse_bad("Device.Boot!!", USP_PATH_E_TRAILING_TEXT, NULL);
}

static void test_err_bad_command(void **state)
{
	parse_bad("Device.Reboot(", USP_PATH_E_BAD_COMMAND, "byte 14");
	parse_bad("Device.Reboot(x)", USP_PATH_E_BAD_COMMAND, "'x' at byte 14");
	parse_bad("Device.()", USP_PATH_E_BAD_COMMAND, "byte 7");
	parse_bad("Device.IP.!", USP_PATH_E_BAD_COMMAND, "byte 10");
}

static void test_err_unterminated_selector(void **state)
{
	parse_bad("Device.IP.Interface.1", USP_PATH_E_UNTERMINATED_SELECTOR, "byte 20");
	parse_bad("Device.IP.Interface.*", USP_PATH_E_UNTERMINATED_SELECTOR, NULL);
	parse_bad("Device.IP.Interface.[A==1]", USP_PATH_E_UNTERMINATED_SELECTOR, NULL);
	parse_bad("Device.IP.Interface.*x.", USP_PATH_E_UNTERMINATED_SELECTOR, "byte 21");
	parse_bad("Device.IP.Interface.[A==1]X", USP_PATH_E_UNTERMINATED_SELECTOR, NULL);
}

static void test_err_no_memory(void **state)
{
	calloc_fail = 1;
	parse_bad("Device.IP.Interface.[Name==\"eth0\"].Enable", USP_PATH_E_NO_MEMORY, "bytes");
	calloc_fail = 0;
	struct usp_path p;
	parse_ok("Device.IP.Interface.[Name==\"eth0\"].Enable", &p);
	usp_path_fini(&p);
}

static void test_error_texts(void **state)
{
	/* every code has its own text; unknown codes get a fixed text */
	const char *unknown = usp_path_error_text(0);
	assert_non_null(unknown);
	assert_string_equal(usp_path_error_text(USP_PATH_E_BASE_), unknown);
	assert_string_equal(usp_path_error_text(USP_PATH_E_END_), unknown);
	for (int a = USP_PATH_E_BASE_ + 1; a < USP_PATH_E_END_; a++) {
		const char *ta = usp_path_error_text(a);
		assert_true(strcmp(ta, unknown) != 0);
		for (int b = a + 1; b < USP_PATH_E_END_; b++)
			assert_true(strcmp(ta, usp_path_error_text(b)) != 0);
	}
	assert_string_equal(usp_path_error_text(USP_PATH_E_EMPTY), "path is empty");
}

/* ---- cond_match ---------------------------------------------------------- */

/* Does "actual OP value" hold? */
static int match(const char *value, enum usp_cmp_op op, const char *actual)
{
	struct usp_path_cond c = { .param = (char *)"P", .op = op, .value = (char *)value };
	return usp_path_cond_match(&c, actual);
}

static void test_match_numeric(void **state)
{
	/* numeric, not byte-wise: "10" > "9" */
	assert_true(match("9", USP_CMP_GT, "10"));
	assert_false(match("9", USP_CMP_LT, "10"));
	assert_true(match("1000", USP_CMP_GT, "1001"));
	assert_false(match("1000", USP_CMP_GT, "1000"));
	assert_true(match("1000", USP_CMP_GE, "1000"));
	assert_true(match("1000", USP_CMP_LE, "999"));
	/* decimals and signs */
	assert_true(match("3.25", USP_CMP_GT, "3.3"));
	assert_false(match("3.25", USP_CMP_LT, "3.3"));
	assert_true(match("3.25", USP_CMP_EQ, "3.250"));
	assert_true(match("-0.5", USP_CMP_GT, "0"));
	assert_true(match("-2", USP_CMP_LT, "-3"));
	assert_true(match("-2", USP_CMP_GT, "-1.5"));
	assert_true(match("0", USP_CMP_EQ, "-0"));
	assert_true(match("7", USP_CMP_EQ, "007"));
	assert_true(match("5", USP_CMP_NE, "6"));
	/* exact beyond double precision: 2^64-1 vs 2^64-2 */
	assert_true(match("18446744073709551614", USP_CMP_GT, "18446744073709551615"));
	assert_false(match("18446744073709551615", USP_CMP_EQ, "18446744073709551614"));
	assert_true(match("99999999999999999999999", USP_CMP_GT, "100000000000000000000000"));
}

static void test_match_string(void **state)
{
	assert_true(match("Up", USP_CMP_EQ, "Up"));
	assert_false(match("Up", USP_CMP_EQ, "up"));
	assert_true(match("Up", USP_CMP_NE, "Down"));
	assert_false(match("Up", USP_CMP_NE, "Up"));
	/* byte-wise ordering when one side is not a number */
	assert_true(match("b", USP_CMP_GT, "c"));
	assert_true(match("b", USP_CMP_LT, "a"));
	assert_true(match("10", USP_CMP_GT, "9x")); /* "9x" > "10" byte-wise */
	assert_true(match("2024-01-01T00:00:00Z", USP_CMP_GT, "2024-06-01T00:00:00Z"));
	assert_true(match("", USP_CMP_EQ, ""));
	assert_false(match("", USP_CMP_EQ, "x"));
	/* numbers-ish that are not full numbers stay strings */
	assert_false(match("1", USP_CMP_EQ, "1.0.0"));
	assert_false(match("1", USP_CMP_EQ, " 1"));
	assert_false(match("\xff", USP_CMP_GT, "\xfe")); /* unsigned bytes: fe < ff */
	assert_true(match("\x01", USP_CMP_GT, "\xfe"));
}

static void test_match_bool_and_null(void **state)
{
	assert_true(match("true", USP_CMP_EQ, "true"));
	assert_true(match("true", USP_CMP_EQ, "1"));
	assert_true(match("false", USP_CMP_EQ, "0"));
	assert_false(match("true", USP_CMP_EQ, "false"));
	assert_true(match("true", USP_CMP_NE, "0"));
	assert_false(match("false", USP_CMP_NE, "0"));
	assert_false(match("true", USP_CMP_EQ, "yes"));
	assert_false(match("x", USP_CMP_EQ, NULL));
	assert_false(usp_path_cond_match(NULL, "x"));
}

static void test_match_parsed_conds(void **state)
{
	/* the values the parser stores are what cond_match compares */
	struct usp_path p;
	parse_ok("Device.IP.Interface.[Enable==true&&Stats.BytesSent>1000&&Name==\"eth%220\"].",
		 &p);
	const struct usp_path_cond *c = p.segs[3].conds;
	assert_true(usp_path_cond_match(&c[0], "true"));
	assert_false(usp_path_cond_match(&c[0], "false"));
	assert_true(usp_path_cond_match(&c[1], "1001"));
	assert_false(usp_path_cond_match(&c[1], "999"));
	assert_true(usp_path_cond_match(&c[2], "eth\"0"));
	usp_path_fini(&p);
}

/* ---- to_schema ----------------------------------------------------------- */

static void schema_is(const char *in, const char *want)
{
	char buf[256];
	memset(buf, 'z', sizeof(buf));
	if (usp_path_to_schema(in, buf, sizeof(buf)) != 0)
		fail_msg("to_schema('%s') failed", in);
	assert_string_equal(buf, want);
}

static void test_to_schema(void **state)
{
	schema_is("Device.WiFi.SSID.2.Name", "Device.WiFi.SSID.{i}.Name");
	schema_is("Device.WiFi.SSID.2.", "Device.WiFi.SSID.{i}.");
	schema_is("Device.", "Device.");
	schema_is("Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.SoftwareVersion");
	schema_is("Device.IP.Interface.1.IPv4Address.12.IPAddress",
		  "Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress");
	schema_is("Device.IP.Interface.*.Reset()", "Device.IP.Interface.{i}.Reset()");
	schema_is("Device.X.[A==\"a.b]c\"&&B.C==1].Name", "Device.X.{i}.Name");
	schema_is("Device.X.[A==\"q\\\".]\"].Y!", "Device.X.{i}.Y!");
	schema_is("Device.WiFi.SSID.{i}.Name", "Device.WiFi.SSID.{i}.Name");
	schema_is("Device.X2.A1.", "Device.X2.A1.");
}

static void test_to_schema_cap(void **state)
{
	const char *in = "Device.WiFi.SSID.2.Name"; /* -> 25 bytes + NUL */
	char buf[64];
	assert_int_equal(usp_path_to_schema(in, buf, 26), 0);
	assert_string_equal(buf, "Device.WiFi.SSID.{i}.Name");
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(usp_path_to_schema(in, buf, 25), USPC_E_TOOLONG);
	assert_string_equal(buf, "");
	assert_int_equal(usp_path_to_schema(in, buf, 1), USPC_E_TOOLONG);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(usp_path_to_schema(in, buf, 0), USPC_E_INVAL);
	assert_int_equal(usp_path_to_schema(NULL, buf, sizeof(buf)), USPC_E_INVAL);
	assert_int_equal(usp_path_to_schema(in, NULL, 10), USPC_E_INVAL);
}

/* ---- seed corpus: every vector that is meant to parse does ---------------- */

static void test_seed_corpus_valid(void **state)
{
	/* Every tests/vectors/paths/ok-*.txt must parse, every bad-*.txt must
	 * not; the same files seed the fuzzer. */
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/vectors/paths", USPC_TEST_DATA_DIR);
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s", dir);
	int seen_ok = 0, seen_bad = 0;
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		int ok = strncmp(e->d_name, "ok-", 3) == 0;
		if (!ok && strncmp(e->d_name, "bad-", 4) != 0)
			continue;
		char path[1024], text[USP_PATH_MAX_LEN + 2];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			fail_msg("cannot open %s", path);
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		struct usp_path p;
		struct uspc_err err;
		int rc = usp_path_parse(text, &p, &err);
		if ((rc == 0) != ok)
			fail_msg("%s: parse returned %d (%s)", e->d_name, rc, err.msg);
		usp_path_fini(&p);
		ok ? seen_ok++ : seen_bad++;
	}
	closedir(d);
	assert_true(seen_ok >= 10);
	assert_true(seen_bad >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_param_path),
		cmocka_unit_test(test_object_paths),
		cmocka_unit_test(test_command_and_event),
		cmocka_unit_test(test_names_tr106),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_unique_key),
		cmocka_unit_test(test_search_expression),
		cmocka_unit_test(test_quoted_values),
		cmocka_unit_test(test_limits_at_bound),
		cmocka_unit_test(test_fini_safe),
		cmocka_unit_test(test_err_empty),
		cmocka_unit_test(test_err_too_long),
		cmocka_unit_test(test_err_too_many_segments),
		cmocka_unit_test(test_err_not_device_root),
		cmocka_unit_test(test_err_empty_segment),
		cmocka_unit_test(test_err_bad_name),
		cmocka_unit_test(test_err_bad_instance),
		cmocka_unit_test(test_err_unterminated_expr),
		cmocka_unit_test(test_err_empty_expr),
		cmocka_unit_test(test_err_bad_expr_param),
		cmocka_unit_test(test_err_bad_operator),
		cmocka_unit_test(test_err_bad_value),
		cmocka_unit_test(test_err_too_many_conds),
		cmocka_unit_test(test_err_misplaced_selector),
		cmocka_unit_test(test_err_trailing_text),
		cmocka_unit_test(test_err_bad_command),
		cmocka_unit_test(test_err_unterminated_selector),
		cmocka_unit_test(test_err_no_memory),
		cmocka_unit_test(test_error_texts),
		cmocka_unit_test(test_match_numeric),
		cmocka_unit_test(test_match_string),
		cmocka_unit_test(test_match_bool_and_null),
		cmocka_unit_test(test_match_parsed_conds),
		cmocka_unit_test(test_to_schema),
		cmocka_unit_test(test_to_schema_cap),
		cmocka_unit_test(test_seed_corpus_valid),
	};
	return cmocka_run_group_tests_name("usp_path", tests, NULL, NULL);
}
