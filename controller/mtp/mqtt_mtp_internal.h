/*
 * mqtt_mtp_internal.h — private to controller/mtp: the handle shared by the
 * transport's source files, and the functions they call in one another.
 *
 *   mqtt_mtp.c        public API for the core thread; the in-queue (Paho's
 *                     arrival callback → core) and the out-queue / in-flight
 *                     window (core → Paho, PUBACK callbacks); stop and free
 *   mqtt_mtp_conn.c   the connection state machine: Paho's connect,
 *                     subscribe and connection-lost callbacks, the "mtp-conn"
 *                     thread, reconnect back-off, replacing the Paho client
 *                     after a loss (publishes with a deadline in flight)
 *   mqtt_mtp_setup.c  configuration checks, owned copies, Paho client
 *                     creation (mqtt_mtp_config_init, _new, _start)
 *   mqtt_mtp_props.c  MQTT 5 properties (building and reading), CONNACK
 *                     Response Information / subscribe-topic, the 3.1.1
 *                     /reply-to= helpers; pure, no locking
 *   mqtt_mtp_sock.c   TCP_NODELAY on Paho's socket (Paho has no option)
 *
 * Locking: every field marked "under lock" is read and written only with
 * m->lock held. Paho is never called while m->lock is held (Paho may hold
 * its own mutex while it calls us).
 */
#ifndef USPC_MQTT_MTP_INTERNAL_H
#define USPC_MQTT_MTP_INTERNAL_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "mqtt_mtp.h"

#define COMP "mtp"
#define CONTENT_TYPE_USP "usp.msg"
#define UP_ENDPOINT_ID "usp-endpoint-id"
#define UP_SUBSCRIBE_TOPIC "subscribe-topic"
#define REPLY_TO_TAG "reply-to="
#define IN_STALL_MS 5000 /* core took nothing for this long: stop waiting */
/* Events the core takes from the in-queue per lock (mqtt_mtp_next_event). */
#define TAKE_BATCH 256
/* Publishes moved into Paho per lock (mqtt_mtp_pump). */
#define PUMP_BATCH 64
/* Topic filters a broker may add through CONNACK subscribe-topic. */
#define MTP_MAX_BROKER_SUBS MQTT_MTP_MAX_SUBS
/* Configured filters, broker-given filters, own reply topic. */
#define MTP_MAX_ALL_SUBS (MQTT_MTP_MAX_SUBS + MTP_MAX_BROKER_SUBS + 1)

#define MTP_STATES(X)                 \
	X(IDLE, "idle")               \
	X(CONNECTING, "connecting")   \
	X(SUBSCRIBING, "subscribing") \
	X(CONNECTED, "connected")     \
	X(BACKOFF, "backoff")         \
	X(STOPPED, "stopped")

enum mtp_state {
#define X_(id, name) ST_##id,
	MTP_STATES(X_)
#undef X_
};

extern const char *const mtp_state_names[];

/* One queued publish: topic, Response Topic (if its own) and payload in
 * the same allocation. */
struct out_msg {
	struct out_msg *next;
	char *topic;
	char *reply; /* per-publish Response Topic; NULL = the own reply topic */
	uint8_t *payload;
	size_t len;
	int64_t expires_at_ms; /* CLOCK_MONOTONIC ms; 0 = no deadline */
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

/* What a CONNACK told us beyond the numbers (mqtt_mtp_props.c). Strings
 * are owned; release with mtp_connack_info_fini(). */
struct mtp_connack_info {
	char *response_info;                   /* Response Information, or NULL */
	char *sub_topics[MTP_MAX_BROKER_SUBS]; /* User Property subscribe-topic values */
	int n_sub_topics;
	int sub_topics_ignored; /* invalid or beyond the cap */
};

struct mqtt_mtp {
	/* Configuration (owned copies; fixed after mqtt_mtp_new()). */
	struct mqtt_mtp_config cfg;
	char *url, *client_id, *endpoint_id, *username, *password;
	char *ca_file, *cert_file, *key_file;
	char *cfg_reply; /* configured response topic, or NULL */
	char *sub_cfg[MQTT_MTP_MAX_SUBS];
	int n_sub_cfg;
	int tls;
	char *broker_host; /* host and port of the URL (TCP_NODELAY) */
	int broker_port;

	/* Own reply topic: the configured one, or the broker's Response
	 * Information adopted at the first CONNACK that carries one. Written
	 * once (release), before the first CONNECTED; NULL until then. */
	_Atomic(char *) reply;
	/* SUBSCRIBE list of the current connection: configured filters, the
	 * broker's subscribe-topic values, the reply filter last. Rebuilt by
	 * mtp-conn before every subscribe (under lock). */
	char *sub_list[MTP_MAX_ALL_SUBS];
	int qos_list[MTP_MAX_ALL_SUBS];
	int n_subs;

	MQTTAsync cli;
	/* Content type + response topic; built once the reply topic is known
	 * (before the first CONNECTED); read-only afterwards. */
	MQTTProperties pub_props;
	MQTTProperties conn_props;
	MQTTProperties sub_props;
	MQTTAsync_SSLOptions ssl;
	int wake_fd;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t space_cond; /* in-queue space freed (next_event) */
	pthread_t conn_thread;
	int thread_started;

	/* Everything below: under lock. */
	enum mtp_state state;
	int need_connect, need_subscribe, need_disconnect, need_nodelay;
	/* A connection was lost while Paho held publishes with a deadline and
	 * Paho keeps its session across the loss: mtp-conn replaces the Paho
	 * client before reconnecting (mqtt_mtp_conn.c, renew_client). */
	int need_renew;
	int renewing;        /* renew_client() is waiting for the core / Paho */
	int paho_may_hold;   /* an arrival was left with Paho (callback returned 0)
			       since this Paho client was created */
	int session_present; /* of the last CONNACK; reported with EV_CONNECTED */
	int quit, stopping;
	int wake_pending;
	int attempt;              /* failed connects since the last success */
	struct timespec retry_at; /* CLOCK_MONOTONIC, in BACKOFF */
	int window;
	uint32_t broker_max_packet; /* 0: none announced */
	int ever_connected;
	int last_disc_code;
	uint64_t rng;
	struct mtp_connack_info connack; /* of the current connection */

	/* Core thread only, no lock: events already taken from the in-queue
	 * (counted as taken) and not yet handed out by next_event(). */
	struct in_item *taken;

	struct in_item *in_head, *in_tail;
	size_t in_count, in_bytes;
	int in_blocked;
	int core_in_paho; /* mqtt_mtp_pump is handing a batch to Paho */
	uint64_t in_pops; /* events taken by the core, ever */
	struct out_msg *out_head, *out_tail;
	size_t out_count;
	int64_t next_purge_ms; /* purge_expired() runs again from then on */
	struct live_send *live;
	size_t inflight;
	int disc_done;

	struct mqtt_mtp_stats st;
};

/* ---- time ---- */
static inline void mtp_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static inline int64_t mtp_now_ms(void)
{
	struct timespec ts;

	mtp_now(&ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* MQTT 5 Message Expiry Interval for a publish with a deadline handed over
 * at now_ms: the time left in whole seconds, rounded up (so at least 1);
 * 0 when the deadline has passed (drop it). Callers skip this for
 * expires_at_ms == 0 (no deadline). */
static inline uint32_t mtp_expiry_s(int64_t expires_at_ms, int64_t now_ms)
{
	int64_t left = expires_at_ms - now_ms, s;

	if (left <= 0)
		return 0;
	s = left / 1000 + (left % 1000 != 0);
	return s > (int64_t)UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)s;
}

static inline int64_t mtp_ms_until(const struct timespec *t)
{
	struct timespec n;

	mtp_now(&n);
	return (int64_t)(t->tv_sec - n.tv_sec) * 1000 + (t->tv_nsec - n.tv_nsec) / 1000000;
}

static inline void mtp_ts_add_ms(struct timespec *ts, int64_t ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Under lock: wait on m->cond (CLOCK_MONOTONIC) for at most ms. */
static inline void mtp_cond_wait_ms(struct mqtt_mtp *m, int64_t ms)
{
	struct timespec ts;

	mtp_now(&ts);
	mtp_ts_add_ms(&ts, ms < 0 ? 0 : ms);
	pthread_cond_timedwait(&m->cond, &m->lock, &ts);
}

/* ---- mqtt_mtp.c (queues) ---- */
/* Under lock: make the wake fd readable (once until the core clears it). */
void mtp_wake_core(struct mqtt_mtp *m);
/* Under lock: append a CONNECTED / DISCONNECTED / PUBLISH_FAILED event;
 * topic (may be NULL) is copied. NULL when out of memory (logged). */
struct in_item *mtp_push_control(struct mqtt_mtp *m, enum mqtt_mtp_event_kind kind,
				 const char *topic, int reason_code, const char *reason);
/* Under lock: every message Paho still holds goes back to the out-queue. */
void mtp_requeue_live(struct mqtt_mtp *m);
/* Paho's arrival callback (MQTTAsync_messageArrived). */
int mtp_on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *pm);

/* ---- mqtt_mtp_conn.c (connection) ---- */
/* Under lock: change state, logging "old --event--> new". */
void mtp_move_state(struct mqtt_mtp *m, enum mtp_state to, const char *event);
void *mtp_conn_main(void *arg);
/* Without lock. notify: set m->disc_done when Paho reports. */
void mtp_do_disconnect(struct mqtt_mtp *m, int timeout_ms, int notify);
void mtp_on_connection_lost(void *ctx, char *cause);
void mtp_on_server_disconnect(void *ctx, MQTTProperties *props, enum MQTTReasonCodes rc);
int mtp_on_ssl_error(const char *str, size_t len, void *u);

/* ---- mqtt_mtp_setup.c ---- */
/* Create a Paho client for m (same URL, client id and options) with m's
 * callbacks set. 0, or MQTT_MTP_E_PAHO with err filled (*cli NULL). */
int mtp_paho_create(struct mqtt_mtp *m, MQTTAsync *cli, struct uspc_err *err);

/* ---- mqtt_mtp_props.c (pure) ---- */
/* Add a property: a string pair (name and value), a string (value), or a
 * number (num) according to the property's type. 0, MQTT_MTP_E_INVAL
 * (a string missing) or MQTT_MTP_E_NOMEM. */
int mtp_add_prop(MQTTProperties *p, enum MQTTPropertyCodes id, const char *name, const char *value,
		 int num);
/* Content type + response topic for every publish. 0 or E_NOMEM. */
int mtp_build_pub_props(MQTTProperties *p, const char *reply);
/* The same list without allocating (a publish with its own Response Topic
 * or a deadline): arr[3] holds it and p points into arr and reply, so both
 * must outlive p's use (Paho copies it in MQTTAsync_sendMessage). A
 * Message Expiry Interval is added when expiry_s > 0. */
void mtp_fill_pub_props(MQTTProperties *p, MQTTProperty arr[3], const char *reply,
			uint32_t expiry_s);
/* A MESSAGE in-queue item holding copies of everything it points to; the
 * reply_suffix (from a 3.1.1 /reply-to=) is used when there is no MQTT 5
 * Response Topic. NULL when out of memory. */
struct in_item *mtp_build_message(const char *topic, size_t tlen, MQTTAsync_message *pm,
				  const char *reply_suffix);
/* Read Response Information and the subscribe-topic user properties of a
 * CONNACK into *ci (zeroed first). Values that are empty, too long, hold
 * a NUL, or (Response Information) a wildcard are left out and counted in
 * sub_topics_ignored / logged by the caller. 0 or MQTT_MTP_E_NOMEM. */
int mtp_connack_info_read(MQTTProperties *props, struct mtp_connack_info *ci);
void mtp_connack_info_fini(struct mtp_connack_info *ci);
/* Fill list[] (owned strings) with the SUBSCRIBE filters: configured ones,
 * then each broker filter not already listed, then the reply filter
 * (reply, or "reply/#" if wildcard), which is always last. Returns the
 * count, or MQTT_MTP_E_NOMEM (list freed). */
int mtp_sub_list_build(char **list, int cap, char *const *cfg, int n_cfg, char *const *broker,
		       int n_broker, const char *reply, int wildcard);
void mtp_sub_list_free(char **list, int n);

/* ---- mqtt_mtp_sock.c ---- */
/* Set TCP_NODELAY on this process's TCP sockets connected to host:port
 * that do not have it yet. Returns how many were set (>= 0) and counts in
 * *already those to the broker that had it; or a negative MQTT_MTP_E_*
 * with why[] saying what went wrong. May block on name resolution: the
 * mtp-conn thread calls it. */
int mtp_sock_nodelay(const char *host, int port, int *already, char *why, size_t why_size);

#endif
