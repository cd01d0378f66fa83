/*
 * usp_path.h — USP path syntax (TR-369 "Path Names"): parse and validate
 * parameter, object (partial, '.'-terminated), command ('()'), event ('!')
 * paths, instance numbers, unique-key / search expressions
 * ([Key=="x"&&N>3]) with == != < > <= >=, and the wildcard '*'.
 *
 * Pure: no I/O, no globals. Input is bounded: at most USP_PATH_MAX_LEN bytes,
 * USP_PATH_MAX_SEGS segments, USP_PATH_MAX_CONDS conditions per [..]. Parsed paths own their strings (usp_path_fini).
 *
 * Accepted syntax (TR-369 "Path Names", TR-106 names):
 *   path     = "Device." { seg "." } [ last ]
 *   seg      = name | inst
 *   inst     = posnum | "*" | "[" cond { "&&" cond } "]"   (after a name only)
 *   last     = name | name "()" | name "!"
 *   cond     = relpath op value ;  relpath = name { "." name }
 *   op       = "==" | "!=" | "<" | ">" | "<=" | ">="
 *   value    = '"' chars '"' | number | "true" | "false"
 *   name     = [A-Za-z_] [A-Za-z0-9_-]* ;  posnum = [1-9][0-9]* (<= 2^32-1)
 *   number   = ["-"] ("0" | posnum) ["." digit+]
 * In quoted values \" and \\ are escapes (any other backslash is an error)
 * and, as TR-369 prescribes, %22 stands for '"' and %25 for '%'. No spaces
 * anywhere. Booleans only take == and !=. An instance selector must be
 * followed by '.' (object instance paths end in '.').
 *
 * Invariants of a parsed struct usp_path (what a resolver may rely on):
 *   - n_segs >= 1 and segs[0] is USP_SEG_NAME "Device";
 *   - a USP_SEG_INSTANCE / WILDCARD / EXPR segment is always preceded by a
 *     USP_SEG_NAME other than segs[0] (the table it selects from);
 *   - kind PARAM/COMMAND/EVENT: segs[n_segs-1] is a USP_SEG_NAME holding the
 *     parameter/command/event name (without "()" or "!");
 *   - kind OBJECT: the text ended in '.'; the last segment is the object's
 *     name or an instance selector;
 *   - EXPR segments have 1..USP_PATH_MAX_CONDS conds, each with a valid
 *     relative param path and its value with quotes/escapes removed;
 *   - is_search is 1 iff some segment is a WILDCARD or an EXPR (unique-key
 *     addressing [Alias=="x"] is syntactically an EXPR and counts);
 *   - all strings live in one allocation owned by the struct: never free or
 *     keep them past usp_path_fini.
 */
#ifndef USPC_USP_PATH_H
#define USPC_USP_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "usp_err.h"

#define USP_PATH_MAX_LEN 1024
#define USP_PATH_MAX_SEGS 64
#define USP_PATH_MAX_CONDS 16

enum usp_path_kind {
	USP_PATH_OBJECT,  /* ends with '.': object, instance or partial path */
	USP_PATH_PARAM,   /* last segment is a parameter name */
	USP_PATH_COMMAND, /* last segment is "Name()" (stored without "()") */
	USP_PATH_EVENT,   /* last segment is "Name!" (stored without "!") */
};

enum usp_seg_kind {
	USP_SEG_NAME,     /* object/parameter/command/event name */
	USP_SEG_INSTANCE, /* instance number (>= 1) */
	USP_SEG_WILDCARD, /* '*' */
	USP_SEG_EXPR,     /* [cond && cond ...] */
};

enum usp_cmp_op { USP_CMP_EQ, USP_CMP_NE, USP_CMP_LT, USP_CMP_GT, USP_CMP_LE, USP_CMP_GE };

struct usp_path_cond {
	char *param; /* relative parameter path, e.g. "Alias" or "Stats.BytesSent" */
	enum usp_cmp_op op;
	char *value; /* unquoted value, escapes resolved */
};

struct usp_path_seg {
	enum usp_seg_kind kind;
	char *name;                  /* USP_SEG_NAME only */
	uint32_t instance;           /* USP_SEG_INSTANCE only */
	struct usp_path_cond *conds; /* USP_SEG_EXPR only */
	size_t n_conds;
};

struct usp_path {
	enum usp_path_kind kind;
	struct usp_path_seg *segs; /* segs[0] is always the name "Device" */
	size_t n_segs;
	int is_search; /* contains a wildcard or an expression */
};

/* One distinct negative code per malformed form: USP_PATH_E_* (USP_PATH_ERRORS
 * in usp_err.h). */

/* Parse text (NUL-terminated; NULL counts as empty). On success fills *out
 * (caller: usp_path_fini) and returns 0. On failure returns a USP_PATH_E_*
 * code, *out is left empty (safe to usp_path_fini), and err (may be NULL)
 * says what and where: "... at byte N" (0-based offset into text). */
int usp_path_parse(const char *text, struct usp_path *out, struct uspc_err *err);
void usp_path_fini(struct usp_path *p);
const char *usp_path_error_text(int code);

/* Does the actual value satisfy cond? 1 yes, 0 no (also for NULL actual).
 * Numeric comparison (exact, any length, no locale) when both sides are
 * ["-"]digits["."digits]; else for == and != the boolean words true/false
 * equal 1/0; else byte-wise string comparison (strcmp order). */
int usp_path_cond_match(const struct usp_path_cond *cond, const char *actual);

/* Write an instantiated path in supported-DM form (instance numbers become
 * "{i}"): "Device.WiFi.SSID.2.Name" -> "Device.WiFi.SSID.{i}.Name".
 * Wildcards and [..] selectors become "{i}" too. A text transform: the
 * input is not validated (parse it first if it is untrusted).
 * Returns 0, USPC_E_TOOLONG if cap is too small (buf then holds ""), or
 * USPC_E_INVAL if path or buf is NULL or cap is 0. */
int usp_path_to_schema(const char *path, char *buf, size_t cap);

#endif
