/*
 * acs_cr.h — connection requests: waking TR-069 devices that have queued
 * tasks, so they open a session now instead of at their next periodic
 * Inform.
 *
 * One thread with its own PostgreSQL connection. It LISTENs on
 * uspc_task_new (uspctl, the API and the engines notify it when they
 * queue tasks) and also looks every few seconds. Each round picks CWMP
 * devices that have due queued tasks, a ConnectionRequestURL or a UDP
 * connection-request address, no session
 * in progress and no connection request within cr_min_gap_s that is still
 * unanswered (a device that informed since its last one may have another
 * at once), marks them
 * (cr_sent_at, FOR UPDATE SKIP LOCKED, so several uspc-acs nodes split
 * the work) and sends each an HTTP GET with libcurl, which answers the
 * CPE's Digest (or Basic) challenge with the device's connection-request
 * credentials (acs_auth.h); a device that reported a
 * UDPConnectionRequestAddress (behind NAT, with STUN) gets a signed UDP
 * connection request there instead (TR-069 Annex G, three datagrams of
 * one message, acs_udp_cr_build). At most cr_concurrency are in flight. Only
 * http and https URLs are followed, never a redirect. A refusal or no
 * answer is recorded in cwmp_devices.cr_error; the tasks then wait for
 * the device's next periodic Inform, as they would without a request.
 */
#ifndef USPC_ACS_CR_H
#define USPC_ACS_CR_H

#include "acs.h"

struct acs_cr;

/* NULL when the thread cannot start (msg says why). */
struct acs_cr *acs_cr_start(struct acs *a, char *msg, size_t cap);
void acs_cr_stop(struct acs_cr *c);

#endif
