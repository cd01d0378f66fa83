/*
 * cwmp_sim_events.h — a simulated CPE's pending Inform events and the
 * TR-069 session retry policy. Pure: no I/O, no clock, no globals; the
 * caller passes the random numbers. Loop thread of the CPE's worker.
 *
 * Events are kept until an Inform that carries them is answered by an
 * InformResponse (the definition of a delivered event), except where the
 * event's own rule says otherwise:
 *   - kept across failed sessions and reboots: 0 BOOTSTRAP, 1 BOOT,
 *     7 TRANSFER COMPLETE, M Reboot, M Download;
 *   - kept across failed sessions but dropped at a reboot: 2 PERIODIC,
 *     4 VALUE CHANGE;
 *   - never retried: 6 CONNECTION REQUEST is dropped once a session that
 *     carried it fails.
 * A single-valued event (a number code) is held once; an "M <Method>"
 * event once per command key.
 */
#ifndef USPC_CWMP_SIM_EVENTS_H
#define USPC_CWMP_SIM_EVENTS_H

#include <stddef.h>
#include <stdint.h>

enum cwmp_sim_ev {
	CWMP_SIM_EV_BOOTSTRAP,
	CWMP_SIM_EV_BOOT,
	CWMP_SIM_EV_PERIODIC,
	CWMP_SIM_EV_VALUE_CHANGE,
	CWMP_SIM_EV_CONNECTION_REQUEST,
	CWMP_SIM_EV_TRANSFER_COMPLETE,
	CWMP_SIM_EV_M_REBOOT,
	CWMP_SIM_EV_M_DOWNLOAD,
	CWMP_SIM_EV_COUNT
};

#define CWMP_SIM_MAX_EVENTS 32 /* pending at once; more are dropped (oldest M first) */

struct cwmp_sim_event {
	uint8_t kind; /* enum cwmp_sim_ev */
	uint8_t sent; /* carried by the Inform in flight */
	char *key;    /* CommandKey ("" for number codes); owned */
};

struct cwmp_sim_events {
	struct cwmp_sim_event *v;
	uint8_t n, cap;
};

/* The EventCode as sent ("0 BOOTSTRAP", "M Reboot"). */
const char *cwmp_sim_ev_code(enum cwmp_sim_ev e);

/* Add an event (key: CommandKey, NULL = ""). Merged with an equal pending
 * one (an M event with the same key); a merged event that was sent stays
 * sent. 0, or -1 without memory. */
int cwmp_sim_events_add(struct cwmp_sim_events *ev, enum cwmp_sim_ev e, const char *key);
/* Is an event of this kind pending? */
int cwmp_sim_events_has(const struct cwmp_sim_events *ev, enum cwmp_sim_ev e);
/* Mark every pending event as carried by the Inform being built; returns
 * how many. */
size_t cwmp_sim_events_mark_sent(struct cwmp_sim_events *ev);
/* InformResponse received: drop the events that were sent. */
void cwmp_sim_events_delivered(struct cwmp_sim_events *ev);
/* The session failed before its InformResponse: drop the sent events that
 * are never retried, keep the others (no longer marked sent). */
void cwmp_sim_events_failed(struct cwmp_sim_events *ev);
/* A reboot: drop the events that do not survive one. */
void cwmp_sim_events_reboot(struct cwmp_sim_events *ev);
void cwmp_sim_events_clear(struct cwmp_sim_events *ev);

/*
 * Session retry (TR-069 §3.2.1.1, restated). After the n-th failed
 * session in a row (n >= 1) a CPE waits a random time drawn uniformly
 * from [m * (k/1000)^(n-1), m * (k/1000)^n] seconds before it tries
 * again, where m is CWMPRetryMinimumWaitInterval (default 5 s) and k is
 * CWMPRetryIntervalMultiplier (default 2000, i.e. a factor of 2). The
 * exponent stops growing at n = 10, so with the defaults the ranges are
 * 5-10 s, 10-20 s, ... and from the tenth retry on 2560-5120 s. The
 * randomness spreads a fleet that failed together. The Inform of a retry
 * carries RetryCount = n.
 */
void cwmp_sim_retry_range(unsigned n, double m, unsigned k, double *lo, double *hi);
/* The wait for u in [0,1): lo + u * (hi - lo). */
double cwmp_sim_retry_wait(unsigned n, double m, unsigned k, double u);
/* After HTTP 503 with Retry-After: ra seconds plus a jitter of up to a
 * quarter of it (at least 1 s) so a fleet told the same number does not
 * come back at the same instant; u in [0,1). */
double cwmp_sim_retry_after_wait(double ra, double u);

#endif
