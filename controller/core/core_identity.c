/*
 * core_identity.c — topic identity levels (see core_identity.h). Owns no
 * state. Every comparison is bounded by the strings' own lengths; topics
 * come from the network (at most MQTT_MTP_MAX_TOPIC bytes, NUL-free, as the
 * transport guarantees) and are never modified.
 */
#include "core_identity.h"

#include <string.h>

#include "usp_err.h"

/* If topic is prefix or lies below it, return what follows the prefix
 * ("" for the prefix itself, "/..." below it); else NULL. */
static const char *below(const char *topic, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	if (n == 0 || strncmp(topic, prefix, n) != 0)
		return NULL;
	if (topic[n] == '\0' || topic[n] == '/')
		return topic + n;
	return NULL;
}

static int split_rest(const char *rest, struct core_topic_id *out)
{
	if (*rest == '\0')
		return 0; /* bare topic */
	const char *id = rest + 1;
	const char *slash = strchr(id, '/');
	size_t len = slash ? (size_t)(slash - id) : strlen(id);
	if (len == 0)
		return USPC_E_INVAL;
	if (slash) {
		const char *next = slash + 1;
		/* One more level only: a 3.1.1 sender's "reply-to=<topic>". Its
		 * topic is %2F-encoded, so it holds no '/'. */
		if (strncmp(next, "reply-to=", 9) != 0 || strchr(next, '/'))
			return USPC_E_INVAL;
	}
	out->id = id;
	out->id_len = len;
	return 0;
}

int core_identity_parse(const char *topic, const char *controller_topic, const char *reply_topic,
			struct core_topic_id *out)
{
	const char *rest;
	out->kind = CORE_TOPIC_OTHER;
	out->id = NULL;
	out->id_len = 0;
	if (!topic)
		return USPC_E_INVAL;
	/* The reply topic usually lies below the controller topic: test it first. */
	if ((rest = below(topic, reply_topic))) {
		out->kind = CORE_TOPIC_REPLY;
		return split_rest(rest, out);
	}
	if ((rest = below(topic, controller_topic))) {
		out->kind = CORE_TOPIC_CONTROLLER;
		/* A 3.1.1 agent's suffix on the bare controller topic. */
		if (strncmp(rest, "/reply-to=", 10) == 0 && !strchr(rest + 1, '/'))
			return 0;
		return split_rest(rest, out);
	}
	return 0;
}

const char *core_identity_check(const struct core_topic_id *t, const char *from_id, int required)
{
	if (!t->id)
		return required ? "identity_missing" : NULL;
	if (!from_id || strlen(from_id) != t->id_len || memcmp(from_id, t->id, t->id_len) != 0)
		return "identity_mismatch";
	return NULL;
}

int core_identity_agent_topic(const char *tmpl, const char *eid, char *buf, size_t cap)
{
	const char *e = strstr(tmpl, "%e");
	if (!e) {
		size_t n = strlen(tmpl);
		if (n + 1 > cap)
			return USPC_E_TOOLONG;
		memcpy(buf, tmpl, n + 1);
		return 0;
	}
	size_t pre = (size_t)(e - tmpl), el = strlen(eid), post = strlen(e + 2);
	if (pre + el + post + 1 > cap)
		return USPC_E_TOOLONG;
	memcpy(buf, tmpl, pre);
	memcpy(buf + pre, eid, el);
	memcpy(buf + pre + el, e + 2, post + 1);
	return 0;
}
