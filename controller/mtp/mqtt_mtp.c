/*
 * mqtt_mtp.c — the controller's MQTT 5 transport over Paho MQTTAsync:
 * the public API the core thread calls, and the two queues between the
 * core and Paho (the connection itself lives in mqtt_mtp_conn.c).
 *
 * Owns: the bounded in-queue (Paho's arrival callback → core, drained by
 * mqtt_mtp_next_event); the out-queue and the in-flight window (core →
 * Paho: mqtt_mtp_publish / _pump, settled by Paho's PUBACK callbacks);
 * statistics; stop and free.
 *
 * Threads: the public functions run on the one core thread, except those
 * the header marks "any thread". mtp_on_message and the publish callbacks
 * run on Paho's threads: they only take m->lock, copy, enqueue and signal
 * (eventfd for the core, condvars for waiters). Paho is never called while
 * m->lock is held, so every send is prepared under the lock, made without
 * it, and settled under it again.
 *
 * Invariants (under m->lock): inflight == the number of live sends whose
 * msg is not NULL; a message is in exactly one place: the out-queue, a
 * live send, or freed after PUBACK / a PUBLISH_FAILED event; in_count and
 * in_bytes count MESSAGE items only (control events are few and uncapped),
 * and only those still in the shared in-queue: the core takes up to
 * TAKE_BATCH at a time into its private list, so at most in_queue_cap +
 * TAKE_BATCH arrivals are held, plus what arrives while the core is handing
 * publishes to Paho (below).
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
 * Paho's thread keeps the connection alive. During stop() it neither waits
 * nor refuses: it admits above the cap (in_over_cap), because a message left
 * with Paho is lost at the disconnect (Paho has acknowledged it already),
 * while one in the in-queue is still handed out by next_event() after
 * stop() returned.
 *
 * Paho runs the callback holding its client lock, and every publish the core
 * hands to Paho (send_one) takes that lock. So the callback never waits while
 * the core is in Paho (core_in_paho, set by mqtt_mtp_pump around its sends,
 * which wakes a waiting callback): it admits the arrival above the cap
 * (in_over_cap). Waiting there would leave each side waiting for the other
 * until IN_STALL_MS, once per arrival. Returning 0 instead would be worse
 * than admitting: Paho then queues every later arrival itself, without
 * calling us, reads the socket freely (no back-pressure at all) and offers
 * one queued message per network event. The overshoot is what Paho reads
 * while the core hands over one batch; the callback waits again as soon as
 * the core is out of Paho.
 */
#include "mqtt_mtp_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* ---- queue helpers (under lock) ------------------------------------------ */

void mtp_wake_core(struct mqtt_mtp *m)
{
	uint64_t one = 1;

	if (m->wake_pending)
		return;
	if (write(m->wake_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
		m->wake_pending = 1;
}

/* Under lock: append a control event (CONNECTED, DISCONNECTED,
 * PUBLISH_FAILED). A copy of topic (may be NULL) lives in the item. */
struct in_item *mtp_push_control(struct mqtt_mtp *m, enum mqtt_mtp_event_kind kind,
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
	mtp_wake_core(m);
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
	mtp_push_control(m, MQTT_MTP_EV_PUBLISH_FAILED, om->topic, code, reason);
	free(om);
}

/* Under lock: a message whose deadline passed before a hand-off to Paho:
 * count it and free it (no event: the caller gave the deadline and knows). */
static void expire_msg(struct mqtt_mtp *m, struct out_msg *om, int64_t now_ms)
{
	m->st.publish_expired++;
	log_debug(COMP, "publish to %s dropped: deadline passed %" PRId64 " ms ago (%d attempt(s))",
		  om->topic, now_ms - om->expires_at_ms, om->attempts);
	free(om);
}

/* Under lock: take every message Paho still holds back into the out-queue
 * (the session that held them is gone), oldest first at the head. */
void mtp_requeue_live(struct mqtt_mtp *m)
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
		log_info(COMP, "%zu unacknowledged publish(es) queued again (connection gone)", n);
}

/* ---- arrivals: Paho's receive thread ------------------------------------- */

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
 * taking events, unless the core is in Paho or we are stopping (see the top
 * of this file). 0 when the arrival may be queued, -1 when the core stalled
 * for IN_STALL_MS. */
static int wait_for_space(struct mqtt_mtp *m, size_t plen)
{
	struct timespec progress;
	uint64_t pops;
	int rc = 0;

	pthread_mutex_lock(&m->lock);
	if (!in_full(m, plen))
		goto out;
	/* Stopping: Paho has acknowledged this arrival already and will not
	 * offer it again once stop() disconnects; the core takes it after
	 * stop() returns (see mqtt_mtp_stop in the header). */
	if (m->core_in_paho || m->stopping || m->renewing || m->state == ST_STOPPED)
		goto over_cap;
	m->st.in_waits++;
	if (!m->in_blocked)
		log_info(COMP, "in-queue full (%zu messages, %zu bytes): holding the broker back",
			 m->in_count, m->in_bytes);
	m->in_blocked = 1;
	pops = m->in_pops;
	mtp_now(&progress);
	while (in_full(m, plen)) {
		struct timespec ts;

		if (m->core_in_paho || m->stopping || m->renewing || m->state == ST_STOPPED)
			goto over_cap;
		if (m->in_pops != pops) {
			pops = m->in_pops;
			mtp_now(&progress);
		} else if (-mtp_ms_until(&progress) >= IN_STALL_MS) {
			uint64_t n = ++m->st.in_deferred;

			log_warn(
				COMP,
				"core took no event for %d ms with the in-queue full: message left "
				"with Paho (%" PRIu64 " so far)",
				IN_STALL_MS, n);
			rc = -1;
			break;
		}
		mtp_now(&ts);
		mtp_ts_add_ms(&ts, 50);
		pthread_cond_timedwait(&m->space_cond, &m->lock, &ts);
	}
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
over_cap:
	m->st.in_over_cap++;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int mtp_on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm)
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
			log_warn(COMP,
				 "dropped a message with a bad topic (%zu bytes; %" PRIu64
				 " so far)",
				 tlen, n);
		goto consumed;
	}
	if (plen > m->cfg.max_payload) {
		pthread_mutex_lock(&m->lock);
		n = ++m->st.in_dropped_too_big;
		pthread_mutex_unlock(&m->lock);
		if (log_this_one(n))
			log_warn(
				COMP,
				"dropped a %zu-byte message on %.*s: above max_payload %zu (%" PRIu64
				" so far)",
				plen, (int)tlen, topic, m->cfg.max_payload, n);
		goto consumed;
	}
	if (mqtt_mtp_parse_reply_to(topic, reply, sizeof(reply)) == 1)
		suffix = reply;

	if (wait_for_space(m, plen) < 0)
		goto left_with_paho;
	it = mtp_build_message(topic, tlen, pm, suffix);
	if (!it)
		goto left_with_paho; /* out of memory */

	pthread_mutex_lock(&m->lock);
	if (m->in_tail)
		m->in_tail->next = it;
	else
		m->in_head = it;
	m->in_tail = it;
	m->in_count++;
	m->in_bytes += plen;
	m->in_blocked = 0;
	mtp_wake_core(m);
	pthread_mutex_unlock(&m->lock);
consumed:
	MQTTAsync_freeMessage(&pm);
	MQTTAsync_free(topic);
	return 1;
left_with_paho:
	/* Paho keeps the message and offers it again (while connected); a
	 * client holding one must not be replaced (mqtt_mtp_conn.c). */
	pthread_mutex_lock(&m->lock);
	m->paho_may_hold = 1;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* ---- publish completions: Paho's threads ---------------------------------- */

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
		} else if (code == MQTTASYNC_OPERATION_INCOMPLETE ||
			   code == MQTTASYNC_DISCONNECTED) {
			out_push_head(m, om); /* connection went away: send again later */
			m->st.publish_retries++;
		} else if (++om->attempts >= MQTT_MTP_MAX_ATTEMPTS ||
			   (code >= 0x80 && code != MQTTREASONCODE_QUOTA_EXCEEDED)) {
			/* A PUBACK reason >= 0x80 (e.g. 0x87 Not authorized) is
			 * final: sending it again would get the same answer. */
			fail_msg(m, om, code, why);
		} else {
			out_push_head(m, om);
			m->st.publish_retries++;
		}
		if (m->out_head)
			mtp_wake_core(m);
	}
	/* A draining stop() waits on m->cond; so does the mtp-conn thread, which
	 * must not be woken by every PUBACK (measured: one futex wake-up and a
	 * context switch per message). */
	if (m->stopping)
		pthread_cond_broadcast(&m->cond);
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
					  : (r && r->reasonCode >= 0x80
						     ? MQTTReasonCode_toString(r->reasonCode)
						     : "send failed");

	settle_send(ctx, 0, code, why);
}

/* ---- core-thread API ---------------------------------------------------- */

int mqtt_mtp_wake_fd(const struct mqtt_mtp *m)
{
	return m ? m->wake_fd : -1;
}

/* Under lock: move up to TAKE_BATCH events from the shared in-queue to the
 * core's private list, settling the in-queue's accounting as if each had
 * been taken. Returns how many moved. */
static size_t take_events(struct mqtt_mtp *m)
{
	struct in_item *first = m->in_head, *last = NULL, *it;
	size_t n = 0;

	for (it = first; it && n < TAKE_BATCH; it = it->next, n++) {
		last = it;
		if (it->ev.kind == MQTT_MTP_EV_MESSAGE) {
			m->in_count--;
			m->in_bytes -= it->ev.len;
			m->st.msgs_in++;
			m->st.bytes_in += it->ev.len;
		}
	}
	if (!n)
		return 0;
	m->in_head = last->next;
	if (!m->in_head)
		m->in_tail = NULL;
	last->next = NULL;
	m->taken = first;
	m->in_pops += n;
	if (m->in_blocked)
		pthread_cond_signal(&m->space_cond);
	return n;
}

int mqtt_mtp_next_event(struct mqtt_mtp *m, struct mqtt_mtp_event *ev)
{
	struct in_item *it;
	uint64_t v;

	if (!m->taken) {
		pthread_mutex_lock(&m->lock);
		if (!take_events(m)) {
			if (m->wake_pending && read(m->wake_fd, &v, sizeof(v)) >= 0)
				m->wake_pending = 0;
			pthread_mutex_unlock(&m->lock);
			return 0;
		}
		pthread_mutex_unlock(&m->lock);
	}
	it = m->taken;
	m->taken = it->next;
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

int64_t mqtt_mtp_now_ms(void)
{
	return mtp_now_ms();
}

/* Under lock, when the out-queue is full: drop what has expired there (a
 * broker outage leaves deadlines passing in the queue), at most once per
 * 100 ms so a caller retrying BUSY does not rescan the queue every time. */
static void purge_expired(struct mqtt_mtp *m)
{
	struct out_msg **pp = &m->out_head, *om;
	int64_t now = mtp_now_ms();

	if (now < m->next_purge_ms)
		return;
	m->next_purge_ms = now + 100;
	m->out_tail = NULL;
	while ((om = *pp) != NULL) {
		if (om->expires_at_ms && om->expires_at_ms <= now) {
			*pp = om->next;
			m->out_count--;
			expire_msg(m, om, now);
			continue;
		}
		m->out_tail = om;
		pp = &om->next;
	}
}

int mqtt_mtp_publish_ex(struct mqtt_mtp *m, const char *topic, const void *payload, size_t len,
			const struct mqtt_mtp_pub_opts *o)
{
	static const struct mqtt_mtp_pub_opts none;
	char tbuf[MQTT_MTP_MAX_TOPIC + 1];
	const char *t = topic;
	struct out_msg *om;
	size_t tl, rl = 0;
	int rc;

	if (!o)
		o = &none;
	if (!m || !topic || !*topic || (!payload && len) || strpbrk(topic, "+#") ||
	    o->expires_at_ms < 0)
		return MQTT_MTP_E_INVAL;
	if (o->response_topic) {
		rl = strnlen(o->response_topic, MQTT_MTP_MAX_TOPIC + 1);
		if (rl > MQTT_MTP_MAX_TOPIC)
			return MQTT_MTP_E_TOOBIG;
		if (!rl || strpbrk(o->response_topic, "+#"))
			return MQTT_MTP_E_INVAL;
	}
	if (o->flags & MQTT_MTP_PUB_V311) {
		const char *reply = o->response_topic
					    ? o->response_topic
					    : atomic_load_explicit(&m->reply, memory_order_acquire);

		if (!reply)
			return MQTT_MTP_E_STATE; /* reply topic not known before CONNACK */
		rc = mqtt_mtp_build_reply_to(topic, reply, tbuf, sizeof(tbuf));
		if (rc < 0)
			return rc;
		t = tbuf;
	}
	tl = strlen(t);
	if (tl > MQTT_MTP_MAX_TOPIC || len > m->cfg.max_payload)
		return MQTT_MTP_E_TOOBIG;
	/* Built before the lock so the checks and the enqueue take it once; a
	 * refused message is freed (E_BUSY copies nothing the caller keeps).
	 * One allocation: entry, topic, own Response Topic (if any), payload. */
	om = malloc(sizeof(*om) + tl + 1 + (rl ? rl + 1 : 0) + len);
	if (!om)
		return MQTT_MTP_E_NOMEM;
	om->next = NULL;
	om->attempts = 0;
	om->len = len;
	om->expires_at_ms = o->expires_at_ms;
	om->topic = (char *)(om + 1);
	memcpy(om->topic, t, tl + 1);
	om->reply = NULL;
	om->payload = (uint8_t *)om->topic + tl + 1;
	if (rl) {
		om->reply = om->topic + tl + 1;
		memcpy(om->reply, o->response_topic, rl);
		om->reply[rl] = '\0';
		om->payload += rl + 1;
	}
	if (len)
		memcpy(om->payload, payload, len);
	pthread_mutex_lock(&m->lock);
	if (m->out_count >= m->cfg.out_queue_cap)
		purge_expired(m);
	if (m->stopping || m->state == ST_STOPPED) {
		rc = MQTT_MTP_E_STATE;
	} else if (m->broker_max_packet && len + tl + rl + 128 > m->broker_max_packet) {
		rc = MQTT_MTP_E_TOOBIG;
	} else if (m->out_count >= m->cfg.out_queue_cap) {
		rc = MQTT_MTP_E_BUSY;
		m->st.busy_returns++;
	} else {
		rc = 0;
		out_push_tail(m, om);
	}
	pthread_mutex_unlock(&m->lock);
	if (rc < 0) {
		free(om);
		return rc;
	}
	mqtt_mtp_pump(m);
	return 0;
}

int mqtt_mtp_publish(struct mqtt_mtp *m, const char *topic, const void *payload, size_t len,
		     unsigned flags)
{
	struct mqtt_mtp_pub_opts o = { .flags = flags };

	return mqtt_mtp_publish_ex(m, topic, payload, len, &o);
}

/* Hand one message to Paho (without m->lock). expiry_s: the Message
 * Expiry Interval to send, 0 for none. Paho copies the properties, so the
 * list may live on this stack: a publish with neither its own Response
 * Topic nor a deadline (the common case) uses the shared list as is. */
static int send_one(struct mqtt_mtp *m, struct live_send *ls, struct out_msg *om, uint32_t expiry_s)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	MQTTProperty arr[3];

	ro.onSuccess5 = on_publish_ok;
	ro.onFailure5 = on_publish_fail;
	ro.context = ls;
	pm.payload = om->payload;
	pm.payloadlen = (int)om->len;
	pm.qos = 1;
	pm.retained = 0;
	if (!om->reply && !expiry_s)
		pm.properties = m->pub_props;
	else
		mtp_fill_pub_props(&pm.properties, arr,
				   om->reply
					   ? om->reply
					   : atomic_load_explicit(&m->reply, memory_order_acquire),
				   expiry_s);
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

/*
 * Moves up to PUMP_BATCH messages from the out-queue into live sends under
 * one lock, then hands them to Paho without it. When Paho refuses one, that
 * one is settled by send_refused() and the rest of the batch, never shown to
 * Paho, goes back to the head of the out-queue in its order. This is the
 * only hand-off to Paho (first sends and every re-send alike), so it is
 * where a deadline is checked and the Message Expiry Interval computed.
 */
int mqtt_mtp_pump(struct mqtt_mtp *m)
{
	struct live_send *batch[PUMP_BATCH];
	struct out_msg *msgs[PUMP_BATCH];
	uint32_t expiry[PUMP_BATCH];
	int sent = 0;

	if (!m)
		return MQTT_MTP_E_INVAL;
	for (;;) {
		int n = 0, i, rc = MQTTASYNC_SUCCESS;
		int64_t now = -1; /* read once per batch, only if a deadline needs it */

		pthread_mutex_lock(&m->lock);
		m->core_in_paho = 0;
		while (n < PUMP_BATCH && m->state == ST_CONNECTED && m->out_head &&
		       m->inflight < (size_t)m->window) {
			struct out_msg *om = m->out_head;
			struct live_send *ls;
			uint32_t es = 0;

			if (om->expires_at_ms) {
				if (now < 0)
					now = mtp_now_ms();
				es = mtp_expiry_s(om->expires_at_ms, now);
				if (!es) {
					expire_msg(m, out_pop(m), now);
					continue;
				}
			}
			ls = calloc(1, sizeof(*ls));
			if (!ls)
				break;
			ls->m = m;
			ls->msg = out_pop(m);
			ls->next = m->live;
			if (m->live)
				m->live->prev = ls;
			m->live = ls;
			m->inflight++;
			msgs[n] = ls->msg;
			expiry[n] = es;
			batch[n++] = ls;
		}
		if (n) {
			/* Paho's lock may be held by a callback waiting for the
			 * core: tell it not to wait (see the top of this file). */
			m->core_in_paho = 1;
			if (m->in_blocked)
				pthread_cond_signal(&m->space_cond);
		}
		pthread_mutex_unlock(&m->lock);
		if (!n)
			break;

		for (i = 0; i < n; i++) {
			/* msgs[i], not batch[i]->msg: a reconnect may move the
			 * message back to the out-queue meanwhile (then it is sent
			 * twice, which QoS 1 allows). It cannot be freed before
			 * this returns: only this thread sends from the out-queue,
			 * and a PUBACK for this send can only free it via ls->msg. */
			rc = send_one(m, batch[i], msgs[i], expiry[i]);
			if (rc != MQTTASYNC_SUCCESS)
				break;
			sent++;
		}
		if (i == n)
			continue;

		pthread_mutex_lock(&m->lock);
		m->core_in_paho = 0;
		send_refused(m, batch[i], rc);
		/* Never offered to Paho: back to the head, newest first so the
		 * oldest ends up in front. */
		for (int k = n - 1; k > i; k--) {
			struct live_send *ls = batch[k];

			live_unlink(m, ls);
			if (ls->msg) {
				m->inflight--;
				out_push_head(m, ls->msg);
			}
			free(ls);
		}
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
	const char *r = atomic_load_explicit(&((struct mqtt_mtp *)m)->reply, memory_order_acquire);

	return r ? r : "";
}

const char *mqtt_mtp_state_name(struct mqtt_mtp *m)
{
	const char *n;

	pthread_mutex_lock(&m->lock);
	n = mtp_state_names[m->state];
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* ---- shutdown ------------------------------------------------------------ */

/* Send what is queued until nothing is left or the deadline passes. */
static void drain(struct mqtt_mtp *m, int drain_timeout_ms)
{
	struct timespec deadline;

	mtp_now(&deadline);
	mtp_ts_add_ms(&deadline, drain_timeout_ms > 0 ? drain_timeout_ms : 0);
	for (;;) {
		int64_t left;

		mqtt_mtp_pump(m);
		pthread_mutex_lock(&m->lock);
		left = mtp_ms_until(&deadline);
		if ((m->out_count == 0 && m->inflight == 0) || left <= 0) {
			pthread_mutex_unlock(&m->lock);
			return;
		}
		mtp_cond_wait_ms(m, left < 50 ? left : 50);
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

		mtp_do_disconnect(m, 1000, 1);
		mtp_now(&until);
		mtp_ts_add_ms(&until, 2000);
		pthread_mutex_lock(&m->lock);
		while (!m->disc_done && mtp_ms_until(&until) > 0)
			mtp_cond_wait_ms(m, mtp_ms_until(&until));
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_lock(&m->lock);
	m->thread_started = 0;
	mtp_move_state(m, ST_STOPPED, "stop");
	left = m->out_count + m->inflight;
	pthread_mutex_unlock(&m->lock);
	if (left) {
		log_error(COMP, "stopped with %zu publish(es) not acknowledged by the broker",
			  left);
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
	if (m->cli)
		MQTTAsync_destroy(&m->cli);
	MQTTProperties_free(&m->pub_props);
	MQTTProperties_free(&m->conn_props);
	MQTTProperties_free(&m->sub_props);
	/* No Paho callback can run any more. */
	while (m->taken) {
		struct in_item *it = m->taken;

		m->taken = it->next;
		free(it);
	}
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
	mtp_sub_list_free(m->sub_list, m->n_subs);
	for (int i = 0; i < m->n_sub_cfg; i++)
		free(m->sub_cfg[i]);
	mtp_connack_info_fini(&m->connack);
	free(m->url);
	free(m->client_id);
	free(m->endpoint_id);
	free(m->username);
	free(m->ca_file);
	free(m->cert_file);
	free(m->key_file);
	if (atomic_load(&m->reply) != m->cfg_reply)
		free(atomic_load(&m->reply));
	free(m->cfg_reply);
	free(m->broker_host);
	free(m);
}
