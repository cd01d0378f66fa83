/*
 * sim_agent.h — a simulated USP Agent and the worker that hosts many of
 * them: configuration, per-agent state machine, inbound Record handling
 * and outbound publishing. Everything here runs on one worker's loop
 * thread (the worker process's only thread).
 */
#ifndef USPC_SIM_AGENT_H
#define USPC_SIM_AGENT_H

#include <stdint.h>
#include <time.h>

#include "sim_dm.h"
#include "sim_hist.h"
#include "sim_loop.h"
#include "sim_model.h"
#include "usp_msg.h"

struct mosquitto;

/* Read-only after start-up (shared by all workers through fork). */
struct sim_config {
	uint32_t n_agents;
	uint32_t first_index;
	const char *broker; /* as given */
	char host[256];
	int port;
	int tls;
	const char *cafile, *certfile, *keyfile;
	int tls_insecure;
	const char *eid_pattern;   /* printf pattern with one %d */
	const char *topic_pattern; /* "%s" is replaced by the EID */
	const char *controller_id;
	const char *controller_topic;
	const char *model_file;
	const char *state_dir; /* NULL: no persistence */
	uint64_t seed;
	double connect_rate; /* connects per second, whole process */
	uint32_t workers;
	int keepalive;
	int qos;
	size_t max_record;
	double fw_download_s;
	double fw_fail_fraction;
	const char *fw_fail_url; /* substring; NULL: none */
	/* firmware faults, each a fraction of the agents chosen by seed (sim_fw.h) */
	double fw_activate_fail_fraction; /* Activate() fails: ActivationFailed */
	double fw_boot_fail_fraction;     /* the new image does not boot: old one runs */
	double fw_no_return_fraction;     /* never back after a firmware reboot */
	double fw_wrong_version_fraction; /* new image reports another SoftwareVersion */
	double fw_lose_boot_fraction;     /* no Boot! after a firmware reboot */
	double single_bank_fraction;      /* only FirmwareImage.1 */
	double no_activate_fraction;      /* FirmwareImage.{i}.Activate() unsupported */
	double reboot_s;
	double reconnect_delay_s; /* first reconnect after a lost connection; 0: back-off */
	double churn_fraction;    /* fraction of agents that flap */
	double churn_interval_s;  /* mean time online between drops */
	double churn_offline_s;   /* time offline */
	int churn_reboot;         /* a flap is a power cycle (Boot!) */
	double host_churn_s;      /* mean seconds between host join/leave; 0 off */
	double value_rate;
	double vc_rate;           /* bench load (sim_vcload.c): ValueChanges/s, all agents */
	const char *vc_rate_file; /* if set: file holding vc_rate, re-read every second */
	int status_interval;
	int trace; /* log every record in/out (decoded) */
	int will;  /* MQTT Will = DisconnectRecord to Controller.1 (default on) */
};

/* Counters a worker shares with the supervisor (in shared memory). */
struct sim_stats {
	uint64_t agents, online, connecting;
	uint64_t rx, tx, rx_bytes, tx_bytes;
	uint64_t dropped, errors_sent, notifs, notif_retries, connect_fail, disconnects;
	uint64_t boots;
	uint64_t notif_acked; /* NotifyResp received for a pending notification */
	uint64_t alive;       /* heartbeat: last loop time, seconds */
	/* time from a send_resp Notify's first send to its NotifyResp, µs (sim_hist.h) */
	uint64_t notify_resp_us[SIM_HIST_BUCKETS];
};

/* Param/object ids the simulator's behaviour depends on (SM_NONE if the
 * model lacks them; the feature is then off). */
struct sim_ids {
	uint16_t ctrl, ctrl_eid, ctrl_enable, ctrl_mtp, ctrl_mtp_topic, ctrl_periodic,
		ctrl_retry_min, ctrl_retry_mult;
	uint16_t bootp, bootp_enable, bootp_name; /* Controller.{i}.BootParameter.{i} */
	uint16_t sub, sub_enable, sub_id, sub_type, sub_refs, sub_recipient, sub_retry,
		sub_expiration, sub_persistent, sub_ttl, sub_created;
	uint16_t req, req_originator, req_command, req_key, req_status;
	uint16_t fw, fw_name, fw_version, fw_status, fw_available, fw_boot_log;
	uint16_t sw_version, active_fw, boot_fw;
	uint16_t host, host_mac, host_active;
	uint16_t boot_event, tc_event, periodic_event;
	uint16_t la_eid;
};

enum sim_agent_state {
	SIM_A_IDLE,        /* queued for a connect slot */
	SIM_A_CONNECTING,  /* TCP connect / MQTT CONNECT in flight */
	SIM_A_SUBSCRIBING, /* CONNACK ok, SUBSCRIBE in flight */
	SIM_A_ONLINE,
	SIM_A_BACKOFF,   /* waiting to retry after a failure */
	SIM_A_REBOOTING, /* disconnected on purpose, booting after a delay */
	SIM_A_OFFLINE,   /* churn: off the network for a while */
	SIM_A_STOPPED,
};

struct sim_notif;
struct sim_op;
struct sim_inmsg;
struct sim_worker;
struct sim_vcload;

struct sim_agent {
	struct sim_worker *w;
	struct mosquitto *mosq;
	struct sim_agent *next_connect; /* connect queue link */
	char *eid;
	char *topic; /* our reply topic */
	struct sim_dm dm;
	struct sim_timer timer;              /* state machine: backoff/reboot/churn */
	struct sim_timer host_timer;         /* host churn */
	struct sim_notif *notifs;            /* awaiting NotifyResp */
	struct sim_op *ops;                  /* running async commands */
	struct sim_inmsg *in_head, *in_tail; /* PUBLISHes received in a callback, not yet handled */
	time_t boot_time;
	time_t next_periodic;
	uint32_t index;
	uint32_t boot_gen;
	uint32_t failures; /* consecutive connect failures */
	uint32_t n_notifs;
	uint16_t n_in; /* length of the in_ list */
	int fd;
	uint8_t state;           /* enum sim_agent_state */
	uint8_t epoll_out;       /* EPOLLOUT currently requested */
	uint8_t queued;          /* on the connect queue */
	uint8_t mq_used;         /* the client has connected before: renew it first */
	uint8_t boot_pending;    /* send Boot! once online */
	uint8_t dirty;           /* persistent state changed */
	uint8_t flaps;           /* chosen for churn */
	uint8_t factory_pending; /* reboot is a factory reset */
	uint8_t timer_kind;      /* what a->timer does (sim_agent.c) */
	uint8_t mq_events;       /* libmosquitto callbacks seen, not yet acted on (sim_mqtt.c) */
	uint8_t abrupt;          /* the next shutdown is a power cut: no DisconnectRecord, Will */
	/* What the next Boot! says (persisted). */
	char *boot_cause;
	char *boot_key;
	uint8_t boot_fw_updated;
	char *activate_path; /* Activate() to complete after boot */
	char *activate_key;
	char *activate_originator;
};

struct sim_worker {
	const struct sim_config *cfg;
	const struct sim_model *model;
	struct sim_ids ids;
	struct sim_loop *loop;
	struct sim_stats *stats;
	struct sim_agent *agents;
	uint32_t n_agents;
	uint32_t worker_no;
	struct sim_agent *cq_head, *cq_tail; /* connect queue */
	double connect_tokens;
	double connect_rate; /* this worker's share */
	uint64_t last_refill_ms;
	struct sim_timer tick;     /* 1 s: keep-alive, housekeeping */
	struct sim_timer pace;     /* connect pacing */
	struct sim_vcload *vcload; /* --vc-rate generator, NULL if off */
	struct usp_msgid_gen msgid;
	uint64_t rng;
	volatile int stopping;
	time_t now; /* wall clock, per iteration */
};

/* Fill env for template expansion of agent a. */
void sim_agent_env(const struct sim_agent *a, struct sim_dm_env *env);

const char *sim_agent_state_name(enum sim_agent_state s);

/* Worker life cycle (sim_agent.c). */
int sim_worker_init(struct sim_worker *w, const struct sim_config *cfg,
		    const struct sim_model *model, uint32_t first, uint32_t count,
		    uint32_t worker_no, struct sim_stats *stats);
/* Run until stop is requested; then disconnect every agent cleanly. */
int sim_worker_run(struct sim_worker *w, volatile int *stop);
void sim_worker_fini(struct sim_worker *w);

/* Publish a USP Msg to to_id on topic (Record wrap, MQTT 5 props).
 * Returns 0 or -1 (not connected / failure, counted). */
int sim_agent_send_msg(struct sim_agent *a, const char *to_id, const char *topic,
		       const Usp__Msg *msg);
int sim_agent_send_packed(struct sim_agent *a, const char *to_id, const char *topic,
			  const uint8_t *msg, size_t len);

/* Reboot: disconnect now, boot again after cfg->reboot_s. cause/key are
 * reported in the next Boot!. factory: reset to the factory model. The
 * boot runs the image BootFirmwareImage names when that is a new one
 * (sim_ops_fw_boot), which decides Boot!'s FirmwareUpdated. */
void sim_agent_reboot(struct sim_agent *a, const char *cause, const char *key, int factory);

/* Publish a DisconnectRecord (reason text, no reason code: none of
 * 7100-7106 describes a deliberate leave) to every enabled controller that
 * has an MQTT topic (R-MTP.7). Only while ONLINE. */
void sim_agent_send_disconnect(struct sim_agent *a, const char *reason);
/* The Will for the next CONNECT: a DisconnectRecord to the first enabled
 * controller with an MQTT topic. 0 with *rec (caller frees) and topic set,
 * 1 if there is no such controller, -1 without memory. */
int sim_agent_will(struct sim_agent *a, char *topic, size_t cap, uint8_t **rec, size_t *len);

/* Controller row (Device.LocalAgent.Controller.{i}) whose EndpointID is eid. */
struct dm_inst *sim_agent_controller(struct sim_agent *a, const char *eid);
/* MQTT topic of a controller row, or NULL. buf holds the value. */
const char *sim_agent_controller_topic(struct sim_agent *a, struct dm_inst *ctrl, char *buf,
				       size_t cap);

/* Pseudo-random double in [0,1) from the worker's generator. */
double sim_worker_rand(struct sim_worker *w);
void sim_agent_mark_dirty(struct sim_agent *a);

#endif
