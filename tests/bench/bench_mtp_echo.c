/*
 * bench_mtp_echo.c — the "ceiling" probe for the controller's transport:
 * one Paho connection (mqtt_mtp, driven like the core loop drives it) does
 * request/echo round trips against a libmosquitto echo peer on another
 * thread, which republishes each message to its MQTT 5 Response Topic.
 * Prints round trips per second and p50/p99 latency per in-flight window.
 *
 *   bench_mtp_echo [--broker mqtt://127.0.0.1:PORT] [--count N] [--payload B]
 *                  [--windows 100,1000] [--tcp-nodelay 0|1] [--request-opts 0|1]
 * --request-opts 1 publishes as the daemon sends requests: mqtt_mtp_publish_ex
 * with a per-publish Response Topic and a 30 s deadline (Message Expiry).
 * Without --broker it starts a private mosquitto (loopback, free port,
 * max_inflight_messages 0, max_queued_messages 100000) and stops it after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mtp_itest.h"

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

struct run {
	const char *url;
	int window, count, payload, tcp_nodelay, request_opts;
	const char *req_topic, *reply_topic;
};

static int drain_events(struct mqtt_mtp *m, int64_t *lat, int *got, int skip, int *outstanding)
{
	struct mqtt_mtp_event ev;
	int n = 0;

	while (mqtt_mtp_next_event(m, &ev) == 1) {
		if (ev.kind == MQTT_MTP_EV_MESSAGE && ev.len >= 16) {
			int64_t sent;
			int32_t seq;

			memcpy(&sent, ev.payload, sizeof(sent));
			memcpy(&seq, ev.payload + 8, sizeof(seq));
			if (*got >= skip)
				lat[*got - skip] = now_ns() - sent;
			(*got)++;
			(*outstanding)--;
			n++;
		} else if (ev.kind == MQTT_MTP_EV_DISCONNECTED ||
			   ev.kind == MQTT_MTP_EV_PUBLISH_FAILED) {
			fprintf(stderr, "bench: unexpected event %d: %s\n", (int)ev.kind,
				ev.reason);
		}
		mqtt_mtp_event_fini(&ev);
	}
	return n;
}

static int run_window(const struct run *r)
{
	struct mqtt_mtp_config c;
	struct uspc_err err = { 0 };
	struct mqtt_mtp_event ev;
	struct mqtt_mtp_stats st;
	struct mqtt_mtp *m;
	int skip = r->count / 20, got = 0, sent = 0, outstanding = 0, eff_window;
	int64_t *lat = calloc((size_t)(r->count - skip), sizeof(*lat)), t0, t1, stall_at;
	uint8_t *buf = calloc(1, (size_t)r->payload);

	mqtt_mtp_config_init(&c);
	c.broker_url = r->url;
	c.endpoint_id = "self::bench";
	c.response_topic = r->reply_topic;
	c.response_topic_wildcard = 0;
	c.max_inflight = r->window;
	c.out_queue_cap = (size_t)r->window;
	c.in_queue_cap = 100000;
	c.tcp_nodelay = r->tcp_nodelay;
	m = mqtt_mtp_new(&c, &err);
	if (!m || !lat || !buf || mqtt_mtp_start(m) != 0 ||
	    itest_next_event(m, MQTT_MTP_EV_CONNECTED, 10000, &ev, NULL) != 1) {
		fprintf(stderr, "bench: cannot connect: %s\n", err.msg);
		return -1;
	}
	eff_window = ev.window;
	mqtt_mtp_event_fini(&ev);
	t0 = now_ns();
	stall_at = itest_now_ms() + 60000;
	while (got < r->count) {
		while (sent < r->count && outstanding < r->window) {
			int64_t ts = now_ns();
			int32_t seq = sent;

			struct mqtt_mtp_pub_opts o = { 0 };

			memcpy(buf, &ts, sizeof(ts));
			memcpy(buf + 8, &seq, sizeof(seq));
			if (r->request_opts) {
				o.response_topic = r->reply_topic;
				o.expires_at_ms = ts / 1000000 + 30000;
			}
			if (mqtt_mtp_publish_ex(m, r->req_topic, buf, (size_t)r->payload, &o) != 0)
				break;
			sent++;
			outstanding++;
		}
		if (drain_events(m, lat, &got, skip, &outstanding) > 0)
			stall_at = itest_now_ms() + 60000;
		else
			itest_wait_wake(m, 100);
		mqtt_mtp_pump(m);
		if (itest_now_ms() > stall_at) {
			fprintf(stderr, "bench: window %d stalled at %d/%d round trips\n",
				r->window, got, r->count);
			break;
		}
	}
	t1 = now_ns();
	if (got >= r->count) {
		int n = r->count - skip;
		double secs = (double)(t1 - t0) / 1e9;

		qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
		mqtt_mtp_get_stats(m, &st);
		printf("window %5d (effective %5d): %6d round trips in %.2f s = %8.0f RT/s, "
		       "p50 %.2f ms, p99 %.2f ms (payload %d B, TCP_NODELAY %s%s)\n",
		       r->window, eff_window, r->count, secs, r->count / secs,
		       (double)lat[n / 2] / 1e6, (double)lat[(size_t)n * 99 / 100] / 1e6,
		       r->payload, st.tcp_nodelay_applied ? "set" : "off",
		       r->request_opts ? ", own Response Topic + expiry" : "");
	}
	mqtt_mtp_stop(m, 5000);
	mqtt_mtp_free(m);
	free(lat);
	free(buf);
	return got >= r->count ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	char url_buf[64], windows[128] = "100,1000", dir[] = "/tmp/uspc-bench-mtp-XXXXXX";
	char req[128], reply[128], host[64];
	struct itest_broker b = { 0 };
	struct itest_peer echo = { 0 };
	struct run r = { .count = 20000, .payload = 200, .tcp_nodelay = 1 };
	const char *subs[1] = { req };
	int port, rc = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--broker") == 0)
			url = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0)
			r.count = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--payload") == 0)
			r.payload = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--tcp-nodelay") == 0)
			r.tcp_nodelay = atoi(argv[i + 1]) != 0;
		else if (strcmp(argv[i], "--request-opts") == 0)
			r.request_opts = atoi(argv[i + 1]) != 0;
		else if (strcmp(argv[i], "--windows") == 0)
			snprintf(windows, sizeof(windows), "%s", argv[i + 1]);
		else {
			fprintf(stderr,
				"usage: %s [--broker URL] [--count N] [--payload B] [--windows W,W] "
				"[--tcp-nodelay 0|1] [--request-opts 0|1]\n",
				argv[0]);
			return 2;
		}
	}
	if (r.count < 100 || r.payload < 16) {
		fprintf(stderr, "bench: --count >= 100 and --payload >= 16\n");
		return 2;
	}
	log_set_level(LOG_LVL_WARN);
	if (!url) {
		if (!mkdtemp(dir) ||
		    itest_broker_start(&b, dir, "listener @PORT@ 127.0.0.1\nallow_anonymous true",
				       0) != 0) {
			fprintf(stderr, "bench: cannot start mosquitto\n");
			return 1;
		}
		snprintf(url_buf, sizeof(url_buf), "mqtt://127.0.0.1:%d", b.port);
		url = url_buf;
	}
	if (itest_parse_url(url, host, sizeof(host), &port) != 0) {
		fprintf(stderr, "bench: bad broker URL %s\n", url);
		rc = 1;
		goto out;
	}
	snprintf(req, sizeof(req), "bench/%d/agent", (int)getpid());
	snprintf(reply, sizeof(reply), "bench/%d/controller", (int)getpid());
	r.url = url;
	r.req_topic = req;
	r.reply_topic = reply;
	echo.echo = 1;
	if (itest_peer_start(&echo, port, "uspc-bench-echo", 1, 1, subs, 1) != 0) {
		fprintf(stderr, "bench: echo peer cannot connect to %s\n", url);
		rc = 1;
		goto out;
	}
	printf("mqtt_mtp (Paho %s) echo round trips via %s, echo peer libmosquitto\n", "MQTTAsync",
	       url);
	for (char *w = strtok(windows, ","); w; w = strtok(NULL, ",")) {
		r.window = atoi(w);
		if (r.window < 1 || run_window(&r) != 0)
			rc = 1;
	}
	itest_peer_stop(&echo);
out:
	if (b.pid) {
		char cmd[160];

		itest_broker_stop(&b);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench: could not remove %s\n", dir);
	}
	return rc;
}
