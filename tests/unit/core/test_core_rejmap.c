/* Unit tests for core_rejmap: counts per (sender, reason), the key cap and
 * its "(many senders)" rows, dropping flushed rows, and the cleaning of
 * peer text (length cap at a character boundary, invalid UTF-8, control
 * characters). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_rejmap.h"

static const struct core_rej_entry *find(const struct core_rejmap *m, const char *reason,
					 const char *sender)
{
	for (size_t i = 0; i < core_rejmap_len(m); i++) {
		const struct core_rej_entry *e = core_rejmap_at(m, i);
		if (!strcmp(e->reason, reason) && !strcmp(e->sender, sender))
			return e;
	}
	return NULL;
}

static void test_counts_per_key(void **state)
{
	(void)state;
	struct core_rejmap *m = core_rejmap_new(0);
	assert_non_null(m);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(
			core_rejmap_note(m, "record_wrong_to_id", "os::a", "t/a", "x", 1000 + i),
			0);
	assert_int_equal(core_rejmap_note(m, "identity_mismatch", "os::a", "t/b", "y", 50), 0);
	assert_int_equal(core_rejmap_note(m, "record_wrong_to_id", "os::b", NULL, "z", 7000), 0);
	assert_int_equal(core_rejmap_len(m), 3);
	const struct core_rej_entry *e = find(m, "record_wrong_to_id", "os::a");
	assert_non_null(e);
	assert_int_equal(e->count, 5000);
	assert_int_equal(e->first_us, 1000);
	assert_int_equal(e->last_us, 5999);
	assert_string_equal(e->topic, "t/a");
	assert_string_equal(e->detail, "x");
	assert_int_equal(e->many, 0);
	e = find(m, "record_wrong_to_id", "os::b");
	assert_string_equal(e->topic, ""); /* no topic given */
	/* an older report widens first_us and leaves the newest texts */
	core_rejmap_note(m, "record_wrong_to_id", "os::a", "t/old", "old", 10);
	e = find(m, "record_wrong_to_id", "os::a");
	assert_int_equal(e->first_us, 10);
	assert_string_equal(e->topic, "t/a");
	/* NULL and empty senders share one row */
	core_rejmap_note(m, "record_undecodable", NULL, "t", "d", 1);
	core_rejmap_note(m, "record_undecodable", "", "t", "d", 2);
	assert_int_equal(find(m, "record_undecodable", "(unknown)")->count, 2);
	assert_int_equal(core_rejmap_lost(m), 0);
	core_rejmap_free(m);
}

static void test_cap_and_overflow(void **state)
{
	(void)state;
	struct core_rejmap *m = core_rejmap_new(10);
	char who[32];
	for (int i = 0; i < 200; i++) {
		snprintf(who, sizeof(who), "os::s%03d", i);
		int rc = core_rejmap_note(m, "record_wrong_to_id", who, "t", "d", i);
		assert_int_equal(rc, i < 10 ? 0 : 1);
	}
	/* a known sender still counts in its own row */
	assert_int_equal(core_rejmap_note(m, "record_wrong_to_id", "os::s003", "t", "d", 300), 0);
	/* a new key of another reason overflows into that reason's row */
	assert_int_equal(core_rejmap_note(m, "identity_missing", "os::s003", "t", "d", 301), 1);
	assert_int_equal(core_rejmap_len(m), 12);
	const struct core_rej_entry *e = find(m, "record_wrong_to_id", CORE_REJ_MANY);
	assert_non_null(e);
	assert_int_equal(e->many, 1);
	assert_int_equal(e->count, 190);
	assert_int_equal(e->first_us, 10);
	assert_string_equal(e->detail, "os::s199: d"); /* the last sender */
	assert_int_equal(find(m, "record_wrong_to_id", "os::s003")->count, 2);
	assert_int_equal(find(m, "identity_missing", CORE_REJ_MANY)->count, 1);
	/* every rejection counted once */
	uint64_t total = 0;
	for (size_t i = 0; i < core_rejmap_len(m); i++)
		total += core_rejmap_at(m, i)->count;
	assert_int_equal(total, 202);
	assert_int_equal(core_rejmap_lost(m), 0);
	core_rejmap_free(m);
}

static void test_overflow_rows_bounded(void **state)
{
	(void)state;
	struct core_rejmap *m = core_rejmap_new(1);
	static char reasons[CORE_REJ_REASONS_MAX + 5][16];
	assert_int_equal(core_rejmap_note(m, "r", "first", NULL, NULL, 1), 0);
	for (int i = 0; i < CORE_REJ_REASONS_MAX + 5; i++) {
		snprintf(reasons[i], sizeof(reasons[i]), "reason%d", i);
		int rc = core_rejmap_note(m, reasons[i], "x", NULL, NULL, 2);
		assert_int_equal(rc, i < CORE_REJ_REASONS_MAX ? 1 : -1);
	}
	assert_int_equal(core_rejmap_len(m), 1 + CORE_REJ_REASONS_MAX);
	assert_int_equal(core_rejmap_lost(m), 5);
	core_rejmap_free(m);
}

static void test_drop(void **state)
{
	(void)state;
	struct core_rejmap *m = core_rejmap_new(3);
	core_rejmap_note(m, "r", "a", NULL, NULL, 1);
	core_rejmap_note(m, "r", "b", NULL, NULL, 2);
	core_rejmap_note(m, "r", "c", NULL, NULL, 3);
	assert_int_equal(core_rejmap_note(m, "r", "d", NULL, NULL, 4), 1); /* full */
	core_rejmap_drop(m, 2);                                            /* a, b flushed */
	assert_int_equal(core_rejmap_len(m), 2);
	assert_string_equal(core_rejmap_at(m, 0)->sender, "c");
	assert_string_equal(core_rejmap_at(m, 1)->sender, CORE_REJ_MANY);
	/* the kept rows go on counting; freed keys take new senders */
	assert_int_equal(core_rejmap_note(m, "r", "c", NULL, NULL, 5), 0);
	assert_int_equal(core_rejmap_at(m, 0)->count, 2);
	assert_int_equal(core_rejmap_note(m, "r", "e", NULL, NULL, 6), 0);
	assert_int_equal(core_rejmap_note(m, "r", "f", NULL, NULL, 7), 0);
	assert_int_equal(core_rejmap_note(m, "r", "g", NULL, NULL, 8), 1);
	assert_int_equal(core_rejmap_at(m, 1)->count, 2);
	core_rejmap_drop(m, 99);
	assert_int_equal(core_rejmap_len(m), 0);
	assert_int_equal(core_rejmap_note(m, "r", "a", NULL, NULL, 9), 0);
	assert_int_equal(core_rejmap_at(m, 0)->count, 1);
	core_rejmap_free(m);
}

static void test_clean(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(core_rej_clean(out, sizeof(out), "os::abc"), 7);
	assert_string_equal(out, "os::abc");
	core_rej_clean(out, sizeof(out), NULL);
	assert_string_equal(out, "");
	/* controls (C0, DEL, C1) and invalid UTF-8 */
	core_rej_clean(out, sizeof(out),
		       "a\tb\x7f"
		       "c\xc2\x85"
		       "d");
	assert_string_equal(out, "a?b?c?d");
	core_rej_clean(out, sizeof(out),
		       "\xff\xc3"
		       "x\xe2\x82");
	assert_string_equal(out, "??x??");
	/* overlong, surrogate, above U+10FFFF */
	core_rej_clean(out, sizeof(out),
		       "\xc0\xaf"
		       "\xed\xa0\x80"
		       "\xf4\x90\x80\x80");
	assert_string_equal(out, "?????????");
	/* valid multi-byte text is kept */
	core_rej_clean(out, sizeof(out), "é€😀");
	assert_string_equal(out, "é€😀");
	/* cut at a character boundary: 14 bytes + "€" (3) does not fit 15 */
	assert_int_equal(core_rej_clean(out, sizeof(out), "abcdefghijklmn€"), 14);
	assert_string_equal(out, "abcdefghijklmn");
	/* long senders are capped in the map */
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct core_rejmap *m = core_rejmap_new(0);
	core_rejmap_note(m, "r", big, big, big, 1);
	const struct core_rej_entry *e = core_rejmap_at(m, 0);
	assert_int_equal(strlen(e->sender), CORE_REJ_SENDER_MAX);
	assert_int_equal(strlen(e->topic), CORE_REJ_TOPIC_MAX);
	assert_int_equal(strlen(e->detail), CORE_REJ_DETAIL_MAX);
	/* senders that differ only past the cap are one key */
	big[600] = 'y';
	assert_int_equal(core_rejmap_note(m, "r", big, NULL, NULL, 2), 0);
	assert_int_equal(core_rejmap_len(m), 1);
	assert_int_equal(e->count, 2);
	core_rejmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_per_key),
		cmocka_unit_test(test_cap_and_overflow),
		cmocka_unit_test(test_overflow_rows_bounded),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
