/*
 * core_internal.h — the core's shared state and the functions its modules
 * (core.c, core_out.c, core_inbound.c, core_notify.c, core_onboard.c,
 * core_task.c) call on one another. Not a public header: only files of
 * controller/core include it. Everything here runs on the core thread.
 */
#ifndef USPC_CORE_INTERNAL_H
#define USPC_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "core_metrics.h"
#include "core_registry.h"
#include "core_tracker.h"
#include "core_trim.h"
#include "fleet_engine.h"
#include "store_retention.h"
#include "mqtt_mtp.h"
#include "store_reconcile.h"
#include "store_tasks.h"
#include "store_writer.h"
#include "usp_msg.h"
#include "usp_record.h"

#define CORE_LOG "core"
#define CORE_MAX_REASONS 48        /* distinct rejection reasons counted */
#define CORE_OUTBOX_SOFT_CAP 4096  /* past this, stop taking new input */
#define CORE_TICK_MS 100           /* timer resolution */
#define CORE_METRICS_EVERY_MS 1000 /* snapshot for /metrics and /healthz */
/* statement_timeout of the writer's and feeder's connections: a statement
 * that takes longer is cancelled and retried, never left hanging. */
#define CORE_DB_STATEMENT_TIMEOUT_MS 60000
/* A partition's DROP takes ACCESS EXCLUSIVE on its table for an instant;
 * while it waits behind a long reader, writers queue behind it, so it
 * waits at most this long and is retried at the next maintenance run. */
#define CORE_PARTITION_DROP_LOCK_MS 1000

/* A publish that the transport refused with BUSY, kept until it fits; or,
 * in the held queue, an answer waiting for the store to commit what it
 * acknowledges (commit_seq). */
struct core_out {
	char *topic;
	char *response_topic; /* NULL: the daemon's own reply topic */
	uint8_t *bytes;
	size_t len;
	unsigned flags;
	int answer;            /* a NotifyResp: counts in ans_left when it leaves */
	int64_t expires_at_ms; /* a request's deadline (0: none) */
	uint64_t commit_seq;   /* held queue: store op this answer waits for */
	struct core_out *next;
};

/* How a message is published (core_publish). */
struct core_pub {
	unsigned flags;             /* MQTT_MTP_PUB_* */
	const char *response_topic; /* NULL: our reply topic */
	int64_t expires_at_ms;      /* 0: no MQTT message expiry */
	int answer;                 /* a NotifyResp (answer tickets) */
};

/* A claimed task waiting for a per-agent slot. */
struct core_deferred {
	struct store_task *task;
	struct core_deferred *next;
};

struct core_reason {
	const char *name; /* static string */
	uint64_t count;
	uint64_t suppressed; /* since the last log line */
	int64_t last_log_ms;
};

struct core_counters {
	uint64_t records_in, records_out;
	uint64_t msgs_in;  /* decoded Msgs */
	uint64_t rejected; /* all reasons */
	uint64_t responses, unknown_responses, timeouts;
	uint64_t notifies, notify_dups, notify_resps;
	uint64_t notify_resps_skipped; /* retries whose first answer still waited */
	uint64_t notify_resps_shed;    /* not sent: outbox past notify_resp_backlog */
	uint64_t tasks_claimed, tasks_done, tasks_failed;
	uint64_t onboard_started, onboard_done, onboard_failed, subs_added;
	uint64_t store_full_waits, store_lost;
	uint64_t publish_errors, publish_failed_events;
	uint64_t requests_resent;   /* idempotent requests sent again (new agent/broker session) */
	uint64_t tasks_unknown;     /* tasks ended 'unknown' (outcome not known) */
	uint64_t answers_lost_stop; /* held answers never sent (stop before commit) */
};

/* USP versions this controller speaks (GetSupportedProtocol). */
#define CORE_USP_VERSIONS "1.3,1.4"
/* Agents that went offline up to this long before our own MQTT connection
 * was lost are probed after a reconnect without a session (core_inbound.c). */
#define CORE_PROBE_WINDOW_MS 10000

/* A FIFO of agents waiting for a request slot (onboarding, broker-restart
 * probes), grown on demand. */
struct core_agentq {
	struct core_agent **a;
	size_t len, cap;
};

struct core {
	struct core_config *cfg;
	const struct core_config_sources *src;
	struct mqtt_mtp *mtp;
	struct store_writer *writer;
	struct store_tasks *feeder;
	struct fleet_engine *engine;       /* NULL when campaigns = false */
	struct store_retention *retention; /* NULL when maintenance_interval_s = 0 */
	struct core_registry *reg;
	struct core_tracker *trk;
	struct usp_msgid_gen idgen;
	struct usp_record_limits rec_limits;
	int epfd, tfd, sfd, wake_fd, feed_fd;
	int wake_armed, feed_armed; /* fds currently in the epoll set */
	int writer_ok;              /* writer queue below 3/4 (refresh_pressure) */
	/* outbox of publishes refused with BUSY */
	struct core_out *out_head, *out_tail;
	size_t out_len;
	/* answers (NotifyResp) waiting for their notification's commit */
	struct core_out *held_head, *held_tail;
	size_t held_len;
	/* answer tickets: issued to each NotifyResp in order, and how many have
	 * left the core (handed to the transport); they leave in issue order */
	uint32_t ans_issued, ans_left;
	int commit_fd, commit_armed; /* the writer's "durable advanced" eventfd */
	/* random bits for msg_ids (getrandom, refilled when used up) */
	uint64_t rnd[64];
	unsigned rnd_left;
	int64_t shed_log_ms;    /* last "NotifyResp not sent" warning */
	uint64_t shed_unlogged; /* NotifyResps dropped since that warning */
	/* agents waiting for an onboarding slot */
	struct core_agentq onb_q;
	/* tasks */
	int tasks_held;  /* claimed, result not yet handed to the writer */
	size_t trk_cap;  /* the tracker's hard cap (fixed at start) */
	size_t deferred; /* tasks waiting for a per-agent slot */
	/* our own MQTT connection: when it was last lost (0: never) */
	int64_t mqtt_lost_at_ms;
	/* agents waiting for a probe after a broker restart (core_inbound.c) */
	struct core_agentq probe_q;
	/* agents to probe once MQTT is up (start-up reconcile) */
	struct store_agent_ref *reconcile;
	size_t n_reconcile;
	/* systemd watchdog (0: none) */
	int64_t watchdog_ms, next_watchdog_ms;
	/* stop / drain */
	int mtp_stopped;
	int stopping;
	int64_t drain_deadline_ms;
	int exit_code;
	/* stats */
	struct core_counters ctr;
	struct core_reason reasons[CORE_MAX_REASONS];
	size_t n_reasons;
	/* rejected records per (sender, reason) until the next flush to the
	 * rejections table (core_rejections.c; NULL until the first) */
	struct core_rejmap *rejmap;
	int64_t rej_next_flush_ms;
	uint64_t rej_lost, rej_lost_logged; /* not counted there (no memory) */
	int64_t next_stats_ms, last_stats_ms;
	uint64_t last_in, last_out;
	/* when to give free heap back after a burst (core_trim.h) */
	struct core_trim trim;
	/* /metrics and /healthz (NULL: metrics_listen = ""): a snapshot is
	 * published at start, every CORE_METRICS_EVERY_MS and at a stop */
	struct core_metrics *metrics;
	struct core_metrics_snap msnap; /* scratch of metrics_publish */
	int64_t next_metrics_ms;
	int64_t start_ms;     /* core_now_ms() at start */
	double start_unix_s;  /* wall clock at start */
	uint64_t last_parked; /* the feeder's parked total (kept once it stops) */
	struct uspc_err serr; /* scratch for store submits */
};

int64_t core_now_ms(void);

/* --- core.c --- */
/* True while new input (MQTT events, tasks) may be taken. */
int core_accepting(struct core *c);
int core_accepting_work(struct core *c);
/* Count a rejection and log it, rate-limited per reason; it is also
 * counted per sender for the rejections table (core_rejections.c).
 * reason: a static string; sender, topic (the MQTT topic the record came
 * on, NULL if unknown) and detail: peer text, borrowed. */
void core_reject(struct core *c, const char *reason, const char *sender, const char *topic,
		 const char *detail);
/* Check the result of a store_writer_* submit; STORE_E_FULL has already
 * been retried by CORE_SUBMIT. */
void core_submit_done(struct core *c, const char *what, int rc);
/* Submit to the writer, waiting briefly while its queue is full (the core
 * stops taking input well before that, so this is a rare safety net). */
#define CORE_SUBMIT(c, what, expr)                                        \
	do {                                                              \
		int rc_, tries_ = 0;                                      \
		while ((rc_ = (expr)) == STORE_E_FULL && tries_++ < 5000) \
			core_wait_writer(c);                              \
		core_submit_done((c), (what), rc_);                       \
	} while (0)
void core_wait_writer(struct core *c);
/* Queue a (0), or -1 when out of memory. */
int core_agentq_push(struct core_agentq *q, struct core_agent *a);
/* Hand queued agents to send, oldest first, while fewer than max_pending
 * requests are outstanding and the core is not stopping. */
void core_agentq_drain(struct core *c, struct core_agentq *q,
		       void (*send)(struct core *, struct core_agent *));

/* --- core_out.c --- */
/* Publish a packed record (takes ownership of bytes). Never drops: BUSY
 * keeps it in the outbox. 0, or a negative MQTT_MTP_E_* for a permanent
 * refusal (bytes freed). */
int core_publish(struct core *c, const char *topic, const struct core_pub *p, uint8_t *bytes,
		 size_t len);
/* Publish an answer once the store has made op commit_seq durable
 * (store_writer_durable); until then it waits in the held queue, in order.
 * Takes bytes. 0, or USPC_E_NOMEM / MQTT_MTP_E_NOMEM (bytes freed, nothing
 * sent). */
int core_publish_after_commit(struct core *c, uint64_t commit_seq, const char *topic,
			      const struct core_pub *p, uint8_t *bytes, size_t len);
/* Publish the held answers whose ops are durable. */
void core_release_held(struct core *c);
/* Drop the held answers (at exit); returns how many. */
size_t core_held_free(struct core *c);
/* Encode msg in a Record to agent a. 0 or -1 (logged). */
int core_build_record(struct core *c, struct core_agent *a, const Usp__Msg *msg, uint8_t **out,
		      size_t *len);
/* "<reply_topic>/<eid>": the Response Topic of requests to agent a. */
void core_agent_response_topic(struct core *c, const struct core_agent *a, char *buf, size_t cap);
/* Retry the outbox; called when the transport wakes us and on ticks. */
void core_flush_outbox(struct core *c);
void core_outbox_free(struct core *c);
/* Wrap msg in a Record to agent and publish to topic (NULL: the agent's
 * reply topic). msg is borrowed. 0 or negative. */
int core_send_msg(struct core *c, struct core_agent *a, const char *topic, int v311,
		  const Usp__Msg *msg);
/* The same for an answer the store must commit first: it waits in the held
 * queue until store op commit_seq is durable, and takes an answer ticket
 * (c->ans_issued, its number after the call). 0, USPC_E_NOTFOUND when no
 * topic is known for a, or the encoder's or core_publish_after_commit's
 * code. */
int core_send_answer_after_commit(struct core *c, struct core_agent *a, const char *topic, int v311,
				  const Usp__Msg *msg, uint64_t commit_seq);
/* Send a request: msg must carry a msg_id from core_next_msg_id(); adds the
 * tracker entry. Returns the entry or NULL (nothing tracked; reason logged). */
struct core_req *core_send_request(struct core *c, struct core_agent *a, const Usp__Msg *msg,
				   enum core_req_kind kind);
void core_next_msg_id(struct core *c, char *buf, size_t cap);

/* --- core_inbound.c --- */
void core_probe_queue_clear(struct core *c);
/* Probe these agents (start-up reconcile); refs are borrowed. */
void core_probe_agents(struct core *c, const struct store_agent_ref *refs, size_t n);
/* Requests outstanding to a (NULL: to every agent) can no longer be
 * answered (a new MQTT session of the agent, or of this daemon without a
 * session): onboarding and probes end, idempotent tasks are sent again,
 * the others end 'unknown' with why. */
void core_requests_lost(struct core *c, struct core_agent *a, const char *why);
/* Send queued broker-restart probes while the request budget allows. */
void core_probe_pump(struct core *c);
void core_handle_mtp_event(struct core *c, const struct mqtt_mtp_event *ev);
/* An agent answered, or a record came in: online again. Returns 1 when it
 * was offline (or unknown) before. */
int core_agent_alive(struct core *c, struct core_agent *a);
void core_agent_offline(struct core *c, struct core_agent *a, const char *why);
/* Request finished (response, error or timeout: msg NULL). Takes req. */
void core_finish_request(struct core *c, struct core_req *req, const Usp__Msg *msg);

/* --- core_rejections.c --- */
/* Count one rejection per (sender, reason) for the rejections table
 * (nothing when rejections_max_rows = 0). Arguments as core_reject's. */
void core_rejections_note(struct core *c, const char *reason, const char *sender, const char *topic,
			  const char *detail);
/* Hand the counts to the store writer, at most once a second (final: now,
 * at stop, whatever the writer's pressure). Called on every tick. */
void core_rejections_flush(struct core *c, int64_t now_ms, int final);

/* --- core_notify.c --- */
/* in_topic: the topic the Notify's record came on (for rejections). */
void core_handle_notify(struct core *c, struct core_agent *a, const Usp__Msg *msg,
			const char *in_topic, const char *reply_topic, int v311);

/* --- core_onboard.c --- */
/* Start (or restart) onboarding of a (onboarding disabled: just mark it). */
void core_onboard_start(struct core *c, struct core_agent *a);
/* Start queued onboardings while slots are free. */
void core_onboard_pump(struct core *c);
void core_onboard_response(struct core *c, struct core_req *req, const Usp__Msg *msg);

/* --- core_task.c --- */
/* Take tasks from the feeder while the budget allows. */
void core_tasks_pump(struct core *c);
void core_task_response(struct core *c, struct core_req *req, const Usp__Msg *msg);
/* Send deferred tasks of a while it has free slots. */
void core_tasks_agent_slot(struct core *c, struct core_agent *a);
/* A task whose request was sent but can no longer be answered: sent again
 * when its op is idempotent, else ended 'unknown' with why. Takes req
 * (already out of the tracker). */
void core_task_request_lost(struct core *c, struct core_req *req, const char *why);
/* Finish a task without an answer (build/publish failure, timeout). */
void core_task_fail(struct core *c, struct store_task *t, const char *msg_id, uint32_t code,
		    const char *why);
void core_tasks_free_deferred(struct core *c, struct core_agent *a);
/* Stop: every claimed task still waiting for a per-agent slot goes back to
 * 'queued' through the feeder (store_tasks_release) and is freed. Returns
 * how many were handed to the feeder. */
size_t core_tasks_release_deferred(struct core *c);

#endif
