/*
 * sim_fw.h — pure helpers of the simulated firmware procedure: the Name and
 * Version a downloaded image gets from its URL, and which agents a
 * firmware fault (--fw-*-fraction, --single-bank-fraction,
 * --no-activate-fraction) applies to. No state, no I/O; any thread.
 */
#ifndef USPC_SIM_FW_H
#define USPC_SIM_FW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Name of the image at url: drop the query string and fragment ('?', '#'),
 * then the scheme and authority ("scheme://host"), then trailing '/'; the
 * name is the last path segment that remains ("" if none). Writes at most
 * cap-1 bytes and a NUL into name (cap > 0); returns the full length of the
 * name, which may be larger (truncated, like snprintf).
 */
size_t sim_fw_name_from_url(const char *url, char *name, size_t cap);

/*
 * Version of the image at url. From its name (above), drop one trailing
 * extension ".X" when X is not all digits (".bin", ".img", ".tar"; a dot
 * at the start is no extension); the version is the suffix that starts at
 * the first digit that is at the start or follows '-', '_', or a 'v'/'V'
 * that itself is at the start or follows '-'/'_'; with no such digit it is
 * the name without its extension.
 *   sim-gw-2.0.0.bin -> 2.0.0     2.0.0.bin -> 2.0.0     fw-v3.1.img -> 3.1
 *   gw_4.0.0-rc1.bin -> 4.0.0-rc1 firmware.bin -> firmware
 * Writes at most cap-1 bytes and a NUL (cap > 0); returns the full length.
 */
size_t sim_fw_version_from_url(const char *url, char *ver, size_t cap);

/* The firmware faults an agent can be chosen for; each has its own salt,
 * so the sets of agents are independent of each other. */
enum sim_fw_fault {
	SIM_FWF_DOWNLOAD_FAIL, /* --fw-fail-fraction */
	SIM_FWF_ACTIVATE_FAIL, /* --fw-activate-fail-fraction */
	SIM_FWF_BOOT_FAIL,     /* --fw-boot-fail-fraction */
	SIM_FWF_NO_RETURN,     /* --fw-no-return-fraction */
	SIM_FWF_WRONG_VERSION, /* --fw-wrong-version-fraction */
	SIM_FWF_LOSE_BOOT,     /* --fw-lose-boot-fraction */
	SIM_FWF_SINGLE_BANK,   /* --single-bank-fraction */
	SIM_FWF_NO_ACTIVATE,   /* --no-activate-fraction */
	SIM_FWF_COUNT
};

/* The fault's name as in log lines ("boot-fail", ...). */
const char *sim_fw_fault_name(enum sim_fw_fault f);

/* 1 if the agent with this index is in the fraction (0..1) of agents that
 * seed chooses for fault f, else 0. 0 never chooses, 1 always does. */
int sim_fw_fault_chosen(uint64_t seed, uint32_t index, enum sim_fw_fault f, double fraction);

#endif
