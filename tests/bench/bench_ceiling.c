/*
 * bench_ceiling.c — the broker-alone ceiling probe of tests/bench/run.sh.
 * Owns nothing of the product: it measures what the MQTT broker by itself
 * carries on this machine, so the whole-stack figures can be given as a
 * ratio to it.
 *
 * Shape of one round trip (the controller's traffic pattern, no USP):
 *   requester --PUBLISH QoS 1, 200 B, Response Topic--> bench/<id>/agent/a<k>
 *   echo client (subscribed to bench/<id>/agent/+) --PUBLISH QoS 1-->
 *   the Response Topic --> requester.
 * One requester connection keeps WINDOW requests in flight, spread round-
 * robin over TOPICS topics. Both clients are libmosquitto (MQTT 5,
 * TCP_NODELAY on, send/receive maximum 65535), each on its own network
 * thread (mosquitto_loop_start); the echo answers from its message
 * callback, the requester sends the next request from its own. Paho is not
 * used on purpose: it never sets TCP_NODELAY (docs/design.md), and
 * this is the ceiling of the broker, not of a client library.
 *
 * Threads: main (set-up, initial window, waiting), the two libmosquitto
 * loop threads. Shared counters are guarded by one mutex.
 *
 *   bench_ceiling --broker mqtt://127.0.0.1:PORT [--window 100[,1000]]
 *                 [--seconds 10] [--topics 1000] [--payload 200]
 *                 [--warmup-seconds 1]
 * Prints one JSON line per window on stdout; progress/errors on stderr.
 * Exit 0 when every window completed, 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CEIL_MAX_WINDOW 20000
#define CEIL_MAX_TOPICS 100000
#define CEIL_MAX_SECONDS 600
#define CEIL_MAX_LAT (4u << 20) /* latency samples kept (16 M round trips max) */
#define CEIL_HDR 16             /* payload header: send time (8) + sequence (8) */

struct opts {
	char host[128];
	int port;
	int windows[8];
	int n_windows;
	double seconds, warmup;
	int topics, payload;
};

/* One window's run; guarded by mu (the loop threads and main touch it). */
struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mosquitto *req;
	mosquitto_property *props; /* Response Topic, built once */
	char prefix[96];           /* bench/<id>/agent/a */
	uint8_t *buf;              /* payload being built (under mu) */
	int payload, topics;
	int64_t t_measure; /* ns: samples taken after this */
	int64_t t_stop;    /* ns: no new requests after this */
	uint64_t seq, sent, done, measured, outstanding, errors;
	int64_t *lat;
	size_t n_lat;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* CPU seconds (user + system) used by this process so far. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Publish one request; caller holds r->mu. Returns 0 or -1. */
static int send_one(struct run *r)
{
	char topic[128];
	int64_t t = now_ns();
	uint64_t seq = r->seq++;

	memcpy(r->buf, &t, 8);
	memcpy(r->buf + 8, &seq, 8);
	snprintf(topic, sizeof(topic), "%s%llu", r->prefix,
		 (unsigned long long)(seq % (uint64_t)r->topics));
	int rc = mosquitto_publish_v5(r->req, NULL, topic, r->payload, r->buf, 1, false, r->props);
	if (rc != MOSQ_ERR_SUCCESS) {
		r->errors++;
		fprintf(stderr, "bench_ceiling: publish: %s\n", mosquitto_strerror(rc));
		return -1;
	}
	r->sent++;
	r->outstanding++;
	return 0;
}

/* Requester: a reply came back. */
static void on_reply(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		     const mosquitto_property *props)
{
	struct run *r = obj;
	int64_t t = now_ns(), sent_at;

	(void)m;
	(void)props;
	if (msg->payloadlen < CEIL_HDR)
		return;
	memcpy(&sent_at, msg->payload, 8);
	pthread_mutex_lock(&r->mu);
	r->done++;
	r->outstanding--;
	if (sent_at >= r->t_measure && t <= r->t_stop) {
		r->measured++;
		if (r->n_lat < CEIL_MAX_LAT)
			r->lat[r->n_lat++] = t - sent_at;
	}
	if (t < r->t_stop)
		send_one(r);
	if (r->outstanding == 0)
		pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Echo: answer on the Response Topic with the same payload. */
static void on_request(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	char *rt = NULL;

	(void)obj;
	if (!mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &rt, false) || !rt)
		return;
	int rc = mosquitto_publish_v5(m, NULL, rt, msg->payloadlen, msg->payload, 1, false, NULL);
	if (rc != MOSQ_ERR_SUCCESS)
		fprintf(stderr, "bench_ceiling: echo publish: %s\n", mosquitto_strerror(rc));
	free(rt);
}

/* Set-up handshake: the subscribe callback reports the SUBACK here. */
struct conn_wait {
	pthread_mutex_t mu;
	int subscribed, failed;
};

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags,
		       const mosquitto_property *props)
{
	(void)m;
	(void)flags;
	(void)props;
	(void)obj;
	if (rc != 0)
		fprintf(stderr, "bench_ceiling: CONNACK refused: %s\n",
			mosquitto_reason_string(rc));
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
	struct conn_wait *w = obj;

	(void)m;
	(void)mid;
	pthread_mutex_lock(&w->mu);
	if (n < 1 || granted[0] > 1)
		w->failed = 1;
	w->subscribed++;
	pthread_mutex_unlock(&w->mu);
}

/* Create, connect (blocking) and subscribe one client; start its thread. */
static struct mosquitto *client_open(const struct opts *o, const char *id, void *obj,
				     const char *sub, struct conn_wait *w)
{
	struct mosquitto *m = mosquitto_new(id, true, w);
	int rc;

	if (!m)
		return NULL;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 65535);
	mosquitto_int_option(m, MOSQ_OPT_RECEIVE_MAXIMUM, 65535);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	rc = mosquitto_connect_bind_v5(m, o->host, o->port, 60, NULL, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "bench_ceiling: connect %s:%d: %s\n", o->host, o->port,
			rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		mosquitto_destroy(m);
		return NULL;
	}
	/* Until subscribed the callbacks' obj is the waiter; then the caller's. */
	mosquitto_user_data_set(m, w);
	if (mosquitto_subscribe_v5(m, NULL, sub, 1, 0, NULL) != MOSQ_ERR_SUCCESS ||
	    mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
		mosquitto_destroy(m);
		return NULL;
	}
	int64_t deadline = now_ns() + 10 * 1000000000LL;
	pthread_mutex_lock(&w->mu);
	while (!w->subscribed && now_ns() < deadline) {
		pthread_mutex_unlock(&w->mu);
		usleep(10000);
		pthread_mutex_lock(&w->mu);
	}
	int ok = w->subscribed && !w->failed;
	w->subscribed = 0;
	pthread_mutex_unlock(&w->mu);
	if (!ok) {
		fprintf(stderr, "bench_ceiling: %s: no SUBACK for %s within 10 s\n", id, sub);
		mosquitto_disconnect(m);
		mosquitto_loop_stop(m, false);
		mosquitto_destroy(m);
		return NULL;
	}
	mosquitto_user_data_set(m, obj);
	return m;
}

static void client_close(struct mosquitto *m)
{
	if (!m)
		return;
	mosquitto_disconnect(m);
	mosquitto_loop_stop(m, false);
	mosquitto_destroy(m);
}

/* Wait until every request is answered or the deadline passes. */
static void drain(struct run *r, int64_t deadline)
{
	pthread_mutex_lock(&r->mu);
	while (r->outstanding > 0 && now_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
}

static void report(const struct opts *o, int window, struct run *r, double secs, double cpu)
{
	double p50 = 0, p99 = 0;

	if (r->n_lat) {
		qsort(r->lat, r->n_lat, sizeof(*r->lat), cmp_i64);
		p50 = (double)r->lat[r->n_lat / 2] / 1e6;
		p99 = (double)r->lat[r->n_lat * 99 / 100] / 1e6;
	}
	printf("{\"probe\":\"ceiling\",\"client\":\"libmosquitto\",\"window\":%d,\"topics\":%d,"
	       "\"payload_bytes\":%d,\"qos\":1,\"round_trips\":%llu,\"seconds\":%.3f,"
	       "\"rt_per_sec\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"unanswered\":%llu,"
	       "\"errors\":%llu,\"probe_cpu_seconds\":%.2f}\n",
	       window, o->topics, o->payload, (unsigned long long)r->measured, secs,
	       secs > 0 ? (double)r->measured / secs : 0.0, p50, p99,
	       (unsigned long long)r->outstanding, (unsigned long long)r->errors, cpu);
	fflush(stdout);
}

static int run_window(const struct opts *o, int window, const char *tag)
{
	struct run r = { .payload = o->payload, .topics = o->topics };
	struct conn_wait wq = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct conn_wait we = { .mu = PTHREAD_MUTEX_INITIALIZER };
	struct mosquitto *echo = NULL;
	char id[64], reply[96], sub[96];
	int rc = 1;

	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.buf = calloc(1, (size_t)o->payload);
	r.lat = malloc(CEIL_MAX_LAT * sizeof(*r.lat));
	snprintf(r.prefix, sizeof(r.prefix), "bench/%s/agent/a", tag);
	snprintf(reply, sizeof(reply), "bench/%s/controller", tag);
	snprintf(sub, sizeof(sub), "bench/%s/agent/+", tag);
	if (!r.buf || !r.lat ||
	    mosquitto_property_add_string(&r.props, MQTT_PROP_RESPONSE_TOPIC, reply) != 0)
		goto out;
	r.t_measure = r.t_stop = INT64_MAX; /* nothing sent, nothing measured yet */
	snprintf(id, sizeof(id), "bench-ceil-echo-%s", tag);
	echo = client_open(o, id, NULL, sub, &we);
	snprintf(id, sizeof(id), "bench-ceil-req-%s", tag);
	if (echo)
		r.req = client_open(o, id, &r, reply, &wq);
	if (!echo || !r.req)
		goto out;
	mosquitto_message_v5_callback_set(echo, on_request);
	mosquitto_message_v5_callback_set(r.req, on_reply);

	int64_t t0 = now_ns();
	double cpu0 = cpu_now();
	pthread_mutex_lock(&r.mu);
	r.t_measure = t0 + (int64_t)(o->warmup * 1e9);
	r.t_stop = r.t_measure + (int64_t)(o->seconds * 1e9);
	for (int i = 0; i < window; i++)
		if (send_one(&r) != 0)
			break;
	pthread_mutex_unlock(&r.mu);
	while (now_ns() < r.t_stop)
		usleep(50000);
	drain(&r, r.t_stop + 30 * 1000000000LL);
	pthread_mutex_lock(&r.mu);
	report(o, window, &r, (double)(r.t_stop - r.t_measure) / 1e9, cpu_now() - cpu0);
	rc = r.outstanding == 0 && r.errors == 0 && r.measured > 0 ? 0 : 1;
	if (r.outstanding)
		fprintf(stderr, "bench_ceiling: window %d: %llu requests never answered\n", window,
			(unsigned long long)r.outstanding);
	pthread_mutex_unlock(&r.mu);
out:
	client_close(r.req);
	client_close(echo);
	mosquitto_property_free_all(&r.props);
	free(r.lat);
	free(r.buf);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	if (rc && !r.req)
		fprintf(stderr, "bench_ceiling: window %d: could not set up the clients\n", window);
	return rc;
}

static int parse_broker(struct opts *o, const char *url)
{
	const char *p = url;
	char *end;

	if (strncmp(p, "mqtt://", 7) != 0)
		return -1;
	p += 7;
	const char *colon = strrchr(p, ':');
	if (!colon || colon == p || (size_t)(colon - p) >= sizeof(o->host))
		return -1;
	memcpy(o->host, p, (size_t)(colon - p));
	o->host[colon - p] = '\0';
	long port = strtol(colon + 1, &end, 10);
	if ((*end && *end != '/') || port < 1 || port > 65535)
		return -1;
	o->port = (int)port;
	return 0;
}

static int parse_windows(struct opts *o, const char *s)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	o->n_windows = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long w = strtol(t, NULL, 10);
		if (w < 1 || w > CEIL_MAX_WINDOW || o->n_windows >= 8)
			return -1;
		o->windows[o->n_windows++] = (int)w;
	}
	return o->n_windows ? 0 : -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_ceiling --broker mqtt://HOST:PORT [--window W[,W...]] "
		   "[--seconds S] [--warmup-seconds S] [--topics N] [--payload BYTES]\n"
		   "  defaults: --window 100 --seconds 10 --warmup-seconds 1 --topics 1000 "
		   "--payload 200\n");
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	const char *broker = getenv("USPC_MQTT");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(a, "--broker"))
			broker = v;
		else if (!strcmp(a, "--window")) {
			if (parse_windows(o, v) != 0)
				return -1;
		} else if (!strcmp(a, "--seconds"))
			o->seconds = atof(v);
		else if (!strcmp(a, "--warmup-seconds"))
			o->warmup = atof(v);
		else if (!strcmp(a, "--topics"))
			o->topics = atoi(v);
		else if (!strcmp(a, "--payload"))
			o->payload = atoi(v);
		else
			return -1;
	}
	if (!broker || parse_broker(o, broker) != 0) {
		fprintf(stderr, "bench_ceiling: --broker mqtt://HOST:PORT needed (or USPC_MQTT)\n");
		return -1;
	}
	if (o->seconds <= 0 || o->seconds > CEIL_MAX_SECONDS || o->warmup < 0 || o->warmup > 60 ||
	    o->topics < 1 || o->topics > CEIL_MAX_TOPICS || o->payload < CEIL_HDR ||
	    o->payload > 65536)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .windows = { 100 },
			  .n_windows = 1,
			  .seconds = 10,
			  .warmup = 1,
			  .topics = 1000,
			  .payload = 200 };
	int rc = 0;

	if (parse_args(&o, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	mosquitto_lib_init();
	for (int i = 0; i < o.n_windows; i++) {
		char tag[48];

		snprintf(tag, sizeof(tag), "%d-%d", (int)getpid(), i);
		if (run_window(&o, o.windows[i], tag) != 0)
			rc = 1;
	}
	mosquitto_lib_cleanup();
	return rc;
}
