/*
 * api_engine.h — runs one uspctl command line through uspctl's own engine
 * (uspctl_run.h) on a borrowed PostgreSQL connection and hands back its
 * result lines as JSON. This is what makes uspc-api a second front end of
 * one engine: the same selectors, checks, task inserts, waits and result
 * objects as uspctl, no second implementation.
 *
 * Blocking; safe to call from several threads at once, each with its own
 * connection (the engine keeps no state between runs).
 */
#ifndef USPC_API_ENGINE_H
#define USPC_API_ENGINE_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#define API_ENGINE_OUT_MAX (64 * 1024 * 1024) /* result text of one run, bytes */

/*
 * Run cmd (a command object; not modified) on db; actor is who the
 * campaign, profile and token rows it changes name ("api:<token name>"). *lines gets a new array
 * of the result lines (objects, uspctl_out.h's shapes, "id" removed).
 * Returns 0, or -1 when the run itself could not happen or its output was
 * unusable (out of memory, output over API_ENGINE_OUT_MAX, the database
 * lost: *db_lost set), with msg saying why.
 */
int api_engine_run(PGconn *db, const cJSON *cmd, const char *actor, cJSON **lines, int *db_lost,
		   char *msg, size_t msg_cap);

#endif
