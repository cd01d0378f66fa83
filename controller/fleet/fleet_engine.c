/*
 * fleet_engine.c — the campaign engine thread (fleet_engine.h). Owns its
 * PostgreSQL connection, its statistics (under mu) and nothing else: all
 * campaign state is in the database, so any daemon's engine can pick up
 * where another stopped.
 *
 * A pass takes every unsettled campaign in turn (fleet_pass.c: one
 * transaction per campaign, under its row lock), then, once a minute,
 * sweeps parked devices whose agent is ready. Passes run every poll_ms,
 * and sooner when uspctl changes a campaign (NOTIFY uspc_campaign) or
 * tasks finish (NOTIFY uspc_task_done).
 */
#include "fleet_engine.h"
#include "fleet_engine_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "fleet_stmt.h"
#include "log.h"
#include "store_guard.h"

#define LOG_COMP "campaign"
#define SWEEP_EVERY_MS 60000
#define MIN_PASS_GAP_MS 200
/* A stop waits this long for the pass in progress, then cuts the
 * connection (the pass's transaction rolls back: nothing is lost). The
 * daemon asks for the stop at SIGTERM and joins at exit, seconds later, so
 * a healthy pass has long ended; a frozen database is not waited for. */
#define FLEET_ENGINE_STOP_MS 200
/* Connection attempts give up after this (libpq's connect_timeout), so a
 * stop never waits long on a frozen server. */
#define FLEET_ENGINE_CONNECT_TIMEOUT_S 3

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(struct fleet_engine *e)
{
	struct pollfd p = { .fd = e->stop_fd, .events = POLLIN };
	return poll(&p, 1, 0) > 0;
}

void fleet_engine_count(struct fleet_engine *e, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&e->mu);
	*field += n;
	pthread_mutex_unlock(&e->mu);
}

static int64_t col_i64(PGresult *r, int row, int c)
{
	return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

/* ---- the thread ---------------------------------------------------------------------- */

static void disconnect(struct fleet_engine *e)
{
	if (!e->db)
		return;
	store_guard_clear(&e->guard);
	PQfinish(e->db);
	e->db = NULL;
	store_prepared_reset(&e->prep);
	pthread_mutex_lock(&e->mu);
	e->st.connected = 0;
	pthread_mutex_unlock(&e->mu);
}

static int connect_db(struct fleet_engine *e)
{
	struct uspc_err err = { 0 };
	if (store_conn_open(&e->o.conn, &e->db, &err) < 0 ||
	    store_exec(e->db, "LISTEN uspc_campaign", 0, NULL, NULL, &err) < 0 ||
	    store_exec(e->db, "LISTEN uspc_task_done", 0, NULL, NULL, &err) < 0 ||
	    store_exec(e->db, "LISTEN uspc_profile", 0, NULL, NULL, &err) < 0) {
		log_warn(LOG_COMP, "engine: database not reachable: %s", err.msg);
		if (e->db)
			PQfinish(e->db);
		e->db = NULL;
		return -1;
	}
	store_guard_set(&e->guard, e->db);
	if (e->ever_connected)
		log_info(LOG_COMP, "engine: database connection restored");
	e->ever_connected = 1;
	pthread_mutex_lock(&e->mu);
	e->st.connected = 1;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

static void pass(struct fleet_engine *e, int64_t *next_sweep)
{
	struct uspc_err err = { 0 };
	PGresult *r = NULL;
	e->tasks_this_pass = 0;
	int rc = e->o.campaigns ? store_exec(e->db, fleet_stmt_engine_unsettled, 0, NULL, &r, &err)
				: 0;
	for (int i = 0; rc == 0 && r && i < PQntuples(r) && !stopping(e); i++) {
		int64_t id = col_i64(r, i, 0);
		rc = fleet_pass_campaign(e, id, &err);
		if (rc < 0 && !store_err_is_transient(&err) && rc != STORE_E_CONN) {
			/* a statement this campaign's data breaks: log, go on */
			log_error(LOG_COMP, "campaign %" PRId64 ": pass failed: %s", id, err.msg);
			fleet_engine_count(e, &e->st.db_errors, 1);
			rc = 0;
		}
	}
	PQclear(r);
	if (rc == 0 && e->o.profiles && !stopping(e)) {
		rc = profile_pass(e, &err);
		if (rc < 0 && !store_err_is_transient(&err) && rc != STORE_E_CONN &&
		    !store_err_needs_reconnect(&err)) {
			log_error("profile", "engine: pass failed: %s", err.msg);
			fleet_engine_count(e, &e->st.db_errors, 1);
			rc = 0;
		}
	}
	if (rc == 0 && e->tasks_this_pass)
		rc = store_exec(e->db, "SELECT pg_notify('uspc_task_new', 'campaign')", 0, NULL,
				NULL, &err);
	if (rc == 0 && e->o.campaigns && mono_ms() >= *next_sweep) {
		*next_sweep = mono_ms() + SWEEP_EVERY_MS;
		PGresult *s = NULL;
		rc = store_exec(e->db, fleet_stmt_engine_sweep, 0, NULL, &s, &err);
		if (rc == 0 && strtoll(PQcmdTuples(s), NULL, 10) > 0)
			log_warn(LOG_COMP,
				 "sweep: %s parked campaign device(s) of ready agents "
				 "unparked",
				 PQcmdTuples(s));
		PQclear(s);
	}
	fleet_engine_count(e, &e->st.passes, 1);
	fleet_engine_count(e, &e->st.tasks, e->tasks_this_pass);
	if (rc < 0) {
		fleet_engine_count(e, &e->st.db_errors, 1);
		log_warn(LOG_COMP, "engine: pass failed: %s", err.msg);
		if (rc == STORE_E_CONN || store_err_needs_reconnect(&err))
			disconnect(e);
	}
}

/* Sleep up to ms, or less when woken: 1 when told to stop, 2 when a
 * notification came (consumed here), else 0. */
static int nap(struct fleet_engine *e, int ms)
{
	struct pollfd p[2] = { { .fd = e->stop_fd, .events = POLLIN },
			       { .fd = e->db ? PQsocket(e->db) : -1, .events = POLLIN } };
	int woken = 0;
	if (poll(p, e->db ? 2 : 1, ms) > 0) {
		if (p[0].revents)
			return 1;
		if (e->db && p[1].revents) {
			PQconsumeInput(e->db);
			PGnotify *n;
			while ((n = PQnotifies(e->db)) != NULL) {
				PQfreemem(n);
				woken = 2;
			}
		}
	}
	return woken;
}

static void *engine_main(void *arg)
{
	struct fleet_engine *e = arg;
	(void)pthread_setname_np(pthread_self(), "uspc-campaign");
	int64_t next_sweep = mono_ms() + SWEEP_EVERY_MS;
	while (!stopping(e)) {
		if (!e->db && connect_db(e) < 0) {
			if (nap(e, 2000))
				break;
			continue;
		}
		int64_t t0 = mono_ms();
		pass(e, &next_sweep);
		int64_t spent = mono_ms() - t0;
		int w = 0;
		/* at most one pass per MIN_PASS_GAP_MS; a wake-up during that gap
		 * (consumed by the nap) means the next pass runs right after it */
		if (spent < MIN_PASS_GAP_MS && (w = nap(e, (int)(MIN_PASS_GAP_MS - spent))) == 1)
			break;
		if (w == 2)
			continue;
		if (e->db && nap(e, e->o.poll_ms) == 1)
			break;
	}
	disconnect(e);
	return NULL;
}

int fleet_engine_start(const struct fleet_engine_opts *o, struct fleet_engine **out,
		       struct uspc_err *err)
{
	struct fleet_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	e->o = *o;
	if (e->o.conn.connect_timeout_s <= 0 ||
	    e->o.conn.connect_timeout_s > FLEET_ENGINE_CONNECT_TIMEOUT_S)
		e->o.conn.connect_timeout_s = FLEET_ENGINE_CONNECT_TIMEOUT_S;
	if (e->o.poll_ms <= 0)
		e->o.poll_ms = 1000;
	if (e->o.devices_per_pass <= 0)
		e->o.devices_per_pass = 2000;
	if (e->o.profile_max_inflight <= 0)
		e->o.profile_max_inflight = 2000;
	if (e->o.profile_scope_s <= 0)
		e->o.profile_scope_s = 300;
	if (e->o.profile_contest_count <= 0)
		e->o.profile_contest_count = 3;
	if (e->o.profile_contest_window_s <= 0)
		e->o.profile_contest_window_s = 3600;
	snprintf(e->node, sizeof(e->node), "%s", o->node_id ? o->node_id : "uspc");
	e->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&e->mu, NULL);
	store_guard_init(&e->guard);
	if (e->stop_fd < 0 || pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		int saved = errno;
		if (e->stop_fd >= 0)
			close(e->stop_fd);
		store_guard_fini(&e->guard);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return uspc_err_set(err, USPC_E_SYS, "campaign engine: %s", strerror(saved));
	}
	*out = e;
	return 0;
}

void fleet_engine_request_stop(struct fleet_engine *e)
{
	uint64_t one = 1;
	if (e && write(e->stop_fd, &one, sizeof(one)) < 0)
		log_warn(LOG_COMP, "engine: stop signal: %s", strerror(errno));
}

void fleet_engine_stop(struct fleet_engine *e)
{
	if (!e)
		return;
	fleet_engine_request_stop(e);
	if (store_guard_join(&e->guard, e->thread, FLEET_ENGINE_STOP_MS))
		log_warn(LOG_COMP, "engine: database unresponsive at stop; its pass was cut "
				   "(rolled back)");
	close(e->stop_fd);
	store_guard_fini(&e->guard);
	pthread_mutex_destroy(&e->mu);
	profile_cache_free(e->pcache);
	free(e);
}

void fleet_engine_stats(struct fleet_engine *e, struct fleet_engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	*out = e->st;
	pthread_mutex_unlock(&e->mu);
}
