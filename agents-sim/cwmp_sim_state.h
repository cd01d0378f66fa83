/*
 * cwmp_sim_state.h — what a simulated CPE keeps across a restart of the
 * simulator with --state-dir: that it has bootstrapped (the file exists),
 * the values stored in its root instance (Device.ManagementServer.*
 * settings an ACS made, ParameterKey, the SoftwareVersion a download
 * installed, ...) and a TransferComplete not yet delivered. Table
 * instances and notification attributes are not kept. One text file per
 * CPE, replaced atomically (write + rename). Loop thread of the worker.
 */
#ifndef USPC_CWMP_SIM_STATE_H
#define USPC_CWMP_SIM_STATE_H

#include "cwmp_sim_cpe.h"

/* 0 loaded, 1 none (a first start, or no --state-dir), -1 unreadable
 * (logged; treated as a first start by the caller). */
int cwmp_sim_state_load(struct cwmp_cpe *c);
/* Write now (no-op without --state-dir). 0 or -1 (logged). */
int cwmp_sim_state_save(struct cwmp_cpe *c);
/* Forget it (factory reset). */
void cwmp_sim_state_remove(struct cwmp_cpe *c);

#endif
