/*
 * cwmp_sim_events.c — pending Inform events with their retry rules, and
 * the session retry wait (see cwmp_sim_events.h). Pure functions over the
 * caller's struct; invariant: at most one event per (kind, key).
 */
#include "cwmp_sim_events.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum keep { KEEP_ALWAYS, KEEP_UNTIL_REBOOT, KEEP_NEVER };

static const struct {
	const char *code;
	uint8_t keep; /* enum keep: after a failed session / a reboot */
	uint8_t keyed;
} ev_info[CWMP_SIM_EV_COUNT] = {
	[CWMP_SIM_EV_BOOTSTRAP] = { "0 BOOTSTRAP", KEEP_ALWAYS, 0 },
	[CWMP_SIM_EV_BOOT] = { "1 BOOT", KEEP_ALWAYS, 0 },
	[CWMP_SIM_EV_PERIODIC] = { "2 PERIODIC", KEEP_UNTIL_REBOOT, 0 },
	[CWMP_SIM_EV_VALUE_CHANGE] = { "4 VALUE CHANGE", KEEP_UNTIL_REBOOT, 0 },
	[CWMP_SIM_EV_CONNECTION_REQUEST] = { "6 CONNECTION REQUEST", KEEP_NEVER, 0 },
	[CWMP_SIM_EV_TRANSFER_COMPLETE] = { "7 TRANSFER COMPLETE", KEEP_ALWAYS, 0 },
	[CWMP_SIM_EV_M_REBOOT] = { "M Reboot", KEEP_ALWAYS, 1 },
	[CWMP_SIM_EV_M_DOWNLOAD] = { "M Download", KEEP_ALWAYS, 1 },
};

const char *cwmp_sim_ev_code(enum cwmp_sim_ev e)
{
	return (unsigned)e < CWMP_SIM_EV_COUNT ? ev_info[e].code : "";
}

static void drop_at(struct cwmp_sim_events *ev, size_t i)
{
	free(ev->v[i].key);
	memmove(&ev->v[i], &ev->v[i + 1], (ev->n - i - 1) * sizeof(ev->v[0]));
	ev->n--;
}

int cwmp_sim_events_add(struct cwmp_sim_events *ev, enum cwmp_sim_ev e, const char *key)
{
	if ((unsigned)e >= CWMP_SIM_EV_COUNT)
		return -1;
	if (!ev_info[e].keyed || !key)
		key = "";
	for (size_t i = 0; i < ev->n; i++)
		if (ev->v[i].kind == e && !strcmp(ev->v[i].key, key))
			return 0;
	if (ev->n == CWMP_SIM_MAX_EVENTS) {
		/* full: the oldest keyed event gives way (a flood of M events
		 * must not starve BOOT or BOOTSTRAP) */
		size_t victim = 0;
		while (victim < ev->n && !ev_info[ev->v[victim].kind].keyed)
			victim++;
		if (victim == ev->n)
			return -1;
		drop_at(ev, victim);
	}
	if (ev->n == ev->cap) {
		uint8_t nc = ev->cap ? (uint8_t)(ev->cap * 2) : 4;
		if (nc > CWMP_SIM_MAX_EVENTS)
			nc = CWMP_SIM_MAX_EVENTS;
		struct cwmp_sim_event *nv = realloc(ev->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		ev->v = nv;
		ev->cap = nc;
	}
	char *k = strdup(key);
	if (!k)
		return -1;
	ev->v[ev->n++] = (struct cwmp_sim_event){ .kind = (uint8_t)e, .sent = 0, .key = k };
	return 0;
}

int cwmp_sim_events_has(const struct cwmp_sim_events *ev, enum cwmp_sim_ev e)
{
	for (size_t i = 0; i < ev->n; i++)
		if (ev->v[i].kind == e)
			return 1;
	return 0;
}

size_t cwmp_sim_events_mark_sent(struct cwmp_sim_events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		ev->v[i].sent = 1;
	return ev->n;
}

void cwmp_sim_events_delivered(struct cwmp_sim_events *ev)
{
	for (size_t i = ev->n; i-- > 0;)
		if (ev->v[i].sent)
			drop_at(ev, i);
}

void cwmp_sim_events_failed(struct cwmp_sim_events *ev)
{
	for (size_t i = ev->n; i-- > 0;) {
		if (ev->v[i].sent && ev_info[ev->v[i].kind].keep == KEEP_NEVER)
			drop_at(ev, i);
		else
			ev->v[i].sent = 0;
	}
}

void cwmp_sim_events_reboot(struct cwmp_sim_events *ev)
{
	for (size_t i = ev->n; i-- > 0;) {
		if (ev_info[ev->v[i].kind].keep != KEEP_ALWAYS)
			drop_at(ev, i);
		else
			ev->v[i].sent = 0;
	}
}

void cwmp_sim_events_clear(struct cwmp_sim_events *ev)
{
	for (size_t i = 0; i < ev->n; i++)
		free(ev->v[i].key);
	free(ev->v);
	memset(ev, 0, sizeof(*ev));
}

void cwmp_sim_retry_range(unsigned n, double m, unsigned k, double *lo, double *hi)
{
	double f = (double)k / 1000.0;
	if (n < 1)
		n = 1;
	if (n > 10)
		n = 10;
	*lo = m * pow(f, (double)(n - 1));
	*hi = m * pow(f, (double)n);
}

double cwmp_sim_retry_wait(unsigned n, double m, unsigned k, double u)
{
	double lo, hi;
	cwmp_sim_retry_range(n, m, k, &lo, &hi);
	return lo + u * (hi - lo);
}

double cwmp_sim_retry_after_wait(double ra, double u)
{
	double j = ra / 4 > 1 ? ra / 4 : 1;
	return ra + u * j;
}
