/*
 * core_trim.c — the burst detector that decides when the core trims the
 * heap, and the trim itself (core_trim.h).
 *
 * Core thread only. Invariant: peak is 0 right after a trim, so one burst
 * leads to one trim however long the calm lasts.
 */
#include "core_trim.h"

#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

int core_trim_due(struct core_trim *t, int64_t now_ms, uint64_t records)
{
	if (t->window_end_ms == 0) {
		t->window_end_ms = now_ms + CORE_TRIM_WINDOW_MS;
		t->window_start = records;
		return 0;
	}
	if (now_ms < t->window_end_ms)
		return 0;
	uint64_t n = records - t->window_start;
	t->window_start = records;
	t->window_end_ms = now_ms + CORE_TRIM_WINDOW_MS;
	if (n > t->peak)
		t->peak = n;
	if (t->peak < CORE_TRIM_MIN_BURST || n * CORE_TRIM_CALM_DIV >= t->peak)
		return 0;
	t->peak = 0;
	return 1;
}

/* Resident pages of this process, or 0. */
static uint64_t resident_pages(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident;
}

uint64_t core_trim_heap(void)
{
	uint64_t before = resident_pages();
	malloc_trim(0);
	uint64_t after = resident_pages();
	long page = sysconf(_SC_PAGESIZE);
	return before > after && page > 0 ? (before - after) * (uint64_t)page : 0;
}
