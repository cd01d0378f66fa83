/*
 * mqtt_mtp.c — the controller's MQTT 5 transport over Paho MQTTAsync.
 *
 * Owns: the Paho client; the connection state machine (states below, one
 * move_state() that logs every transition); the bounded in-queue (Paho
 * threads → core); the out-queue and the in-flight window (core → Paho);
 * and one small thread, "mtp-conn", that issues connect and subscribe
 * requests and waits out the reconnect back-off.
 *
 * Threads: Paho's callbacks and mtp-conn only take m->lock, copy, enqueue
 * and signal (eventfd for the core, condvar for mtp-conn). The public API
 * is for one core thread, except the functions the header marks "any
 * thread". Paho is never called while m->lock is held (Paho may hold its
 * own mutex while it calls us), so every send is prepared under the lock,
 * made without it, and settled under it again.
 *
 * Invariants (under m->lock): inflight == the number of live sends whose
 * msg is not NULL; a message is in exactly one place: the out-queue, a
 * live send, or freed after PUBACK / a PUBLISH_FAILED event; in_count and
 * in_bytes count MESSAGE items only (control events are few and uncapped).
 *
 * Back-pressure on arrival: Paho acknowledges a QoS 1 PUBLISH before it
 * calls messageArrived, and the documented alternative to accepting —
 * returning 0 so that Paho "re-invokes messageArrived later" — re-offers the
 * message only when its receive thread next sees network activity (idle
 * cycles skip delivery), one message per cycle: measured here, a refused
 * burst then waits for keep-alive traffic. So when the in-queue is full the
 * callback waits for space (a condvar, no I/O) for as long as the core keeps
 * taking events. While it waits Paho reads nothing more from the socket, so
 * TCP flow control pushes back to the broker, which queues for us (its
 * max_queued_messages applies). Only if the core takes nothing for
 * IN_STALL_MS does the callback return 0 (counted in in_deferred), so that
 * Paho's thread keeps the connection alive; during stop() it never waits.
 */
#include "mqtt_mtp.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define COMP "mtp"
#define CONTENT_TYPE_USP "usp.msg"
#define UP_ENDPOINT_ID "usp-endpoint-id"
#define REPLY_TO_TAG "reply-to="
#define IN_STALL_MS 5000 /* core took nothing for this long: stop waiting */

#define MTP_STATES(X)                   \
	X(IDLE, "idle")                 \
	X(CONNECTING, "connecting")     \
	X(SUBSCRIBING, "subscribing")   \
	X(CONNECTED, "connected")       \
	X(BACKOFF, "backoff")           \
	X(STOPPED, "stopped")

enum mtp_state {
#define X_(id, name) ST_##id,
	MTP_STATES(X_)
#undef X_
};

static const char *const state_names[] = {
#define X_(id, name) [ST_##id] = name,
	MTP_STATES(X_)
#undef X_
};

/* One queued publish: topic and payload in the same allocation. */
struct out_msg {
	struct out_msg *next;
	char *topic;
	uint8_t *payload;
	size_t len;
	int attempts;
};

/* One send Paho accepted (or is being asked to accept). The Paho callback
 * context; freed when Paho reports on it, or by mqtt_mtp_free() for sends
 * Paho never reported on. msg is NULL once the message went back to the
 * out-queue (reconnect without a session), so a late report is ignored. */
struct live_send {
	struct live_send *prev, *next;
	struct mqtt_mtp *m;
	struct out_msg *msg;
};

/* One in-queue entry: the event and the bytes it points into. */
struct in_item {
	struct in_item *next;
	struct mqtt_mtp_event ev;
	char data[];
};

struct mqtt_mtp {
	/* Configuration (owned copies). */
	struct mqtt_mtp_config cfg;
	char *url, *client_id, *endpoint_id, *username, *password;
	char *ca_file, *cert_file, *key_file, *response_topic;
	char *sub_list[MQTT_MTP_MAX_SUBS + 1];
	int qos_list[MQTT_MTP_MAX_SUBS + 1];
	int n_subs;
	int tls;

	MQTTAsync cli;
	MQTTProperties pub_props;   /* content type + response topic; read-only */
	MQTTProperties conn_props;
	MQTTProperties sub_props;
	MQTTAsync_SSLOptions ssl;
	int wake_fd;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t space_cond;  /* in-queue space freed (next_event) */
	pthread_t conn_thread;
	int thread_started;

	/* Everything below: under lock. */
	enum mtp_state state;
	int need_connect, need_subscribe, need_disconnect;
	int quit, stopping;
	int wake_pending;
	int attempt;                /* failed connects since the last success */
	struct timespec retry_at;   /* CLOCK_MONOTONIC, in BACKOFF */
	int window;
	uint32_t broker_max_packet; /* 0: none announced */
	int ever_connected;
	int last_disc_code;
	uint64_t rng;

	struct in_item *in_head, *in_tail;
	size_t in_count, in_bytes;
	int in_blocked;
	uint64_t in_pops;           /* events taken by the core, ever */
	struct out_msg *out_head, *out_tail;
	size_t out_count;
	struct live_send *live;
	size_t inflight;
	int disc_done;

	struct mqtt_mtp_stats st;
};

/* ---- small helpers ------------------------------------------------------ */

static void now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static int64_t ms_until(const struct timespec *t)
{
	struct timespec n;

	now_mono(&n);
	return (int64_t)(t->tv_sec - n.tv_sec) * 1000 + (t->tv_nsec - n.tv_nsec) / 1000000;
}

static void ts_add_ms(struct timespec *ts, int64_t ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* pthread_cond_timedwait on CLOCK_MONOTONIC for at most ms. */
static void cond_wait_ms(struct mqtt_mtp *m, int64_t ms)
{
	struct timespec ts;

	now_mono(&ts);
	ts_add_ms(&ts, ms < 0 ? 0 : ms);
	pthread_cond_timedwait(&m->cond, &m->lock, &ts);
}

static uint64_t rng_next(struct mqtt_mtp *m)
{
	uint64_t x = m->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return m->rng = x;
}

static char *dup_opt(const char *s)
{
	return (s && *s) ? strdup(s) : NULL;
}

/* Under lock: make the wake fd readable (once until the core clears it). */
static void wake_core(struct mqtt_mtp *m)
{
	uint64_t one = 1;

	if (m->wake_pending)
		return;
	if (write(m->wake_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		m->wake_pending = 1;
}

/* Under lock. */
static void move_state(struct mqtt_mtp *m, enum mtp_state to, const char *event)
{
	if (m->state == to) {
		log_debug(COMP, "%s --%s--> %s", state_names[m->state], event, state_names[to]);
		return;
	}
	log_info(COMP, "%s --%s--> %s", state_names[m->state], event, state_names[to]);
	m->state = to;
	m->st.connected = (to == ST_CONNECTED);
	pthread_cond_broadcast(&m->cond);
}

/* Under lock: append a control event (CONNECTED, DISCONNECTED,
 * PUBLISH_FAILED). A copy of topic (may be NULL) lives in the item. */
static struct in_item *push_control(struct mqtt_mtp *m, enum mqtt_mtp_event_kind kind,
				     const char *topic, int reason_code, const char *reason)
{
	size_t tl = topic ? strlen(topic) + 1 : 0;
	struct in_item *it = calloc(1, sizeof(*it) + tl);

	if (!it) {
		log_error(COMP, "out of memory queueing a %d event", (int)kind);
		return NULL;
	}
	it->ev.kind = kind;
	if (topic) {
		memcpy(it->data, topic, tl);
		it->ev.topic = it->data;
	}
	it->ev.reason_code = reason_code;
	snprintf(it->ev.reason, sizeof(it->ev.reason), "%s", reason ? reason : "");
	it->ev.session_present = 0;
	it->ev.window = m->window;
	if (m->in_tail)
		m->in_tail->next = it;
	else
		m->in_head = it;
	m->in_tail = it;
	wake_core(m);
	return it;
}

/* Under lock. */
static void out_push_head(struct mqtt_mtp *m, struct out_msg *om)
{
	om->next = m->out_head;
	m->out_head = om;
	if (!m->out_tail)
		m->out_tail = om;
	m->out_count++;
}

static void out_push_tail(struct mqtt_mtp *m, struct out_msg *om)
{
	om->next = NULL;
	if (m->out_tail)
		m->out_tail->next = om;
	else
		m->out_head = om;
	m->out_tail = om;
	m->out_count++;
}

static struct out_msg *out_pop(struct mqtt_mtp *m)
{
	struct out_msg *om = m->out_head;

	if (!om)
		return NULL;
	m->out_head = om->next;
	if (!m->out_head)
		m->out_tail = NULL;
	m->out_count--;
	om->next = NULL;
	return om;
}

static void live_unlink(struct mqtt_mtp *m, struct live_send *ls)
{
	if (ls->prev)
		ls->prev->next = ls->next;
	else
		m->live = ls->next;
	if (ls->next)
		ls->next->prev = ls->prev;
}

/* Under lock: give up on a message: count it, tell the core, free it. */
static void fail_msg(struct mqtt_mtp *m, struct out_msg *om, int code, const char *why)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "%s after %d attempt(s)", why, om->attempts);
	m->st.publish_failures++;
	log_warn(COMP, "publish to %s given up: %s (code %d)", om->topic, reason, code);
	push_control(m, MQTT_MTP_EV_PUBLISH_FAILED, om->topic, code, reason);
	free(om);
}

/* Under lock: take every message Paho still holds back into the out-queue
 * (the session that held them is gone), oldest first at the head. */
static void requeue_live(struct mqtt_mtp *m)
{
	struct live_send *ls;
	size_t n = 0;

	for (ls = m->live; ls; ls = ls->next) {
		if (!ls->msg)
			continue;
		out_push_head(m, ls->msg);
		ls->msg = NULL;
		m->inflight--;
		m->st.publish_retries++;
		n++;
	}
	if (n)
		log_info(COMP, "%zu unacknowledged publish(es) queued again after reconnect", n);
}

/* ---- 3.1.1 reply-to helpers (pure) ------------------------------------- */

int mqtt_mtp_parse_reply_to(const char *topic, char *out, size_t out_size)
{
	const char *slash, *enc;
	size_t o = 0;

	if (!topic || !out || out_size == 0)
		return MQTT_MTP_E_INVAL;
	slash = strrchr(topic, '/');
	if (!slash || strncmp(slash + 1, REPLY_TO_TAG, strlen(REPLY_TO_TAG)) != 0)
		return 0;
	enc = slash + 1 + strlen(REPLY_TO_TAG);
	if (*enc == '\0')
		return MQTT_MTP_E_INVAL;
	while (*enc) {
		char c = *enc;

		if (c == '%' && enc[1] == '2' && (enc[2] == 'F' || enc[2] == 'f')) {
			c = '/';
			enc += 3;
		} else {
			enc++;
		}
		if (c == '+' || c == '#' || o + 1 >= out_size)
			return MQTT_MTP_E_INVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	return 1;
}

int mqtt_mtp_build_reply_to(const char *dest, const char *reply, char *out, size_t out_size)
{
	size_t o, dl;

	if (!dest || !reply || !out || !*dest || !*reply)
		return MQTT_MTP_E_INVAL;
	dl = strlen(dest);
	if (dl + 1 + strlen(REPLY_TO_TAG) >= out_size)
		return MQTT_MTP_E_TOOBIG;
	memcpy(out, dest, dl);
	o = dl;
	out[o++] = '/';
	memcpy(out + o, REPLY_TO_TAG, strlen(REPLY_TO_TAG));
	o += strlen(REPLY_TO_TAG);
	for (; *reply; reply++) {
		size_t need = (*reply == '/') ? 3 : 1;

		if (o + need >= out_size)
			return MQTT_MTP_E_TOOBIG;
		if (*reply == '/') {
			memcpy(out + o, "%2F", 3);
		} else {
			out[o] = *reply;
		}
		o += need;
	}
	out[o] = '\0';
	return 0;
}

/* ---- Paho callbacks: copy, enqueue, signal; never block ---------------- */

static void schedule_retry(struct mqtt_mtp *m, const char *event);

/* A string-valued property, or NULL/0. */
static const char *prop_str(MQTTProperties *p, enum MQTTPropertyCodes code, size_t *len)
{
	MQTTProperty *pr = MQTTProperties_getProperty(p, code);

	*len = 0;
	if (!pr || !pr->value.data.data)
		return NULL;
	*len = (size_t)pr->value.data.len;
	return pr->value.data.data;
}

static const char *user_prop(MQTTProperties *p, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	*len = 0;
	for (int i = 0; i < p->count; i++) {
		MQTTProperty *pr = &p->array[i];

		if (pr->identifier != MQTTPROPERTY_CODE_USER_PROPERTY)
			continue;
		if ((size_t)pr->value.data.len == nl && memcmp(pr->value.data.data, name, nl) == 0) {
			*len = (size_t)pr->value.value.len;
			return pr->value.value.data;
		}
	}
	return NULL;
}

/* Copy len bytes + NUL into *cursor; return the copy (NULL if src NULL). */
static const char *put_str(char **cursor, const char *src, size_t len)
{
	char *d = *cursor;

	if (!src)
		return NULL;
	memcpy(d, src, len);
	d[len] = '\0';
	*cursor = d + len + 1;
	return d;
}

static struct in_item *build_message(const char *topic, size_t tlen, MQTTAsync_message *pm,
				     const char *reply_suffix)
{
	size_t rl, cl, el, sl = reply_suffix ? strlen(reply_suffix) : 0;
	const char *rt = prop_str(&pm->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, &rl);
	const char *ct = prop_str(&pm->properties, MQTTPROPERTY_CODE_CONTENT_TYPE, &cl);
	const char *eid = user_prop(&pm->properties, UP_ENDPOINT_ID, &el);
	size_t plen = (size_t)pm->payloadlen;
	struct in_item *it;
	char *cur;

	if (!rt && reply_suffix) {
		rt = reply_suffix;
		rl = sl;
	}
	it = malloc(sizeof(*it) + plen + 1 + tlen + 1 + rl + 1 + cl + 1 + el + 1);
	if (!it)
		return NULL;
	memset(&it->ev, 0, sizeof(it->ev));
	it->next = NULL;
	cur = it->data;
	it->ev.kind = MQTT_MTP_EV_MESSAGE;
	it->ev.payload = (const uint8_t *)put_str(&cur, pm->payload ? pm->payload : "", plen);
	it->ev.len = plen;
	it->ev.topic = put_str(&cur, topic, tlen);
	it->ev.response_topic = put_str(&cur, rt, rl);
	it->ev.reply_via_suffix = (rt && rt == reply_suffix);
	it->ev.content_type = put_str(&cur, ct, cl);
	it->ev.endpoint_id = put_str(&cur, eid, el);
	it->ev.dup = pm->dup;
	return it;
}

/* Logged at 1, 2, 4, 8, ... occurrences so a flood cannot flood the log. */
static int log_this_one(uint64_t count)
{
	return (count & (count - 1)) == 0;
}

static int in_full(struct mqtt_mtp *m, size_t plen)
{
	return m->in_count > 0 && (m->in_count >= m->cfg.in_queue_cap ||
				   m->in_bytes + plen > m->cfg.in_queue_max_bytes);
}

/* Paho's receive thread: wait while the in-queue is full and the core keeps
 * taking events (see the top of this file). 0 when there is room, -1 when
 * the core stalled for IN_STALL_MS or we are stopping. */
static int wait_for_space(struct mqtt_mtp *m, size_t plen)
{
	struct timespec progress;
	uint64_t pops;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	if (!in_full(m, plen))
		goto out;
	m->st.in_waits++;
	if (!m->in_blocked)
		log_info(COMP, "in-queue full (%zu messages, %zu bytes): holding the broker back",
			 m->in_count, m->in_bytes);
	m->in_blocked = 1;
	pops = m->in_pops;
	now_mono(&progress);
	while (in_full(m, plen)) {
		struct timespec ts;

		if (m->stopping || m->state == ST_STOPPED) {
			rc = -1;
			break;
		}
		if (m->in_pops != pops) {
			pops = m->in_pops;
			now_mono(&progress);
		} else if (-ms_until(&progress) >= IN_STALL_MS) {
			uint64_t n = ++m->st.in_deferred;

			log_warn(COMP, "core took no event for %d ms with the in-queue full: message left "
				 "with Paho (%" PRIu64 " so far)", IN_STALL_MS, n);
			rc = -1;
			break;
		}
		now_mono(&ts);
		ts_add_ms(&ts, 50);
		pthread_cond_timedwait(&m->space_cond, &m->lock, &ts);
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
{
	struct mqtt_mtp *m = ctx;
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	size_t plen = (size_t)(pm->payloadlen > 0 ? pm->payloadlen : 0);
	char reply[MQTT_MTP_MAX_TOPIC + 1];
	const char *suffix = NULL;
	struct in_item *it;
	uint64_t n;

	if (tlen > MQTT_MTP_MAX_TOPIC || memchr(topic, '\0', tlen)) {
		pthread_mutex_lock(&m->lock);
		n = ++m->st.in_dropped_bad_topic;
		pthread_mutex_unlock(&m->lock);
		if (log_this_one(n))
			log_warn(COMP, "dropped a message with a bad topic (%zu bytes; %" PRIu64 " so far)",
				 tlen, n);
		goto consumed;
	}
	if (plen > m->cfg.max_payload) {
		pthread_mutex_lock(&m->lock);
		n = ++m->st.in_dropped_too_big;
		pthread_mutex_unlock(&m->lock);
		if (log_this_one(n))
			log_warn(COMP, "dropped a %zu-byte message on %.*s: above max_payload %zu (%" PRIu64
				 " so far)", plen, (int)tlen, topic, m->cfg.max_payload, n);
		goto consumed;
	}
	if (mqtt_mtp_parse_reply_to(topic, reply, sizeof(reply)) == 1)
		suffix = reply;

	if (wait_for_space(m, plen) < 0)
		return 0; /* Paho keeps the message and offers it again */

	it = build_message(topic, tlen, pm, suffix);
	if (!it)
		return 0; /* out of memory: let Paho offer it again */

	pthread_mutex_lock(&m->lock);
	if (m->in_tail)
		m->in_tail->next = it;
	else
		m->in_head = it;
	m->in_tail = it;
	m->in_count++;
	m->in_bytes += plen;
	m->in_blocked = 0;
	wake_core(m);
	pthread_mutex_unlock(&m->lock);
consumed:
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
}

static void on_connection_lost(void *ctx, char *cause)
{
	struct mqtt_mtp *m = ctx;
	char reason[128];

	pthread_mutex_lock(&m->lock);
	snprintf(reason, sizeof(reason), "connection lost: %s", cause ? cause : "(no cause given)");
	m->st.disconnects++;
	if (m->state == ST_CONNECTED || m->state == ST_SUBSCRIBING) {
		log_warn(COMP, "%s", reason);
		push_control(m, MQTT_MTP_EV_DISCONNECTED, NULL, m->last_disc_code, reason);
	}
	m->last_disc_code = 0;
	if (m->state == ST_CONNECTED || m->state == ST_SUBSCRIBING || m->state == ST_CONNECTING)
		schedule_retry(m, "connection_lost");
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static void on_server_disconnect(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc)
{
	struct mqtt_mtp *m = ctx;

	log_warn(COMP, "broker sent DISCONNECT, reason 0x%02x (%s)", (unsigned)rc,
		 MQTTReasonCode_toString(rc));
	pthread_mutex_lock(&m->lock);
	m->last_disc_code = (int)rc;
	pthread_mutex_unlock(&m->lock);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_mtp *m = ctx;
	int recv_max = 65535, sp = r->alt.connect.sessionPresent;

	if (MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
		recv_max = MQTTProperties_getNumericValue(&r->properties,
							  MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
	pthread_mutex_lock(&m->lock);
	if (MQTTProperties_hasProperty(&r->properties, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE))
		m->broker_max_packet = (uint32_t)MQTTProperties_getNumericValue(
			&r->properties, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE);
	/* Stay below the broker's Receive Maximum: Paho 1.3.12's send thread
	 * stalls up to 1 s when it is reached (mqtt-clients.md). */
	m->window = m->cfg.max_inflight;
	if (recv_max > 1 && m->window > recv_max - 1)
		m->window = recv_max - 1;
	if (m->window < 1)
		m->window = 1;
	log_info(COMP, "CONNACK from %s: session_present=%d receive_maximum=%d window=%d", m->url, sp,
		 recv_max, m->window);
	m->attempt = 0;
	m->st.connects++;
	if (m->ever_connected)
		m->st.reconnects++;
	m->ever_connected = 1;
	if (!sp)
		requeue_live(m);
	if (m->state != ST_CONNECTING) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (sp && !m->cfg.clean_start) {
		move_state(m, ST_CONNECTED, "connack_session_present");
		struct in_item *it = push_control(m, MQTT_MTP_EV_CONNECTED, NULL, 0, "session present");

		if (it)
			it->ev.session_present = 1;
	} else {
		move_state(m, ST_SUBSCRIBING, "connack");
		m->need_subscribe = 1;
	}
	pthread_mutex_unlock(&m->lock);
}

/* Under lock: schedule the next connect attempt. */
static void schedule_retry(struct mqtt_mtp *m, const char *event)
{
	int64_t d = m->cfg.reconnect_min_ms;

	for (int i = 0; i < m->attempt && d < m->cfg.reconnect_max_ms; i++)
		d *= 2;
	if (d > m->cfg.reconnect_max_ms)
		d = m->cfg.reconnect_max_ms;
	d = d / 2 + (int64_t)(rng_next(m) % (uint64_t)(d / 2 + 1)); /* equal jitter */
	m->attempt++;
	now_mono(&m->retry_at);
	ts_add_ms(&m->retry_at, d);
	log_info(COMP, "reconnecting to %s in %" PRId64 " ms (attempt %d)", m->url, d, m->attempt);
	move_state(m, ST_BACKOFF, event);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_mtp *m = ctx;

	pthread_mutex_lock(&m->lock);
	m->st.connect_failures++;
	log_warn(COMP, "connect to %s failed: %s (code %d, reason 0x%02x %s)", m->url,
		 r && r->message ? r->message : "no detail", r ? r->code : 0,
		 r ? (unsigned)r->reasonCode : 0u,
		 r ? MQTTReasonCode_toString(r->reasonCode) : "");
	if (m->state == ST_CONNECTING)
		schedule_retry(m, "connect_failed");
	pthread_mutex_unlock(&m->lock);
}

static void on_subscribe_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_mtp *m = ctx;
	int n = r->alt.sub.reasonCodeCount, failed = 0, reply_failed = 0;

	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < m->n_subs; i++) {
		int code = (n > 1 && r->alt.sub.reasonCodes) ? (int)r->alt.sub.reasonCodes[i]
							     : (int)r->reasonCode;
		if (code >= 0x80) {
			failed++;
			reply_failed |= (i == m->n_subs - 1);
			log_error(COMP, "broker refused subscription %s: 0x%02x %s", m->sub_list[i],
				  (unsigned)code, MQTTReasonCode_toString((enum MQTTReasonCodes)code));
		} else if (code < 1) {
			log_warn(COMP, "subscription %s granted with QoS 0 only", m->sub_list[i]);
		}
	}
	m->st.subscribe_failures += (uint64_t)failed;
	if (m->state != ST_SUBSCRIBING) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (reply_failed || failed == m->n_subs) {
		/* R-MQTT.17: without subscriptions, do not publish: disconnect. */
		m->need_disconnect = 1;
		schedule_retry(m, "subscribe_refused");
	} else {
		log_info(COMP, "subscribed to %d topic filter(s)", m->n_subs - failed);
		move_state(m, ST_CONNECTED, "suback");
		push_control(m, MQTT_MTP_EV_CONNECTED, NULL, 0, "subscribed");
	}
	pthread_mutex_unlock(&m->lock);
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_mtp *m = ctx;

	pthread_mutex_lock(&m->lock);
	m->st.subscribe_failures++;
	log_error(COMP, "subscribe failed: %s (code %d, reason 0x%02x)",
		  r && r->message ? r->message : "no detail", r ? r->code : 0,
		  r ? (unsigned)r->reasonCode : 0u);
	if (m->state == ST_SUBSCRIBING) {
		m->need_disconnect = 1;
		schedule_retry(m, "subscribe_failed");
	}
	pthread_mutex_unlock(&m->lock);
}

/* PUBACK (or a failure) for one send. */
static void settle_send(struct live_send *ls, int ok, int code, const char *why)
{
	struct mqtt_mtp *m = ls->m;
	struct out_msg *om;

	pthread_mutex_lock(&m->lock);
	live_unlink(m, ls);
	om = ls->msg;
	if (om) {
		m->inflight--;
		if (ok) {
			m->st.msgs_out++;
			m->st.bytes_out += om->len;
			free(om);
		} else if (code == MQTTASYNC_OPERATION_INCOMPLETE || code == MQTTASYNC_DISCONNECTED) {
			out_push_head(m, om); /* connection went away: send again later */
			m->st.publish_retries++;
		} else if ((code >= 0x80 && code != MQTTREASONCODE_QUOTA_EXCEEDED) ||
			   ++om->attempts >= MQTT_MTP_MAX_ATTEMPTS) {
			fail_msg(m, om, code, why);
		} else {
			out_push_head(m, om);
			m->st.publish_retries++;
		}
		if (m->out_head)
			wake_core(m);
	}
	pthread_cond_broadcast(&m->cond); /* a draining stop() waits on this */
	pthread_mutex_unlock(&m->lock);
	free(ls);
}

static void on_publish_ok(void *ctx, MQTTAsync_successData5 *r)
{
	if (r && r->reasonCode >= 0x80)
		settle_send(ctx, 0, (int)r->reasonCode, MQTTReasonCode_toString(r->reasonCode));
	else
		settle_send(ctx, 1, 0, NULL);
}

static void on_publish_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	int code = r ? (r->reasonCode >= 0x80 ? (int)r->reasonCode : r->code) : MQTTASYNC_FAILURE;
	const char *why = r && r->message ? r->message
		: (r && r->reasonCode >= 0x80 ? MQTTReasonCode_toString(r->reasonCode) : "send failed");

	settle_send(ctx, 0, code, why);
}

static int on_ssl_error(const char *str, size_t len, void *u)
{
	log_warn(COMP, "TLS: %.*s", (int)len, str);
	return 0;
}

static void on_disconnect_done(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_mtp *m = ctx;

	pthread_mutex_lock(&m->lock);
	m->disc_done = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	on_disconnect_done(ctx, NULL);
}

/* ---- mtp-conn thread: connect, subscribe, back-off --------------------- */

static void do_connect(struct mqtt_mtp *m)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer5;
	int rc;

	co.keepAliveInterval = m->cfg.keepalive_s;
	co.cleanstart = m->cfg.clean_start ? 1 : 0;
	co.connectTimeout = m->cfg.connect_timeout_s;
	co.username = m->username;
	co.password = m->password;
	co.connectProperties = &m->conn_props;
	co.onSuccess5 = on_connect_ok;
	co.onFailure5 = on_connect_fail;
	co.context = m;
	co.ssl = m->tls ? &m->ssl : NULL;
	co.automaticReconnect = 0;
	rc = MQTTAsync_connect(m->cli, &co);
	if (rc == MQTTASYNC_SUCCESS)
		return;
	pthread_mutex_lock(&m->lock);
	m->st.connect_failures++;
	log_warn(COMP, "connect to %s not started: %s (%d)", m->url, MQTTAsync_strerror(rc), rc);
	if (m->state == ST_CONNECTING)
		schedule_retry(m, "connect_refused");
	pthread_mutex_unlock(&m->lock);
}

static void do_subscribe(struct mqtt_mtp *m)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	ro.onSuccess5 = on_subscribe_ok;
	ro.onFailure5 = on_subscribe_fail;
	ro.context = m;
	ro.properties = m->sub_props;
	rc = MQTTAsync_subscribeMany(m->cli, m->n_subs, m->sub_list, m->qos_list, &ro);
	if (rc == MQTTASYNC_SUCCESS)
		return;
	pthread_mutex_lock(&m->lock);
	m->st.subscribe_failures++;
	log_error(COMP, "subscribe not started: %s (%d)", MQTTAsync_strerror(rc), rc);
	if (m->state == ST_SUBSCRIBING) {
		m->need_disconnect = 1;
		schedule_retry(m, "subscribe_refused");
	}
	pthread_mutex_unlock(&m->lock);
}

static void do_disconnect(struct mqtt_mtp *m, int timeout_ms, int notify)
{
	MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;

	d.timeout = timeout_ms;
	if (notify) {
		d.onSuccess5 = on_disconnect_done;
		d.onFailure5 = on_disconnect_fail;
		d.context = m;
	}
	if (MQTTAsync_disconnect(m->cli, &d) != MQTTASYNC_SUCCESS && notify)
		on_disconnect_done(m, NULL);
}

static void *conn_main(void *arg)
{
	struct mqtt_mtp *m = arg;

	pthread_mutex_lock(&m->lock);
	while (!m->quit) {
		if (m->need_disconnect) {
			m->need_disconnect = 0;
			pthread_mutex_unlock(&m->lock);
			do_disconnect(m, 0, 0);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->need_connect) {
			m->need_connect = 0;
			pthread_mutex_unlock(&m->lock);
			do_connect(m);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->need_subscribe) {
			m->need_subscribe = 0;
			pthread_mutex_unlock(&m->lock);
			do_subscribe(m);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->state == ST_BACKOFF) {
			int64_t left = ms_until(&m->retry_at);

			if (left <= 0) {
				move_state(m, ST_CONNECTING, "retry");
				m->need_connect = 1;
				continue;
			}
			cond_wait_ms(m, left < 200 ? left : 200);
		} else {
			cond_wait_ms(m, 200);
		}
		/* Safety net: work waits and the window has room (e.g. after
		 * Paho's MAX_BUFFERED_MESSAGES): make the core pump. */
		if (m->state == ST_CONNECTED && m->out_head && m->inflight < (size_t)m->window)
			wake_core(m);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* ---- construction ------------------------------------------------------- */

void mqtt_mtp_config_init(struct mqtt_mtp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->keepalive_s = 60;
	cfg->clean_start = 1;
	cfg->connect_timeout_s = 10;
	cfg->response_topic_wildcard = 1;
	cfg->max_inflight = 100;
	cfg->out_queue_cap = 10000;
	cfg->in_queue_cap = 10000;
	cfg->in_queue_max_bytes = 64u << 20;
	cfg->max_payload = 1u << 20;
	cfg->reconnect_min_ms = 500;
	cfg->reconnect_max_ms = 30000;
}

static int check_file(const char *what, const char *path, struct uspc_err *err)
{
	if (path && *path && access(path, R_OK) != 0)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: cannot read %s %s: %s", what, path,
				    strerror(errno));
	return 0;
}

static int check_config(const struct mqtt_mtp_config *c, struct uspc_err *err)
{
	size_t rl;

	if (!c->broker_url || !*c->broker_url)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no broker URL");
	if (!c->endpoint_id || !*c->endpoint_id)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no endpoint id");
	if (!c->response_topic || !*c->response_topic || strpbrk(c->response_topic, "+#"))
		return uspc_err_set(err, MQTT_MTP_E_INVAL,
				    "mqtt: response topic must be a non-empty topic without wildcards");
	rl = strlen(c->response_topic);
	if (rl * 3 + 64 > MQTT_MTP_MAX_TOPIC)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: response topic too long (%zu bytes)", rl);
	if (c->n_sub_topics > MQTT_MTP_MAX_SUBS || (c->n_sub_topics && !c->sub_topics))
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: at most %d subscription topics",
				    MQTT_MTP_MAX_SUBS);
	for (size_t i = 0; i < c->n_sub_topics; i++)
		if (!c->sub_topics[i] || !*c->sub_topics[i] ||
		    strlen(c->sub_topics[i]) > MQTT_MTP_MAX_TOPIC)
			return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: subscription topic %zu is empty "
					    "or too long", i);
	if (c->keepalive_s < 0 || c->keepalive_s > 65535 || c->connect_timeout_s < 1)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: keepalive must be 0..65535 s and the "
				    "connect timeout at least 1 s");
	if (c->max_inflight < 1 || c->max_inflight > 65535)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: max_inflight must be 1..65535");
	if (c->out_queue_cap < 1 || c->in_queue_cap < 1)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: queue capacities must be at least 1");
	if (c->max_payload < 1 || c->max_payload > (256u << 20) ||
	    c->in_queue_max_bytes < c->max_payload)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: max_payload must be 1 B..256 MiB and "
				    "not above in_queue_max_bytes");
	if (c->reconnect_min_ms < 10 || c->reconnect_max_ms < c->reconnect_min_ms)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: reconnect_min_ms must be >= 10 and "
				    "<= reconnect_max_ms");
	if (!c->cert_file != !c->key_file)
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: a client certificate needs both "
				    "cert_file and key_file");
	if (check_file("CA file", c->ca_file, err) || check_file("certificate", c->cert_file, err) ||
	    check_file("key", c->key_file, err))
		return MQTT_MTP_E_INVAL;
	return 0;
}

/* "mqtt://h:p" → "tcp://h:p", "mqtts://h:p" → "ssl://h:p". */
static int convert_url(struct mqtt_mtp *m, const char *url, struct uspc_err *err)
{
	static const struct { const char *in, *out; int tls; } schemes[] = {
		{ "mqtt://", "tcp://", 0 }, { "tcp://", "tcp://", 0 },
		{ "mqtts://", "ssl://", 1 }, { "ssl://", "ssl://", 1 },
	};

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t l = strlen(schemes[i].in);
		const char *rest = url + l;

		if (strncmp(url, schemes[i].in, l) != 0)
			continue;
		if (!*rest || strchr(rest, '/'))
			return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: bad broker URL %s (want "
					    "mqtt://host:port or mqtts://host:port)", url);
		if (asprintf(&m->url, "%s%s", schemes[i].out, rest) < 0)
			return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
		m->tls = schemes[i].tls;
		return 0;
	}
	return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: unsupported broker URL scheme in %s "
			    "(want mqtt:// or mqtts://)", url);
}

static int add_prop(MQTTProperties *p, enum MQTTPropertyCodes id, const char *name,
		    const char *value, int num)
{
	MQTTProperty pr;

	memset(&pr, 0, sizeof(pr));
	pr.identifier = id;
	if (name) {
		pr.value.data.data = (char *)name;
		pr.value.data.len = (int)strlen(name);
		pr.value.value.data = (char *)value;
		pr.value.value.len = (int)strlen(value);
	} else if (value) {
		pr.value.data.data = (char *)value;
		pr.value.data.len = (int)strlen(value);
	} else {
		pr.value.integer4 = (unsigned int)num;
	}
	return MQTTProperties_add(p, &pr) == 0 ? 0 : MQTT_MTP_E_NOMEM;
}

static int copy_config(struct mqtt_mtp *m, const struct mqtt_mtp_config *c, struct uspc_err *err)
{
	uint8_t rnd[4] = { 0 };
	const char *rt = c->response_topic;

	m->endpoint_id = strdup(c->endpoint_id);
	m->response_topic = strdup(rt);
	m->username = dup_opt(c->username);
	m->password = dup_opt(c->password);
	m->ca_file = dup_opt(c->ca_file);
	m->cert_file = dup_opt(c->cert_file);
	m->key_file = dup_opt(c->key_file);
	if (c->client_id && *c->client_id) {
		m->client_id = strdup(c->client_id);
	} else {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			memcpy(rnd, &m, sizeof(rnd) < sizeof(m) ? sizeof(rnd) : sizeof(m));
		if (asprintf(&m->client_id, "%s-%02x%02x%02x%02x", c->endpoint_id, rnd[0], rnd[1],
			     rnd[2], rnd[3]) < 0)
			m->client_id = NULL;
	}
	for (size_t i = 0; i < c->n_sub_topics; i++) {
		m->sub_list[m->n_subs] = strdup(c->sub_topics[i]);
		m->qos_list[m->n_subs++] = 1;
	}
	/* The reply topic goes last (on_subscribe_ok relies on it). */
	if (c->response_topic_wildcard) {
		if (asprintf(&m->sub_list[m->n_subs], "%s/#", rt) < 0)
			m->sub_list[m->n_subs] = NULL;
	} else {
		m->sub_list[m->n_subs] = strdup(rt);
	}
	m->qos_list[m->n_subs++] = 1;
	for (int i = 0; i < m->n_subs; i++)
		if (!m->sub_list[i])
			return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
	if (!m->endpoint_id || !m->response_topic || !m->client_id ||
	    (c->username && *c->username && !m->username) ||
	    (c->password && *c->password && !m->password) ||
	    (c->ca_file && *c->ca_file && !m->ca_file) || (c->cert_file && !m->cert_file) ||
	    (c->key_file && !m->key_file))
		return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
	m->cfg = *c;
	m->cfg.broker_url = m->cfg.client_id = m->cfg.username = m->cfg.password = NULL;
	m->cfg.sub_topics = NULL;
	return 0;
}

static int setup_paho(struct mqtt_mtp *m, struct uspc_err *err)
{
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
	uint32_t max_packet = (uint32_t)(m->cfg.max_payload + MQTT_MTP_MAX_TOPIC + 4096);
	int rc;

	co.maxBufferedMessages = m->cfg.max_inflight + 64;
	rc = MQTTAsync_createWithOptions(&m->cli, m->url, m->client_id, MQTTCLIENT_PERSISTENCE_NONE,
					 NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		m->cli = NULL;
		return uspc_err_set(err, MQTT_MTP_E_PAHO, "mqtt: cannot create client for %s: %s (%d)",
				    m->url, MQTTAsync_strerror(rc), rc);
	}
	if (MQTTAsync_setCallbacks(m->cli, m, on_connection_lost, on_message, NULL) != 0 ||
	    MQTTAsync_setDisconnected(m->cli, m, on_server_disconnect) != 0)
		return uspc_err_set(err, MQTT_MTP_E_PAHO, "mqtt: cannot set Paho callbacks");
	if (add_prop(&m->pub_props, MQTTPROPERTY_CODE_CONTENT_TYPE, NULL, CONTENT_TYPE_USP, 0) ||
	    add_prop(&m->pub_props, MQTTPROPERTY_CODE_RESPONSE_TOPIC, NULL, m->response_topic, 0) ||
	    add_prop(&m->conn_props, MQTTPROPERTY_CODE_USER_PROPERTY, UP_ENDPOINT_ID, m->endpoint_id, 0) ||
	    add_prop(&m->conn_props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE, NULL, NULL, (int)max_packet) ||
	    (m->cfg.session_expiry_s &&
	     add_prop(&m->conn_props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, NULL, NULL,
		      (int)m->cfg.session_expiry_s)) ||
	    add_prop(&m->sub_props, MQTTPROPERTY_CODE_USER_PROPERTY, UP_ENDPOINT_ID, m->endpoint_id, 0))
		return uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
	if (m->tls) {
		MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;

		so.trustStore = m->ca_file;
		so.keyStore = m->cert_file;
		so.privateKey = m->key_file;
		so.enableServerCertAuth = !m->cfg.tls_insecure;
		so.verify = !m->cfg.tls_insecure;
		so.ssl_error_cb = on_ssl_error;
		so.ssl_error_context = m;
		m->ssl = so;
		if (m->cfg.tls_insecure)
			log_warn(COMP, "TLS verification of the broker is OFF (tls_insecure)");
	} else if (m->ca_file || m->cert_file) {
		return uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: TLS files given but the broker URL "
				    "is not mqtts://");
	}
	return 0;
}

struct mqtt_mtp *mqtt_mtp_new(const struct mqtt_mtp_config *cfg, struct uspc_err *err)
{
	struct mqtt_mtp *m = NULL;
	pthread_condattr_t ca;

	if (!cfg) {
		uspc_err_set(err, MQTT_MTP_E_INVAL, "mqtt: no configuration");
		return NULL;
	}
	if (check_config(cfg, err) < 0)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		uspc_err_set(err, MQTT_MTP_E_NOMEM, "out of memory");
		return NULL;
	}
	m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_cond_init(&m->space_cond, &ca);
	pthread_condattr_destroy(&ca);
	m->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)(uintptr_t)m ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ull;
	if (m->wake_fd < 0) {
		uspc_err_set(err, MQTT_MTP_E_SYS, "mqtt: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (convert_url(m, cfg->broker_url, err) < 0 || copy_config(m, cfg, err) < 0 ||
	    setup_paho(m, err) < 0)
		goto fail;
	log_info(COMP, "client %s for %s (endpoint %s, reply topic %s, %d subscription(s), window %d)",
		 m->client_id, m->url, m->endpoint_id, m->response_topic, m->n_subs,
		 m->cfg.max_inflight);
	return m;
fail:
	m->state = ST_STOPPED;
	mqtt_mtp_free(m);
	return NULL;
}

int mqtt_mtp_start(struct mqtt_mtp *m)
{
	int rc = 0;

	if (!m)
		return MQTT_MTP_E_INVAL;
	pthread_mutex_lock(&m->lock);
	if (m->state != ST_IDLE || m->thread_started) {
		rc = MQTT_MTP_E_STATE;
		goto out;
	}
	move_state(m, ST_CONNECTING, "start");
	m->need_connect = 1;
	if (pthread_create(&m->conn_thread, NULL, conn_main, m) != 0) {
		log_error(COMP, "cannot start the connection thread: %s", strerror(errno));
		m->state = ST_IDLE;
		rc = MQTT_MTP_E_SYS;
		goto out;
	}
	m->thread_started = 1;
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ---- core-thread API ---------------------------------------------------- */

int mqtt_mtp_wake_fd(const struct mqtt_mtp *m)
{
	return m ? m->wake_fd : -1;
}

int mqtt_mtp_next_event(struct mqtt_mtp *m, struct mqtt_mtp_event *ev)
{
	struct in_item *it;
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	it = m->in_head;
	if (!it) {
		if (m->wake_pending && read(m->wake_fd, &v, sizeof(v)) >= 0)
			m->wake_pending = 0;
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	m->in_head = it->next;
	if (!m->in_head)
		m->in_tail = NULL;
	m->in_pops++;
	if (m->in_blocked)
		pthread_cond_signal(&m->space_cond);
	if (it->ev.kind == MQTT_MTP_EV_MESSAGE) {
		m->in_count--;
		m->in_bytes -= it->ev.len;
		m->st.msgs_in++;
		m->st.bytes_in += it->ev.len;
	}
	pthread_mutex_unlock(&m->lock);
	*ev = it->ev;
	ev->priv_ = it;
	return 1;
}

void mqtt_mtp_event_fini(struct mqtt_mtp_event *ev)
{
	if (!ev)
		return;
	free(ev->priv_);
	memset(ev, 0, sizeof(*ev));
}

int mqtt_mtp_publish(struct mqtt_mtp *m, const char *topic, const void *payload, size_t len,
		     unsigned flags)
{
	char tbuf[MQTT_MTP_MAX_TOPIC + 1];
	const char *t = topic;
	struct out_msg *om;
	size_t tl;
	int rc;

	if (!m || !topic || !*topic || (!payload && len) || strpbrk(topic, "+#"))
		return MQTT_MTP_E_INVAL;
	if (flags & MQTT_MTP_PUB_V311) {
		rc = mqtt_mtp_build_reply_to(topic, m->response_topic, tbuf, sizeof(tbuf));
		if (rc < 0)
			return rc;
		t = tbuf;
	}
	tl = strlen(t);
	if (tl > MQTT_MTP_MAX_TOPIC || len > m->cfg.max_payload)
		return MQTT_MTP_E_TOOBIG;
	pthread_mutex_lock(&m->lock);
	if (m->stopping || m->state == ST_STOPPED)
		rc = MQTT_MTP_E_STATE;
	else if (m->broker_max_packet && len + tl + 128 > m->broker_max_packet)
		rc = MQTT_MTP_E_TOOBIG;
	else if (m->out_count >= m->cfg.out_queue_cap)
		rc = MQTT_MTP_E_BUSY;
	else
		rc = 0;
	if (rc == MQTT_MTP_E_BUSY)
		m->st.busy_returns++;
	pthread_mutex_unlock(&m->lock);
	if (rc < 0)
		return rc;

	om = malloc(sizeof(*om) + tl + 1 + len);
	if (!om)
		return MQTT_MTP_E_NOMEM;
	om->next = NULL;
	om->attempts = 0;
	om->len = len;
	om->topic = (char *)(om + 1);
	memcpy(om->topic, t, tl + 1);
	om->payload = (uint8_t *)om->topic + tl + 1;
	if (len)
		memcpy(om->payload, payload, len);
	pthread_mutex_lock(&m->lock);
	out_push_tail(m, om);
	pthread_mutex_unlock(&m->lock);
	mqtt_mtp_pump(m);
	return 0;
}

/* Hand one message to Paho (without m->lock). */
static int send_one(struct mqtt_mtp *m, struct live_send *ls, struct out_msg *om)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pm = MQTTAsync_message_initializer;

	ro.onSuccess5 = on_publish_ok;
	ro.onFailure5 = on_publish_fail;
	ro.context = ls;
	pm.payload = om->payload;
	pm.payloadlen = (int)om->len;
	pm.qos = 1;
	pm.retained = 0;
	pm.properties = m->pub_props;
	return MQTTAsync_sendMessage(m->cli, om->topic, &pm, &ro);
}

/* Under lock: Paho refused a send; settle what it did not take. */
static void send_refused(struct mqtt_mtp *m, struct live_send *ls, int rc)
{
	struct out_msg *om = ls->msg;

	live_unlink(m, ls);
	free(ls);
	if (!om)
		return; /* already requeued by a reconnect */
	m->inflight--;
	if (rc == MQTTASYNC_MAX_BUFFERED_MESSAGES) {
		m->st.paho_buffer_full++;
		out_push_head(m, om);
	} else if (rc == MQTTASYNC_DISCONNECTED) {
		out_push_head(m, om);
	} else if (++om->attempts >= MQTT_MTP_MAX_ATTEMPTS) {
		fail_msg(m, om, rc, MQTTAsync_strerror(rc));
	} else {
		log_warn(COMP, "Paho refused a publish to %s: %s (%d); will retry", om->topic,
			 MQTTAsync_strerror(rc), rc);
		out_push_head(m, om);
	}
}

int mqtt_mtp_pump(struct mqtt_mtp *m)
{
	int sent = 0;

	if (!m)
		return MQTT_MTP_E_INVAL;
	for (;;) {
		struct live_send *ls;
		struct out_msg *om;
		int rc;

		pthread_mutex_lock(&m->lock);
		if (m->state != ST_CONNECTED || !m->out_head || m->inflight >= (size_t)m->window) {
			pthread_mutex_unlock(&m->lock);
			break;
		}
		ls = calloc(1, sizeof(*ls));
		if (!ls) {
			pthread_mutex_unlock(&m->lock);
			break;
		}
		om = out_pop(m);
		ls->m = m;
		ls->msg = om;
		ls->next = m->live;
		if (m->live)
			m->live->prev = ls;
		m->live = ls;
		m->inflight++;
		pthread_mutex_unlock(&m->lock);

		rc = send_one(m, ls, om);
		if (rc == MQTTASYNC_SUCCESS) {
			sent++;
			continue;
		}
		pthread_mutex_lock(&m->lock);
		send_refused(m, ls, rc);
		pthread_mutex_unlock(&m->lock);
		break;
	}
	return sent;
}

/* ---- any thread ---------------------------------------------------------- */

void mqtt_mtp_get_stats(struct mqtt_mtp *m, struct mqtt_mtp_stats *st)
{
	pthread_mutex_lock(&m->lock);
	*st = m->st;
	st->in_queue_depth = m->in_count;
	st->in_queue_bytes = m->in_bytes;
	st->out_queue_depth = m->out_count;
	st->inflight = m->inflight;
	st->window = m->window;
	st->connected = (m->state == ST_CONNECTED);
	pthread_mutex_unlock(&m->lock);
}

int mqtt_mtp_is_connected(struct mqtt_mtp *m)
{
	int c;

	pthread_mutex_lock(&m->lock);
	c = (m->state == ST_CONNECTED);
	pthread_mutex_unlock(&m->lock);
	return c;
}

const char *mqtt_mtp_response_topic(const struct mqtt_mtp *m)
{
	return m->response_topic;
}

const char *mqtt_mtp_state_name(struct mqtt_mtp *m)
{
	const char *n;

	pthread_mutex_lock(&m->lock);
	n = state_names[m->state];
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* ---- shutdown ------------------------------------------------------------ */

/* Send what is queued until nothing is left or the deadline passes. */
static void drain(struct mqtt_mtp *m, int drain_timeout_ms)
{
	struct timespec deadline;

	now_mono(&deadline);
	ts_add_ms(&deadline, drain_timeout_ms > 0 ? drain_timeout_ms : 0);
	for (;;) {
		int64_t left;

		mqtt_mtp_pump(m);
		pthread_mutex_lock(&m->lock);
		left = ms_until(&deadline);
		if ((m->out_count == 0 && m->inflight == 0) || left <= 0) {
			pthread_mutex_unlock(&m->lock);
			return;
		}
		cond_wait_ms(m, left < 50 ? left : 50);
		pthread_mutex_unlock(&m->lock);
	}
}

int mqtt_mtp_stop(struct mqtt_mtp *m, int drain_timeout_ms)
{
	size_t left;
	int was_started;

	if (!m)
		return MQTT_MTP_E_INVAL;
	pthread_mutex_lock(&m->lock);
	if (m->state == ST_STOPPED && !m->thread_started) {
		pthread_mutex_unlock(&m->lock);
		return 0;
	}
	m->stopping = 1;
	pthread_cond_broadcast(&m->space_cond);
	was_started = m->thread_started;
	pthread_mutex_unlock(&m->lock);

	if (was_started)
		drain(m, drain_timeout_ms);

	pthread_mutex_lock(&m->lock);
	m->quit = 1;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	if (was_started)
		pthread_join(m->conn_thread, NULL);

	if (m->cli && MQTTAsync_isConnected(m->cli)) {
		struct timespec until;

		do_disconnect(m, 1000, 1);
		now_mono(&until);
		ts_add_ms(&until, 2000);
		pthread_mutex_lock(&m->lock);
		while (!m->disc_done && ms_until(&until) > 0)
			cond_wait_ms(m, ms_until(&until));
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_lock(&m->lock);
	m->thread_started = 0;
	move_state(m, ST_STOPPED, "stop");
	left = m->out_count + m->inflight;
	pthread_mutex_unlock(&m->lock);
	if (left) {
		log_error(COMP, "stopped with %zu publish(es) not acknowledged by the broker", left);
		return MQTT_MTP_E_TIMEOUT;
	}
	return 0;
}

void mqtt_mtp_free(struct mqtt_mtp *m)
{
	if (!m)
		return;
	if (m->state != ST_STOPPED || m->thread_started)
		mqtt_mtp_stop(m, 0);
	if (m->cli) {
		MQTTProperties_free(&m->pub_props);
		MQTTProperties_free(&m->conn_props);
		MQTTProperties_free(&m->sub_props);
		MQTTAsync_destroy(&m->cli);
	}
	/* No Paho callback can run any more. */
	while (m->in_head) {
		struct in_item *it = m->in_head;

		m->in_head = it->next;
		free(it);
	}
	while (m->out_head)
		free(out_pop(m));
	while (m->live) {
		struct live_send *ls = m->live;

		m->live = ls->next;
		free(ls->msg);
		free(ls);
	}
	if (m->wake_fd >= 0)
		close(m->wake_fd);
	pthread_cond_destroy(&m->cond);
	pthread_cond_destroy(&m->space_cond);
	pthread_mutex_destroy(&m->lock);
	if (m->password) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	for (int i = 0; i < m->n_subs; i++)
		free(m->sub_list[i]);
	free(m->url);
	free(m->client_id);
	free(m->endpoint_id);
	free(m->username);
	free(m->ca_file);
	free(m->cert_file);
	free(m->key_file);
	free(m->response_topic);
	free(m);
}
