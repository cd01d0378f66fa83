/*
 * test_fleet_fw.c — the per-device firmware state machine (fleet_fw.h):
 * every step's answers, events and deadlines, the bank choice, the retry
 * classification, and the rule that only a Get answered by the booted
 * image makes a device succeed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fleet_fw.h"
#include "usp_utf8.h"

static struct fleet_spec spec;

static int setup(void **state)
{
	(void)state;
	fleet_spec_init(&spec);
	snprintf(spec.name, sizeof(spec.name), "t");
	spec.urls[0] = strdup("http://a.example/fw-2.0.0.bin");
	spec.urls[1] = strdup("http://b.example/fw-2.0.0.bin");
	spec.n_urls = 2;
	snprintf(spec.version, sizeof(spec.version), "2.0.0");
	spec.max_attempts = 3;
	spec.retry_backoff_s = 10;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fleet_spec_fini(&spec);
	return 0;
}

static struct fleet_dev_in dev(enum fleet_dev_state s, const char *step)
{
	struct fleet_dev_in in = { .spec = &spec,
				   .campaign = 7,
				   .id = 42,
				   .state = s,
				   .step = step,
				   .attempt = 1,
				   .bank = "Device.DeviceInfo.FirmwareImage.2." };
	return in;
}

/* A GetResp of the banks: sw version, active/boot refs, then rows as
 * "path|Status|Version|BootFailureLog" (NULL-terminated). */
static cJSON *banks(const char *sw, const char *active, const char *boot, ...)
{
	char buf[4096];
	int n = snprintf(
		buf, sizeof(buf),
		"{\"req_path_results\":[{\"requested_path\":\"x\",\"resolved_path_results\":"
		"[{\"resolved_path\":\"Device.DeviceInfo.\",\"result_params\":{"
		"\"SoftwareVersion\":\"%s\",\"ActiveFirmwareImage\":\"%s\","
		"\"BootFirmwareImage\":\"%s\"}}",
		sw, active, boot);
	va_list ap;
	va_start(ap, boot);
	const char *row;
	while ((row = va_arg(ap, const char *)) != NULL) {
		char path[128], st[32], ver[32], log[128] = "";
		sscanf(row, "%127[^|]|%31[^|]|%31[^|]|%127[^\n]", path, st, ver, log);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      ",{\"resolved_path\":\"%s\",\"result_params\":{\"Status\":\"%s\","
			      "\"Version\":\"%s\",\"BootFailureLog\":\"%s\"}}",
			      path, st, ver, log);
	}
	va_end(ap);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "]}]}");
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

#define ROW(i, st, ver) "Device.DeviceInfo.FirmwareImage." #i ".|" st "|" ver "|"

static const char *arg(const struct fleet_dev_out *o, const char *name)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o->task_req, "input_args");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *cmd(const struct fleet_dev_out *o)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(o->task_req, "command");
	return cJSON_IsString(c) ? c->valuestring : "";
}

static void advance(const struct fleet_dev_in *in, struct fleet_dev_out *o)
{
	assert_int_equal(fleet_fw_advance(in, o), 0);
}

static void done(struct fleet_dev_out *o)
{
	cJSON_Delete(o->task_req);
	o->task_req = NULL;
}

static void test_start_reads_banks(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_PENDING, NULL);
	in.attempt = 0;
	struct fleet_dev_out o;
	fleet_fw_start(&in, &o);
	assert_true(o.changed);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADING);
	assert_string_equal(o.step, "inspect");
	assert_int_equal(o.attempt, 1);
	assert_string_equal(o.task_op, "get");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.task_req, "param_paths")), 4);
	assert_true(o.deadline_s > 0);
	done(&o);
}

static void test_inspect_already_at_target(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "inspect");
	cJSON *r = banks("2.0.0", "Device.DeviceInfo.FirmwareImage.1",
			 "Device.DeviceInfo.FirmwareImage.1", ROW(1, "Active", "2.0.0"),
			 ROW(2, "Available", "1.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_SKIPPED);
	assert_string_equal(o.reason, "already_at_target");
	assert_null(o.task_op);
	cJSON_Delete(r);
}

static void test_inspect_chooses_inactive_bank_and_downloads(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "inspect");
	in.bank = NULL;
	snprintf(spec.checksum_alg, sizeof(spec.checksum_alg), "SHA-256");
	memset(spec.checksum, 'a', 64);
	spec.checksum[64] = '\0';
	/* the active row is 2 this time: row 1 is the one to fill */
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.2",
			 "Device.DeviceInfo.FirmwareImage.2", ROW(1, "Available", "0.9.0"),
			 ROW(2, "Active", "1.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADING);
	assert_string_equal(o.step, "download");
	assert_string_equal(o.bank, "Device.DeviceInfo.FirmwareImage.1.");
	assert_string_equal(o.task_op, "operate");
	assert_string_equal(cmd(&o), "Device.DeviceInfo.FirmwareImage.1.Download()");
	assert_string_equal(arg(&o, "AutoActivate"), "false");
	assert_string_equal(arg(&o, "URL"), "http://a.example/fw-2.0.0.bin");
	assert_string_equal(arg(&o, "CheckSumAlgorithm"), "SHA-256");
	assert_string_equal(o.command_key, "uspc/c7/d42/a1/download");
	assert_string_equal(cJSON_GetObjectItem(o.task_req, "command_key")->valuestring,
			    o.command_key);
	spec.checksum_alg[0] = spec.checksum[0] = '\0';
	done(&o);
	cJSON_Delete(r);
}

static void test_inspect_bank_already_holds_target(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "inspect");
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1",
			 "Device.DeviceInfo.FirmwareImage.1", ROW(1, "Active", "1.0.0"),
			 ROW(2, "Available", "2.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADED);
	assert_null(o.task_op);
	cJSON_Delete(r);
}

static void test_inspect_single_bank_and_no_free_bank(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "inspect");
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "",
			 ROW(1, "Active", "1.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADED);
	assert_true(o.single_bank);
	cJSON_Delete(r);
	/* two banks, one running and the other set to boot next (an image the
	 * agent fell back from): point the boot image back, then look again */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "Device.DeviceInfo.FirmwareImage.2",
		  ROW(1, "Active", "1.0.0"), ROW(2, "Available", "1.5.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADING);
	assert_string_equal(o.step, "repoint");
	assert_string_equal(o.task_op, "set");
	const cJSON *p = cJSON_GetArrayItem(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(o.task_req, "update_objs"), 0),
			"param_settings"),
		0);
	assert_string_equal(cJSON_GetObjectItem(p, "value")->valuestring,
			    "Device.DeviceInfo.FirmwareImage.1");
	done(&o);
	cJSON_Delete(r);
	struct fleet_dev_in rp = dev(FLEET_DS_DOWNLOADING, "repoint");
	r = cJSON_Parse("{\"updated_obj_results\":[{\"requested_path\":\"x\","
			"\"oper_status\":{\"oper_success\":{}}}]}");
	rp.task = FLEET_TASK_DONE;
	rp.task_result = r;
	advance(&rp, &o);
	assert_string_equal(o.step, "reinspect");
	assert_string_equal(o.task_op, "get");
	done(&o);
	cJSON_Delete(r);
	/* the agent took the Set but still boots the other image: no second
	 * repoint, the device fails instead of looping */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "Device.DeviceInfo.FirmwareImage.2",
		  ROW(1, "Active", "1.0.0"), ROW(2, "Available", "1.5.0"), NULL);
	struct fleet_dev_in again = dev(FLEET_DS_DOWNLOADING, "reinspect");
	again.task = FLEET_TASK_DONE;
	again.task_result = r;
	advance(&again, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "no_free_bank");
	cJSON_Delete(r);
	/* running and boot image the same, the other row unusable: no bank */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "Device.DeviceInfo.FirmwareImage.1",
		  ROW(1, "Active", "1.0.0"), ROW(2, "Active", "1.5.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "no_free_bank");
	cJSON_Delete(r);
}

static cJSON *operate_resp(int code)
{
	char buf[256];
	if (code)
		snprintf(buf, sizeof(buf),
			 "{\"operation_results\":[{\"executed_command\":\"x\",\"cmd_failure\":"
			 "{\"err_code\":%d,\"err_msg\":\"no\"}}]}",
			 code);
	else
		snprintf(buf, sizeof(buf),
			 "{\"operation_results\":[{\"executed_command\":\"x\","
			 "\"req_obj_path\":\"Device.LocalAgent.Request.1.\"}]}");
	return cJSON_Parse(buf);
}

static void test_download_answers(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "download");
	struct fleet_dev_out o;
	cJSON *r = operate_resp(0);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	advance(&in, &o);
	assert_string_equal(o.step, "transfer");
	cJSON_Delete(r);
	/* invalid arguments: permanent, not retried */
	r = operate_resp(7027);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "invalid_arguments");
	assert_int_equal(o.fail_class, FLEET_FC_INFRA);
	assert_false(o.retryable);
	cJSON_Delete(r);
	/* busy: retried after back-off */
	r = operate_resp(7005);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_PENDING);
	assert_string_equal(o.reason, "agent_busy");
	assert_int_equal(o.due_s, 10);
	cJSON_Delete(r);
	/* an unknown outcome is reconciled by reading the bank */
	in.task = FLEET_TASK_UNKNOWN;
	in.task_result = NULL;
	advance(&in, &o);
	assert_string_equal(o.step, "check");
	assert_string_equal(o.task_op, "get");
	done(&o);
	/* no answer yet, deadline not passed: nothing to do */
	in.task = FLEET_TASK_NONE;
	advance(&in, &o);
	assert_false(o.changed);
}

static void test_transfer_waits_for_evidence(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "transfer");
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_false(o.changed);
	cJSON *tc = cJSON_Parse("{\"CommandKey\":\"k\",\"FaultCode\":\"0\"}");
	in.transfer = tc;
	advance(&in, &o);
	assert_string_equal(o.step, "check");
	assert_string_equal(o.task_op, "get");
	done(&o);
	/* a deadline without any event also reconciles by Get, never declares */
	in.transfer = NULL;
	in.deadline_passed = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADING);
	assert_string_equal(o.step, "check");
	done(&o);
	cJSON_Delete(tc);
}

static void test_check_outcomes(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "check");
	struct fleet_dev_out o;
	in.task = FLEET_TASK_DONE;
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "",
			 ROW(1, "Active", "1.0.0"), ROW(2, "Available", "2.0.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADED);
	cJSON_Delete(r);
	/* a failed download is retried, then given up as infrastructure */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "", ROW(1, "Active", "1.0.0"),
		  ROW(2, "DownloadFailed", "1.0.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_PENDING);
	assert_string_equal(o.reason, "download_failed");
	in.attempt = 3;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_int_equal(o.fail_class, FLEET_FC_INFRA);
	assert_true(o.retryable);
	/* after campaign_retry_failed (base 3) the budget starts again */
	in.attempt = 4;
	in.retry_base = 3;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_PENDING);
	in.retry_base = 0;
	cJSON_Delete(r);
	/* validation: once more, then the image is at fault */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "", ROW(1, "Active", "1.0.0"),
		  ROW(2, "ValidationFailed", "1.0.0"), NULL);
	in.task_result = r;
	in.attempt = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_PENDING);
	in.attempt = 2;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "validation_failed");
	assert_int_equal(o.fail_class, FLEET_FC_IMAGE);
	assert_false(o.retryable);
	cJSON_Delete(r);
}

/* An agent's long multi-byte FaultString is cut at a character boundary:
 * the detail goes into a text column, which must hold valid UTF-8. */
static void test_detail_cut_keeps_utf8(void **state)
{
	(void)state;
	char fault[2048] = "{\"FaultCode\":\"7000\",\"FaultString\":\"x";
	for (int i = 0; i < 300; i++)
		strcat(fault, "\u00e9");
	strcat(fault, "\"}");
	cJSON *tc = cJSON_Parse(fault);
	assert_non_null(tc);
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "check");
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "",
			 ROW(1, "Active", "1.0.0"), ROW(2, "DownloadFailed", "1.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	in.transfer = tc;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_PENDING);
	assert_true(strlen(o.detail) > 100);
	assert_true(usp_utf8_valid(o.detail, strlen(o.detail)));
	cJSON_Delete(r);
	cJSON_Delete(tc);
}

static void test_second_attempt_uses_next_mirror(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADING, "inspect");
	in.attempt = 2;
	cJSON *r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "",
			 ROW(1, "Active", "1.0.0"), ROW(2, "DownloadFailed", "1.0.0"), NULL);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_string_equal(arg(&o, "URL"), "http://b.example/fw-2.0.0.bin");
	done(&o);
	cJSON_Delete(r);
}

static void test_ready_waits_for_gate_then_activates(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_DOWNLOADED, "ready");
	struct fleet_dev_out o;
	advance(&in, &o);
	assert_false(o.changed);
	in.may_activate = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_ACTIVATING);
	assert_string_equal(cmd(&o), "Device.DeviceInfo.FirmwareImage.2.Activate()");
	assert_string_equal(arg(&o, "TimeWindow.1.Mode"), "AnyTime");
	assert_string_equal(o.command_key, "uspc/c7/d42/a1/activate");
	done(&o);
	/* a single bank is activated by downloading with AutoActivate */
	in.single_bank = 1;
	in.bank = "Device.DeviceInfo.FirmwareImage.1.";
	advance(&in, &o);
	assert_string_equal(cmd(&o), "Device.DeviceInfo.FirmwareImage.1.Download()");
	assert_string_equal(arg(&o, "AutoActivate"), "true");
	done(&o);
}

static void test_no_activate_falls_back_to_boot_image_and_reboot(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_ACTIVATING, "activate");
	struct fleet_dev_out o;
	in.task = FLEET_TASK_FAILED;
	in.task_err = 7026;
	advance(&in, &o);
	assert_true(o.no_activate);
	assert_string_equal(o.step, "set_boot");
	assert_string_equal(o.task_op, "set");
	const cJSON *p = cJSON_GetArrayItem(
		cJSON_GetObjectItem(
			cJSON_GetArrayItem(cJSON_GetObjectItem(o.task_req, "update_objs"), 0),
			"param_settings"),
		0);
	assert_string_equal(cJSON_GetObjectItem(p, "param")->valuestring, "BootFirmwareImage");
	assert_string_equal(cJSON_GetObjectItem(p, "value")->valuestring,
			    "Device.DeviceInfo.FirmwareImage.2");
	done(&o);
	/* the Set succeeded: Reboot() */
	in = dev(FLEET_DS_ACTIVATING, "set_boot");
	in.no_activate = 1;
	cJSON *r = cJSON_Parse("{\"updated_obj_results\":[{\"requested_path\":\"x\","
			       "\"oper_status\":{\"oper_success\":{}}}]}");
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	advance(&in, &o);
	assert_string_equal(o.step, "reboot");
	assert_string_equal(cmd(&o), "Device.Reboot()");
	done(&o);
	cJSON_Delete(r);
	/* any other refusal of Activate() is an activation failure */
	in = dev(FLEET_DS_ACTIVATING, "activate");
	r = operate_resp(7022);
	in.task = FLEET_TASK_DONE;
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "activation_failed");
	assert_int_equal(o.fail_class, FLEET_FC_IMAGE);
	cJSON_Delete(r);
}

static void test_activation_outcome_unknown_waits_for_boot(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_ACTIVATING, "activate");
	struct fleet_dev_out o;
	in.task = FLEET_TASK_UNKNOWN;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_REBOOTING);
	assert_null(o.task_op); /* never activated twice */
}

static void test_wait_boot(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_REBOOTING, "wait_boot");
	struct fleet_dev_out o;
	/* a Boot! alone decides nothing: the engine reads the booted image */
	cJSON *boot = cJSON_Parse("{\"FirmwareUpdated\":\"true\",\"CommandKey\":\"k\"}");
	in.boot = boot;
	advance(&in, &o);
	assert_false(o.changed);
	in.agent_back = in.agent_ready = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_VERIFYING);
	assert_string_equal(o.task_op, "get");
	done(&o);
	cJSON_Delete(boot);
	/* OperationComplete failure of the activation */
	in = dev(FLEET_DS_REBOOTING, "wait_boot");
	in.oper_state = -1;
	in.oper_msg = "activation failed (simulated)";
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "activation_failed");
	/* the same failure after a reboot (the image did not boot): the Get
	 * tells a fallback from an activation that never happened */
	in.agent_back = in.agent_ready = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_VERIFYING);
	done(&o);
	/* never back */
	in = dev(FLEET_DS_REBOOTING, "wait_boot");
	in.deadline_passed = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_TIMED_OUT);
	assert_string_equal(o.reason, "not_back_after_activation");
	assert_int_equal(o.fail_class, FLEET_FC_IMAGE);
	/* back, but never onboarded: infrastructure, not the image */
	in.agent_online = in.agent_back = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_TIMED_OUT);
	assert_string_equal(o.reason, "not_onboarded_after_activation");
	assert_int_equal(o.fail_class, FLEET_FC_INFRA);
	in.agent_online = in.agent_back = 0;
	/* deadline, but the agent never went away: read it (reconcile) */
	in.agent_ready = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_VERIFYING);
	done(&o);
}

static void test_verify(void **state)
{
	(void)state;
	struct fleet_dev_in in = dev(FLEET_DS_VERIFYING, "verify");
	struct fleet_dev_out o;
	in.task = FLEET_TASK_DONE;
	cJSON *r = banks("2.0.0", "Device.DeviceInfo.FirmwareImage.2",
			 "Device.DeviceInfo.FirmwareImage.2", ROW(1, "Available", "1.0.0"),
			 ROW(2, "Active", "2.0.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_SUCCEEDED);
	cJSON_Delete(r);
	/* fell back to bank 1 with a boot failure log */
	r = banks("1.0.0", "Device.DeviceInfo.FirmwareImage.1", "Device.DeviceInfo.FirmwareImage.2",
		  ROW(1, "Active", "1.0.0"),
		  "Device.DeviceInfo.FirmwareImage.2.|Available|2.0.0|kernel panic", NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "boot_fallback");
	assert_non_null(strstr(o.detail, "kernel panic"));
	cJSON_Delete(r);
	/* runs the bank but reports another version */
	r = banks("2.0.0-rc0", "Device.DeviceInfo.FirmwareImage.2",
		  "Device.DeviceInfo.FirmwareImage.2", ROW(1, "Available", "1.0.0"),
		  ROW(2, "Active", "2.0.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "version_mismatch");
	cJSON_Delete(r);
	/* the target version, but from the wrong bank: not a success */
	r = banks("2.0.0", "Device.DeviceInfo.FirmwareImage.1", "Device.DeviceInfo.FirmwareImage.1",
		  ROW(1, "Active", "2.0.0"), ROW(2, "Available", "2.0.0"), NULL);
	in.task_result = r;
	advance(&in, &o);
	assert_int_not_equal(o.state, FLEET_DS_SUCCEEDED);
	cJSON_Delete(r);
	/* no answer by the deadline */
	in.task = FLEET_TASK_NONE;
	in.task_result = NULL;
	in.deadline_passed = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_TIMED_OUT);
}

static void test_parse_banks_rejects_garbage(void **state)
{
	(void)state;
	struct fleet_banks b;
	cJSON *j = cJSON_Parse("{\"req_path_results\":[{\"resolved_path_results\":"
			       "[{\"resolved_path\":7}]}]}");
	assert_int_equal(fleet_fw_parse_banks(j, &b), -1);
	cJSON_Delete(j);
	assert_int_equal(fleet_fw_parse_banks(NULL, &b), -1);
}

/* A GetResp holding only Device.DeviceInfo.SoftwareVersion (a TR-069
 * device's inspection and verification). */
static cJSON *version_only(const char *sw)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
		 "{\"req_path_results\":[{\"requested_path\":\"Device.DeviceInfo."
		 "SoftwareVersion\",\"resolved_path_results\":[{\"resolved_path\":"
		 "\"Device.DeviceInfo.\",\"result_params\":{\"SoftwareVersion\":\"%s\"}}]}]}",
		 sw);
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static void test_cwmp_path(void **state)
{
	(void)state;
	/* start: only the version is read, not the banks */
	struct fleet_dev_in in = dev(FLEET_DS_PENDING, NULL);
	in.attempt = 0;
	in.cwmp = 1;
	struct fleet_dev_out o;
	fleet_fw_start(&in, &o);
	assert_string_equal(o.task_op, "get");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.task_req, "param_paths")), 1);
	done(&o);

	/* already at target: skipped */
	in = dev(FLEET_DS_DOWNLOADING, "inspect");
	in.cwmp = 1;
	in.bank = "";
	in.task = FLEET_TASK_DONE;
	cJSON *r = version_only("2.0.0");
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_SKIPPED);
	assert_string_equal(o.reason, "already_at_target");
	cJSON_Delete(r);

	/* another version: no bank table needed; waits to activate */
	r = version_only("1.0.0");
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_DOWNLOADED);
	assert_string_equal(o.step, "ready");
	assert_true(o.single_bank);
	assert_null(o.task_op);
	cJSON_Delete(r);

	/* the window opens: one Download with the URL (uspc-acs's Download RPC) */
	in = dev(FLEET_DS_DOWNLOADED, "ready");
	in.cwmp = 1;
	in.single_bank = 1;
	in.bank = o.bank;
	in.may_activate = 1;
	char bank[128];
	snprintf(bank, sizeof(bank), "%s", o.bank);
	in.bank = bank;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_ACTIVATING);
	assert_string_equal(o.task_op, "operate");
	assert_string_equal(cmd(&o), "Device.DeviceInfo.FirmwareImage.1.Download()");
	assert_string_equal(arg(&o, "URL"), "http://a.example/fw-2.0.0.bin");
	/* within TR-069's 32 characters even for large ids */
	assert_string_equal(o.command_key, "c7d42a1a");
	assert_true(strlen(o.command_key) <= 32);
	done(&o);

	/* DownloadResponse: wait for the TransferComplete, over download + reboot time */
	in = dev(FLEET_DS_ACTIVATING, "activate");
	in.cwmp = 1;
	in.single_bank = 1;
	in.bank = bank;
	in.task = FLEET_TASK_DONE;
	r = operate_resp(0);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_REBOOTING);
	assert_int_equal(o.deadline_s, spec.reboot_timeout_s + spec.download_timeout_s);
	cJSON_Delete(r);

	/* the device's failed TransferComplete stored before a pass read the
	 * DownloadResponse (uspc-acs also marks the Download() failed): the
	 * transfer failed, not the activation; a good one still waits */
	in = dev(FLEET_DS_ACTIVATING, "activate");
	in.cwmp = 1;
	in.single_bank = 1;
	in.bank = bank;
	cJSON *early = cJSON_Parse("{\"CommandKey\":\"k\",\"FaultCode\":\"9010\","
				   "\"FaultString\":\"no such file\"}");
	in.transfer = early;
	in.oper_state = -1;
	in.oper_msg = "no such file";
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "transfer_failed");
	assert_int_equal(o.fail_class, FLEET_FC_IMAGE);
	assert_non_null(strstr(o.detail, "FaultCode=9010"));
	cJSON_Delete(early);
	early = cJSON_Parse("{\"CommandKey\":\"k\",\"FaultCode\":\"0\"}");
	in.transfer = early;
	in.oper_state = 1;
	in.oper_msg = NULL;
	in.task = FLEET_TASK_DONE;
	r = operate_resp(0);
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_REBOOTING);
	cJSON_Delete(r);
	cJSON_Delete(early);
	/* a USP agent's failed OperationComplete at activate stays activation_failed */
	in = dev(FLEET_DS_ACTIVATING, "activate");
	in.single_bank = 1;
	in.bank = bank;
	in.oper_state = -1;
	in.oper_msg = "bad image";
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "activation_failed");

	/* no TransferComplete yet: nothing; a fault: failed, the image at fault */
	in = dev(FLEET_DS_REBOOTING, "wait_boot");
	in.cwmp = 1;
	in.single_bank = 1;
	in.bank = bank;
	advance(&in, &o);
	assert_false(o.changed);
	cJSON *tc = cJSON_Parse("{\"CommandKey\":\"k\",\"FaultCode\":\"9010\","
				"\"FaultString\":\"download failed\"}");
	in.transfer = tc;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "transfer_failed");
	assert_int_equal(o.fail_class, FLEET_FC_IMAGE);
	assert_non_null(strstr(o.detail, "9010"));
	cJSON_Delete(tc);

	/* FaultCode 0: read the version the booted image reports */
	tc = cJSON_Parse("{\"CommandKey\":\"k\",\"FaultCode\":\"0\"}");
	in.transfer = tc;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_VERIFYING);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o.task_req, "param_paths")), 1);
	done(&o);
	cJSON_Delete(tc);

	/* the deadline without any report: timed out */
	in.transfer = NULL;
	in.deadline_passed = 1;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_TIMED_OUT);

	/* verify: the target succeeds, anything else is a mismatch */
	in = dev(FLEET_DS_VERIFYING, "verify");
	in.cwmp = 1;
	in.single_bank = 1;
	in.bank = bank;
	in.task = FLEET_TASK_DONE;
	r = version_only("2.0.0");
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_SUCCEEDED);
	cJSON_Delete(r);
	r = version_only("1.0.0");
	in.task_result = r;
	advance(&in, &o);
	assert_int_equal(o.state, FLEET_DS_FAILED);
	assert_string_equal(o.reason, "version_mismatch");
	assert_non_null(strstr(o.detail, "1.0.0"));
	cJSON_Delete(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_reads_banks),
		cmocka_unit_test(test_inspect_already_at_target),
		cmocka_unit_test(test_inspect_chooses_inactive_bank_and_downloads),
		cmocka_unit_test(test_inspect_bank_already_holds_target),
		cmocka_unit_test(test_inspect_single_bank_and_no_free_bank),
		cmocka_unit_test(test_download_answers),
		cmocka_unit_test(test_transfer_waits_for_evidence),
		cmocka_unit_test(test_check_outcomes),
		cmocka_unit_test(test_detail_cut_keeps_utf8),
		cmocka_unit_test(test_second_attempt_uses_next_mirror),
		cmocka_unit_test(test_ready_waits_for_gate_then_activates),
		cmocka_unit_test(test_no_activate_falls_back_to_boot_image_and_reboot),
		cmocka_unit_test(test_activation_outcome_unknown_waits_for_boot),
		cmocka_unit_test(test_wait_boot),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_parse_banks_rejects_garbage),
		cmocka_unit_test(test_cwmp_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
