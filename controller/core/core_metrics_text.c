/*
 * core_metrics_text.c — renders a core_metrics_snap as Prometheus text
 * exposition format 0.0.4: every family has its HELP and TYPE lines before
 * its samples, counters end in _total, values are in base units (seconds),
 * names carry the uspc_ prefix and no per-agent label exists; the only
 * labels are a rejection's reason and build_info's version.
 *
 * Pure (no I/O, no globals): any thread may call it on its own snapshot.
 * The plain numeric families come from one table (METRICS below); the
 * labelled ones are written after it.
 */
#include "core_metrics_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum metric_kind { MK_U64, MK_DOUBLE, MK_BOOL };

struct metric_def {
	const char *name; /* without the uspc_ prefix */
	const char *type; /* "counter" or "gauge" */
	enum metric_kind kind;
	size_t off;
	const char *help;
};

#define SNAP_OFF(f) offsetof(struct core_metrics_snap, f)
#define GAUGE(n, f, h)                             \
	{                                          \
		n, "gauge", MK_U64, SNAP_OFF(f), h \
	}
#define GAUGE_S(n, f, h)                              \
	{                                             \
		n, "gauge", MK_DOUBLE, SNAP_OFF(f), h \
	}
#define GAUGE_B(n, f, h)                            \
	{                                           \
		n, "gauge", MK_BOOL, SNAP_OFF(f), h \
	}
#define COUNTER(n, f, h)                                      \
	{                                                     \
		n "_total", "counter", MK_U64, SNAP_OFF(f), h \
	}

static const struct metric_def METRICS[] = {
	GAUGE("agents", agents, "Agents known to this daemon (held in memory)."),
	GAUGE("agents_online", agents_online, "Agents known to this daemon that are online."),
	GAUGE("pending_requests", pending_requests, "Requests sent and awaiting an answer."),
	GAUGE("tasks_held", tasks_held, "Claimed tasks not yet finished."),
	GAUGE("tasks_deferred", tasks_deferred,
	      "Claimed tasks waiting for a per-agent request slot."),
	GAUGE("feeder_queue", feeder_queue, "Claimed tasks the core has not taken yet."),
	GAUGE("onboard_queue", onboard_queue, "Agents waiting to be onboarded."),
	GAUGE("outbox", outbox, "Publishes waiting because the MQTT out-queue was full."),
	GAUGE("held_answers", held_answers,
	      "NotifyResps waiting for the commit of their notification."),
	GAUGE("mqtt_in_queue", mqtt_in_queue, "Arrived MQTT messages waiting for the core."),
	GAUGE("mqtt_out_queue", mqtt_out_queue, "Publishes waiting for the MQTT window."),
	GAUGE("mqtt_inflight", mqtt_inflight, "Unacknowledged QoS 1 publishes."),
	GAUGE_B("mqtt_connected", mqtt_connected,
		"1 while the daemon is connected to the MQTT broker, else 0."),
	GAUGE("store_queue", store_queue, "Store writer ops not yet committed."),
	GAUGE_S("store_lag_seconds", store_lag_seconds,
		"Age of the oldest store op not yet committed (0 when none)."),
	GAUGE_B("db_connected", db_connected,
		"1 while the store writer holds a working database connection, else 0."),
	GAUGE_B("draining", draining,
		"1 once a stop signal came and the daemon drains before it exits, else 0."),
	GAUGE_S("start_time_seconds", start_time_seconds,
		"Time the daemon started, seconds since the Unix epoch."),
	GAUGE_S("uptime_seconds", uptime_seconds, "Seconds since the daemon started."),
	COUNTER("records_received", records_in, "USP records received."),
	COUNTER("records_sent", records_out, "USP records sent."),
	COUNTER("request_timeouts", timeouts, "Requests that got no answer in time."),
	COUNTER("unknown_responses", unknown_responses,
		"Responses that matched no outstanding request."),
	COUNTER("notifications", notifies, "Notify messages received, retries included."),
	COUNTER("notification_retries", notify_retries,
		"Notify messages seen again (same agent and msg_id): acted on once."),
	COUNTER("notify_retry_answers_skipped", retry_answers_skipped,
		"Notify retries left unanswered because the first NotifyResp still waited."),
	COUNTER("notify_answers_shed", answers_shed,
		"NotifyResps not sent because the outbox held notify_resp_backlog publishes."),
	COUNTER("tasks_done", tasks_done, "Tasks this daemon finished with an answer."),
	COUNTER("tasks_failed", tasks_failed,
		"Tasks this daemon finished as failed (error answer, timeout, send failure)."),
	COUNTER("tasks_parked", tasks_parked,
		"Queued tasks set aside because their agent was not ready."),
	COUNTER("tasks_unknown", tasks_unknown, "Tasks this daemon ended with outcome unknown."),
	COUNTER("requests_resent", requests_resent,
		"Idempotent requests sent again after an MQTT session was lost."),
	COUNTER("agents_evicted", agents_evicted,
		"Idle agents dropped from memory to make room (max_agents)."),
	COUNTER("mqtt_busy", mqtt_busy, "Publishes the MQTT out-queue refused for a while (kept)."),
	COUNTER("mqtt_publish_expired", publish_expired,
		"Requests dropped before reaching the broker because their deadline passed."),
	COUNTER("mqtt_client_renewed", paho_renewed,
		"MQTT client library clients replaced after a connection loss."),
	COUNTER("campaign_steps", campaign_steps,
		"Campaign device steps this daemon's engine took (starts and advances)."),
	COUNTER("profile_runs", profile_runs, "Agents' profile runs this daemon's engine took up."),
	COUNTER("profile_steps", profile_steps,
		"Answers this daemon's engine advanced a profile run with."),
	COUNTER("profile_verdicts", profile_verdicts, "Profile verdicts this daemon recorded."),
	COUNTER("profile_interrupted", profile_interrupted,
		"Profile runs cut short because a request got no answer."),
	COUNTER("metrics_scrapes", scrapes, "Requests for /metrics answered, this one included."),
};

/* The maintenance's families: only while this daemon runs it. */
static const struct metric_def RETENTION[] = {
	COUNTER("retention_runs", retention_runs,
		"Maintenance runs (partitions, retention) this daemon did under the maintenance "
		"lock (absent when its maintenance is off)."),
	COUNTER("retention_partitions_created", retention_created,
		"Day partitions this daemon's maintenance created."),
	COUNTER("retention_partitions_dropped", retention_dropped,
		"Day partitions this daemon's maintenance dropped past their retention."),
	COUNTER("retention_errors", retention_errors,
		"Maintenance steps and runs of this daemon that failed (see the log)."),
	GAUGE_S("retention_last_run_timestamp_seconds", retention_last_run_seconds,
		"Unix time of this daemon's last maintenance run (0: none yet)."),
};

/* The text built so far: len counts everything, even past cap. */
struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* A label value: \, " and newline escaped as the format asks. */
static void put_label_value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			put(o, "\\\\");
		else if (*v == '"')
			put(o, "\\\"");
		else if (*v == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *v);
	}
}

static void put_head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP uspc_%s %s\n# TYPE uspc_%s %s\n", name, help, name, type);
}

static void put_def(struct out *o, const struct core_metrics_snap *s, const struct metric_def *d)
{
	const char *p = (const char *)s + d->off;
	put_head(o, d->name, d->type, d->help);
	if (d->kind == MK_U64) {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		put(o, "uspc_%s %llu\n", d->name, (unsigned long long)v);
	} else if (d->kind == MK_DOUBLE) {
		double v;
		memcpy(&v, p, sizeof(v));
		put(o, "uspc_%s %.3f\n", d->name, v);
	} else {
		int v;
		memcpy(&v, p, sizeof(v));
		put(o, "uspc_%s %d\n", d->name, v ? 1 : 0);
	}
}

size_t core_metrics_render(const struct core_metrics_snap *s, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0 };
	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(METRICS) / sizeof(METRICS[0]); i++)
		put_def(&o, s, &METRICS[i]);
	if (s->engine_running) {
		put_head(&o, "engine_db_connected", "gauge",
			 "1 while the campaign and profile engine holds a database connection, "
			 "else 0 (absent when the engine is off).");
		put(&o, "uspc_engine_db_connected %d\n", s->engine_db_connected ? 1 : 0);
	}
	if (s->retention_running)
		for (size_t i = 0; i < sizeof(RETENTION) / sizeof(RETENTION[0]); i++)
			put_def(&o, s, &RETENTION[i]);
	put_head(&o, "rejected_records_total", "counter",
		 "Records and messages rejected, by reason (absent until the first one).");
	for (size_t i = 0; i < s->n_reasons && i < CORE_METRICS_REASONS_MAX; i++) {
		put(&o, "uspc_rejected_records_total{reason=\"");
		put_label_value(&o, s->reasons[i].name);
		put(&o, "\"} %llu\n", (unsigned long long)s->reasons[i].count);
	}
	put_head(&o, "build_info", "gauge", "Always 1; the version of this uspc is its label.");
	put(&o, "uspc_build_info{version=\"");
	put_label_value(&o, s->version[0] ? s->version : "unknown");
	put(&o, "\"} 1\n");
	return o.len;
}

int core_metrics_add_reason(struct core_metrics_snap *s, const char *name, uint64_t count)
{
	for (size_t i = 0; i < s->n_reasons; i++) {
		if (strncmp(s->reasons[i].name, name, CORE_METRICS_REASON_NAME_MAX - 1) == 0) {
			s->reasons[i].count += count;
			return 0;
		}
	}
	if (s->n_reasons >= CORE_METRICS_REASONS_MAX)
		return -1;
	struct core_metrics_reason *r = &s->reasons[s->n_reasons++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->count = count;
	return 0;
}
