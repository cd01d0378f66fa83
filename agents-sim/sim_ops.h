/*
 * sim_ops.h — the agent's commands: sync and async Operate, the
 * Device.LocalAgent.Request.{i}. rows of running async commands,
 * Request.{i}.Cancel(), firmware Download()/Activate() (with configurable
 * duration and failures, TransferComplete! and OperationComplete),
 * Reboot(), FactoryReset(), IPPing() and generic model-defined commands.
 * Loop thread of the agent's worker.
 */
#ifndef USPC_SIM_OPS_H
#define USPC_SIM_OPS_H

#include "sim_handlers.h"

/*
 * Run command cmd of the object (inst, obj) for request r and fill res
 * (req_output_args, req_obj_path or cmd_failure). cmd_path is the concrete
 * command path. Returns 0, or -1 when memory ran out.
 */
int sim_ops_invoke(struct sim_req *r, struct dm_inst *inst, uint16_t obj, uint16_t cmd,
		   const char *cmd_path, const Usp__Operate *op,
		   Usp__OperateResp__OperationResult *res);

/* Forget every running command (reboot, stop): timers off, rows removed. */
void sim_ops_clear(struct sim_agent *a);

/* After a boot: report the Activate() that caused it (if any). */
void sim_ops_after_boot(struct sim_agent *a);

#endif
