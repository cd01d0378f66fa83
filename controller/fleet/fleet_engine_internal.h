/*
 * fleet_engine_internal.h — what the engine's thread (fleet_engine.c) and
 * its pass over one campaign (fleet_pass.c) share: the engine's state and
 * the one call between them. Not part of the fleet library's interface.
 */
#ifndef USPC_FLEET_ENGINE_INTERNAL_H
#define USPC_FLEET_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "fleet_engine.h"
#include "store_conn.h"
#include "store_guard.h"
#include "usp_err.h"

#define FLEET_CURSORS 64
#define PROFILE_CACHE_MAX 256

struct prof_cache; /* profile_pass.c: parsed definitions */

/* Owned by the engine's thread, except st (under mu) and stop_fd. */
struct fleet_engine {
	struct fleet_engine_opts o;
	char node[128];
	pthread_t thread;
	int stop_fd;
	struct store_guard guard;
	PGconn *db;
	struct store_prepared prep; /* statements prepared on db */
	int ever_connected;
	pthread_mutex_t mu;
	struct fleet_engine_stats st;
	uint64_t tasks_this_pass;
	/* staged_cursor(): per campaign id, a hint */
	int64_t cursor_campaign[FLEET_CURSORS];
	int64_t cursor[FLEET_CURSORS];
	struct prof_cache *pcache;
};

/* Add n to one of e->st's counters (under e->mu). */
void fleet_engine_count(struct fleet_engine *e, uint64_t *field, uint64_t n);

/* Advance campaign id in one transaction on e->db (fleet_pass.c): 0 done
 * or skipped (another engine holds it), < 0 a database error. */
int fleet_pass_campaign(struct fleet_engine *e, int64_t id, struct uspc_err *err);

/* One pass of the profile engine (profile_pass.c): 0, or < 0 a database
 * error (the pass's open transaction, if any, is rolled back). */
int profile_pass(struct fleet_engine *e, struct uspc_err *err);
void profile_cache_free(struct prof_cache *c);

#endif
