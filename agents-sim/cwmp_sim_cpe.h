/*
 * cwmp_sim_cpe.h — one simulated TR-069 CPE and the worker that hosts
 * thousands of them on one epoll loop: identity, data model, pending
 * events, the session state machine (Inform, TransferComplete, the empty
 * POST, then the ACS's requests until HTTP 204), retries, reboots,
 * downloads and value changes. Loop thread of the worker process.
 */
#ifndef USPC_CWMP_SIM_CPE_H
#define USPC_CWMP_SIM_CPE_H

#include <stdint.h>
#include <time.h>

#include "cwmp_sim.h"
#include "cwmp_sim_events.h"
#include "cwmp_sim_rpc.h"
#include "sim_dm.h"
#include "sim_loop.h"

struct cwmp_http;
struct cwmp_http_conn;
struct cwmp_sim_cr;
struct cwmp_sim_worker;

enum cwmp_cpe_state {
	CPE_IDLE,    /* nothing to tell the ACS */
	CPE_QUEUED,  /* has events; waits for a session slot (--connect-rate, --max-sessions) */
	CPE_INFORM,  /* Inform posted */
	CPE_TC,      /* TransferComplete posted */
	CPE_ACS,     /* empty POST or an answer posted: the ACS drives */
	CPE_BACKOFF, /* waits to retry a failed session */
	CPE_DOWN,    /* rebooting */
	CPE_GONE,    /* --fw-no-return-fraction: never back while the simulator runs */
	CPE_STATE_COUNT
};

/* What a session's accepted requests leave to do once it ends. */
enum cwmp_cpe_after { AFTER_NONE, AFTER_REBOOT, AFTER_FACTORY, AFTER_FW_REBOOT };

/* Param ids the behaviour uses (SM_NONE when the model lacks them); all
 * are parameters of single-instance objects, so they live in the root. */
struct cwmp_sim_ids {
	uint16_t manufacturer, oui, product_class, serial, hw_version, sw_version, prov_code;
	uint16_t dm_version;
	uint16_t ms_url, ms_user, ms_pass, ms_pi_enable, ms_pi_interval, ms_param_key;
	uint16_t ms_cr_url, ms_cr_user, ms_cr_pass, ms_retry_min, ms_retry_mult;
};

struct cwmp_cpe_tc { /* a TransferComplete to deliver */
	char *key;
	unsigned code;
	char *string;
	char start[32], complete[32];
};

struct cwmp_cpe_dl; /* a download under way (cwmp_sim_cpe.c) */

struct cwmp_cpe {
	struct cwmp_sim_worker *w;
	struct cwmp_cpe *next_q; /* session queue */
	char *eid;
	char serial[64];
	struct sim_dm dm;
	struct cwmp_sim_attrs attrs;
	struct cwmp_sim_events ev;
	struct cwmp_cpe_tc *tc;      /* to send in the next session */
	struct cwmp_cpe_tc *tc_boot; /* firmware: becomes tc at the next boot */
	char *fw_version;            /* firmware: SoftwareVersion after the next boot */
	struct cwmp_cpe_dl *dl;
	struct cwmp_http_conn *conn; /* the session's */
	char **vc;                   /* parameters whose value changed (4 VALUE CHANGE) */
	uint16_t n_vc, n_vc_sent;
	struct sim_timer timer;    /* back-off, reboot */
	struct sim_timer periodic; /* 2 PERIODIC */
	struct sim_timer vc_timer; /* --value-change-interval */
	time_t boot_time;
	uint32_t index;
	uint32_t retry_count; /* failed sessions in a row */
	uint32_t seq;         /* cwmp:ID of our requests */
	char *reboot_key;
	uint8_t state;    /* enum cwmp_cpe_state */
	uint8_t after;    /* enum cwmp_cpe_after */
	uint8_t informed; /* this session's InformResponse arrived */
	uint8_t hold;     /* the ACS said HoldRequests */
	uint8_t ns;       /* enum cwmp_ns of our messages */
	uint8_t dirty;    /* state to save */
	uint8_t in_q;     /* on the worker's session queue */
};

struct cwmp_sim_worker {
	const struct cwmp_sim_config *cfg;
	const struct sim_model *model;
	struct cwmp_sim_ids ids;
	struct sim_loop *loop;
	struct cwmp_http *http;
	struct cwmp_sim_cr *cr;
	struct cwmp_sim_stats *stats;
	struct cwmp_cpe *cpes;
	uint32_t n_cpes, first, worker_no;
	struct cwmp_cpe *q_head, *q_tail;
	uint32_t active, max_active;
	double tokens, rate;
	uint64_t last_refill_ms;
	struct sim_timer pace, tick;
	uint64_t rng;
	int cr_port;
	time_t now;
};

const char *cwmp_cpe_state_name(enum cwmp_cpe_state s);

/* Worker life cycle (cwmp_sim_worker.c). */
int cwmp_sim_worker_init(struct cwmp_sim_worker *w, const struct cwmp_sim_config *cfg,
			 const struct sim_model *model, uint32_t first, uint32_t count,
			 uint32_t worker_no, struct cwmp_sim_stats *stats);
int cwmp_sim_worker_run(struct cwmp_sim_worker *w, volatile int *stop);
void cwmp_sim_worker_fini(struct cwmp_sim_worker *w);
/* A CPE wants a session: queue it for a slot. */
void cwmp_sim_worker_enqueue(struct cwmp_sim_worker *w, struct cwmp_cpe *c);
/* A session ended: a slot is free. */
void cwmp_sim_worker_session_done(struct cwmp_sim_worker *w);
double cwmp_sim_worker_rand(struct cwmp_sim_worker *w);

/* CPE (cwmp_sim_cpe.c). */
int cwmp_cpe_init(struct cwmp_cpe *c, struct cwmp_sim_worker *w, uint32_t index);
void cwmp_cpe_fini(struct cwmp_cpe *c);
/* Template expansion environment of the CPE. */
void cwmp_cpe_env(const struct cwmp_cpe *c, struct sim_dm_env *env);
/* Start the session the worker granted (state QUEUED). */
void cwmp_cpe_start_session(struct cwmp_cpe *c);
/* An authenticated connection request arrived. */
void cwmp_cpe_connection_request(struct cwmp_cpe *c);
/* Connection-request credentials; 1 if the CPE is down, else 0. */
int cwmp_cpe_cr_credentials(struct cwmp_cpe *c, char *user, char *password, size_t cap);
/* Stop: abandon a session in flight, save state. */
void cwmp_cpe_stop(struct cwmp_cpe *c);

#endif
