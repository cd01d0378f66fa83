/*
 * cwmp_sim_worker.c — one worker process of the CWMP mode: its epoll loop,
 * its CPEs, the HTTP client context, the connection-request listener, and
 * the pacing of new sessions (a token bucket of --connect-rate and a cap
 * of --max-sessions, both this worker's share). Owns all of them; the
 * loop thread (the process's only thread) is the only caller.
 */
#include "cwmp_sim_cpe.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cwmp_sim_cr.h"
#include "cwmp_sim_http.h"
#include "log.h"

static uint16_t pid(const struct sim_model *m, const char *obj, const char *name)
{
	uint16_t o = sim_model_find_obj(m, obj);
	return o == SM_NONE ? SM_NONE : sim_model_param(m, o, name);
}

static void find_ids(const struct sim_model *m, struct cwmp_sim_ids *ids)
{
	const char *di = "Device.DeviceInfo.", *ms = "Device.ManagementServer.";
	ids->manufacturer = pid(m, di, "Manufacturer");
	ids->oui = pid(m, di, "ManufacturerOUI");
	ids->product_class = pid(m, di, "ProductClass");
	ids->serial = pid(m, di, "SerialNumber");
	ids->hw_version = pid(m, di, "HardwareVersion");
	ids->sw_version = pid(m, di, "SoftwareVersion");
	ids->prov_code = pid(m, di, "ProvisioningCode");
	ids->dm_version = pid(m, "Device.", "RootDataModelVersion");
	ids->ms_url = pid(m, ms, "URL");
	ids->ms_user = pid(m, ms, "Username");
	ids->ms_pass = pid(m, ms, "Password");
	ids->ms_pi_enable = pid(m, ms, "PeriodicInformEnable");
	ids->ms_pi_interval = pid(m, ms, "PeriodicInformInterval");
	ids->ms_param_key = pid(m, ms, "ParameterKey");
	ids->ms_cr_url = pid(m, ms, "ConnectionRequestURL");
	ids->ms_cr_user = pid(m, ms, "ConnectionRequestUsername");
	ids->ms_cr_pass = pid(m, ms, "ConnectionRequestPassword");
	ids->ms_retry_min = pid(m, ms, "CWMPRetryMinimumWaitInterval");
	ids->ms_retry_mult = pid(m, ms, "CWMPRetryIntervalMultiplier");
}

double cwmp_sim_worker_rand(struct cwmp_sim_worker *w)
{
	uint64_t x = w->rng; /* xorshift64* */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static struct cwmp_cpe *cpe_by_index(struct cwmp_sim_worker *w, uint32_t index)
{
	if (index < w->first || index - w->first >= w->n_cpes)
		return NULL;
	return &w->cpes[index - w->first];
}

/* ---- connection requests ---- */

static int cr_lookup(void *arg, uint32_t index, char *user, char *password)
{
	struct cwmp_cpe *c = cpe_by_index(arg, index);
	if (!c)
		return -1;
	return cwmp_cpe_cr_credentials(c, user, password, CWMP_SIM_CR_CRED_MAX);
}

static void cr_request(void *arg, uint32_t index)
{
	struct cwmp_cpe *c = cpe_by_index(arg, index);
	if (c)
		cwmp_cpe_connection_request(c);
}

static void cr_denied(void *arg, uint32_t index)
{
	struct cwmp_sim_worker *w = arg;
	w->stats->cr_denied++;
	log_debug("cwmp-sim", "connection request for CPE %" PRIu32 " failed authentication",
		  index);
}

/* ---- session pacing ---- */

static void refill(struct cwmp_sim_worker *w)
{
	uint64_t now = sim_loop_now(w->loop);
	double burst = w->rate < 1 ? 1 : w->rate / 10; /* at most 100 ms worth at once */
	if (burst < 1)
		burst = 1;
	w->tokens += (double)(now - w->last_refill_ms) / 1000.0 * w->rate;
	if (w->tokens > burst)
		w->tokens = burst;
	w->last_refill_ms = now;
}

static void on_pace(struct sim_timer *t)
{
	struct cwmp_sim_worker *w = sim_container_of(t, struct cwmp_sim_worker, pace);
	refill(w);
	while (w->q_head && w->active < w->max_active && w->tokens >= 1) {
		struct cwmp_cpe *c = w->q_head;
		w->q_head = c->next_q;
		if (!w->q_head)
			w->q_tail = NULL;
		c->next_q = NULL;
		c->in_q = 0;
		if (c->state != CPE_QUEUED)
			continue; /* rebooted while it waited */
		w->tokens -= 1;
		w->active++;
		cwmp_cpe_start_session(c);
	}
	if (!w->q_head || w->active >= w->max_active)
		return; /* a session's end kicks the queue again */
	double wait_ms = (1 - w->tokens) / w->rate * 1000.0;
	sim_timer_arm(w->loop, &w->pace, wait_ms < 1 ? 1 : (uint64_t)wait_ms);
}

static void kick(struct cwmp_sim_worker *w)
{
	if (!sim_timer_armed(&w->pace))
		sim_timer_arm(w->loop, &w->pace, 0);
}

void cwmp_sim_worker_enqueue(struct cwmp_sim_worker *w, struct cwmp_cpe *c)
{
	if (!c->in_q) {
		c->next_q = NULL;
		if (w->q_tail)
			w->q_tail->next_q = c;
		else
			w->q_head = c;
		w->q_tail = c;
		c->in_q = 1;
	}
	kick(w);
}

void cwmp_sim_worker_session_done(struct cwmp_sim_worker *w)
{
	if (w->active)
		w->active--;
	if (w->q_head)
		kick(w);
}

static void on_tick(struct sim_timer *t)
{
	struct cwmp_sim_worker *w = sim_container_of(t, struct cwmp_sim_worker, tick);
	w->stats->alive = (uint64_t)w->now;
	sim_timer_arm(w->loop, &w->tick, 1000);
}

/* ---- life cycle ---- */

int cwmp_sim_worker_init(struct cwmp_sim_worker *w, const struct cwmp_sim_config *cfg,
			 const struct sim_model *model, uint32_t first, uint32_t count,
			 uint32_t worker_no, struct cwmp_sim_stats *stats)
{
	char err[256];
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->model = model;
	w->stats = stats;
	w->first = first;
	w->worker_no = worker_no;
	w->now = time(NULL);
	w->rng = (cfg->seed ^ 0xC3A5C85C97CB3127ull) + (uint64_t)first * 0x9E3779B97F4A7C15ull;
	if (!w->rng)
		w->rng = 1;
	w->rate = cfg->connect_rate / cfg->workers;
	w->max_active = (cfg->max_sessions + cfg->workers - 1) / cfg->workers;
	find_ids(model, &w->ids);
	sim_timer_init(&w->pace, on_pace);
	sim_timer_init(&w->tick, on_tick);
	if (!(w->loop = sim_loop_new(cwmp_io_dispatch)) || !(w->http = cwmp_http_new(w->loop))) {
		log_error("cwmp-sim", "worker %u: cannot set up its loop or libcurl", worker_no);
		return -1;
	}
	w->last_refill_ms = sim_loop_now(w->loop);
	w->tokens = 1;
	struct cwmp_sim_cr_ops ops = {
		.lookup = cr_lookup, .request = cr_request, .denied = cr_denied, .arg = w
	};
	int port = cfg->cr_port ? cfg->cr_port + (int)worker_no : 0;
	if (!(w->cr = cwmp_sim_cr_new(w->loop, cfg->cr_host, port, &ops, err, sizeof(err)))) {
		log_error("cwmp-sim", "worker %u: %s", worker_no, err);
		return -1;
	}
	w->cr_port = cwmp_sim_cr_port(w->cr);
	if (!(w->cpes = calloc(count, sizeof(*w->cpes))))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		if (cwmp_cpe_init(&w->cpes[i], w, first + i) < 0) {
			log_error("cwmp-sim", "CPE %" PRIu32 ": cannot start", first + i);
			w->n_cpes = i + 1;
			return -1;
		}
		w->n_cpes = i + 1;
		stats->cpes++;
	}
	log_info("cwmp-sim",
		 "worker %u: CPEs %" PRIu32 "..%" PRIu32 ", connection requests on %s:%d",
		 worker_no, first, first + count - 1, cfg->cr_host, w->cr_port);
	sim_timer_arm(w->loop, &w->tick, 1000);
	return 0;
}

int cwmp_sim_worker_run(struct cwmp_sim_worker *w, volatile int *stop)
{
	while (!*stop) {
		w->now = time(NULL);
		if (sim_loop_run_once(w->loop, 1000) < 0) {
			log_error("cwmp-sim", "worker %u: epoll_wait failed", w->worker_no);
			return -1;
		}
	}
	for (uint32_t i = 0; i < w->n_cpes; i++)
		cwmp_cpe_stop(&w->cpes[i]);
	return 0;
}

void cwmp_sim_worker_fini(struct cwmp_sim_worker *w)
{
	for (uint32_t i = 0; w->cpes && i < w->n_cpes; i++)
		cwmp_cpe_fini(&w->cpes[i]);
	free(w->cpes);
	cwmp_sim_cr_free(w->cr);
	cwmp_http_free(w->http);
	sim_loop_free(w->loop);
	memset(w, 0, sizeof(*w));
}
