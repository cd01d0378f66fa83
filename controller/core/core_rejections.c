/*
 * core_rejections.c — rejected records into the store's `rejections` table:
 * core_reject() counts each one in a bounded map per (sender, reason)
 * (core_rejmap.h), and about once a second the map's rows go to the store
 * writer, one op per row (store_writer_rejection), so a flood of bad
 * records costs at most max keys + one row per reason per second, never a
 * write per record.
 *
 * Never blocks the core: while the writer's queue is three-quarters full
 * (c->writer_ok) nothing is submitted, and a submit refused with
 * STORE_E_FULL leaves that row and the ones after it in the map, still
 * counting, for the next flush. rejections_max_rows = 0 turns it off.
 *
 * Core thread only.
 */
#include <string.h>
#include <time.h>

#include "core_internal.h"
#include "core_rejmap.h"
#include "log.h"

#define CORE_REJ_FLUSH_MS 1000

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void core_rejections_note(struct core *c, const char *reason, const char *sender, const char *topic,
			  const char *detail)
{
	if (c->cfg->rejections_max_rows <= 0)
		return;
	if (!c->rejmap && !(c->rejmap = core_rejmap_new(CORE_REJ_KEYS_DEFAULT))) {
		c->rej_lost++;
		return;
	}
	(void)core_rejmap_note(c->rejmap, reason, sender, topic, detail, wall_us());
}

/* Log what could not be kept, at most once per flush interval. */
static void report_lost(struct core *c)
{
	uint64_t lost = c->rej_lost + core_rejmap_lost(c->rejmap);
	if (lost == c->rej_lost_logged)
		return;
	log_warn(CORE_LOG,
		 "%llu rejected record(s) not counted in the rejections table (out of memory, "
		 "or more than %d reasons past the sender cap at once); the stats line counts "
		 "them all",
		 (unsigned long long)(lost - c->rej_lost_logged), CORE_REJ_REASONS_MAX);
	c->rej_lost_logged = lost;
}

void core_rejections_flush(struct core *c, int64_t now_ms, int final)
{
	size_t n = core_rejmap_len(c->rejmap);
	if (n == 0 || !c->writer || (!final && now_ms < c->rej_next_flush_ms))
		return;
	c->rej_next_flush_ms = now_ms + CORE_REJ_FLUSH_MS;
	report_lost(c);
	if (!final && !c->writer_ok)
		return; /* the writer catches up first; the rows keep counting */
	size_t done = 0;
	for (; done < n; done++) {
		const struct core_rej_entry *e = core_rejmap_at(c->rejmap, done);
		struct store_rejection r = { .sender = e->sender,
					     .reason = e->reason,
					     .topic = e->topic[0] ? e->topic : NULL,
					     .detail = e->detail,
					     .count = (int64_t)e->count,
					     .first_us = e->first_us,
					     .last_us = e->last_us,
					     .max_rows = c->cfg->rejections_max_rows,
					     .retention_s = c->cfg->rejections_retention_s };
		int rc = store_writer_rejection(c->writer, &r, &c->serr);
		if (rc == STORE_E_FULL)
			break; /* this row and the rest: next time */
		if (rc != 0)
			log_warn(CORE_LOG, "%llu rejection(s) of %s not stored: %s",
				 (unsigned long long)e->count, e->sender, c->serr.msg);
	}
	if (final && done < n)
		log_warn(CORE_LOG,
			 "stop: %zu row(s) of rejection counts not stored (store queue full)",
			 n - done);
	core_rejmap_drop(c->rejmap, done);
}
