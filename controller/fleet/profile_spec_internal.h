/*
 * profile_spec_internal.h — what the three files of the profile
 * definition share: profile_spec.c (the definition, its steps and paths),
 * profile_sel.c (its selector) and profile_tpl.c (value templates). Not a
 * public header: callers use profile_spec.h.
 */
#ifndef USPC_PROFILE_SPEC_INTERNAL_H
#define USPC_PROFILE_SPEC_INTERNAL_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "profile_spec.h"
#include "usp_err.h"

#define PROF_SHOW_MAX 72 /* bytes of untrusted text quoted in a message */
#define PROF_SHOW_BUF (PROF_SHOW_MAX + 4)

/* profile_spec.c */

/* s for a message: at most PROF_SHOW_MAX bytes cut at a character
 * boundary, what is not printable UTF-8 as '?', "..." when cut. */
const char *prof_show(const char *s, char buf[PROF_SHOW_BUF]);
/* 1 when s is 1..max bytes of UTF-8 without control characters. */
int prof_text_ok(const char *s, size_t max);
/* Index of s in names (NULL-terminated), or -1. */
int prof_name_in(const char *s, const char *const *names);
/* Every key of obj is in keys or ignore (NULL-terminated), none twice;
 * else code with "<pre><key>: ..." in err. */
int prof_only_keys(const cJSON *obj, const char *pre, const char *const *keys,
		   const char *const *ignore, int code, struct uspc_err *err);
/* t is a parameter path without wildcard, search or template; else code
 * with "<field>: ..." in err. */
int prof_check_param_path(const char *t, const char *field, int code, struct uspc_err *err);

/* profile_tpl.c */

/* A number's text in a value: integers without a fraction, else the
 * shortest %g form that reads back to the same double. */
void prof_num_text(double d, char *out, size_t cap);

/* 1 when text needs expanding (a template or "$$"), 0 when it reads as
 * is, -1 (why) when a template is malformed or unknown. */
int prof_tpl_check(const char *text, char *why, size_t why_cap);
/* Append the ${var:NAME} names of text not yet in (*v)[0..*n) (cap
 * allocated): 0 or USPC_E_NOMEM. */
int prof_tpl_add_vars(const char *text, char ***v, size_t *n, size_t *cap);

/* profile_sel.c */

/* The selector (input or stored form, profile_spec.h) into s->selector and
 * s->where; USPCTL_E_BAD_TARGETS with "selector...: ..." in err. */
int prof_sel_parse(const cJSON *sel, struct prof_spec *s, struct uspc_err *err);

#endif
