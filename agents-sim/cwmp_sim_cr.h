/*
 * cwmp_sim_cr.h — the connection-request listener of one worker: a
 * libmicrohttpd daemon on the worker's own epoll loop (MHD_USE_EPOLL
 * without a thread of its own: its epoll descriptor sits in the loop's set
 * and MHD_run runs when it is readable or its timeout is due), so the
 * request handler runs on the loop thread that owns the CPEs. A CPE's URL
 * is http://<host>:<port>/cr/<index>; each needs HTTP Digest (MD5) with
 * that CPE's ConnectionRequestUsername/Password. Loop thread of the worker.
 */
#ifndef USPC_CWMP_SIM_CR_H
#define USPC_CWMP_SIM_CR_H

#include <stddef.h>
#include <stdint.h>

#include "sim_loop.h"

struct cwmp_sim_cr;

#define CWMP_SIM_CR_CRED_MAX 257

/* The worker's answers for a CPE index. */
struct cwmp_sim_cr_ops {
	/* 0 with the CPE's credentials, 1 if the CPE is down (503), -1 if
	 * this worker has no such CPE (404). */
	int (*lookup)(void *arg, uint32_t index, char *user, char *password);
	/* An authenticated connection request for the CPE (answered 200). */
	void (*request)(void *arg, uint32_t index);
	/* One that failed authentication (answered 401 with a challenge). */
	void (*denied)(void *arg, uint32_t index);
	void *arg;
};

/* Listen on host (an IPv4 address) and port (0: any free one). NULL with
 * errbuf filled on failure. */
struct cwmp_sim_cr *cwmp_sim_cr_new(struct sim_loop *loop, const char *host, int port,
				    const struct cwmp_sim_cr_ops *ops, char *errbuf, size_t errlen);
void cwmp_sim_cr_free(struct cwmp_sim_cr *cr);
/* The port it listens on. */
int cwmp_sim_cr_port(const struct cwmp_sim_cr *cr);

#endif
