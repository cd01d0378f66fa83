/*
 * mqtt_mtp_conn.c — the transport's connection: a named state machine
 * (idle → connecting → subscribing → connected, backoff between attempts,
 * stopped; one mtp_move_state() logs every transition), Paho's connect,
 * subscribe, disconnect and connection-lost callbacks, and the "mtp-conn"
 * thread that issues connect / subscribe / disconnect requests, waits out
 * the reconnect back-off (exponential, equal jitter), replaces the Paho
 * client after a loss when Paho would otherwise re-send publishes with a
 * stale Message Expiry Interval (renew_client) and, after each CONNACK,
 * turns TCP_NODELAY on for Paho's socket.
 *
 * Threads: the callbacks run on Paho's threads; they only take m->lock,
 * update state, queue control events for the core and set need_* flags
 * for mtp-conn. mtp-conn is the only thread here that calls Paho (never
 * with m->lock held), the only one that rebuilds the SUBSCRIBE list and
 * the only one that replaces m->cli (under lock, while the state is not
 * CONNECTED and the core is not in Paho, so no send uses the old client).
 *
 * Invariants (under m->lock): state CONNECTED implies the reply topic and
 * the publish properties are set (they never change afterwards); a
 * CONNECTED event is queued exactly once per connection that reaches
 * CONNECTED, a DISCONNECTED event once per such connection lost.
 */
#include "mqtt_mtp_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void schedule_retry(struct mqtt_mtp *m, const char *event);

const char *const mtp_state_names[] = {
#define X_(id, name) [ST_##id] = name,
	MTP_STATES(X_)
#undef X_
};

static uint64_t rng_next(struct mqtt_mtp *m)
{
	uint64_t x = m->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return m->rng = x;
}

/* Under lock. */
void mtp_move_state(struct mqtt_mtp *m, enum mtp_state to, const char *event)
{
	if (m->state == to) {
		log_debug(COMP, "%s --%s--> %s", mtp_state_names[m->state], event,
			  mtp_state_names[to]);
		return;
	}
	log_info(COMP, "%s --%s--> %s", mtp_state_names[m->state], event, mtp_state_names[to]);
	m->state = to;
	m->st.connected = (to == ST_CONNECTED);
	pthread_cond_broadcast(&m->cond);
}

/* Under lock: does Paho hold, across this connection loss, a publish with a
 * deadline? Paho keeps its unacknowledged publishes when it keeps its
 * session (clean_start 0 and a session expiry: it cleans only for a clean
 * start or a zero expiry) and sends them again itself right after a CONNACK
 * with session present, with the properties of the first send: the Message
 * Expiry Interval would be the one of then, and a deadline that passed
 * during the outage would not stop it. */
static int paho_keeps_deadlines(struct mqtt_mtp *m)
{
	if (m->cfg.clean_start || !m->cfg.session_expiry_s)
		return 0;
	for (struct live_send *ls = m->live; ls; ls = ls->next)
		if (ls->msg && ls->msg->expires_at_ms)
			return 1;
	return 0;
}

void mtp_on_connection_lost(void *ctx, char *cause)
{
	struct mqtt_mtp *m = ctx;
	char reason[128];

	pthread_mutex_lock(&m->lock);
	snprintf(reason, sizeof(reason), "connection lost: %s", cause ? cause : "(no cause given)");
	m->st.disconnects++;
	if (m->state == ST_CONNECTED || m->state == ST_SUBSCRIBING) {
		log_warn(COMP, "%s", reason);
		mtp_push_control(m, MQTT_MTP_EV_DISCONNECTED, NULL, m->last_disc_code, reason);
	}
	m->last_disc_code = 0;
	if (paho_keeps_deadlines(m))
		m->need_renew = 1;
	if (m->state == ST_CONNECTED || m->state == ST_SUBSCRIBING || m->state == ST_CONNECTING)
		schedule_retry(m, "connection_lost");
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

void mtp_on_server_disconnect(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc)
{
	struct mqtt_mtp *m = ctx;

	log_warn(COMP, "broker sent DISCONNECT, reason 0x%02x (%s)", (unsigned)rc,
		 MQTTReasonCode_toString(rc));
	pthread_mutex_lock(&m->lock);
	m->last_disc_code = (int)rc;
	pthread_mutex_unlock(&m->lock);
}

/* Under lock: settle the reply topic with what this CONNACK said
 * (R-MQTT.21). A configured topic wins; otherwise the broker's Response
 * Information is adopted once, at the first CONNACK that carries one, and
 * kept for the life of the handle: agents store it as our address, and
 * the publish properties the core thread reads must not change under it.
 * MQTT_MTP_E_STATE when there is still no reply topic (R-MQTT.22: do not
 * publish), MQTT_MTP_E_NOMEM. */
static int settle_reply(struct mqtt_mtp *m, const char *ri)
{
	char *cur = atomic_load_explicit(&m->reply, memory_order_relaxed);
	char *copy;

	if (cur) {
		if (ri && strcmp(ri, cur) != 0 && m->cfg_reply)
			log_info(COMP,
				 "broker offers Response Information %s; using the configured "
				 "reply topic %s",
				 ri, cur);
		else if (ri && strcmp(ri, cur) != 0)
			log_warn(COMP,
				 "broker now offers Response Information %s; keeping reply topic "
				 "%s adopted earlier",
				 ri, cur);
		return 0;
	}
	if (!ri) {
		log_error(COMP, "no reply topic: none configured and the broker sent no Response "
				"Information in CONNACK; not publishing");
		return MQTT_MTP_E_STATE;
	}
	copy = strdup(ri);
	if (!copy || mtp_build_pub_props(&m->pub_props, copy) < 0) {
		log_error(COMP, "out of memory adopting the broker's Response Information");
		MQTTProperties_free(&m->pub_props);
		free(copy);
		return MQTT_MTP_E_NOMEM;
	}
	log_info(COMP, "reply topic %s (the broker's Response Information)", copy);
	atomic_store_explicit(&m->reply, copy, memory_order_release);
	return 0;
}

/* Under lock: window, limits and counters from a CONNACK. */
static void connack_limits(struct mqtt_mtp *m, MQTTProperties *props, int sp)
{
	int recv_max = 65535;

	if (MQTTProperties_hasProperty(props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM))
		recv_max = MQTTProperties_getNumericValue(props, MQTTPROPERTY_CODE_RECEIVE_MAXIMUM);
	if (MQTTProperties_hasProperty(props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE))
		m->broker_max_packet = (uint32_t)MQTTProperties_getNumericValue(
			props, MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE);
	/* Stay below the broker's Receive Maximum: Paho 1.3.12's send thread
	 * stalls up to 1 s when it is reached (docs/design.md). */
	m->window = m->cfg.max_inflight;
	if (recv_max > 1 && m->window > recv_max - 1)
		m->window = recv_max - 1;
	if (m->window < 1)
		m->window = 1;
	log_info(COMP, "CONNACK from %s: session_present=%d receive_maximum=%d window=%d", m->url,
		 sp, recv_max, m->window);
	m->attempt = 0;
	m->st.connects++;
	if (m->ever_connected)
		m->st.reconnects++;
	m->ever_connected = 1;
}

static void on_connect_ok(void *ctx, MQTTAsync_successData5 *r)
{
	struct mqtt_mtp *m = ctx;
	struct mtp_connack_info ci;
	int sp = r->alt.connect.sessionPresent, ci_rc;

	ci_rc = mtp_connack_info_read(&r->properties, &ci);
	pthread_mutex_lock(&m->lock);
	connack_limits(m, &r->properties, sp);
	if (ci_rc < 0)
		log_error(COMP, "out of memory reading CONNACK properties; broker subscribe-topic "
				"values and Response Information ignored");
	if (ci.sub_topics_ignored)
		log_warn(COMP,
			 "ignored %d subscribe-topic value(s) from the broker (empty, too long or "
			 "beyond %d)",
			 ci.sub_topics_ignored, MTP_MAX_BROKER_SUBS);
	for (int i = 0; i < ci.n_sub_topics; i++)
		log_info(COMP, "broker asks us to subscribe to %s (subscribe-topic)",
			 ci.sub_topics[i]);
	mtp_connack_info_fini(&m->connack);
	m->connack = ci;
	if (!sp)
		mtp_requeue_live(m);
	if (m->state != ST_CONNECTING) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (settle_reply(m, ci.response_info) < 0) {
		m->need_disconnect = 1;
		schedule_retry(m, "no_reply_topic");
		pthread_mutex_unlock(&m->lock);
		return;
	}
	/* mtp-conn sets it before it subscribes (a new socket every time). */
	m->need_nodelay = m->cfg.tcp_nodelay;
	/* Subscribe even when the broker kept our session: an identical filter
	 * is replaced without losing queued messages (MQTT 5 §3.8.4), and a
	 * filter added to the configuration since the session began takes
	 * effect. */
	m->session_present = sp && !m->cfg.clean_start;
	mtp_move_state(m, ST_SUBSCRIBING,
		       m->session_present ? "connack_session_present" : "connack");
	m->need_subscribe = 1;
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
	mtp_now(&m->retry_at);
	mtp_ts_add_ms(&m->retry_at, d);
	log_info(COMP, "reconnecting to %s in %" PRId64 " ms (attempt %d)", m->url, d, m->attempt);
	mtp_move_state(m, ST_BACKOFF, event);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData5 *r)
{
	struct mqtt_mtp *m = ctx;

	pthread_mutex_lock(&m->lock);
	m->st.connect_failures++;
	log_warn(COMP, "connect to %s failed: %s (code %d, reason 0x%02x %s)", m->url,
		 r && r->message ? r->message : "no detail", r ? r->code : 0,
		 r ? (unsigned)r->reasonCode : 0u, r ? MQTTReasonCode_toString(r->reasonCode) : "");
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
				  (unsigned)code,
				  MQTTReasonCode_toString((enum MQTTReasonCodes)code));
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
		mtp_move_state(m, ST_CONNECTED, "suback");
		struct in_item *it =
			mtp_push_control(m, MQTT_MTP_EV_CONNECTED, NULL, 0, "subscribed");

		if (it)
			it->ev.session_present = m->session_present;
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

int mtp_on_ssl_error(const char *str, size_t len, void *u)
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
	int rc, n;

	ro.onSuccess5 = on_subscribe_ok;
	ro.onFailure5 = on_subscribe_fail;
	ro.context = m;
	ro.properties = m->sub_props;
	/* R-MQTT.15: configured filters, the broker's subscribe-topic values
	 * and our reply topic. Only this thread writes the list, under lock
	 * (on_subscribe_ok reads it); Paho copies what it is given. */
	pthread_mutex_lock(&m->lock);
	mtp_sub_list_free(m->sub_list, m->n_subs);
	m->n_subs = 0;
	n = mtp_sub_list_build(m->sub_list, MTP_MAX_ALL_SUBS, m->sub_cfg, m->n_sub_cfg,
			       m->connack.sub_topics, m->connack.n_sub_topics,
			       atomic_load_explicit(&m->reply, memory_order_relaxed),
			       m->cfg.response_topic_wildcard);
	m->n_subs = n > 0 ? n : 0;
	pthread_mutex_unlock(&m->lock);
	rc = n < 0 ? MQTTASYNC_FAILURE
		   : MQTTAsync_subscribeMany(m->cli, n, m->sub_list, m->qos_list, &ro);
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

void mtp_do_disconnect(struct mqtt_mtp *m, int timeout_ms, int notify)
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

/* Paho 1.3.12 never sets TCP_NODELAY on its socket and has no option for
 * it. With Nagle on, a small PUBLISH waits for the ACK of the previous
 * segment, which the broker delays (~40 ms): measured with one connection
 * at window 100, 3.0k round trips/s and p50 44 ms, against 17k/s and
 * 4.9 ms with NODELAY (docs/design.md). So after every CONNACK (a
 * reconnect is a new socket) mtp-conn finds the socket and sets it; see
 * mqtt_mtp_sock.c for how the socket is recognised. */
static void apply_nodelay(struct mqtt_mtp *m)
{
	char why[160] = "";
	int already = 0;
	int n = mtp_sock_nodelay(m->broker_host, m->broker_port, &already, why, sizeof(why));

	pthread_mutex_lock(&m->lock);
	if (n > 0) {
		m->st.tcp_nodelay_applied += (uint64_t)n;
		log_info(COMP, "TCP_NODELAY set on %d socket(s) to %s:%d", n, m->broker_host,
			 m->broker_port);
	} else if (n == 0 && already > 0) {
		/* Another connection's scan (same broker, same process) got
		 * there first. */
		log_info(COMP, "TCP_NODELAY already on for the connection(s) to %s:%d",
			 m->broker_host, m->broker_port);
	} else {
		m->st.tcp_nodelay_missed++;
		log_warn(COMP,
			 "TCP_NODELAY not set on the connection to %s:%d: %s (latency may rise "
			 "by ~40 ms per message at small windows)",
			 m->broker_host, m->broker_port,
			 n < 0 ? why : "no socket without it found");
	}
	pthread_mutex_unlock(&m->lock);
}

/*
 * mtp-conn, without lock, before the next connect: replace the Paho client
 * so that what the old one held unacknowledged is re-sent by us (through the
 * out-queue, with the deadline checked and the Message Expiry Interval of
 * now) and not by Paho (see paho_keeps_deadlines). For QoS 1 this loses
 * nothing: the broker keeps no state for a publish it has not acknowledged,
 * and our session (subscriptions, messages queued for us) is the broker's,
 * resumed by client id. The one thing a Paho client holds that we could lose
 * is an arrival it acknowledged and we refused (the callback returned 0,
 * paho_may_hold): then the client is kept, and Paho re-sends on its own.
 */
static void renew_client(struct mqtt_mtp *m)
{
	struct uspc_err err = { 0 };
	MQTTAsync fresh = NULL, old;
	size_t n = 0;

	pthread_mutex_lock(&m->lock);
	if (m->paho_may_hold) {
		log_warn(COMP, "Paho may still hold arrivals we did not take: keeping its client, "
			       "so it re-sends its unacknowledged publishes with the Message "
			       "Expiry Interval of their first send");
		pthread_mutex_unlock(&m->lock);
		return;
	}
	/* A callback waiting for in-queue space holds Paho's lock, which
	 * MQTTAsync_destroy needs: make it admit instead (wait_for_space). */
	m->renewing = 1;
	pthread_cond_broadcast(&m->space_cond);
	/* The core may be handing a batch to the old client (pump). It starts
	 * no new one: the state is not CONNECTED. */
	while (m->core_in_paho && !m->quit)
		mtp_cond_wait_ms(m, 10);
	if (m->quit) { /* stopping: mqtt_mtp_free() destroys the client */
		m->renewing = 0;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	pthread_mutex_unlock(&m->lock);

	if (mtp_paho_create(m, &fresh, &err) < 0) {
		log_error(COMP, "%s: keeping the old client (Paho re-sends what it holds)",
			  err.msg);
		pthread_mutex_lock(&m->lock);
		m->renewing = 0;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	pthread_mutex_lock(&m->lock);
	for (struct live_send *ls = m->live; ls; ls = ls->next)
		n += ls->msg != NULL;
	mtp_requeue_live(m); /* the old client's reports on them are ignored */
	old = m->cli;
	m->cli = fresh;
	m->paho_may_hold = 0;
	m->st.paho_renewed++;
	pthread_mutex_unlock(&m->lock);
	/* Reports the old client still owes (its pending sends fail with
	 * OPERATION_INCOMPLETE) find their message already requeued. */
	MQTTAsync_destroy(&old);
	log_info(COMP, "new Paho client: %zu unacknowledged publish(es) will be re-sent by us", n);
	pthread_mutex_lock(&m->lock);
	m->renewing = 0;
	pthread_mutex_unlock(&m->lock);
}

void *mtp_conn_main(void *arg)
{
	struct mqtt_mtp *m = arg;

	(void)pthread_setname_np(pthread_self(), MQTT_MTP_THREAD_NAME);
	pthread_mutex_lock(&m->lock);
	while (!m->quit) {
		if (m->need_disconnect) {
			m->need_disconnect = 0;
			pthread_mutex_unlock(&m->lock);
			mtp_do_disconnect(m, 0, 0);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if (m->need_renew && m->state != ST_CONNECTED && m->state != ST_SUBSCRIBING) {
			m->need_renew = 0;
			pthread_mutex_unlock(&m->lock);
			renew_client(m);
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
		if (m->need_nodelay) {
			m->need_nodelay = 0;
			pthread_mutex_unlock(&m->lock);
			apply_nodelay(m);
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
			int64_t left = mtp_ms_until(&m->retry_at);

			if (left <= 0) {
				mtp_move_state(m, ST_CONNECTING, "retry");
				m->need_connect = 1;
				continue;
			}
			mtp_cond_wait_ms(m, left < 200 ? left : 200);
		} else {
			mtp_cond_wait_ms(m, 200);
		}
		/* Safety net: work waits and the window has room (e.g. after
		 * Paho's MAX_BUFFERED_MESSAGES): make the core pump. */
		if (m->state == ST_CONNECTED && m->out_head && m->inflight < (size_t)m->window)
			mtp_wake_core(m);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}
