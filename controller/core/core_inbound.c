/*
 * core_inbound.c — what arrives from the MQTT transport: connection events,
 * and Records, validated (usp_record_unwrap: size cap, version 1.x, ids,
 * one record type; then to_id is ours; then the sender's identity: its
 * from_id must be the topic level it arrived on, core_identity.h; a record
 * that fails any check changes no state) and routed by record type:
 *   mqtt_connect       → agent online with its reply topic and MQTT version,
 *                        outstanding requests re-sent or ended 'unknown',
 *                        onboarding (re)started;
 *   disconnect         → agent offline;
 *   session_context    → DisconnectRecord 7106: this controller does not do
 *                        E2E sessions (TR-369 lets an endpoint refuse them;
 *                        obuspa answers the same way);
 *   no_session_context → Msg decode; responses/errors to the tracker, Notify
 *                        to core_notify.c, other requests get Error 7001.
 * Every rejection is counted per reason and logged with the sender, and
 * counted per sender and reason for the rejections table
 * (core_rejections.c).
 *
 * Core thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core_identity.h"
#include "core_internal.h"
#include "core_rejmap.h"
#include "log.h"
#include "usp_pb.h"

#define STR_(x) #x
#define XSTR_(x) STR_(x)
#define TOPIC_MAX_STR XSTR_(CORE_TOPIC_MAX) /* "512" */

/* Online; new_session: the agent's connect record (see store_agent_state). */
static int agent_alive(struct core *c, struct core_agent *a, int new_session)
{
	a->consecutive_timeouts = 0;
	if (a->online)
		return 0;
	core_registry_set_online(c->reg, a, 1);
	struct store_agent_state st = { .eid = a->eid,
					.online = 1,
					.reply_topic = a->reply_topic,
					.mqtt_version = a->mqtt_v5 ? 5 : 4,
					.new_session = new_session };
	CORE_SUBMIT(c, "agent_state", store_writer_agent_state(c->writer, &st, &c->serr));
	log_debug(CORE_LOG, "%s online", a->eid);
	return 1;
}

int core_agent_alive(struct core *c, struct core_agent *a)
{
	return agent_alive(c, a, 0);
}

void core_agent_offline(struct core *c, struct core_agent *a, const char *why)
{
	if (!a->online)
		return;
	core_registry_set_online(c->reg, a, 0);
	a->offline_at_ms = core_now_ms();
	if (a->onboard == CORE_ONB_RUNNING)
		a->onboard = CORE_ONB_NONE;
	a->onboard_gen++; /* answers to an old onboarding are ignored */
	struct store_agent_state st = { .eid = a->eid, .online = 0 };
	CORE_SUBMIT(c, "agent_state", store_writer_agent_state(c->writer, &st, &c->serr));
	log_info(CORE_LOG, "%s offline: %s", a->eid, why);
}

void core_finish_request(struct core *c, struct core_req *req, const Usp__Msg *msg)
{
	struct core_agent *a = req->agent;
	switch (req->kind) {
	case CORE_REQ_TASK:
		core_task_response(c, req, msg);
		break;
	case CORE_REQ_ONBOARD_GET:
	case CORE_REQ_ONBOARD_ADD:
		core_onboard_response(c, req, msg);
		break;
	case CORE_REQ_PROBE:
		/* The answer's record already brought the agent back online
		 * (on_record); a timeout leaves it offline. */
		break;
	}
	core_req_free(req);
	core_tasks_agent_slot(c, a);
	core_onboard_pump(c);
	core_probe_pump(c);
}

/* One lost request: see core_requests_lost. Takes req. */
static void request_lost(struct core *c, struct core_req *req, const char *why, int restart)
{
	struct core_agent *a = req->agent;
	if (req->kind == CORE_REQ_TASK) {
		core_task_request_lost(c, req, why);
		return;
	}
	/* Answers of this onboarding round are moot. A probe is dropped (a
	 * broker restart probes again). */
	int onboarding = req->kind != CORE_REQ_PROBE && a->onboard == CORE_ONB_RUNNING;
	a->onboard_gen++;
	if (onboarding)
		a->onboard = CORE_ONB_NONE;
	core_req_free(req);
	if (onboarding && restart && a->online)
		core_onboard_start(c, a);
}

void core_requests_lost(struct core *c, struct core_agent *a, const char *why)
{
	/* For one agent the caller (its connect record) onboards it again;
	 * after our own session loss, onboardings cut short start over here. */
	int restart = a == NULL;
	size_t todo = a ? (size_t)a->pending : core_tracker_count(c->trk);
	if (todo == 0)
		return;
	/* List first: re-sent tasks get fresh entries that must not be seen. */
	struct core_req **list = calloc(todo, sizeof(*list));
	if (!list) {
		log_error(CORE_LOG, "out of memory: %zu outstanding request(s) left to time out",
			  todo);
		return;
	}
	size_t n = core_tracker_list_agent(c->trk, a, list, todo);
	for (size_t i = 0; i < n; i++)
		request_lost(c, core_tracker_take(c->trk, list[i]->agent, list[i]->msg_id), why,
			     restart);
	free(list);
	log_info(CORE_LOG, "%zu outstanding request(s)%s%s will not be answered: %s", n,
		 a ? " to " : "", a ? a->eid : "", why);
}

static void on_mqtt_connect(struct core *c, struct core_agent *a, const UspRecord__Record *rec,
			    const char *in_topic)
{
	const UspRecord__MQTTConnectRecord *mc = rec->mqtt_connect;
	/* The agent's topic: the configured template, else what its own
	 * (identity-checked) connect record says; never a Response Topic. */
	const char *topic = c->cfg->agent_topic_template[0] ? a->reply_topic : mc->subscribed_topic;
	if (!topic || core_agent_set_topic(a, topic) != 0) {
		core_reject(
			c, "connect_without_topic", a->eid, in_topic,
			"MQTTConnectRecord without a usable subscribed_topic (empty, over " TOPIC_MAX_STR
			" bytes, or with + or #)");
		return;
	}
	a->mqtt_v5 = mc->version == USP_RECORD__MQTTCONNECT_RECORD__MQTTVERSION__V5;
	/* A new MQTT session of the agent: what it had not answered is lost. */
	core_requests_lost(c, a, "the agent started a new MQTT session before answering");
	/* Always re-announce: the topic or version may have changed. */
	core_registry_set_online(c->reg, a, 0);
	agent_alive(c, a, 1);
	log_debug(CORE_LOG, "%s connected (MQTT %s, topic %s)", a->eid, a->mqtt_v5 ? "5" : "3.1.1",
		  a->reply_topic);
	core_onboard_start(c, a);
}

/* Answered where the record asked (its Response Topic), else to the
 * agent's topic; the DisconnectRecord is addressed to a (to_id). */
static void answer_session_context(struct core *c, struct core_agent *a,
				   const struct mqtt_mtp_event *ev)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *topic = ev->response_topic ? ev->response_topic : a->reply_topic;
	int v311 = ev->response_topic ? ev->reply_via_suffix : !a->mqtt_v5;
	if (!topic)
		return;
	if (usp_record_build_disconnect(a->eid, c->cfg->endpoint_id,
					"session context not supported by this controller",
					USP_ERR_SESSION_CONTEXT_NOT_ALLOWED, &buf, &len) == 0) {
		struct core_pub p = { .flags = v311 ? MQTT_MTP_PUB_V311 : 0 };
		(void)core_publish(c, topic, &p, buf, len);
	}
}

/* Error back to a request we do not serve (R-MTP.5 conditions hold: valid
 * from_id, our to_id, a Request with a msg_id, a return topic). */
static void answer_error(struct core *c, struct core_agent *a, const char *topic, int v311,
			 const char *msg_id, uint32_t code, const char *text)
{
	Usp__Msg *err = usp_msg_new_error(msg_id, code, text);
	if (!err)
		return;
	(void)core_send_msg(c, a, topic, v311, err);
	usp_msg_free(err);
}

/* A response: matched to the pending request by (agent, msg_id) and type. */
static void on_response(struct core *c, struct core_agent *a, const Usp__Msg *msg,
			Usp__Header__MsgType type, const char *in_topic)
{
	struct core_req *req = core_tracker_find(c->trk, a, usp_msg_id(msg));
	if (!req) {
		c->ctr.unknown_responses++;
		core_reject(c, "unknown_response", a->eid, in_topic, usp_msg_id(msg));
		return;
	}
	if (type != USP__HEADER__MSG_TYPE__ERROR && type != usp_msg_response_type(req->type)) {
		char detail[200];
		snprintf(detail, sizeof(detail), "%s answers %s %s", usp_msg_type_name(type),
			 usp_msg_type_name(req->type), req->msg_id);
		core_reject(c, "response_type_mismatch", a->eid, in_topic, detail);
		return; /* the request stays pending */
	}
	req = core_tracker_take(c->trk, a, usp_msg_id(msg));
	c->ctr.responses++;
	core_finish_request(c, req, msg);
}

static void on_msg(struct core *c, struct core_agent *a, const UspRecord__Record *rec,
		   const struct mqtt_mtp_event *ev)
{
	struct uspc_err err;
	Usp__Msg *msg = NULL;
	const ProtobufCBinaryData *p = &rec->no_session_context->payload;
	const char *topic = ev->response_topic ? ev->response_topic : a->reply_topic;
	int v311 = ev->response_topic ? ev->reply_via_suffix : !a->mqtt_v5;
	int rc = usp_msg_decode(p->data, p->len, &msg, &err);
	if (rc != 0) {
		core_reject(c, usp_msg_error_name(rc), a->eid, ev->topic, err.msg);
		if (msg && msg->body && msg->body->msg_body_case == USP__BODY__MSG_BODY_REQUEST)
			answer_error(c, a, topic, v311, usp_msg_id(msg), USP_ERR_INVALID_ARGUMENTS,
				     "request selects no message");
		goto out;
	}
	c->ctr.msgs_in++;
	/* Back from offline without a connect record (it had stopped
	 * answering, or this daemon never saw it): onboard it again, which
	 * also lets the feeder claim its tasks. */
	if (a->reply_topic && core_agent_alive(c, a))
		core_onboard_start(c, a);
	Usp__Header__MsgType type = usp_msg_type(msg);
	if (c->cfg->protocol_trace)
		log_debug("trace", "in %s %s msg_id=%s", usp_msg_type_name(type), a->eid,
			  usp_msg_id(msg));
	if (type == USP__HEADER__MSG_TYPE__NOTIFY) {
		core_handle_notify(c, a, msg, ev->topic, topic, v311);
	} else if (type == USP__HEADER__MSG_TYPE__ERROR || usp_msg_type_is_response(type)) {
		on_response(c, a, msg, type, ev->topic);
	} else {
		core_reject(c, "unsupported_request", a->eid, ev->topic, usp_msg_type_name(type));
		answer_error(c, a, topic, v311, usp_msg_id(msg), USP_ERR_MESSAGE_NOT_SUPPORTED,
			     "this controller does not serve this request");
	}
out:
	if (msg)
		usp_msg_free(msg);
}

/* The record may speak for its from_id only if it came on that agent's own
 * topic level (core_identity.h). NULL when accepted, else the reason. */
static const char *identity_refusal(struct core *c, const struct mqtt_mtp_event *ev,
				    const UspRecord__Record *rec)
{
	struct core_topic_id tid;
	if (core_identity_parse(ev->topic, c->cfg->controller_topic, c->cfg->reply_topic, &tid) !=
	    0)
		return "identity_bad_topic";
	return core_identity_check(&tid, rec->from_id, c->cfg->identity_required);
}

/* The registry entry for an accepted record's sender, with the configured
 * topic template applied; NULL when the registry has no room. */
static struct core_agent *sender(struct core *c, const char *eid, int *created)
{
	struct core_agent *a = core_registry_get(c->reg, eid, created);
	char topic[CORE_TOPIC_MAX + 1];
	if (a && !a->reply_topic && c->cfg->agent_topic_template[0] &&
	    core_identity_agent_topic(c->cfg->agent_topic_template, eid, topic, sizeof(topic)) == 0)
		(void)core_agent_set_topic(a, topic);
	return a;
}

/* Who sent a record that did not unwrap (no from_id to go by): the
 * identity level of the topic it came on (the broker's ACL vouches for
 * it), else its usp-endpoint-id property (the sender's own word), else the
 * topic. Untrusted text either way. */
static const char *unwrap_sender(struct core *c, const struct mqtt_mtp_event *ev, char *buf,
				 size_t cap)
{
	struct core_topic_id tid;
	if (core_identity_parse(ev->topic, c->cfg->controller_topic, c->cfg->reply_topic, &tid) ==
		    0 &&
	    tid.id && tid.id_len > 0) {
		size_t n = tid.id_len < cap - 1 ? tid.id_len : cap - 1;
		memcpy(buf, tid.id, n);
		buf[n] = '\0';
		return buf;
	}
	return ev->endpoint_id ? ev->endpoint_id : ev->topic;
}

static void on_record(struct core *c, const struct mqtt_mtp_event *ev)
{
	struct uspc_err err;
	UspRecord__Record *rec = NULL;
	c->ctr.records_in++;
	int rc = usp_record_unwrap(ev->payload, ev->len, &c->rec_limits, &rec, &err);
	if (rc != 0) {
		char who[CORE_REJ_SENDER_MAX + 1];
		core_reject(c, usp_record_error_name(rc), unwrap_sender(c, ev, who, sizeof(who)),
			    ev->topic, err.msg);
		return;
	}
	if (strcmp(rec->to_id, c->cfg->endpoint_id) != 0) {
		core_reject(c, "record_wrong_to_id", rec->from_id, ev->topic, rec->to_id);
		goto out;
	}
	const char *refused = identity_refusal(c, ev, rec);
	if (refused) {
		char detail[MQTT_MTP_MAX_TOPIC + 16];
		snprintf(detail, sizeof(detail), "topic %s", ev->topic);
		core_reject(c, refused, rec->from_id, ev->topic, detail);
		goto out;
	}
	int created = 0;
	struct core_agent *a = sender(c, rec->from_id, &created);
	if (!a) {
		core_reject(c, "registry_full", rec->from_id, ev->topic,
			    "max_agents reached and no idle agent to evict");
		goto out;
	}
	switch (rec->record_type_case) {
	case USP_RECORD__RECORD__RECORD_TYPE_MQTT_CONNECT:
		on_mqtt_connect(c, a, rec, ev->topic);
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_DISCONNECT:
		if (a->online) {
			core_agent_offline(c, a,
					   rec->disconnect->reason && rec->disconnect->reason[0]
						   ? rec->disconnect->reason
						   : "DisconnectRecord");
		} else {
			/* With a shared subscription another daemon may have seen
			 * the agent come online: the inventory still says so. The
			 * store orders states by their time, so a newer connect
			 * seen elsewhere still wins. */
			struct store_agent_state st = { .eid = a->eid, .online = 0 };
			CORE_SUBMIT(c, "agent_state",
				    store_writer_agent_state(c->writer, &st, &c->serr));
			log_info(
				CORE_LOG,
				"%s offline: DisconnectRecord (online as seen by another daemon, if any)",
				a->eid);
		}
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_NO_SESSION_CONTEXT:
		on_msg(c, a, rec, ev);
		break;
	case USP_RECORD__RECORD__RECORD_TYPE_SESSION_CONTEXT:
		core_reject(c, "record_session_context", a->eid, ev->topic,
			    "answered with Disconnect 7106");
		answer_session_context(c, a, ev);
		break;
	default:
		core_reject(c, "record_unsupported_type", a->eid, ev->topic,
			    "not an MQTT record type");
		break;
	}
	/* A record that changed nothing leaves no trace of a new sender. */
	if (created && !a->reply_topic && core_agent_idle(a))
		(void)core_registry_remove(c->reg, a);
out:
	usp_record_free(rec);
}

/*
 * After a broker restart (we reconnect and the broker kept no session), the
 * agents that went offline shortly before we lost the connection were most
 * likely cut off by the same restart (their Will, a DisconnectRecord, reached
 * us as the broker went down). They reconnect on their own, but a connect
 * record they publish before we have subscribed again is lost with the
 * broker's state, and they would stay offline here, their tasks never run.
 * Each gets a GetSupportedProtocol: its answer (any record) brings it back
 * online and onboards it again; an agent really gone just times out.
 * A whole fleet may qualify, so the probes wait in c->probe_q and go out
 * within the same request budget as onboarding (max_pending in flight),
 * the queue draining as answers and timeouts free slots.
 */
static void send_probe(struct core *c, struct core_agent *a)
{
	char id[72];

	core_next_msg_id(c, id, sizeof(id));
	Usp__Msg *m = usp_msg_new(id, USP__HEADER__MSG_TYPE__GET_SUPPORTED_PROTO);
	if (m) {
		Usp__GetSupportedProtocol *g = m->body->request->get_supported_protocol;
		g->controller_supported_protocol_versions = usp_pb_strdup(CORE_USP_VERSIONS);
		(void)core_send_request(c, a, m, CORE_REQ_PROBE); /* failure logged there */
	}
	usp_msg_free(m);
}

/* Out of the queue: probe unless it came back meanwhile. */
static void probe_queued(struct core *c, struct core_agent *a)
{
	a->probe_queued = 0;
	if (!a->online && a->reply_topic)
		send_probe(c, a);
}

void core_probe_queue_clear(struct core *c)
{
	for (size_t i = 0; i < c->probe_q.len; i++)
		c->probe_q.a[i]->probe_queued = 0;
	c->probe_q.len = 0;
}

/* Start-up: agents the database shows online but not onboarded since they
 * came online (their connect record may have died with a crashed daemon)
 * are probed like agents after a broker restart; an answer onboards them. */
void core_probe_agents(struct core *c, const struct store_agent_ref *refs, size_t n)
{
	size_t queued = 0;
	for (size_t i = 0; i < n; i++) {
		int created = 0;
		struct core_agent *a = core_registry_get(c->reg, refs[i].eid, &created);
		if (!a || a->probe_queued || !refs[i].reply_topic ||
		    (!a->reply_topic && core_agent_set_topic(a, refs[i].reply_topic) != 0))
			continue;
		if (created)
			a->mqtt_v5 = refs[i].mqtt_version != 4;
		if (core_agentq_push(&c->probe_q, a) == 0) {
			a->probe_queued = 1;
			queued++;
		}
	}
	if (queued)
		log_info(CORE_LOG,
			 "start-up: probing %zu agent(s) the database shows online but not "
			 "onboarded since they came online",
			 queued);
	core_probe_pump(c);
}

void core_probe_pump(struct core *c)
{
	core_agentq_drain(c, &c->probe_q, probe_queued);
}

struct probe_walk {
	struct core *c;
	int64_t since_ms;
	size_t queued, dropped;
};

static void probe_collect(struct core_agent *a, void *arg)
{
	struct probe_walk *w = arg;
	struct core *c = w->c;

	if (a->online || !a->reply_topic || a->offline_at_ms < w->since_ms)
		return;
	if (a->probe_queued)
		return;
	if (core_agentq_push(&c->probe_q, a) != 0) {
		w->dropped++;
	} else {
		a->probe_queued = 1;
		w->queued++;
	}
}

static void probe_after_broker_restart(struct core *c)
{
	struct probe_walk w = { .c = c, .since_ms = c->mqtt_lost_at_ms - CORE_PROBE_WINDOW_MS };

	core_probe_queue_clear(c); /* a probe round of an earlier restart is moot */
	core_registry_foreach(c->reg, probe_collect, &w);
	if (w.queued)
		log_info(CORE_LOG,
			 "broker kept no session: probing %zu agent(s) that went offline up to "
			 "%d s before the connection was lost",
			 w.queued, CORE_PROBE_WINDOW_MS / 1000);
	if (w.dropped)
		log_error(CORE_LOG,
			  "out of memory: %zu agent(s) not probed after the broker restart",
			  w.dropped);
	core_probe_pump(c);
}

void core_handle_mtp_event(struct core *c, const struct mqtt_mtp_event *ev)
{
	switch (ev->kind) {
	case MQTT_MTP_EV_MESSAGE:
		on_record(c, ev);
		break;
	case MQTT_MTP_EV_CONNECTED:
		log_info(CORE_LOG, "MQTT connected (session present %d, window %d)",
			 ev->session_present, ev->window);
		if (c->reconcile) {
			core_probe_agents(c, c->reconcile, c->n_reconcile);
			store_agent_refs_free(c->reconcile, c->n_reconcile);
			c->reconcile = NULL;
			c->n_reconcile = 0;
		}
		if (!ev->session_present && c->mqtt_lost_at_ms) {
			core_requests_lost(c, NULL,
					   "the broker kept no session for this daemon, so answers "
					   "sent while it was away are lost");
			probe_after_broker_restart(c);
		}
		break;
	case MQTT_MTP_EV_DISCONNECTED:
		log_warn(CORE_LOG, "MQTT connection lost: %s", ev->reason);
		c->mqtt_lost_at_ms = core_now_ms();
		break;
	case MQTT_MTP_EV_PUBLISH_FAILED:
		c->ctr.publish_failed_events++;
		log_warn(CORE_LOG, "publish to %s given up: %s (code %d)",
			 ev->topic ? ev->topic : "?", ev->reason, ev->reason_code);
		break;
	}
}
