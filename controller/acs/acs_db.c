/*
 * acs_db.c — uspc-acs's statements (see acs_db.h). The SQL is here, next
 * to the code that reads its columns; the Inform is one call of the
 * function uspc_cwmp_inform (migration 12), so it is one round trip.
 */
#include "acs_db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_conn.h"

static int oom(struct uspc_err *err)
{
	uspc_err_set(err, USPC_E_NOMEM, "out of memory");
	return USPC_E_NOMEM;
}

int acs_db_inform(PGconn *c, const struct acs_inform_in *in, struct acs_inform_out *out,
		  struct uspc_err *err)
{
	char lease[16], retry[16];
	snprintf(lease, sizeof(lease), "%d", in->lease_s);
	snprintf(retry, sizeof(retry), "%u", in->retry_count);
	const char *p[9] = { in->eid,         in->node,      in->session_id,
			     lease,           in->info_json, in->events_json,
			     in->events_hash, retry,         in->msg_id };
	PGresult *r = NULL;
	int rc = store_exec(c,
			    "SELECT leased, holder, duplicate, queued, protocol FROM "
			    "uspc_cwmp_inform($1, $2, $3, $4::integer, $5::jsonb, $6::jsonb, $7, "
			    "$8::integer, $9)",
			    9, p, &r, err);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (PQntuples(r) == 1) {
		out->leased = PQgetvalue(r, 0, 0)[0] == 't';
		snprintf(out->holder, sizeof(out->holder), "%s", PQgetvalue(r, 0, 1));
		out->duplicate = PQgetvalue(r, 0, 2)[0] == 't';
		out->queued = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
		out->cwmp = !strcmp(PQgetvalue(r, 0, 4), "cwmp");
	}
	PQclear(r);
	return 0;
}

void acs_db_tasks_free(struct acs_db_task *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].op);
		free(t[i].request_json);
	}
	free(t);
}

int acs_db_claim(PGconn *c, const char *eid, const char *node, int limit, struct acs_db_task **out,
		 size_t *n, struct uspc_err *err)
{
	char lim[16], seq[24];
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(seq, sizeof(seq), "%" PRId64, store_now_us());
	const char *p[4] = { eid, node, lim, seq };
	PGresult *r = NULL;
	*out = NULL;
	*n = 0;
	int rc = store_exec(
		c,
		"UPDATE tasks t SET state = 'sent', claimed_by = $2, claim_seq = $4::bigint, "
		"claimed_at = now(), sent_at = now(), parked = false, attempts = t.attempts + 1 "
		"WHERE t.id = ANY(ARRAY(SELECT q.id FROM tasks q WHERE q.eid = $1 "
		"AND q.state = 'queued' AND q.not_before <= now() "
		"AND (q.expires_at IS NULL OR q.expires_at > now()) "
		"AND EXISTS (SELECT 1 FROM agents a WHERE a.eid = $1 AND a.protocol = 'cwmp') "
		"ORDER BY q.id LIMIT $3::integer FOR UPDATE SKIP LOCKED)) "
		"RETURNING t.id, t.op, t.request::text, t.attempts",
		4, p, &r, err);
	if (rc < 0)
		return rc;
	int rows = PQntuples(r);
	if (rows > 0) {
		struct acs_db_task *t = calloc((size_t)rows, sizeof(*t));
		if (!t) {
			PQclear(r);
			return oom(err);
		}
		for (int i = 0; i < rows; i++) {
			t[i].id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
			t[i].op = strdup(PQgetvalue(r, i, 1));
			t[i].request_json = strdup(PQgetvalue(r, i, 2));
			t[i].attempts = atoi(PQgetvalue(r, i, 3));
			if (!t[i].op || !t[i].request_json) {
				acs_db_tasks_free(t, (size_t)i + 1);
				PQclear(r);
				return oom(err);
			}
		}
		/* Oldest first, as claimed. */
		for (int i = 1; i < rows; i++)
			for (int j = i; j > 0 && t[j - 1].id > t[j].id; j--) {
				struct acs_db_task x = t[j];
				t[j] = t[j - 1];
				t[j - 1] = x;
			}
		*out = t;
		*n = (size_t)rows;
	}
	PQclear(r);
	return 0;
}

/* "{1,2,3}" */
static char *id_array(const int64_t *ids, size_t n)
{
	char *s = malloc(n * 21 + 3);
	if (!s)
		return NULL;
	size_t o = 0;
	s[o++] = '{';
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%s%" PRId64, i ? "," : "", ids[i]);
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

int acs_db_requeue(PGconn *c, const char *node, const int64_t *ids, size_t n, struct uspc_err *err)
{
	if (!n)
		return 0;
	char *arr = id_array(ids, n);
	if (!arr)
		return oom(err);
	const char *p[2] = { arr, node };
	int rc = store_exec(c,
			    "UPDATE tasks SET state = 'queued', claimed_by = NULL, "
			    "claim_seq = NULL, claimed_at = NULL, sent_at = NULL, "
			    "attempts = greatest(attempts - 1, 0) "
			    "WHERE id = ANY($1::bigint[]) AND state = 'sent' AND claimed_by = $2",
			    2, p, NULL, err);
	free(arr);
	return rc;
}

int acs_db_release(PGconn *c, const char *eid, const char *session_id, int acked,
		   struct uspc_err *err)
{
	const char *p[3] = { eid, session_id, acked ? "t" : "f" };
	return store_exec(c,
			  "UPDATE cwmp_devices SET session_node = NULL, session_id = NULL, "
			  "session_until = NULL, last_inform_acked = last_inform_acked OR $3::bool "
			  "WHERE eid = $1 AND session_id = $2",
			  3, p, NULL, err);
}

/* A text[] literal of n strings. */
static char *text_array(const char *const *v, size_t n)
{
	size_t len = 3;
	for (size_t i = 0; i < n; i++)
		len += 3 + 2 * strlen(v[i]);
	char *s = malloc(len);
	if (!s)
		return NULL;
	size_t o = 0;
	s[o++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			s[o++] = ',';
		s[o++] = '"';
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				s[o++] = '\\';
			s[o++] = *c;
		}
		s[o++] = '"';
	}
	s[o++] = '}';
	s[o] = '\0';
	return s;
}

int acs_db_types_get(PGconn *c, const char *model_key, const char *const *paths, size_t n,
		     void (*found)(void *arg, const char *path, const char *type), void *arg,
		     struct uspc_err *err)
{
	if (!n)
		return 0;
	char *arr = text_array(paths, n);
	if (!arr)
		return oom(err);
	const char *p[2] = { model_key, arr };
	PGresult *r = NULL;
	int rc = store_exec(c,
			    "SELECT path, type FROM cwmp_param_types "
			    "WHERE model_key = $1 AND path = ANY($2::text[])",
			    2, p, &r, err);
	free(arr);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(r); i++)
		found(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	PQclear(r);
	return 0;
}

int acs_db_types_put(PGconn *c, const char *model_key, const char *const *paths,
		     const char *const *types, size_t n, struct uspc_err *err)
{
	if (!n)
		return 0;
	char *pa = text_array(paths, n), *ta = text_array(types, n);
	if (!pa || !ta) {
		free(pa);
		free(ta);
		return oom(err);
	}
	const char *p[3] = { model_key, pa, ta };
	int rc = store_exec(c,
			    "INSERT INTO cwmp_param_types AS t (model_key, path, type) "
			    "SELECT DISTINCT ON (u.path) $1, u.path, u.type "
			    "FROM unnest($2::text[], $3::text[]) AS u(path, type) "
			    "ON CONFLICT (model_key, path) DO UPDATE SET type = excluded.type, "
			    "updated_at = now() WHERE t.type IS DISTINCT FROM excluded.type",
			    3, p, NULL, err);
	free(pa);
	free(ta);
	return rc;
}

int acs_db_credentials(PGconn *c, const char *eid, char *username, size_t ulen, char *realm,
		       size_t rlen, char ha1_hex[33], struct uspc_err *err)
{
	const char *p[1] = { eid };
	PGresult *r = NULL;
	int rc = store_exec(c, "SELECT username, realm, ha1 FROM cwmp_credentials WHERE eid = $1",
			    1, p, &r, err);
	if (rc < 0)
		return rc;
	int found = PQntuples(r) == 1;
	if (found) {
		snprintf(username, ulen, "%s", PQgetvalue(r, 0, 0));
		snprintf(realm, rlen, "%s", PQgetvalue(r, 0, 1));
		snprintf(ha1_hex, 33, "%s", PQgetvalue(r, 0, 2));
	}
	PQclear(r);
	return found;
}

int acs_db_oper_requested(PGconn *c, const char *eid, const char *command_key, const char *obj_path,
			  const char *command_name, int done, struct uspc_err *err)
{
	const char *p[5] = { eid, command_key, obj_path, command_name,
			     done ? "complete" : "requested" };
	return store_exec(
		c,
		"WITH up AS (UPDATE operation_results SET state = $5, output = NULL, "
		"err_code = NULL, err_msg = NULL, updated_at = now() WHERE eid = $1 "
		"AND command_key = $2 AND obj_path = $3 AND command_name = $4 RETURNING 1) "
		"INSERT INTO operation_results (eid, command_key, obj_path, command_name, state, "
		"updated_at, day) SELECT $1, $2, $3, $4, $5, now(), uspc_utc_day(now()) "
		"WHERE NOT EXISTS (SELECT 1 FROM up)",
		5, p, NULL, err);
}

int acs_db_transfer_complete(PGconn *c, const char *eid, const char *command_key,
			     unsigned fault_code, const char *fault_string, const char *start,
			     const char *complete, const char *msg_id, struct uspc_err *err)
{
	char code[16];
	snprintf(code, sizeof(code), "%u", fault_code);
	const char *p[7] = { eid,
			     command_key,
			     code,
			     fault_string ? fault_string : "",
			     start ? start : "",
			     complete ? complete : "",
			     msg_id };
	return store_exec(
		c,
		"WITH o AS (UPDATE operation_results SET "
		"state = CASE WHEN $3::bigint = 0 THEN 'complete' ELSE 'failed' END, "
		"output = jsonb_build_object('StartTime', $5::text, 'CompleteTime', $6::text), "
		"err_code = nullif($3::bigint, 0), err_msg = nullif($4, ''), updated_at = now() "
		"WHERE eid = $1 AND command_key = $2 AND command_name = 'Download()' "
		"AND state = 'requested' RETURNING 1), "
		"tc AS (INSERT INTO operation_results (eid, command_key, obj_path, command_name, "
		"state, output, err_code, err_msg, updated_at, day) SELECT $1, $2, "
		"'Device.LocalAgent.', 'TransferComplete!', "
		"CASE WHEN $3::bigint = 0 THEN 'complete' ELSE 'failed' END, "
		"jsonb_build_object('CommandKey', $2::text, 'FaultCode', $3::text, "
		"'FaultString', $4::text, 'StartTime', $5::text, 'CompleteTime', $6::text, "
		"'TransferType', 'Download'), nullif($3::bigint, 0), nullif($4, ''), now(), "
		"uspc_utc_day(now()) WHERE NOT EXISTS (SELECT 1 FROM operation_results x "
		"WHERE x.eid = $1 AND x.command_key = $2 AND x.obj_path = 'Device.LocalAgent.' "
		"AND x.command_name = 'TransferComplete!') RETURNING 1) "
		"INSERT INTO notifications (eid, msg_id, kind, path, payload, received_at, day) "
		"VALUES ($1, $7, 'event', 'TransferComplete', jsonb_build_object("
		"'command_key', $2::text, 'fault_code', $3::bigint, 'fault_string', $4::text, "
		"'start_time', $5::text, 'complete_time', $6::text, "
		"'matched', (SELECT count(*) FROM o)), now(), uspc_utc_day(now())) "
		"ON CONFLICT (eid, msg_id, day) DO NOTHING",
		7, p, NULL, err);
}

int acs_db_udp_cr_address(PGconn *c, const char *eid, const char *address, struct uspc_err *err)
{
	const char *p[2] = { eid, address };
	return store_exec(c,
			  "UPDATE cwmp_devices SET udp_cr_address = nullif($2, '') WHERE eid = $1 "
			  "AND udp_cr_address IS DISTINCT FROM nullif($2, '')",
			  2, p, NULL, err);
}
