/*
 * test_cwmp_names.c — cwmp_endpoint_id (controller/cwmp/cwmp_eid.c: the
 * os:: and ops:: forms, percent-encoding of every byte outside
 * [A-Za-z0-9._-], empty and oversized parts, small buffers) and the
 * tables of cwmp_names.c (event matching, fault texts, method names,
 * namespace URNs, error strings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cwmp_msg.h"

static int eid(const char *oui, const char *pc, const char *sn, char *buf, size_t len)
{
	struct cwmp_device_id id = { (char *)"M", (char *)oui, (char *)pc, (char *)sn };
	return cwmp_endpoint_id(&id, buf, len);
}

static void test_eid_forms(void **state)
{
	(void)state;
	char buf[CWMP_EID_MAX];
	assert_int_equal(eid("00D09E", "", "ABC123", buf, sizeof(buf)), 17);
	assert_string_equal(buf, "os::00D09E-ABC123");
	assert_int_equal(eid("00D09E", NULL, "ABC123", buf, sizeof(buf)), 17);
	assert_string_equal(buf, "os::00D09E-ABC123");
	assert_int_equal(eid("00D09E", "IGD", "ABC123", buf, sizeof(buf)), 22);
	assert_string_equal(buf, "ops::00D09E-IGD-ABC123");
	/* '-', '.', '_' stay; the separator '-' is not escaped in parts either
	 * (TR-369 keeps it in instance identifiers). */
	assert_true(eid("00D09E", "a-b.c_d", "x.y", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "ops::00D09E-a-b.c_d-x.y");
}

static void test_eid_encoding(void **state)
{
	(void)state;
	char buf[CWMP_EID_MAX];
	assert_true(eid("00D09E", "Home Gateway", "SN/1%2", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "ops::00D09E-Home%20Gateway-SN%2F1%252");
	assert_true(eid("00d09e", "", "\xc3\xa9t\xc3\xa9:+@", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "os::00d09e-%C3%A9t%C3%A9%3A%2B%40");
	assert_true(eid("00D09E", "", "\x7f\x01~", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "os::00D09E-%7F%01%7E");
}

static void test_eid_refusals(void **state)
{
	(void)state;
	char buf[CWMP_EID_MAX];
	assert_int_equal(eid("", "P", "S", buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(eid("00D09E", "P", "", buf, sizeof(buf)), -1);
	assert_int_equal(eid(NULL, "P", "S", buf, sizeof(buf)), -1);
	assert_int_equal(eid("00D09E", "P", NULL, buf, sizeof(buf)), -1);
	assert_int_equal(cwmp_endpoint_id(NULL, buf, sizeof(buf)), -1);

	/* 64 raw bytes is the most a part may have; all escaped, all three
	 * parts at the limit still fit CWMP_EID_MAX. */
	char part[66];
	memset(part, ' ', 64);
	part[64] = '\0';
	int n = eid(part, part, part, buf, sizeof(buf));
	assert_int_equal(n, 5 + 3 * 64 * 3 + 2);
	assert_int_equal(strlen(buf), (size_t)n);
	part[64] = 'x';
	part[65] = '\0';
	assert_int_equal(eid(part, "P", "S", buf, sizeof(buf)), -1);
	assert_int_equal(eid("00D09E", part, "S", buf, sizeof(buf)), -1);
	assert_int_equal(eid("00D09E", "P", part, buf, sizeof(buf)), -1);

	/* Buffer exactly the length + NUL works; one less does not. */
	char small[18];
	assert_int_equal(eid("00D09E", "", "ABC123", small, 18), 17);
	assert_int_equal(eid("00D09E", "", "ABC123", small, 17), -1);
	assert_string_equal(small, "");
	assert_int_equal(eid("00D09E", "", "A B", small, 16), -1); /* %20 does not fit */
	assert_int_equal(eid("00D09E", "", "A B", small, 17), 16);
	assert_string_equal(small, "os::00D09E-A%20B");
	assert_int_equal(eid("00D09E", "", "ABC123", NULL, 0), -1);
}

static void test_events(void **state)
{
	(void)state;
	assert_true(cwmp_event_is("1 BOOT", "1 BOOT"));
	assert_true(cwmp_event_is("1 boot", "1 BOOT"));
	assert_true(cwmp_event_is(" 1 BOOT ", "1 BOOT"));
	assert_false(cwmp_event_is("10 AUTONOMOUS TRANSFER COMPLETE", "1 BOOT"));
	assert_false(cwmp_event_is("0 BOOTSTRAP", "1 BOOT"));
	assert_true(cwmp_event_is("0 BOOTSTRAP", "0 BOOTSTRAP"));
	assert_true(cwmp_event_is("10 AUTONOMOUS TRANSFER COMPLETE", "10"));
	assert_true(cwmp_event_is("M Reboot", "M Reboot"));
	assert_true(cwmp_event_is("m reboot ", "M Reboot"));
	assert_false(cwmp_event_is("M Download", "M Reboot"));
	assert_false(cwmp_event_is("M Rebooted", "M Reboot"));
	assert_false(cwmp_event_is("BOOT", "1 BOOT"));
	assert_false(cwmp_event_is(NULL, "1 BOOT"));
	assert_false(cwmp_event_is("1 BOOT", NULL));
	assert_false(cwmp_event_is("1 BOOT", ""));
}

static void test_fault_texts(void **state)
{
	(void)state;
	assert_string_equal(cwmp_fault_text(8000), "Method not supported");
	assert_string_equal(cwmp_fault_text(8005), "Retry request");
	assert_string_equal(cwmp_fault_text(8006), "ACS version incompatible with CPE");
	assert_null(cwmp_fault_text(8007));
	assert_null(cwmp_fault_text(7999));
	assert_string_equal(cwmp_fault_text(9003), "Invalid arguments");
	assert_string_equal(cwmp_fault_text(9008), "Attempt to set a non-writable parameter");
	assert_string_equal(cwmp_fault_text(9010), "Download failure");
	for (unsigned c = 9000; c <= 9032; c++)
		assert_non_null(cwmp_fault_text(c));
	for (unsigned c = 8000; c <= 8006; c++)
		assert_non_null(cwmp_fault_text(c));
	assert_null(cwmp_fault_text(9033));
	assert_null(cwmp_fault_text(9800));
	assert_null(cwmp_fault_text(0));
}

static void test_tables(void **state)
{
	(void)state;
	assert_string_equal(cwmp_method_name(CWMP_M_INFORM), "Inform");
	assert_string_equal(cwmp_method_name(CWMP_M_FAULT), "Fault");
	assert_string_equal(cwmp_method_name(CWMP_M_EMPTY), "");
	assert_string_equal(cwmp_method_name(CWMP_M_UNKNOWN), "");
	assert_string_equal(cwmp_method_name(CWMP_M_COUNT), "");
	assert_string_equal(cwmp_method_name(CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE),
			    "AutonomousTransferCompleteResponse");
	/* Every method has a distinct non-empty name. */
	for (int a = CWMP_M_FAULT; a < CWMP_M_COUNT; a++) {
		assert_true(cwmp_method_name((enum cwmp_method)a)[0] != '\0');
		for (int b = a + 1; b < CWMP_M_COUNT; b++)
			assert_string_not_equal(cwmp_method_name((enum cwmp_method)a),
						cwmp_method_name((enum cwmp_method)b));
	}
	assert_string_equal(cwmp_ns_urn(CWMP_NS_1_0), "urn:dslforum-org:cwmp-1-0");
	assert_string_equal(cwmp_ns_urn(CWMP_NS_1_4), "urn:dslforum-org:cwmp-1-4");
	assert_null(cwmp_ns_urn(CWMP_NS_COUNT));
	assert_string_equal(cwmp_err_str(CWMP_E_LIMIT), "limit exceeded");
	assert_string_equal(cwmp_err_str(-99), "unknown error");
	for (int e = CWMP_E_ARG; e <= 0; e++)
		assert_string_not_equal(cwmp_err_str(e), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eid_forms),    cmocka_unit_test(test_eid_encoding),
		cmocka_unit_test(test_eid_refusals), cmocka_unit_test(test_events),
		cmocka_unit_test(test_fault_texts),  cmocka_unit_test(test_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
