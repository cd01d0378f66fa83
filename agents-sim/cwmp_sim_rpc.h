/*
 * cwmp_sim_rpc.h — how a simulated CPE answers the ACS's requests from its
 * data model (sim_dm.h over the shared TR-181 model): GetParameterValues,
 * GetParameterNames, Get/SetParameterAttributes, SetParameterValues,
 * AddObject, DeleteObject, GetRPCMethods, and the acceptance of Reboot,
 * FactoryReset and Download (their effects are the caller's: the action
 * out-parameter says what to do once the session ends). No I/O; the
 * request and response are codec structs (controller/cwmp/cwmp_msg.h).
 * Loop thread of the CPE's worker.
 *
 * Parameter types are the model's (sm_param.type), written with the xsd
 * names the model file uses (string, unsignedInt, boolean, dateTime, ...).
 * Paths are TR-069 names: a parameter ("Device.WiFi.SSID.1.SSID"), a
 * partial path ending in '.' ("Device.WiFi.", "Device.WiFi.SSID." for a
 * table), or "" for the whole tree; no wildcards or search expressions.
 */
#ifndef USPC_CWMP_SIM_RPC_H
#define USPC_CWMP_SIM_RPC_H

#include <stdint.h>

#include "cwmp_msg.h"
#include "sim_dm.h"

/* Notification attributes a CPE holds (parameters set to non-zero by
 * SetParameterAttributes), by full parameter path. */
struct cwmp_sim_attr {
	char *name;
	uint8_t notification; /* 1 passive, 2 active */
};
struct cwmp_sim_attrs {
	struct cwmp_sim_attr *v;
	size_t n, cap;
};
void cwmp_sim_attrs_clear(struct cwmp_sim_attrs *a);
/* Notification of a parameter (0 when not set). */
int cwmp_sim_attrs_get(const struct cwmp_sim_attrs *a, const char *name);

/* One CPE's model as the handlers see it (everything borrowed). */
struct cwmp_sim_dmref {
	struct sim_dm *dm;
	const struct sim_dm_env *env;
	struct cwmp_sim_attrs *attrs;
};

enum cwmp_sim_act {
	CWMP_SIM_ACT_NONE,
	CWMP_SIM_ACT_REBOOT, /* key = CommandKey */
	CWMP_SIM_ACT_FACTORY_RESET,
	CWMP_SIM_ACT_DOWNLOAD, /* dl */
};

/* What the request asks the CPE to do beyond the answer (caller frees
 * with cwmp_sim_action_fini). */
struct cwmp_sim_action {
	enum cwmp_sim_act act;
	char *key;
	struct cwmp_download dl; /* DOWNLOAD: owned copies */
	int mgmt_changed;        /* a Device.ManagementServer. value was set */
};
void cwmp_sim_action_fini(struct cwmp_sim_action *a);

/*
 * Answer req (an ACS request) into *resp: the method's response, or
 * CWMP_M_FAULT with the CPE fault (9000 method not supported, 9003 with
 * SetParameterValuesFault entries, 9004, 9005, 9006, 9007, 9008, 9009,
 * 9013). resp gets req's namespace and cwmp:ID; its strings are malloc'd
 * (cwmp_msg_free). A SetParameterValues or Set/Add/Delete that faults
 * changes nothing. Returns 0, or -1 without memory (resp freed).
 */
int cwmp_sim_rpc_answer(struct cwmp_sim_dmref *d, const struct cwmp_msg *req, struct cwmp_msg *resp,
			struct cwmp_sim_action *act);

/* The xsd type name of a model type ("unsignedInt"). */
const char *cwmp_sim_xsd_type(uint8_t sm_type);

/* Value of a parameter by full path into buf (write-only ones too: this
 * is the CPE's own read, not the ACS's).
 * 0, or -1 if there is no such parameter. */
int cwmp_sim_rpc_get(struct cwmp_sim_dmref *d, const char *name, char *buf, size_t cap,
		     uint16_t *param);
/* Store a value by full path (no checks). 0 or -1. */
int cwmp_sim_rpc_set(struct cwmp_sim_dmref *d, const char *name, const char *value);

#endif
