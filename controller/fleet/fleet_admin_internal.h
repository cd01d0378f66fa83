/*
 * fleet_admin_internal.h — helpers shared by fleet_admin.c (the changes)
 * and fleet_report.c (the reports); not part of the fleet library's
 * interface.
 */
#ifndef USPC_FLEET_ADMIN_INTERNAL_H
#define USPC_FLEET_ADMIN_INTERNAL_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "fleet_admin.h"
#include "usp_err.h"

/* store_exec, with every failure reported as USPCTL_E_DATABASE. */
int adm_q(PGconn *c, const char *sql, int n, const char *const *p, PGresult **r,
	  struct uspc_err *err);
/* USPCTL_E_INTERNAL "out of memory". */
int adm_oom(struct uspc_err *err);
/* Parse the JSON text in row 0, column 0 of r into *out. */
int adm_parse_json(PGresult *r, cJSON **out, struct uspc_err *err);
/* A campaign's id from ref: USPCTL_E_UNKNOWN_CAMPAIGN when there is none. */
int adm_resolve(PGconn *c, const struct fleet_ref *ref, int64_t *id, struct uspc_err *err);
/* The selector as the jsonb text campaigns.selector holds (fleet_admin.h);
 * *out is malloc'd. */
int adm_selector_text(const struct store_selector *s, int for_campaign, char **out,
		      struct uspc_err *err);

#endif
