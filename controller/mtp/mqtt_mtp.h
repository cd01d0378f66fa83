/*
 * mqtt_mtp.h — the controller's MQTT 5 transport (USP MQTT MTP binding) over
 * Eclipse Paho MQTTAsync.
 *
 * Model: Paho runs its own threads. Its callbacks never block, never publish
 * and never touch core state: they copy what arrived into a bounded in-queue
 * and make the wake fd readable. One core thread owns the handle and calls
 * everything below (except where a function says "any thread").
 *
 * Core loop, when mqtt_mtp_wake_fd() is readable:
 *     while (mqtt_mtp_next_event(m, &ev) == 1) { handle(&ev); mqtt_mtp_event_fini(&ev); }
 *     mqtt_mtp_pump(m);            then retry any publish that returned BUSY
 * next_event() clears the fd when it finds the queue empty, so a wake-up is
 * never lost: every later enqueue or window opening makes it readable again.
 *
 * Arrival back-pressure: when the in-queue is full, Paho's receive thread
 * waits (without I/O) for as long as the core keeps taking events, so the
 * broker is held back through TCP flow control; see mqtt_mtp.c.
 *
 * Publishing: QoS 1, Content Type "usp.msg", Response Topic = the
 * publish's own (mqtt_mtp_publish_ex) or else our reply topic. At most
 * `window` QoS 1 publishes are unacknowledged; the rest wait in a bounded
 * out-queue (kept across reconnects). When that queue is full, publishing
 * returns MQTT_MTP_E_BUSY and copies nothing: the caller keeps its message
 * and retries after the next wake. Nothing is dropped silently: a message
 * the broker rejects (PUBACK reason >= 0x80) or that fails
 * MQTT_MTP_MAX_ATTEMPTS times comes back as a PUBLISH_FAILED event; one
 * whose deadline (expires_at_ms) passes before it is handed to Paho is
 * dropped and counted in publish_expired (the caller set the deadline and
 * times its own work out).
 *
 * Deadlines: every hand-off to Paho (first send, and every re-send after a
 * failure or a reconnect) carries the MQTT 5 Message Expiry Interval left
 * until the deadline, so the broker never delivers a publish later than
 * that (to a subscriber that was offline, or queued behind others). Paho
 * itself re-sends what was unacknowledged when the connection dropped,
 * with the properties of the first send, when it keeps its session
 * (clean_start 0 with a session expiry); so after such a loss with a
 * deadline in flight the Paho client is replaced before reconnecting
 * (paho_renewed) and we re-send instead. QoS 1 loses nothing by that. The
 * one exception: once an arrival was left with Paho (a 5 s core stall,
 * in_deferred, or out of memory) Paho may hold a message it acknowledged,
 * so the client is kept (logged) and Paho re-sends with the old interval.
 *
 * Subscriptions (R-MQTT.15), after every connect (also when the broker
 * kept the session: re-subscribing replaces a filter without losing queued
 * messages): the configured filters, every CONNACK User Property
 * "subscribe-topic" value, and the reply topic.
 *
 * Errors: functions return 0 (or a count) on success and a negative
 * MQTT_MTP_E_* code on failure; mqtt_mtp_new() fills a caller's uspc_err.
 */
#ifndef USPC_MQTT_MTP_H
#define USPC_MQTT_MTP_H

#include <stddef.h>
#include <stdint.h>

#include "usp_err.h"

/* Error codes: MQTT_MTP_E_* (-699 ..; MQTT_MTP_ERRORS in usp_err.h). */

#define MQTT_MTP_MAX_TOPIC 1024 /* bytes, including a /reply-to= suffix */
#define MQTT_MTP_MAX_SUBS 16    /* configured subscription filters */
#define MQTT_MTP_MAX_ATTEMPTS 5 /* sends of one message before PUBLISH_FAILED */
/* The connection thread's name (top -H, ps -L, the bench harness); Paho's
 * own threads are MQTTAsync_rcv and MQTTAsync_send. */
#define MQTT_MTP_THREAD_NAME "uspc-mqtt"

struct mqtt_mtp_config {
	/* Broker: "mqtt://host:port" or "mqtts://host:port" (tcp:// and ssl://
	 * are accepted as synonyms). */
	const char *broker_url;
	/* MQTT client id; NULL or "" → "<endpoint_id>-<random hex>". Must be
	 * unique per daemon on one broker. */
	const char *client_id;
	/* Own USP endpoint id, sent as CONNECT user property usp-endpoint-id. */
	const char *endpoint_id;
	const char *username; /* optional */
	const char *password; /* optional; borrowed, never logged */
	int keepalive_s;      /* default 60 */
	int clean_start;      /* default 1 */
	/* MQTT 5 Session Expiry Interval; only meaningful with clean_start=0
	 * (with 0 the broker drops the session on disconnect). Default 0. */
	uint32_t session_expiry_s;
	int connect_timeout_s; /* default 10 */

	/* TLS (mqtts:// only). CA file verifies the broker; cert+key for mTLS. */
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
	/* 0 (default): verify the broker's certificate and host name.
	 * 1: skip verification (tests only; logged as a warning). */
	int tls_insecure;

	/* Topic filters subscribed with QoS 1 after every connect without a
	 * present session (may be "$share/<group>/<topic>"). Borrowed. */
	const char *const *sub_topics;
	size_t n_sub_topics;
	/* This daemon's reply topic: Response Topic of every publish, and
	 * subscribed. NULL or "": use the Response Information the broker
	 * returns in CONNACK (requested in every CONNECT, R-MQTT.12/21); the
	 * connection is refused (and retried) while the broker gives none.
	 * When set, it wins over the broker's Response Information. */
	const char *response_topic;
	/* Subscribe "<response_topic>/#" instead of the exact topic, so MQTT
	 * 3.1.1 agents answering with a /reply-to= suffix reach us too (the
	 * filter also matches the topic itself). Default 1. */
	int response_topic_wildcard;

	/* Flow control. */
	int max_inflight;          /* window of unacked QoS 1 publishes; default 100;
	                               clamped below the broker's Receive Maximum */
	size_t out_queue_cap;      /* publishes waiting for the window; default 10000 */
	size_t in_queue_cap;       /* arrived messages not yet taken; default 10000 */
	size_t in_queue_max_bytes; /* payload bytes in the in-queue; default 64 MiB */
	size_t max_payload;        /* per message, both ways; default 1 MiB */

	/* Reconnect back-off: min * 2^n capped at max, "equal jitter"
	 * (uniform in [d/2, d]). Defaults 500 and 30000. */
	int reconnect_min_ms;
	int reconnect_max_ms;

	/* Set TCP_NODELAY on Paho's socket after every connect (Paho has no
	 * option for it; Nagle adds ~40 ms per message at small windows, see
	 * docs/design.md). Default 1. */
	int tcp_nodelay;
};

/* Fill cfg with the defaults above (all strings NULL). */
void mqtt_mtp_config_init(struct mqtt_mtp_config *cfg);

enum mqtt_mtp_event_kind {
	MQTT_MTP_EV_MESSAGE = 1,
	MQTT_MTP_EV_CONNECTED,      /* connected and subscribed; publishing flows */
	MQTT_MTP_EV_DISCONNECTED,   /* lost; reconnect is automatic */
	MQTT_MTP_EV_PUBLISH_FAILED, /* a publish given up (topic, reason) */
};

struct mqtt_mtp_event {
	enum mqtt_mtp_event_kind kind;
	/* MESSAGE: topic as received (3.1.1 senders: including the suffix).
	 * PUBLISH_FAILED: the destination topic. */
	const char *topic;
	const uint8_t *payload; /* MESSAGE: the bytes (a USP Record), followed
	                               by a NUL byte that len does not count */
	size_t len;
	/* MESSAGE: where to answer. The MQTT 5 Response Topic, or for a 3.1.1
	 * sender the text after "/reply-to=" with %2F decoded; NULL if none. */
	const char *response_topic;
	int reply_via_suffix;     /* 1: from a /reply-to= suffix → peer speaks
	                               3.1.1, answer with MQTT_MTP_PUB_V311 */
	const char *content_type; /* MESSAGE: NULL if absent */
	const char *endpoint_id;  /* MESSAGE: user property usp-endpoint-id, or NULL */
	int dup;                  /* MESSAGE: MQTT DUP flag */
	/* CONNECTED */
	int session_present;
	int window; /* effective in-flight window */
	/* DISCONNECTED / PUBLISH_FAILED: human-readable reason; reason_code is
	 * the MQTT reason code when there is one, else a Paho code (<0) or 0. */
	char reason[128];
	int reason_code;
	void *priv_; /* owned storage; freed by mqtt_mtp_event_fini */
};

struct mqtt_mtp_stats {
	uint64_t msgs_in, bytes_in;    /* handed to the core */
	uint64_t msgs_out, bytes_out;  /* acknowledged by the broker (PUBACK) */
	uint64_t publish_retries;      /* re-sent after failure or reconnect */
	uint64_t publish_failures;     /* given up → PUBLISH_FAILED events */
	uint64_t publish_expired;      /* deadline passed before a hand-off: dropped */
	uint64_t paho_renewed;         /* Paho clients replaced after a connection loss
	                                      so that we, not Paho, re-send (see stop) */
	uint64_t busy_returns;         /* publish() returned E_BUSY */
	uint64_t paho_buffer_full;     /* Paho said MAX_BUFFERED_MESSAGES */
	uint64_t in_waits;             /* arrivals that waited for in-queue space
	                                      (back-pressure towards the broker) */
	uint64_t in_deferred;          /* arrivals left with Paho because the core
	                                      took nothing for 5 s (re-offered later) */
	uint64_t in_over_cap;          /* arrivals admitted above in_queue_cap
	                                      because the core was in Paho */
	uint64_t in_dropped_too_big;   /* arrivals above max_payload, dropped */
	uint64_t in_dropped_bad_topic; /* topic too long or with a NUL, dropped */
	uint64_t connects, reconnects, connect_failures, disconnects;
	uint64_t subscribe_failures;
	uint64_t tcp_nodelay_applied; /* sockets TCP_NODELAY was set on */
	uint64_t tcp_nodelay_missed;  /* connects where it could not be set */
	size_t in_queue_depth, in_queue_bytes;
	size_t out_queue_depth;
	size_t inflight;
	int window; /* effective window (0 before connect) */
	int connected;
};

struct mqtt_mtp;

/* Validate cfg, copy everything it needs (strings included) and create the
 * Paho client. No network yet. NULL on failure with err filled. */
struct mqtt_mtp *mqtt_mtp_new(const struct mqtt_mtp_config *cfg, struct uspc_err *err);
/* Start connecting in the background (and keep reconnecting). */
int mqtt_mtp_start(struct mqtt_mtp *m);
/* Readable when events are queued or the window opened. Owned by m. */
int mqtt_mtp_wake_fd(const struct mqtt_mtp *m);
/* 1 with *ev filled (release with mqtt_mtp_event_fini), 0 when empty. */
int mqtt_mtp_next_event(struct mqtt_mtp *m, struct mqtt_mtp_event *ev);
void mqtt_mtp_event_fini(struct mqtt_mtp_event *ev);

/* Publish flags. */
#define MQTT_MTP_PUB_V311 \
	0x1u /* peer speaks 3.1.1: append "/reply-to=" + the publish's
                                  Response Topic (%2F-encoded) to the topic */

/* Per-publish options (mqtt_mtp_publish_ex). A zeroed struct means what
 * mqtt_mtp_publish(m, ..., 0) does. */
struct mqtt_mtp_pub_opts {
	unsigned flags; /* MQTT_MTP_PUB_* */
	/* MQTT 5 Response Topic of this publish, copied with it (at most
	 * MQTT_MTP_MAX_TOPIC bytes, no wildcards); NULL = own reply topic
	 * (mqtt_mtp_response_topic()). With MQTT_MTP_PUB_V311 it is also what
	 * the /reply-to= suffix encodes. */
	const char *response_topic;
	/* Deadline, CLOCK_MONOTONIC milliseconds (mqtt_mtp_now_ms()); 0 = none.
	 * Every hand-off to Paho (the first send, and every re-send after a
	 * reconnect or a failure) carries MQTT 5 Message Expiry Interval = the
	 * time left in whole seconds, rounded up, so the broker drops what an
	 * offline subscriber has not received by then. A publish whose deadline
	 * has passed before a hand-off is dropped there: counted in
	 * publish_expired, logged at debug level, no event. */
	int64_t expires_at_ms;
};

/* Queue one QoS 1 publish; copies topic, payload and the options' strings.
 * 0 when queued (sent as the window allows, across reconnects),
 * MQTT_MTP_E_BUSY when the out-queue is full (nothing copied), E_TOOBIG
 * (payload, topic or Response Topic too long), E_INVAL (wildcards, empty
 * topic, negative deadline), E_STATE (stopping; or V311 with no Response
 * Topic given before the own reply topic is known). o may be NULL. */
int mqtt_mtp_publish_ex(struct mqtt_mtp *m, const char *topic, const void *payload, size_t len,
			const struct mqtt_mtp_pub_opts *o);
/* mqtt_mtp_publish_ex() with only flags set. */
int mqtt_mtp_publish(struct mqtt_mtp *m, const char *topic, const void *payload, size_t len,
		     unsigned flags);
/* CLOCK_MONOTONIC in milliseconds: the clock of expires_at_ms. */
int64_t mqtt_mtp_now_ms(void);
/* Move queued publishes into Paho while the window has room. Returns the
 * number handed to Paho (>= 0). */
int mqtt_mtp_pump(struct mqtt_mtp *m);

/* Any thread. */
void mqtt_mtp_get_stats(struct mqtt_mtp *m, struct mqtt_mtp_stats *st);
int mqtt_mtp_is_connected(struct mqtt_mtp *m);
/* Own reply topic: as configured, or the broker's Response Information
 * once a CONNACK brought it ("" before that). Never NULL. Any thread. */
const char *mqtt_mtp_response_topic(const struct mqtt_mtp *m);
/* Name of the current connection state ("connected", "backoff", ...). */
const char *mqtt_mtp_state_name(struct mqtt_mtp *m);

/* Stop accepting publishes, send what is queued and wait for the window to
 * drain (at most drain_timeout_ms; what expires meanwhile is dropped as
 * usual), then DISCONNECT. 0 when everything was acknowledged,
 * MQTT_MTP_E_TIMEOUT when messages were left (count logged).
 * Arrivals: Paho acknowledges a message to the broker before it hands it to
 * us, so every arrival up to the DISCONNECT stays queued (during stop() it
 * is admitted even above in_queue_cap) and mqtt_mtp_next_event() still
 * returns them, in order, after stop() returned, until it returns 0; the
 * caller must take them before mqtt_mtp_free(), which discards them. Not
 * covered: an arrival left with Paho after a 5 s core stall (in_deferred)
 * that Paho had not offered again by then. No new events are produced
 * after stop() returned; mqtt_mtp_free() is still required. */
int mqtt_mtp_stop(struct mqtt_mtp *m, int drain_timeout_ms);
/* Stops (without draining) if needed, destroys the Paho client, frees m. */
void mqtt_mtp_free(struct mqtt_mtp *m);

/* USP MQTT 3.1.1 reply-to convention (R-MQTT.24/25), pure helpers.
 * parse: if the last topic level is "reply-to=<enc>", write <enc> with every
 * %2F (or %2f) turned into '/' to out and return 1; return 0 when there is
 * no such suffix; MQTT_MTP_E_INVAL when the reply topic is empty, contains
 * a wildcard, or does not fit out_size. */
int mqtt_mtp_parse_reply_to(const char *topic, char *out, size_t out_size);
/* build: out = dest + "/reply-to=" + reply with '/' → "%2F". 0 or
 * MQTT_MTP_E_TOOBIG when it does not fit out_size. */
int mqtt_mtp_build_reply_to(const char *dest, const char *reply, char *out, size_t out_size);

#endif
