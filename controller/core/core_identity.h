/*
 * core_identity.h — which agent a record may speak for, from the MQTT topic
 * it arrived on. The broker's ACL lets each agent publish only under a topic
 * level equal to its own identity (certificate CN or user name, which is its
 * USP Endpoint ID):
 *
 *     <controller_topic>/<EID>                  notifications, connect records
 *     <reply_topic>/<EID>                       responses to this daemon
 *     ...either of them + "/reply-to=<topic>"   the same from MQTT 3.1.1 agents
 *
 * A record is accepted only when its from_id equals that level. Records on
 * the bare controller or reply topic carry no identity: they are refused
 * when identity is required, and accepted unchecked when it is optional
 * (a development broker without authentication).
 *
 * Pure functions: no I/O, no state; fuzzed (tests/fuzz/fuzz_identity.c).
 */
#ifndef USPC_CORE_IDENTITY_H
#define USPC_CORE_IDENTITY_H

#include <stddef.h>

enum core_topic_kind {
	CORE_TOPIC_OTHER,      /* neither ours (e.g. a broker-assigned subscribe-topic) */
	CORE_TOPIC_CONTROLLER, /* the controller topic or below it */
	CORE_TOPIC_REPLY,      /* this daemon's reply topic or below it */
};

struct core_topic_id {
	enum core_topic_kind kind;
	const char *id; /* the identity level inside the topic; NULL on a bare topic */
	size_t id_len;
};

/*
 * Split topic (as received, a 3.1.1 "/reply-to=" level included) against the
 * daemon's two topics. 0 with *out filled, or USPC_E_INVAL when topic is
 * NULL, or lies below one of them but is not "<prefix>/<id>" optionally
 * followed by one "reply-to=..." level (an empty level, more levels,
 * anything else).
 * out->id points into topic.
 */
int core_identity_parse(const char *topic, const char *controller_topic, const char *reply_topic,
			struct core_topic_id *out);

/*
 * Whether a record with this from_id may be taken from a topic parsed as t.
 * NULL when it may; otherwise the rejection reason, a static string:
 * "identity_mismatch" (the topic names another identity),
 * "identity_missing" (a bare topic while identity is required).
 */
const char *core_identity_check(const struct core_topic_id *t, const char *from_id, int required);

/* Expand an agent topic template ("%e" → eid) into buf. 0, or
 * USPC_E_TOOLONG when it does not fit cap. */
int core_identity_agent_topic(const char *tmpl, const char *eid, char *buf, size_t cap);

#endif
