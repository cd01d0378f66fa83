/*
 * store_guard.c — cutting a connection another thread is blocked on (see
 * store_guard.h). Owns only the guard's mutex and the descriptor number it
 * was given; never closes a descriptor (the connection's owner does).
 */
#include "store_guard.h"

#include <errno.h>
#include <sys/socket.h>
#include <time.h>

void store_guard_init(struct store_guard *g)
{
	pthread_mutex_init(&g->mu, NULL);
	g->fd = -1;
	g->aborted = 0;
}

void store_guard_fini(struct store_guard *g)
{
	pthread_mutex_destroy(&g->mu);
}

void store_guard_set(struct store_guard *g, PGconn *c)
{
	int fd = c ? PQsocket(c) : -1;
	pthread_mutex_lock(&g->mu);
	g->fd = fd;
	if (g->aborted && fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
	pthread_mutex_unlock(&g->mu);
}

void store_guard_clear(struct store_guard *g)
{
	pthread_mutex_lock(&g->mu);
	g->fd = -1;
	pthread_mutex_unlock(&g->mu);
}

void store_guard_abort(struct store_guard *g)
{
	pthread_mutex_lock(&g->mu);
	g->aborted = 1;
	if (g->fd >= 0)
		(void)shutdown(g->fd, SHUT_RDWR);
	pthread_mutex_unlock(&g->mu);
}

int store_guard_join(struct store_guard *g, pthread_t t, int timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(t, NULL, &ts) == 0)
		return 0;
	store_guard_abort(g);
	pthread_join(t, NULL);
	return 1;
}
