/*
 * fleet_fw.h — one device's path through a firmware campaign, as a pure
 * function: given the device's row and the evidence the engine read for
 * it (its step's task, the TransferComplete!, OperationComplete and Boot!
 * that carry its CommandKey, whether its agent came back), decide the next
 * state, the next USP request (as a task) and the timeline line. No I/O;
 * the engine (fleet_engine.c) reads and writes the rows.
 *
 *   pending ─start→ downloading/inspect (Get the banks)
 *     → downloading/download (Operate Download(), AutoActivate=false)
 *     → downloading/transfer (wait TransferComplete!) → downloading/check
 *       (Get the bank: Status=Available, Version=target)
 *     → downloaded/ready (wait: campaign running, window open)
 *     → activating/activate (Activate(); without it: set_boot + reboot;
 *       single bank: Download(AutoActivate=true))
 *     → rebooting/wait_boot (the agent comes back) → verifying/verify (Get)
 *     → succeeded | failed(reason) | timed_out(reason)
 *
 * A device succeeds only on a Get answered by the booted image showing the
 * target version in the bank the campaign chose; nothing else counts.
 *
 * A TR-069 device (cwmp) has no banks to choose: its Download installs
 * and reboots into the image by itself (uspc-acs sends it as the CWMP
 * Download RPC). So: inspect (Get SoftwareVersion) → downloaded/ready
 * (wait: campaign running, window open) → activating/activate (Download)
 * → rebooting/wait_boot (wait for its TransferComplete, which the device
 * sends from the booted image) → verifying/verify (Get SoftwareVersion
 * = target) → succeeded | failed | timed_out.
 */
#ifndef USPC_FLEET_FW_H
#define USPC_FLEET_FW_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "fleet_spec.h"

#define FLEET_DEV_STATES(X)              \
	X(PENDING, "pending", 0)         \
	X(DOWNLOADING, "downloading", 0) \
	X(DOWNLOADED, "downloaded", 0)   \
	X(ACTIVATING, "activating", 0)   \
	X(REBOOTING, "rebooting", 0)     \
	X(VERIFYING, "verifying", 0)     \
	X(SUCCEEDED, "succeeded", 1)     \
	X(FAILED, "failed", 1)           \
	X(TIMED_OUT, "timed_out", 1)     \
	X(SKIPPED, "skipped", 1)         \
	X(CANCELED, "canceled", 1)

enum fleet_dev_state {
#define FLEET_DS_(id, name, term) FLEET_DS_##id,
	FLEET_DEV_STATES(FLEET_DS_)
#undef FLEET_DS_
		FLEET_DS_COUNT_
};
const char *fleet_dev_state_name(enum fleet_dev_state s);
int fleet_dev_state_parse(const char *name, enum fleet_dev_state *out); /* 0 or -1 */
int fleet_dev_state_terminal(enum fleet_dev_state s);

enum fleet_fail_class { FLEET_FC_NONE, FLEET_FC_IMAGE, FLEET_FC_INFRA };
const char *fleet_fail_class_name(enum fleet_fail_class c); /* NULL for NONE */

/* How the device's current task ended. */
enum fleet_task_end {
	FLEET_TASK_NONE,    /* no task, or still queued / sent */
	FLEET_TASK_DONE,    /* a response came (it may hold a failure) */
	FLEET_TASK_FAILED,  /* a USP Error, or the daemon gave up */
	FLEET_TASK_UNKNOWN, /* the request may have run; its outcome is lost */
	FLEET_TASK_LOST,    /* expired or canceled before it was sent */
};

struct fleet_dev_in {
	const struct fleet_spec *spec;
	int64_t campaign, id;
	enum fleet_dev_state state;
	const char *step;
	int attempt;
	int retry_base;   /* attempts before the last campaign_retry_failed */
	const char *bank; /* "Device.DeviceInfo.FirmwareImage.2." or NULL */
	int single_bank, no_activate;
	int cwmp; /* a TR-069 device (agents.protocol 'cwmp') */
	int deadline_passed, due_passed;
	enum fleet_task_end task;
	const cJSON *task_result; /* the response as docs/json.md, or NULL */
	int64_t task_err;
	const char *task_err_msg;
	const cJSON *transfer; /* TransferComplete! params with this step's key */
	int oper_state;        /* OperationComplete with this step's key: 0 none, 1 ok, -1 failed */
	const char *oper_msg;
	int agent_online;      /* connected now */
	int agent_ready;       /* online and onboarded now */
	int agent_back;        /* reconnected since the step started */
	const cJSON *boot;     /* the newest Boot! params since the step started */
	int may_activate;      /* campaign running and the activation window open */
	int64_t window_left_s; /* seconds left in the window (or 0: no window) */
};

struct fleet_dev_out {
	int changed; /* 0: nothing to do now */
	enum fleet_dev_state state;
	char step[16];
	char reason[48];
	enum fleet_fail_class fail_class;
	int retryable;
	char detail[256];
	char bank[128];
	int single_bank, no_activate;
	int attempt;
	/* the next request, queued as a task (op NULL: none) */
	const char *task_op;
	cJSON *task_req; /* owned by the caller after the call */
	char command_key[96];
	int64_t deadline_s; /* from now; 0 = none */
	int64_t due_s;      /* look again after; 0 = when evidence arrives */
	int clear_task;     /* the old task is done with */
	char note[320];     /* the timeline line */
};

/* A pending device is started (attempt + 1): the inspection Get. */
void fleet_fw_start(const struct fleet_dev_in *in, struct fleet_dev_out *out);

/* Advance a device with a step in flight. out->changed = 0 when there is
 * nothing to do yet. Returns 0, or -1 out of memory (nothing changed). */
int fleet_fw_advance(const struct fleet_dev_in *in, struct fleet_dev_out *out);

/* The image paths a Get of the banks asks for (inspection and verify);
 * of a TR-069 device, its SoftwareVersion only. */
cJSON *fleet_fw_bank_get(void);
cJSON *fleet_fw_version_get(void);

/* What a Get of fleet_fw_bank_get() said. */
#define FLEET_BANKS_MAX 8
struct fleet_banks {
	char sw_version[FLEET_VERSION_MAX + 1];
	char active[128], boot[128]; /* row paths with the trailing '.', or "" */
	size_t n;
	struct {
		char path[128];
		char status[32];
		char version[FLEET_VERSION_MAX + 1];
		char boot_failure_log[160];
	} row[FLEET_BANKS_MAX];
};
/* Fill b from a GetResp as JSON; 0, or -1 when it says nothing usable. */
int fleet_fw_parse_banks(const cJSON *get_resp, struct fleet_banks *b);
/* The bank to download into ("" none), and whether it already holds the
 * target (*ready). Never the active or the boot bank of a multi-bank agent. */
const char *fleet_fw_choose_bank(const struct fleet_banks *b, const char *target, int *ready);

#endif
