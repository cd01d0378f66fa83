/*
 * fuzz_identity.c — libFuzzer target for the daemon's inbound record path up
 * to the identity check: a topic (the input up to the first '\n', as the
 * transport hands it over: NUL-free) and a USP Record (the rest) go through
 * usp_record_unwrap, then core_identity_parse and core_identity_check, as
 * core_inbound.c does, in both identity modes.
 *
 * Invariants checked (abort on violation): an identity level lies inside
 * the topic and is non-empty; a record is accepted with an identity only
 * when its from_id is exactly that level; a bare topic is accepted only
 * when identity is optional; a rejection is one of the documented reasons.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_identity.h"
#include "usp_record.h"

#define CTL "usp/controller/self::uspc"
#define REPLY "usp/controller/self::uspc/reply/n1"

static void check_mode(const char *topic, const char *from_id, int required)
{
	struct core_topic_id t;
	if (core_identity_parse(topic, CTL, REPLY, &t) != 0)
		return; /* identity_bad_topic */
	if (t.id) {
		size_t tl = strlen(topic);
		if (t.id < topic || t.id + t.id_len > topic + tl || t.id_len == 0 ||
		    memchr(t.id, '/', t.id_len))
			abort();
	}
	const char *why = core_identity_check(&t, from_id, required);
	if (!why) {
		if (t.id && (strlen(from_id) != t.id_len || memcmp(from_id, t.id, t.id_len)))
			abort();
		if (!t.id && required)
			abort();
	} else if (strcmp(why, "identity_mismatch") && strcmp(why, "identity_missing")) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size < 1100 ? size : 1100);
	if (!nl)
		return 0;
	size_t tlen = (size_t)(nl - data);
	char *topic = malloc(tlen + 1);
	if (!topic)
		return 0;
	for (size_t i = 0; i < tlen; i++)
		topic[i] = data[i] ? (char)data[i] : '?';
	topic[tlen] = '\0';
	struct usp_record_limits lim = { .max_record_size = 65536 };
	UspRecord__Record *rec = NULL;
	struct uspc_err err;
	const uint8_t *body = nl + 1;
	size_t blen = size - tlen - 1;
	if (usp_record_unwrap(body, blen, &lim, &rec, &err) == 0) {
		check_mode(topic, rec->from_id, 1);
		check_mode(topic, rec->from_id, 0);
		usp_record_free(rec);
	}
	/* The topic checks alone, with the topic's own last level as from_id. */
	const char *last = strrchr(topic, '/');
	check_mode(topic, last ? last + 1 : topic, 1);
	free(topic);
	return 0;
}
