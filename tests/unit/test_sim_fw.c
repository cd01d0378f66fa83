/*
 * test_sim_fw.c — usp-agent-sim's firmware helpers: the Name and Version a
 * downloaded image gets from its URL (the documented examples, query
 * strings, trailing slashes, no digits, long names and small buffers), and
 * the seeded choice of agents for each firmware fault (0 and 1 exact,
 * fractions close, the sets of different faults independent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim_fw.h"

static void expect(const char *url, const char *name, const char *ver)
{
	char n[256], v[256];
	size_t nl = sim_fw_name_from_url(url, n, sizeof(n));
	size_t vl = sim_fw_version_from_url(url, v, sizeof(v));
	assert_string_equal(n, name);
	assert_string_equal(v, ver);
	assert_int_equal(nl, strlen(name));
	assert_int_equal(vl, strlen(ver));
}

static void test_documented_examples(void **state)
{
	(void)state;
	expect("http://fw.example/sim-gw-2.0.0.bin", "sim-gw-2.0.0.bin", "2.0.0");
	expect("http://fw.example/2.0.0.bin", "2.0.0.bin", "2.0.0");
	expect("https://fw.example/images/fw-v3.1.img", "fw-v3.1.img", "3.1");
	expect("http://fw.example/gw_4.0.0-rc1.bin", "gw_4.0.0-rc1.bin", "4.0.0-rc1");
}

static void test_version_rule(void **state)
{
	(void)state;
	/* an all-digit "extension" is part of the version */
	expect("http://h/2.0.0", "2.0.0", "2.0.0");
	expect("http://h/gw-10", "gw-10", "10");
	/* only one extension is dropped */
	expect("http://h/fw-1.2.tar.gz", "fw-1.2.tar.gz", "1.2.tar");
	expect("http://h/fw-1.2.tar", "fw-1.2.tar", "1.2");
	/* v / V only counts at the start or after - or _ */
	expect("http://h/v7.bin", "v7.bin", "7");
	expect("http://h/V7_x.bin", "V7_x.bin", "7_x");
	expect("http://h/fw_V12.img", "fw_V12.img", "12");
	expect("http://h/dev7.bin", "dev7.bin", "dev7");
	expect("http://h/abc2.0.bin", "abc2.0.bin", "abc2.0");
	/* the first qualifying digit wins */
	expect("http://h/gw2-x-3.1.bin", "gw2-x-3.1.bin", "3.1");
	expect("http://h/a-1-b-2.bin", "a-1-b-2.bin", "1-b-2");
	/* no digit where the rule wants one: the name without its extension */
	expect("http://h/firmware.bin", "firmware.bin", "firmware");
	expect("http://h/firmware", "firmware", "firmware");
	expect("http://h/x2y.bin", "x2y.bin", "x2y");
	/* a leading dot is not an extension; an empty extension is kept */
	expect("http://h/.bin", ".bin", ".bin");
	expect("http://h/fw-2.", "fw-2.", "2.");
}

static void test_url_forms(void **state)
{
	(void)state;
	/* query string and fragment are not part of the name */
	expect("http://h/dl/gw-5.0.bin?token=a/b.c&x=1-9", "gw-5.0.bin", "5.0");
	expect("http://h/gw-5.0.bin#part-2", "gw-5.0.bin", "5.0");
	expect("http://h/gw-5.0.bin?#", "gw-5.0.bin", "5.0");
	/* trailing slashes are ignored */
	expect("http://h/images/fw-6.1/", "fw-6.1", "6.1");
	expect("http://h/images/fw-6.1//", "fw-6.1", "6.1");
	/* no path: nothing (the host is not a path segment) */
	expect("http://fw-9.example", "", "");
	expect("http://fw-9.example/", "", "");
	expect("http://fw-9.example?f=gw-1.bin", "", "");
	/* not a URL: the text itself is the path */
	expect("gw-7.bin", "gw-7.bin", "7");
	expect("dir/gw-7.bin", "gw-7.bin", "7");
	expect("/", "", "");
	expect("", "", "");
	expect(NULL, "", "");
	/* user and port in the authority, slashes only after it */
	expect("ftp://u:p@h:21/a/b/fw-8.img", "fw-8.img", "8");
}

static void test_long_and_truncated(void **state)
{
	(void)state;
	size_t n = 10000;
	char *url = malloc(n + 64);
	assert_non_null(url);
	strcpy(url, "http://h/");
	size_t o = strlen(url);
	memset(url + o, 'a', n);
	strcpy(url + o + n, "-1.2.3.bin");
	char name[64], ver[8];
	assert_int_equal(sim_fw_name_from_url(url, name, sizeof(name)), n + 10);
	assert_int_equal(strlen(name), sizeof(name) - 1);
	assert_true(name[0] == 'a' && name[62] == 'a');
	assert_int_equal(sim_fw_version_from_url(url, ver, sizeof(ver)), 5);
	assert_string_equal(ver, "1.2.3");
	/* a long version, truncated to the buffer */
	memset(url + o, '9', n);
	assert_int_equal(sim_fw_version_from_url(url, ver, sizeof(ver)), n + 6);
	assert_string_equal(ver, "9999999");
	/* cap 1: just the NUL */
	char one[1] = { 'x' };
	assert_int_equal(sim_fw_version_from_url("http://h/fw-1.bin", one, 1), 1);
	assert_int_equal(one[0], '\0');
	free(url);
}

static void test_fault_choice(void **state)
{
	(void)state;
	const uint32_t n = 20000;
	unsigned chosen[SIM_FWF_COUNT] = { 0 }, both = 0;
	for (uint32_t i = 1; i <= n; i++) {
		for (int f = 0; f < SIM_FWF_COUNT; f++) {
			assert_int_equal(sim_fw_fault_chosen(7, i, (enum sim_fw_fault)f, 0), 0);
			assert_int_equal(sim_fw_fault_chosen(7, i, (enum sim_fw_fault)f, 1), 1);
			chosen[f] += (unsigned)sim_fw_fault_chosen(7, i, (enum sim_fw_fault)f, 0.3);
		}
		both += (unsigned)(sim_fw_fault_chosen(7, i, SIM_FWF_BOOT_FAIL, 0.3) &&
				   sim_fw_fault_chosen(7, i, SIM_FWF_NO_RETURN, 0.3));
		/* deterministic */
		assert_int_equal(sim_fw_fault_chosen(7, i, SIM_FWF_LOSE_BOOT, 0.5),
				 sim_fw_fault_chosen(7, i, SIM_FWF_LOSE_BOOT, 0.5));
	}
	for (int f = 0; f < SIM_FWF_COUNT; f++)
		assert_true(chosen[f] > n * 0.28 && chosen[f] < n * 0.32);
	/* independent sets: about 0.3 * 0.3 of the agents are in both */
	assert_true(both > n * 0.07 && both < n * 0.11);
	/* a different seed chooses differently */
	unsigned same = 0;
	for (uint32_t i = 1; i <= 1000; i++)
		same += sim_fw_fault_chosen(7, i, SIM_FWF_BOOT_FAIL, 0.5) ==
			sim_fw_fault_chosen(8, i, SIM_FWF_BOOT_FAIL, 0.5);
	assert_true(same < 600);
	assert_string_equal(sim_fw_fault_name(SIM_FWF_BOOT_FAIL), "boot-fail");
	assert_string_equal(sim_fw_fault_name(SIM_FWF_NO_ACTIVATE), "no-activate");
	assert_string_equal(sim_fw_fault_name(SIM_FWF_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_documented_examples),
		cmocka_unit_test(test_version_rule),
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test(test_long_and_truncated),
		cmocka_unit_test(test_fault_choice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
