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
#include "core_registry.h"
#include "core_tracker.h"
#include "mqtt_mtp.h"
#include "store_tasks.h"
#include "store_writer.h"
#include "usp_msg.h"
#include "usp_record.h"

#define CORE_LOG "core"
#define CORE_MAX_REASONS 48       /* distinct rejection reasons counted */
#define CORE_OUTBOX_SOFT_CAP 4096 /* past this, stop taking new input */
#define CORE_TICK_MS 100          /* timer resolution */

/* A publish that the transport refused with BUSY, kept until it fits. */
struct core_out {
	char *topic;
	uint8_t *bytes;
	size_t len;
	unsigned flags;
	struct core_out *next;
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
	uint32_t out_pushed, out_popped; /* entries ever queued / handed on (wrapping) */
	int64_t shed_log_ms;             /* last "NotifyResp not sent" warning */
	uint64_t shed_unlogged;          /* NotifyResps dropped since that warning */
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
	/* stop / drain */
	int stopping;
	int64_t drain_deadline_ms;
	int exit_code;
	/* stats */
	struct core_counters ctr;
	struct core_reason reasons[CORE_MAX_REASONS];
	size_t n_reasons;
	int64_t next_stats_ms, last_stats_ms;
	uint64_t last_in, last_out;
	struct uspc_err serr; /* scratch for store submits */
};

int64_t core_now_ms(void);

/* --- core.c --- */
/* True while new input (MQTT events, tasks) may be taken. */
int core_accepting(struct core *c);
int core_accepting_work(struct core *c);
/* Count a rejection and log it, rate-limited per reason. */
void core_reject(struct core *c, const char *reason, const char *sender, const char *detail);
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
int core_publish(struct core *c, const char *topic, unsigned flags, uint8_t *bytes, size_t len);
/* Retry the outbox; called when the transport wakes us and on ticks. */
void core_flush_outbox(struct core *c);
void core_outbox_free(struct core *c);
/* Wrap msg in a Record to agent and publish to topic (NULL: the agent's
 * reply topic). msg is borrowed. 0 or negative. */
int core_send_msg(struct core *c, struct core_agent *a, const char *topic, int v311,
		  const Usp__Msg *msg);
/* Send a request: msg must carry a msg_id from core_next_msg_id(); adds the
 * tracker entry. Returns the entry or NULL (nothing tracked; reason logged). */
struct core_req *core_send_request(struct core *c, struct core_agent *a, const Usp__Msg *msg,
				   enum core_req_kind kind);
void core_next_msg_id(struct core *c, char *buf, size_t cap);

/* --- core_inbound.c --- */
/* Send queued broker-restart probes while the request budget allows. */
void core_probe_pump(struct core *c);
void core_handle_mtp_event(struct core *c, const struct mqtt_mtp_event *ev);
/* An agent answered, or a record came in: online again. Returns 1 when it
 * was offline (or unknown) before. */
int core_agent_alive(struct core *c, struct core_agent *a);
void core_agent_offline(struct core *c, struct core_agent *a, const char *why);
/* Request finished (response, error or timeout: msg NULL). Takes req. */
void core_finish_request(struct core *c, struct core_req *req, const Usp__Msg *msg);

/* --- core_notify.c --- */
void core_handle_notify(struct core *c, struct core_agent *a, const Usp__Msg *msg,
			const char *reply_topic, int v311);

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
/* Finish a task without an answer (build/publish failure, timeout). */
void core_task_fail(struct core *c, struct store_task *t, const char *msg_id, uint32_t code,
		    const char *why);
void core_tasks_free_deferred(struct core *c, struct core_agent *a);
/* Stop: every claimed task still waiting for a per-agent slot goes back to
 * 'queued' through the feeder (store_tasks_release) and is freed. Returns
 * how many were handed to the feeder. */
size_t core_tasks_release_deferred(struct core *c);

#endif
