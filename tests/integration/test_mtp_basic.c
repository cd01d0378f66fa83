/*
 * test_mtp_basic.c — the MQTT transport against the shared local broker
 * (USPC_MQTT): connect + subscribe + publish + receive with the MQTT 5
 * properties checked by a libmosquitto peer, the 3.1.1 /reply-to= convention
 * both ways, per-publish options (Response Topic, also in the 3.1.1 suffix;
 * a deadline as Message Expiry Interval), a shared subscription split
 * between two transports, the in-flight window with out-queue back-pressure
 * (5,000 messages, each exactly once), in-queue back-pressure (nothing
 * lost), and a publish made while the in-queue is full (no wait on Paho's
 * lock).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mtp_itest.h"

static char g_url[256];
static int g_port;
static char g_prefix[128];

static void topic(char *out, size_t size, const char *test, const char *leaf)
{
	snprintf(out, size, "%s/%s/%s", g_prefix, test, leaf);
}

static struct mqtt_mtp *make_mtp(const char *eid, const char *reply, const char *const *subs,
				 size_t n_subs, int window, size_t out_cap, size_t in_cap)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp *m;

	mqtt_mtp_config_init(&c);
	c.broker_url = g_url;
	c.endpoint_id = eid;
	c.response_topic = reply;
	c.sub_topics = subs;
	c.n_sub_topics = n_subs;
	c.max_inflight = window;
	c.out_queue_cap = out_cap;
	c.in_queue_cap = in_cap;
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 1000;
	m = mqtt_mtp_new(&c, &err);
	if (!m)
		fail_msg("mqtt_mtp_new: %s", err.msg);
	assert_int_equal(mqtt_mtp_start(m), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	assert_true(mqtt_mtp_is_connected(m));
	return m;
}

static void test_roundtrip_properties(void **state)
{
	char ctl[256], reply[256], agent[256], agent_reply[256];
	const char *subs[1] = { ctl };
	const char *peer_subs[1] = { agent };
	struct itest_peer peer = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	static const uint8_t rec[] = { 0x0a, 0x03, '1', '.', '4', 0x00, 0xff, 0x10 };

	topic(ctl, sizeof(ctl), "rt", "controller");
	topic(reply, sizeof(reply), "rt", "controller/reply");
	topic(agent, sizeof(agent), "rt", "agent");
	topic(agent_reply, sizeof(agent_reply), "rt", "agent/reply");
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-rt-peer", 1, 1, peer_subs, 1), 0);
	m = make_mtp("self::mtp-rt", reply, subs, 1, 10, 100, 100);

	/* Controller → agent: QoS 1 with Content Type and Response Topic. */
	assert_int_equal(mqtt_mtp_publish(m, agent, rec, sizeof(rec), 0), 0);
	assert_int_equal(itest_peer_wait(&peer, 1, 5000), 1);
	assert_string_equal(peer.msgs[0].topic, agent);
	assert_int_equal(peer.msgs[0].len, sizeof(rec));
	assert_memory_equal(peer.msgs[0].payload, rec, sizeof(rec));
	assert_non_null(peer.msgs[0].content_type);
	assert_string_equal(peer.msgs[0].content_type, "usp.msg");
	assert_non_null(peer.msgs[0].response_topic);
	assert_string_equal(peer.msgs[0].response_topic, reply);

	/* Agent → controller: properties surface in the event. */
	assert_int_equal(itest_peer_publish(&peer, ctl, rec, sizeof(rec), agent_reply, "usp.msg",
					    "proto::agent-rt"),
			 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_MESSAGE, 5000, &ev, NULL), 1);
	assert_string_equal(ev.topic, ctl);
	assert_int_equal(ev.len, sizeof(rec));
	assert_memory_equal(ev.payload, rec, sizeof(rec));
	assert_string_equal(ev.response_topic, agent_reply);
	assert_int_equal(ev.reply_via_suffix, 0);
	assert_string_equal(ev.content_type, "usp.msg");
	assert_string_equal(ev.endpoint_id, "proto::agent-rt");
	mqtt_mtp_event_fini(&ev);

	/* A response on the reply topic arrives too, without properties. */
	assert_int_equal(itest_peer_publish(&peer, reply, "x", 1, NULL, NULL, NULL), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_MESSAGE, 5000, &ev, NULL), 1);
	assert_string_equal(ev.topic, reply);
	assert_null(ev.response_topic);
	assert_null(ev.content_type);
	assert_null(ev.endpoint_id);
	mqtt_mtp_event_fini(&ev);

	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.msgs_out, 1);
	assert_int_equal(st.bytes_out, sizeof(rec));
	assert_int_equal(st.msgs_in, 2);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
}

static void test_v311_reply_to(void **state)
{
	char reply[256], agent[256], in_topic[512], want[512];
	const char *peer_subs[1];
	struct itest_peer peer = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp *m;

	topic(reply, sizeof(reply), "v311", "ctl/reply");
	topic(agent, sizeof(agent), "v311", "agent");
	snprintf(want, sizeof(want), "%s/#", agent);
	peer_subs[0] = want;
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-v311-peer", 0, 1, peer_subs, 1), 0);
	m = make_mtp("self::mtp-v311", reply, NULL, 0, 10, 100, 100);

	/* A 3.1.1 agent answers on our reply topic + its own /reply-to= suffix. */
	snprintf(in_topic, sizeof(in_topic), "%s/reply-to=usp%%2Fagent%%2Fa1", reply);
	assert_int_equal(itest_peer_publish(&peer, in_topic, "r", 1, NULL, NULL, NULL), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_MESSAGE, 5000, &ev, NULL), 1);
	assert_string_equal(ev.topic, in_topic);
	assert_string_equal(ev.response_topic, "usp/agent/a1");
	assert_int_equal(ev.reply_via_suffix, 1);
	mqtt_mtp_event_fini(&ev);

	/* Publishing to a 3.1.1 agent appends our reply topic, %2F-encoded. */
	assert_int_equal(mqtt_mtp_publish(m, agent, "q", 1, MQTT_MTP_PUB_V311), 0);
	assert_int_equal(itest_peer_wait(&peer, 1, 5000), 1);
	assert_int_equal(mqtt_mtp_build_reply_to(agent, reply, want, sizeof(want)), 0);
	assert_string_equal(peer.msgs[0].topic, want);
	assert_non_null(strstr(peer.msgs[0].topic, "/reply-to="));
	assert_null(strchr(strstr(peer.msgs[0].topic, "/reply-to=") + 1, '/'));
	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
}

/* mqtt_mtp_publish_ex: a per-publish Response Topic reaches the subscriber
 * (MQTT 5 property), a 3.1.1 subscriber gets the /reply-to= suffix built
 * from it, NULL means the own reply topic, a deadline arrives as the Message
 * Expiry Interval left; bad options are refused. */
static void test_per_publish_options(void **state)
{
	char reply[256], agent[256], agent311[256], sub311[300], own1[256], own2[256];
	char want[700], big[MQTT_MTP_MAX_TOPIC + 2];
	const char *v5_subs[1] = { agent };
	const char *v311_subs[1] = { sub311 };
	struct itest_peer p5 = { 0 }, p311 = { 0 };
	struct mqtt_mtp_pub_opts o = { 0 };
	struct mqtt_mtp *m;

	topic(reply, sizeof(reply), "ppo", "ctl/reply");
	topic(own1, sizeof(own1), "ppo", "ctl/reply/proto::agent-1");
	topic(own2, sizeof(own2), "ppo", "ctl/reply/proto::agent-2");
	topic(agent, sizeof(agent), "ppo", "agent5");
	topic(agent311, sizeof(agent311), "ppo", "agent311");
	snprintf(sub311, sizeof(sub311), "%s/#", agent311);
	assert_int_equal(itest_peer_start(&p5, g_port, "mtp-ppo-v5", 1, 1, v5_subs, 1), 0);
	assert_int_equal(itest_peer_start(&p311, g_port, "mtp-ppo-v311", 0, 1, v311_subs, 1), 0);
	m = make_mtp("self::mtp-ppo", reply, NULL, 0, 10, 100, 100);

	/* Its own Response Topic, no deadline; then the default. */
	o.response_topic = own1;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "a", 1, &o), 0);
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "b", 1, NULL), 0);
	/* A deadline 30 s ahead: the subscriber sees (about) 30 s left. */
	o.response_topic = own2;
	o.expires_at_ms = mqtt_mtp_now_ms() + 30000;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "c", 1, &o), 0);
	assert_int_equal(itest_peer_wait(&p5, 3, 5000), 3);
	assert_string_equal((char *)p5.msgs[0].payload, "a");
	assert_string_equal(p5.msgs[0].response_topic, own1);
	assert_string_equal(p5.msgs[0].content_type, "usp.msg");
	assert_false(p5.msgs[0].has_expiry);
	assert_string_equal((char *)p5.msgs[1].payload, "b");
	assert_string_equal(p5.msgs[1].response_topic, reply);
	assert_false(p5.msgs[1].has_expiry);
	assert_string_equal((char *)p5.msgs[2].payload, "c");
	assert_string_equal(p5.msgs[2].response_topic, own2);
	assert_true(p5.msgs[2].has_expiry);
	assert_true(p5.msgs[2].expiry >= 29 && p5.msgs[2].expiry <= 30);

	/* 3.1.1: the suffix encodes the publish's Response Topic. */
	o.flags = MQTT_MTP_PUB_V311;
	o.response_topic = own1;
	o.expires_at_ms = 0;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent311, "d", 1, &o), 0);
	o.response_topic = NULL;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent311, "e", 1, &o), 0);
	assert_int_equal(itest_peer_wait(&p311, 2, 5000), 2);
	assert_int_equal(mqtt_mtp_build_reply_to(agent311, own1, want, sizeof(want)), 0);
	assert_string_equal(p311.msgs[0].topic, want);
	assert_non_null(strstr(want, "proto::agent-1"));
	assert_int_equal(mqtt_mtp_build_reply_to(agent311, reply, want, sizeof(want)), 0);
	assert_string_equal(p311.msgs[1].topic, want);

	/* Refused, nothing queued. */
	o.flags = 0;
	o.response_topic = "ppo/+/reply";
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "x", 1, &o), MQTT_MTP_E_INVAL);
	o.response_topic = "";
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "x", 1, &o), MQTT_MTP_E_INVAL);
	memset(big, 'r', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	o.response_topic = big;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "x", 1, &o), MQTT_MTP_E_TOOBIG);
	o.response_topic = NULL;
	o.expires_at_ms = -1;
	assert_int_equal(mqtt_mtp_publish_ex(m, agent, "x", 1, &o), MQTT_MTP_E_INVAL);

	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	assert_int_equal(itest_peer_wait(&p5, 4, 300), 3);
	itest_peer_stop(&p5);
	itest_peer_stop(&p311);
}

/* Two transports on one shared subscription: the broker splits the stream. */
static void test_shared_subscription(void **state)
{
	enum { N = 200 };
	char notif[256], shared[300], ra[256], rb[256];
	const char *subs[1] = { shared };
	struct itest_peer peer = { 0 };
	struct mqtt_mtp *a, *b;
	struct mqtt_mtp_event ev;
	int seen[N] = { 0 }, got_a = 0, got_b = 0;
	int64_t end;

	topic(notif, sizeof(notif), "share", "controller");
	snprintf(shared, sizeof(shared), "$share/uspc-%d/%s", (int)getpid(), notif);
	topic(ra, sizeof(ra), "share", "reply/a");
	topic(rb, sizeof(rb), "share", "reply/b");
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-share-peer", 1, 1, NULL, 0), 0);
	a = make_mtp("self::mtp-share", ra, subs, 1, 10, 100, 1000);
	b = make_mtp("self::mtp-share", rb, subs, 1, 10, 100, 1000);
	for (int i = 0; i < N; i++) {
		char p[16];
		int l = snprintf(p, sizeof(p), "%d", i);

		assert_int_equal(itest_peer_publish(&peer, notif, p, l, NULL, "usp.msg", NULL), 0);
	}
	end = itest_now_ms() + 10000;
	while (got_a + got_b < N && itest_now_ms() < end) {
		struct mqtt_mtp *ms[2] = { a, b };

		for (int k = 0; k < 2; k++) {
			while (mqtt_mtp_next_event(ms[k], &ev) == 1) {
				if (ev.kind == MQTT_MTP_EV_MESSAGE) {
					int i = atoi((const char *)ev.payload);

					assert_true(i >= 0 && i < N);
					seen[i]++;
					if (k == 0)
						got_a++;
					else
						got_b++;
				}
				mqtt_mtp_event_fini(&ev);
			}
		}
		usleep(5000);
	}
	assert_int_equal(got_a + got_b, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	assert_true(got_a > 0);
	assert_true(got_b > 0);
	mqtt_mtp_free(a);
	mqtt_mtp_free(b);
	itest_peer_stop(&peer);
}

/* 5,000 publishes through a window of 8 and an out-queue of 16: BUSY is
 * returned and recovered from; the peer sees every message exactly once. */
static void test_window_backpressure(void **state)
{
	enum { N = 5000, WINDOW = 8, OUTQ = 16 };
	char reply[256], agent[256];
	const char *peer_subs[1] = { agent };
	struct itest_peer peer = { 0 };
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	static int seen[N];
	int next = 0, max_inflight = 0;
	uint64_t busy = 0;
	int64_t t0, end;

	memset(seen, 0, sizeof(seen));
	topic(reply, sizeof(reply), "win", "reply");
	topic(agent, sizeof(agent), "win", "agent");
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-win-peer", 1, 1, peer_subs, 1), 0);
	m = make_mtp("self::mtp-win", reply, NULL, 0, WINDOW, OUTQ, 100);
	t0 = itest_now_ms();
	end = t0 + 60000;
	while (next < N && itest_now_ms() < end) {
		char p[16];
		int l = snprintf(p, sizeof(p), "%d", next);
		int rc = mqtt_mtp_publish(m, agent, p, (size_t)l, 0);

		if (rc == 0) {
			next++;
		} else {
			struct mqtt_mtp_event ev;

			assert_int_equal(rc, MQTT_MTP_E_BUSY);
			busy++;
			itest_wait_wake(m, 100);
			while (mqtt_mtp_next_event(m, &ev) == 1)
				mqtt_mtp_event_fini(&ev);
			mqtt_mtp_pump(m);
		}
		mqtt_mtp_get_stats(m, &st);
		assert_true(st.out_queue_depth <= OUTQ);
		if ((int)st.inflight > max_inflight)
			max_inflight = (int)st.inflight;
	}
	assert_int_equal(next, N);
	assert_int_equal(mqtt_mtp_stop(m, 20000), 0);
	assert_int_equal(itest_peer_wait(&peer, N, 20000), N);
	usleep(300000); /* a duplicate would arrive now */
	assert_int_equal(peer.n_msgs, N);
	for (size_t i = 0; i < peer.n_msgs; i++) {
		int k = atoi((const char *)peer.msgs[i].payload);

		assert_true(k >= 0 && k < N);
		seen[k]++;
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	mqtt_mtp_get_stats(m, &st);
	assert_true(busy > 0);
	assert_int_equal(st.busy_returns, busy);
	assert_int_equal(st.msgs_out, N);
	assert_true(max_inflight <= WINDOW);
	assert_true(max_inflight > 1);
	fprintf(stderr, "window test: %d msgs in %lld ms, %llu BUSY returns, max in flight %d\n", N,
		(long long)(itest_now_ms() - t0), (unsigned long long)busy, max_inflight);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
}

/* The peer publishes "0".."n-1" to topic t (QoS 1). */
static void flood(struct itest_peer *peer, const char *t, int n)
{
	for (int i = 0; i < n; i++) {
		char p[16];
		int l = snprintf(p, sizeof(p), "%d", i);

		assert_int_equal(itest_peer_publish(peer, t, p, l, NULL, NULL, NULL), 0);
	}
}

/* The core takes the n messages of flood(): each exactly once, within 60 s. */
static void take_each_once(struct mqtt_mtp *m, int n)
{
	int *seen = calloc((size_t)n, sizeof(*seen)), got = 0;
	int64_t end = itest_now_ms() + 60000;
	struct mqtt_mtp_event ev;

	assert_non_null(seen);
	while (got < n && itest_now_ms() < end) {
		if (itest_next_event(m, MQTT_MTP_EV_MESSAGE, 200, &ev, NULL) != 1)
			continue;
		int i = atoi((const char *)ev.payload);

		assert_true(i >= 0 && i < n);
		seen[i]++;
		got++;
		mqtt_mtp_event_fini(&ev);
	}
	assert_int_equal(got, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
}

/* The core stalls with a 4-message in-queue while 300 messages arrive:
 * Paho waits (TCP holds the broker back); after the core resumes, all
 * arrive exactly once. */
static void test_inqueue_backpressure(void **state)
{
	enum { N = 300, INQ = 4 };
	char ctl[256], reply[256];
	const char *subs[1] = { ctl };
	struct itest_peer peer = { 0 };
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	int64_t t0;

	topic(ctl, sizeof(ctl), "inq", "controller");
	topic(reply, sizeof(reply), "inq", "reply");
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-inq-peer", 1, 1, NULL, 0), 0);
	m = make_mtp("self::mtp-inq", reply, subs, 1, 10, 100, INQ);
	flood(&peer, ctl, N);
	usleep(500000); /* the core is "busy" */
	mqtt_mtp_get_stats(m, &st);
	assert_true(st.in_queue_depth <= INQ);
	assert_true(st.in_waits > 0);
	assert_int_equal(st.in_deferred, 0);
	t0 = itest_now_ms();
	take_each_once(m, N);
	mqtt_mtp_get_stats(m, &st);
	fprintf(stderr, "in-queue test: %d msgs drained in %lld ms after the stall, %llu waits\n",
		N, (long long)(itest_now_ms() - t0), (unsigned long long)st.in_waits);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
}

/* Paho holds its client lock while it runs the arrival callback, and each
 * publish the core hands to Paho takes that lock. So while the in-queue is
 * full and the callback waits for the core, a publish from the core must
 * not wait for the callback: the arrival is admitted above the cap
 * instead. Before, the publish waited until the callback gave up (5 s,
 * in_deferred), and under a notification overload the daemon's core spent
 * minutes stuck that way. Nothing may be lost or doubled either way. */
static void test_publish_while_inqueue_full(void **state)
{
	enum { N = 300, INQ = 4 };
	char ctl[256], reply[256], agent[256];
	const char *subs[1] = { ctl };
	const char *peer_subs[1] = { agent };
	struct itest_peer peer = { 0 };
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	int64_t t0, end;

	topic(ctl, sizeof(ctl), "inqpub", "controller");
	topic(reply, sizeof(reply), "inqpub", "reply");
	topic(agent, sizeof(agent), "inqpub", "agent");
	assert_int_equal(itest_peer_start(&peer, g_port, "mtp-inqpub-peer", 1, 1, peer_subs, 1), 0);
	m = make_mtp("self::mtp-inqpub", reply, subs, 1, 10, 100, INQ);
	flood(&peer, ctl, N);
	/* The core takes nothing until Paho's thread waits for space. */
	end = itest_now_ms() + 10000;
	do {
		usleep(10000);
		mqtt_mtp_get_stats(m, &st);
	} while (st.in_waits == 0 && itest_now_ms() < end);
	assert_true(st.in_waits > 0);
	assert_int_equal(st.in_queue_depth, INQ);

	t0 = itest_now_ms();
	assert_int_equal(mqtt_mtp_publish(m, agent, "answer", 6, 0), 0);
	fprintf(stderr, "publish with the in-queue full took %lld ms\n",
		(long long)(itest_now_ms() - t0));
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.in_deferred, 0);
	assert_true(st.in_over_cap > 0);

	/* The core resumes. (Paho's send thread needs the same lock, so the
	 * publish leaves once the callback stops waiting.) */
	take_each_once(m, N);
	assert_int_equal(itest_peer_wait(&peer, 1, 10000), 1);
	assert_int_equal(peer.msgs[0].len, 6);
	assert_memory_equal(peer.msgs[0].payload, "answer", 6);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.in_deferred, 0);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
}

int main(void)
{
	const char *url = getenv("USPC_MQTT");
	char host[128];
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_properties),
		cmocka_unit_test(test_v311_reply_to),
		cmocka_unit_test(test_per_publish_options),
		cmocka_unit_test(test_shared_subscription),
		cmocka_unit_test(test_window_backpressure),
		cmocka_unit_test(test_inqueue_backpressure),
		cmocka_unit_test(test_publish_while_inqueue_full),
	};

	if (!url || itest_parse_url(url, host, sizeof(host), &g_port) < 0 ||
	    strcmp(host, "127.0.0.1") != 0) {
		fprintf(stderr,
			"test_mtp_basic: USPC_MQTT must be mqtt://127.0.0.1:PORT (got %s)\n",
			url ? url : "nothing");
		return 1;
	}
	snprintf(g_url, sizeof(g_url), "%s", url);
	snprintf(g_prefix, sizeof(g_prefix), "uspc-test/mtp/%d", (int)getpid());
	log_set_level(getenv("USPC_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
