/*
 * store_pool.h — PostgreSQL connections for the HTTP daemons (uspc-api,
 * uspc-acs): a fixed number of slots,
 * opened on first use and reopened after a loss, lent to one request at a
 * time. A request waits for a free slot up to a deadline (then the caller
 * answers 503). Thread-safe.
 */
#ifndef USPC_STORE_POOL_H
#define USPC_STORE_POOL_H

#include <stdint.h>
#include <libpq-fe.h>

#include "usp_err.h"

struct store_pool;

/* conninfo: as for store_conn_open (NULL: $USPC_DB). size 1..256.
 * app_name: the connections' application_name (pg_stat_activity). */
struct store_pool *store_pool_new(const char *conninfo, int size, const char *app_name);
void store_pool_free(struct store_pool *p);

/*
 * Borrow a connection, waiting up to wait_ms for a free slot. NULL with
 * err->msg set when none became free (*busy = 1) or the database cannot
 * be reached (*busy = 0). *slot identifies it for store_pool_put.
 */
PGconn *store_pool_get(struct store_pool *p, int wait_ms, int *slot, int *busy,
		       struct uspc_err *err);

/* Give it back; broken: close it (the next borrower reopens). A
 * connection in a transaction or with a lost socket counts as broken. */
void store_pool_put(struct store_pool *p, int slot, int broken);

/* Numbers for /metrics. */
struct store_pool_stats {
	int size, busy;
	uint64_t waits;    /* borrowers that had to wait */
	uint64_t timeouts; /* borrowers that gave up (503) */
	uint64_t opens;    /* connections opened */
};
void store_pool_stats(struct store_pool *p, struct store_pool_stats *s);

#endif
