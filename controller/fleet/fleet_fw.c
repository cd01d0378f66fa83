/*
 * fleet_fw.c — the per-device firmware state machine (fleet_fw.h): which
 * request comes next, how every answer, event and deadline is read, how a
 * failure is classified (image or infrastructure, retried or not). Pure;
 * owns nothing between calls.
 *
 * Classification: everything before activation that can be transient
 * (unreachable, busy, download failed, a timeout) is retried with back-off
 * up to retry.max_attempts, each attempt on the next mirror; a validation
 * failure is retried once (a second one is the image's fault); nothing
 * after an activation request is retried.
 */
#include "fleet_fw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usp_utf8.h"

static const struct {
	const char *name;
	int terminal;
} state_rows[] = {
#define FLEET_DS_ROW_(id, name, term) { name, term },
	FLEET_DEV_STATES(FLEET_DS_ROW_)
#undef FLEET_DS_ROW_
};

const char *fleet_dev_state_name(enum fleet_dev_state s)
{
	return s < FLEET_DS_COUNT_ ? state_rows[s].name : "unknown";
}

int fleet_dev_state_parse(const char *name, enum fleet_dev_state *out)
{
	for (int i = 0; name && i < FLEET_DS_COUNT_; i++)
		if (strcmp(name, state_rows[i].name) == 0) {
			*out = (enum fleet_dev_state)i;
			return 0;
		}
	return -1;
}

int fleet_dev_state_terminal(enum fleet_dev_state s)
{
	return s < FLEET_DS_COUNT_ && state_rows[s].terminal;
}

const char *fleet_fail_class_name(enum fleet_fail_class c)
{
	return c == FLEET_FC_IMAGE ? "image" : c == FLEET_FC_INFRA ? "infra" : NULL;
}

/* ---- reading answers ---------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* Copy src into dst, cut to at most size - 1 bytes at a character
 * boundary (what agents say ends up in text columns, which must be UTF-8). */
static void copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	n = n ? usp_utf8_valid_prefix(src, n) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/* "Device.DeviceInfo.FirmwareImage.2" and "...2." name the same row. */
static void row_ref(char *dst, size_t size, const char *ref)
{
	size_t n = ref ? strlen(ref) : 0;
	if (n == 0 || n + 2 > size) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, ref, n);
	if (ref[n - 1] != '.')
		dst[n++] = '.';
	dst[n] = '\0';
}

cJSON *fleet_fw_bank_get(void)
{
	static const char *const paths[] = { "Device.DeviceInfo.SoftwareVersion",
					     "Device.DeviceInfo.ActiveFirmwareImage",
					     "Device.DeviceInfo.BootFirmwareImage",
					     "Device.DeviceInfo.FirmwareImage." };
	cJSON *req = cJSON_CreateObject();
	cJSON *a = cJSON_CreateStringArray(paths, 4);
	if (!req || !a || !cJSON_AddItemToObject(req, "param_paths", a)) {
		cJSON_Delete(req);
		cJSON_Delete(a);
		return NULL;
	}
	return req;
}

cJSON *fleet_fw_version_get(void)
{
	static const char *const paths[] = { "Device.DeviceInfo.SoftwareVersion" };
	cJSON *req = cJSON_CreateObject();
	cJSON *a = cJSON_CreateStringArray(paths, 1);
	if (!req || !a || !cJSON_AddItemToObject(req, "param_paths", a)) {
		cJSON_Delete(req);
		cJSON_Delete(a);
		return NULL;
	}
	return req;
}

/* The row a TR-069 device's Download() names: uspc-acs turns any
 * FirmwareImage row's Download() into the CWMP Download RPC. */
#define CWMP_BANK "Device.DeviceInfo.FirmwareImage.1."

static const char *const bank_prefix = "Device.DeviceInfo.FirmwareImage.";

int fleet_fw_parse_banks(const cJSON *resp, struct fleet_banks *b)
{
	memset(b, 0, sizeof(*b));
	const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(resp, "req_path_results");
	int any = 0;
	const cJSON *r, *res;
	cJSON_ArrayForEach(r, reqs)
	{
		cJSON_ArrayForEach(res,
				   cJSON_GetObjectItemCaseSensitive(r, "resolved_path_results"))
		{
			const char *path = str_of(res, "resolved_path");
			const cJSON *params =
				cJSON_GetObjectItemCaseSensitive(res, "result_params");
			if (!path || !cJSON_IsObject(params))
				continue;
			if (strcmp(path, "Device.DeviceInfo.") == 0) {
				const char *v;
				if ((v = str_of(params, "SoftwareVersion")))
					copy(b->sw_version, sizeof(b->sw_version), v), any = 1;
				if ((v = str_of(params, "ActiveFirmwareImage")))
					row_ref(b->active, sizeof(b->active), v), any = 1;
				if ((v = str_of(params, "BootFirmwareImage")))
					row_ref(b->boot, sizeof(b->boot), v);
				continue;
			}
			size_t pl = strlen(bank_prefix);
			if (strncmp(path, bank_prefix, pl) != 0 || strlen(path) >= 128)
				continue;
			size_t i;
			for (i = 0; i < b->n; i++)
				if (strcmp(b->row[i].path, path) == 0)
					break;
			if (i == b->n) {
				if (b->n == FLEET_BANKS_MAX)
					continue;
				copy(b->row[b->n].path, sizeof(b->row[0].path), path);
				b->n++;
			}
			const char *v;
			if ((v = str_of(params, "Status")))
				copy(b->row[i].status, sizeof(b->row[i].status), v);
			if ((v = str_of(params, "Version")))
				copy(b->row[i].version, sizeof(b->row[i].version), v);
			if ((v = str_of(params, "BootFailureLog")))
				copy(b->row[i].boot_failure_log, sizeof(b->row[i].boot_failure_log),
				     v);
			any = 1;
		}
	}
	return any ? 0 : -1;
}

static int failed_status(const char *st)
{
	size_t n = strlen(st);
	return n > 6 && strcmp(st + n - 6, "Failed") == 0;
}

const char *fleet_fw_choose_bank(const struct fleet_banks *b, const char *target, int *ready)
{
	int best = -1, best_rank = 99;
	*ready = 0;
	for (size_t i = 0; i < b->n; i++) {
		const char *p = b->row[i].path, *st = b->row[i].status;
		if (strcmp(p, b->active) == 0 || strcmp(p, b->boot) == 0 ||
		    strcmp(st, "Active") == 0)
			continue;
		if (!strcmp(st, "Available") && !strcmp(b->row[i].version, target)) {
			*ready = 1;
			return p;
		}
		int rank = !strcmp(st, "NoImage") || failed_status(st) ? 0
			   : !strcmp(st, "Available")                  ? 1
								       : 2;
		if (rank < best_rank)
			best = (int)i, best_rank = rank;
	}
	return best >= 0 ? b->row[best].path : "";
}

/* A failure member ({"err_code":N,"err_msg":"..."}) of a response: 0 with
 * *code and msg; 1 when f is not one (the response says success). */
static int read_failure(const cJSON *f, int64_t *code, char *msg, size_t size)
{
	if (!cJSON_IsObject(f))
		return 1;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "err_code");
	/* a USP error code is a 32-bit unsigned; anything else reads as 0 */
	*code = cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble <= 4294967295.0
			? (int64_t)c->valuedouble
			: 0;
	copy(msg, size, str_of(f, "err_msg"));
	return 0;
}

/* An OperateResp: 1 accepted (async request or sync output), 0 refused
 * (*code, msg), -1 unreadable. */
static int operate_outcome(const cJSON *resp, int64_t *code, char *msg, size_t size)
{
	const cJSON *r =
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(resp, "operation_results"), 0);
	if (!cJSON_IsObject(r))
		return -1;
	return read_failure(cJSON_GetObjectItemCaseSensitive(r, "cmd_failure"), code, msg, size);
}

/* A SetResp: 1 every object updated, 0 a failure (*code, msg), -1 unreadable. */
static int set_outcome(const cJSON *resp, int64_t *code, char *msg, size_t size)
{
	const cJSON *r = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(resp, "updated_obj_results"), 0);
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "oper_status");
	if (!cJSON_IsObject(st))
		return -1;
	return read_failure(cJSON_GetObjectItemCaseSensitive(st, "oper_failure"), code, msg, size);
}

/* ---- building the outcome ------------------------------------------------------- */

static void keep(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	memset(o, 0, sizeof(*o));
	o->state = in->state;
	copy(o->step, sizeof(o->step), in->step);
	copy(o->bank, sizeof(o->bank), in->bank);
	o->single_bank = in->single_bank;
	o->no_activate = in->no_activate;
	o->attempt = in->attempt;
}

static void go(struct fleet_dev_out *o, enum fleet_dev_state s, const char *step)
{
	o->changed = 1;
	o->state = s;
	copy(o->step, sizeof(o->step), step);
}

static void note(struct fleet_dev_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct fleet_dev_out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->note, sizeof(o->note), fmt, ap);
	va_end(ap);
}

static void set_key(const struct fleet_dev_in *in, struct fleet_dev_out *o, const char *what)
{
	/* TR-069 caps a CommandKey at 32 characters: a TR-069 device gets the
	 * same fields without the separators and with the step's initial. */
	if (in->cwmp)
		snprintf(o->command_key, sizeof(o->command_key), "c%lldd%llda%d%c",
			 (long long)in->campaign, (long long)in->id, o->attempt, what[0]);
	else
		snprintf(o->command_key, sizeof(o->command_key), "uspc/c%lld/d%lld/a%d/%s",
			 (long long)in->campaign, (long long)in->id, o->attempt, what);
}

static void finish(struct fleet_dev_out *o, enum fleet_dev_state s, const char *reason,
		   enum fleet_fail_class c, int retryable, const char *detail)
{
	go(o, s, "");
	copy(o->reason, sizeof(o->reason), reason);
	o->fail_class = c;
	o->retryable = retryable;
	copy(o->detail, sizeof(o->detail), detail);
	o->deadline_s = -1;
	o->clear_task = 1;
}

/* A failure before activation that may go away: retry after back-off
 * (pending again, the next attempt uses the next mirror) or give up. */
static void transient(const struct fleet_dev_in *in, struct fleet_dev_out *o, const char *reason,
		      const char *detail)
{
	const struct fleet_spec *s = in->spec;
	int tried = in->attempt - in->retry_base;
	if (tried < s->max_attempts) {
		int64_t wait = s->retry_backoff_s;
		for (int i = 1; i < tried && wait < 6 * 3600; i++)
			wait *= 2;
		wait = wait > 6 * 3600 ? 6 * 3600 : wait;
		go(o, FLEET_DS_PENDING, "retry");
		copy(o->reason, sizeof(o->reason), reason);
		copy(o->detail, sizeof(o->detail), detail);
		o->due_s = wait > 0 ? wait : 1;
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o, "attempt %d: %s%s%s; retry in %llds", in->attempt, reason,
		     detail && *detail ? ": " : "", detail ? detail : "", (long long)wait);
		return;
	}
	finish(o, FLEET_DS_FAILED, reason, FLEET_FC_INFRA, 1, detail);
	note(o, "attempt %d: %s%s%s; no attempts left", in->attempt, reason,
	     detail && *detail ? ": " : "", detail ? detail : "");
}

static int request(struct fleet_dev_out *o, const char *op, cJSON *req)
{
	if (!req)
		return -1;
	o->task_op = op;
	o->task_req = req;
	o->clear_task = 1;
	return 0;
}

static int get_banks(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	return request(o, "get", in->cwmp ? fleet_fw_version_get() : fleet_fw_bank_get());
}

static cJSON *operate_req(const char *command, const char *key)
{
	cJSON *r = cJSON_CreateObject();
	if (!r || !cJSON_AddStringToObject(r, "command", command) ||
	    !cJSON_AddStringToObject(r, "command_key", key) ||
	    !cJSON_AddBoolToObject(r, "send_resp", 1) ||
	    !cJSON_AddObjectToObject(r, "input_args")) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static int add_arg(cJSON *req, const char *name, const char *value)
{
	cJSON *args = cJSON_GetObjectItemCaseSensitive(req, "input_args");
	return args && cJSON_AddStringToObject(args, name, value) ? 0 : -1;
}

/* A Set of Device.DeviceInfo.BootFirmwareImage to bank ("...Image.2." or
 * "...Image.2": a reference names the row without its '.'). */
static cJSON *boot_image_set(const char *bank)
{
	cJSON *r = cJSON_CreateObject(), *objs, *obj, *ps, *p;
	char ref[128];
	copy(ref, sizeof(ref), bank);
	size_t rl = strlen(ref);
	if (rl && ref[rl - 1] == '.')
		ref[rl - 1] = '\0';
	if (!r || !(objs = cJSON_AddArrayToObject(r, "update_objs")) ||
	    !(obj = cJSON_CreateObject()) || !cJSON_AddItemToArray(objs, obj) ||
	    !cJSON_AddStringToObject(obj, "obj_path", "Device.DeviceInfo.") ||
	    !(ps = cJSON_AddArrayToObject(obj, "param_settings")) || !(p = cJSON_CreateObject()) ||
	    !cJSON_AddItemToArray(ps, p) ||
	    !cJSON_AddStringToObject(p, "param", "BootFirmwareImage") ||
	    !cJSON_AddStringToObject(p, "value", ref) || !cJSON_AddBoolToObject(p, "required", 1)) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static int download(const struct fleet_dev_in *in, struct fleet_dev_out *o, int auto_activate)
{
	const struct fleet_spec *s = in->spec;
	char cmd[160], size[24];
	set_key(in, o, auto_activate ? "activate" : "download");
	snprintf(cmd, sizeof(cmd), "%sDownload()", o->bank);
	cJSON *r = operate_req(cmd, o->command_key);
	const char *url = s->urls[(o->attempt > 0 ? o->attempt - 1 : 0) % (int)s->n_urls];
	snprintf(size, sizeof(size), "%lld", (long long)s->size);
	if (!r || add_arg(r, "URL", url) < 0 ||
	    add_arg(r, "AutoActivate", auto_activate ? "true" : "false") < 0 ||
	    add_arg(r, "FileSize", size) < 0 ||
	    (s->checksum_alg[0] && (add_arg(r, "CheckSumAlgorithm", s->checksum_alg) < 0 ||
				    add_arg(r, "CheckSum", s->checksum) < 0)) ||
	    (s->username[0] && (add_arg(r, "Username", s->username) < 0 ||
				add_arg(r, "Password", s->password) < 0))) {
		cJSON_Delete(r);
		return -1;
	}
	note(o, "%s %s from %s (key %s)", auto_activate ? "download and activate" : "download",
	     o->bank, url, o->command_key);
	return request(o, "operate", r);
}

static int activate(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	if (o->single_bank) {
		go(o, FLEET_DS_ACTIVATING, "activate");
		o->deadline_s = in->spec->download_timeout_s + in->spec->activate_timeout_s;
		return download(in, o, 1);
	}
	if (o->no_activate) {
		go(o, FLEET_DS_ACTIVATING, "set_boot");
		o->deadline_s = in->spec->activate_timeout_s;
		note(o, "set BootFirmwareImage to %s (the agent has no Activate())", o->bank);
		return request(o, "set", boot_image_set(o->bank));
	}
	char cmd[160], end[24];
	set_key(in, o, "activate");
	snprintf(cmd, sizeof(cmd), "%sActivate()", o->bank);
	int64_t left = in->window_left_s > 0 ? in->window_left_s : in->spec->activate_timeout_s;
	snprintf(end, sizeof(end), "%lld", (long long)left);
	cJSON *r = operate_req(cmd, o->command_key);
	if (!r || add_arg(r, "TimeWindow.1.Start", "0") < 0 ||
	    add_arg(r, "TimeWindow.1.End", end) < 0 ||
	    add_arg(r, "TimeWindow.1.Mode", "AnyTime") < 0) {
		cJSON_Delete(r);
		return -1;
	}
	go(o, FLEET_DS_ACTIVATING, "activate");
	o->deadline_s = in->spec->activate_timeout_s;
	note(o, "activate %s (key %s)", o->bank, o->command_key);
	return request(o, "operate", r);
}

static int reboot(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	set_key(in, o, "reboot");
	cJSON *r = operate_req("Device.Reboot()", o->command_key);
	if (!r)
		return -1;
	go(o, FLEET_DS_ACTIVATING, "reboot");
	o->deadline_s = in->spec->activate_timeout_s;
	note(o, "reboot into %s (key %s)", o->bank, o->command_key);
	return request(o, "operate", r);
}

static void wait_boot(const struct fleet_dev_in *in, struct fleet_dev_out *o, const char *why)
{
	go(o, FLEET_DS_REBOOTING, "wait_boot");
	o->deadline_s = in->spec->reboot_timeout_s;
	o->clear_task = 1;
	if (in->cwmp) {
		/* the device downloads, installs and reboots before it reports */
		o->deadline_s += in->spec->download_timeout_s;
		note(o, "%s; waiting for the device's TransferComplete", why);
		return;
	}
	note(o, "%s; waiting for the agent to boot the new image", why);
}

static int verify(const struct fleet_dev_in *in, struct fleet_dev_out *o, const char *why)
{
	char boot[160] = "no Boot! event seen";
	if (in->boot) {
		const char *fu = str_of(in->boot, "FirmwareUpdated");
		const char *ck = str_of(in->boot, "CommandKey");
		snprintf(boot, sizeof(boot), "Boot! FirmwareUpdated=%s CommandKey=%s",
			 fu ? fu : "?", ck ? ck : "");
	}
	go(o, FLEET_DS_VERIFYING, "verify");
	o->deadline_s = in->spec->verify_timeout_s;
	note(o, "%s (%s); reading the booted image", why, boot);
	return get_banks(in, o);
}

/* Errors that say the agent has no such command. */
static int no_such_command(int64_t code)
{
	return code == 7026 || code == 7016 || code == 7001 || code == 7010;
}

/* Why the current task failed, as "message (code)". */
static void task_failure(const struct fleet_dev_in *in, char *msg, size_t size)
{
	const char *m = in->task_err_msg && *in->task_err_msg ? in->task_err_msg : "no answer";
	if (in->task == FLEET_TASK_LOST)
		m = "the request expired or was canceled before it was sent";
	else if (in->task == FLEET_TASK_UNKNOWN)
		m = "the request's outcome is unknown";
	if (in->task_err)
		snprintf(msg, size, "%s (%lld)", m, (long long)in->task_err);
	else
		snprintf(msg, size, "%s", m);
}

/* The answer to an Operate whose task ended (done or failed): 1 accepted;
 * 0 refused, with *code and msg (an OperateResp cmd_failure, a USP Error,
 * or an answer that cannot be read). */
static int operate_answer(const struct fleet_dev_in *in, int64_t *code, char *msg, size_t size)
{
	if (in->task == FLEET_TASK_DONE) {
		int ok = operate_outcome(in->task_result, code, msg, size);
		if (ok >= 0)
			return ok;
		copy(msg, size, "unreadable OperateResp");
		return 0;
	}
	*code = in->task_err;
	task_failure(in, msg, size);
	return 0;
}

/* ---- the steps ------------------------------------------------------------------ */

void fleet_fw_start(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	keep(in, o);
	o->attempt = in->attempt + 1;
	go(o, FLEET_DS_DOWNLOADING, "inspect");
	o->reason[0] = o->detail[0] = '\0';
	o->deadline_s = in->spec->verify_timeout_s;
	note(o, "attempt %d: reading the firmware banks", o->attempt);
	if (get_banks(in, o) < 0)
		o->changed = 0;
}

static int on_inspect(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	struct fleet_banks b;
	char msg[200];
	const char *target = in->spec->version;
	if (in->task == FLEET_TASK_NONE) {
		if (in->deadline_passed)
			transient(in, o, "unreachable", "no answer to the bank inspection");
		return 0;
	}
	if (in->task != FLEET_TASK_DONE) {
		task_failure(in, msg, sizeof(msg));
		transient(in, o, "inspect_failed", msg);
		return 0;
	}
	if (fleet_fw_parse_banks(in->task_result, &b) < 0) {
		transient(in, o, "inspect_failed",
			  "the Get of the firmware banks returned nothing");
		return 0;
	}
	if (strcmp(b.sw_version, target) == 0) {
		finish(o, FLEET_DS_SKIPPED, "already_at_target", FLEET_FC_NONE, 0, "");
		note(o, "already runs %s", target);
		return 0;
	}
	if (in->cwmp) {
		o->single_bank = 1;
		copy(o->bank, sizeof(o->bank), CWMP_BANK);
		go(o, FLEET_DS_DOWNLOADED, "ready");
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o,
		     "TR-069 device running %s: its Download installs and reboots; waiting to "
		     "activate",
		     b.sw_version);
		return 0;
	}
	if (b.n == 0) {
		finish(o, FLEET_DS_FAILED, "no_firmware_image", FLEET_FC_INFRA, 0,
		       "the agent reports no Device.DeviceInfo.FirmwareImage rows");
		note(o, "no firmware image table");
		return 0;
	}
	if (b.n == 1) {
		o->single_bank = 1;
		copy(o->bank, sizeof(o->bank), b.row[0].path);
		go(o, FLEET_DS_DOWNLOADED, "ready");
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o,
		     "single bank %s (running %s): the download is the activation; waiting to "
		     "activate",
		     o->bank, b.sw_version);
		return 0;
	}
	int ready;
	const char *bank = fleet_fw_choose_bank(&b, target, &ready);
	if (!*bank && *b.active && *b.boot && strcmp(b.active, b.boot) != 0 &&
	    strcmp(in->step, "reinspect") != 0) {
		/* The agent boots another image than it runs: an earlier image that
		 * failed to boot (the agent fell back and, as TR-181 requires, left
		 * BootFirmwareImage on it). Point it back at the running image, which
		 * frees that bank, and look again, once ("reinspect": an agent that
		 * accepts the Set but keeps the old boot image ends no_free_bank
		 * instead of being repointed over and over). */
		go(o, FLEET_DS_DOWNLOADING, "repoint");
		o->deadline_s = in->spec->verify_timeout_s;
		note(o,
		     "BootFirmwareImage is %s but %s runs: pointing it back at the running image",
		     b.boot, b.active);
		return request(o, "set", boot_image_set(b.active));
	}
	if (!*bank) {
		finish(o, FLEET_DS_FAILED, "no_free_bank", FLEET_FC_INFRA, 0,
		       "every firmware bank is the active or the boot image");
		note(o, "no bank to download into (active %s, boot %s)", b.active, b.boot);
		return 0;
	}
	copy(o->bank, sizeof(o->bank), bank);
	if (ready) {
		go(o, FLEET_DS_DOWNLOADED, "ready");
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o, "%s already holds %s; waiting to activate", bank, target);
		return 0;
	}
	go(o, FLEET_DS_DOWNLOADING, "download");
	o->deadline_s = in->spec->download_timeout_s;
	return download(in, o, 0);
}

static int on_repoint(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	char msg[200] = "";
	int64_t code = 0;
	if (in->task == FLEET_TASK_NONE) {
		if (in->deadline_passed)
			transient(in, o, "unreachable",
				  "no answer to the BootFirmwareImage change");
		return 0;
	}
	if (in->task == FLEET_TASK_DONE &&
	    set_outcome(in->task_result, &code, msg, sizeof(msg)) > 0) {
		go(o, FLEET_DS_DOWNLOADING, "reinspect");
		note(o, "BootFirmwareImage points at the running image again; reading the banks");
		return get_banks(in, o);
	}
	if (in->task == FLEET_TASK_DONE || in->task == FLEET_TASK_FAILED) {
		if (in->task == FLEET_TASK_FAILED)
			task_failure(in, msg, sizeof(msg));
		finish(o, FLEET_DS_FAILED, "no_free_bank", FLEET_FC_INFRA, 0, msg);
		note(o, "BootFirmwareImage could not be pointed back: %s", msg);
		return 0;
	}
	task_failure(in, msg, sizeof(msg));
	transient(in, o, "unreachable", msg);
	return 0;
}

static int on_download(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	char msg[200];
	int64_t code = 0;
	switch (in->task) {
	case FLEET_TASK_NONE:
		if (in->deadline_passed)
			transient(in, o, "unreachable", "the Download() request got no answer");
		return 0;
	case FLEET_TASK_LOST:
		transient(in, o, "unreachable",
			  "the Download() request expired before it was sent");
		return 0;
	case FLEET_TASK_UNKNOWN:
		go(o, FLEET_DS_DOWNLOADING, "check");
		note(o, "the Download() outcome is unknown; reading the bank");
		return get_banks(in, o);
	case FLEET_TASK_DONE:
	case FLEET_TASK_FAILED:
		break;
	}
	int ok = operate_answer(in, &code, msg, sizeof(msg));
	if (ok > 0) {
		go(o, FLEET_DS_DOWNLOADING, "transfer");
		o->clear_task = 1;
		note(o, "download accepted; waiting for TransferComplete!");
		return 0;
	}
	if (code == 7004 || code == 7027) {
		finish(o, FLEET_DS_FAILED, "invalid_arguments", FLEET_FC_INFRA, 0, msg);
		note(o, "Download() refused: %s", msg);
	} else if (no_such_command(code)) {
		finish(o, FLEET_DS_FAILED, "no_download_command", FLEET_FC_INFRA, 0, msg);
		note(o, "Download() refused: %s", msg);
	} else {
		transient(in, o, code == 7005 || code == 7003 ? "agent_busy" : "download_rejected",
			  msg);
	}
	return 0;
}

static int on_transfer(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	if (!in->transfer && in->oper_state == 0 && !in->deadline_passed)
		return 0;
	go(o, FLEET_DS_DOWNLOADING, "check");
	if (in->transfer) {
		const char *fc = str_of(in->transfer, "FaultCode");
		const char *fs = str_of(in->transfer, "FaultString");
		note(o, "TransferComplete! FaultCode=%s%s%s; reading the bank", fc ? fc : "?",
		     fs && *fs ? " " : "", fs && *fs ? fs : "");
	} else if (in->oper_state) {
		note(o, "Download() completed (%s); reading the bank",
		     in->oper_state > 0 ? "ok" : (in->oper_msg ? in->oper_msg : "failed"));
	} else {
		note(o, "no TransferComplete! before the deadline; reading the bank");
	}
	return get_banks(in, o);
}

static int on_check(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	struct fleet_banks b;
	char msg[200];
	if (in->task == FLEET_TASK_NONE) {
		if (in->deadline_passed)
			transient(in, o, "unreachable", "no answer to the bank check");
		return 0;
	}
	if (in->task != FLEET_TASK_DONE || fleet_fw_parse_banks(in->task_result, &b) < 0) {
		task_failure(in, msg, sizeof(msg));
		transient(in, o, "unreachable", msg);
		return 0;
	}
	const char *st = "", *ver = "",
		   *fault = in->transfer ? str_of(in->transfer, "FaultString") : NULL;
	for (size_t i = 0; i < b.n; i++)
		if (strcmp(b.row[i].path, in->bank ? in->bank : "") == 0)
			st = b.row[i].status, ver = b.row[i].version;
	if (!strcmp(st, "Available") && !strcmp(ver, in->spec->version)) {
		go(o, FLEET_DS_DOWNLOADED, "ready");
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o, "%s holds %s (Status=Available); waiting to activate", in->bank,
		     in->spec->version);
		return 0;
	}
	if ((!strcmp(st, "Downloading") || !strcmp(st, "Validating")) && !in->deadline_passed) {
		go(o, FLEET_DS_DOWNLOADING, "transfer");
		o->clear_task = 1;
		note(o, "%s is still %s; waiting", in->bank, st);
		return 0;
	}
	snprintf(msg, sizeof(msg), "Status=%s Version=%s%s%s", *st ? st : "?", *ver ? ver : "?",
		 fault && *fault ? ": " : "", fault && *fault ? fault : "");
	if (!strcmp(st, "ValidationFailed") || !strcmp(st, "InstallationFailed")) {
		const char *reason = *st == 'V' ? "validation_failed" : "install_failed";
		int tried = in->attempt - in->retry_base;
		if (tried < 2 && tried < in->spec->max_attempts) {
			transient(in, o, reason, msg);
		} else {
			finish(o, FLEET_DS_FAILED, reason, FLEET_FC_IMAGE, 0, msg);
			note(o, "%s again: the image is at fault (%s)", reason, msg);
		}
		return 0;
	}
	if (!strcmp(st, "Downloading") || !strcmp(st, "Validating"))
		transient(in, o, "download_timeout", msg);
	else
		transient(in, o, "download_failed", msg);
	return 0;
}

static int on_ready(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	if (!in->may_activate)
		return 0;
	return activate(in, o);
}

static int on_wait_transfer(const struct fleet_dev_in *in, struct fleet_dev_out *o);

static int on_activate(const struct fleet_dev_in *in, struct fleet_dev_out *o, int is_reboot)
{
	char msg[200];
	int64_t code = 0;
	/* A TR-069 device's failed TransferComplete (its Download's own
	 * follow-up session) can be stored before a pass read the
	 * DownloadResponse: it is the transfer that failed, as at wait_boot,
	 * not the activation request (uspc-acs also marks the Download()
	 * operation failed, which the check below would take for a refusal). */
	if (in->cwmp && in->transfer) {
		const char *fc = str_of(in->transfer, "FaultCode");
		if (fc && strcmp(fc, "0") != 0)
			return on_wait_transfer(in, o);
	}
	if (in->oper_state < 0 && !in->agent_back) {
		finish(o, FLEET_DS_FAILED, "activation_failed", FLEET_FC_IMAGE, 0, in->oper_msg);
		note(o, "activation failed: %s", in->oper_msg ? in->oper_msg : "");
		return 0;
	}
	switch (in->task) {
	case FLEET_TASK_NONE:
		if (in->deadline_passed)
			wait_boot(in, o, "no answer to the activation request");
		return 0;
	case FLEET_TASK_LOST:
		go(o, FLEET_DS_DOWNLOADED, "ready");
		o->deadline_s = -1;
		o->clear_task = 1;
		note(o, "the activation request expired before it was sent; waiting to activate");
		return 0;
	case FLEET_TASK_UNKNOWN:
		wait_boot(in, o, "the activation request's outcome is unknown");
		return 0;
	case FLEET_TASK_DONE:
	case FLEET_TASK_FAILED:
		break;
	}
	int ok = operate_answer(in, &code, msg, sizeof(msg));
	if (ok > 0) {
		wait_boot(in, o, is_reboot ? "reboot accepted" : "activation accepted");
		return 0;
	}
	if (!is_reboot && !in->single_bank && !in->no_activate && no_such_command(code)) {
		o->no_activate = 1;
		return activate(in, o);
	}
	finish(o, FLEET_DS_FAILED, "activation_failed", FLEET_FC_IMAGE, 0, msg);
	note(o, "%s refused: %s", is_reboot ? "Reboot()" : "activation", msg);
	return 0;
}

static int on_set_boot(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	char msg[200];
	int64_t code = in->task_err;
	switch (in->task) {
	case FLEET_TASK_NONE:
		if (in->deadline_passed) {
			go(o, FLEET_DS_DOWNLOADED, "ready");
			o->deadline_s = -1;
			o->clear_task = 1;
			note(o, "no answer to the BootFirmwareImage change; waiting to activate");
		}
		return 0;
	case FLEET_TASK_LOST:
	case FLEET_TASK_UNKNOWN:
		/* setting the boot image again does no harm */
		return activate(in, o);
	case FLEET_TASK_DONE:
		if (set_outcome(in->task_result, &code, msg, sizeof(msg)) > 0)
			return reboot(in, o);
		break;
	case FLEET_TASK_FAILED:
		task_failure(in, msg, sizeof(msg));
		break;
	}
	finish(o, FLEET_DS_FAILED, "activation_failed", FLEET_FC_IMAGE, 0, msg);
	note(o, "BootFirmwareImage refused: %s", msg);
	return 0;
}

/* A TR-069 device reports the end of its Download with a TransferComplete
 * sent from the image it booted; a fault there means the image was not
 * installed. */
static int on_wait_transfer(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	const char *fc = in->transfer ? str_of(in->transfer, "FaultCode") : NULL;
	const char *fs = in->transfer ? str_of(in->transfer, "FaultString") : NULL;
	if ((fc && strcmp(fc, "0") != 0) || (!in->transfer && in->oper_state < 0)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "TransferComplete FaultCode=%s%s%s", fc ? fc : "?",
			 fs && *fs ? ": " : "",
			 fs && *fs ? fs : (in->oper_msg ? in->oper_msg : ""));
		finish(o, FLEET_DS_FAILED, "transfer_failed", FLEET_FC_IMAGE, 0, msg);
		note(o, "%s", msg);
		return 0;
	}
	if (in->transfer || in->oper_state > 0)
		return verify(in, o, "TransferComplete FaultCode=0");
	if (!in->deadline_passed)
		return 0;
	finish(o, FLEET_DS_TIMED_OUT, "not_back_after_activation", FLEET_FC_IMAGE, 0,
	       "no TransferComplete from the device after its Download");
	note(o, "no TransferComplete within %llds of the Download",
	     (long long)in->spec->reboot_timeout_s);
	return 0;
}

static int on_wait_boot(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	if (in->cwmp)
		return on_wait_transfer(in, o);
	/* An activation that failed without a reboot. One that failed after the
	 * agent rebooted (it fell back) is told apart by reading the device. */
	if (in->oper_state < 0 && !in->agent_back) {
		finish(o, FLEET_DS_FAILED, "activation_failed", FLEET_FC_IMAGE, 0, in->oper_msg);
		note(o, "activation failed: %s", in->oper_msg ? in->oper_msg : "");
		return 0;
	}
	if (in->agent_back && in->agent_ready)
		return verify(in, o, "the agent is back");
	if (!in->deadline_passed)
		return 0;
	if (in->agent_ready)
		return verify(in, o, "no reboot seen before the deadline");
	if (in->agent_online && in->agent_back) {
		/* it came back, but uspc could not onboard it (no reply topic, no
		 * answers): nothing says the image is at fault */
		finish(o, FLEET_DS_TIMED_OUT, "not_onboarded_after_activation", FLEET_FC_INFRA, 0,
		       "the agent reconnected after the activation but was never onboarded");
		note(o, "the agent came back but could not be onboarded within %llds",
		     (long long)in->spec->reboot_timeout_s);
		return 0;
	}
	finish(o, FLEET_DS_TIMED_OUT, "not_back_after_activation", FLEET_FC_IMAGE, 0,
	       "the agent did not come back after the activation");
	note(o, "the agent did not come back within %llds of the activation",
	     (long long)in->spec->reboot_timeout_s);
	return 0;
}

static int on_verify(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	struct fleet_banks b;
	char msg[640];
	const char *target = in->spec->version;
	if (in->task != FLEET_TASK_DONE) {
		if (in->task == FLEET_TASK_NONE && !in->deadline_passed)
			return 0;
		if (in->deadline_passed) {
			finish(o, FLEET_DS_TIMED_OUT, "verify_timeout", FLEET_FC_IMAGE, 0,
			       "the booted image could not be read before the deadline");
			note(o, "no answer from the booted image within %llds",
			     (long long)in->spec->verify_timeout_s);
			return 0;
		}
		task_failure(in, msg, sizeof(msg));
		go(o, FLEET_DS_VERIFYING, "verify");
		note(o, "reading the booted image failed (%s); asking again", msg);
		return get_banks(in, o);
	}
	if (fleet_fw_parse_banks(in->task_result, &b) < 0) {
		finish(o, FLEET_DS_FAILED, "verify_failed", FLEET_FC_IMAGE, 0,
		       "the booted image answered the Get with nothing usable");
		note(o, "unreadable answer from the booted image");
		return 0;
	}
	const char *log = "";
	for (size_t i = 0; i < b.n; i++)
		if (in->bank && strcmp(b.row[i].path, in->bank) == 0)
			log = b.row[i].boot_failure_log;
	int on_bank = in->single_bank || (in->bank && strcmp(b.active, in->bank) == 0);
	if (on_bank && strcmp(b.sw_version, target) == 0) {
		finish(o, FLEET_DS_SUCCEEDED, "", FLEET_FC_NONE, 0, "");
		note(o, "running %s from %s", target, in->single_bank ? in->bank : b.active);
		return 0;
	}
	if (!on_bank || *log) {
		snprintf(msg, sizeof(msg), "running %s from %s%s%s", b.sw_version,
			 *b.active ? b.active : "?", *log ? "; BootFailureLog: " : "", log);
		finish(o, FLEET_DS_FAILED, "boot_fallback", FLEET_FC_IMAGE, 0, msg);
		note(o, "fell back: %s", msg);
		return 0;
	}
	if (in->cwmp)
		snprintf(msg, sizeof(msg),
			 "the device reports SoftwareVersion %s after its "
			 "Download of %s",
			 b.sw_version, target);
	else
		snprintf(msg, sizeof(msg), "%s runs from %s but reports SoftwareVersion %s", target,
			 b.active, b.sw_version);
	finish(o, FLEET_DS_FAILED, "version_mismatch", FLEET_FC_IMAGE, 0, msg);
	note(o, "%s", msg);
	return 0;
}

int fleet_fw_advance(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	keep(in, o);
	const char *step = in->step ? in->step : "";
	int rc = 0;
	switch (in->state) {
	case FLEET_DS_DOWNLOADING:
		rc = !strcmp(step, "repoint")                                 ? on_repoint(in, o)
		     : !strcmp(step, "inspect") || !strcmp(step, "reinspect") ? on_inspect(in, o)
		     : !strcmp(step, "download")                              ? on_download(in, o)
		     : !strcmp(step, "transfer")                              ? on_transfer(in, o)
									      : on_check(in, o);
		break;
	case FLEET_DS_DOWNLOADED:
		rc = on_ready(in, o);
		break;
	case FLEET_DS_ACTIVATING:
		rc = !strcmp(step, "set_boot") ? on_set_boot(in, o)
					       : on_activate(in, o, !strcmp(step, "reboot"));
		break;
	case FLEET_DS_REBOOTING:
		rc = on_wait_boot(in, o);
		break;
	case FLEET_DS_VERIFYING:
		rc = on_verify(in, o);
		break;
	default:
		break;
	}
	if (rc < 0) {
		cJSON_Delete(o->task_req);
		keep(in, o);
		return -1;
	}
	return 0;
}
