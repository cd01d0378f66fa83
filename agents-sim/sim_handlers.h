/*
 * sim_handlers.h — one function per USP request type the simulated agent
 * answers. Each takes the decoded request (borrowed) and returns a new
 * response or Error Msg (caller: usp_msg_free), or NULL when no response
 * is due (Operate with send_resp=false). Loop thread of the agent's worker.
 * Files: sim_h_read.c (Get, GetInstances, GetSupportedProtocol),
 * sim_h_gsdm.c (GetSupportedDM), sim_h_set.c (Set), sim_h_add.c (Add,
 * Delete), sim_h_operate.c (Operate).
 */
#ifndef USPC_SIM_HANDLERS_H
#define USPC_SIM_HANDLERS_H

#include "sim_agent.h"

#define SIM_SUPPORTED_PROTOCOLS "1.0,1.1,1.2,1.3,1.4"
#define SIM_DM_INST_URI "urn:broadband-forum-org:tr-181-2-19-1-usp"

struct sim_req {
	struct sim_agent *a;
	const Usp__Msg *msg;
	const char *from;     /* requesting controller's EID */
	struct dm_inst *ctrl; /* its Device.LocalAgent.Controller.{i} row */
	struct sim_dm_env env;
};

Usp__Msg *sim_handle_get(struct sim_req *r);
Usp__Msg *sim_handle_get_instances(struct sim_req *r);
Usp__Msg *sim_handle_get_supported_protocol(struct sim_req *r);
Usp__Msg *sim_handle_get_supported_dm(struct sim_req *r);
Usp__Msg *sim_handle_set(struct sim_req *r);
Usp__Msg *sim_handle_add(struct sim_req *r);
Usp__Msg *sim_handle_delete(struct sim_req *r);
Usp__Msg *sim_handle_operate(struct sim_req *r);

/* Shared helpers (sim_h_read.c). */
/* Error Msg answering r; NULL only without memory. */
Usp__Msg *sim_error_msg(struct sim_req *r, uint32_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Parse text; on failure fill code (7008) and msg. */
int sim_parse_path(const char *text, struct usp_path *p, char *msg, size_t cap);
/* Put the unique keys of instance inst into parent's map field member. */
int sim_put_unique_keys(struct sim_req *r, struct dm_inst *inst, ProtobufCMessage *parent,
			const char *member);
/* The same into the map unique_keys of a typed parent (see USP_PB_MAP_PUT). */
#define SIM_PUT_UNIQUE_KEYS(r, inst, parent)  \
	((void)sizeof((parent)->unique_keys), \
	 sim_put_unique_keys((r), (inst), &(parent)->base, "unique_keys"))
/* Full path of param p as seen in inst. */
int sim_param_path(const struct sim_model *m, const struct dm_inst *inst, uint16_t p, char *buf,
		   size_t cap);

#endif
