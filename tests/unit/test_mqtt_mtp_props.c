/*
 * test_mqtt_mtp_props.c — the transport's pure MQTT 5 property code
 * (controller/mtp/mqtt_mtp_props.c): reading a CONNACK's Response
 * Information and subscribe-topic user properties (R-MQTT.12/15/21), the
 * SUBSCRIBE list built from them, the property builder, the allocation-free
 * publish list and the Message Expiry Interval arithmetic. No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mqtt_mtp_internal.h"

static void add_str(MQTTProperties *p, enum MQTTPropertyCodes id, const char *v)
{
	assert_int_equal(mtp_add_prop(p, id, NULL, v, 0), 0);
}

static void add_pair(MQTTProperties *p, const char *k, const char *v)
{
	assert_int_equal(mtp_add_prop(p, MQTTPROPERTY_CODE_USER_PROPERTY, k, v, 0), 0);
}

static void test_connack_response_info_and_subscribe_topics(void **state)
{
	MQTTProperties p = MQTTProperties_initializer;
	struct mtp_connack_info ci;

	add_str(&p, MQTTPROPERTY_CODE_RESPONSE_INFORMATION, "usp/ri/ctl-1");
	add_pair(&p, "subscribe-topic", "usp/ctl/+/notify");
	add_pair(&p, "other", "not/a/subscription");
	add_pair(&p, "subscribe-topic", "usp/ctl/extra");
	assert_int_equal(mtp_connack_info_read(&p, &ci), 0);
	assert_non_null(ci.response_info);
	assert_string_equal(ci.response_info, "usp/ri/ctl-1");
	assert_int_equal(ci.n_sub_topics, 2);
	assert_string_equal(ci.sub_topics[0], "usp/ctl/+/notify");
	assert_string_equal(ci.sub_topics[1], "usp/ctl/extra");
	assert_int_equal(ci.sub_topics_ignored, 0);
	mtp_connack_info_fini(&ci);
	assert_null(ci.response_info);
	assert_int_equal(ci.n_sub_topics, 0);
	MQTTProperties_free(&p);
}

static void test_connack_nothing(void **state)
{
	MQTTProperties p = MQTTProperties_initializer;
	struct mtp_connack_info ci;

	assert_int_equal(mtp_connack_info_read(NULL, &ci), 0);
	assert_null(ci.response_info);
	assert_int_equal(ci.n_sub_topics, 0);
	add_pair(&p, "usp-endpoint-id", "proto::broker");
	assert_int_equal(mtp_connack_info_read(&p, &ci), 0);
	assert_null(ci.response_info);
	assert_int_equal(ci.n_sub_topics, 0);
	mtp_connack_info_fini(&ci);
	MQTTProperties_free(&p);
}

/* A reply topic must be a topic, not a filter; subscribe-topic values
 * must be non-empty and fit MQTT_MTP_MAX_TOPIC; at most
 * MTP_MAX_BROKER_SUBS are kept. */
static void test_connack_rejects(void **state)
{
	MQTTProperties p = MQTTProperties_initializer;
	struct mtp_connack_info ci;
	char *longt = malloc(MQTT_MTP_MAX_TOPIC + 2);

	assert_non_null(longt);
	memset(longt, 'x', MQTT_MTP_MAX_TOPIC + 1);
	longt[MQTT_MTP_MAX_TOPIC + 1] = '\0';
	add_str(&p, MQTTPROPERTY_CODE_RESPONSE_INFORMATION, "usp/ri/#");
	add_pair(&p, "subscribe-topic", longt);
	for (int i = 0; i < MTP_MAX_BROKER_SUBS + 3; i++) {
		char t[32];

		snprintf(t, sizeof(t), "s/%d", i);
		add_pair(&p, "subscribe-topic", t);
	}
	assert_int_equal(mtp_connack_info_read(&p, &ci), 0);
	assert_null(ci.response_info);
	assert_int_equal(ci.n_sub_topics, MTP_MAX_BROKER_SUBS);
	assert_string_equal(ci.sub_topics[0], "s/0");
	assert_string_equal(ci.sub_topics[MTP_MAX_BROKER_SUBS - 1], "s/15");
	assert_int_equal(ci.sub_topics_ignored, 1 + 3);
	mtp_connack_info_fini(&ci);
	MQTTProperties_free(&p);

	/* Empty values (Paho's builder refuses them; a received CONNACK can
	 * carry them), built by hand. */
	{
		MQTTProperty arr[2];
		MQTTProperties hand = { .count = 2, .max_count = 2, .array = arr };

		memset(arr, 0, sizeof(arr));
		arr[0].identifier = MQTTPROPERTY_CODE_RESPONSE_INFORMATION;
		arr[0].value.data.data = "";
		arr[1].identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
		arr[1].value.data.data = "subscribe-topic";
		arr[1].value.data.len = 15;
		arr[1].value.value.data = "";
		assert_int_equal(mtp_connack_info_read(&hand, &ci), 0);
		assert_null(ci.response_info);
		assert_int_equal(ci.n_sub_topics, 0);
		assert_int_equal(ci.sub_topics_ignored, 1);
		mtp_connack_info_fini(&ci);
	}

	/* Exactly MQTT_MTP_MAX_TOPIC bytes is accepted. */
	longt[MQTT_MTP_MAX_TOPIC] = '\0';
	add_str(&p, MQTTPROPERTY_CODE_RESPONSE_INFORMATION, longt);
	assert_int_equal(mtp_connack_info_read(&p, &ci), 0);
	assert_non_null(ci.response_info);
	assert_int_equal(strlen(ci.response_info), MQTT_MTP_MAX_TOPIC);
	mtp_connack_info_fini(&ci);
	MQTTProperties_free(&p);
	free(longt);
}

static void test_sub_list(void **state)
{
	char *list[8] = { 0 };
	char *cfg[2] = { "usp/ctl", "$share/g/usp/ctl2" };
	char *broker[3] = { "usp/extra", "usp/ctl", "usp/more/#" };
	int n;

	/* Configured first, broker values not already listed, reply last. */
	n = mtp_sub_list_build(list, 8, cfg, 2, broker, 3, "usp/reply", 1);
	assert_int_equal(n, 5);
	assert_string_equal(list[0], "usp/ctl");
	assert_string_equal(list[1], "$share/g/usp/ctl2");
	assert_string_equal(list[2], "usp/extra");
	assert_string_equal(list[3], "usp/more/#");
	assert_string_equal(list[4], "usp/reply/#");
	mtp_sub_list_free(list, n);
	assert_null(list[0]);

	n = mtp_sub_list_build(list, 8, NULL, 0, NULL, 0, "usp/reply", 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0], "usp/reply");
	mtp_sub_list_free(list, n);

	/* Does not fit, or no reply topic. */
	assert_int_equal(mtp_sub_list_build(list, 3, cfg, 2, broker, 3, "r", 0), MQTT_MTP_E_INVAL);
	assert_int_equal(mtp_sub_list_build(list, 8, cfg, 2, NULL, 0, NULL, 0), MQTT_MTP_E_INVAL);
}

static void test_add_prop_types(void **state)
{
	MQTTProperties p = MQTTProperties_initializer;

	assert_int_equal(
		mtp_add_prop(&p, MQTTPROPERTY_CODE_REQUEST_RESPONSE_INFORMATION, NULL, NULL, 1), 0);
	assert_int_equal(mtp_add_prop(&p, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE, NULL, NULL, 70000),
			 0);
	assert_int_equal(mtp_add_prop(&p, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM, NULL, NULL, 300), 0);
	assert_int_equal(mtp_build_pub_props(&p, "usp/reply"), 0);
	assert_int_equal(
		MQTTProperties_getNumericValue(&p, MQTTPROPERTY_CODE_REQUEST_RESPONSE_INFORMATION),
		1);
	assert_int_equal(MQTTProperties_getNumericValue(&p, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE),
			 70000);
	assert_int_equal(MQTTProperties_getNumericValue(&p, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM),
			 300);
	{
		MQTTProperty *rt = MQTTProperties_getProperty(&p, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
		MQTTProperty *ct = MQTTProperties_getProperty(&p, MQTTPROPERTY_CODE_CONTENT_TYPE);

		assert_non_null(rt);
		assert_int_equal(rt->value.data.len, 9);
		assert_memory_equal(rt->value.data.data, "usp/reply", 9);
		assert_non_null(ct);
		assert_memory_equal(ct->value.data.data, "usp.msg", 7);
	}
	/* A string property without its string is refused, not crashed on. */
	assert_int_equal(mtp_add_prop(&p, MQTTPROPERTY_CODE_CONTENT_TYPE, NULL, NULL, 0),
			 MQTT_MTP_E_INVAL);
	assert_int_equal(mtp_add_prop(&p, MQTTPROPERTY_CODE_USER_PROPERTY, "k", NULL, 0),
			 MQTT_MTP_E_INVAL);
	MQTTProperties_free(&p);
}

/* Paho's property list helpers go through its heap tracker, which is
 * initialised when the first client is created: before that, the 11th
 * MQTTProperties_add fails and later ones corrupt the heap (Paho 1.3.12).
 * The transport always creates its client first; so does this test. */
static struct mqtt_mtp *g_paho_init;

static int paho_init(void **state)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };

	mqtt_mtp_config_init(&c);
	c.broker_url = "mqtt://127.0.0.1:1";
	c.endpoint_id = "self::props-unit";
	c.response_topic = "unit/reply";
	g_paho_init = mqtt_mtp_new(&c, &err);
	return g_paho_init ? 0 : -1;
}

static int paho_fini(void **state)
{
	mqtt_mtp_free(g_paho_init);
	return 0;
}

/* The allocation-free publish list (own Response Topic, deadline) is what
 * MQTTProperties_add would build: same entries, same length. */
static void test_fill_pub_props(void **state)
{
	MQTTProperties ref = MQTTProperties_initializer, p = MQTTProperties_initializer;
	MQTTProperties copy;
	MQTTProperty arr[3];

	assert_int_equal(mtp_build_pub_props(&ref, "usp/ctl/reply/agent-1"), 0);
	mtp_fill_pub_props(&p, arr, "usp/ctl/reply/agent-1", 0);
	assert_int_equal(p.count, 2);
	assert_int_equal(p.length, ref.length);

	assert_int_equal(
		mtp_add_prop(&ref, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, NULL, NULL, 29), 0);
	mtp_fill_pub_props(&p, arr, "usp/ctl/reply/agent-1", 29);
	assert_int_equal(p.count, 3);
	assert_int_equal(p.length, ref.length);
	/* What Paho does with it in MQTTAsync_sendMessage. */
	copy = MQTTProperties_copy(&p);
	assert_int_equal(copy.length, ref.length);
	assert_int_equal(
		MQTTProperties_getNumericValue(&copy, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL),
		29);
	assert_int_equal(
		MQTTProperties_getProperty(&copy, MQTTPROPERTY_CODE_RESPONSE_TOPIC)->value.data.len,
		(int)strlen("usp/ctl/reply/agent-1"));
	MQTTProperties_free(&copy);
	MQTTProperties_free(&ref);
}

/* Whole seconds left, rounded up; 0 once the deadline has passed. */
static void test_expiry_seconds(void **state)
{
	assert_int_equal(mtp_expiry_s(10000, 10000), 0);
	assert_int_equal(mtp_expiry_s(10000, 10001), 0);
	assert_int_equal(mtp_expiry_s(10001, 10000), 1);
	assert_int_equal(mtp_expiry_s(11000, 10000), 1);
	assert_int_equal(mtp_expiry_s(11001, 10000), 2);
	assert_int_equal(mtp_expiry_s(11500, 10000), 2);
	assert_int_equal(mtp_expiry_s(40000, 10000), 30);
	assert_int_equal(mtp_expiry_s(INT64_MAX, 0), UINT32_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connack_response_info_and_subscribe_topics),
		cmocka_unit_test(test_connack_nothing),
		cmocka_unit_test(test_connack_rejects),
		cmocka_unit_test(test_sub_list),
		cmocka_unit_test(test_add_prop_types),
		cmocka_unit_test(test_fill_pub_props),
		cmocka_unit_test(test_expiry_seconds),
	};

	log_set_level(LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, paho_init, paho_fini);
}
