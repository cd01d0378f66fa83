/*
 * sim_vcload.c — the --vc-rate load generator (see sim_vcload.h). Owns one
 * struct sim_vcload per worker: a 10 ms timer with a token bucket holding
 * this worker's share of the total rate (its agents / all agents). The
 * total rate is --vc-rate, or the number in --vc-rate-file, re-read every
 * VC_REREAD_MS so a benchmark can change it without restarting the agents
 * (and a step of N seconds lasts N seconds to within that period: read once
 * a second, a 5 s step ran anywhere between 4 and 6 s, which made the rate
 * a benchmark computes from it up to 20 % wrong). Each
 * token sets SoftwareVersion of the next online agent to a new value
 * "<base>-vc<worker>.<seq>" and fires the ValueChange through sim_subs.
 * Tokens are never carried over more than 1 s, so a stalled loop does not
 * release a burst afterwards. Loop thread of the worker only.
 */
#include "sim_vcload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_subs.h"

#define VC_PERIOD_MS 10
#define VC_REREAD_MS 50
#define VC_RATE_MAX 1e6

struct sim_vcload {
	struct sim_timer t;
	struct sim_worker *w;
	double rate; /* this worker's changes per second */
	double tokens;
	uint64_t last_ms, last_read_ms;
	uint32_t next; /* next agent index to try */
	uint64_t seq;
};

static double share(const struct sim_worker *w, double total)
{
	const struct sim_config *cfg = w->cfg;
	return cfg->n_agents ? total * (double)w->n_agents / (double)cfg->n_agents : 0;
}

/* Re-read the rate file; a missing or malformed file keeps the old rate. */
static void read_rate(struct sim_vcload *v)
{
	char buf[64];
	FILE *f = fopen(v->w->cfg->vc_rate_file, "r");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;
		double r = strtod(buf, &end);
		if (end != buf && r >= 0 && r <= VC_RATE_MAX)
			v->rate = share(v->w, r);
	}
	fclose(f);
}

/* Change SoftwareVersion of the next online agent. 0, or -1 if none is. */
static int change_one(struct sim_vcload *v)
{
	struct sim_worker *w = v->w;
	char value[64];
	for (uint32_t tries = 0; tries < w->n_agents; tries++) {
		struct sim_agent *a = &w->agents[v->next];
		v->next = (v->next + 1) % w->n_agents;
		if (a->state != SIM_A_ONLINE)
			continue;
		uint16_t obj;
		struct dm_inst *di = sim_dm_find(&a->dm, w->model, "Device.DeviceInfo.", &obj);
		if (!di)
			return -1;
		snprintf(value, sizeof(value), "1.0.0-vc%u.%llu", w->worker_no,
			 (unsigned long long)++v->seq);
		if (sim_dm_set(di, w->ids.sw_version, value) < 0)
			return -1;
		sim_subs_value_change(a, di, w->ids.sw_version, value);
		return 0;
	}
	return -1;
}

static void fire(struct sim_timer *t)
{
	struct sim_vcload *v = sim_container_of(t, struct sim_vcload, t);
	uint64_t now = sim_loop_now(v->w->loop);
	if (v->w->cfg->vc_rate_file && now - v->last_read_ms >= VC_REREAD_MS) {
		v->last_read_ms = now;
		read_rate(v);
	}
	v->tokens += v->rate * (double)(now - v->last_ms) / 1000.0;
	v->last_ms = now;
	if (v->tokens > (v->rate > 1 ? v->rate : 1)) /* at most 1 s of backlog */
		v->tokens = v->rate > 1 ? v->rate : 1;
	while (v->tokens >= 1 && !v->w->stopping) {
		if (change_one(v) < 0) {
			v->tokens = 0;
			break;
		}
		v->tokens -= 1;
	}
	sim_timer_arm(v->w->loop, &v->t, VC_PERIOD_MS);
}

int sim_vcload_start(struct sim_worker *w)
{
	const struct sim_config *cfg = w->cfg;
	if ((cfg->vc_rate <= 0 && !cfg->vc_rate_file) || w->n_agents == 0)
		return 0;
	if (w->ids.sw_version == SM_NONE) {
		log_warn("sim",
			 "--vc-rate: the model has no Device.DeviceInfo.SoftwareVersion; off");
		return 0;
	}
	struct sim_vcload *v = calloc(1, sizeof(*v));
	if (!v)
		return -1;
	v->w = w;
	v->rate = share(w, cfg->vc_rate);
	v->last_ms = v->last_read_ms = sim_loop_now(w->loop);
	if (cfg->vc_rate_file)
		read_rate(v);
	sim_timer_init(&v->t, fire);
	if (sim_timer_arm(w->loop, &v->t, VC_PERIOD_MS) < 0) {
		free(v);
		return -1;
	}
	w->vcload = v;
	return 0;
}

void sim_vcload_stop(struct sim_worker *w)
{
	if (!w->vcload)
		return;
	if (w->loop)
		sim_timer_cancel(w->loop, &w->vcload->t);
	free(w->vcload);
	w->vcload = NULL;
}
