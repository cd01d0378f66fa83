/*
 * api_engine.c — one command through uspctl's engine (see api_engine.h).
 *
 * The engine reads commands from a file descriptor and prints result lines
 * to a FILE: the command goes in through an anonymous memory file
 * (memfd_create), the lines come back through open_memstream. Progress and
 * summary are off (quiet); what the engine says on its error stream is
 * logged at debug level.
 */
#include "api_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "uspctl_run.h"

static int input_fd(const cJSON *cmd, char *msg, size_t cap)
{
	char *text = cJSON_PrintUnformatted(cmd);
	if (!text) {
		snprintf(msg, cap, "out of memory");
		return -1;
	}
	int fd = memfd_create("uspc-api-command", MFD_CLOEXEC);
	size_t len = strlen(text), off = 0;
	while (fd >= 0 && off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w <= 0) {
			close(fd);
			fd = -1;
			break;
		}
		off += (size_t)w;
	}
	if (fd >= 0 && (write(fd, "\n", 1) != 1 || lseek(fd, 0, SEEK_SET) != 0)) {
		close(fd);
		fd = -1;
	}
	cJSON_free(text);
	if (fd < 0)
		snprintf(msg, cap, "cannot hand the command to the engine (memfd)");
	return fd;
}

/* Result text → array of line objects without "id". */
static cJSON *parse_lines(const char *text, size_t len)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = text, *end = text + len;
	while (arr && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l) {
			cJSON *o = cJSON_ParseWithLength(p, l);
			if (!o) {
				cJSON_Delete(arr);
				return NULL;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(o, "id");
			cJSON_AddItemToArray(arr, o);
		}
		p += l + 1;
	}
	return arr;
}

int api_engine_run(PGconn *db, const cJSON *cmd, const char *actor, cJSON **lines, int *db_lost,
		   char *msg, size_t msg_cap)
{
	char *out_text = NULL, *err_text = NULL;
	size_t out_len = 0, err_len = 0;
	*lines = NULL;
	*db_lost = 0;
	int fd = input_fd(cmd, msg, msg_cap);
	if (fd < 0)
		return -1;
	FILE *out = open_memstream(&out_text, &out_len);
	FILE *errf = open_memstream(&err_text, &err_len);
	if (!out || !errf) {
		if (out)
			fclose(out);
		if (errf)
			fclose(errf);
		free(out_text);
		free(err_text);
		close(fd);
		snprintf(msg, msg_cap, "out of memory");
		return -1;
	}
	struct uspctl_opts o;
	uspctl_opts_init(&o);
	o.conn = db;
	o.actor = actor;
	o.quiet = 1;
	o.progress = 0;
	o.max_inflight = 1000;
	o.poll_ms = 500;
	int status = uspctl_run(&o, fd, out, errf);
	close(fd);
	fclose(out);
	fclose(errf);
	int rc = 0;
	if (err_len)
		log_debug("api", "engine: %.*s", (int)(err_len > 500 ? 500 : err_len), err_text);
	if (status == USPCTL_EXIT_USAGE && PQstatus(db) != CONNECTION_OK) {
		*db_lost = 1;
		snprintf(msg, msg_cap, "database connection lost");
		rc = -1;
	} else if (out_len > API_ENGINE_OUT_MAX) {
		snprintf(msg, msg_cap, "the answer is over %d MiB", API_ENGINE_OUT_MAX >> 20);
		rc = -1;
	} else if (!(*lines = parse_lines(out_text ? out_text : "", out_len))) {
		snprintf(msg, msg_cap, "out of memory (or unreadable engine output)");
		rc = -1;
	}
	free(out_text);
	free(err_text);
	return rc;
}
