/*
 * sim_ops.c — command behaviour. Owns the agent's list of running async
 * commands (struct sim_op, one timer each) and their Request.{i} rows.
 * Invariants: every op is on a->ops until it completes, is canceled or the
 * agent reboots; an op's Request row exists while the op does. Loop thread.
 */
#include "sim_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sim_fw.h"
#include "sim_subs.h"

#define BOOT_FAILURE_LOG "kernel panic: image failed to boot (simulated)"

struct sim_op {
	struct sim_op *next;
	struct sim_timer t;
	struct sim_agent *a;
	uint16_t cmd;
	uint32_t req_num;
	int auto_activate;
	char *cmd_path; /* "Device.DeviceInfo.FirmwareImage.2.Download()" */
	char *obj_path; /* "Device.DeviceInfo.FirmwareImage.2." */
	char *key;
	char *originator;
	char *url;
	char *host;
	unsigned reps;
	time_t start;
};

static void op_free(struct sim_op *op)
{
	free(op->cmd_path);
	free(op->obj_path);
	free(op->key);
	free(op->originator);
	free(op->url);
	free(op->host);
	free(op);
}

static void op_unlink(struct sim_op *op)
{
	struct sim_op **pp = &op->a->ops;
	while (*pp && *pp != op)
		pp = &(*pp)->next;
	if (*pp)
		*pp = op->next;
	sim_timer_cancel(op->a->w->loop, &op->t);
}

static void remove_request_row(struct sim_agent *a, uint32_t num)
{
	const struct sim_ids *ids = &a->w->ids;
	if (ids->req == SM_NONE || !num)
		return;
	struct dm_inst *row = sim_dm_child(&a->dm.root, ids->req, num);
	if (!row)
		return;
	char path[SIM_PATH_MAX];
	sim_dm_obj_path(a->w->model, row, ids->req, path, sizeof(path));
	sim_subs_obj_deletion(a, path); /* before: reads the instance */
	sim_dm_delete(&a->dm, row);
}

/* Finish op: OperationComplete (err 0 = success with kv outputs), row gone. */
static void op_complete(struct sim_op *op, const char *const *kv, size_t n, uint32_t err,
			const char *err_msg)
{
	struct sim_agent *a = op->a;
	const char *name = strrchr(op->cmd_path, '.');
	sim_subs_oper_complete(a, op->obj_path, name ? name + 1 : op->cmd_path, op->key, kv, n, err,
			       err_msg);
	remove_request_row(a, op->req_num);
	op_unlink(op);
	op_free(op);
}

void sim_ops_clear(struct sim_agent *a)
{
	while (a->ops) {
		struct sim_op *op = a->ops;
		remove_request_row(a, op->req_num);
		op_unlink(op);
		op_free(op);
	}
}

static const char *input(const Usp__Operate *op, const char *name)
{
	return USP_PB_MAP_GET(op, input_args, name);
}

static int set_param(struct sim_agent *a, const char *obj_path, const char *name, const char *value)
{
	uint16_t obj;
	struct dm_inst *inst = sim_dm_find(&a->dm, a->w->model, obj_path, &obj);
	if (!inst)
		return -1;
	uint16_t p = sim_model_param(a->w->model, obj, name);
	if (p == SM_NONE)
		return -1;
	char old[SIM_VALUE_MAX];
	struct sim_dm_env env;
	sim_agent_env(a, &env);
	int changed = strcmp(sim_dm_get(&env, inst, p, old, sizeof(old)), value) != 0;
	if (sim_dm_set(inst, p, value) < 0)
		return -1;
	sim_agent_mark_dirty(a);
	if (changed)
		sim_subs_value_change(a, inst, p, value);
	return 0;
}

static void fire_transfer_complete(struct sim_op *op, uint32_t fault, const char *fault_str)
{
	char start[32], done[32], code[16];
	sim_dm_format_time(op->start, start, sizeof(start));
	sim_dm_format_time(op->a->w->now, done, sizeof(done));
	snprintf(code, sizeof(code), "%" PRIu32, fault);
	const char *kv[] = { "Command",   op->cmd_path,   "CommandKey",   op->key,
			     "Requestor", op->originator, "TransferType", "Download",
			     "Affected",  op->obj_path,   "TransferURL",  op->url ? op->url : "",
			     "StartTime", start,          "CompleteTime", done,
			     "FaultCode", code,           "FaultString",  fault_str };
	sim_subs_event(op->a, "Device.LocalAgent.", "TransferComplete!", kv,
		       sizeof(kv) / sizeof(kv[0]) / 2);
}

int sim_ops_fw_fault(const struct sim_agent *a, enum sim_fw_fault f)
{
	const struct sim_config *cfg = a->w->cfg;
	double fr = 0;
	switch (f) {
	case SIM_FWF_DOWNLOAD_FAIL:
		fr = cfg->fw_fail_fraction;
		break;
	case SIM_FWF_ACTIVATE_FAIL:
		fr = cfg->fw_activate_fail_fraction;
		break;
	case SIM_FWF_BOOT_FAIL:
		fr = cfg->fw_boot_fail_fraction;
		break;
	case SIM_FWF_NO_RETURN:
		fr = cfg->fw_no_return_fraction;
		break;
	case SIM_FWF_WRONG_VERSION:
		fr = cfg->fw_wrong_version_fraction;
		break;
	case SIM_FWF_LOSE_BOOT:
		fr = cfg->fw_lose_boot_fraction;
		break;
	case SIM_FWF_SINGLE_BANK:
		fr = cfg->single_bank_fraction;
		break;
	case SIM_FWF_NO_ACTIVATE:
		fr = cfg->no_activate_fraction;
		break;
	case SIM_FWF_COUNT:
		break;
	}
	return sim_fw_fault_chosen(cfg->seed, a->index, f, fr);
}

int sim_ops_cmd_hidden(const struct sim_agent *a, uint16_t cmd)
{
	return a->w->model->cmds[cmd].handler == SM_H_FW_ACTIVATE &&
	       sim_ops_fw_fault(a, SIM_FWF_NO_ACTIVATE);
}

static int is_true(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "1");
}

struct dm_inst *sim_ops_fw_bank(struct sim_agent *a, const char *ref)
{
	const struct sim_ids *ids = &a->w->ids;
	char path[SIM_PATH_MAX];
	uint16_t obj = SM_NONE;
	size_t l = strlen(ref);
	if (ids->fw == SM_NONE || l == 0 || l + 2 > sizeof(path))
		return NULL;
	snprintf(path, sizeof(path), "%s%s", ref, ref[l - 1] == '.' ? "" : ".");
	struct dm_inst *inst = sim_dm_find(&a->dm, a->w->model, path, &obj);
	return inst && obj == ids->fw && inst->obj == ids->fw ? inst : NULL;
}

/* The reference to a FirmwareImage row: its path without the trailing '.'. */
static void bank_ref(struct sim_agent *a, const struct dm_inst *img, char *buf, size_t cap)
{
	int l = sim_dm_obj_path(a->w->model, img, a->w->ids.fw, buf, cap);
	if (l > 0)
		buf[l - 1] = '\0';
	else if (cap)
		buf[0] = '\0';
}

static const char *status_of(struct sim_agent *a, const struct sim_dm_env *env,
			     const struct dm_inst *img, char *buf, size_t cap)
{
	uint16_t sp = a->w->ids.fw_status;
	return sp != SM_NONE ? sim_dm_get(env, img, sp, buf, cap) : "";
}

/* The FirmwareImage row ActiveFirmwareImage names, or NULL. */
static struct dm_inst *active_bank(struct sim_agent *a, const struct sim_dm_env *env)
{
	char ref[SIM_VALUE_MAX];
	if (a->w->ids.active_fw == SM_NONE)
		return NULL;
	sim_dm_get_copy(env, &a->dm.root, a->w->ids.active_fw, ref, sizeof(ref));
	return sim_ops_fw_bank(a, ref);
}

void sim_ops_fw_prune(struct sim_agent *a)
{
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	char ref[SIM_PATH_MAX];
	if (ids->fw == SM_NONE || !sim_ops_fw_fault(a, SIM_FWF_SINGLE_BANK))
		return;
	sim_agent_env(a, &env);
	struct dm_inst *keep = active_bank(a, &env);
	for (struct dm_inst *c = a->dm.root.child; !keep && c; c = c->next)
		if (c->obj == ids->fw)
			keep = c;
	if (!keep)
		return;
	int removed = 0;
	for (struct dm_inst *c = a->dm.root.child, *next; c; c = next) {
		next = c->next;
		if (c->obj == ids->fw && c != keep) {
			sim_dm_delete(&a->dm, c);
			removed++;
		}
	}
	if (!removed)
		return;
	bank_ref(a, keep, ref, sizeof(ref));
	if (ids->active_fw != SM_NONE)
		sim_dm_set(&a->dm.root, ids->active_fw, ref);
	if (ids->boot_fw != SM_NONE)
		sim_dm_set(&a->dm.root, ids->boot_fw, ref);
	sim_agent_mark_dirty(a);
	log_debug("sim", "%s: single firmware bank %s", a->eid, ref);
}

/* Boot! will not be sent, nor the Activate() completion (--fw-lose-boot-fraction). */
static void lose_boot(struct sim_agent *a)
{
	a->boot_pending = 0;
	free(a->boot_cause);
	free(a->boot_key);
	a->boot_cause = a->boot_key = NULL;
	a->boot_fw_updated = 0;
	free(a->activate_path);
	free(a->activate_key);
	free(a->activate_originator);
	a->activate_path = a->activate_key = a->activate_originator = NULL;
}

enum sim_fw_boot sim_ops_fw_boot(struct sim_agent *a, int power_on)
{
	const struct sim_ids *ids = &a->w->ids;
	struct sim_dm_env env;
	char ref[SIM_VALUE_MAX], st[64], av[16], ver[SIM_VALUE_MAX], old[SIM_VALUE_MAX];
	enum sim_fw_boot rc;
	if (ids->fw == SM_NONE || ids->boot_fw == SM_NONE || ids->fw_status == SM_NONE)
		return SIM_FWB_NONE;
	sim_agent_env(a, &env);
	sim_dm_get_copy(&env, &a->dm.root, ids->boot_fw, ref, sizeof(ref));
	struct dm_inst *img = sim_ops_fw_bank(a, ref);
	if (!img || strcmp(status_of(a, &env, img, st, sizeof(st)), "Available") ||
	    (ids->fw_available != SM_NONE &&
	     !is_true(sim_dm_get(&env, img, ids->fw_available, av, sizeof(av)))))
		return SIM_FWB_NONE; /* nothing new to run: the running image boots */
	bank_ref(a, img, ref, sizeof(ref));
	if (!power_on && sim_ops_fw_fault(a, SIM_FWF_NO_RETURN)) {
		log_info("sim", "%s: firmware fault no-return: stays down booting %s", a->eid, ref);
		return SIM_FWB_GONE;
	}
	old[0] = '\0';
	if (ids->sw_version != SM_NONE)
		sim_dm_get_copy(&env, &a->dm.root, ids->sw_version, old, sizeof(old));
	if (sim_ops_fw_fault(a, SIM_FWF_BOOT_FAIL) || sim_ops_fw_fault(a, SIM_FWF_ACTIVATE_FAIL)) {
		log_info("sim", "%s: firmware fault %s: %s does not boot, %s keeps running", a->eid,
			 sim_fw_fault_name(sim_ops_fw_fault(a, SIM_FWF_BOOT_FAIL)
						   ? SIM_FWF_BOOT_FAIL
						   : SIM_FWF_ACTIVATE_FAIL),
			 ref, old);
		if (ids->fw_boot_log != SM_NONE)
			sim_dm_set(img, ids->fw_boot_log, BOOT_FAILURE_LOG);
		a->boot_fw_updated = 0;
		rc = SIM_FWB_FAILED;
	} else {
		for (struct dm_inst *c = a->dm.root.child; c; c = c->next)
			if (c->obj == ids->fw && c != img &&
			    !strcmp(status_of(a, &env, c, st, sizeof(st)), "Active"))
				sim_dm_set(c, ids->fw_status, "Available");
		sim_dm_set(img, ids->fw_status, "Active");
		if (ids->fw_boot_log != SM_NONE &&
		    sim_dm_get(&env, img, ids->fw_boot_log, st, sizeof(st))[0])
			sim_dm_set(img, ids->fw_boot_log, "");
		if (ids->active_fw != SM_NONE)
			sim_dm_set(&a->dm.root, ids->active_fw, ref);
		ver[0] = '\0';
		if (ids->fw_version != SM_NONE)
			sim_dm_get_copy(&env, img, ids->fw_version, ver, sizeof(ver) - 8);
		if (sim_ops_fw_fault(a, SIM_FWF_WRONG_VERSION)) {
			strcat(ver, "-rc0");
			log_info("sim", "%s: firmware fault wrong-version: %s runs, reports %s",
				 a->eid, ref, ver);
		}
		if (ids->sw_version != SM_NONE)
			sim_dm_set(&a->dm.root, ids->sw_version, ver);
		a->boot_fw_updated = 1;
		log_debug("sim", "%s: booted %s (%s -> %s)", a->eid, ref, old, ver);
		rc = SIM_FWB_BOOTED;
	}
	if (sim_ops_fw_fault(a, SIM_FWF_LOSE_BOOT)) {
		log_info("sim", "%s: firmware fault lose-boot: no Boot! after booting %s", a->eid,
			 ref);
		lose_boot(a);
	}
	sim_agent_mark_dirty(a);
	return rc;
}

/* Activate image obj_path: make it the boot image and reboot; the boot
 * runs it (sim_ops_fw_boot). */
static void activate(struct sim_agent *a, const char *obj_path, const char *key)
{
	const struct sim_ids *ids = &a->w->ids;
	char ref[SIM_PATH_MAX];
	snprintf(ref, sizeof(ref), "%s", obj_path);
	if (ref[0])
		ref[strlen(ref) - 1] = '\0';
	if (ids->boot_fw != SM_NONE)
		sim_dm_set(&a->dm.root, ids->boot_fw, ref);
	sim_agent_mark_dirty(a);
	sim_agent_reboot(a, "RemoteReboot", key, 0);
}

/* --fw-activate-fail-fraction: 1 (and the image is ActivationFailed unless
 * it is the running one) if activating obj_path fails on this agent. */
static int activation_fails(struct sim_agent *a, const char *obj_path)
{
	char st[64];
	struct sim_dm_env env;
	uint16_t obj;
	if (!sim_ops_fw_fault(a, SIM_FWF_ACTIVATE_FAIL))
		return 0;
	log_info("sim", "%s: firmware fault activate-fail: %s not activated", a->eid, obj_path);
	sim_agent_env(a, &env);
	struct dm_inst *img = sim_dm_find(&a->dm, a->w->model, obj_path, &obj);
	if (img && strcmp(status_of(a, &env, img, st, sizeof(st)), "Active"))
		set_param(a, obj_path, "Status", "ActivationFailed");
	return 1;
}

static int download_fails(struct sim_op *op)
{
	const struct sim_config *cfg = op->a->w->cfg;
	if (cfg->fw_fail_url && op->url && strstr(op->url, cfg->fw_fail_url))
		return 1;
	return sim_ops_fw_fault(op->a, SIM_FWF_DOWNLOAD_FAIL);
}

static void download_done(struct sim_op *op)
{
	struct sim_agent *a = op->a;
	char name[256], ver[256];
	sim_fw_name_from_url(op->url ? op->url : "", name, sizeof(name));
	sim_fw_version_from_url(op->url ? op->url : "", ver, sizeof(ver));
	if (download_fails(op)) {
		set_param(a, op->obj_path, "Status", "DownloadFailed");
		fire_transfer_complete(op, USP_ERR_COMMAND_FAILURE, "download failed (simulated)");
		op_complete(op, NULL, 0, USP_ERR_COMMAND_FAILURE, "download failed (simulated)");
		return;
	}
	set_param(a, op->obj_path, "Name", name);
	set_param(a, op->obj_path, "Version", ver);
	set_param(a, op->obj_path, "Available", "true");
	set_param(a, op->obj_path, "BootFailureLog", "");
	set_param(a, op->obj_path, "Status", "Available");
	fire_transfer_complete(op, 0, "");
	char *path = strdup(op->obj_path), *key = strdup(op->key);
	int auto_act = op->auto_activate;
	op_complete(op, NULL, 0, 0, NULL);
	if (auto_act && path && key && !activation_fails(a, path))
		activate(a, path, key);
	free(path);
	free(key);
}

static void ipping_done(struct sim_op *op)
{
	uint64_t h = sim_dm_hash(op->a->w->cfg->seed, op->a->index, op->start, 0x1b);
	unsigned avg = 2 + (unsigned)(h % 40), reps = op->reps ? op->reps : 1;
	char s_ok[16], s_avg[16], s_min[16], s_max[16], s_avgd[16], s_mind[16], s_maxd[16];
	snprintf(s_ok, sizeof(s_ok), "%u", reps);
	snprintf(s_avg, sizeof(s_avg), "%u", avg);
	snprintf(s_min, sizeof(s_min), "%u", avg > 1 ? avg - 1 : 0);
	snprintf(s_max, sizeof(s_max), "%u", avg + 3);
	snprintf(s_avgd, sizeof(s_avgd), "%u", avg * 1000 + 123);
	snprintf(s_mind, sizeof(s_mind), "%u", (avg > 1 ? avg - 1 : 0) * 1000 + 57);
	snprintf(s_maxd, sizeof(s_maxd), "%u", (avg + 3) * 1000 + 311);
	if (!op->host || !*op->host) {
		const char *kv[] = { "Status", "Error_CannotResolveHostName" };
		op_complete(op, kv, 1, 0, NULL);
		return;
	}
	const char *kv[] = { "Status",
			     "Complete",
			     "IPAddressUsed",
			     "192.0.2.10",
			     "SuccessCount",
			     s_ok,
			     "FailureCount",
			     "0",
			     "AverageResponseTime",
			     s_avg,
			     "MinimumResponseTime",
			     s_min,
			     "MaximumResponseTime",
			     s_max,
			     "AverageResponseTimeDetailed",
			     s_avgd,
			     "MinimumResponseTimeDetailed",
			     s_mind,
			     "MaximumResponseTimeDetailed",
			     s_maxd };
	op_complete(op, kv, sizeof(kv) / sizeof(kv[0]) / 2, 0, NULL);
}

static void op_timer(struct sim_timer *t)
{
	struct sim_op *op = sim_container_of(t, struct sim_op, t);
	switch ((enum sm_handler)op->a->w->model->cmds[op->cmd].handler) {
	case SM_H_FW_DOWNLOAD:
		download_done(op);
		return;
	case SM_H_IPPING:
		ipping_done(op);
		return;
	case SM_H_FW_ACTIVATE: {
		struct sim_agent *a = op->a;
		if (activation_fails(a, op->obj_path)) {
			op_complete(op, NULL, 0, USP_ERR_COMMAND_FAILURE,
				    "activation failed (simulated)");
			return;
		}
		/* remembered for the OperationComplete after the boot */
		free(a->activate_path);
		free(a->activate_key);
		free(a->activate_originator);
		a->activate_path = strdup(op->cmd_path);
		a->activate_key = strdup(op->key);
		a->activate_originator = strdup(op->originator);
		char *obj_path = strdup(op->obj_path), *key = strdup(op->key);
		remove_request_row(a, op->req_num);
		op->req_num = 0;
		op_unlink(op);
		op_free(op);
		if (obj_path && key)
			activate(a, obj_path, key);
		free(obj_path);
		free(key);
		return;
	}
	default:
		op_complete(op, NULL, 0, 0, NULL);
		return;
	}
}

void sim_ops_after_boot(struct sim_agent *a)
{
	if (!a->activate_path)
		return;
	char obj_path[SIM_PATH_MAX], st[64], failure_log[SIM_VALUE_MAX];
	snprintf(obj_path, sizeof(obj_path), "%s", a->activate_path);
	char *name = strrchr(obj_path, '.');
	if (name) {
		/* success if the activated image is the one running now */
		struct sim_dm_env env;
		uint16_t obj;
		sim_agent_env(a, &env);
		name[1] = '\0';
		struct dm_inst *img = sim_dm_find(&a->dm, a->w->model, obj_path, &obj);
		int ok = img && img == active_bank(a, &env) &&
			 !strcmp(status_of(a, &env, img, st, sizeof(st)), "Active");
		const char *why = "the activated image is not running";
		if (img && a->w->ids.fw_boot_log != SM_NONE &&
		    sim_dm_get(&env, img, a->w->ids.fw_boot_log, failure_log,
			       sizeof(failure_log))[0])
			why = "image failed to boot (simulated)";
		sim_subs_oper_complete(a, obj_path, strrchr(a->activate_path, '.') + 1,
				       a->activate_key ? a->activate_key : "", NULL, 0,
				       ok ? 0 : USP_ERR_COMMAND_FAILURE, ok ? NULL : why);
	}
	free(a->activate_path);
	free(a->activate_key);
	free(a->activate_originator);
	a->activate_path = a->activate_key = a->activate_originator = NULL;
	sim_agent_mark_dirty(a);
}

static int set_failure(Usp__OperateResp__OperationResult *res, uint32_t code, const char *msg)
{
	Usp__OperateResp__OperationResult__CommandFailure *f = USP_PB_CHILD(res, cmd_failure);
	if (!f)
		return -1;
	f->err_code = code;
	f->err_msg = usp_pb_strdup(msg);
	return f->err_msg ? 0 : -1;
}

/* Request.{i} row for a new async op; its number, or 0. */
static uint32_t add_request_row(struct sim_req *r, const char *cmd_path, const char *key)
{
	const struct sim_ids *ids = &r->a->w->ids;
	if (ids->req == SM_NONE)
		return 0;
	struct dm_inst *row = sim_dm_add(&r->a->dm, r->env.m, &r->a->dm.root, ids->req, 0);
	if (!row)
		return 0;
	if ((ids->req_originator != SM_NONE && sim_dm_set(row, ids->req_originator, r->from) < 0) ||
	    (ids->req_command != SM_NONE && sim_dm_set(row, ids->req_command, cmd_path) < 0) ||
	    (ids->req_key != SM_NONE && sim_dm_set(row, ids->req_key, key) < 0) ||
	    (ids->req_status != SM_NONE && sim_dm_set(row, ids->req_status, "Active") < 0)) {
		sim_dm_delete(&r->a->dm, row);
		return 0;
	}
	sim_subs_obj_creation(r->a, row);
	return row->num;
}

static int start_async(struct sim_req *r, struct dm_inst *inst, uint16_t obj, uint16_t cmd,
		       const char *cmd_path, const Usp__Operate *uop,
		       Usp__OperateResp__OperationResult *res)
{
	const struct sim_model *m = r->env.m;
	const struct sm_cmd *sc = &m->cmds[cmd];
	struct sim_agent *a = r->a;
	char obj_path[SIM_PATH_MAX], st[64];
	sim_dm_obj_path(m, inst, obj, obj_path, sizeof(obj_path));
	uint64_t delay = sc->duration_ms;
	if (sc->handler == SM_H_FW_DOWNLOAD)
		delay = (uint64_t)(a->w->cfg->fw_download_s * 1000.0);
	if (sc->handler == SM_H_FW_ACTIVATE) {
		delay = 200; /* let the OperateResp leave first */
		uint16_t sp = a->w->ids.fw_status;
		const char *status =
			sp != SM_NONE ? sim_dm_get(&r->env, inst, sp, st, sizeof(st)) : "";
		if (strcmp(status, "Available") && strcmp(status, "Active"))
			return set_failure(res, USP_ERR_COMMAND_FAILURE,
					   "no valid image in this bank (Status is not Available)");
	}
	struct sim_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -1;
	op->a = a;
	op->cmd = cmd;
	op->start = a->w->now;
	op->cmd_path = strdup(cmd_path);
	op->obj_path = strdup(obj_path);
	op->key = strdup(uop->command_key);
	op->originator = strdup(r->from);
	const char *v;
	if ((v = input(uop, "URL")))
		op->url = strdup(v);
	if ((v = input(uop, "Host")))
		op->host = strdup(v);
	if ((v = input(uop, "NumberOfRepetitions")))
		op->reps = (unsigned)strtoul(v, NULL, 10);
	v = input(uop, "AutoActivate");
	op->auto_activate = v && (!strcmp(v, "true") || !strcmp(v, "1"));
	sim_timer_init(&op->t, op_timer);
	if (!op->cmd_path || !op->obj_path || !op->key || !op->originator) {
		op_free(op);
		return -1;
	}
	op->req_num = add_request_row(r, cmd_path, uop->command_key);
	if (!op->req_num) {
		op_free(op);
		return set_failure(res, USP_ERR_RESOURCES_EXCEEDED, "no Request row available");
	}
	if (sim_timer_arm(a->w->loop, &op->t, delay) < 0) {
		remove_request_row(a, op->req_num);
		op_free(op);
		return -1;
	}
	op->next = a->ops;
	a->ops = op;
	if (sc->handler == SM_H_FW_DOWNLOAD)
		set_param(a, obj_path, "Status", "Downloading");
	char row[SIM_PATH_MAX];
	snprintf(row, sizeof(row), "Device.LocalAgent.Request.%" PRIu32 ".", op->req_num);
	res->req_obj_path = usp_pb_strdup(row);
	res->operation_resp_case = USP__OPERATE_RESP__OPERATION_RESULT__OPERATION_RESP_REQ_OBJ_PATH;
	return res->req_obj_path ? 0 : -1;
}

static int run_sync(struct sim_req *r, struct dm_inst *inst, uint16_t cmd, const Usp__Operate *uop,
		    Usp__OperateResp__OperationResult *res)
{
	const struct sm_cmd *sc = &r->env.m->cmds[cmd];
	struct sim_agent *a = r->a;
	Usp__OperateResp__OperationResult__OutputArgs *out = USP_PB_CHILD(res, req_output_args);
	if (!out)
		return -1;
	const char *cause = input(uop, "Cause");
	switch ((enum sm_handler)sc->handler) {
	case SM_H_REBOOT:
		sim_agent_reboot(a, cause ? cause : "RemoteReboot", uop->command_key, 0);
		return 0;
	case SM_H_FACTORY_RESET:
		sim_agent_reboot(a, cause ? cause : "RemoteFactoryReset", uop->command_key, 1);
		return 0;
	case SM_H_REQUEST_CANCEL:
		for (struct sim_op *op = a->ops; op; op = op->next)
			if (op->req_num == inst->num) {
				op_complete(op, NULL, 0, USP_ERR_COMMAND_CANCELLED,
					    "canceled by request");
				return 0;
			}
		return set_failure(res, USP_ERR_COMMAND_FAILURE, "no running command to cancel");
	default:
		for (size_t i = 0; i < sc->n_out; i++)
			if (USP_PB_MAP_PUT(out, output_args, sc->out[i], "") < 0)
				return -1;
		return 0;
	}
}

int sim_ops_invoke(struct sim_req *r, struct dm_inst *inst, uint16_t obj, uint16_t cmd,
		   const char *cmd_path, const Usp__Operate *op,
		   Usp__OperateResp__OperationResult *res)
{
	const struct sm_cmd *sc = &r->env.m->cmds[cmd];
	for (size_t i = 0; i < sc->n_in; i++)
		if (sc->in_mandatory[i] && !input(op, sc->in[i])) {
			char msg[200];
			snprintf(msg, sizeof(msg), "missing mandatory input argument '%s'",
				 sc->in[i]);
			return set_failure(res, USP_ERR_INVALID_CMD_ARGS, msg);
		}
	if (sc->handler == SM_H_FW_DOWNLOAD) {
		const char *aa = input(op, "AutoActivate");
		if (aa && strcmp(aa, "true") && strcmp(aa, "false") && strcmp(aa, "1") &&
		    strcmp(aa, "0"))
			return set_failure(res, USP_ERR_INVALID_CMD_ARGS,
					   "AutoActivate is not a boolean");
	}
	log_debug("sim", "%s: %s %s key=%s", r->a->eid, sc->async ? "async" : "sync", cmd_path,
		  op->command_key);
	return sc->async ? start_async(r, inst, obj, cmd, cmd_path, op, res)
			 : run_sync(r, inst, cmd, op, res);
}
