/*
 * sim_agent.c — the USP side of a simulated agent and the worker that hosts
 * a slice of agents: inbound Record checks (size, to_id, known controller,
 * record type; R-MTP.5 error-back rules), dispatch to the handlers, the
 * MQTTConnect record and Boot! after connecting, reboot / factory reset,
 * churn (flapping CPEs), host join/leave, and the worker's 1 s tick.
 * Owns the agents array of its worker. Loop thread only.
 */
#include "sim_agent.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sim_handlers.h"
#include "sim_mqtt.h"
#include "sim_ops.h"
#include "sim_state.h"
#include "sim_subs.h"
#include "sim_vcload.h"
#include "usp_json.h"
#include "usp_record.h"

enum timer_kind { TK_NONE, TK_SHUTDOWN, TK_BOOT, TK_CHURN_OFF, TK_CHURN_ON };

#define MAX_SAVES_PER_TICK 2000

double sim_worker_rand(struct sim_worker *w)
{
	w->rng = sim_dm_hash(w->rng, 0x5151, 0, 0);
	return (double)(w->rng >> 11) / 9007199254740992.0;
}

void sim_agent_mark_dirty(struct sim_agent *a)
{
	a->dirty = 1;
}

void sim_agent_env(const struct sim_agent *a, struct sim_dm_env *env)
{
	const struct sim_config *cfg = a->w->cfg;
	env->m = a->w->model;
	env->seed = cfg->seed;
	env->index = a->index;
	env->eid = a->eid;
	env->agent_topic = a->topic;
	env->controller_id = cfg->controller_id;
	env->controller_topic = cfg->controller_topic;
	env->boot_time = a->boot_time;
	env->now = a->w->now;
	env->value_rate = cfg->value_rate;
	env->var = NULL;
	env->var_ctx = NULL;
}

struct dm_inst *sim_agent_controller(struct sim_agent *a, const char *eid)
{
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	char buf[SIM_VALUE_MAX];
	if (ids->ctrl == SM_NONE || ids->ctrl_eid == SM_NONE)
		return NULL;
	sim_agent_env(a, &env);
	for (struct dm_inst *c = a->dm.root.child; c; c = c->next)
		if (c->obj == ids->ctrl &&
		    !strcmp(sim_dm_get(&env, c, ids->ctrl_eid, buf, sizeof(buf)), eid))
			return c;
	return NULL;
}

const char *sim_agent_controller_topic(struct sim_agent *a, struct dm_inst *ctrl, char *buf,
				       size_t cap)
{
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	if (ids->ctrl_mtp == SM_NONE || ids->ctrl_mtp_topic == SM_NONE)
		return NULL;
	sim_agent_env(a, &env);
	for (struct dm_inst *m = ctrl->child; m; m = m->next) {
		if (m->obj != ids->ctrl_mtp)
			continue;
		const char *t = sim_dm_get(&env, m, ids->ctrl_mtp_topic, buf, cap);
		if (t[0]) {
			if (t != buf)
				snprintf(buf, cap, "%s", t);
			return buf;
		}
	}
	return NULL;
}

int sim_agent_send_packed(struct sim_agent *a, const char *to_id, const char *topic,
			  const uint8_t *msg, size_t len)
{
	uint8_t *rec = NULL;
	size_t rec_len = 0;
	if (usp_record_wrap_msg(to_id, a->eid, msg, len, &rec, &rec_len) < 0)
		return -1;
	int rc = sim_mqtt_publish(a, topic, rec, rec_len);
	free(rec);
	return rc;
}

int sim_agent_send_msg(struct sim_agent *a, const char *to_id, const char *topic,
		       const Usp__Msg *msg)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	if (usp_msg_encode(msg, &buf, &len) < 0)
		return -1;
	if (log_enabled(LOG_LVL_TRACE) || a->w->cfg->trace) {
		cJSON *j = usp_json_from_msg_payload(msg);
		char *s = j ? cJSON_PrintUnformatted(j) : NULL;
		log_info("sim", "%s -> %s: %s", a->eid, to_id, s ? s : "?");
		free(s);
		cJSON_Delete(j);
	}
	int rc = sim_agent_send_packed(a, to_id, topic, buf, len);
	free(buf);
	return rc;
}

/* ---- online: MQTTConnect record, Boot! ---- */

/* Each enabled controller with an EndpointID and an MQTT topic, in table
 * order: fn(a, eid, topic, arg); stops early when fn returns nonzero. */
static int each_controller(struct sim_agent *a,
			   int (*fn)(struct sim_agent *a, const char *eid, const char *topic,
				     void *arg),
			   void *arg)
{
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	char eid[SIM_VALUE_MAX], topic[SIM_VALUE_MAX], en[16];
	if (ids->ctrl == SM_NONE || ids->ctrl_eid == SM_NONE)
		return 0;
	sim_agent_env(a, &env);
	for (struct dm_inst *c = a->dm.root.child; c; c = c->next) {
		if (c->obj != ids->ctrl)
			continue;
		if (ids->ctrl_enable != SM_NONE &&
		    strcmp(sim_dm_get(&env, c, ids->ctrl_enable, en, sizeof(en)), "true") &&
		    strcmp(en, "1"))
			continue;
		sim_dm_get_copy(&env, c, ids->ctrl_eid, eid, sizeof(eid));
		if (!eid[0] || !sim_agent_controller_topic(a, c, topic, sizeof(topic)))
			continue;
		int rc = fn(a, eid, topic, arg);
		if (rc)
			return rc;
	}
	return 0;
}

static int send_connect_to(struct sim_agent *a, const char *eid, const char *topic, void *arg)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	(void)arg;
	if (usp_record_build_mqtt_connect(eid, a->eid, 1, a->topic, &rec, &len) == 0)
		sim_mqtt_publish(a, topic, rec, len);
	free(rec);
	return 0;
}

static void send_connect_records(struct sim_agent *a)
{
	each_controller(a, send_connect_to, NULL);
}

static int send_disconnect_to(struct sim_agent *a, const char *eid, const char *topic, void *arg)
{
	uint8_t *rec = NULL;
	size_t len = 0;
	if (usp_record_build_disconnect(eid, a->eid, arg, 0, &rec, &len) == 0)
		sim_mqtt_publish(a, topic, rec, len);
	free(rec);
	return 0;
}

void sim_agent_send_disconnect(struct sim_agent *a, const char *reason)
{
	if (a->state == SIM_A_ONLINE)
		each_controller(a, send_disconnect_to, (void *)reason);
}

struct will_arg {
	char *topic;
	size_t cap;
	uint8_t **rec;
	size_t *len;
};

static int will_to(struct sim_agent *a, const char *eid, const char *topic, void *arg)
{
	struct will_arg *wa = arg;
	snprintf(wa->topic, wa->cap, "%s", topic);
	return usp_record_build_disconnect(eid, a->eid, "connection lost", 0, wa->rec, wa->len) == 0
		       ? 1
		       : -1;
}

int sim_agent_will(struct sim_agent *a, char *topic, size_t cap, uint8_t **rec, size_t *len)
{
	struct will_arg wa = { topic, cap, rec, len };
	int rc = each_controller(a, will_to, &wa);
	return rc > 0 ? 0 : rc < 0 ? -1 : 1;
}

static void schedule_churn(struct sim_agent *a)
{
	const struct sim_config *cfg = a->w->cfg;
	if (!a->flaps || cfg->churn_interval_s <= 0)
		return;
	double d = -log(1.0 - sim_worker_rand(a->w)) * cfg->churn_interval_s;
	a->timer_kind = TK_CHURN_OFF;
	sim_timer_arm(a->w->loop, &a->timer, (uint64_t)(d * 1000.0) + 1);
}

void sim_agent_on_online(struct sim_agent *a)
{
	send_connect_records(a);
	if (a->boot_pending) {
		char fw[8];
		snprintf(fw, sizeof(fw), "%s", a->boot_fw_updated ? "true" : "false");
		/* ParameterMap is added per recipient (its BootParameter table) */
		const char *kv[] = {
			"CommandKey",      a->boot_key ? a->boot_key : "",
			"Cause",           a->boot_cause ? a->boot_cause : "LocalReboot",
			"Reason",          "",
			"FirmwareUpdated", fw
		};
		a->boot_pending = 0;
		a->w->stats->boots++;
		sim_subs_boot(a, kv, sizeof(kv) / sizeof(kv[0]) / 2);
		sim_ops_after_boot(a);
		if (a->boot_key || a->boot_fw_updated ||
		    strcmp(a->boot_cause ? a->boot_cause : "", "LocalReboot"))
			sim_agent_mark_dirty(a);
		free(a->boot_cause);
		free(a->boot_key);
		a->boot_cause = a->boot_key = NULL;
		a->boot_fw_updated = 0;
	}
	schedule_churn(a);
}

/* ---- inbound ---- */

static Usp__Msg *dispatch(struct sim_req *r)
{
	switch (usp_msg_type(r->msg)) {
	case USP__HEADER__MSG_TYPE__GET:
		return sim_handle_get(r);
	case USP__HEADER__MSG_TYPE__GET_INSTANCES:
		return sim_handle_get_instances(r);
	case USP__HEADER__MSG_TYPE__GET_SUPPORTED_DM:
		return sim_handle_get_supported_dm(r);
	case USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO:
		return sim_handle_get_supported_protocol(r);
	case USP__HEADER__MSG_TYPE__SET:
		return sim_handle_set(r);
	case USP__HEADER__MSG_TYPE__ADD:
		return sim_handle_add(r);
	case USP__HEADER__MSG_TYPE__DELETE:
		return sim_handle_delete(r);
	case USP__HEADER__MSG_TYPE__OPERATE:
		return sim_handle_operate(r);
	case USP__HEADER__MSG_TYPE__NOTIFY_RESP:
		sim_subs_notify_resp(r->a, usp_msg_id(r->msg));
		return NULL;
	default:
		if (r->msg->body->msg_body_case == USP__BODY__MSG_BODY_REQUEST)
			return sim_error_msg(r, USP_ERR_MESSAGE_NOT_SUPPORTED,
					     "an agent does not accept %s requests",
					     usp_msg_type_name(usp_msg_type(r->msg)));
		return NULL; /* responses and errors are never answered */
	}
}

static void handle_msg(struct sim_agent *a, const UspRecord__Record *rec, struct dm_inst *ctrl,
		       const char *topic)
{
	const ProtobufCBinaryData *pl = &rec->no_session_context->payload;
	struct uspc_err err = { 0 };
	Usp__Msg *msg = NULL;
	Usp__Msg *resp = NULL;
	int rc = usp_msg_decode(pl->data, pl->len, &msg, &err);
	struct sim_req r = { .a = a, .msg = msg, .from = rec->from_id, .ctrl = ctrl };
	sim_agent_env(a, &r.env);
	if (rc == USP_MSG_E_EMPTY_BODY) {
		/* R-ENC.5: a Request with no message selected gets 7004 */
		if (msg->body->msg_body_case == USP__BODY__MSG_BODY_REQUEST)
			resp = sim_error_msg(&r, USP_ERR_INVALID_ARGUMENTS,
					     "request selects no message");
		else
			a->w->stats->dropped++;
	} else if (rc < 0) {
		log_debug("sim", "%s: dropped a Msg from %s: %s", a->eid, rec->from_id, err.msg);
		a->w->stats->dropped++;
	} else {
		if (a->w->cfg->trace) {
			cJSON *j = usp_json_from_msg_payload(msg);
			char *s = j ? cJSON_PrintUnformatted(j) : NULL;
			log_info("sim", "%s <- %s: %s", a->eid, rec->from_id, s ? s : "?");
			free(s);
			cJSON_Delete(j);
		}
		resp = dispatch(&r);
	}
	if (resp) {
		if (usp_msg_type(resp) == USP__HEADER__MSG_TYPE__ERROR)
			a->w->stats->errors_sent++;
		sim_agent_send_msg(a, rec->from_id, topic, resp);
		usp_msg_free(resp);
	}
	usp_msg_free(msg);
}

void sim_agent_on_message(struct sim_agent *a, const void *payload, size_t len,
			  const char *response_topic)
{
	const struct sim_config *cfg = a->w->cfg;
	struct usp_record_limits lim = { .max_record_size = cfg->max_record };
	struct uspc_err err = { 0 };
	UspRecord__Record *rec = NULL;
	char topic_buf[SIM_VALUE_MAX];
	if (usp_record_unwrap(payload, len, &lim, &rec, &err) < 0) {
		log_debug("sim", "%s: dropped a record: %s", a->eid, err.msg);
		a->w->stats->dropped++;
		return;
	}
	struct dm_inst *ctrl = NULL;
	const char *topic = response_topic;
	if (strcmp(rec->to_id, a->eid)) { /* R-E2E.1 */
		log_debug("sim", "%s: dropped a record for %s", a->eid, rec->to_id);
		goto drop;
	}
	if (!(ctrl = sim_agent_controller(a, rec->from_id))) {
		log_debug("sim", "%s: dropped a record from unknown controller %s", a->eid,
			  rec->from_id);
		goto drop;
	}
	if (!topic || !topic[0])
		topic = sim_agent_controller_topic(a, ctrl, topic_buf, sizeof(topic_buf));
	if (!topic)
		goto drop;
	switch (rec->record_type_case) {
	case USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT:
		handle_msg(a, rec, ctrl, topic);
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT: {
		uint8_t *out = NULL;
		size_t olen = 0;
		if (usp_record_build_disconnect(
			    rec->from_id, a->eid, "session context not supported",
			    USP_ERR_SESSION_CONTEXT_NOT_ALLOWED, &out, &olen) == 0)
			sim_mqtt_publish(a, topic, out, olen);
		free(out);
		send_connect_records(a); /* R-MTP.8 */
		break;
	}
	case USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT:
		send_connect_records(a);
		break;
	default:
		break; /* connect records from a controller need no answer */
	}
	usp_record_free(rec);
	return;
drop:
	a->w->stats->dropped++;
	usp_record_free(rec);
}

/* ---- reboot, boot, churn ---- */

static void replace(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

void sim_agent_reboot(struct sim_agent *a, const char *cause, const char *key, int factory)
{
	replace(&a->boot_cause, cause);
	replace(&a->boot_key, key);
	a->boot_fw_updated = 0; /* until the boot runs a new image */
	a->factory_pending = (uint8_t)factory;
	a->abrupt = 0;
	sim_agent_mark_dirty(a);
	log_info("sim", "%s: %s (%s)", a->eid, factory ? "factory reset" : "reboot", cause);
	a->timer_kind = TK_SHUTDOWN;
	sim_timer_arm(a->w->loop, &a->timer, 100); /* let the OperateResp go first */
}

static void remove_volatile(struct sim_agent *a)
{
	const struct sim_model *m = a->w->model;
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	char buf[16];
	sim_agent_env(a, &env);
	for (struct dm_inst *c = a->dm.root.child, *next; c; c = next) {
		next = c->next;
		int drop = !m->objs[c->obj].persist;
		if (c->obj == ids->sub && ids->sub_persistent != SM_NONE) {
			const char *v = sim_dm_get(&env, c, ids->sub_persistent, buf, sizeof(buf));
			drop = strcmp(v, "true") && strcmp(v, "1");
		}
		if (drop)
			sim_dm_delete(&a->dm, c);
	}
	for (size_t t = 0; t < m->n_objs; t++)
		if (m->objs[t].is_table && !m->objs[t].persist &&
		    m->objs[m->objs[t].parent].table == SM_NONE &&
		    sim_dm_count(&a->dm.root, (uint16_t)t) == 0)
			sim_dm_refill(&a->dm, m, &a->dm.root, (uint16_t)t);
	sim_dm_drop_volatile(m, &a->dm.root);
}

static int factory_reset(struct sim_agent *a)
{
	struct sim_dm_env env;
	sim_dm_fini(&a->dm);
	if (sim_dm_init(&a->dm, a->w->model) < 0)
		return -1;
	sim_agent_env(a, &env);
	return sim_dm_factory(&a->dm, &env);
}

/* Power on: fresh runtime state, the image BootFirmwareImage names, then
 * connect; Boot! once online. An agent of --fw-no-return-fraction that
 * boots a new image stays down (REBOOTING, no timer) until the end. */
static void boot(struct sim_agent *a)
{
	a->boot_gen++;
	sim_ops_clear(a);
	sim_subs_clear(a);
	if (a->factory_pending) {
		a->factory_pending = 0;
		if (factory_reset(a) < 0)
			log_error("sim", "%s: factory reset failed (out of memory)", a->eid);
		sim_ops_fw_prune(a);
	} else {
		remove_volatile(a);
	}
	a->boot_time = a->w->now;
	a->boot_pending = 1;
	a->next_periodic = 0;
	if (sim_ops_fw_boot(a, 0) == SIM_FWB_GONE) {
		sim_agent_mark_dirty(a);
		return;
	}
	sim_subs_changed(a);
	sim_agent_mark_dirty(a);
	sim_mqtt_queue_connect(a);
}

static void agent_timer(struct sim_timer *t)
{
	struct sim_agent *a = sim_container_of(t, struct sim_agent, timer);
	const struct sim_config *cfg = a->w->cfg;
	if (a->state == SIM_A_STOPPED)
		return;
	if (a->state == SIM_A_BACKOFF && a->timer_kind != TK_SHUTDOWN) {
		sim_mqtt_queue_connect(a);
		return;
	}
	enum timer_kind k = (enum timer_kind)a->timer_kind;
	a->timer_kind = TK_NONE;
	switch (k) {
	case TK_SHUTDOWN:
		sim_mqtt_leave(a, SIM_A_REBOOTING, a->abrupt ? "power-cut" : "reboot", a->abrupt);
		a->abrupt = 0;
		a->timer_kind = TK_BOOT;
		sim_timer_arm(a->w->loop, &a->timer, (uint64_t)(cfg->reboot_s * 1000.0));
		break;
	case TK_BOOT:
		boot(a);
		break;
	case TK_CHURN_OFF:
		if (cfg->churn_reboot) {
			sim_agent_reboot(a, "LocalReboot", "", 0);
			a->abrupt = 1; /* a power cycle: the broker publishes the Will */
			break;
		}
		sim_mqtt_leave(a, SIM_A_OFFLINE, "churn", 1); /* a dropped line: the Will */
		a->timer_kind = TK_CHURN_ON;
		sim_timer_arm(
			a->w->loop, &a->timer,
			(uint64_t)(cfg->churn_offline_s * (0.5 + sim_worker_rand(a->w)) * 1000.0) +
				1);
		break;
	case TK_CHURN_ON:
		sim_mqtt_queue_connect(a);
		break;
	case TK_NONE:
		break;
	}
}

static void host_timer(struct sim_timer *t)
{
	struct sim_agent *a = sim_container_of(t, struct sim_agent, host_timer);
	struct sim_worker *w = a->w;
	const struct sim_ids *ids = &w->ids;
	uint16_t host = ids->host;
	size_t n = sim_dm_count(&a->dm.root, host);
	size_t base = w->model->objs[host].count;
	if (n > 0 && (n > base * 2 || sim_worker_rand(w) < 0.5)) {
		size_t pick = (size_t)(sim_worker_rand(w) * (double)n), i = 0;
		for (struct dm_inst *c = a->dm.root.child; c; c = c->next)
			if (c->obj == host && i++ == pick) {
				char path[SIM_PATH_MAX];
				sim_dm_obj_path(w->model, c, host, path, sizeof(path));
				sim_subs_obj_deletion(a, path); /* before: reads the instance */
				sim_dm_delete(&a->dm, c);
				break;
			}
	} else {
		struct dm_inst *c = sim_dm_add(&a->dm, w->model, &a->dm.root, host, 0);
		if (c)
			sim_subs_obj_creation(a, c);
	}
	double d = -log(1.0 - sim_worker_rand(w)) * w->cfg->host_churn_s;
	sim_timer_arm(w->loop, t, (uint64_t)(d * 1000.0) + 1);
}

/* ---- worker ---- */

static uint16_t param_of(const struct sim_model *m, uint16_t obj, const char *rel)
{
	return obj == SM_NONE ? SM_NONE : sim_model_rel_param(m, obj, rel, NULL);
}

/* A table is usable at the root only if no ancestor is a table. */
static uint16_t root_table(const struct sim_model *m, const char *path)
{
	uint16_t t = sim_model_find_obj(m, path);
	if (t == SM_NONE || !m->objs[t].is_table || m->objs[m->objs[t].parent].table != SM_NONE)
		return SM_NONE;
	return t;
}

static void find_ids(const struct sim_model *m, struct sim_ids *ids)
{
	uint16_t di = sim_model_find_obj(m, "Device.DeviceInfo.");
	uint16_t la = sim_model_find_obj(m, "Device.LocalAgent.");
	ids->ctrl = root_table(m, "Device.LocalAgent.Controller.{i}.");
	ids->ctrl_eid = param_of(m, ids->ctrl, "EndpointID");
	ids->ctrl_enable = param_of(m, ids->ctrl, "Enable");
	ids->ctrl_periodic = param_of(m, ids->ctrl, "PeriodicNotifInterval");
	ids->ctrl_retry_min = param_of(m, ids->ctrl, "USPNotifRetryMinimumWaitInterval");
	ids->ctrl_retry_mult = param_of(m, ids->ctrl, "USPNotifRetryIntervalMultiplier");
	ids->ctrl_mtp = sim_model_find_obj(m, "Device.LocalAgent.Controller.{i}.MTP.{i}.");
	ids->ctrl_mtp_topic = param_of(m, ids->ctrl_mtp, "MQTT.Topic");
	ids->bootp = sim_model_find_obj(m, "Device.LocalAgent.Controller.{i}.BootParameter.{i}.");
	ids->bootp_enable = param_of(m, ids->bootp, "Enable");
	ids->bootp_name = param_of(m, ids->bootp, "ParameterName");
	ids->sub = root_table(m, "Device.LocalAgent.Subscription.{i}.");
	ids->sub_enable = param_of(m, ids->sub, "Enable");
	ids->sub_id = param_of(m, ids->sub, "ID");
	ids->sub_type = param_of(m, ids->sub, "NotifType");
	ids->sub_refs = param_of(m, ids->sub, "ReferenceList");
	ids->sub_recipient = param_of(m, ids->sub, "Recipient");
	ids->sub_retry = param_of(m, ids->sub, "NotifRetry");
	ids->sub_expiration = param_of(m, ids->sub, "NotifExpiration");
	ids->sub_persistent = param_of(m, ids->sub, "Persistent");
	ids->sub_ttl = param_of(m, ids->sub, "TimeToLive");
	ids->sub_created = param_of(m, ids->sub, "CreationDate");
	ids->req = root_table(m, "Device.LocalAgent.Request.{i}.");
	ids->req_originator = param_of(m, ids->req, "Originator");
	ids->req_command = param_of(m, ids->req, "Command");
	ids->req_key = param_of(m, ids->req, "CommandKey");
	ids->req_status = param_of(m, ids->req, "Status");
	ids->fw = sim_model_find_obj(m, "Device.DeviceInfo.FirmwareImage.{i}.");
	ids->fw_name = param_of(m, ids->fw, "Name");
	ids->fw_version = param_of(m, ids->fw, "Version");
	ids->fw_status = param_of(m, ids->fw, "Status");
	ids->fw_available = param_of(m, ids->fw, "Available");
	ids->fw_boot_log = param_of(m, ids->fw, "BootFailureLog");
	ids->sw_version = param_of(m, di, "SoftwareVersion");
	ids->active_fw = param_of(m, di, "ActiveFirmwareImage");
	ids->boot_fw = param_of(m, di, "BootFirmwareImage");
	ids->host = root_table(m, "Device.Hosts.Host.{i}.");
	ids->la_eid = param_of(m, la, "EndpointID");
}

static void tick(struct sim_timer *t)
{
	struct sim_worker *w = sim_container_of(t, struct sim_worker, tick);
	int saves = 0;
	w->now = time(NULL);
	sim_mqtt_misc(w);
	for (uint32_t i = 0; i < w->n_agents; i++) {
		struct sim_agent *a = &w->agents[i];
		sim_subs_tick(a);
		if (a->dirty && w->cfg->state_dir && saves < MAX_SAVES_PER_TICK) {
			a->dirty = 0;
			saves++;
			sim_state_save(a);
		}
	}
	w->stats->alive = (uint64_t)w->now;
	sim_timer_arm(w->loop, &w->tick, 1000);
}

static void pace_timer(struct sim_timer *t)
{
	sim_mqtt_pace(sim_container_of(t, struct sim_worker, pace));
}

static int agent_init(struct sim_worker *w, struct sim_agent *a, uint32_t index)
{
	const struct sim_config *cfg = w->cfg;
	char eid[128], topic[SIM_TOPIC_MAX + 128];
	struct sim_dm_env env;
	a->w = w;
	a->index = index;
	a->fd = -1;
	sim_index_expand(cfg->eid_pattern, index, eid, sizeof(eid));
	sim_topic_expand(cfg->topic_pattern, eid, topic, sizeof(topic));
	a->eid = strdup(eid);
	a->topic = strdup(topic);
	if (!a->eid || !a->topic || sim_dm_init(&a->dm, w->model) < 0)
		return -1;
	sim_timer_init(&a->timer, agent_timer);
	sim_timer_init(&a->host_timer, host_timer);
	a->boot_time = w->now;
	sim_agent_env(a, &env);
	if (sim_dm_factory(&a->dm, &env) < 0)
		return -1;
	if (cfg->state_dir && sim_state_load(a) < 0)
		log_warn("sim", "%s: state unreadable, starting from factory defaults", a->eid);
	sim_ops_fw_prune(a); /* --single-bank-fraction, also over an older state file */
	if (!a->boot_cause)
		a->boot_cause = strdup("LocalReboot");
	double r = (double)(sim_dm_hash(cfg->seed, index, 0xC4, 0) >> 11) / 9007199254740992.0;
	a->flaps = r < cfg->churn_fraction;
	if (sim_mqtt_agent_init(a) < 0)
		return -1;
	remove_volatile(a);
	a->boot_pending = 1;
	sim_ops_fw_boot(a, 1); /* a power-on boots BootFirmwareImage too */
	sim_subs_changed(a);
	if (w->ids.host != SM_NONE && cfg->host_churn_s > 0) {
		double d = -log(1.0 - sim_worker_rand(w)) * cfg->host_churn_s;
		sim_timer_arm(w->loop, &a->host_timer, (uint64_t)(d * 1000.0) + 1);
	}
	return 0;
}

int sim_worker_init(struct sim_worker *w, const struct sim_config *cfg,
		    const struct sim_model *model, uint32_t first, uint32_t count,
		    uint32_t worker_no, struct sim_stats *stats)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->model = model;
	w->stats = stats;
	w->worker_no = worker_no;
	w->now = time(NULL);
	w->rng = sim_dm_hash(cfg->seed, worker_no, (uint64_t)w->now, 0x77);
	find_ids(model, &w->ids);
	usp_msgid_init(&w->msgid, "sim", w->rng ^ (uint64_t)getpid(), (uint64_t)w->now);
	w->connect_rate = cfg->connect_rate / (cfg->workers ? cfg->workers : 1);
	if (w->connect_rate < 1)
		w->connect_rate = 1;
	w->loop = sim_loop_new(sim_mqtt_io);
	w->agents = calloc(count ? count : 1, sizeof(*w->agents));
	if (!w->loop || !w->agents)
		return -1;
	w->last_refill_ms = sim_loop_now(w->loop);
	sim_timer_init(&w->tick, tick);
	sim_timer_init(&w->pace, pace_timer);
	for (uint32_t i = 0; i < count; i++) {
		if (agent_init(w, &w->agents[i], first + i) < 0) {
			log_error("sim", "worker %u: cannot create agent %u (out of memory?)",
				  worker_no, first + i);
			w->n_agents = i + 1;
			return -1;
		}
		w->n_agents = i + 1;
		stats->agents++;
	}
	for (uint32_t i = 0; i < count; i++)
		sim_mqtt_queue_connect(&w->agents[i]);
	sim_timer_arm(w->loop, &w->tick, 1000);
	if (sim_vcload_start(w) < 0)
		return -1;
	return 0;
}

int sim_worker_run(struct sim_worker *w, volatile int *stop)
{
	while (!*stop) {
		if (sim_loop_run_once(w->loop, 1000) < 0) {
			log_error("sim", "worker %u: epoll_wait failed", w->worker_no);
			return -1;
		}
		w->now = time(NULL);
	}
	/* clean shutdown: DISCONNECT everyone, flush for up to 2 s */
	w->stopping = 1;
	for (uint32_t i = 0; i < w->n_agents; i++)
		sim_mqtt_leave(&w->agents[i], SIM_A_STOPPED, "shutdown", 0);
	uint64_t until = sim_loop_now(w->loop) + 2000;
	while (sim_loop_now(w->loop) < until) {
		int busy = 0;
		for (uint32_t i = 0; i < w->n_agents && !busy; i++)
			busy = w->agents[i].fd >= 0;
		if (!busy)
			break;
		sim_loop_run_once(w->loop, 50);
	}
	for (uint32_t i = 0; w->cfg->state_dir && i < w->n_agents; i++)
		if (w->agents[i].dirty)
			sim_state_save(&w->agents[i]);
	return 0;
}

void sim_worker_fini(struct sim_worker *w)
{
	for (uint32_t i = 0; i < w->n_agents; i++) {
		struct sim_agent *a = &w->agents[i];
		sim_ops_clear(a);
		sim_subs_clear(a);
		if (w->loop) {
			sim_timer_cancel(w->loop, &a->timer);
			sim_timer_cancel(w->loop, &a->host_timer);
		}
		sim_mqtt_agent_fini(a);
		sim_dm_fini(&a->dm);
		free(a->eid);
		free(a->topic);
		free(a->boot_cause);
		free(a->boot_key);
		free(a->activate_path);
		free(a->activate_key);
		free(a->activate_originator);
	}
	sim_vcload_stop(w);
	free(w->agents);
	sim_loop_free(w->loop);
	memset(w, 0, sizeof(*w));
}
