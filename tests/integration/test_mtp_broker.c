/*
 * test_mtp_broker.c — the MQTT transport against brokers this test starts
 * itself (private mosquitto on free 127.0.0.1 ports, in USPC_TEST_WORK_DIR):
 * the CONNECT packet carries the usp-endpoint-id user property (checked on
 * the wire), a broker restart is survived (reconnect, resubscribe, queued
 * publishes delivered), TLS with client certificates works — and is
 * refused without a client certificate or with the wrong CA — and a
 * publish the broker's ACL refuses (PUBACK 0x87) comes back as a
 * PUBLISH_FAILED event while the others flow; Message Expiry: the broker
 * drops a publish whose deadline passed while its subscriber was offline,
 * and a deadline passing during a broker outage drops the publish before it
 * is sent again; arrivals queued when stop() is called are still handed out
 * after it (none lost across stop and the next session).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mtp_itest.h"

static char g_work[512];
static char g_src[512];
/* The test's private broker: stopped by teardown even when an assertion
 * fails, so a failing run leaves no mosquitto behind. */
static struct itest_broker g_broker;

static int stop_broker(void **state)
{
	itest_broker_stop(&g_broker);
	memset(&g_broker, 0, sizeof(g_broker));
	return 0;
}

static struct mqtt_mtp *new_mtp(const char *url, const char *reply, const char *const *subs,
				size_t n_subs, const char *ca, const char *cert, const char *key)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp *m;

	mqtt_mtp_config_init(&c);
	c.broker_url = url;
	c.endpoint_id = "self::mtp-broker-test";
	c.response_topic = reply;
	c.sub_topics = subs;
	c.n_sub_topics = n_subs;
	c.ca_file = ca;
	c.cert_file = cert;
	c.key_file = key;
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 1000;
	c.connect_timeout_s = 3;
	m = mqtt_mtp_new(&c, &err);
	if (!m)
		fail_msg("mqtt_mtp_new: %s", err.msg);
	assert_int_equal(mqtt_mtp_start(m), 0);
	return m;
}

/* A transport keeping its session (client id fixed, clean_start 0, one hour
 * session expiry) with a small in-queue. */
static struct mqtt_mtp *new_mtp_session(const char *url, const char *client_id, const char *reply,
					const char *const *subs, size_t n_subs, size_t in_cap)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp *m;

	mqtt_mtp_config_init(&c);
	c.broker_url = url;
	c.client_id = client_id;
	c.endpoint_id = "self::mtp-broker-test";
	c.response_topic = reply;
	c.sub_topics = subs;
	c.n_sub_topics = n_subs;
	c.clean_start = 0;
	c.session_expiry_s = 3600;
	c.in_queue_cap = in_cap;
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 1000;
	c.connect_timeout_s = 3;
	m = mqtt_mtp_new(&c, &err);
	if (!m)
		fail_msg("mqtt_mtp_new: %s", err.msg);
	assert_int_equal(mqtt_mtp_start(m), 0);
	return m;
}

static void start_plain_broker(struct itest_broker *bp, const char *name, int persistence)
{
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/%s", g_work, name);
	mkdir(dir, 0755);
	assert_int_equal(itest_broker_start(bp, dir,
					    "listener @PORT@ 127.0.0.1\nallow_anonymous true",
					    persistence),
			 0);
}

/* Whether the peer got a message with this payload. */
static int peer_got(struct itest_peer *p, const char *payload)
{
	int n = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_msgs; i++)
		n += strcmp((const char *)p->msgs[i].payload, payload) == 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* (b) Message Expiry reaches the broker: a subscriber with a persistent
 * session is offline; a publish with 1.5 s to live and one without a
 * deadline are queued for it by the broker; it comes back 3 s later and
 * gets only the second. */
static void test_expiry_offline_subscriber(void **state)
{
	struct itest_broker *bp = &g_broker;
	struct itest_peer peer = { 0 };
	const char *peer_subs[1] = { "exp/agent" };
	struct mqtt_mtp_pub_opts o = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	char url[64];

	start_plain_broker(bp, "expiry-offline", 0);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", bp->port);
	assert_int_equal(itest_peer_start(&peer, bp->port, "mtp-exp-peer", 1, 0, peer_subs, 1), 0);
	itest_peer_stop(&peer); /* offline; its session keeps the subscription */
	m = new_mtp(url, "exp/reply", NULL, 0, NULL, NULL, NULL);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	o.expires_at_ms = mqtt_mtp_now_ms() + 1500;
	assert_int_equal(mqtt_mtp_publish_ex(m, "exp/agent", "expiring", 8, &o), 0);
	assert_int_equal(mqtt_mtp_publish(m, "exp/agent", "lasting", 7, 0), 0);
	/* Both acknowledged by the broker (queued for the offline session). */
	for (int64_t end = itest_now_ms() + 5000; itest_now_ms() < end;) {
		mqtt_mtp_pump(m);
		mqtt_mtp_get_stats(m, &st);
		if (st.msgs_out == 2)
			break;
		itest_wait_wake(m, 50);
	}
	assert_int_equal(st.msgs_out, 2);
	assert_int_equal(st.publish_expired, 0); /* handed over in time */
	usleep(3000000);

	assert_int_equal(itest_peer_start(&peer, bp->port, "mtp-exp-peer", 1, 0, peer_subs, 1), 0);
	assert_int_equal(itest_peer_wait(&peer, 1, 5000), 1);
	usleep(500000); /* anything else queued would have come by now */
	assert_int_equal(peer_got(&peer, "lasting"), 1);
	assert_int_equal(peer_got(&peer, "expiring"), 0);
	assert_int_equal(itest_peer_wait(&peer, 2, 0), 1);
	itest_peer_stop(&peer);
	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	itest_broker_stop(bp);
}

/* (c) A deadline that passes while the broker is down: the publish waits in
 * the out-queue, is dropped at the hand-off after the reconnect (counted in
 * publish_expired) and never delivered; one without a deadline and one
 * whose deadline is still ahead are delivered, the latter with the time
 * left at the re-send. */
static void test_expiry_during_outage(void **state)
{
	struct itest_broker *bp = &g_broker;
	struct itest_peer peer = { 0 };
	const char *peer_subs[1] = { "out/agent" };
	struct mqtt_mtp_pub_opts shrt = { 0 }, lng = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	char url[64];
	int64_t t0;

	start_plain_broker(bp, "expiry-outage", 1);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", bp->port);
	/* MQTT 5 peer with a persistent session: it survives the restart. */
	assert_int_equal(itest_peer_start(&peer, bp->port, "mtp-out-peer", 1, 0, peer_subs, 1), 0);
	m = new_mtp(url, "out/reply", NULL, 0, NULL, NULL, NULL);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	itest_broker_stop(bp);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_DISCONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	t0 = mqtt_mtp_now_ms();
	shrt.expires_at_ms = t0 + 1000;
	lng.expires_at_ms = t0 + 30000;
	assert_int_equal(mqtt_mtp_publish_ex(m, "out/agent", "expiring", 8, &shrt), 0);
	assert_int_equal(mqtt_mtp_publish(m, "out/agent", "lasting", 7, 0), 0);
	assert_int_equal(mqtt_mtp_publish_ex(m, "out/agent", "ahead", 5, &lng), 0);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.out_queue_depth, 3);
	usleep(2500000); /* the first deadline passes during the outage */

	assert_int_equal(itest_broker_start(bp, bp->dir, bp->listener, 1), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	for (int64_t end = itest_now_ms() + 10000; itest_now_ms() < end;) {
		mqtt_mtp_pump(m);
		if (itest_peer_wait(&peer, 2, 100) >= 2)
			break;
	}
	usleep(500000);
	assert_int_equal(peer_got(&peer, "lasting"), 1);
	assert_int_equal(peer_got(&peer, "ahead"), 1);
	assert_int_equal(peer_got(&peer, "expiring"), 0);
	for (size_t i = 0; i < peer.n_msgs; i++)
		if (strcmp((const char *)peer.msgs[i].payload, "ahead") == 0) {
			assert_true(peer.msgs[i].has_expiry);
			assert_true(peer.msgs[i].expiry <= 28);
		}
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.publish_expired, 1);
	assert_int_equal(st.out_queue_depth, 0);
	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
	itest_broker_stop(bp);
}

/* During an outage a full out-queue frees the places of publishes whose
 * deadline passed (publish_expired) instead of answering BUSY for ever.
 * No broker: a port nobody listens on. */
static void test_expired_free_full_queue(void **state)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp_pub_opts o = { 0 };
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	char url[64];

	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", itest_free_port());
	mqtt_mtp_config_init(&c);
	c.broker_url = url;
	c.endpoint_id = "self::mtp-broker-test";
	c.response_topic = "full/reply";
	c.out_queue_cap = 3;
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 200;
	m = mqtt_mtp_new(&c, &err);
	if (!m)
		fail_msg("mqtt_mtp_new: %s", err.msg);
	assert_int_equal(mqtt_mtp_start(m), 0);
	o.expires_at_ms = mqtt_mtp_now_ms() + 200;
	for (int i = 0; i < 3; i++)
		assert_int_equal(mqtt_mtp_publish_ex(m, "full/agent", "e", 1, &o), 0);
	assert_int_equal(mqtt_mtp_publish(m, "full/agent", "n", 1, 0), MQTT_MTP_E_BUSY);
	usleep(300000);
	assert_int_equal(mqtt_mtp_publish(m, "full/agent", "n", 1, 0), 0);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.publish_expired, 3);
	assert_int_equal(st.out_queue_depth, 1);
	assert_int_equal(st.busy_returns, 1);
	mqtt_mtp_free(m);
}

/* (d) Arrivals survive stop(): with the in-queue full (cap 5) and a burst
 * of 50 arriving, stop() is called while Paho's receive thread waits for
 * space. Every arrival the broker counts as delivered to us (acknowledged
 * by Paho) must still come out of next_event() after stop() returned; the
 * rest stays with the broker for our session and comes with the next one.
 * Nothing may be missing from the two together. */
static void test_arrivals_after_stop(void **state)
{
	enum { N = 50 };
	struct itest_broker *bp = &g_broker;
	struct itest_peer peer = { 0 };
	const char *subs[1] = { "stop/controller" };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	int seen[N] = { 0 }, after_stop = 0, missing = 0;
	char url[64];

	start_plain_broker(bp, "arrivals-stop", 0);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", bp->port);
	assert_int_equal(itest_peer_start(&peer, bp->port, "mtp-stop-peer", 1, 1, NULL, 0), 0);
	m = new_mtp_session(url, "mtp-stop-ctl", "stop/reply", subs, 1, 5);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	for (int i = 0; i < N; i++) {
		char p[16];
		int l = snprintf(p, sizeof(p), "%d", i);

		assert_int_equal(
			itest_peer_publish(&peer, "stop/controller", p, l, NULL, NULL, NULL), 0);
	}
	/* The core takes nothing: the in-queue fills and Paho's receive thread
	 * waits for space (in_waits). */
	for (int64_t end = itest_now_ms() + 5000; itest_now_ms() < end;) {
		mqtt_mtp_get_stats(m, &st);
		if (st.in_waits >= 1)
			break;
		usleep(10000);
	}
	assert_true(st.in_waits >= 1);
	assert_int_equal(st.in_queue_depth, 5);
	usleep(200000);

	assert_int_equal(mqtt_mtp_stop(m, 1000), 0);
	while (mqtt_mtp_next_event(m, &ev) == 1) {
		if (ev.kind == MQTT_MTP_EV_MESSAGE) {
			int i = atoi((const char *)ev.payload);

			assert_true(i >= 0 && i < N);
			seen[i]++;
			after_stop++;
		}
		mqtt_mtp_event_fini(&ev);
	}
	assert_true(after_stop >= 5); /* at least what was queued before stop() */
	mqtt_mtp_free(m);

	/* The same session again: what the broker did not see acknowledged. */
	m = new_mtp_session(url, "mtp-stop-ctl", "stop/reply", subs, 1, 1000);
	for (int64_t end = itest_now_ms() + 5000; itest_now_ms() < end;) {
		int total = 0;

		if (itest_next_event(m, MQTT_MTP_EV_MESSAGE, 200, &ev, NULL) == 1) {
			int i = atoi((const char *)ev.payload);

			assert_true(i >= 0 && i < N);
			seen[i]++;
			mqtt_mtp_event_fini(&ev);
		}
		for (int i = 0; i < N; i++)
			total += seen[i] > 0;
		if (total == N)
			break;
	}
	for (int i = 0; i < N; i++)
		if (!seen[i]) {
			fprintf(stderr, "arrival %d lost across stop()\n", i);
			missing++;
		}
	assert_int_equal(missing, 0);
	assert_int_equal(mqtt_mtp_stop(m, 1000), 0);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
	itest_broker_stop(bp);
}

/* A fake broker reads the CONNECT packet: MQTT 5 with the user property. */
static void test_connect_user_property(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd;
	char url[64];
	uint8_t buf[4096];
	size_t got = 0;
	struct pollfd pfd;
	struct mqtt_mtp *m;
	static const char want_prop[] = "\x00\x0f"
					"usp-endpoint-id"
					"\x00\x15"
					"self::mtp-broker-test";

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", ntohs(a.sin_port));
	m = new_mtp(url, "t/reply", NULL, 0, NULL, NULL, NULL);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	while (got < sizeof(buf)) {
		ssize_t n;

		pfd = (struct pollfd){ .fd = cfd, .events = POLLIN };
		if (poll(&pfd, 1, 1000) != 1)
			break;
		n = read(cfd, buf + got, sizeof(buf) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got > 2 && got >= 2u + buf[1] && buf[1] < 128)
			break;
	}
	assert_true(got > 12);
	assert_int_equal(buf[0], 0x10);          /* CONNECT */
	assert_memory_equal(buf + 4, "MQTT", 4); /* short remaining length */
	assert_int_equal(buf[8], 5);             /* protocol level 5 */
	assert_int_equal(buf[9] & 0x02, 0x02);   /* clean start */
	assert_non_null(memmem(buf, got, "\x26", 1));
	assert_non_null(memmem(buf, got, want_prop, sizeof(want_prop) - 1));
	close(cfd);
	close(lfd);
	mqtt_mtp_free(m);
}

static void test_broker_restart(void **state)
{
	enum { QUEUED = 50 };
	struct itest_broker *bp = &g_broker;
	struct itest_peer peer = { 0 };
	const char *subs[1] = { "rs/controller" };
	const char *peer_subs[1] = { "rs/agent" };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	char dir[600], url[64];
	int seen[QUEUED] = { 0 }, skipped = 0;

	snprintf(dir, sizeof(dir), "%s/restart", g_work);
	mkdir(dir, 0755);
	assert_int_equal(
		itest_broker_start(bp, dir, "listener @PORT@ 127.0.0.1\nallow_anonymous true", 1),
		0);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", bp->port);
	/* 3.1.1 peer with a persistent session: it survives the restart. */
	assert_int_equal(itest_peer_start(&peer, bp->port, "mtp-rs-peer", 0, 0, peer_subs, 1), 0);
	m = new_mtp(url, "rs/reply", subs, 1, NULL, NULL, NULL);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	itest_broker_stop(bp);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_DISCONNECTED, 10000, &ev, NULL), 1);
	assert_false(mqtt_mtp_is_connected(m));
	mqtt_mtp_event_fini(&ev);
	for (int i = 0; i < QUEUED; i++) {
		char p[16];
		int l = snprintf(p, sizeof(p), "%d", i);

		assert_int_equal(mqtt_mtp_publish(m, "rs/agent", p, (size_t)l, 0), 0);
	}
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.out_queue_depth, QUEUED);

	usleep(300000); /* a few failed reconnects */
	assert_int_equal(itest_broker_start(bp, bp->dir, bp->listener, 1), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, &skipped), 1);
	mqtt_mtp_event_fini(&ev);
	mqtt_mtp_get_stats(m, &st);
	assert_true(st.reconnects >= 1);
	assert_true(st.connect_failures >= 1);

	/* Queued publishes flow (the core pumps after CONNECTED), each once. */
	for (int64_t end = itest_now_ms() + 15000; itest_now_ms() < end;) {
		mqtt_mtp_pump(m);
		if (itest_peer_wait(&peer, QUEUED, 100) >= QUEUED)
			break;
	}
	assert_int_equal(itest_peer_wait(&peer, QUEUED, 0), QUEUED);
	for (int i = 0; i < QUEUED; i++)
		seen[atoi((const char *)peer.msgs[i].payload)]++;
	for (int i = 0; i < QUEUED; i++)
		assert_int_equal(seen[i], 1);
	/* Resubscribed: a message to the controller topic arrives. */
	assert_int_equal(itest_peer_wait_subscribed(&peer, 2, 10000), 0);
	assert_int_equal(itest_peer_publish(&peer, "rs/controller", "after", 5, NULL, NULL, NULL),
			 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_MESSAGE, 5000, &ev, NULL), 1);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.payload, "after", 5);
	mqtt_mtp_event_fini(&ev);
	mqtt_mtp_free(m);
	itest_peer_stop(&peer);
	itest_broker_stop(bp);
}

static void make_certs(const char *dir)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd), "'%s/tests/integration/make-test-certs.sh' '%s' >/dev/null",
		 g_src, dir);
	assert_int_equal(system(cmd), 0);
}

static void test_tls_client_cert(void **state)
{
	struct itest_broker *bp = &g_broker;
	char dir[600], wrong[600], listener[2048], url[64];
	char ca[700], cert[700], key[700], bad_ca[700];
	const char *subs[1] = { "tls/controller" };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;

	snprintf(dir, sizeof(dir), "%s/tls", g_work);
	snprintf(wrong, sizeof(wrong), "%s/tls-other-ca", g_work);
	make_certs(dir);
	make_certs(wrong);
	snprintf(
		listener, sizeof(listener),
		"listener @PORT@ 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/broker.crt\nkeyfile %s/broker.key\n"
		"require_certificate true\nuse_identity_as_username true\nallow_anonymous false",
		dir, dir, dir);
	assert_int_equal(itest_broker_start(bp, dir, listener, 0), 0);
	snprintf(url, sizeof(url), "mqtts://127.0.0.1:%d", bp->port);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	snprintf(cert, sizeof(cert), "%s/controller.crt", dir);
	snprintf(key, sizeof(key), "%s/controller.key", dir);
	snprintf(bad_ca, sizeof(bad_ca), "%s/ca.crt", wrong);

	/* mTLS: connects, subscribes, a publish to itself comes back. */
	m = new_mtp(url, "tls/reply", subs, 1, ca, cert, key);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	assert_int_equal(mqtt_mtp_publish(m, "tls/controller", "sealed", 6, 0), 0);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_MESSAGE, 5000, &ev, NULL), 1);
	assert_memory_equal(ev.payload, "sealed", 6);
	assert_string_equal(ev.content_type, "usp.msg");
	assert_string_equal(ev.response_topic, "tls/reply");
	mqtt_mtp_event_fini(&ev);
	mqtt_mtp_free(m);

	/* No client certificate: the broker refuses the handshake. */
	m = new_mtp(url, "tls/reply", subs, 1, ca, NULL, NULL);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 3000, &ev, NULL), 0);
	mqtt_mtp_get_stats(m, &st);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(st.connects, 0);
	mqtt_mtp_free(m);

	/* The broker's certificate does not verify against another CA. */
	m = new_mtp(url, "tls/reply", subs, 1, bad_ca, cert, key);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 3000, &ev, NULL), 0);
	mqtt_mtp_get_stats(m, &st);
	assert_true(st.connect_failures >= 1);
	assert_int_equal(st.connects, 0);
	mqtt_mtp_free(m);
	itest_broker_stop(bp);
}

/* mosquitto with an ACL: anonymous clients may use acl/# only. A publish
 * elsewhere is answered (MQTT 5) with PUBACK reason 0x87 Not authorized:
 * the transport gives that message up at once (no retry) as
 * PUBLISH_FAILED with the topic and reason, and goes on with the rest. */
static void test_publish_failed_acl(void **state)
{
	struct itest_broker *bp = &g_broker;
	const char *subs[1] = { "acl/controller" };
	char dir[600], acl[700], listener[1024], url[64];
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	int got_ok = 0, got_fail = 0;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/acl", g_work);
	mkdir(dir, 0755);
	snprintf(acl, sizeof(acl), "%s/acl", dir);
	f = fopen(acl, "w");
	assert_non_null(f);
	fprintf(f, "topic readwrite acl/#\n");
	fclose(f);
	snprintf(listener, sizeof(listener),
		 "listener @PORT@ 127.0.0.1\nallow_anonymous true\n"
		 "acl_file %s",
		 acl);
	assert_int_equal(itest_broker_start(bp, dir, listener, 0), 0);
	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", bp->port);
	m = new_mtp(url, "acl/reply", subs, 1, NULL, NULL, NULL);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	assert_int_equal(mqtt_mtp_publish(m, "denied/agent", "no", 2, 0), 0);
	assert_int_equal(mqtt_mtp_publish(m, "acl/controller", "yes", 3, 0), 0);
	/* Until both events came and the accepted publish's PUBACK (which
	 * mosquitto sends after forwarding it back to us) was counted. */
	for (int64_t end = itest_now_ms() + 10000; itest_now_ms() < end;) {
		mqtt_mtp_get_stats(m, &st);
		if (got_ok && got_fail && st.msgs_out >= 1)
			break;
		if (itest_next_event(m, 0, 200, &ev, NULL) != 1)
			continue;
		if (ev.kind == MQTT_MTP_EV_PUBLISH_FAILED) {
			assert_string_equal(ev.topic, "denied/agent");
			assert_int_equal(ev.reason_code, 0x87);
			got_fail++;
		} else if (ev.kind == MQTT_MTP_EV_MESSAGE) {
			assert_int_equal(ev.len, 3);
			assert_memory_equal(ev.payload, "yes", 3);
			got_ok++;
		} else {
			fail_msg("unexpected event %d (%s)", (int)ev.kind, ev.reason);
		}
		mqtt_mtp_event_fini(&ev);
	}
	assert_int_equal(got_fail, 1);
	assert_int_equal(got_ok, 1);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.publish_failures, 1);
	assert_int_equal(st.publish_retries, 0);
	assert_int_equal(st.msgs_out, 1);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.out_queue_depth, 0);
	assert_true(mqtt_mtp_is_connected(m));
	assert_int_equal(mqtt_mtp_stop(m, 2000), 0);
	mqtt_mtp_free(m);
	itest_broker_stop(bp);
}

int main(void)
{
	const char *work = getenv("USPC_TEST_WORK_DIR");
	const char *src = getenv("USPC_SOURCE_DIR");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_user_property),
		cmocka_unit_test_teardown(test_broker_restart, stop_broker),
		cmocka_unit_test_teardown(test_tls_client_cert, stop_broker),
		cmocka_unit_test_teardown(test_publish_failed_acl, stop_broker),
		cmocka_unit_test_teardown(test_expiry_offline_subscriber, stop_broker),
		cmocka_unit_test_teardown(test_expiry_during_outage, stop_broker),
		cmocka_unit_test(test_expired_free_full_queue),
		cmocka_unit_test_teardown(test_arrivals_after_stop, stop_broker),
	};

	if (!work || !*work || !src || !*src) {
		fprintf(stderr, "test_mtp_broker: needs USPC_TEST_WORK_DIR and USPC_SOURCE_DIR\n");
		return 1;
	}
	snprintf(g_work, sizeof(g_work), "%s", work);
	snprintf(g_src, sizeof(g_src), "%s", src);
	mkdir(g_work, 0755);
	log_set_level(getenv("USPC_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
