/*
 * core_onboard.c — onboarding an agent when it appears (MQTTConnectRecord,
 * Boot!, OnBoardRequest):
 *   1. one Get of the DeviceInfo basics, our own Controller row
 *      (Device.LocalAgent.Controller.*.EndpointID) and
 *      Device.LocalAgent.Subscription.; the DeviceInfo fields go to the
 *      inventory;
 *   2. the standard subscriptions (table below) that are missing on the
 *      agent — matched by ID and, when our Controller row is known, by
 *      Recipient — are created with one Add (allow_partial); the ones that
 *      exist are only recorded in the store, so a restarted daemon never
 *      duplicates them;
 *   3. the agent is marked onboarded in the store, which lets the task
 *      feeder claim its queued tasks. The store writer wakes the feeders
 *      (NOTIFY uspc_task_new) once that commits; kicking the feeder here,
 *      before the commit, made it park the agent's tasks once more.
 * A failure or timeout still ends in step 3 (tasks should not wait forever
 * on a subscription problem); consecutive timeouts take the agent offline.
 * At most max_pending requests are outstanding: agents beyond that wait in a
 * FIFO (each agent at most once).
 *
 * Core thread only. Answers from an older onboarding round (onboard_gen
 * differs) are ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "log.h"

struct std_sub {
	const char *id, *type, *ref;
};

static const struct std_sub std_subs[] = {
	{ "uspc-boot", "Event", "Device.Boot!" },
	{ "uspc-transfer", "Event", "Device.LocalAgent.TransferComplete!" },
	{ "uspc-fw-complete", "OperationComplete", "Device.DeviceInfo.FirmwareImage." },
	{ "uspc-diag-complete", "OperationComplete", "Device.IP.Diagnostics." },
	{ "uspc-swversion", "ValueChange", "Device.DeviceInfo.SoftwareVersion" },
};
#define N_STD (sizeof(std_subs) / sizeof(std_subs[0]))

static const char *const get_paths[] = {
	"Device.DeviceInfo.Manufacturer",    "Device.DeviceInfo.ManufacturerOUI",
	"Device.DeviceInfo.ModelName",       "Device.DeviceInfo.ProductClass",
	"Device.DeviceInfo.SerialNumber",    "Device.DeviceInfo.SoftwareVersion",
	"Device.DeviceInfo.HardwareVersion", "Device.LocalAgent.Controller.*.EndpointID",
	"Device.LocalAgent.Subscription.",
};

#define SUB_PREFIX "Device.LocalAgent.Subscription."
#define CTRL_PREFIX "Device.LocalAgent.Controller."
#define MAX_SEEN_SUBS 256 /* subscription rows examined per agent */

struct map_entry {
	ProtobufCMessage base;
	char *key;
	char *value;
};

static void finish(struct core *c, struct core_agent *a, enum core_onboard_state st,
		   const char *why)
{
	a->onboard = st;
	if (st == CORE_ONB_DONE)
		c->ctr.onboard_done++;
	else
		c->ctr.onboard_failed++;
	if (why)
		log_warn(CORE_LOG, "onboarding %s incomplete: %s", a->eid, why);
	struct store_device_info d = { .eid = a->eid, .onboarded = 1 };
	CORE_SUBMIT(c, "device_info", store_writer_device_info(c->writer, &d, &c->serr));
}

static int slot_free(const struct core *c, const struct core_agent *a)
{
	return core_tracker_count(c->trk) < (size_t)c->cfg->max_pending &&
	       a->pending < c->cfg->max_pending_per_agent;
}

static void send_get(struct core *c, struct core_agent *a)
{
	char id[72];
	core_next_msg_id(c, id, sizeof(id));
	Usp__Msg *m = usp_msg_new_get(id, get_paths, sizeof(get_paths) / sizeof(get_paths[0]), 0);
	struct core_req *r = m ? core_send_request(c, a, m, CORE_REQ_ONBOARD_GET) : NULL;
	usp_msg_free(m);
	if (!r) {
		finish(c, a, CORE_ONB_FAILED, "could not send the Get");
		return;
	}
	r->task_id = a->onboard_gen;
}

static int queue_push(struct core *c, struct core_agent *a)
{
	int rc = core_agentq_push(&c->onb_q, a);
	if (rc != 0)
		return rc;
	a->onboard_queued = 1;
	return 0;
}

/* Out of the queue: start unless it went offline or was finished meanwhile. */
static void send_queued(struct core *c, struct core_agent *a)
{
	a->onboard_queued = 0;
	if (a->onboard == CORE_ONB_RUNNING && a->online)
		send_get(c, a);
}

void core_onboard_start(struct core *c, struct core_agent *a)
{
	a->onboard_gen++;
	if (!c->cfg->onboard) {
		finish(c, a, CORE_ONB_DONE, NULL);
		return;
	}
	c->ctr.onboard_started++;
	a->onboard = CORE_ONB_RUNNING;
	if (a->onboard_queued)
		return; /* will start from the queue with the new generation */
	if (slot_free(c, a) && !c->stopping) {
		send_get(c, a);
		return;
	}
	if (queue_push(c, a) != 0)
		finish(c, a, CORE_ONB_FAILED, "out of memory");
}

void core_onboard_pump(struct core *c)
{
	core_agentq_drain(c, &c->onb_q, send_queued);
}

struct seen_sub {
	const char *path, *id, *recipient, *type, *ref;
};

struct get_view {
	struct store_device_info di;
	char ctrl[256]; /* our Controller row, "" if not found */
	struct seen_sub subs[MAX_SEEN_SUBS];
	size_t n_subs;
};

static const char *param(const Usp__GetResp__ResolvedPathResult *res, const char *key)
{
	for (size_t i = 0; i < res->n_result_params; i++) {
		const struct map_entry *e = (const struct map_entry *)res->result_params[i];
		if (strcmp(e->key, key) == 0)
			return e->value;
	}
	return NULL;
}

static void view_one(struct core *c, struct get_view *v,
		     const Usp__GetResp__ResolvedPathResult *res)
{
	const char *rp = res->resolved_path;
	if (strcmp(rp, "Device.DeviceInfo.") == 0) {
		const char **dst[] = { &v->di.manufacturer,    &v->di.oui,
				       &v->di.model_name,      &v->di.product_class,
				       &v->di.serial_number,   &v->di.software_version,
				       &v->di.hardware_version };
		const char *names[] = { "Manufacturer",   "ManufacturerOUI", "ModelName",
					"ProductClass",   "SerialNumber",    "SoftwareVersion",
					"HardwareVersion" };
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			const char *val = param(res, names[i]);
			if (val)
				*dst[i] = val;
		}
	} else if (strncmp(rp, CTRL_PREFIX, strlen(CTRL_PREFIX)) == 0) {
		const char *eid = param(res, "EndpointID");
		if (eid && strcmp(eid, c->cfg->endpoint_id) == 0)
			snprintf(v->ctrl, sizeof(v->ctrl), "%s", rp);
	} else if (strncmp(rp, SUB_PREFIX, strlen(SUB_PREFIX)) == 0 && v->n_subs < MAX_SEEN_SUBS) {
		struct seen_sub *s = &v->subs[v->n_subs++];
		s->path = rp;
		s->id = param(res, "ID");
		s->recipient = param(res, "Recipient");
		s->type = param(res, "NotifType");
		s->ref = param(res, "ReferenceList");
	}
}

/* "Device.LocalAgent.Controller.1" equals "Device.LocalAgent.Controller.1." */
static int same_object(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

static const struct seen_sub *find_sub(const struct get_view *v, const struct std_sub *s)
{
	for (size_t i = 0; i < v->n_subs; i++) {
		const struct seen_sub *x = &v->subs[i];
		if (!x->id || strcmp(x->id, s->id) != 0)
			continue;
		if (v->ctrl[0] && x->recipient && x->recipient[0] &&
		    !same_object(x->recipient, v->ctrl))
			continue; /* another controller's subscription with our ID */
		return x;
	}
	return NULL;
}

static void record_sub(struct core *c, struct core_agent *a, const struct std_sub *s,
		       const char *instance)
{
	struct store_subscription row = { .eid = a->eid,
					  .sub_id = s->id,
					  .notif_type = s->type,
					  .reference_list = s->ref,
					  .instance_path = instance,
					  .enabled = 1 };
	CORE_SUBMIT(c, "subscription", store_writer_subscription(c->writer, &row, &c->serr));
}

static int add_param(Usp__Add__CreateObject *co, const char *name, const char *value, int req)
{
	Usp__Add__CreateParamSetting *p = (Usp__Add__CreateParamSetting *)usp_pb_new(
		&usp__add__create_param_setting__descriptor);
	if (!p)
		return USPC_E_NOMEM;
	p->param = usp_pb_strdup(name);
	p->value = usp_pb_strdup(value);
	p->required = req;
	if (!p->param || !p->value ||
	    usp_pb_push((void ***)&co->param_settings, &co->n_param_settings, p) != 0) {
		usp_pb_free(&p->base);
		return USPC_E_NOMEM;
	}
	return 0;
}

static Usp__Msg *build_add(struct core *c, unsigned missing)
{
	char id[72];
	core_next_msg_id(c, id, sizeof(id));
	Usp__Msg *m = usp_msg_new(id, USP__HEADER__MSG_TYPE__ADD);
	if (!m)
		return NULL;
	Usp__Add *add = m->body->request->add;
	add->allow_partial = 1;
	for (size_t i = 0; i < N_STD; i++) {
		if (!(missing & (1u << i)))
			continue;
		Usp__Add__CreateObject *co =
			(Usp__Add__CreateObject *)usp_pb_new(&usp__add__create_object__descriptor);
		if (!co)
			goto fail;
		co->obj_path = usp_pb_strdup(SUB_PREFIX);
		if (!co->obj_path ||
		    usp_pb_push((void ***)&add->create_objs, &add->n_create_objs, co)) {
			usp_pb_free(&co->base);
			goto fail;
		}
		if (add_param(co, "ID", std_subs[i].id, 1) ||
		    add_param(co, "NotifType", std_subs[i].type, 1) ||
		    add_param(co, "ReferenceList", std_subs[i].ref, 1) ||
		    add_param(co, "Enable", "true", 1) || add_param(co, "Persistent", "true", 0) ||
		    add_param(co, "NotifRetry", "true", 0))
			goto fail;
	}
	return m;
fail:
	usp_msg_free(m);
	return NULL;
}

static void on_get(struct core *c, struct core_agent *a, const Usp__GetResp *gr)
{
	struct get_view *v = calloc(1, sizeof(*v));
	if (!v) {
		finish(c, a, CORE_ONB_FAILED, "out of memory");
		return;
	}
	v->di.eid = a->eid;
	for (size_t i = 0; i < gr->n_req_path_results; i++) {
		const Usp__GetResp__RequestedPathResult *rpr = gr->req_path_results[i];
		for (size_t j = 0; rpr->err_code == 0 && j < rpr->n_resolved_path_results; j++)
			view_one(c, v, rpr->resolved_path_results[j]);
	}
	CORE_SUBMIT(c, "device_info", store_writer_device_info(c->writer, &v->di, &c->serr));
	unsigned missing = 0;
	for (size_t i = 0; i < N_STD; i++) {
		const struct seen_sub *s = find_sub(v, &std_subs[i]);
		if (s)
			record_sub(c, a, &std_subs[i], s->path);
		else
			missing |= 1u << i;
	}
	free(v);
	if (!missing) {
		finish(c, a, CORE_ONB_DONE, NULL);
		return;
	}
	Usp__Msg *m = build_add(c, missing);
	struct core_req *r = m ? core_send_request(c, a, m, CORE_REQ_ONBOARD_ADD) : NULL;
	usp_msg_free(m);
	if (!r) {
		finish(c, a, CORE_ONB_FAILED, "could not send the Add");
		return;
	}
	r->task_id = a->onboard_gen;
	r->ctx = (void *)(uintptr_t)missing;
}

static void on_add(struct core *c, struct core_agent *a, const Usp__AddResp *ar, unsigned missing)
{
	size_t k = 0, failed = 0;
	for (size_t i = 0; i < N_STD; i++) {
		if (!(missing & (1u << i)))
			continue;
		const Usp__AddResp__CreatedObjectResult *res =
			k < ar->n_created_obj_results ? ar->created_obj_results[k] : NULL;
		k++;
		const Usp__AddResp__CreatedObjectResult__OperationStatus *os =
			res ? res->oper_status : NULL;
		if (os &&
		    os->oper_status_case ==
			    USP__ADD_RESP__CREATED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_SUCCESS) {
			record_sub(c, a, &std_subs[i], os->oper_success->instantiated_path);
			c->ctr.subs_added++;
			continue;
		}
		if (os &&
		    os->oper_status_case ==
			    USP__ADD_RESP__CREATED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_FAILURE &&
		    os->oper_failure->err_code == USP_ERR_UNIQUE_KEY_CONFLICT) {
			/* Created meanwhile (another daemon onboarding the same
			 * agent through a shared subscription): it exists. */
			log_debug(CORE_LOG, "%s: subscription %s already exists", a->eid,
				  std_subs[i].id);
			continue;
		}
		failed++;
		if (os &&
		    os->oper_status_case ==
			    USP__ADD_RESP__CREATED_OBJECT_RESULT__OPERATION_STATUS__OPER_STATUS_OPER_FAILURE)
			log_warn(CORE_LOG, "%s refused subscription %s: %u %s", a->eid,
				 std_subs[i].id, os->oper_failure->err_code,
				 os->oper_failure->err_msg);
		else
			log_warn(CORE_LOG, "%s: no result for subscription %s", a->eid,
				 std_subs[i].id);
	}
	finish(c, a, failed ? CORE_ONB_FAILED : CORE_ONB_DONE,
	       failed ? "some subscriptions could not be created" : NULL);
}

void core_onboard_response(struct core *c, struct core_req *req, const Usp__Msg *msg)
{
	struct core_agent *a = req->agent;
	if ((uint32_t)req->task_id != a->onboard_gen || a->onboard != CORE_ONB_RUNNING) {
		log_debug(CORE_LOG, "%s: answer to an older onboarding round ignored", a->eid);
		return;
	}
	if (!msg) {
		finish(c, a, CORE_ONB_FAILED, "no answer in time");
		return;
	}
	Usp__Header__MsgType t = usp_msg_type(msg);
	if (t == USP__HEADER__MSG_TYPE__ERROR) {
		char why[300];
		snprintf(why, sizeof(why), "Error %u %s", msg->body->error->err_code,
			 msg->body->error->err_msg);
		finish(c, a, CORE_ONB_FAILED, why);
	} else if (req->kind == CORE_REQ_ONBOARD_GET && t == USP__HEADER__MSG_TYPE__GET_RESP) {
		on_get(c, a, msg->body->response->get_resp);
	} else if (req->kind == CORE_REQ_ONBOARD_ADD && t == USP__HEADER__MSG_TYPE__ADD_RESP) {
		on_add(c, a, msg->body->response->add_resp, (unsigned)(uintptr_t)req->ctx);
	} else {
		finish(c, a, CORE_ONB_FAILED, "unexpected response type");
	}
}
