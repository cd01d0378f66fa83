/*
 * core.c — the core loop: one epoll set over the MQTT transport's wake fd,
 * the task feeder's fd, a 100 ms timerfd and a signalfd. The thread running
 * core_run() owns the registry, the tracker, the outbox and the timers; the
 * transport (Paho threads), the store writer and the feeder run their own
 * threads and talk to us only through their queues.
 *
 * Back-pressure: while the outbox (publishes refused with BUSY) is long or
 * the writer's queue is three-quarters full, the core stops taking MQTT
 * events and tasks (their fds leave the epoll set) and retries on the tick;
 * the transport's own bounded in-queue then holds arrivals back in Paho.
 *
 * Stop: SIGTERM/SIGINT give every claimed task not yet sent (waiting in
 * the feeder's hand-off queue or for a per-agent slot) back to 'queued' and
 * stop the feeder, then the loop keeps serving until every tracked request is
 * answered or drain_timeout_ms passes; then the transport drains its window
 * and the writer flushes. A second signal cuts the drain short.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "core_internal.h"
#include "core_rejmap.h"
#include "core_status.h"
#include "log.h"
#include "redact.h"
#include "store_schema.h"

int64_t core_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int core_block_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* ---- rejections, store submits, pressure -------------------------------- */

/* Copy peer-controlled text for a log line: bounded, printable only. */
static void safe_text(char *dst, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s && *s && i + 1 < cap; s++)
		dst[i++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	dst[i] = '\0';
}

void core_reject(struct core *c, const char *reason, const char *sender, const char *topic,
		 const char *detail)
{
	core_rejections_note(c, reason, sender, topic, detail);
	struct core_reason *r = NULL;
	for (size_t i = 0; i < c->n_reasons; i++)
		if (strcmp(c->reasons[i].name, reason) == 0)
			r = &c->reasons[i];
	if (!r && c->n_reasons < CORE_MAX_REASONS) {
		r = &c->reasons[c->n_reasons++];
		r->name = reason;
		r->last_log_ms = -1;
	}
	c->ctr.rejected++;
	if (!r)
		return;
	r->count++;
	int64_t now = core_now_ms();
	if (r->last_log_ms >= 0 &&
	    now - r->last_log_ms < (int64_t)c->cfg->reject_log_interval_s * 1000) {
		r->suppressed++;
		return;
	}
	char who[96], what[160];
	safe_text(who, sizeof(who), sender ? sender : "?");
	safe_text(what, sizeof(what), detail ? detail : "");
	log_warn(CORE_LOG, "rejected (%s) from %s: %s [%llu more since the last such line]", reason,
		 who, what, (unsigned long long)r->suppressed);
	r->suppressed = 0;
	r->last_log_ms = now;
}

void core_submit_done(struct core *c, const char *what, int rc)
{
	if (rc == 0)
		return;
	if (rc == STORE_E_FULL)
		c->ctr.store_lost++;
	log_error(CORE_LOG, "store %s not queued (%s): %s", what, store_error_name(rc),
		  c->serr.msg);
}

void core_wait_writer(struct core *c)
{
	c->ctr.store_full_waits++;
	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
}

static void refresh_pressure(struct core *c)
{
	struct store_writer_stats ws;
	store_writer_stats(c->writer, &ws);
	size_t cap = (size_t)c->cfg->db_writer_queue;
	c->writer_ok = ws.queue_ops < cap - cap / 4 && ws.queue_bytes < (192u << 20);
}

/*
 * Inbound MQTT is held back only by the store: the outbox drains on PUBACKs,
 * which Paho processes on the same receive thread that hands us arrivals, so
 * gating arrivals on the outbox would let a full in-queue block that thread
 * and the outbox would never drain (a deadlock seen under notify load).
 */
int core_accepting(struct core *c)
{
	return c->writer_ok;
}

/* New work (claimed tasks, onboarding) also waits while the outbox is long. */
int core_accepting_work(struct core *c)
{
	return c->writer_ok && c->out_len < CORE_OUTBOX_SOFT_CAP;
}

static void arm(struct core *c, int fd, int *armed, int want)
{
	if (fd < 0 || *armed == want)
		return;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	if (epoll_ctl(c->epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev) == 0)
		*armed = want;
}

static void update_arming(struct core *c)
{
	int acc = core_accepting(c);
	arm(c, c->wake_fd, &c->wake_armed, acc);
	arm(c, c->feed_fd, &c->feed_armed, core_accepting_work(c) && !c->stopping && c->feeder);
}

/* ---- stats line and systemd's STATUS= ------------------------------------- */

/* STATUS= (systemctl status) after head ("READY=1\n", "STOPPING=1\n" or
 * ""), from the stats line's numbers; sd_notify sends nothing without
 * NOTIFY_SOCKET. */
static void notify_status(struct core *c, const char *head, const struct mqtt_mtp_stats *ms,
			  const struct store_writer_stats *ws)
{
	struct core_status s = {
		.agents = core_registry_count(c->reg),
		.online = core_registry_online(c->reg),
		.pending = core_tracker_count(c->trk),
		.done = c->ctr.tasks_done,
		.failed = c->ctr.tasks_failed,
		.db_up = ws->connected,
		.mqtt_up = ms->connected,
		.draining = c->stopping,
	};
	char text[CORE_STATUS_MAX];
	core_status_format(&s, text, sizeof(text));
	sd_notifyf(0, "%sSTATUS=%s", head, text);
}

static void notify_status_now(struct core *c, const char *head)
{
	struct mqtt_mtp_stats ms;
	struct store_writer_stats ws;
	mqtt_mtp_get_stats(c->mtp, &ms);
	store_writer_stats(c->writer, &ws);
	notify_status(c, head, &ms, &ws);
}

static void stats_line(struct core *c, int64_t now)
{
	struct mqtt_mtp_stats ms;
	struct store_writer_stats ws;
	struct store_tasks_stats ts = { 0 };
	mqtt_mtp_get_stats(c->mtp, &ms);
	store_writer_stats(c->writer, &ws);
	if (c->feeder)
		store_tasks_stats(c->feeder, &ts);
	struct fleet_engine_stats fs;
	fleet_engine_stats(c->engine, &fs);
	double secs = (double)(now - c->last_stats_ms) / 1000.0;
	if (secs <= 0)
		secs = 1;
	log_info(
		"stats",
		"agents=%zu online=%zu in=%.0f/s out=%.0f/s pending=%zu tasks_held=%d deferred=%zu "
		"onboard_queue=%zu outbox=%zu mqtt_in_q=%zu mqtt_out_q=%zu inflight=%zu mqtt_busy=%llu mqtt=%s "
		"store_q=%zu store_lag_ms=%lld store=%s feeder_q=%zu rejected=%llu timeouts=%llu "
		"unknown_resp=%llu notifies=%llu notify_retries=%llu retry_answers_skipped=%llu "
		"answers_shed=%llu tasks_done=%llu tasks_failed=%llu tasks_parked=%llu "
		"held_answers=%zu tasks_unknown=%llu requests_resent=%llu evicted=%llu "
		"publish_expired=%llu paho_renewed=%llu campaign_steps=%llu campaign_db=%s "
		"profile_runs=%llu profile_steps=%llu profile_verdicts=%llu profile_interrupted=%llu",
		core_registry_count(c->reg), core_registry_online(c->reg),
		(double)(c->ctr.records_in - c->last_in) / secs,
		(double)(c->ctr.records_out - c->last_out) / secs, core_tracker_count(c->trk),
		c->tasks_held, c->deferred, c->onb_q.len, c->out_len, ms.in_queue_depth,
		ms.out_queue_depth, ms.inflight, (unsigned long long)ms.busy_returns,
		ms.connected ? "up" : "down", ws.queue_ops + ws.batch_ops, (long long)ws.lag_ms,
		ws.connected ? "up" : "down", ts.queued,
		(unsigned long long)(c->ctr.rejected + ms.in_dropped_too_big),
		(unsigned long long)c->ctr.timeouts, (unsigned long long)c->ctr.unknown_responses,
		(unsigned long long)c->ctr.notifies, (unsigned long long)c->ctr.notify_dups,
		(unsigned long long)c->ctr.notify_resps_skipped,
		(unsigned long long)c->ctr.notify_resps_shed, (unsigned long long)c->ctr.tasks_done,
		(unsigned long long)c->ctr.tasks_failed, (unsigned long long)ts.parked, c->held_len,
		(unsigned long long)c->ctr.tasks_unknown,
		(unsigned long long)c->ctr.requests_resent,
		(unsigned long long)core_registry_evicted(c->reg),
		(unsigned long long)ms.publish_expired, (unsigned long long)ms.paho_renewed,
		(unsigned long long)(fs.advanced + fs.started),
		!c->engine     ? "off"
		: fs.connected ? "up"
			       : "down",
		(unsigned long long)fs.profile_started, (unsigned long long)fs.profile_steps,
		(unsigned long long)fs.profile_verdicts,
		(unsigned long long)fs.profile_interrupted);
	c->last_in = c->ctr.records_in;
	c->last_out = c->ctr.records_out;
	c->last_stats_ms = now;
	notify_status(c, "", &ms, &ws);
	if (c->n_reasons == 0)
		return;
	char buf[900];
	size_t n = 0;
	for (size_t i = 0; i < c->n_reasons && n < sizeof(buf) - 64; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%llu", c->reasons[i].name,
				      (unsigned long long)c->reasons[i].count);
	log_info("stats", "rejected by reason:%s", buf);
}

/* ---- the snapshot of /metrics and /healthz --------------------------------- */

#ifndef USPC_VERSION
#define USPC_VERSION "unknown"
#endif

_Static_assert(CORE_METRICS_REASONS_MAX >= CORE_MAX_REASONS + 2,
	       "a snapshot holds every reason, other and transport_too_large");

/* The stats line's numbers, as a snapshot for the metrics listener. Runs
 * before the transport and the store exist too (all zero then). */
static void metrics_publish(struct core *c)
{
	struct core_metrics_snap *s = &c->msnap;
	if (!c->metrics)
		return;
	memset(s, 0, sizeof(*s));
	struct mqtt_mtp_stats ms = { 0 };
	struct store_writer_stats ws = { 0 };
	struct store_tasks_stats ts = { 0 };
	struct fleet_engine_stats fs;
	if (c->mtp)
		mqtt_mtp_get_stats(c->mtp, &ms);
	if (c->writer)
		store_writer_stats(c->writer, &ws);
	if (c->feeder) {
		store_tasks_stats(c->feeder, &ts);
		c->last_parked = ts.parked;
	}
	fleet_engine_stats(c->engine, &fs);
	s->agents = c->reg ? core_registry_count(c->reg) : 0;
	s->agents_online = c->reg ? core_registry_online(c->reg) : 0;
	s->pending_requests = c->trk ? core_tracker_count(c->trk) : 0;
	s->tasks_held = c->tasks_held > 0 ? (uint64_t)c->tasks_held : 0;
	s->tasks_deferred = c->deferred;
	s->feeder_queue = ts.queued;
	s->onboard_queue = c->onb_q.len;
	s->outbox = c->out_len;
	s->held_answers = c->held_len;
	s->mqtt_in_queue = ms.in_queue_depth;
	s->mqtt_out_queue = ms.out_queue_depth;
	s->mqtt_inflight = ms.inflight;
	s->store_queue = ws.queue_ops + ws.batch_ops;
	s->store_lag_seconds = (double)ws.lag_ms / 1000.0;
	s->mqtt_connected = ms.connected;
	s->db_connected = ws.connected;
	s->engine_running = c->engine != NULL;
	s->engine_db_connected = fs.connected;
	if (c->retention) {
		struct store_retention_stats rs;
		store_retention_stats(c->retention, &rs);
		s->retention_running = 1;
		s->retention_runs = rs.runs;
		s->retention_created = rs.created;
		s->retention_dropped = rs.dropped;
		s->retention_errors = rs.errors;
		s->retention_last_run_seconds = (double)rs.last_run_s;
	}
	s->draining = c->stopping;
	s->start_time_seconds = c->start_unix_s;
	s->uptime_seconds = (double)(core_now_ms() - c->start_ms) / 1000.0;
	s->records_in = c->ctr.records_in;
	s->records_out = c->ctr.records_out;
	s->timeouts = c->ctr.timeouts;
	s->unknown_responses = c->ctr.unknown_responses;
	s->notifies = c->ctr.notifies;
	s->notify_retries = c->ctr.notify_dups;
	s->retry_answers_skipped = c->ctr.notify_resps_skipped;
	s->answers_shed = c->ctr.notify_resps_shed;
	s->tasks_done = c->ctr.tasks_done;
	s->tasks_failed = c->ctr.tasks_failed;
	s->tasks_parked = c->last_parked;
	s->tasks_unknown = c->ctr.tasks_unknown;
	s->requests_resent = c->ctr.requests_resent;
	s->agents_evicted = c->reg ? core_registry_evicted(c->reg) : 0;
	s->mqtt_busy = ms.busy_returns;
	s->publish_expired = ms.publish_expired;
	s->paho_renewed = ms.paho_renewed;
	s->campaign_steps = fs.advanced + fs.started;
	s->profile_runs = fs.profile_started;
	s->profile_steps = fs.profile_steps;
	s->profile_verdicts = fs.profile_verdicts;
	s->profile_interrupted = fs.profile_interrupted;
	uint64_t named = 0;
	for (size_t i = 0; i < c->n_reasons; i++) {
		core_metrics_add_reason(s, c->reasons[i].name, c->reasons[i].count);
		named += c->reasons[i].count;
	}
	/* rejections past the reasons table's size count in ctr.rejected only */
	if (c->ctr.rejected > named)
		core_metrics_add_reason(s, "other", c->ctr.rejected - named);
	if (ms.in_dropped_too_big)
		core_metrics_add_reason(s, "transport_too_large", ms.in_dropped_too_big);
	core_metrics_publish(c->metrics, s);
}

/* Start the listener (metrics_listen not ""): a port that cannot be bound
 * is a configuration error. */
static int start_metrics(struct core *c, struct uspc_err *err)
{
	if (!c->cfg->metrics_listen[0]) {
		log_info(CORE_LOG, "metrics off (metrics_listen = \"\")");
		return 0;
	}
	int rc = core_metrics_start(c->cfg->metrics_listen, USPC_VERSION, &c->metrics, err);
	if (rc != 0)
		return rc;
	log_info(CORE_LOG, "metrics on http://%s/metrics, health on http://%s/healthz",
		 core_metrics_address(c->metrics), core_metrics_address(c->metrics));
	metrics_publish(c);
	return 0;
}

/* ---- agents waiting for a request slot ------------------------------------ */

int core_agentq_push(struct core_agentq *q, struct core_agent *a)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 256;
		struct core_agent **n = realloc(q->a, cap * sizeof(*n));
		if (!n)
			return USPC_E_NOMEM;
		q->a = n;
		q->cap = cap;
	}
	q->a[q->len++] = a;
	return 0;
}

void core_agentq_drain(struct core *c, struct core_agentq *q,
		       void (*send)(struct core *, struct core_agent *))
{
	size_t i = 0;
	while (i < q->len && core_tracker_count(c->trk) < (size_t)c->cfg->max_pending &&
	       !c->stopping)
		send(c, q->a[i++]);
	if (i) {
		memmove(q->a, q->a + i, (q->len - i) * sizeof(*q->a));
		q->len -= i;
	}
}

/* ---- timers -------------------------------------------------------------- */

static void expire_requests(struct core *c, int64_t now)
{
	struct core_req *r;
	while ((r = core_tracker_pop_expired(c->trk, now))) {
		struct core_agent *a = r->agent;
		c->ctr.timeouts++;
		a->consecutive_timeouts++;
		log_debug(CORE_LOG, "%s: %s %s timed out", a->eid, usp_msg_type_name(r->type),
			  r->msg_id);
		if (a->consecutive_timeouts >= c->cfg->offline_after_timeouts) {
			char why[80];
			snprintf(why, sizeof(why), "%d consecutive request timeouts",
				 a->consecutive_timeouts);
			core_agent_offline(c, a, why);
		}
		core_finish_request(c, r, NULL);
	}
}

/* systemd's watchdog: the core loop is alive while it ticks. Pinged at a
 * quarter of WATCHDOG_USEC (nothing is sent when the unit has none). */
static void watchdog(struct core *c, int64_t now)
{
	if (c->watchdog_ms <= 0 || now < c->next_watchdog_ms)
		return;
	sd_notify(0, "WATCHDOG=1");
	c->next_watchdog_ms = now + c->watchdog_ms / 4;
}

static void on_commit(struct core *c)
{
	uint64_t n;
	if (read(c->commit_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn(CORE_LOG, "commit eventfd read: %s", strerror(errno));
	core_release_held(c);
	core_flush_outbox(c);
}

static void on_tick(struct core *c)
{
	uint64_t n;
	if (read(c->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn(CORE_LOG, "timerfd read: %s", strerror(errno));
	int64_t now = core_now_ms();
	refresh_pressure(c);
	core_release_held(c);
	core_flush_outbox(c);
	expire_requests(c, now);
	watchdog(c, now);
	core_rejections_flush(c, now, 0);
	core_onboard_pump(c);
	if (c->cfg->stats_interval_s > 0 && now >= c->next_stats_ms) {
		stats_line(c, now);
		c->next_stats_ms = now + (int64_t)c->cfg->stats_interval_s * 1000;
	}
	if (now >= c->next_metrics_ms) {
		metrics_publish(c);
		c->next_metrics_ms = now + CORE_METRICS_EVERY_MS;
	}
	if (core_trim_due(&c->trim, now, c->ctr.records_in + c->ctr.records_out)) {
		uint64_t freed = core_trim_heap();
		log_debug(CORE_LOG,
			  "burst over: %" PRIu64 " KiB of free heap given back in %" PRId64 " ms",
			  freed / 1024, core_now_ms() - now);
	}
}

/* ---- signals: reload and stop --------------------------------------------- */

/* max_pending after a reload: tasks and onboarding may each hold that many
 * tracker entries, so it is capped at half the tracker's fixed size. */
static void apply_max_pending(struct core *c)
{
	int lim = (int)(c->trk_cap / 2);
	if (c->cfg->max_pending > lim) {
		log_warn(CORE_LOG,
			 "SIGHUP: max_pending %d needs a restart (the request tracker was "
			 "sized at start); using %d",
			 c->cfg->max_pending, lim);
		c->cfg->max_pending = lim;
	}
	if (c->cfg->max_pending_per_agent > c->cfg->max_pending)
		c->cfg->max_pending_per_agent = c->cfg->max_pending;
	if (c->feeder && store_tasks_set_max_in_flight(c->feeder, c->cfg->max_pending) != 0)
		log_warn(CORE_LOG,
			 "SIGHUP: the task feeder keeps its old claim limit (out of memory)");
}

static void reload(struct core *c)
{
	struct core_config n;
	struct core_config_cmd cmd;
	struct uspc_err err = { 0 };
	core_config_init(&n);
	if (core_config_load(&n, &cmd, c->src, &err) != 0) {
		log_error(CORE_LOG, "SIGHUP: configuration not reloaded: %s", err.msg);
	} else {
		int fixed = 0;
		int changed = core_config_apply_reloadable(c->cfg, &n, &fixed);
		log_set_level((enum log_level)log_level_from_name(c->cfg->log_level));
		apply_max_pending(c);
		/* Written whatever the (new) level: the operator asked for it. */
		log_write(LOG_LVL_INFO, CORE_LOG,
			  "SIGHUP: configuration reloaded, %d setting(s) "
			  "changed%s",
			  changed, fixed ? "; some changed settings need a restart" : "");
		c->next_stats_ms = core_now_ms() + (int64_t)c->cfg->stats_interval_s * 1000;
	}
	core_config_cmd_fini(&cmd);
	core_config_fini(&n);
}

static void begin_stop(struct core *c, int signo)
{
	int64_t now = core_now_ms();
	if (c->stopping) {
		log_warn(CORE_LOG, "second stop signal: cutting the drain short");
		c->drain_deadline_ms = now;
		return;
	}
	c->stopping = 1;
	notify_status_now(c, "STOPPING=1\n");
	metrics_publish(c); /* /healthz: 503 from now on */
	c->drain_deadline_ms = now + c->cfg->drain_timeout_ms;
	log_info(CORE_LOG, "signal %d: stopping; draining %zu pending requests (up to %d ms)",
		 signo, core_tracker_count(c->trk), c->cfg->drain_timeout_ms);
	arm(c, c->feed_fd, &c->feed_armed, 0);
	if (c->feeder)
		store_tasks_pause(c->feeder);
	size_t released = core_tasks_release_deferred(c);
	if (released)
		log_info(CORE_LOG,
			 "stop: %zu claimed task(s) still waiting for an agent slot given "
			 "back to 'queued'",
			 released);
	if (c->feeder) {
		store_tasks_stop(c->feeder);
		c->feeder = NULL;
		c->feed_fd = -1;
	}
	/* no campaign step starts during the drain: each pass is one
	 * transaction per campaign (committed or rolled back), so another
	 * daemon or the next start carries on; the thread is joined at exit */
	fleet_engine_request_stop(c->engine);
	for (size_t i = 0; i < c->onb_q.len; i++)
		c->onb_q.a[i]->onboard_queued = 0;
	c->onb_q.len = 0;
	core_probe_queue_clear(c);
}

static void on_signal(struct core *c)
{
	struct signalfd_siginfo si;
	while (read(c->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(c);
		else
			begin_stop(c, (int)si.ssi_signo);
	}
}

static void on_wake(struct core *c)
{
	struct mqtt_mtp_event ev;
	core_flush_outbox(c);
	refresh_pressure(c);
	for (int i = 0; i < 512 && core_accepting(c); i++) {
		if (mqtt_mtp_next_event(c->mtp, &ev) != 1)
			break;
		core_handle_mtp_event(c, &ev);
		mqtt_mtp_event_fini(&ev);
		if ((i & 63) == 63)
			refresh_pressure(c);
	}
	core_flush_outbox(c);
}

static int drained(struct core *c)
{
	if (core_now_ms() >= c->drain_deadline_ms)
		return 1;
	return core_tracker_count(c->trk) == 0 && c->out_len == 0;
}

/* Stop, step 2 (requests drained): let the writer commit, send the answers
 * that became durable, stop MQTT, store what arrived but was not handled
 * yet (Paho acknowledged it to the broker: it exists nowhere else), and
 * stop the writer. Exit 0 only when no store op was lost. */
static int finish_stop(struct core *c)
{
	int64_t deadline = core_now_ms() + c->cfg->store_drain_timeout_ms;
	sd_notifyf(0, "STATUS=stopping: committing to the database (up to %d ms)",
		   c->cfg->store_drain_timeout_ms);
	if (store_writer_flush(c->writer, c->cfg->store_drain_timeout_ms) != 0)
		log_warn(CORE_LOG, "stop: the store did not commit everything within %d ms",
			 c->cfg->store_drain_timeout_ms);
	core_release_held(c);
	int64_t until = core_now_ms() + 2000;
	for (core_flush_outbox(c); c->out_len && core_now_ms() < until; core_flush_outbox(c)) {
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	if (c->mtp) {
		mqtt_mtp_stop(c->mtp, 2000);
		c->mtp_stopped = 1;
		struct mqtt_mtp_event ev;
		size_t late = 0;
		while (mqtt_mtp_next_event(c->mtp, &ev) == 1) {
			if (ev.kind == MQTT_MTP_EV_MESSAGE)
				late++;
			core_handle_mtp_event(c, &ev);
			mqtt_mtp_event_fini(&ev);
		}
		if (late)
			log_info(CORE_LOG,
				 "stop: stored %zu record(s) that arrived during the stop (not "
				 "answered: their agents send them again)",
				 late);
	}
	c->ctr.answers_lost_stop = core_held_free(c);
	if (c->ctr.answers_lost_stop)
		log_info(CORE_LOG,
			 "stop: %llu answer(s) not sent because their rows were not committed in "
			 "time; the agents send those notifications again",
			 (unsigned long long)c->ctr.answers_lost_stop);
	core_rejections_flush(c, core_now_ms(), 1);
	int64_t left = deadline - core_now_ms();
	uint64_t lost[STORE_WRITER_KINDS] = { 0 };
	size_t unwritten = store_writer_stop_report(c->writer, left > 0 ? (int)left : 0, lost);
	c->writer = NULL;
	if (unwritten == 0 && c->ctr.store_lost == 0)
		return c->exit_code;
	char buf[512];
	size_t n = 0;
	for (unsigned k = 0; k < STORE_WRITER_KINDS && n < sizeof(buf) - 64; k++)
		if (lost[k])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%llu",
					      store_writer_kind_name(k),
					      (unsigned long long)lost[k]);
	log_error(CORE_LOG,
		  "stop: data LOST: %zu store op(s) not written (the database was unreachable for "
		  "store_drain_timeout_ms %d ms):%s; %llu op(s) refused earlier by a full writer "
		  "queue",
		  unwritten, c->cfg->store_drain_timeout_ms, n ? buf : " (none)",
		  (unsigned long long)c->ctr.store_lost);
	return 1;
}

int core_run(struct core *c)
{
	struct epoll_event evs[8];
	c->last_stats_ms = core_now_ms();
	c->next_stats_ms = c->last_stats_ms + (int64_t)c->cfg->stats_interval_s * 1000;
	refresh_pressure(c);
	update_arming(c);
	metrics_publish(c);
	c->next_metrics_ms = c->last_stats_ms + CORE_METRICS_EVERY_MS;
	log_info(CORE_LOG, "running as %s (node %s), listening on %s, replies on %s",
		 c->cfg->endpoint_id, c->cfg->node_id, c->cfg->controller_topic,
		 c->cfg->reply_topic);
	notify_status_now(c, "READY=1\n");
	while (!(c->stopping && drained(c))) {
		int n = epoll_wait(c->epfd, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			log_error(CORE_LOG, "epoll_wait: %s", strerror(errno));
			c->exit_code = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == c->tfd)
				on_tick(c);
			else if (fd == c->sfd)
				on_signal(c);
			else if (fd == c->wake_fd)
				on_wake(c);
			else if (fd == c->commit_fd)
				on_commit(c);
			else if (fd == c->feed_fd && c->feeder)
				core_tasks_pump(c);
		}
		update_arming(c);
	}
	return finish_stop(c);
}

/* ---- start-up and shutdown -------------------------------------------------- */

static void conn_opts(const struct core_config *cfg, struct store_conn_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->conninfo = cfg->db;
	o->password = cfg->db_password && cfg->db_password[0] ? cfg->db_password : NULL;
	o->application_name = "uspc";
}

/* Connect once and apply migrations, retrying while PostgreSQL starts. */
static int migrate(struct core *c, struct uspc_err *err)
{
	struct store_conn_opts o;
	conn_opts(c->cfg, &o);
	char redacted[512];
	uspc_redact(c->cfg->db, redacted, sizeof(redacted));
	for (int attempt = 1;; attempt++) {
		PGconn *pg = NULL;
		int applied = 0;
		int rc = store_conn_open(&o, &pg, err);
		if (rc == 0)
			rc = store_schema_migrate(pg, &applied, err);
		if (rc == 0 && store_agents_to_probe(pg, (size_t)c->cfg->max_pending * 8,
						     &c->reconcile, &c->n_reconcile, err) != 0) {
			log_warn(CORE_LOG, "start-up: agents to probe not read: %s", err->msg);
			rc = 0;
		}
		if (pg)
			PQfinish(pg);
		if (rc == 0) {
			log_info(CORE_LOG,
				 "database %s ready (schema version %d, %d migration(s) applied)",
				 redacted, store_schema_latest(), applied);
			return 0;
		}
		if (rc == STORE_E_SCHEMA || attempt >= 30)
			return rc;
		/* A connection error already names the (redacted) database. */
		log_warn(CORE_LOG, "database not ready (attempt %d of 30): %s; retrying", attempt,
			 err->msg);
		sleep(1);
	}
}

/* The maintenance thread (partitions and retention), unless this daemon
 * leaves it to others (maintenance_interval_s = 0). */
static int start_retention(struct core *c, struct uspc_err *err)
{
	const struct core_config *cfg = c->cfg;
	if (cfg->maintenance_interval_s == 0) {
		log_info(CORE_LOG, "maintenance off on this daemon (maintenance_interval_s = 0)");
		return 0;
	}
	struct store_retention_opts ro = { 0 };
	conn_opts(cfg, &ro.conn);
	ro.conn.application_name = "uspc-retention";
	ro.interval_s = cfg->maintenance_interval_s;
	ro.policy.keep_days[STORE_RET_NOTIFICATIONS] = cfg->retention_notifications_days;
	ro.policy.keep_days[STORE_RET_TASKS] = cfg->retention_tasks_days;
	ro.policy.keep_days[STORE_RET_PROFILE_HISTORY] = cfg->retention_profile_history_days;
	ro.policy.keep_days[STORE_RET_OPERATION_RESULTS] = cfg->retention_operation_results_days;
	ro.policy.ahead_days = cfg->partition_ahead_days;
	ro.policy.clock_offset_s = cfg->maintenance_clock_offset_s;
	ro.policy.lock_timeout_ms = CORE_PARTITION_DROP_LOCK_MS;
	if (ro.policy.clock_offset_s)
		log_warn(CORE_LOG,
			 "maintenance_clock_offset_s = %d: the maintenance reads today %d s off "
			 "the real clock (a test setting)",
			 cfg->maintenance_clock_offset_s, cfg->maintenance_clock_offset_s);
	return store_retention_start(&ro, &c->retention, err);
}

static int start_store(struct core *c, struct uspc_err *err)
{
	int rc = migrate(c, err);
	if (rc != 0)
		return rc;
	/* Tasks wait until their agent has onboarded since it came online; the
	 * writer and the feeder must agree on it (store_writer.h). */
	const int require_onboarded = 1;
	struct store_writer_opts wo = { 0 };
	conn_opts(c->cfg, &wo.conn);
	wo.node_id = c->cfg->node_id;
	wo.queue_max_ops = (size_t)c->cfg->db_writer_queue;
	wo.batch_max_ops = (size_t)c->cfg->db_writer_batch;
	wo.tasks_require_onboarded = require_onboarded;
	wo.conn.statement_timeout_ms = CORE_DB_STATEMENT_TIMEOUT_MS;
	rc = store_writer_start(&wo, &c->writer, err);
	if (rc != 0)
		return rc;
	c->commit_fd = store_writer_commit_fd(c->writer);
	struct store_tasks_opts to = { 0 };
	conn_opts(c->cfg, &to.conn);
	to.node_id = c->cfg->node_id;
	to.max_in_flight = c->cfg->max_pending;
	to.poll_ms = c->cfg->task_poll_ms;
	to.lease_ms = c->cfg->task_lease_s * 1000;
	to.heartbeat_ms = to.lease_ms / 3 > 0 ? to.lease_ms / 3 : 1000;
	to.require_onboarded = require_onboarded;
	to.profile_gate = c->cfg->profile_gate && c->cfg->profiles;
	to.conn.statement_timeout_ms = CORE_DB_STATEMENT_TIMEOUT_MS;
	rc = store_tasks_start(&to, &c->feeder, err);
	if (rc != 0)
		return rc;
	c->feed_fd = store_tasks_fd(c->feeder);
	rc = start_retention(c, err);
	if (rc != 0)
		return rc;
	if (!c->cfg->campaigns && !c->cfg->profiles) {
		log_info(CORE_LOG,
			 "campaign and profile engine off (campaigns = profiles = false)");
		return 0;
	}
	struct fleet_engine_opts fo = { 0 };
	conn_opts(c->cfg, &fo.conn);
	fo.conn.application_name = "uspc-campaigns";
	fo.conn.statement_timeout_ms = CORE_DB_STATEMENT_TIMEOUT_MS;
	fo.node_id = c->cfg->node_id;
	fo.poll_ms = c->cfg->campaign_poll_ms;
	fo.campaigns = c->cfg->campaigns;
	fo.profiles = c->cfg->profiles;
	fo.profile_max_inflight = c->cfg->profile_max_inflight;
	fo.profile_scope_s = c->cfg->profile_scope_s;
	fo.profile_contest_count = c->cfg->profile_contest_count;
	fo.profile_contest_window_s = c->cfg->profile_contest_window_s;
	fo.profile_stamp_path = c->cfg->profile_stamp_path;
	fo.profile_gate = c->cfg->profile_gate;
	fo.clock_offset_s = c->cfg->campaign_clock_offset_s;
	if (fo.clock_offset_s)
		log_warn(CORE_LOG,
			 "campaign_clock_offset_s = %d: maintenance windows are read %d s off the "
			 "real clock (a test setting)",
			 c->cfg->campaign_clock_offset_s, c->cfg->campaign_clock_offset_s);
	return fleet_engine_start(&fo, &c->engine, err);
}

static int start_mtp(struct core *c, struct uspc_err *err)
{
	struct mqtt_mtp_config m;
	char subs_buf[2][700];
	const char *subs[2];
	const struct core_config *cfg = c->cfg;
	mqtt_mtp_config_init(&m);
	m.broker_url = cfg->mqtt_url;
	m.client_id = cfg->mqtt_client_id;
	m.endpoint_id = cfg->endpoint_id;
	m.username = cfg->mqtt_username[0] ? cfg->mqtt_username : NULL;
	m.password = cfg->mqtt_password && cfg->mqtt_password[0] ? cfg->mqtt_password : NULL;
	m.keepalive_s = cfg->mqtt_keepalive_s;
	m.clean_start = cfg->mqtt_clean_start;
	m.session_expiry_s = (uint32_t)cfg->mqtt_session_expiry_s;
	m.tcp_nodelay = cfg->mqtt_tcp_nodelay;
	m.ca_file = cfg->mqtt_ca_file[0] ? cfg->mqtt_ca_file : NULL;
	m.cert_file = cfg->mqtt_cert_file[0] ? cfg->mqtt_cert_file : NULL;
	m.key_file = cfg->mqtt_key_file[0] ? cfg->mqtt_key_file : NULL;
	m.tls_insecure = !cfg->mqtt_tls_verify;
	/* The bare controller topic (unchecked agents, agent_identity optional;
	 * refused and counted otherwise) and one identity level below it. */
	const char *share = cfg->shared_group[0] ? "$share/" : "";
	const char *group = cfg->shared_group[0] ? cfg->shared_group : "";
	const char *slash = cfg->shared_group[0] ? "/" : "";
	snprintf(subs_buf[0], sizeof(subs_buf[0]), "%s%s%s%s", share, group, slash,
		 cfg->controller_topic);
	snprintf(subs_buf[1], sizeof(subs_buf[1]), "%s%s%s%s/+", share, group, slash,
		 cfg->controller_topic);
	subs[0] = subs_buf[0];
	subs[1] = subs_buf[1];
	m.sub_topics = subs;
	m.n_sub_topics = 2;
	m.response_topic = cfg->reply_topic;
	m.max_inflight = cfg->mqtt_max_inflight;
	m.out_queue_cap = (size_t)cfg->mqtt_out_queue;
	m.in_queue_cap = (size_t)cfg->mqtt_in_queue;
	/* Twice the record cap: records up to that size reach the core and are
	 * counted as record_too_large; larger ones are dropped by the transport
	 * (counted in its in_dropped_too_big, included in the stats line). */
	m.max_payload = (size_t)cfg->max_record_size * 2;
	m.reconnect_min_ms = cfg->mqtt_reconnect_min_ms;
	m.reconnect_max_ms = cfg->mqtt_reconnect_max_ms;
	c->mtp = mqtt_mtp_new(&m, err);
	if (!c->mtp)
		return err && err->code < 0 ? err->code : MQTT_MTP_E_INVAL;
	c->wake_fd = mqtt_mtp_wake_fd(c->mtp);
	if (cfg->mqtt_session_expiry_s > 0 && !cfg->mqtt_clean_start)
		log_info(CORE_LOG,
			 "MQTT session of client id %s is kept by the broker for %d s "
			 "while this daemon is away",
			 cfg->mqtt_client_id, cfg->mqtt_session_expiry_s);
	else
		log_warn(CORE_LOG,
			 "MQTT session not kept (mqtt_clean_start=%s, mqtt_session_expiry=%d):"
			 " what agents publish while this daemon is away is lost",
			 cfg->mqtt_clean_start ? "true" : "false", cfg->mqtt_session_expiry_s);
	int rc = mqtt_mtp_start(c->mtp);
	if (rc != 0)
		return uspc_err_set(err, rc, "MQTT transport did not start: %s (see log)",
				    uspc_strerror(rc));
	return 0;
}

static int start_loop_fds(struct core *c, struct uspc_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	c->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (c->epfd < 0 || c->tfd < 0 || c->sfd < 0)
		return uspc_err_set(err, USPC_E_SYS, "epoll/timerfd/signalfd: %s", strerror(errno));
	struct itimerspec its = { { 0, CORE_TICK_MS * 1000000L }, { 0, CORE_TICK_MS * 1000000L } };
	timerfd_settime(c->tfd, 0, &its, NULL);
	int fds[2] = { c->tfd, c->sfd };
	for (int i = 0; i < 2; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fds[i], &ev) != 0)
			return uspc_err_set(err, USPC_E_SYS, "epoll_ctl: %s", strerror(errno));
	}
	return 0;
}

struct core *core_new(struct core_config *cfg, const struct core_config_sources *src,
		      struct uspc_err *err)
{
	struct core *c = calloc(1, sizeof(*c));
	if (!c) {
		uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	c->src = src;
	c->start_ms = core_now_ms();
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	c->start_unix_s = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	c->epfd = c->tfd = c->sfd = c->wake_fd = c->feed_fd = c->commit_fd = -1;
	uint64_t wd_usec = 0;
	if (sd_watchdog_enabled(0, &wd_usec) > 0)
		c->watchdog_ms = (int64_t)(wd_usec / 1000);
	c->rec_limits.max_record_size = (size_t)cfg->max_record_size;
	uint64_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	usp_msgid_init(&c->idgen, "uspc", rnd, (uint64_t)time(NULL));
	c->reg = core_registry_new((size_t)cfg->max_agents);
	c->trk_cap = (size_t)cfg->max_pending * 4 + 1024;
	c->trk = core_tracker_new(c->trk_cap);
	if (!c->reg || !c->trk) {
		uspc_err_set(err, USPC_E_NOMEM, "out of memory");
		goto fail;
	}
	if (start_loop_fds(c, err) != 0 || start_metrics(c, err) != 0 || start_store(c, err) != 0 ||
	    start_mtp(c, err) != 0)
		goto fail;
	struct epoll_event cev = { .events = EPOLLIN, .data.fd = c->commit_fd };
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->commit_fd, &cev) != 0) {
		uspc_err_set(err, USPC_E_SYS, "epoll_ctl: %s", strerror(errno));
		goto fail;
	}
	if (c->watchdog_ms > 0)
		log_info(CORE_LOG, "systemd watchdog: pinging every %lld ms",
			 (long long)c->watchdog_ms / 4);
	if (!c->cfg->identity_required)
		log_warn(CORE_LOG,
			 "*** agent_identity = optional: records on the bare topics %s and %s are "
			 "accepted WITHOUT checking that their from_id is the client the broker "
			 "authenticated; any client of this broker can speak for any agent. "
			 "Development only. ***",
			 c->cfg->controller_topic, c->cfg->reply_topic);
	return c;
fail:
	core_free(c);
	return NULL;
}

static void free_agent_tasks(struct core_agent *a, void *arg)
{
	core_tasks_free_deferred(arg, a);
}

void core_free(struct core *c)
{
	if (!c)
		return;
	/* The listener first: its port closes as soon as the shutdown starts. */
	core_metrics_stop(c->metrics);
	c->metrics = NULL;
	size_t left = 0;
	struct core_req *r;
	while (c->trk && (r = core_tracker_pop_any(c->trk))) {
		if (r->kind == CORE_REQ_TASK) {
			store_task_free(r->ctx);
			c->tasks_held--;
			left++;
		}
		core_req_free(r);
	}
	size_t deferred = c->deferred;
	if (c->reg)
		core_registry_foreach(c->reg, free_agent_tasks, c);
	if (left || deferred)
		log_warn(CORE_LOG,
			 "%zu task(s) unanswered at exit stay 'sent'; they are re-queued "
			 "when this node restarts or its lease expires",
			 left + deferred);
	fleet_engine_stop(c->engine);
	c->engine = NULL;
	store_retention_stop(c->retention);
	c->retention = NULL;
	if (c->feeder)
		store_tasks_stop(c->feeder);
	if (c->mtp) {
		if (!c->mtp_stopped) {
			core_flush_outbox(c);
			mqtt_mtp_stop(c->mtp, 2000);
		}
		mqtt_mtp_free(c->mtp);
	}
	core_outbox_free(c);
	core_held_free(c);
	if (c->writer) {
		size_t unwritten = store_writer_stop(c->writer, c->cfg->drain_timeout_ms + 5000);
		if (unwritten)
			log_error(CORE_LOG, "%zu store op(s) could not be written before exit",
				  unwritten);
	}
	store_agent_refs_free(c->reconcile, c->n_reconcile);
	core_tracker_free(c->trk);
	core_registry_free(c->reg);
	core_rejmap_free(c->rejmap);
	free(c->onb_q.a);
	free(c->probe_q.a);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->tfd >= 0)
		close(c->tfd);
	if (c->sfd >= 0)
		close(c->sfd);
	free(c);
}
