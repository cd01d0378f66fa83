/*
 * core_status.h — the one-line summary the daemon gives systemd as STATUS=
 * (systemctl status shows it), e.g.
 *   agents 100 online 98, pending 3, tasks done 1234 failed 2, db up, mqtt up
 * and, from the stop signal on, the same after "draining: ". Pure: the core
 * fills a struct core_status from the numbers of its stats line and sends
 * the text with sd_notify.
 */
#ifndef USPC_CORE_STATUS_H
#define USPC_CORE_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* Room for the longest summary (every number at its largest), NUL included. */
#define CORE_STATUS_MAX 192

struct core_status {
	size_t agents, online; /* known to this daemon / online */
	size_t pending;        /* requests awaiting an answer */
	uint64_t done, failed; /* tasks finished since start */
	int db_up, mqtt_up;    /* the store writer's / the broker's connection */
	int draining;          /* a stop signal came */
};

/* Write the summary into buf (cap bytes; cut to fit, always NUL-terminated
 * when cap > 0); returns its length. */
size_t core_status_format(const struct core_status *s, char *buf, size_t cap);

#endif
