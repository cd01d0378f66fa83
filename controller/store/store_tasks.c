/*
 * store_tasks.c — the task feeder thread (see store_tasks.h).
 *
 * Owns: the feeder thread and its PostgreSQL connection (LISTEN
 * uspc_task_new), this node's heartbeat row, the hand-off ring of claimed
 * tasks (under `mu`) and two eventfds: `efd` (tasks ready, read by the
 * core) and `wake_fd` (kick / stop / room freed, read by the feeder).
 * Threads: next/set_in_flight/kick/stats/fd from the core thread; all SQL
 * on the feeder thread.
 * Invariants: a task is claimed by one statement (SKIP LOCKED), pushed
 * into the ring once, and taken by the core once; ring length + reported
 * in-flight never exceeds max_in_flight after a claim; efd is readable
 * whenever the ring is non-empty.
 */
#include "store_tasks.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "store_guard.h"
#include "log.h"
#include "store_sql.h"
#include "store_stmt.h"

#define LOG_COMP "store"
/* How long store_tasks_stop() waits for the thread before cutting its
 * connection (a frozen database answers nothing). */
#define STORE_TASKS_STOP_MS 5000

struct store_tasks {
	/* set at start */
	struct store_conn_opts conn_opts;
	char *conninfo, *password, *password_file, *node_id;
	int max_in_flight, claim_batch, poll_ms, heartbeat_ms, lease_ms, max_attempts;
	int require_onboarded, retry_max_ms;
	int claim_none; /* store_tasks_opts.claim_none */
	int profile_gate;
	int efd, wake_fd;
	pthread_t thread;
	struct store_guard guard; /* lets stop cut the connection the thread is blocked on */

	pthread_mutex_t mu; /* guards ring, max_in_flight, rel and st */
	struct store_task **ring;
	size_t cap, head, len;
	struct store_tasks_stats st;
	/* ids given back by store_tasks_release, not yet written */
	int64_t *rel;
	size_t rel_len, rel_cap;

	atomic_int in_flight;
	atomic_int starved; /* last claim round stopped for lack of room */
	atomic_int stopping;
	atomic_int paused; /* store_tasks_pause: claim nothing more */

	/* The connection store_tasks_start() opened and locked the node on,
	 * handed to the thread (NULL once taken, or when the database was down
	 * at start). */
	PGconn *start_db;

	/* feeder thread only */
	PGconn *db;
	int lock_pid;               /* backend that held our node lock last, or 0 */
	char lock_started[40];      /* its backend_start, to know it again */
	int busy_logged;            /* "node lock held elsewhere" logged since the last success */
	struct store_prepared prep; /* statements prepared on db */
	int recovered_own;          /* own 'sent' tasks re-queued after start */
	int ever_connected;
	int64_t claim_seq_base;
	int64_t claim_count;
	int64_t recover_seq;  /* claim whose reply was lost with the connection, or 0 */
	unsigned maint_count; /* maintain() rounds, for the sweep's period */
	int backoff_ms;
	unsigned rand_seed;
};

#define CLAIM_COL_WALKED 9
#define CLAIM_COL_PARKED 10
#define CLAIM_COL_LAST_ID 11

/* Task row `t` is a request that may safely be sent again. */
#define IDEMPOTENT "(t.op IN (" STORE_TASK_IDEMPOTENT_OPS_SQL "))"

/*
 * Lost 'sent' tasks (their daemon restarted, or stopped heartbeating):
 * those whose request is idempotent go back to 'queued', or fail after
 * max_attempts = $1 claims; the others end 'unknown' — their request may
 * have run on the agent, and running it twice could do harm — keeping
 * claimed_by and sent_at for the operator. Every task that ends is
 * announced on uspc_task_done. Result: counts re-queued, failed, unknown.
 */
#define SQL_REQUEUE(cond, why)                                                                \
	"WITH r AS (UPDATE tasks t SET"                                                       \
	"  state = CASE WHEN NOT " IDEMPOTENT " THEN 'unknown'"                               \
	"   WHEN t.attempts >= $1 THEN 'failed' ELSE 'queued' END,"                           \
	"  finished_at = CASE WHEN NOT " IDEMPOTENT " OR t.attempts >= $1 THEN now() END,"    \
	"  error_code = CASE WHEN " IDEMPOTENT " AND t.attempts >= $1 THEN 7003 END,"         \
	"  error_message = CASE WHEN NOT " IDEMPOTENT                                         \
	" THEN format('outcome unknown: daemon %s " why                                       \
	" after the request may have been sent to the agent; %s is not idempotent, so it"     \
	" is not sent again (attempt %s)', t.claimed_by, t.op, t.attempts)"                   \
	"   WHEN t.attempts >= $1 THEN format('daemon %s " why                                \
	" while holding the task (attempt %s of %s)', t.claimed_by, t.attempts, $1) END,"     \
	"  claimed_by = CASE WHEN " IDEMPOTENT " THEN NULL ELSE t.claimed_by END,"            \
	"  claim_seq = NULL, claimed_at = CASE WHEN " IDEMPOTENT                              \
	" THEN NULL ELSE t.claimed_at END,"                                                   \
	"  sent_at = CASE WHEN " IDEMPOTENT " THEN NULL ELSE t.sent_at END,"                  \
	"  parked = false WHERE t.state = 'sent' AND " cond " RETURNING t.id, t.state),"      \
	" n AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM"           \
	"  (SELECT id, (row_number() OVER ()) / 300 AS grp FROM r WHERE state <> 'queued') x" \
	"  GROUP BY grp),"                                                                    \
	" k AS (SELECT pg_notify('uspc_task_new', '') WHERE EXISTS"                           \
	"  (SELECT 1 FROM r WHERE state = 'queued'))"                                         \
	" SELECT (SELECT count(*) FROM r WHERE state = 'queued'),"                            \
	"  (SELECT count(*) FROM r WHERE state = 'failed'),"                                  \
	"  (SELECT count(*) FROM r WHERE state = 'unknown'), (SELECT count(*) FROM n),"       \
	"  (SELECT count(*) FROM k)"

static const char sql_requeue_own[] = SQL_REQUEUE("t.claimed_by = $2", "restarted");
/* $3: this node. A running feeder never takes its own node's tasks back:
 * it is alive by definition, even when a stall (CPU, slow database) made
 * its own heartbeat row look older than the lease. */
static const char sql_requeue_stale[] = SQL_REQUEUE(
	"t.claimed_by <> $3 AND NOT EXISTS (SELECT 1 FROM daemons d WHERE d.node_id = t.claimed_by"
	" AND d.heartbeat_at > now() - $2::bigint * interval '1 millisecond')",
	"stopped heartbeating (its lease expired)");

/* sql/tasks_sweep.sql runs every SWEEP_POLLS polls. */
#define SWEEP_POLLS 30

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t n = write(fd, &one, sizeof(one));
	(void)n; /* EAGAIN: the counter is already non-zero, the reader wakes anyway */
}

static void fd_drain(int fd)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));
	(void)n;
}

int store_task_op_idempotent(const char *op)
{
	static const char *const ops[] = { STORE_TASK_IDEMPOTENT_OPS };
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i]))
			return 1;
	return 0;
}

void store_task_free(struct store_task *t)
{
	if (!t)
		return;
	free(t->eid);
	free(t->op);
	free(t->request_json);
	free(t->batch_id);
	free(t->reply_topic);
	free(t);
}

/* ---- core-thread API ---------------------------------------------------- */

int store_tasks_fd(const struct store_tasks *f)
{
	return f->efd;
}

int store_tasks_next(struct store_tasks *f, struct store_task **out)
{
	*out = NULL;
	pthread_mutex_lock(&f->mu);
	if (f->len == 0) {
		fd_drain(f->efd);
		pthread_mutex_unlock(&f->mu);
		return STORE_E_NOTFOUND;
	}
	*out = f->ring[f->head];
	f->ring[f->head] = NULL;
	f->head = (f->head + 1) % f->cap;
	f->len--;
	f->st.queued = f->len;
	atomic_fetch_add(&f->in_flight, 1); /* held by the core until it reports otherwise */
	pthread_mutex_unlock(&f->mu);
	return 0;
}

void store_tasks_set_in_flight(struct store_tasks *f, int n)
{
	int old = atomic_exchange(&f->in_flight, n < 0 ? 0 : n);
	if (n < old && atomic_load(&f->starved))
		fd_signal(f->wake_fd);
}

void store_tasks_kick(struct store_tasks *f)
{
	fd_signal(f->wake_fd);
}

/* Under mu: make the ring hold at least want tasks, keeping their order. */
static int ring_grow(struct store_tasks *f, size_t want)
{
	if (want <= f->cap)
		return 0;
	struct store_task **nr = calloc(want, sizeof(*nr));
	if (!nr)
		return STORE_E_NOMEM;
	for (size_t i = 0; i < f->len; i++)
		nr[i] = f->ring[(f->head + i) % f->cap];
	free(f->ring);
	f->ring = nr;
	f->cap = want;
	f->head = 0;
	return 0;
}

int store_tasks_set_max_in_flight(struct store_tasks *f, int n)
{
	if (n < 1 || n > STORE_TASKS_MAX_IN_FLIGHT)
		return STORE_E_ARG;
	pthread_mutex_lock(&f->mu);
	int rc = ring_grow(f, (size_t)n);
	int more = rc == 0 && n > f->max_in_flight;
	if (rc == 0)
		f->max_in_flight = n;
	pthread_mutex_unlock(&f->mu);
	if (more)
		fd_signal(f->wake_fd);
	return rc;
}

void store_tasks_pause(struct store_tasks *f)
{
	atomic_store(&f->paused, 1);
}

int store_tasks_release(struct store_tasks *f, const int64_t *ids, size_t n)
{
	if (n == 0)
		return 0;
	if (!ids || n > STORE_TASKS_MAX_IN_FLIGHT)
		return STORE_E_ARG;
	pthread_mutex_lock(&f->mu);
	int rc = 0;
	if (f->rel_len + n > f->rel_cap) {
		size_t cap = (f->rel_len + n) * 2;
		int64_t *nr = cap <= 4 * (size_t)STORE_TASKS_MAX_IN_FLIGHT
				      ? realloc(f->rel, cap * sizeof(*nr))
				      : NULL;
		if (nr) {
			f->rel = nr;
			f->rel_cap = cap;
		} else {
			rc = STORE_E_NOMEM;
		}
	}
	if (rc == 0) {
		memcpy(f->rel + f->rel_len, ids, n * sizeof(*ids));
		f->rel_len += n;
	}
	pthread_mutex_unlock(&f->mu);
	if (rc == 0)
		fd_signal(f->wake_fd);
	return rc;
}

void store_tasks_stats(struct store_tasks *f, struct store_tasks_stats *out)
{
	pthread_mutex_lock(&f->mu);
	*out = f->st;
	out->queued = f->len;
	pthread_mutex_unlock(&f->mu);
}

/* ---- feeder thread ------------------------------------------------------ */

static char *dup_val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

/* Rows of sql/_task_cols.sql → ring (a row with a NULL id is a claim's summary
 * row, not a task). Returns rows pushed. */
static size_t push_rows(struct store_tasks *f, PGresult *r)
{
	int n = PQntuples(r);
	size_t pushed = 0;
	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < n; i++) {
		if (PQgetisnull(r, i, 0))
			continue;
		struct store_task *t = calloc(1, sizeof(*t));
		if (t) {
			t->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
			t->eid = dup_val(r, i, 1);
			t->op = dup_val(r, i, 2);
			t->request_json = dup_val(r, i, 3);
			t->batch_id = dup_val(r, i, 4);
			t->attempts = atoi(PQgetvalue(r, i, 5));
			t->expires_at_us =
				PQgetisnull(r, i, 6) ? 0 : strtoll(PQgetvalue(r, i, 6), NULL, 10);
			t->reply_topic = dup_val(r, i, 7);
			t->mqtt_version = PQgetisnull(r, i, 8) ? 0 : atoi(PQgetvalue(r, i, 8));
		}
		if (!t || !t->eid || !t->op || !t->request_json || f->len == f->cap) {
			/* Left in 'sent': the lease (or our restart) gives it back. */
			log_error(LOG_COMP,
				  "feeder: cannot hand over task %s (%s); it will be re-queued "
				  "by the lease",
				  PQgetvalue(r, i, 0), t ? "hand-off queue full" : "out of memory");
			store_task_free(t);
			continue;
		}
		f->ring[(f->head + f->len) % f->cap] = t;
		f->len++;
		pushed++;
	}
	f->st.queued = f->len;
	f->st.claimed += pushed;
	if (pushed)
		f->st.claims++;
	if (f->len)
		fd_signal(f->efd);
	pthread_mutex_unlock(&f->mu);
	return pushed;
}

static int room(struct store_tasks *f)
{
	pthread_mutex_lock(&f->mu);
	int r = atomic_load(&f->paused)
			? 0
			: f->max_in_flight - atomic_load(&f->in_flight) - (int)f->len;
	pthread_mutex_unlock(&f->mu);
	return r;
}

/* Claim until there is no room or nothing left to claim: 0. Returns 1 when
 * it stopped after half a heartbeat interval with more to walk (parking a
 * large backlog of an offline fleet's tasks takes one statement per batch,
 * and the heartbeat must not wait for all of them), < 0 on error. */
static int claim_all(struct store_tasks *f, struct uspc_err *err)
{
	int64_t until = mono_ms() + f->heartbeat_ms / 2, after = 0;
	if (f->claim_none)
		return 0;
	for (;;) {
		int space = room(f);
		atomic_store(&f->starved, space <= 0);
		if (space <= 0)
			return 0;
		int want = space < f->claim_batch ? space : f->claim_batch;
		char node_lim[16], onb[2] = { f->require_onboarded ? 't' : 'f', 0 }, seq[24],
				   cursor[24], gate[2] = { f->profile_gate ? 't' : 'f', 0 };
		int64_t this_seq = f->claim_seq_base + ++f->claim_count;
		snprintf(node_lim, sizeof(node_lim), "%d", want);
		snprintf(seq, sizeof(seq), "%" PRId64, this_seq);
		snprintf(cursor, sizeof(cursor), "%" PRId64, after);
		const char *p[6] = { f->node_id, node_lim, onb, seq, cursor, gate };
		PGresult *r = NULL;
		int rc =
			store_exec_prepared(f->db, &f->prep, store_stmt_tasks_claim, 6, p, &r, err);
		if (rc < 0) {
			if (rc == STORE_E_CONN)
				f->recover_seq = this_seq; /* it may have committed */
			return rc;
		}
		int walked = 0, parked = 0;
		if (PQntuples(r) > 0 && PQnfields(r) > CLAIM_COL_LAST_ID) {
			walked = atoi(PQgetvalue(r, 0, CLAIM_COL_WALKED));
			parked = atoi(PQgetvalue(r, 0, CLAIM_COL_PARKED));
			after = strtoll(PQgetvalue(r, 0, CLAIM_COL_LAST_ID), NULL, 10);
		}
		size_t got = push_rows(f, r);
		PQclear(r);
		if (parked) {
			pthread_mutex_lock(&f->mu);
			f->st.parked += (uint64_t)parked;
			pthread_mutex_unlock(&f->mu);
		}
		if (got || parked)
			log_debug(LOG_COMP,
				  "feeder: claimed %zu tasks, parked %d (agent not ready)", got,
				  parked);
		/* A full walk may have more behind it: the next one starts after
		 * it (rows it neither claimed nor parked, whose agents are being
		 * written right now, wait for the writer's notification or the
		 * next round). */
		if (walked < want)
			return 0;
		if (atomic_load(&f->stopping) || mono_ms() >= until)
			return 1;
	}
}

/* After a reconnect: hand over the tasks of a claim whose reply was lost. */
static int recover_claim(struct store_tasks *f, struct uspc_err *err)
{
	if (!f->recover_seq)
		return 0;
	char seq[24];
	snprintf(seq, sizeof(seq), "%" PRId64, f->recover_seq);
	const char *p[2] = { f->node_id, seq };
	PGresult *r = NULL;
	int rc = store_exec(f->db, store_stmt_tasks_recover, 2, p, &r, err);
	if (rc < 0)
		return rc;
	size_t n = push_rows(f, r);
	PQclear(r);
	if (n)
		log_info(LOG_COMP,
			 "feeder: recovered %zu tasks claimed just before the connection "
			 "dropped",
			 n);
	f->recover_seq = 0;
	return 0;
}

/* Run a SQL_REQUEUE statement: $1 max_attempts, $2 arg2, and $3 node_id
 * when with_node. */
static int requeue(struct store_tasks *f, const char *sql, const char *arg2, int with_node,
		   const char *what, struct uspc_err *err)
{
	char attempts[16];
	snprintf(attempts, sizeof(attempts), "%d", f->max_attempts);
	const char *p[3] = { attempts, arg2, f->node_id };
	PGresult *r = NULL;
	int rc = store_exec(f->db, sql, with_node ? 3 : 2, p, &r, err);
	if (rc < 0)
		return rc;
	long long q = atoll(PQgetvalue(r, 0, 0)), failed = atoll(PQgetvalue(r, 0, 1)),
		  unknown = atoll(PQgetvalue(r, 0, 2));
	PQclear(r);
	if (q || failed)
		log_warn(LOG_COMP,
			 "feeder: %s: %lld tasks re-queued, %lld failed after %d attempts", what, q,
			 failed, f->max_attempts);
	if (unknown)
		log_warn(LOG_COMP,
			 "feeder: %s: %lld tasks ended 'unknown' (not idempotent, may have "
			 "reached the agent: not sent again)",
			 what, unknown);
	pthread_mutex_lock(&f->mu);
	f->st.requeued += (uint64_t)q;
	f->st.lost_failed += (uint64_t)failed;
	f->st.lost_unknown += (uint64_t)unknown;
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* Expire old queued tasks and free the tasks of dead daemons. */
static int maintain(struct store_tasks *f, struct uspc_err *err)
{
	PGresult *r = NULL;
	int rc = store_exec(f->db, store_stmt_tasks_expire, 0, NULL, &r, err);
	if (rc < 0)
		return rc;
	long long n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (n) {
		log_info(LOG_COMP, "feeder: %lld queued tasks expired", n);
		pthread_mutex_lock(&f->mu);
		f->st.expired += (uint64_t)n;
		pthread_mutex_unlock(&f->mu);
	}
	if (f->maint_count++ % SWEEP_POLLS == 0) {
		const char *sp[2] = { f->require_onboarded ? "t" : "f",
				      f->profile_gate ? "t" : "f" };
		rc = store_exec(f->db, store_stmt_tasks_sweep, 2, sp, &r, err);
		if (rc < 0)
			return rc;
		n = atoll(PQgetvalue(r, 0, 0));
		PQclear(r);
		if (n) {
			log_warn(LOG_COMP,
				 "feeder: %lld queued tasks were parked although their agent is "
				 "ready; unparked",
				 n);
			pthread_mutex_lock(&f->mu);
			f->st.swept += (uint64_t)n;
			pthread_mutex_unlock(&f->mu);
		}
	}
	char lease[16];
	snprintf(lease, sizeof(lease), "%d", f->lease_ms);
	return requeue(f, sql_requeue_stale, lease, 1, "daemons without heartbeat", err);
}

static int heartbeat(struct store_tasks *f, int starting, struct uspc_err *err)
{
	const char *p[2] = { f->node_id, starting ? "t" : "f" };
	return store_exec(f->db, store_stmt_tasks_heartbeat, 2, p, NULL, err);
}

static void set_connected(struct store_tasks *f, int up)
{
	pthread_mutex_lock(&f->mu);
	f->st.connected = up;
	if (up && f->ever_connected)
		f->st.reconnects++;
	pthread_mutex_unlock(&f->mu);
	if (up)
		f->ever_connected = 1;
}

/* ---- node lock ----------------------------------------------------------- */

/*
 * Session-level advisory lock on (sql/_node_lock_class.sql, 32 bits of
 * md5(node_id): sql/_node_lock_key.sql): held by the feeder's connection as
 * long as it lives, so a second daemon with the same node_id (which would
 * take this one's 'sent' tasks back as its own leftovers, and answer for
 * them) cannot start. The two-key form lives apart from store_schema.c's
 * one-key migration lock.
 */

/* One attempt. 1 taken, 0 held by another session (*holder_pid, and the
 * holder described in err as STORE_E_BUSY), < 0 error. */
static int try_node_lock(struct store_tasks *f, PGconn *c, int *holder_pid, char *holder_start,
			 size_t start_len, struct uspc_err *err)
{
	const char *p[1] = { f->node_id };
	PGresult *r = NULL;
	int rc = store_exec(c, store_stmt_tasks_node_lock, 1, p, &r, err);
	if (rc < 0)
		return rc;
	int got = !strcmp(PQgetvalue(r, 0, 0), "t");
	if (got) {
		f->lock_pid = atoi(PQgetvalue(r, 0, 1));
		snprintf(f->lock_started, sizeof(f->lock_started), "%s", PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	if (got)
		return 1;
	rc = store_exec(c, store_stmt_tasks_node_lock_holder, 1, p, &r, err);
	if (rc < 0)
		return rc;
	*holder_pid = 0;
	holder_start[0] = '\0';
	if (PQntuples(r) == 1) {
		*holder_pid = atoi(PQgetvalue(r, 0, 0));
		snprintf(holder_start, start_len, "%s", PQgetvalue(r, 0, 3));
		uspc_err_set(
			err, STORE_E_BUSY,
			"node_id \"%s\" is in use: another live daemon holds its lock (PostgreSQL "
			"session pid %d, application_name \"%s\", client %s, connected since "
			"%s); stop it, or give this daemon another node_id",
			f->node_id, *holder_pid, PQgetisnull(r, 0, 1) ? "?" : PQgetvalue(r, 0, 1),
			PQgetisnull(r, 0, 2) ? "?" : PQgetvalue(r, 0, 2),
			PQgetisnull(r, 0, 3) ? "?" : PQgetvalue(r, 0, 3));
	} else { /* released in between: the next attempt gets it */
		uspc_err_set(err, STORE_E_BUSY,
			     "node_id \"%s\" is in use by another session (it just let go)",
			     f->node_id);
	}
	PQclear(r);
	return 0;
}

/*
 * Take the node lock on c: 0, STORE_E_BUSY (err names the holder) or
 * another error. A holder that is this feeder's own earlier session (the
 * same pid and start time: the connection died on our side, e.g. in a
 * partition, and the server has not noticed yet) is terminated and the
 * lock taken over; any other holder is a different daemon.
 */
static int take_node_lock(struct store_tasks *f, PGconn *c, struct uspc_err *err)
{
	char start[40];
	int holder = 0, terminated = 0;
	for (int attempt = 0; attempt < 40; attempt++) {
		int rc = try_node_lock(f, c, &holder, start, sizeof(start), err);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		int ours = holder && holder == f->lock_pid && !strcmp(start, f->lock_started);
		if (holder && !ours)
			return STORE_E_BUSY;
		if (ours && !terminated) {
			char pid[16];
			const char *p[1] = { pid };
			snprintf(pid, sizeof(pid), "%d", holder);
			log_warn(LOG_COMP,
				 "feeder: our previous database session (pid %d) still holds the "
				 "node lock; terminating it",
				 holder);
			struct uspc_err ignored = { 0 };
			(void)store_exec(c, "SELECT pg_terminate_backend($1::int)", 1, p, NULL,
					 &ignored);
			terminated = 1;
		}
		/* ours going away, or a holder that just let go: try again */
		struct timespec ts = { 0, 50 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return STORE_E_BUSY;
}

/* Connect, LISTEN, heartbeat; on the first connection re-queue our own
 * leftovers from a previous run. */
static int connect_feeder(struct store_tasks *f, struct uspc_err *err)
{
	int rc = 0;
	store_prepared_reset(&f->prep);
	if (f->start_db) { /* opened and locked by store_tasks_start() */
		f->db = f->start_db;
		f->start_db = NULL;
	} else {
		rc = store_conn_open(&f->conn_opts, &f->db, err);
		if (rc == 0)
			rc = take_node_lock(f, f->db, err);
		if (rc == STORE_E_BUSY && !f->busy_logged++)
			log_error(LOG_COMP, "feeder: claiming nothing: %s", err->msg);
	}
	if (f->db)
		store_guard_set(&f->guard, f->db);
	if (rc == 0)
		rc = store_exec(f->db, "LISTEN uspc_task_new", 0, NULL, NULL, err);
	if (rc == 0)
		rc = heartbeat(f, !f->recovered_own, err);
	if (rc == 0 && !f->recovered_own) {
		rc = requeue(f, sql_requeue_own, f->node_id, 0,
			     "tasks left by this node's last run", err);
		if (rc == 0)
			f->recovered_own = 1;
	}
	if (rc == 0)
		rc = recover_claim(f, err);
	if (rc < 0) {
		store_guard_clear(&f->guard);
		PQfinish(f->db);
		f->db = NULL;
		return rc;
	}
	if (f->busy_logged)
		log_info(LOG_COMP, "feeder: node lock for \"%s\" taken", f->node_id);
	f->busy_logged = 0;
	if (f->ever_connected)
		log_info(LOG_COMP, "feeder: database connection restored");
	set_connected(f, 1);
	return 0;
}

/* Wait for the socket, a wake-up or the timeout. Returns 1 if there is a
 * reason to claim (notification or kick). */
static int wait_events(struct store_tasks *f, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = f->wake_fd, .events = POLLIN },
			       { .fd = f->db ? PQsocket(f->db) : -1, .events = POLLIN } };
	int want = 0;
	if (poll(p, f->db ? 2 : 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
		return 0;
	if (p[0].revents & POLLIN) {
		fd_drain(f->wake_fd);
		want = 1;
	}
	if (f->db && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
		PQconsumeInput(f->db);
	return want;
}

static int drain_notifies(struct store_tasks *f)
{
	int n = 0;
	PGnotify *nt;
	while (f->db && (nt = PQnotifies(f->db)) != NULL) {
		n++;
		PQfreemem(nt);
	}
	if (n) {
		pthread_mutex_lock(&f->mu);
		f->st.notifies += (uint64_t)n;
		pthread_mutex_unlock(&f->mu);
	}
	return n;
}

static int release_claimed(struct store_tasks *f, int ring);

/* One round while connected: releases, heartbeat, maintenance, claims. */
static int feeder_round(struct store_tasks *f, int64_t *next_hb, int64_t *next_maint, int *want,
			struct uspc_err *err)
{
	int64_t now = mono_ms();
	int rc = 0;
	(void)release_claimed(f, 0); /* logged; a lost connection shows below */
	if (now >= *next_hb) {
		rc = heartbeat(f, 0, err);
		*next_hb = now + f->heartbeat_ms;
	}
	if (rc == 0 && now >= *next_maint) {
		rc = maintain(f, err);
		*next_maint = now + f->poll_ms;
		*want = 1;
	}
	if (rc == 0 && *want) {
		rc = claim_all(f, err);
		if (rc >= 0) {
			*want = rc; /* 1: more to walk, after this round's heartbeat check */
			rc = 0;
		}
	}
	return rc;
}

static void feeder_failed(struct store_tasks *f, const struct uspc_err *err, int *warned)
{
	if (!(*warned)++)
		log_warn(LOG_COMP, "feeder: %s", err->msg);
	if (f->db && PQstatus(f->db) != CONNECTION_OK) {
		store_guard_clear(&f->guard);
		PQfinish(f->db);
		f->db = NULL;
		set_connected(f, 0);
	}
	int ms = f->backoff_ms / 2 +
		 (int)(rand_r(&f->rand_seed) % (unsigned)(f->backoff_ms / 2 + 1));
	f->backoff_ms = f->backoff_ms * 2 > f->retry_max_ms ? f->retry_max_ms : f->backoff_ms * 2;
	wait_events(f, ms);
}

/* Under mu: move the ids of store_tasks_release() into an array literal
 * (and, with ring, the tasks still in the hand-off ring, which are freed).
 * Returns the number of ids added. */
static size_t take_releases(struct store_tasks *f, struct store_buf *ids, int ring)
{
	size_t n = f->rel_len;
	for (size_t i = 0; i < f->rel_len; i++)
		store_arr_add_i64(ids, f->rel[i]);
	f->rel_len = 0;
	for (; ring && f->len; f->len--, f->head = (f->head + 1) % f->cap, n++) {
		store_arr_add_i64(ids, f->ring[f->head]->id);
		store_task_free(f->ring[f->head]);
		f->ring[f->head] = NULL;
	}
	f->st.queued = f->len;
	return n;
}

/* Put claimed tasks that were never sent back to 'queued': the ids given
 * to store_tasks_release() and, at stop (ring = 1), the hand-off ring. A
 * failure is logged; the lease (or our restart) re-queues them instead. */
static int release_claimed(struct store_tasks *f, int ring)
{
	struct store_buf ids;
	struct uspc_err err = { 0 };
	int rc = 0;
	pthread_mutex_lock(&f->mu);
	if (f->rel_len == 0 && (!ring || f->len == 0)) {
		pthread_mutex_unlock(&f->mu);
		return 0;
	}
	store_buf_init(&ids, (f->rel_len + (ring ? f->len : 0)) * 24 + 16);
	store_arr_begin(&ids);
	size_t n = take_releases(f, &ids, ring);
	pthread_mutex_unlock(&f->mu);
	store_arr_end(&ids);
	const char *p[2] = { store_buf_str(&ids), f->node_id };
	PGresult *r = NULL;
	if (!f->db)
		rc = uspc_err_set(&err, STORE_E_CONN, "not connected");
	else if (!p[0])
		rc = uspc_err_set(&err, STORE_E_NOMEM, "out of memory");
	else
		rc = store_exec(f->db, store_stmt_tasks_release, 2, p, &r, &err);
	if (rc == 0) {
		log_info(LOG_COMP, "feeder: released %s of %zu claimed unsent task(s) to 'queued'",
			 PQcmdTuples(r), n);
		pthread_mutex_lock(&f->mu);
		f->st.released += (uint64_t)atoll(PQcmdTuples(r));
		pthread_mutex_unlock(&f->mu);
	} else {
		log_warn(LOG_COMP,
			 "feeder: could not release %zu claimed unsent task(s) (%s); the "
			 "lease will re-queue them",
			 n, err.msg);
	}
	PQclear(r);
	store_buf_fini(&ids);
	return rc;
}

static void *feeder_main(void *arg)
{
	struct store_tasks *f = arg;
	int64_t next_hb = 0, next_maint = 0;
	int want = 1, warned = 0;
	(void)pthread_setname_np(pthread_self(), STORE_TASKS_THREAD_NAME);
	while (!atomic_load(&f->stopping)) {
		struct uspc_err err = { 0 };
		if (!f->db) {
			if (connect_feeder(f, &err) < 0) {
				feeder_failed(f, &err, &warned);
				continue;
			}
			next_hb = mono_ms() + f->heartbeat_ms;
			next_maint = 0;
			want = 1;
		}
		if (feeder_round(f, &next_hb, &next_maint, &want, &err) < 0) {
			feeder_failed(f, &err, &warned);
			continue;
		}
		warned = 0;
		f->backoff_ms = 100;
		if (drain_notifies(f))
			want = 1;
		if (want)
			continue;
		int64_t now = mono_ms();
		int64_t until = next_hb < next_maint ? next_hb : next_maint;
		if (wait_events(f, (int)(until - now)))
			want = 1;
		if (f->db && PQstatus(f->db) != CONNECTION_OK) {
			err.code = STORE_E_CONN;
			snprintf(err.msg, sizeof(err.msg), "connection lost");
			feeder_failed(f, &err, &warned);
		}
		if (drain_notifies(f))
			want = 1;
	}
	release_claimed(f, 1);
	if (f->db) {
		store_guard_clear(&f->guard);
		PQfinish(f->db);
		f->db = NULL;
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------- */

static void tasks_free(struct store_tasks *f)
{
	if (!f)
		return;
	if (f->ring)
		for (size_t i = 0; i < f->cap; i++)
			store_task_free(f->ring[i]);
	if (f->start_db)
		PQfinish(f->start_db);
	free(f->ring);
	free(f->rel);
	if (f->efd >= 0)
		close(f->efd);
	if (f->wake_fd >= 0)
		close(f->wake_fd);
	free(f->conninfo);
	if (f->password) {
		memset(f->password, 0, strlen(f->password));
		free(f->password);
	}
	free(f->password_file);
	free(f->node_id);
	store_guard_fini(&f->guard);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static int opt(int v, int def)
{
	return v > 0 ? v : def;
}

static int tasks_init(struct store_tasks *f, const struct store_tasks_opts *o)
{
	f->max_in_flight = opt(o->max_in_flight, 1000);
	f->claim_batch = opt(o->claim_batch, 200);
	f->poll_ms = opt(o->poll_ms, 2000);
	f->heartbeat_ms = opt(o->heartbeat_ms, 5000);
	f->lease_ms = opt(o->lease_ms, 15000);
	f->max_attempts = opt(o->max_attempts, 3);
	f->retry_max_ms = opt(o->retry_max_ms, 5000);
	f->require_onboarded = o->require_onboarded ? 1 : 0;
	f->claim_none = o->claim_none ? 1 : 0;
	f->profile_gate = o->profile_gate ? 1 : 0;
	f->backoff_ms = 100;
	f->rand_seed = (unsigned)mono_ms() ^ (unsigned)(uintptr_t)f;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	f->claim_seq_base = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	f->conninfo = o->conn.conninfo ? strdup(o->conn.conninfo) : NULL;
	f->password = o->conn.password ? strdup(o->conn.password) : NULL;
	f->password_file = o->conn.password_file ? strdup(o->conn.password_file) : NULL;
	f->node_id = strdup(o->node_id);
	f->conn_opts = o->conn;
	f->conn_opts.conninfo = f->conninfo;
	f->conn_opts.password = f->password;
	f->conn_opts.password_file = f->password_file;
	f->conn_opts.application_name = "uspc-feeder";
	f->conn_opts.keyed_access = 1;
	if (o->statement_timeout_ms > 0)
		f->conn_opts.statement_timeout_ms = o->statement_timeout_ms;
	f->cap = (size_t)f->max_in_flight;
	f->ring = calloc(f->cap, sizeof(*f->ring));
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!f->ring || !f->node_id || f->efd < 0 || f->wake_fd < 0 ||
	    (o->conn.conninfo && !f->conninfo) || (o->conn.password && !f->password) ||
	    (o->conn.password_file && !f->password_file))
		return STORE_E_NOMEM; /* or eventfd failed: errno says which */
	return 0;
}

int store_tasks_start(const struct store_tasks_opts *o, struct store_tasks **out,
		      struct uspc_err *err)
{
	*out = NULL;
	if (!o || !o->node_id || !*o->node_id || strlen(o->node_id) > STORE_NAME_MAX)
		return uspc_err_set(err, STORE_E_ARG,
				    "task feeder: node_id is required (1..%d bytes)",
				    STORE_NAME_MAX);
	if (o->max_in_flight > STORE_TASKS_MAX_IN_FLIGHT)
		return uspc_err_set(err, STORE_E_ARG, "task feeder: max_in_flight %d above %d",
				    o->max_in_flight, STORE_TASKS_MAX_IN_FLIGHT);
	struct store_tasks *f = calloc(1, sizeof(*f));
	if (!f)
		return uspc_err_set(err, STORE_E_NOMEM, "task feeder: out of memory");
	f->efd = f->wake_fd = -1;
	pthread_mutex_init(&f->mu, NULL);
	store_guard_init(&f->guard);
	int rc = tasks_init(f, o);
	if (rc < 0) {
		int e = errno;
		tasks_free(f);
		return uspc_err_set(err, rc, "task feeder: cannot allocate: %s", strerror(e));
	}
	/* The node lock before anything else: a second daemon with our
	 * node_id must not start (nor re-queue the first one's tasks as its
	 * own leftovers). With the database down the thread takes it later,
	 * before it touches any task. */
	struct uspc_err cerr = { 0 };
	if (store_conn_open(&f->conn_opts, &f->start_db, &cerr) == 0) {
		rc = take_node_lock(f, f->start_db, err);
		if (rc == STORE_E_CONN) { /* lost at once: as if it were down */
			log_warn(LOG_COMP, "feeder: %s; node \"%s\" is locked once it is back",
				 err->msg, f->node_id);
			PQfinish(f->start_db);
			f->start_db = NULL;
		} else if (rc < 0) {
			tasks_free(f);
			return rc;
		}
	} else {
		log_warn(LOG_COMP,
			 "feeder: database not reachable at start (%s); node \"%s\" is locked "
			 "once it is",
			 cerr.msg, f->node_id);
	}
	int e = pthread_create(&f->thread, NULL, feeder_main, f);
	if (e) {
		tasks_free(f);
		return uspc_err_set(err, STORE_E_NOMEM, "task feeder: cannot start thread: %s",
				    strerror(e));
	}
	*out = f;
	return 0;
}

void store_tasks_stop(struct store_tasks *f)
{
	if (!f)
		return;
	atomic_store(&f->stopping, 1);
	fd_signal(f->wake_fd);
	/* A frozen server trips no timeout: past the budget, cut the
	 * connection (unsent tasks then stay with the lease). */
	if (store_guard_join(&f->guard, f->thread, STORE_TASKS_STOP_MS))
		log_warn(LOG_COMP,
			 "feeder: the database did not answer within %d ms of the stop; "
			 "its connection was cut",
			 STORE_TASKS_STOP_MS);
	tasks_free(f);
}
