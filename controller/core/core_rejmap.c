/*
 * core_rejmap.c — the bounded per-(sender, reason) counters of rejected
 * records (core_rejmap.h).
 *
 * Owns: a dense array of rows (grown by doubling up to max_keys +
 * CORE_REJ_REASONS_MAX) and an open-addressing index of row numbers over
 * (reason, sender, many), linear probing, at most half full. Dropping rows
 * rebuilds the index.
 * Invariants: n_plain <= max_keys, n_many <= CORE_REJ_REASONS_MAX; every
 * stored string is the output of core_rej_clean; each key is in one row.
 * One owner thread; no I/O.
 */
#include "core_rejmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct core_rejmap {
	struct core_rej_entry *e;
	size_t n, cap, max_entries;
	size_t max_keys, n_plain, n_many;
	uint32_t *slot; /* row number + 1; 0: empty */
	size_t nslots;  /* a power of two, >= 2 * max_entries */
	uint64_t lost;
};

/* ---- untrusted text ------------------------------------------------------ */

static int cont(unsigned char c)
{
	return c >= 0x80 && c <= 0xbf;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. p is NUL-terminated:
 * a continuation byte is never NUL, so no byte past the end is read. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return cont(p[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		return p[1] >= lo && p[1] <= hi && cont(p[2]) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		return p[1] >= lo && p[1] <= hi && cont(p[2]) && cont(p[3]) ? 4 : 0;
	}
	return 0;
}

static int is_control(const unsigned char *p, size_t len)
{
	if (len == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	return len == 2 && p[0] == 0xc2 && p[1] < 0xa0; /* C1: U+0080..U+009F */
}

size_t core_rej_clean(char *dst, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;
	while (*p) {
		size_t len = utf8_seq(p);
		if (len == 0 || is_control(p, len)) {
			if (o + 1 >= cap)
				break;
			dst[o++] = '?';
			p += len ? len : 1;
			continue;
		}
		if (o + len >= cap)
			break;
		memcpy(dst + o, p, len);
		o += len;
		p += len;
	}
	dst[o] = '\0';
	return o;
}

/* ---- the map --------------------------------------------------------------- */

static uint64_t key_hash(const char *reason, const char *sender, int many)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)many;
	for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* a byte no UTF-8 text has */
	for (const unsigned char *p = (const unsigned char *)sender; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h ^ (h >> 29);
}

struct core_rejmap *core_rejmap_new(size_t max_keys)
{
	struct core_rejmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max_keys = max_keys ? max_keys : CORE_REJ_KEYS_DEFAULT;
	m->max_entries = m->max_keys + CORE_REJ_REASONS_MAX;
	m->nslots = 64;
	while (m->nslots < 2 * m->max_entries)
		m->nslots *= 2;
	m->slot = calloc(m->nslots, sizeof(*m->slot));
	if (!m->slot) {
		free(m);
		return NULL;
	}
	return m;
}

void core_rejmap_free(struct core_rejmap *m)
{
	if (!m)
		return;
	free(m->e);
	free(m->slot);
	free(m);
}

/* The index slot holding the key, or the empty slot where it would go. */
static size_t find_slot(const struct core_rejmap *m, const char *reason, const char *sender,
			int many)
{
	size_t mask = m->nslots - 1;
	size_t i = (size_t)key_hash(reason, sender, many) & mask;
	for (;; i = (i + 1) & mask) {
		uint32_t s = m->slot[i];
		if (s == 0)
			return i;
		const struct core_rej_entry *e = &m->e[s - 1];
		if (e->many == many && strcmp(e->reason, reason) == 0 &&
		    strcmp(e->sender, sender) == 0)
			return i;
	}
}

/* A new row for the key at index slot i; NULL when out of memory. */
static struct core_rej_entry *add_row(struct core_rejmap *m, size_t i, const char *reason,
				      const char *sender, int many, int64_t now_us)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		if (cap > m->max_entries)
			cap = m->max_entries;
		struct core_rej_entry *g = realloc(m->e, cap * sizeof(*g));
		if (!g)
			return NULL;
		m->e = g;
		m->cap = cap;
	}
	struct core_rej_entry *e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	e->reason = reason;
	e->many = many;
	snprintf(e->sender, sizeof(e->sender), "%s", sender); /* already clean */
	e->first_us = e->last_us = now_us;
	m->slot[i] = (uint32_t)++m->n;
	if (many)
		m->n_many++;
	else
		m->n_plain++;
	return e;
}

/* The row of (reason, sender, many), made if there is room; NULL if not. */
static struct core_rej_entry *row(struct core_rejmap *m, const char *reason, const char *sender,
				  int many, int64_t now_us)
{
	size_t i = find_slot(m, reason, sender, many);
	if (m->slot[i])
		return &m->e[m->slot[i] - 1];
	if (many ? m->n_many >= CORE_REJ_REASONS_MAX : m->n_plain >= m->max_keys)
		return NULL;
	return add_row(m, i, reason, sender, many, now_us);
}

int core_rejmap_note(struct core_rejmap *m, const char *reason, const char *sender,
		     const char *topic, const char *detail, int64_t now_us)
{
	char who[CORE_REJ_SENDER_MAX + 1];
	if (core_rej_clean(who, sizeof(who), sender) == 0)
		snprintf(who, sizeof(who), "(unknown)");
	int many = 0;
	struct core_rej_entry *e = row(m, reason, who, 0, now_us);
	if (!e) {
		many = 1;
		e = row(m, reason, CORE_REJ_MANY, 1, now_us);
	}
	if (!e) {
		m->lost++;
		return -1;
	}
	e->count++;
	if (now_us < e->first_us)
		e->first_us = now_us;
	if (now_us >= e->last_us) {
		e->last_us = now_us;
		if (topic)
			core_rej_clean(e->topic, sizeof(e->topic), topic);
		if (!many) {
			core_rej_clean(e->detail, sizeof(e->detail), detail);
		} else {
			/* which sender, as the detail of the overflow row */
			char raw[CORE_REJ_SENDER_MAX + 3 + CORE_REJ_DETAIL_MAX];
			snprintf(raw, sizeof(raw), "%s: %s", who, detail ? detail : "");
			core_rej_clean(e->detail, sizeof(e->detail), raw);
		}
	}
	return many;
}

size_t core_rejmap_len(const struct core_rejmap *m)
{
	return m ? m->n : 0;
}

const struct core_rej_entry *core_rejmap_at(const struct core_rejmap *m, size_t i)
{
	return m && i < m->n ? &m->e[i] : NULL;
}

void core_rejmap_drop(struct core_rejmap *m, size_t n)
{
	if (!m || n == 0)
		return;
	if (n > m->n)
		n = m->n;
	memmove(m->e, m->e + n, (m->n - n) * sizeof(*m->e));
	m->n -= n;
	m->n_plain = m->n_many = 0;
	memset(m->slot, 0, m->nslots * sizeof(*m->slot));
	for (size_t k = 0; k < m->n; k++) {
		struct core_rej_entry *e = &m->e[k];
		m->slot[find_slot(m, e->reason, e->sender, e->many)] = (uint32_t)(k + 1);
		if (e->many)
			m->n_many++;
		else
			m->n_plain++;
	}
}

uint64_t core_rejmap_lost(const struct core_rejmap *m)
{
	return m ? m->lost : 0;
}
