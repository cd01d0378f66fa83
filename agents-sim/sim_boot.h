/*
 * sim_boot.h — Boot!'s ParameterMap (TR-181 Device.Boot!): the
 * values of the parameters a controller lists in its
 * Device.LocalAgent.Controller.{i}.BootParameter.{i} rows, as one JSON
 * object string {"<full path>":"<value>",...}. Loop thread of the agent's
 * worker.
 */
#ifndef USPC_SIM_BOOT_H
#define USPC_SIM_BOOT_H

#include "sim_agent.h"

#define SIM_BOOTMAP_MAX_PARAMS 512 /* parameters in one ParameterMap; the rest are left out */

/*
 * ParameterMap for controller row ctrl. Each enabled BootParameter row's
 * ParameterName may be a parameter path, a partial (object) path — every
 * readable parameter below it — or a search path (wildcards, [...]);
 * unknown or malformed names and write-only parameters contribute nothing.
 * Returns a new string (caller frees; "{}" if nothing matches), or NULL
 * without memory.
 */
char *sim_boot_parameter_map(struct sim_agent *a, struct dm_inst *ctrl);

#endif
