/*
 * core_rejmap.h — rejected records counted per (sender, reason) between two
 * flushes to the store's `rejections` table (core_rejections.c). A flood of
 * bad records becomes one counter per sender and reason, never one row
 * write per record.
 *
 * Bounded: at most max_keys distinct (sender, reason) keys; a rejection of
 * a new sender past that is counted in its reason's CORE_REJ_MANY row
 * (at most CORE_REJ_REASONS_MAX of those). Memory grows with the keys in
 * use, up to about (max_keys + CORE_REJ_REASONS_MAX) KiB.
 *
 * Sender, topic and detail come from peers: they are copied through
 * core_rej_clean (length capped at a character boundary, invalid UTF-8 and
 * control characters replaced by '?').
 *
 * Pure: no I/O, no clock, no logging. One owner (the core thread).
 */
#ifndef USPC_CORE_REJMAP_H
#define USPC_CORE_REJMAP_H

#include <stddef.h>
#include <stdint.h>

#define CORE_REJ_SENDER_MAX 256        /* bytes of a sender kept */
#define CORE_REJ_TOPIC_MAX 512         /* bytes of a topic kept */
#define CORE_REJ_DETAIL_MAX 256        /* bytes of a detail kept */
#define CORE_REJ_KEYS_DEFAULT 1000     /* distinct keys per flush interval */
#define CORE_REJ_REASONS_MAX 64        /* overflow rows, one per reason */
#define CORE_REJ_MANY "(many senders)" /* the sender of an overflow row */

struct core_rej_entry {
	const char *reason; /* borrowed: a static string */
	char sender[CORE_REJ_SENDER_MAX + 1];
	char topic[CORE_REJ_TOPIC_MAX + 1];   /* the last one seen ("" none) */
	char detail[CORE_REJ_DETAIL_MAX + 1]; /* the last one seen */
	uint64_t count;
	int64_t first_us, last_us; /* the caller's clock */
	int many;                  /* a CORE_REJ_MANY row */
};

struct core_rejmap;

/* max_keys 0 → CORE_REJ_KEYS_DEFAULT. NULL when out of memory. */
struct core_rejmap *core_rejmap_new(size_t max_keys);
void core_rejmap_free(struct core_rejmap *m);

/*
 * Count one rejection at now_us. reason must outlive the map (a static
 * string); sender, topic and detail are borrowed and may be NULL (sender:
 * "(unknown)"). Returns 0 when counted in the sender's own row, 1 when in
 * the reason's CORE_REJ_MANY row (the key cap was reached), -1 when not
 * counted (out of memory, or more than CORE_REJ_REASONS_MAX reasons
 * overflowing at once): core_rejmap_lost() counts those.
 */
int core_rejmap_note(struct core_rejmap *m, const char *reason, const char *sender,
		     const char *topic, const char *detail, int64_t now_us);

/* The rows, in the order their keys were first seen. */
size_t core_rejmap_len(const struct core_rejmap *m);
const struct core_rej_entry *core_rejmap_at(const struct core_rejmap *m, size_t i);

/* The first n rows were handed on: remove them. The others keep their
 * counts and order, and go on counting (they still take up keys). */
void core_rejmap_drop(struct core_rejmap *m, size_t n);

/* Rejections not counted in any row (see core_rejmap_note). */
uint64_t core_rejmap_lost(const struct core_rejmap *m);

/*
 * Copy untrusted text s (NULL: "") into dst of cap bytes (cap >= 1): at
 * most cap - 1 bytes, cut at a character boundary; every byte of an invalid
 * UTF-8 sequence (overlong forms and surrogates included) and every control
 * character (C0, DEL, C1) becomes '?'. Returns the length written.
 */
size_t core_rej_clean(char *dst, size_t cap, const char *s);

#endif
