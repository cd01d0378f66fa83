/*
 * mtp_itest.h — helpers for the MQTT transport's integration tests and
 * benchmark: a private mosquitto on a free 127.0.0.1 port, a libmosquitto
 * MQTT 5 peer that records what it receives, and a core-loop stand-in that
 * waits on mqtt_mtp's wake fd. Test code: aborts on setup failures.
 */
#ifndef USPC_MTP_ITEST_H
#define USPC_MTP_ITEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mqtt_mtp.h"

/* ---- private broker ---- */
struct itest_broker {
	pid_t pid;
	int port;
	char dir[512];
	char listener[2048]; /* listener block; "@PORT@" replaced by the port */
};
/* Pick a free port (if b->port is 0), write DIR/mosquitto.conf with the
 * listener block listener_tmpl ("@PORT@" → the port) and start mosquitto;
 * wait until it accepts connections. Restart: pass b->dir and b->listener
 * again. 0 or -1. */
int itest_broker_start(struct itest_broker *b, const char *dir, const char *listener_tmpl,
		       int persistence);
/* SIGTERM and reap; keeps b->port for a restart. */
void itest_broker_stop(struct itest_broker *b);
int itest_free_port(void);

/* ---- libmosquitto peer ---- */
struct itest_msg {
	char *topic;
	uint8_t *payload;
	int len;
	char *response_topic;
	char *content_type;
	char *endpoint_id; /* user property usp-endpoint-id */
	int has_expiry;    /* MQTT 5 Message Expiry Interval as delivered */
	uint32_t expiry;
};

struct itest_peer {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *const *subs;
	int n_subs;
	int subscribed; /* SUBACKs received since the last connect */
	int connects;
	struct itest_msg *msgs;
	size_t n_msgs, cap_msgs;
	int echo; /* 1: republish every message to its response topic */
};

/* Connect (MQTT 5 if v5, else 3.1.1) to 127.0.0.1:port and subscribe to
 * subs with QoS 1 on every connect. !clean: the session is kept and resumed
 * (3.1.1 clean session 0; MQTT 5 clean start 0 and a 1 h session expiry).
 * Waits until subscribed. 0 or -1. */
int itest_peer_start(struct itest_peer *p, int port, const char *client_id, int v5, int clean,
		     const char *const *subs, int n_subs);
void itest_peer_stop(struct itest_peer *p);
/* Publish QoS 1; response_topic / content_type / endpoint_id may be NULL. */
int itest_peer_publish(struct itest_peer *p, const char *topic, const void *payload, int len,
		       const char *response_topic, const char *content_type,
		       const char *endpoint_id);
/* Wait until at least n messages were received (or timeout). Returns count. */
size_t itest_peer_wait(struct itest_peer *p, size_t n, int timeout_ms);
/* Wait until the peer has (re)subscribed after connect number `connects`. */
int itest_peer_wait_subscribed(struct itest_peer *p, int connects, int timeout_ms);

/* ---- core-loop stand-in ---- */
/* Wait on the wake fd, pump, and return the next event (1) or 0 on
 * timeout. Events of other kinds than `kind` (0 = any) are released and
 * counted into *skipped (may be NULL). */
int itest_next_event(struct mqtt_mtp *m, enum mqtt_mtp_event_kind kind, int timeout_ms,
		     struct mqtt_mtp_event *ev, int *skipped);
/* Block on the wake fd for at most timeout_ms. */
void itest_wait_wake(struct mqtt_mtp *m, int timeout_ms);

int64_t itest_now_ms(void);
/* Host/port out of "mqtt://host:port" (USPC_MQTT). 0 or -1. */
int itest_parse_url(const char *url, char *host, size_t host_size, int *port);

#endif
