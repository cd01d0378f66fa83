/*
 * sim_subs.h — Device.LocalAgent.Subscription.{i}. for one agent: which
 * subscriptions a change matches (ValueChange, ObjectCreation,
 * ObjectDeletion, OperationComplete, Event), the Notify messages they send
 * to their recipient controller, NotifRetry with the TR-369 retry schedule
 * until NotifyResp, TimeToLive, and Device.LocalAgent.Periodic!.
 * Loop thread of the agent's worker.
 */
#ifndef USPC_SIM_SUBS_H
#define USPC_SIM_SUBS_H

#include <stddef.h>
#include <stdint.h>

#include "sim_agent.h"

#define SIM_MAX_PENDING_NOTIFS 64 /* per agent; the oldest is dropped beyond */

/* kv: n pairs as key0, value0, key1, value1, ... (borrowed). */
void sim_subs_value_change(struct sim_agent *a, const struct dm_inst *inst, uint16_t param,
			   const char *value);
void sim_subs_obj_creation(struct sim_agent *a, struct dm_inst *inst);
/* Call before the instance is deleted: search expressions in reference
 * lists are evaluated on its values. */
void sim_subs_obj_deletion(struct sim_agent *a, const char *inst_path);
void sim_subs_event(struct sim_agent *a, const char *obj_path, const char *event_name,
		    const char *const *kv, size_t n);
/* Device.Boot! with args kv plus, per recipient, ParameterMap built from
 * that controller's BootParameter table (sim_boot.h). */
void sim_subs_boot(struct sim_agent *a, const char *const *kv, size_t n);
/* err_code 0: success with outputs kv; else cmd_failure. */
void sim_subs_oper_complete(struct sim_agent *a, const char *obj_path, const char *cmd_name,
			    const char *key, const char *const *kv, size_t n, uint32_t err_code,
			    const char *err_msg);
/* A NotifyResp arrived: stop retrying msg_id. */
void sim_subs_notify_resp(struct sim_agent *a, const char *msg_id);
/* Drop every pending retry (reboot, stop). */
void sim_subs_clear(struct sim_agent *a);
/* Once a second: TimeToLive expiry and Periodic! events. */
void sim_subs_tick(struct sim_agent *a);
/* Subscriptions or controllers changed: recompute the periodic schedule. */
void sim_subs_changed(struct sim_agent *a);
/* Evaluate search expression expr ("[...]", expr_len bytes) on the
 * instance whose path is the first inst_len bytes of inst_path: 1 or 0. */
typedef int (*sim_subs_expr_fn)(void *ctx, const char *inst_path, size_t inst_len, const char *expr,
				size_t expr_len);
/* Does reference list entry ref cover the concrete path? Segment-wise;
 * '*' and '{i}' match any instance number, '[...]' an instance for which
 * expr says 1 (expr NULL: any instance). A ref ending in '.' also covers
 * everything below it. Pure (exported for tests). */
int sim_subs_ref_match(const char *ref, const char *path, sim_subs_expr_fn expr, void *ctx);

#endif
