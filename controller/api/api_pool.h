/*
 * api_pool.h — uspc-api's PostgreSQL connections: a fixed number of slots,
 * opened on first use and reopened after a loss, lent to one request at a
 * time. A request waits for a free slot up to a deadline (then the caller
 * answers 503). Thread-safe.
 */
#ifndef USPC_API_POOL_H
#define USPC_API_POOL_H

#include <stdint.h>
#include <libpq-fe.h>

#include "usp_err.h"

struct api_pool;

/* conninfo: as for store_conn_open (NULL: $USPC_DB). size 1..256. */
struct api_pool *api_pool_new(const char *conninfo, int size);
void api_pool_free(struct api_pool *p);

/*
 * Borrow a connection, waiting up to wait_ms for a free slot. NULL with
 * err->msg set when none became free (*busy = 1) or the database cannot
 * be reached (*busy = 0). *slot identifies it for api_pool_put.
 */
PGconn *api_pool_get(struct api_pool *p, int wait_ms, int *slot, int *busy, struct uspc_err *err);

/* Give it back; broken: close it (the next borrower reopens). A
 * connection in a transaction or with a lost socket counts as broken. */
void api_pool_put(struct api_pool *p, int slot, int broken);

/* Numbers for /metrics. */
struct api_pool_stats {
	int size, busy;
	uint64_t waits;    /* borrowers that had to wait */
	uint64_t timeouts; /* borrowers that gave up (503) */
	uint64_t opens;    /* connections opened */
};
void api_pool_stats(struct api_pool *p, struct api_pool_stats *s);

#endif
