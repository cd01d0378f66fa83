/*
 * test_mtp_fakebroker.c — the MQTT transport against a scripted broker in
 * this test (a listening socket on 127.0.0.1 that reads and writes MQTT 5
 * packets by hand), for what mosquitto cannot show: CONNECT asks for
 * Response Information; a CONNACK's Response Information becomes the reply
 * topic (Response Topic of publishes, subscribed as "<topic>/#") and its
 * subscribe-topic user properties are subscribed (R-MQTT.12/15/21); no
 * reply topic at all refuses the connection; and TCP_NODELAY is set on
 * Paho's socket after every connect (and left off when disabled).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mtp_itest.h"

struct fake {
	int lfd, cfd, port;
	uint8_t pkt[8192];
	size_t len; /* of the last packet read */
};

static int fake_listen(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);

	assert_non_null(f);
	f->cfd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&a, &al), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->port = ntohs(a.sin_port);
	*state = f;
	return 0;
}

static int fake_close(void **state)
{
	struct fake *f = *state;

	if (f->cfd >= 0)
		close(f->cfd);
	close(f->lfd);
	free(f);
	return 0;
}

static void fake_accept(struct fake *f, int timeout_ms)
{
	struct pollfd pfd = { .fd = f->lfd, .events = POLLIN };

	if (f->cfd >= 0)
		close(f->cfd);
	assert_int_equal(poll(&pfd, 1, timeout_ms), 1);
	f->cfd = accept(f->lfd, NULL, NULL);
	assert_true(f->cfd >= 0);
}

static int read_full(int fd, uint8_t *buf, size_t n, int timeout_ms)
{
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) != 1)
			return -1;
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Read one packet into f->pkt; its first byte, or -1 on EOF/timeout. */
static int fake_read(struct fake *f, int timeout_ms)
{
	size_t rem = 0, hdr = 1;
	int shift = 0;

	if (read_full(f->cfd, f->pkt, 1, timeout_ms) < 0)
		return -1;
	do {
		if (hdr > 4 || read_full(f->cfd, f->pkt + hdr, 1, timeout_ms) < 0)
			return -1;
		rem |= (size_t)(f->pkt[hdr] & 0x7f) << shift;
		shift += 7;
	} while (f->pkt[hdr++] & 0x80);
	assert_true(hdr + rem <= sizeof(f->pkt));
	if (rem && read_full(f->cfd, f->pkt + hdr, rem, timeout_ms) < 0)
		return -1;
	f->len = hdr + rem;
	return f->pkt[0];
}

static size_t put_varint(uint8_t *out, size_t v)
{
	size_t n = 0;

	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

static size_t put_str(uint8_t *out, const char *s)
{
	size_t l = strlen(s);

	out[0] = (uint8_t)(l >> 8);
	out[1] = (uint8_t)l;
	memcpy(out + 2, s, l);
	return l + 2;
}

/* CONNACK (success; session present if sp) with Response Information (if
 * ri) and one subscribe-topic user property per entry of subs. */
static void fake_connack_sp(struct fake *f, int sp, const char *ri, const char *const *subs,
			    int n_subs)
{
	uint8_t props[1024], pkt[1100];
	size_t pl = 0, n = 0;

	if (ri) {
		props[pl++] = 0x1a;
		pl += put_str(props + pl, ri);
	}
	for (int i = 0; i < n_subs; i++) {
		props[pl++] = 0x26;
		pl += put_str(props + pl, "subscribe-topic");
		pl += put_str(props + pl, subs[i]);
	}
	pkt[n++] = 0x20;
	{
		uint8_t vb[4];
		size_t vl = put_varint(vb, pl);

		n += put_varint(pkt + n, 2 + vl + pl);
		pkt[n++] = sp ? 0x01 : 0x00; /* session present */
		pkt[n++] = 0x00;             /* success */
		memcpy(pkt + n, vb, vl);
		n += vl;
	}
	memcpy(pkt + n, props, pl);
	n += pl;
	assert_int_equal(write(f->cfd, pkt, n), (ssize_t)n);
}

static void fake_connack(struct fake *f, const char *ri, const char *const *subs, int n_subs)
{
	fake_connack_sp(f, 0, ri, subs, n_subs);
}

/* Read SUBSCRIBE, check its topic filters are exactly want[] in order,
 * and grant them all QoS 1. */
static void fake_grant(struct fake *f, const char *const *want, int n_want)
{
	size_t i = 1, pl = 0, end;
	int shift = 0, n = 0;
	uint8_t ack[64];
	size_t al = 0;

	assert_int_equal(f->pkt[0], 0x82);
	while (f->pkt[i++] & 0x80) /* remaining length */
		;
	end = f->len;
	ack[al++] = 0x90;
	ack[al++] = (uint8_t)(3 + n_want);
	ack[al++] = f->pkt[i];
	ack[al++] = f->pkt[i + 1];
	i += 2;
	do {
		pl |= (size_t)(f->pkt[i] & 0x7f) << shift;
		shift += 7;
	} while (f->pkt[i++] & 0x80);
	i += pl;
	while (i + 2 <= end) {
		size_t tl = ((size_t)f->pkt[i] << 8) | f->pkt[i + 1];

		assert_true(n < n_want);
		assert_int_equal(tl, strlen(want[n]));
		assert_memory_equal(f->pkt + i + 2, want[n], tl);
		i += 2 + tl + 1; /* topic, options */
		n++;
	}
	assert_int_equal(n, n_want);
	ack[al++] = 0x00; /* no properties */
	for (int k = 0; k < n_want; k++)
		ack[al++] = 0x01;
	assert_int_equal(write(f->cfd, ack, al), (ssize_t)al);
}

static void fake_subscribe(struct fake *f, const char *const *want, int n_want)
{
	assert_int_equal(fake_read(f, 5000), 0x82);
	fake_grant(f, want, n_want);
}

/* What a PUBLISH in f->pkt carries. */
struct fake_pub {
	int dup;
	unsigned pid;
	char topic[256];
	char payload[64];
	char response_topic[256];
	int has_expiry;
	uint32_t expiry;
};

static void copy_field(char *out, size_t size, const uint8_t *p, size_t len)
{
	assert_true(len < size);
	memcpy(out, p, len);
	out[len] = '\0';
}

static void fake_parse_publish(struct fake *f, struct fake_pub *pub)
{
	size_t i = 1, tl, pl = 0, pend;
	int shift = 0;

	memset(pub, 0, sizeof(*pub));
	assert_int_equal(f->pkt[0] & 0xf6, 0x32); /* PUBLISH, QoS 1 */
	pub->dup = !!(f->pkt[0] & 0x08);
	while (f->pkt[i++] & 0x80)
		;
	tl = ((size_t)f->pkt[i] << 8) | f->pkt[i + 1];
	copy_field(pub->topic, sizeof(pub->topic), f->pkt + i + 2, tl);
	i += 2 + tl;
	pub->pid = ((unsigned)f->pkt[i] << 8) | f->pkt[i + 1];
	i += 2;
	do {
		pl |= (size_t)(f->pkt[i] & 0x7f) << shift;
		shift += 7;
	} while (f->pkt[i++] & 0x80);
	pend = i + pl;
	while (i < pend) {
		uint8_t id = f->pkt[i++];
		size_t l;

		switch (id) {
		case 0x02: /* Message Expiry Interval */
			pub->has_expiry = 1;
			pub->expiry = ((uint32_t)f->pkt[i] << 24) |
				      ((uint32_t)f->pkt[i + 1] << 16) |
				      ((uint32_t)f->pkt[i + 2] << 8) | f->pkt[i + 3];
			i += 4;
			break;
		case 0x03: /* Content Type */
		case 0x08: /* Response Topic */
			l = ((size_t)f->pkt[i] << 8) | f->pkt[i + 1];
			if (id == 0x08)
				copy_field(pub->response_topic, sizeof(pub->response_topic),
					   f->pkt + i + 2, l);
			i += 2 + l;
			break;
		default:
			fail_msg("unexpected PUBLISH property 0x%02x", id);
		}
	}
	copy_field(pub->payload, sizeof(pub->payload), f->pkt + pend, f->len - pend);
}

static void fake_puback(struct fake *f, unsigned pid)
{
	uint8_t ack[4] = { 0x40, 0x02, (uint8_t)(pid >> 8), (uint8_t)pid };

	assert_int_equal(write(f->cfd, ack, sizeof(ack)), (ssize_t)sizeof(ack));
}

/* Sockets of this process connected to 127.0.0.1:port; how many have
 * TCP_NODELAY. (The accepted broker side has port as its local port, not
 * its peer port, so it is not counted.) */
static int client_sockets(int port, int *with_nodelay)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	*with_nodelay = 0;
	while ((de = readdir(d)) != NULL) {
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer), ol;
		struct stat st;
		int fd = atoi(de->d_name), on = 0;

		if (de->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) != 0 ||
		    !S_ISSOCK(st.st_mode))
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
		    peer.sin_family != AF_INET || ntohs(peer.sin_port) != port)
			continue;
		n++;
		ol = sizeof(on);
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol) == 0 && on)
			(*with_nodelay)++;
	}
	closedir(d);
	return n;
}

static struct mqtt_mtp *start_mtp_session(int port, const char *reply, int nodelay,
					  const char *const *subs, size_t n_subs, int keep_session)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp *m;
	char url[64];

	snprintf(url, sizeof(url), "mqtt://127.0.0.1:%d", port);
	mqtt_mtp_config_init(&c);
	c.broker_url = url;
	c.endpoint_id = "self::mtp-fake";
	c.response_topic = reply;
	c.sub_topics = subs;
	c.n_sub_topics = n_subs;
	c.tcp_nodelay = nodelay;
	c.reconnect_min_ms = 100;
	c.reconnect_max_ms = 200;
	c.connect_timeout_s = 3;
	if (keep_session) {
		c.clean_start = 0;
		c.session_expiry_s = 3600;
	}
	m = mqtt_mtp_new(&c, &err);
	if (!m)
		fail_msg("mqtt_mtp_new: %s", err.msg);
	assert_int_equal(mqtt_mtp_start(m), 0);
	return m;
}

static struct mqtt_mtp *start_mtp(int port, const char *reply, int nodelay, const char *const *subs,
				  size_t n_subs)
{
	return start_mtp_session(port, reply, nodelay, subs, n_subs, 0);
}

static void test_response_information_and_nodelay(void **state)
{
	struct fake *f = *state;
	const char *subs[1] = { "fake/ctl" };
	const char *extra[1] = { "fake/extra/#" };
	const char *want1[3] = { "fake/ctl", "fake/extra/#", "fake/ri/reply/#" };
	const char *want2[2] = { "fake/ctl", "fake/ri/reply/#" };
	static const char rt_prop[] = "\x08\x00\x0d"
				      "fake/ri/reply";
	static const char rri_prop[] = "\x19\x01";
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m = start_mtp(f->port, NULL, 1, subs, 1);
	int nd;

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	assert_non_null(memmem(f->pkt, f->len, rri_prop, 2)); /* Request Response Information = 1 */
	fake_connack(f, "fake/ri/reply", extra, 1);
	fake_subscribe(f, want1, 3);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	assert_string_equal(mqtt_mtp_response_topic(m), "fake/ri/reply");
	/* NODELAY is set before SUBSCRIBE is sent, so it is there now. */
	assert_int_equal(client_sockets(f->port, &nd), 1);
	assert_int_equal(nd, 1);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.tcp_nodelay_applied, 1);
	assert_int_equal(st.tcp_nodelay_missed, 0);

	/* Publishes carry the adopted topic as Response Topic. */
	assert_int_equal(mqtt_mtp_publish(m, "fake/agent", "rec", 3, 0), 0);
	assert_int_equal(fake_read(f, 5000) & 0xf6, 0x32);
	assert_non_null(memmem(f->pkt, f->len, rt_prop, sizeof(rt_prop) - 1));

	/* The broker drops us: reconnect, NODELAY again on the new socket; no
	 * Response Information this time, the adopted topic stays. */
	close(f->cfd);
	f->cfd = -1;
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_DISCONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack(f, NULL, NULL, 0);
	fake_subscribe(f, want2, 2);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	assert_string_equal(mqtt_mtp_response_topic(m), "fake/ri/reply");
	assert_int_equal(client_sockets(f->port, &nd), 1);
	assert_int_equal(nd, 1);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.tcp_nodelay_applied, 2);
	assert_int_equal(st.reconnects, 1);
	mqtt_mtp_free(m);
}

/* A configured reply topic wins over Response Information. */
static void test_configured_reply_wins(void **state)
{
	struct fake *f = *state;
	const char *want[1] = { "fake/conf/reply/#" };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp *m = start_mtp(f->port, "fake/conf/reply", 1, NULL, 0);

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack(f, "fake/ri/other", NULL, 0);
	fake_subscribe(f, want, 1);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	assert_string_equal(mqtt_mtp_response_topic(m), "fake/conf/reply");
	mqtt_mtp_free(m);
}

/* No reply topic configured and none from the broker: R-MQTT.22 forbids
 * publishing, so the transport disconnects and tries again later. */
static void test_no_reply_topic_refused(void **state)
{
	struct fake *f = *state;
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m = start_mtp(f->port, NULL, 1, NULL, 0);
	int type;

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack(f, NULL, NULL, 0);
	type = fake_read(f, 5000); /* DISCONNECT, or the socket closed */
	assert_true(type == 0xe0 || type == -1);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 300, &ev, NULL), 0);
	assert_false(mqtt_mtp_is_connected(m));
	assert_string_equal(mqtt_mtp_response_topic(m), "");
	fake_accept(f, 5000); /* the retry */
	assert_int_equal(fake_read(f, 5000), 0x10);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.connects, 1);
	mqtt_mtp_free(m);
}

static void test_nodelay_disabled(void **state)
{
	struct fake *f = *state;
	const char *want[1] = { "fake/nd/reply/#" };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m = start_mtp(f->port, "fake/nd/reply", 0, NULL, 0);
	int nd;

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack(f, NULL, NULL, 0);
	fake_subscribe(f, want, 1);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	usleep(100000);
	assert_int_equal(client_sockets(f->port, &nd), 1);
	assert_int_equal(nd, 0);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.tcp_nodelay_applied, 0);
	assert_int_equal(st.tcp_nodelay_missed, 0);
	mqtt_mtp_free(m);
}

/* Message Expiry at every hand-off, including the re-send of what was
 * unacknowledged when the connection dropped, with the broker keeping our
 * session (the daemon's default: clean_start 0, a session expiry). Three
 * publishes go out unacknowledged: one with 10 s to live, one with 1.5 s,
 * one without a deadline. The connection drops; 2.5 s later the broker
 * takes us back with our session. The 10 s one must be sent again with at
 * most 8 s left (not the 10 s it first carried), the 1.5 s one never again
 * (counted in publish_expired), the third again without expiry. */
static void test_expiry_on_resend_after_reconnect(void **state)
{
	struct fake *f = *state;
	const char *want[1] = { "fake/exp/reply/#" };
	struct fake_pub first[3], pub;
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m = start_mtp_session(f->port, "fake/exp/reply", 1, NULL, 0, 1);
	struct mqtt_mtp_pub_opts lng = { 0 }, shrt = { 0 };
	int got_long = 0, got_short = 0, got_none = 0, connected = 0;
	int64_t t0;

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack(f, NULL, NULL, 0);
	fake_subscribe(f, want, 1);
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_CONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);

	t0 = mqtt_mtp_now_ms();
	lng.expires_at_ms = t0 + 10000;
	shrt.expires_at_ms = t0 + 1500;
	assert_int_equal(mqtt_mtp_publish_ex(m, "fake/agent", "long", 4, &lng), 0);
	assert_int_equal(mqtt_mtp_publish_ex(m, "fake/agent", "short", 5, &shrt), 0);
	assert_int_equal(mqtt_mtp_publish_ex(m, "fake/agent", "none", 4, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fake_read(f, 5000) & 0xf6, 0x32);
		fake_parse_publish(f, &first[i]);
		assert_int_equal(first[i].dup, 0);
		assert_string_equal(first[i].response_topic, "fake/exp/reply");
	}
	assert_string_equal(first[0].payload, "long");
	assert_true(first[0].has_expiry);
	assert_int_equal(first[0].expiry, 10);
	assert_string_equal(first[1].payload, "short");
	assert_true(first[1].has_expiry);
	assert_int_equal(first[1].expiry, 2);
	assert_string_equal(first[2].payload, "none");
	assert_false(first[2].has_expiry);

	/* No PUBACK: the connection drops with all three in flight. */
	close(f->cfd);
	f->cfd = -1;
	assert_int_equal(itest_next_event(m, MQTT_MTP_EV_DISCONNECTED, 5000, &ev, NULL), 1);
	mqtt_mtp_event_fini(&ev);
	while (mqtt_mtp_now_ms() < t0 + 2500)
		usleep(20000);

	fake_accept(f, 5000);
	assert_int_equal(fake_read(f, 5000), 0x10);
	fake_connack_sp(f, 1, NULL, NULL, 0);
	for (int64_t end = mqtt_mtp_now_ms() + 2500; mqtt_mtp_now_ms() < end;) {
		int type;

		while (mqtt_mtp_next_event(m, &ev) == 1) {
			connected |= ev.kind == MQTT_MTP_EV_CONNECTED;
			mqtt_mtp_event_fini(&ev);
		}
		mqtt_mtp_pump(m);
		type = fake_read(f, 100);
		if (type == 0x82) {
			fake_grant(f, want, 1);
		} else if (type >= 0 && (type & 0xf0) == 0x30) {
			fake_parse_publish(f, &pub);
			fake_puback(f, pub.pid);
			if (strcmp(pub.payload, "long") == 0) {
				got_long++;
				assert_true(pub.has_expiry);
				assert_true(pub.expiry >= 7 && pub.expiry <= 8);
			} else if (strcmp(pub.payload, "short") == 0) {
				got_short++;
			} else {
				assert_string_equal(pub.payload, "none");
				assert_false(pub.has_expiry);
				got_none++;
			}
		} else if (type >= 0) {
			fail_msg("unexpected packet 0x%02x", (unsigned)type);
		}
	}
	assert_true(connected);
	assert_int_equal(got_short, 0);
	assert_true(got_long >= 1);
	assert_true(got_none >= 1);
	mqtt_mtp_get_stats(m, &st);
	assert_int_equal(st.publish_expired, 1);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(st.out_queue_depth, 0);
	mqtt_mtp_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_response_information_and_nodelay, fake_listen,
						fake_close),
		cmocka_unit_test_setup_teardown(test_configured_reply_wins, fake_listen,
						fake_close),
		cmocka_unit_test_setup_teardown(test_no_reply_topic_refused, fake_listen,
						fake_close),
		cmocka_unit_test_setup_teardown(test_nodelay_disabled, fake_listen, fake_close),
		cmocka_unit_test_setup_teardown(test_expiry_on_resend_after_reconnect, fake_listen,
						fake_close),
	};

	log_set_level(getenv("USPC_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
