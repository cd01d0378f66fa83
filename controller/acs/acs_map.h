/*
 * acs_map.h — one uspc task run against a TR-069 device: the task's
 * request (the same JSON uspctl stores for a USP agent, docs/json.md)
 * becomes one or more CWMP RPCs, and the CPE's answers become the task's
 * result in the USP response shapes, the snapshot rows to store, and the
 * parameter types learned.
 *
 * Pure: no I/O, no globals; the session (acs_session.c) sends the RPCs
 * and stores the outcome.
 *
 *   op        CWMP
 *   get       GetParameterValues: full names and partial paths as given;
 *             a '*' instance becomes the partial path before it, and the
 *             answer is filtered; 32 names per RPC. A batch refused with
 *             Fault 9002/9003/9005 while it names a partial path:
 *             GetParameterNames (NextLevel false) of each partial path,
 *             then GetParameterValues of the names listed, 32 at a time,
 *             answered as the batch would have been
 *   set       SetParameterValues with each value's type (types the caller
 *             does not know are first read with GetParameterValues);
 *             ParameterKey = the task id
 *   add       AddObject (ParameterKey = task id), then SetParameterValues
 *             of its param_settings on the new instance
 *   delete    one DeleteObject per path
 *   operate   Device.Reboot() → Reboot (CommandKey = command_key, or the
 *             task id); Device.FactoryReset() → FactoryReset;
 *             Device.DeviceInfo.FirmwareImage.{i}.Download() → Download
 *             (FileType "1 Firmware Upgrade Image", URL, FileSize,
 *             Username, Password, TargetFileName from the input
 *             arguments; CommandKey as for Reboot)
 *   set_attributes  SetParameterAttributes (notification 0..6, and the
 *             access list when given): TR-069's notification attributes
 *   get_attributes  GetParameterAttributes on the paths, filtered as a get
 *   get_instances  GetParameterNames of each object path (NextLevel =
 *             first_level_only): the object names below it ending in an
 *             instance number, unique_keys empty
 * Search expressions ([Alias=="x"], any usp_path condition) in a get: the
 * table before the first one is read and the conditions are evaluated on
 * its values (CWMP has none). Elsewhere (set, add, delete, attributes)
 * they end the task with 7004, as do paths no CPE can be asked; any other
 * op and commands without a CWMP method with 7001 (no CWMP meaning).
 * A CWMP fault ends it with the fault's own code (9000..9032) and text.
 */
#ifndef USPC_ACS_MAP_H
#define USPC_ACS_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "cwmp_msg.h"

#define ACS_GPV_BATCH 32 /* names per GetParameterValues */

struct acs_run;

struct acs_run_outcome {
	int failed;
	uint32_t error_code; /* 7xxx (uspc) or 9xxx (the CPE's fault) */
	char error_message[256];
	char *result_json; /* USP response shape; NULL when failed */
	/* snapshot rows (full path, value) to store */
	struct cwmp_param_value *rows;
	size_t n_rows;
	/* object paths deleted (snapshot prefixes to drop) */
	char **deleted;
	size_t n_deleted;
	/* an asynchronous command the CPE accepted (Reboot, FactoryReset,
	 * Download): operation_results gets a 'requested' row */
	int oper_requested;
	char oper_command_key[CWMP_MAX_STR + 1];
	char oper_obj_path[CWMP_MAX_STR + 1];
	char oper_command_name[64];
	int oper_async_done; /* Download with Status 0: complete at once */
};

/* A run for task id. NULL with errbuf set and *code the task's error code
 * when the op or request has no CWMP meaning (end the task failed). */
struct acs_run *acs_run_new(int64_t id, const char *op, const char *request_json, uint32_t *code,
			    char *errbuf, size_t errlen);
void acs_run_free(struct acs_run *r);

/* A TR-098 device (its Inform names InternetGatewayDevice. parameters):
 * the request's paths under Device. go to it under ACS_TR098_ROOT, and
 * the result names them under Device. again, so campaigns, profiles and
 * uspctl address both models' common objects (DeviceInfo,
 * ManagementServer, Time, ...) alike. Paths given under ACS_TR098_ROOT
 * stay as they are. Snapshot rows keep the device's own names. Call once,
 * right after acs_run_new. */
#define ACS_TR098_ROOT "InternetGatewayDevice."
void acs_run_set_tr098(struct acs_run *r);

/* 1 when the op never changes the device (may be sent again). */
int acs_run_idempotent(const struct acs_run *r);

/* The full parameter names whose types a Set needs (of an add: the new
 * instance's, in model form), asked before the first acs_run_next: how
 * many there are, the first cap of them into names (which the run owns;
 * valid until the first acs_run_next). Give what is known with
 * acs_run_set_type. */
size_t acs_run_type_names(const struct acs_run *r, const char **names, size_t cap);
void acs_run_set_type(struct acs_run *r, const char *name, const char *type);

/* The next RPC into *out (method and fields; the caller sets ns and the
 * header): 1, or 0 when the run is over (acs_run_outcome). The strings and
 * arrays of *out belong to the run and stay valid until the next call on
 * it: never cwmp_msg_free them. Out of memory ends the run failed. */
int acs_run_next(struct acs_run *r, struct cwmp_msg *out);

/* The CPE's answer to the RPC acs_run_next gave last: a response, or a
 * fault. Anything else is a protocol error and fails the run. */
void acs_run_answer(struct acs_run *r, const struct cwmp_msg *in);

/* 1 once over; the outcome then stays valid until acs_run_free. */
int acs_run_done(const struct acs_run *r);
const struct acs_run_outcome *acs_run_outcome(const struct acs_run *r);

/* Fail the run from outside (session lost, timeout). */
void acs_run_fail(struct acs_run *r, uint32_t code, const char *msg);

/* Model-level parameter path: every instance number replaced by {i}
 * (Device.WiFi.SSID.2.SSID → Device.WiFi.SSID.{i}.SSID). Into buf. */
void acs_model_path(const char *path, char *buf, size_t len);

#endif
