/* Unit tests for core_identity: which agent a record may speak for, from
 * the topic level it arrived on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core_identity.h"
#include "usp_err.h"

#define CTL "usp/controller/self::uspc"
#define REPLY "usp/controller/self::uspc/reply/node-1"

static const char *check(const char *topic, const char *from_id, int required)
{
	struct core_topic_id t;
	if (core_identity_parse(topic, CTL, REPLY, &t) != 0)
		return "identity_bad_topic";
	return core_identity_check(&t, from_id, required);
}

static void test_own_level_accepted(void **state)
{
	(void)state;
	assert_null(check(CTL "/os::A", "os::A", 1));
	assert_null(check(REPLY "/os::A", "os::A", 1));
	assert_null(check(CTL "/os::A/reply-to=usp%2Fagent%2Fos::A", "os::A", 1));
	assert_null(check(REPLY "/os::A/reply-to=x", "os::A", 1));
	struct core_topic_id t;
	assert_int_equal(core_identity_parse(REPLY "/os::A", CTL, REPLY, &t), 0);
	assert_int_equal(t.kind, CORE_TOPIC_REPLY);
	assert_int_equal(t.id_len, 5);
	assert_memory_equal(t.id, "os::A", 5);
	assert_int_equal(core_identity_parse(CTL "/os::A", CTL, REPLY, &t), 0);
	assert_int_equal(t.kind, CORE_TOPIC_CONTROLLER);
}

static void test_other_identity_refused(void **state)
{
	(void)state;
	assert_string_equal(check(CTL "/os::A", "os::B", 1), "identity_mismatch");
	assert_string_equal(check(CTL "/os::A", "os::B", 0), "identity_mismatch");
	assert_string_equal(check(REPLY "/os::A", "os::A2", 1), "identity_mismatch");
	assert_string_equal(check(REPLY "/os::A2", "os::A", 1), "identity_mismatch");
	assert_string_equal(check(CTL "/os::A", "", 1), "identity_mismatch");
	/* "reply" under the controller topic is just another level: no EID
	 * is "reply", so a record there speaks for nobody it names. */
	assert_string_equal(check(CTL "/reply", "os::A", 1), "identity_mismatch");
}

static void test_bare_topics(void **state)
{
	(void)state;
	assert_string_equal(check(CTL, "os::A", 1), "identity_missing");
	assert_string_equal(check(REPLY, "os::A", 1), "identity_missing");
	assert_string_equal(check(CTL "/reply-to=usp%2Fagent%2Fa", "os::A", 1), "identity_missing");
	assert_string_equal(check("some/other/topic", "os::A", 1), "identity_missing");
	assert_null(check(CTL, "os::A", 0));
	assert_null(check(REPLY, "os::A", 0));
	assert_null(check("some/other/topic", "os::A", 0));
}

static void test_bad_topics(void **state)
{
	(void)state;
	assert_string_equal(check(CTL "/", "os::A", 0), "identity_bad_topic");
	assert_string_equal(check(CTL "//os::A", "os::A", 0), "identity_bad_topic");
	assert_string_equal(check(CTL "/os::A/x", "os::A", 0), "identity_bad_topic");
	assert_string_equal(check(CTL "/os::A/reply-to=a/b", "os::A", 0), "identity_bad_topic");
	assert_string_equal(check(REPLY "/os::A/x/y", "os::A", 0), "identity_bad_topic");
	assert_string_equal(check(REPLY "/", "", 0), "identity_bad_topic");
	/* A prefix match that is not a level boundary is another topic. */
	assert_null(check(CTL "x/os::A", "os::A", 0));
	assert_string_equal(check(CTL "x/os::A", "os::A", 1), "identity_missing");
}

static void test_agent_topic(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(core_identity_agent_topic("usp/agent/%e", "os::A", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "usp/agent/os::A");
	assert_int_equal(core_identity_agent_topic("%e/in", "x", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x/in");
	assert_int_equal(core_identity_agent_topic("usp/agent/%e", "os::A", buf, 15),
			 USPC_E_TOOLONG);
	assert_int_equal(core_identity_agent_topic("usp/agent/%e", "os::A", buf, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_level_accepted),
		cmocka_unit_test(test_other_identity_refused),
		cmocka_unit_test(test_bare_topics),
		cmocka_unit_test(test_bad_topics),
		cmocka_unit_test(test_agent_topic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
