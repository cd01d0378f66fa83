/*
 * test_mqtt_mtp_topic.c — the USP MQTT 3.1.1 /reply-to= convention
 * (R-MQTT.24/25) and mqtt_mtp_new()'s configuration checks. No network:
 * mqtt_mtp_new() does not connect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "log.h"
#include "mqtt_mtp.h"

static void test_parse_reply_to(void **state)
{
	char out[64];

	assert_int_equal(
		mqtt_mtp_parse_reply_to("usp/agents/A/reply-to=usp%2Fctl%2FC", out, sizeof(out)),
		1);
	assert_string_equal(out, "usp/ctl/C");
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=x%2fy", out, sizeof(out)), 1);
	assert_string_equal(out, "x/y");
	/* Only %2F is decoded; other escapes are kept as they are. */
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=x%20y%2", out, sizeof(out)), 1);
	assert_string_equal(out, "x%20y%2");
	/* No suffix: 0 and nothing written is relied upon. */
	assert_int_equal(mqtt_mtp_parse_reply_to("usp/controller/C", out, sizeof(out)), 0);
	assert_int_equal(mqtt_mtp_parse_reply_to("reply-to=abc", out, sizeof(out)), 0);
	/* The suffix must be the last level. */
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=x/y", out, sizeof(out)), 0);
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-tox=y", out, sizeof(out)), 0);
}

static void test_parse_reply_to_rejects(void **state)
{
	char out[8];

	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=", out, sizeof(out)),
			 MQTT_MTP_E_INVAL);
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=x%2F+", out, sizeof(out)),
			 MQTT_MTP_E_INVAL);
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=x%2F#", out, sizeof(out)),
			 MQTT_MTP_E_INVAL);
	/* 7 chars + NUL fit in 8, 8 do not. */
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=abc%2Fdef", out, sizeof(out)), 1);
	assert_string_equal(out, "abc/def");
	assert_int_equal(mqtt_mtp_parse_reply_to("a/reply-to=abcd%2Fdef", out, sizeof(out)),
			 MQTT_MTP_E_INVAL);
	assert_int_equal(mqtt_mtp_parse_reply_to(NULL, out, sizeof(out)), MQTT_MTP_E_INVAL);
}

static void test_build_reply_to(void **state)
{
	char out[64], back[64];

	assert_int_equal(mqtt_mtp_build_reply_to("usp/agents/A", "usp/ctl/C", out, sizeof(out)), 0);
	assert_string_equal(out, "usp/agents/A/reply-to=usp%2Fctl%2FC");
	assert_int_equal(mqtt_mtp_parse_reply_to(out, back, sizeof(back)), 1);
	assert_string_equal(back, "usp/ctl/C");
	/* Exactly full and one byte short. */
	assert_int_equal(mqtt_mtp_build_reply_to("d", "a/b", out, strlen("d/reply-to=a%2Fb") + 1),
			 0);
	assert_int_equal(mqtt_mtp_build_reply_to("d", "a/b", out, strlen("d/reply-to=a%2Fb")),
			 MQTT_MTP_E_TOOBIG);
	assert_int_equal(mqtt_mtp_build_reply_to("", "a", out, sizeof(out)), MQTT_MTP_E_INVAL);
}

static void base_config(struct mqtt_mtp_config *c)
{
	mqtt_mtp_config_init(c);
	c->broker_url = "mqtt://127.0.0.1:1883";
	c->endpoint_id = "self::unit";
	c->response_topic = "usp/controller/self::unit/reply";
}

static void expect_rejected(const struct mqtt_mtp_config *c, const char *needle)
{
	struct uspc_err err = { 0 };
	struct mqtt_mtp *m = mqtt_mtp_new(c, &err);

	assert_null(m);
	assert_true(err.code < 0);
	if (!strstr(err.msg, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err.msg, needle);
}

static void test_config_checks(void **state)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp *m;
	const char *subs[1] = { "$share/g/usp/controller/self::unit" };

	base_config(&c);
	c.sub_topics = subs;
	c.n_sub_topics = 1;
	m = mqtt_mtp_new(&c, &err);
	assert_non_null(m);
	assert_string_equal(mqtt_mtp_response_topic(m), c.response_topic);
	assert_string_equal(mqtt_mtp_state_name(m), "idle");
	assert_int_equal(mqtt_mtp_is_connected(m), 0);
	assert_true(mqtt_mtp_wake_fd(m) >= 0);
	/* Queued before start; too big and wildcard topics refused. */
	assert_int_equal(mqtt_mtp_publish(m, "usp/agent/x", "p", 1, 0), 0);
	assert_int_equal(mqtt_mtp_publish(m, "usp/agent/+", "p", 1, 0), MQTT_MTP_E_INVAL);
	assert_int_equal(mqtt_mtp_publish(m, "usp/agent/x", "p", c.max_payload + 1, 0),
			 MQTT_MTP_E_TOOBIG);
	mqtt_mtp_free(m);

	/* IPv6 literal and a default port are valid URLs. */
	base_config(&c);
	c.broker_url = "mqtt://[::1]:1883";
	m = mqtt_mtp_new(&c, &err);
	assert_non_null(m);
	mqtt_mtp_free(m);
	c.broker_url = "mqtts://broker.example";
	m = mqtt_mtp_new(&c, &err);
	assert_non_null(m);
	mqtt_mtp_free(m);

	/* No reply topic configured: taken from CONNACK Response Information
	 * later; until then "" and a 3.1.1 publish (which must carry it in
	 * the topic) is refused while a 5.0 one is queued. */
	base_config(&c);
	c.response_topic = NULL;
	m = mqtt_mtp_new(&c, &err);
	assert_non_null(m);
	assert_string_equal(mqtt_mtp_response_topic(m), "");
	assert_int_equal(mqtt_mtp_publish(m, "usp/agent/x", "p", 1, MQTT_MTP_PUB_V311),
			 MQTT_MTP_E_STATE);
	assert_int_equal(mqtt_mtp_publish(m, "usp/agent/x", "p", 1, 0), 0);
	mqtt_mtp_free(m);

	base_config(&c);
	c.broker_url = "http://127.0.0.1:1883";
	expect_rejected(&c, "scheme");
	base_config(&c);
	c.broker_url = "mqtt://127.0.0.1:1883/path";
	expect_rejected(&c, "bad broker URL");
	base_config(&c);
	c.broker_url = "mqtt://127.0.0.1:65536";
	expect_rejected(&c, "bad broker URL");
	base_config(&c);
	c.broker_url = "mqtt://127.0.0.1:x";
	expect_rejected(&c, "bad broker URL");
	/* Credentials in the URL are refused, and not echoed back. */
	base_config(&c);
	c.broker_url = "mqtt://dev:s3cret@127.0.0.1:1883";
	expect_rejected(&c, "bad broker URL mqtt://dev:***@127.0.0.1:1883");
	c.broker_url = "http://dev:s3cret@127.0.0.1:1883";
	expect_rejected(&c, "scheme in http://dev:***@127.0.0.1:1883");
	base_config(&c);
	c.broker_url = "mqtt://[::1:1883";
	expect_rejected(&c, "bad broker URL");
	base_config(&c);
	c.endpoint_id = "";
	expect_rejected(&c, "endpoint id");
	base_config(&c);
	c.response_topic = "usp/controller/#";
	expect_rejected(&c, "wildcards");
	base_config(&c);
	c.cert_file = "/etc/hostname";
	expect_rejected(&c, "cert_file and key_file");
	base_config(&c);
	c.ca_file = "/nonexistent/ca.crt";
	c.broker_url = "mqtts://127.0.0.1:8883";
	expect_rejected(&c, "cannot read CA file");
	base_config(&c);
	c.ca_file = "/etc/hostname";
	expect_rejected(&c, "not mqtts://");
	base_config(&c);
	c.max_inflight = 0;
	expect_rejected(&c, "max_inflight");
	base_config(&c);
	c.reconnect_max_ms = 5;
	expect_rejected(&c, "reconnect_min_ms");
	base_config(&c);
	c.n_sub_topics = MQTT_MTP_MAX_SUBS + 1;
	c.sub_topics = subs;
	expect_rejected(&c, "at most");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reply_to),
		cmocka_unit_test(test_parse_reply_to_rejects),
		cmocka_unit_test(test_build_reply_to),
		cmocka_unit_test(test_config_checks),
	};

	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
