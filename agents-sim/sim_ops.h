/*
 * sim_ops.h — the agent's commands: sync and async Operate, the
 * Device.LocalAgent.Request.{i}. rows of running async commands,
 * Request.{i}.Cancel(), firmware Download()/Activate() (with configurable
 * duration and failures, TransferComplete! and OperationComplete),
 * Reboot(), FactoryReset(), IPPing() and generic model-defined commands;
 * what a boot does with the firmware banks, and the firmware faults
 * (--fw-*-fraction, --single-bank-fraction, --no-activate-fraction).
 * Loop thread of the agent's worker.
 */
#ifndef USPC_SIM_OPS_H
#define USPC_SIM_OPS_H

#include "sim_fw.h"
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

/* After a boot: report the Activate() that caused it (if any): success if
 * the activated image is the one running now, else cmd_failure 7022. */
void sim_ops_after_boot(struct sim_agent *a);

/* Is firmware fault f chosen for agent a (its fraction option, --seed and
 * the agent's index)? 1 or 0. */
int sim_ops_fw_fault(const struct sim_agent *a, enum sim_fw_fault f);

/* Is command cmd absent from agent a's supported data model? (Activate()
 * on agents of --no-activate-fraction.) 1 or 0. */
int sim_ops_cmd_hidden(const struct sim_agent *a, uint16_t cmd);

/* The FirmwareImage row that ref names ("Device.DeviceInfo.FirmwareImage.2",
 * a trailing '.' allowed), or NULL. */
struct dm_inst *sim_ops_fw_bank(struct sim_agent *a, const char *ref);

/* --single-bank-fraction agents: delete every FirmwareImage row but the
 * one ActiveFirmwareImage names (after building the factory tree or
 * loading state); BootFirmwareImage then names it too. */
void sim_ops_fw_prune(struct sim_agent *a);

enum sim_fw_boot {
	SIM_FWB_NONE,   /* the running image boots again */
	SIM_FWB_BOOTED, /* the new image runs (FirmwareUpdated=true) */
	SIM_FWB_FAILED, /* it did not boot: the old one runs, BootFailureLog set */
	SIM_FWB_GONE,   /* --fw-no-return-fraction: the agent never comes back */
};

/*
 * The firmware part of a boot: if BootFirmwareImage names a row whose
 * Status is Available (a valid image that is not running) and Available is
 * true, run it: that row becomes Active, ActiveFirmwareImage names it and
 * SoftwareVersion is its Version; with the agent's faults it fails
 * instead (boot-fail, activate-fail), reports Version-rc0
 * (wrong-version), stays down (no-return; not when power_on, the
 * simulator's start) or will send no Boot! (lose-boot). Sets
 * a->boot_fw_updated. Call with a->boot_pending set.
 */
enum sim_fw_boot sim_ops_fw_boot(struct sim_agent *a, int power_on);

#endif
