/*
 * store_pool.c — a pool of PostgreSQL connections for the HTTP daemons
 * (see store_pool.h).
 *
 * Owns the slots and their connections. A slot is free, lent, or being
 * opened by the borrower that took it (opening happens outside the lock so
 * one slow connect does not stall the others).
 */
#include "store_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_conn.h"

struct slot {
	PGconn *conn; /* NULL: open on next borrow */
	int lent;
};

struct store_pool {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	char *conninfo;
	char app_name[64];
	int size, busy;
	struct slot *slots;
	uint64_t waits, timeouts, opens;
};

struct store_pool *store_pool_new(const char *conninfo, int size, const char *app_name)
{
	if (size < 1 || size > 256)
		return NULL;
	struct store_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->slots = calloc((size_t)size, sizeof(*p->slots));
	p->conninfo = conninfo ? strdup(conninfo) : NULL;
	if (!p->slots || (conninfo && !p->conninfo)) {
		free(p->slots);
		free(p->conninfo);
		free(p);
		return NULL;
	}
	p->size = size;
	snprintf(p->app_name, sizeof(p->app_name), "%s", app_name ? app_name : "uspc");
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->freed, &ca);
	pthread_condattr_destroy(&ca);
	return p;
}

void store_pool_free(struct store_pool *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].conn)
			PQfinish(p->slots[i].conn);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->mu);
	free(p->slots);
	free(p->conninfo);
	free(p);
}

PGconn *store_pool_get(struct store_pool *p, int wait_ms, int *slot, int *busy,
		       struct uspc_err *err)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	*busy = 0;
	pthread_mutex_lock(&p->mu);
	int waited = 0, i = -1;
	for (;;) {
		/* An open free connection first, else any free slot. */
		for (int k = 0; k < p->size && i < 0; k++)
			if (!p->slots[k].lent && p->slots[k].conn)
				i = k;
		for (int k = 0; k < p->size && i < 0; k++)
			if (!p->slots[k].lent)
				i = k;
		if (i >= 0)
			break;
		if (!waited++)
			p->waits++;
		if (pthread_cond_timedwait(&p->freed, &p->mu, &until) == ETIMEDOUT) {
			p->timeouts++;
			pthread_mutex_unlock(&p->mu);
			*busy = 1;
			uspc_err_set(err, USPC_E_FULL,
				     "all %d database connections stayed busy for %d ms", p->size,
				     wait_ms);
			return NULL;
		}
	}
	p->slots[i].lent = 1;
	p->busy++;
	PGconn *c = p->slots[i].conn;
	pthread_mutex_unlock(&p->mu);
	if (!c) {
		struct store_conn_opts co = { .conninfo = p->conninfo,
					      .application_name = p->app_name,
					      .connect_timeout_s = 5 };
		if (store_conn_open(&co, &c, err) < 0) {
			if (c)
				PQfinish(c);
			store_pool_put(p, i, 1);
			return NULL;
		}
		pthread_mutex_lock(&p->mu);
		p->slots[i].conn = c;
		p->opens++;
		pthread_mutex_unlock(&p->mu);
	}
	*slot = i;
	return c;
}

void store_pool_put(struct store_pool *p, int slot, int broken)
{
	pthread_mutex_lock(&p->mu);
	struct slot *s = &p->slots[slot];
	if (s->conn && (broken || PQstatus(s->conn) != CONNECTION_OK ||
			PQtransactionStatus(s->conn) != PQTRANS_IDLE)) {
		PQfinish(s->conn);
		s->conn = NULL;
	}
	s->lent = 0;
	p->busy--;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

void store_pool_stats(struct store_pool *p, struct store_pool_stats *s)
{
	pthread_mutex_lock(&p->mu);
	s->size = p->size;
	s->busy = p->busy;
	s->waits = p->waits;
	s->timeouts = p->timeouts;
	s->opens = p->opens;
	pthread_mutex_unlock(&p->mu);
}
