/*
 * core_trim.h — when the core gives the heap's free memory back to the
 * system: once after each burst of traffic (an onboarding storm, a
 * fleet-wide Get), when the rate has fallen to a tenth of the burst's.
 *
 * Why: glibc returns memory to the system only from the top of each heap.
 * A burst leaves free chunks below live ones, and each thread that
 * allocated (Paho's receive thread, the writer) keeps its own arena's
 * free chunks — measured after a 10,000-agent storm, ~3 MB resident but
 * free. malloc_trim(0) gives back every whole free page; pages are reused
 * as they were, so trimming only when the traffic has calmed down costs
 * no throughput (see tests/bench/README.md, "memory").
 *
 * Core thread only (one owner of a struct core_trim).
 */
#ifndef USPC_CORE_TRIM_H
#define USPC_CORE_TRIM_H

#include <stdint.h>

#define CORE_TRIM_WINDOW_MS 1000 /* rates are counted per window */
#define CORE_TRIM_MIN_BURST 1000 /* records in a window that make a burst */
#define CORE_TRIM_CALM_DIV 10    /* calm: a window under peak / this */

struct core_trim {
	int64_t window_end_ms; /* 0: not started */
	uint64_t window_start; /* the count when the window began */
	uint64_t peak;         /* busiest window since the last trim */
};

/*
 * Called on every tick with the core's running count of records (in + out).
 * Returns 1 once per burst: at the end of the first window whose count is
 * under peak / CORE_TRIM_CALM_DIV, after a window of at least
 * CORE_TRIM_MIN_BURST records. Pure: the caller trims (core_trim_heap).
 */
int core_trim_due(struct core_trim *t, int64_t now_ms, uint64_t records);

/* Give free heap pages back (malloc_trim). Returns the bytes of resident
 * memory it released (an estimate from /proc/self/statm; 0 if unknown). */
uint64_t core_trim_heap(void);

#endif
