/*
 * core_metrics_text.h — what the daemon exports on /metrics: a snapshot of
 * the core's counters and gauges (plain numbers, copied by value between
 * threads) and its rendering in the Prometheus text exposition format
 * 0.0.4. Pure: no I/O, no globals, no locks; the core fills a snapshot, the
 * metrics listener (core_metrics.h) renders it.
 */
#ifndef USPC_CORE_METRICS_TEXT_H
#define USPC_CORE_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define CORE_METRICS_REASONS_MAX 64     /* rejection reasons in a snapshot */
#define CORE_METRICS_REASON_NAME_MAX 48 /* a reason's name, NUL included */
#define CORE_METRICS_VERSION_MAX 32     /* build_info's version label */

/* One rejection reason and its total. */
struct core_metrics_reason {
	char name[CORE_METRICS_REASON_NAME_MAX];
	uint64_t count;
};

/*
 * Everything /metrics and /healthz show. Counters are totals since start;
 * gauges are values at the time of the snapshot. Fields are named after the
 * stats line's keys where there is one (docs/uspc.md, "Logs").
 */
struct core_metrics_snap {
	/* gauges */
	uint64_t agents, agents_online;
	uint64_t pending_requests;
	uint64_t tasks_held, tasks_deferred, feeder_queue;
	uint64_t onboard_queue, outbox, held_answers;
	uint64_t mqtt_in_queue, mqtt_out_queue, mqtt_inflight;
	uint64_t store_queue;
	double store_lag_seconds;
	int mqtt_connected;      /* 0/1 */
	int db_connected;        /* 0/1: the store writer's connection */
	int engine_running;      /* the campaign/profile engine runs */
	int engine_db_connected; /* 0/1, meaningful when engine_running */
	int retention_running;   /* the maintenance thread runs (store_retention.h) */
	/* meaningful when retention_running: runs this daemon did under the
	 * maintenance lock, partitions it created and dropped, failed steps,
	 * Unix time of its last run (0: none yet) */
	uint64_t retention_runs, retention_created, retention_dropped, retention_errors;
	double retention_last_run_seconds;
	int draining;              /* 0/1: a stop signal came; /healthz is 503 */
	double start_time_seconds; /* Unix time the daemon started */
	double uptime_seconds;
	/* counters */
	uint64_t records_in, records_out;
	uint64_t timeouts, unknown_responses;
	uint64_t notifies, notify_retries, retry_answers_skipped, answers_shed;
	uint64_t tasks_done, tasks_failed, tasks_parked, tasks_unknown;
	uint64_t requests_resent, agents_evicted;
	uint64_t mqtt_busy, publish_expired, paho_renewed;
	uint64_t campaign_steps;
	uint64_t profile_runs, profile_steps, profile_verdicts, profile_interrupted;
	/* rejected records by reason: the core's reasons, then the ones its
	 * table had no room for ("other") and those the transport dropped for
	 * size ("transport_too_large"); their sum is the stats line's
	 * rejected= */
	struct core_metrics_reason reasons[CORE_METRICS_REASONS_MAX];
	size_t n_reasons;
	/* filled by the listener, not the core */
	uint64_t scrapes; /* /metrics requests answered, this one included */
	char version[CORE_METRICS_VERSION_MAX];
};

/*
 * Render s as Prometheus text (format 0.0.4) into buf (cap bytes, always
 * NUL-terminated when cap > 0). Returns the length of the whole text, as
 * snprintf does: a result >= cap means buf was too small and holds a
 * truncated text.
 */
size_t core_metrics_render(const struct core_metrics_snap *s, char *buf, size_t cap);

/* Add a rejection reason to s (its count added when it is there already).
 * 0, or -1 when the table is full. name is copied (truncated to fit). */
int core_metrics_add_reason(struct core_metrics_snap *s, const char *name, uint64_t count);

#endif
