/*
 * acs.h — what the parts of uspc-acs share: its settings, the PostgreSQL
 * pool and store writer it was started with, and its counters. One
 * struct acs per process, made by main (uspc-acs.c) and handed to every
 * module; the modules own their own state (sessions: acs_session.c,
 * HTTP: acs_http.c, connection requests: acs_cr.c).
 */
#ifndef USPC_ACS_H
#define USPC_ACS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct store_pool;
struct store_writer;
struct acs_sessions;

enum acs_auth_mode { ACS_AUTH_DIGEST, ACS_AUTH_BASIC, ACS_AUTH_NONE };

struct acs_settings {
	const char *node_id;
	const char *db;
	const char *listen; /* HOST:PORT of the CWMP listener */
	const char *tls_cert, *tls_key;
	const char *metrics_listen; /* HOST:PORT of /metrics and /healthz; NULL: none */
	enum acs_auth_mode auth;
	const char *realm;
	const char *cpe_username_template; /* "%o-%s" */
	const unsigned char *cpe_key;      /* derived CPE passwords; NULL: per-device rows only */
	size_t cpe_key_len;
	const char *cr_username_template; /* connection requests */
	const unsigned char *cr_key;
	size_t cr_key_len;
	int max_sessions;   /* sessions at once; past it: 503 */
	int retry_after_s;  /* 503's Retry-After base (plus up to as much jitter) */
	int session_idle_s; /* a session with no request for this long ends */
	int session_max_s;  /* and none lasts longer */
	int max_body;       /* bytes of one request body */
	int threads;        /* HTTP worker threads */
	int db_connections;
	int tasks_per_session; /* tasks claimed per round */
	int online_factor;     /* online = informed within factor x interval */
	int default_interval_s;
	int cr_concurrency; /* connection requests in flight */
	int cr_timeout_s;
	int cr_min_gap_s; /* no second request to one device within this */
};

/* Counters, any thread (relaxed atomics). */
struct acs_counters {
	atomic_ullong sessions_started, sessions_completed, sessions_timed_out, sessions_dropped,
		informs, informs_duplicate, auth_failures, overload_503, lease_503, bad_requests,
		rpcs_sent, cpe_faults, tasks_done, tasks_failed, tasks_unknown, transfer_completes,
		cr_sent, cr_ok, cr_failed, cr_udp, db_errors;
	atomic_int sessions_active;
};

struct acs {
	struct acs_settings set;
	struct store_pool *pool;
	struct store_writer *writer;
	struct acs_sessions *sessions;
	struct acs_counters n;
};

#define ACS_COUNT(a, field) atomic_fetch_add_explicit(&(a)->n.field, 1, memory_order_relaxed)

#endif
