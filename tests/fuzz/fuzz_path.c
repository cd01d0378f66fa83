/*
 * fuzz_path.c — libFuzzer target for controller/usp/usp_path.c.
 *
 * Feeds arbitrary bytes (NUL-terminated copy) to usp_path_parse and checks
 * the documented invariants on success (segs[0] is "Device", selectors
 * follow a table name, the last segment of PARAM/COMMAND/EVENT is a name,
 * cond counts within bounds, each EQ cond matches its own value), the
 * failure contract (known code, err.code == rc, *out empty), then
 * usp_path_to_schema with a large and a tiny buffer. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "usp_path.h"

static void check_ok(const struct usp_path *p, const char *text)
{
	if (p->n_segs < 1 || p->n_segs > USP_PATH_MAX_SEGS || !p->segs)
		abort();
	if (p->segs[0].kind != USP_SEG_NAME || strcmp(p->segs[0].name, "Device") != 0)
		abort();
	int search = 0;
	for (size_t i = 1; i < p->n_segs; i++) {
		const struct usp_path_seg *g = &p->segs[i];
		if (g->kind == USP_SEG_NAME) {
			if (!g->name || !g->name[0])
				abort();
			continue;
		}
		if (i < 2 || p->segs[i - 1].kind != USP_SEG_NAME)
			abort();
		search |= g->kind == USP_SEG_WILDCARD || g->kind == USP_SEG_EXPR;
		if (g->kind == USP_SEG_INSTANCE && g->instance == 0)
			abort();
		if (g->kind != USP_SEG_EXPR)
			continue;
		if (g->n_conds < 1 || g->n_conds > USP_PATH_MAX_CONDS)
			abort();
		for (size_t c = 0; c < g->n_conds; c++) {
			const struct usp_path_cond *cd = &g->conds[c];
			if (!cd->param[0] || strlen(cd->value) > strlen(text))
				abort();
			if (cd->op == USP_CMP_EQ && !usp_path_cond_match(cd, cd->value))
				abort();
			(void)usp_path_cond_match(cd, text);
		}
	}
	if (search != p->is_search)
		abort();
	if (p->kind != USP_PATH_OBJECT && p->segs[p->n_segs - 1].kind != USP_SEG_NAME)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4 * USP_PATH_MAX_LEN)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct usp_path p;
	struct uspc_err err;
	int rc = usp_path_parse(text, &p, &err);
	if (rc == 0) {
		check_ok(&p, text);
	} else {
		if (rc <= USP_PATH_E_BASE_ || rc >= USP_PATH_E_END_ || err.code != rc)
			abort();
		if (p.segs || p.n_segs)
			abort();
		if (!memchr(err.msg, '\0', sizeof(err.msg)))
			abort();
	}
	usp_path_fini(&p);

	char out[2 * 4 * USP_PATH_MAX_LEN + 8];
	if (usp_path_to_schema(text, out, sizeof(out)) != 0)
		abort(); /* "{i}" is at most 3x a 1-byte segment: never too small */
	char tiny[8];
	(void)usp_path_to_schema(text, tiny, sizeof(tiny));
	free(text);
	return 0;
}
