/*
 * mtp_itest.c — test helpers for the MQTT transport (see mtp_itest.h).
 * Threads: the peer's callbacks run on libmosquitto's loop thread and only
 * touch the peer under p->lock; everything else runs on the test's thread.
 */
#include "mtp_itest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t itest_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int itest_parse_url(const char *url, char *host, size_t host_size, int *port)
{
	const char *p = strstr(url, "://");
	const char *colon;

	p = p ? p + 3 : url;
	colon = strrchr(p, ':');
	if (!colon || (size_t)(colon - p) >= host_size)
		return -1;
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	*port = atoi(colon + 1);
	return *port > 0 ? 0 : -1;
}

int itest_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

int itest_broker_start(struct itest_broker *b, const char *dir, const char *listener_tmpl,
		       int persistence)
{
	char conf[700], log[700];
	FILE *f;

	if (dir != b->dir)
		snprintf(b->dir, sizeof(b->dir), "%s", dir);
	if (listener_tmpl != b->listener)
		snprintf(b->listener, sizeof(b->listener), "%s", listener_tmpl);
	if (!b->port)
		b->port = itest_free_port();
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	snprintf(log, sizeof(log), "%s/mosquitto.log", b->dir);
	f = fopen(conf, "w");
	if (!f)
		return -1;
	if (geteuid() == 0)
		fprintf(f, "user root\n");
	fprintf(f,
		"log_dest file %s\nlog_type all\nmax_inflight_messages 0\n"
		"max_queued_messages 100000\n",
		log);
	if (persistence)
		fprintf(f, "persistence true\npersistence_location %s/\nautosave_interval 0\n",
			b->dir);
	for (const char *c = b->listener; *c; c++) {
		if (strncmp(c, "@PORT@", 6) == 0) {
			fprintf(f, "%d", b->port);
			c += 5;
		} else {
			fputc(*c, f);
		}
	}
	fprintf(f, "\n");
	fclose(f);
	b->pid = fork();
	if (b->pid < 0)
		return -1;
	if (b->pid == 0) {
		int devnull = open("/dev/null", 0);

		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		int st;

		if (port_open(b->port))
			return 0;
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			fprintf(stderr, "itest: mosquitto exited at start (see %s)\n", log);
			b->pid = 0;
			return -1;
		}
		usleep(50000);
	}
	fprintf(stderr, "itest: mosquitto did not listen on %d\n", b->port);
	itest_broker_stop(b);
	return -1;
}

void itest_broker_stop(struct itest_broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, NULL, 0);
	}
	b->pid = 0;
}

/* ---- peer ---- */

static char *dup_prop_string(const mosquitto_property *props, int id)
{
	char *v = NULL;

	if (mosquitto_property_read_string(props, id, &v, false))
		return v;
	return NULL;
}

static char *dup_user_prop(const mosquitto_property *props, const char *name)
{
	const mosquitto_property *p = props;
	char *k = NULL, *v = NULL;
	int first = 1;

	while ((p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &k, &v,
							!first))) {
		first = 0;
		if (strcmp(k, name) == 0) {
			free(k);
			return v;
		}
		free(k);
		free(v);
		k = v = NULL;
	}
	return NULL;
}

static void peer_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
			    const mosquitto_property *props)
{
	struct itest_peer *p = obj;
	struct itest_msg r = { 0 };

	r.topic = strdup(msg->topic);
	r.payload = malloc((size_t)msg->payloadlen + 1);
	memcpy(r.payload, msg->payload, (size_t)msg->payloadlen);
	r.payload[msg->payloadlen] = 0;
	r.len = msg->payloadlen;
	r.response_topic = dup_prop_string(props, MQTT_PROP_RESPONSE_TOPIC);
	r.content_type = dup_prop_string(props, MQTT_PROP_CONTENT_TYPE);
	r.endpoint_id = dup_user_prop(props, "usp-endpoint-id");
	r.has_expiry = mosquitto_property_read_int32(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
						     &r.expiry, false) != NULL;
	if (p->echo && r.response_topic)
		mosquitto_publish_v5(mosq, NULL, r.response_topic, r.len, r.payload, 1, false,
				     NULL);
	pthread_mutex_lock(&p->lock);
	if (p->n_msgs == p->cap_msgs) {
		p->cap_msgs = p->cap_msgs ? p->cap_msgs * 2 : 256;
		p->msgs = realloc(p->msgs, p->cap_msgs * sizeof(*p->msgs));
	}
	p->msgs[p->n_msgs++] = r;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void peer_on_connect(struct mosquitto *mosq, void *obj, int rc, int flags,
			    const mosquitto_property *props)
{
	struct itest_peer *p = obj;

	if (rc != 0)
		return;
	pthread_mutex_lock(&p->lock);
	p->connects++;
	p->subscribed = 0;
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_subs; i++)
		mosquitto_subscribe_v5(mosq, NULL, p->subs[i], 1, 0, NULL);
}

static void peer_on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
			      const int *granted, const mosquitto_property *props)
{
	struct itest_peer *p = obj;

	pthread_mutex_lock(&p->lock);
	p->subscribed++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int itest_peer_wait_subscribed(struct itest_peer *p, int connects, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	int ok;

	pthread_mutex_lock(&p->lock);
	while (!(p->connects >= connects && p->subscribed >= p->n_subs) && itest_now_ms() < end) {
		pthread_mutex_unlock(&p->lock);
		usleep(10000);
		pthread_mutex_lock(&p->lock);
	}
	ok = p->connects >= connects && p->subscribed >= p->n_subs;
	pthread_mutex_unlock(&p->lock);
	return ok ? 0 : -1;
}

int itest_peer_start(struct itest_peer *p, int port, const char *client_id, int v5, int clean,
		     const char *const *subs, int n_subs)
{
	mosquitto_property *cprops = NULL;
	int echo = p->echo;

	memset(p, 0, sizeof(*p));
	p->echo = echo;
	mosquitto_lib_init();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->subs = subs;
	p->n_subs = n_subs;
	p->mosq = mosquitto_new(client_id, clean, p);
	if (!p->mosq)
		return -1;
	mosquitto_int_option(p->mosq, MOSQ_OPT_PROTOCOL_VERSION,
			     v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
	mosquitto_int_option(p->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_max_inflight_messages_set(p->mosq, 0);
	mosquitto_connect_v5_callback_set(p->mosq, peer_on_connect);
	mosquitto_message_v5_callback_set(p->mosq, peer_on_message);
	mosquitto_subscribe_v5_callback_set(p->mosq, peer_on_subscribe);
	if (v5 && !clean)
		mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL, 3600);
	if (mosquitto_connect_bind_v5(p->mosq, "127.0.0.1", port, 30, NULL, cprops) != 0) {
		mosquitto_property_free_all(&cprops);
		return -1;
	}
	mosquitto_property_free_all(&cprops);
	mosquitto_reconnect_delay_set(p->mosq, 1, 2, false);
	if (mosquitto_loop_start(p->mosq) != 0)
		return -1;
	return itest_peer_wait_subscribed(p, 1, 10000);
}

void itest_peer_stop(struct itest_peer *p)
{
	if (p->mosq) {
		mosquitto_disconnect(p->mosq);
		mosquitto_loop_stop(p->mosq, false);
		mosquitto_destroy(p->mosq);
	}
	for (size_t i = 0; i < p->n_msgs; i++) {
		free(p->msgs[i].topic);
		free(p->msgs[i].payload);
		free(p->msgs[i].response_topic);
		free(p->msgs[i].content_type);
		free(p->msgs[i].endpoint_id);
	}
	free(p->msgs);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	memset(p, 0, sizeof(*p));
}

int itest_peer_publish(struct itest_peer *p, const char *topic, const void *payload, int len,
		       const char *response_topic, const char *content_type,
		       const char *endpoint_id)
{
	mosquitto_property *props = NULL;
	int rc;

	if (response_topic)
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, response_topic);
	if (content_type)
		mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, content_type);
	if (endpoint_id)
		mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY,
						   "usp-endpoint-id", endpoint_id);
	rc = mosquitto_publish_v5(p->mosq, NULL, topic, len, payload, 1, false, props);
	mosquitto_property_free_all(&props);
	return rc == 0 ? 0 : -1;
}

size_t itest_peer_wait(struct itest_peer *p, size_t n, int timeout_ms)
{
	int64_t end = itest_now_ms() + timeout_ms;
	size_t got;

	pthread_mutex_lock(&p->lock);
	while (p->n_msgs < n && itest_now_ms() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	got = p->n_msgs;
	pthread_mutex_unlock(&p->lock);
	return got;
}

/* ---- core-loop stand-in ---- */

void itest_wait_wake(struct mqtt_mtp *m, int timeout_ms)
{
	struct pollfd pfd = { .fd = mqtt_mtp_wake_fd(m), .events = POLLIN };

	poll(&pfd, 1, timeout_ms);
}

int itest_next_event(struct mqtt_mtp *m, enum mqtt_mtp_event_kind kind, int timeout_ms,
		     struct mqtt_mtp_event *ev, int *skipped)
{
	int64_t end = itest_now_ms() + timeout_ms;

	for (;;) {
		int64_t left;

		while (mqtt_mtp_next_event(m, ev) == 1) {
			if (kind == 0 || ev->kind == kind)
				return 1;
			if (skipped)
				(*skipped)++;
			mqtt_mtp_event_fini(ev);
		}
		mqtt_mtp_pump(m);
		left = end - itest_now_ms();
		if (left <= 0)
			return 0;
		itest_wait_wake(m, left > 100 ? 100 : (int)left);
	}
}
