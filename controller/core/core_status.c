/*
 * core_status.c — systemd's STATUS= text (core_status.h). Pure: no I/O, no
 * globals; any thread may call it on its own struct. One line, short enough
 * for systemctl status, with no character systemd's notify protocol treats
 * specially (no newline).
 */
#include "core_status.h"

#include <stdio.h>

size_t core_status_format(const struct core_status *s, char *buf, size_t cap)
{
	if (cap == 0)
		return 0;
	int n = snprintf(
		buf, cap,
		"%sagents %zu online %zu, pending %zu, tasks done %llu failed %llu, db %s, "
		"mqtt %s",
		s->draining ? "draining: " : "", s->agents, s->online, s->pending,
		(unsigned long long)s->done, (unsigned long long)s->failed,
		s->db_up ? "up" : "down", s->mqtt_up ? "up" : "down");
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < cap ? (size_t)n : cap - 1;
}
