/*
 * acs_session.h — CWMP sessions: the table of sessions in progress on this
 * node, keyed by a random session id (the cookie), and each session's
 * protocol from InformResponse to the final 204.
 *
 * A session starts with an authenticated Inform (acs_session_begin): the
 * Inform is committed (uspc_cwmp_inform: inventory, events, the device's
 * session lease) before InformResponse goes out. Then the CPE's own
 * requests (TransferComplete, GetRPCMethods, ...) are answered; its empty
 * POST hands the turn to uspc-acs, which claims the device's queued tasks
 * and sends one RPC per HTTP response (acs_map.h), until it has nothing
 * left and answers 204. A session idle for session_idle_s, or older than
 * session_max_s, is ended by the reaper thread: its RPC in flight ends
 * the task 'unknown' (or re-queues it when it was a read), unsent tasks
 * go back to 'queued', and the lease is released.
 *
 * Threads: every function may be called from any HTTP worker thread; one
 * session is handled by one request at a time (a second one at once is
 * refused).
 */
#ifndef USPC_ACS_SESSION_H
#define USPC_ACS_SESSION_H

#include <stddef.h>

#include "acs.h"
#include "cwmp_msg.h"

#define ACS_SID_LEN 32 /* hex digits of a session id (128 random bits) */

struct acs_reply {
	int status; /* HTTP status */
	char *body; /* malloc'd, or NULL (empty) */
	size_t len;
	char sid[ACS_SID_LEN + 1]; /* set: send this session's cookie */
	int retry_after_s;         /* > 0: Retry-After header */
	int close;                 /* close the connection after the reply */
};
void acs_reply_fini(struct acs_reply *r);

struct acs_sessions *acs_sessions_new(struct acs *a);
/* Start the reaper thread: 0, or -1. */
int acs_sessions_start(struct acs_sessions *s);
/* Stop the reaper and end every session (their tasks go back). */
void acs_sessions_free(struct acs_sessions *s);

/* The request of session sid (from the cookie, or the connection the
 * session started on): 1 and *out filled, or 0 when there is no such
 * session on this node. */
int acs_session_request(struct acs *a, const char *sid, const char *body, size_t len,
			struct acs_reply *out);

/* Begin a session for an authenticated Inform of device eid. *out is
 * the InformResponse (with out->sid set), or the refusal (503 with
 * Retry-After when this node is full or another node holds the device's
 * session; 500 when the database failed). */
void acs_session_begin(struct acs *a, const struct cwmp_msg *inform, const char *eid,
		       const char *peer, struct acs_reply *out);

/* A Fault (8xxx) reply in namespace ns answering cwmp:ID id. */
void acs_reply_fault(struct acs_reply *out, enum cwmp_ns ns, const char *id, unsigned code,
		     const char *text);

#endif
