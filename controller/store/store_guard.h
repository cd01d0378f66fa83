/*
 * store_guard.h — a way for one thread to cut another thread's PostgreSQL
 * connection. A server that is frozen (SIGSTOP, a hung host whose kernel
 * still acknowledges packets) answers nothing and trips no timeout: TCP
 * keep-alives are answered, tcp_user_timeout sees its data acknowledged, and
 * statement_timeout runs on the server. A thread blocked in libpq then
 * blocks for good, and so would a stop that joins it. The owner publishes
 * its connection's socket here; a stopping thread past its deadline shuts
 * that socket down, libpq's call returns an error, and the owner goes on
 * (treating it as a lost connection).
 *
 * Threads: set/clear from the connection's owner (set after connecting,
 * clear before PQfinish), abort from any thread. The mutex keeps abort from
 * touching a descriptor the owner has closed (and the system reused).
 */
#ifndef USPC_STORE_GUARD_H
#define USPC_STORE_GUARD_H

#include <pthread.h>
#include <libpq-fe.h>

struct store_guard {
	pthread_mutex_t mu;
	int fd;      /* the owner's connection socket, -1 when none */
	int aborted; /* abort() was called: set() cuts any new connection at once */
};

void store_guard_init(struct store_guard *g);
void store_guard_fini(struct store_guard *g);
/* The owner connected (c may be NULL: nothing to guard). */
void store_guard_set(struct store_guard *g, PGconn *c);
/* The owner is about to close its connection. */
void store_guard_clear(struct store_guard *g);
/* Any thread: shut the guarded socket down (now, and any set later). */
void store_guard_abort(struct store_guard *g);

/* Join thread t, waiting at most timeout_ms; past it, abort g (so the
 * thread's blocked libpq call fails) and join. 1 when the abort was
 * needed, 0 otherwise. */
int store_guard_join(struct store_guard *g, pthread_t t, int timeout_ms);

#endif
