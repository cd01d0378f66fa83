/*
 * usp_json.c — generic JSON <-> protobuf-c mapping for USP messages (the
 * shape is described in usp_json.h and docs/json.md).
 *
 * Owns no state: pure functions, any thread. Invariants:
 *  - output never fails except on allocation failure; every string it writes
 *    is valid UTF-8 (so results can go into PostgreSQL jsonb as they are);
 *  - input is walked with a bounded depth, bounded array/map sizes and
 *    bounded strings; everything reachable from a built message is malloc'd,
 *    and a repeated field's count only ever covers fully built elements, so
 *    on any error protobuf_c_message_free_unpacked() on the partial message
 *    releases exactly what was built.
 */
#include "usp_json.h"
#include "usp_utf8.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define TWO_POW_53 9007199254740992.0

static const char *const json_error_names[] = {
#define USP_JSON_NAME_(ident, name, text) name,
	USP_JSON_ERRORS(USP_JSON_NAME_)
#undef USP_JSON_NAME_
};

const char *usp_json_error_name(int code)
{
	if (code <= USP_JSON_E_BASE_ || code >= USP_JSON_E_END_)
		return "unknown";
	return json_error_names[code - USP_JSON_E_BASE_ - 1];
}

/* ---- shared helpers ----------------------------------------------------- */

static void *member(const ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default: /* 32-bit integers and enums */
		return sizeof(uint32_t);
	}
}

/* map<string, V> fields are repeated "XxxEntry" messages {key = 1, value = 2}. */
static int is_string_map(const ProtobufCFieldDescriptor *f)
{
	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t nl = strlen(d->name);
	return d->n_fields == 2 && nl > 5 && strcmp(d->name + nl - 5, "Entry") == 0 &&
	       d->fields[0].id == 1 && d->fields[0].type == PROTOBUF_C_TYPE_STRING &&
	       strcmp(d->fields[0].name, "key") == 0 && d->fields[1].id == 2 &&
	       d->fields[1].label != PROTOBUF_C_LABEL_REPEATED &&
	       strcmp(d->fields[1].name, "value") == 0;
}

/* ---- message -> JSON ---------------------------------------------------- */

static cJSON *json_string(const char *s)
{
	if (!s)
		s = "";
	size_t len = strlen(s);
	if (usp_utf8_valid(s, len))
		return cJSON_CreateString(s);
	char *clean = usp_utf8_sanitize(s, len);
	cJSON *j = clean ? cJSON_CreateString(clean) : NULL;
	free(clean);
	return j;
}

static int add_key(cJSON *obj, const char *key, cJSON *item)
{
	size_t len = strlen(key);
	if (usp_utf8_valid(key, len))
		return cJSON_AddItemToObject(obj, key, item) ? 0 : -1;
	char *clean = usp_utf8_sanitize(key, len);
	int ok = clean && cJSON_AddItemToObject(obj, clean, item);
	free(clean);
	return ok ? 0 : -1;
}

static cJSON *bytes_to_json(const ProtobufCBinaryData *b)
{
	if (b->len > (1u << 30))
		return NULL;
	char *text = malloc(4 * ((b->len + 2) / 3) + 1);
	if (!text)
		return NULL;
	EVP_EncodeBlock((unsigned char *)text, b->data ? b->data : (const unsigned char *)"",
			(int)b->len);
	cJSON *j = cJSON_CreateString(text);
	free(text);
	return j;
}

/* cJSON prints numbers with 15 significant digits whenever that compares
 * "close enough", so a 16-digit integer would be printed rounded: 64-bit
 * values from 10^15 on are written as decimal strings instead. */
#define EXACT_INT_MAX 999999999999999LL

static cJSON *int64_to_json(int64_t v, uint64_t u, int is_signed)
{
	char buf[24];
	if (is_signed) {
		if (v >= -EXACT_INT_MAX && v <= EXACT_INT_MAX)
			return cJSON_CreateNumber((double)v);
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	} else {
		if (u <= (uint64_t)EXACT_INT_MAX)
			return cJSON_CreateNumber((double)u);
		snprintf(buf, sizeof(buf), "%" PRIu64, u);
	}
	return cJSON_CreateString(buf);
}

static cJSON *real_to_json(double d)
{
	if (isnan(d))
		return cJSON_CreateString("NaN");
	if (isinf(d))
		return cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity");
	return cJSON_CreateNumber(d);
}

static int fill_object(cJSON *o, const ProtobufCMessage *m, int depth);

static cJSON *message_to_json(const ProtobufCMessage *m, int depth)
{
	if (depth > USP_JSON_MAX_DEPTH)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	if (o && m && fill_object(o, m, depth) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* One value of field f stored at p (a singular field or an array element). */
static cJSON *value_to_json(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return cJSON_CreateNumber(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return cJSON_CreateNumber(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return int64_to_json(*(const int64_t *)p, 0, 1);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return int64_to_json(0, *(const uint64_t *)p, 0);
	case PROTOBUF_C_TYPE_FLOAT:
		return real_to_json(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return real_to_json(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return cJSON_CreateBool(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)p;
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		return ev ? cJSON_CreateString(ev->name) : cJSON_CreateNumber(v);
	}
	case PROTOBUF_C_TYPE_STRING:
		return json_string(*(char *const *)p);
	case PROTOBUF_C_TYPE_BYTES:
		return bytes_to_json(p);
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_to_json(*(ProtobufCMessage *const *)p, depth + 1);
	}
	return NULL;
}

/* Whether a singular field is written: see the rules in usp_json.h. */
static int field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const void *p = member(m, f->offset);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)member(m, f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(ProtobufCMessage *const *)p != NULL;
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return 1;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		if (f->type == PROTOBUF_C_TYPE_STRING)
			return *(char *const *)p && *(char *const *)p != f->default_value;
		return *(const protobuf_c_boolean *)member(m, f->quantifier_offset);
	}
	switch (f->type) { /* proto3 implicit presence: omit the default */
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)p && **(char *const *)p;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len != 0;
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)p != 0;
	case PROTOBUF_C_TYPE_FLOAT:
		return *(const float *)p != 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		return *(const double *)p != 0;
	default:
		return elem_size(f->type) == 8 ? *(const uint64_t *)p != 0
					       : *(const uint32_t *)p != 0;
	}
}

static cJSON *map_to_json(const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *entries,
			  size_t n, int depth)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; o && i < n; i++) {
		const char *key = *(char *const *)member(entries[i], kf->offset);
		cJSON *v = value_to_json(vf, member(entries[i], vf->offset), depth);
		if (!v || add_key(o, key ? key : "", v) < 0) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

static int add_field(cJSON *o, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		     int depth)
{
	cJSON *v;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)member(m, f->quantifier_offset);
		const char *arr = *(char *const *)member(m, f->offset);
		if (n == 0 || !arr)
			return 0;
		if (is_string_map(f)) {
			v = map_to_json(f, (ProtobufCMessage *const *)arr, n, depth + 1);
		} else {
			size_t es = elem_size(f->type);
			v = depth + 1 > USP_JSON_MAX_DEPTH ? NULL : cJSON_CreateArray();
			for (size_t i = 0; v && i < n; i++) {
				cJSON *e = value_to_json(f, arr + i * es, depth + 1);
				if (!e || !cJSON_AddItemToArray(v, e)) {
					cJSON_Delete(e);
					cJSON_Delete(v);
					v = NULL;
				}
			}
		}
	} else {
		if (!field_present(m, f))
			return 0;
		v = value_to_json(f, member(m, f->offset), depth);
	}
	/* f->name lives as long as the program: no copy of the key */
	if (!v || !cJSON_AddItemToObjectCS(o, f->name, v)) {
		cJSON_Delete(v);
		return USP_JSON_E_NOMEM;
	}
	return 0;
}

static int fill_object(cJSON *o, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		int rc = add_field(o, m, &d->fields[i], depth);
		if (rc < 0)
			return rc;
	}
	return 0;
}

cJSON *usp_json_from_message(const ProtobufCMessage *m)
{
	return m ? message_to_json(m, 1) : NULL;
}

cJSON *usp_json_from_msg_payload(const Usp__Msg *msg)
{
	Usp__Header__MsgType type = usp_msg_type(msg);
	ProtobufCMessage *payload = usp_msg_payload(msg);
	if (type == USP_MSG_TYPE_INVALID || !payload)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON *id = json_string(usp_msg_id(msg));
	if (!o || !id || !cJSON_AddStringToObject(o, "type", usp_msg_type_name(type)) ||
	    !cJSON_AddItemToObjectCS(o, "msg_id", id)) {
		cJSON_Delete(o);
		cJSON_Delete(id); /* not attached to o when we get here */
		return NULL;
	}
	if (fill_object(o, payload, 1) < 0) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* ---- JSON -> message ---------------------------------------------------- */

struct jin {
	struct uspc_err *err;
	int depth;
	size_t plen;
	char path[192];
};

static void path_append(struct jin *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_append(struct jin *c, const char *fmt, ...)
{
	size_t room = sizeof(c->path) - c->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->plen, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		c->path[c->plen] = '\0';
	else
		c->plen = (size_t)n < room ? c->plen + (size_t)n : sizeof(c->path) - 1;
}

static size_t path_key(struct jin *c, const char *key)
{
	size_t saved = c->plen;
	path_append(c, "%s%.64s", saved ? "." : "", key);
	return saved;
}

static void path_pop(struct jin *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

static int jfail(struct jin *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int jfail(struct jin *c, int code, const char *fmt, ...)
{
	char detail[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return uspc_err_set(c->err, code, "%s: %s", c->plen ? c->path : "<root>", detail);
}

static int nomem(struct jin *c)
{
	return jfail(c, USP_JSON_E_NOMEM, "out of memory");
}

static int check_string(struct jin *c, const char *s, size_t max, size_t *len)
{
	*len = strlen(s);
	if (*len > max)
		return jfail(c, USP_JSON_E_LIMIT, "string of %zu bytes exceeds the limit of %zu",
			     *len, max);
	if (!usp_utf8_valid(s, *len))
		return jfail(c, USP_JSON_E_BAD_STRING, "string is not valid UTF-8");
	return 0;
}

/* Integral JSON number within +-2^53, as a double. */
static int get_integral(struct jin *c, const cJSON *v, double *out)
{
	double d = v->valuedouble;
	if (!isfinite(d))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected integer");
	if (d > TWO_POW_53 || d < -TWO_POW_53)
		return jfail(c, USP_JSON_E_RANGE,
			     "integer beyond 2^53 must be written as a decimal string");
	if (d != (double)(int64_t)d) /* no libm: the cast is exact within 2^53 */
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected integer");
	*out = d;
	return 0;
}

/* A 64-bit integer: JSON number, or decimal string ("-"? digits). */
static int get_int64(struct jin *c, const cJSON *v, int is_signed, int64_t *sv, uint64_t *uv)
{
	if (cJSON_IsNumber(v)) {
		double d = 0;
		int rc = get_integral(c, v, &d);
		if (rc < 0)
			return rc;
		if (!is_signed && d < 0)
			return jfail(c, USP_JSON_E_RANGE,
				     "%.0f is out of range for an unsigned field", d);
		*sv = (int64_t)d;
		*uv = (uint64_t)*sv;
		return 0;
	}
	if (!cJSON_IsString(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE,
			     "expected integer (number or decimal string)");
	const char *s = v->valuestring, *digits = s + (is_signed && s[0] == '-');
	size_t nd = strspn(digits, "0123456789");
	if (nd == 0 || nd > 20 || digits[nd] != '\0' || (digits[0] == '0' && nd > 1))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected a decimal integer string");
	char *end;
	errno = 0;
	if (is_signed)
		*sv = strtoll(s, &end, 10);
	else
		*uv = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return jfail(c, USP_JSON_E_RANGE, "%s is out of range for a 64-bit field", s);
	return 0;
}

static int get_int32(struct jin *c, const cJSON *v, double lo, double hi, double *out)
{
	if (!cJSON_IsNumber(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected integer");
	int rc = get_integral(c, v, out);
	if (rc == 0 && (*out < lo || *out > hi))
		return jfail(c, USP_JSON_E_RANGE, "%.0f is out of range [%.0f, %.0f]", *out, lo,
			     hi);
	return rc;
}

static int get_real(struct jin *c, const cJSON *v, double max, double *out)
{
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (strcmp(s, "NaN") == 0)
			*out = NAN;
		else if (strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0)
			*out = s[0] == '-' ? -INFINITY : INFINITY;
		else
			return jfail(c, USP_JSON_E_WRONG_TYPE, "expected number");
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected number");
	if (v->valuedouble > max || v->valuedouble < -max)
		return jfail(c, USP_JSON_E_RANGE, "%g is out of range", v->valuedouble);
	*out = v->valuedouble;
	return 0;
}

static int get_enum(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v, int *out)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	if (cJSON_IsString(v)) {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value_by_name(ed, v->valuestring);
		if (!ev)
			return jfail(c, USP_JSON_E_BAD_ENUM, "unknown value \"%.40s\" for enum %s",
				     v->valuestring, ed->name);
		*out = ev->value;
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected enum name (string) or number");
	double d = 0;
	int rc = get_int32(c, v, INT32_MIN, INT32_MAX, &d);
	if (rc == 0)
		*out = (int)d;
	return rc;
}

static int get_bytes(struct jin *c, const cJSON *v, ProtobufCBinaryData *out)
{
	if (!cJSON_IsString(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected base64 string");
	const char *s = v->valuestring;
	size_t n = strlen(s), pad = 0;
	if (n > USP_JSON_MAX_BYTES_B64)
		return jfail(c, USP_JSON_E_LIMIT,
			     "base64 text of %zu bytes exceeds the limit of %d", n,
			     USP_JSON_MAX_BYTES_B64);
	while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
		pad++;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	if (n % 4 != 0 || strspn(s, alphabet) != n - pad)
		return jfail(c, USP_JSON_E_BAD_BASE64,
			     "invalid base64 (standard alphabet, padded)");
	out->len = 0;
	out->data = NULL;
	if (n == 0)
		return 0;
	out->data = malloc(n / 4 * 3);
	if (!out->data)
		return nomem(c);
	int r = EVP_DecodeBlock(out->data, (const unsigned char *)s, (int)n);
	if (r < 0 || (size_t)r < pad) {
		free(out->data);
		out->data = NULL;
		return jfail(c, USP_JSON_E_BAD_BASE64, "invalid base64");
	}
	out->len = (size_t)r - pad;
	return 0;
}

static int parse_object(struct jin *c, const cJSON *j, ProtobufCMessage *m,
			const char *const *skip);

static int get_message(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v,
		       ProtobufCMessage **out)
{
	ProtobufCMessage *child = usp_pb_new(f->descriptor);
	if (!child)
		return nomem(c);
	int rc = parse_object(c, v, child, NULL);
	if (rc < 0) {
		usp_pb_free(child);
		return rc;
	}
	*out = child;
	return 0;
}

/* Parse one value of field f into dst. On failure dst is left untouched. */
static int parse_value(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v, void *dst)
{
	double d = 0;
	int64_t sv = 0;
	uint64_t uv = 0;
	int rc;
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if ((rc = get_int32(c, v, INT32_MIN, INT32_MAX, &d)) == 0)
			*(int32_t *)dst = (int32_t)d;
		return rc;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if ((rc = get_int32(c, v, 0, UINT32_MAX, &d)) == 0)
			*(uint32_t *)dst = (uint32_t)d;
		return rc;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if ((rc = get_int64(c, v, 1, &sv, &uv)) == 0)
			*(int64_t *)dst = sv;
		return rc;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if ((rc = get_int64(c, v, 0, &sv, &uv)) == 0)
			*(uint64_t *)dst = uv;
		return rc;
	case PROTOBUF_C_TYPE_FLOAT:
		if ((rc = get_real(c, v, FLT_MAX, &d)) == 0)
			*(float *)dst = (float)d;
		return rc;
	case PROTOBUF_C_TYPE_DOUBLE:
		return get_real(c, v, DBL_MAX, (double *)dst);
	case PROTOBUF_C_TYPE_BOOL:
		if (!cJSON_IsBool(v))
			return jfail(c, USP_JSON_E_WRONG_TYPE, "expected boolean");
		*(protobuf_c_boolean *)dst = cJSON_IsTrue(v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return get_enum(c, f, v, (int *)dst);
	case PROTOBUF_C_TYPE_STRING: {
		size_t len;
		if (!cJSON_IsString(v))
			return jfail(c, USP_JSON_E_WRONG_TYPE, "expected string");
		if ((rc = check_string(c, v->valuestring, USP_JSON_MAX_STRING, &len)) < 0)
			return rc;
		char *s = strdup(v->valuestring);
		if (!s)
			return nomem(c);
		*(char **)dst = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return get_bytes(c, v, dst);
	case PROTOBUF_C_TYPE_MESSAGE:
		return get_message(c, f, v, dst);
	}
	return jfail(c, USP_JSON_E_WRONG_TYPE, "unsupported field type");
}

static int enter(struct jin *c)
{
	if (++c->depth > USP_JSON_MAX_DEPTH)
		return jfail(c, USP_JSON_E_LIMIT, "nesting deeper than %d", USP_JSON_MAX_DEPTH);
	return 0;
}

static int check_items(struct jin *c, const cJSON *v, size_t *n)
{
	*n = 0;
	for (const cJSON *e = v->child; e; e = e->next)
		if (++*n > USP_JSON_MAX_ITEMS)
			return jfail(c, USP_JSON_E_LIMIT, "more than %d elements",
				     USP_JSON_MAX_ITEMS);
	return 0;
}

static int parse_repeated(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v,
			  ProtobufCMessage *m)
{
	size_t n, es = elem_size(f->type);
	if (!cJSON_IsArray(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected array");
	int rc = check_items(c, v, &n);
	if (rc < 0 || (rc = enter(c)) < 0 || n == 0)
		return rc;
	char *arr = calloc(n, es);
	if (!arr)
		return nomem(c);
	size_t *count = member(m, f->quantifier_offset);
	*(char **)member(m, f->offset) = arr;
	*count = 0; /* only fully built elements are counted (freed on error) */
	for (const cJSON *e = v->child; e; e = e->next) {
		size_t saved = c->plen;
		path_append(c, "[%zu]", *count);
		if ((rc = parse_value(c, f, e, arr + *count * es)) < 0)
			return rc;
		path_pop(c, saved);
		(*count)++;
	}
	c->depth--;
	return 0;
}

static int parse_map_entry(struct jin *c, const ProtobufCMessageDescriptor *ed, const cJSON *e,
			   ProtobufCMessage **out)
{
	size_t len;
	int rc = check_string(c, e->string, USP_JSON_MAX_STRING, &len);
	if (rc < 0)
		return rc;
	ProtobufCMessage *entry = usp_pb_new(ed);
	char *key = strdup(e->string);
	if (!entry || !key) {
		free(key);
		usp_pb_free(entry);
		return nomem(c);
	}
	*(char **)member(entry, ed->fields[0].offset) = key;
	if ((rc = parse_value(c, &ed->fields[1], e, member(entry, ed->fields[1].offset))) < 0) {
		usp_pb_free(entry);
		return rc;
	}
	*out = entry;
	return 0;
}

/* map<string,V>: a JSON object, entries kept in order (duplicates too). */
static int parse_map(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v,
		     ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	size_t n;
	if (!cJSON_IsObject(v))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected object (map of %s)",
			     ed->fields[1].type == PROTOBUF_C_TYPE_STRING ? "strings" : "values");
	int rc = check_items(c, v, &n);
	if (rc < 0 || (rc = enter(c)) < 0 || n == 0)
		return rc;
	ProtobufCMessage **arr = calloc(n, sizeof(*arr));
	if (!arr)
		return nomem(c);
	size_t *count = member(m, f->quantifier_offset);
	*(ProtobufCMessage ***)member(m, f->offset) = arr;
	*count = 0;
	for (const cJSON *e = v->child; e; e = e->next) {
		size_t saved = c->plen;
		path_append(c, "[\"%.40s\"]", e->string ? e->string : "");
		if ((rc = parse_map_entry(c, ed, e, &arr[*count])) < 0)
			return rc;
		path_pop(c, saved);
		(*count)++;
	}
	c->depth--;
	return 0;
}

static int parse_field(struct jin *c, const ProtobufCFieldDescriptor *f, const cJSON *v,
		       ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return is_string_map(f) ? parse_map(c, f, v, m) : parse_repeated(c, f, v, m);
	int rc;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = member(m, f->quantifier_offset);
		if (*which != 0) {
			const ProtobufCFieldDescriptor *other =
				protobuf_c_message_descriptor_get_field(d, *which);
			return jfail(c, USP_JSON_E_ONEOF,
				     "conflicts with \"%s\": a oneof takes one member",
				     other ? other->name : "?");
		}
		if ((rc = parse_value(c, f, v, member(m, f->offset))) == 0)
			*which = f->id;
		return rc;
	}
	if ((rc = parse_value(c, f, v, member(m, f->offset))) < 0)
		return rc;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)member(m, f->quantifier_offset) = 1;
	return 0;
}

static int is_skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(key, *skip) == 0)
			return 1;
	return 0;
}

static int parse_object(struct jin *c, const cJSON *j, ProtobufCMessage *m, const char *const *skip)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (!cJSON_IsObject(j))
		return jfail(c, USP_JSON_E_WRONG_TYPE, "expected object (%s)", d->name);
	int rc = enter(c);
	if (rc < 0)
		return rc;
	for (const cJSON *e = j->child; e; e = e->next) {
		size_t saved = path_key(c, e->string ? e->string : "");
		for (const cJSON *p = j->child; p != e; p = p->next)
			if (strcmp(p->string, e->string) == 0)
				return jfail(c, USP_JSON_E_DUPLICATE_KEY, "key appears twice");
		if (!is_skipped(e->string, skip)) {
			const ProtobufCFieldDescriptor *f =
				protobuf_c_message_descriptor_get_field_by_name(d, e->string);
			if (!f)
				return jfail(c, USP_JSON_E_UNKNOWN_KEY, "unknown field of %s",
					     d->name);
			if (!cJSON_IsNull(e) && (rc = parse_field(c, f, e, m)) < 0)
				return rc;
		}
		path_pop(c, saved);
	}
	c->depth--;
	return 0;
}

int usp_json_to_message(const ProtobufCMessageDescriptor *d, const cJSON *j, ProtobufCMessage **out,
			struct uspc_err *err)
{
	struct jin c = { .err = err };
	*out = NULL;
	ProtobufCMessage *m = usp_pb_new(d);
	if (!m)
		return nomem(&c);
	int rc = parse_object(&c, j, m, NULL);
	if (rc < 0) {
		usp_pb_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int build_msg(Usp__Header__MsgType type, const char *msg_id, const cJSON *fields,
		     const char *const *skip, Usp__Msg **out, struct uspc_err *err)
{
	struct jin c = { .err = err };
	size_t len = msg_id ? strlen(msg_id) : 0;
	*out = NULL;
	if (len == 0 || len > USP_MSG_ID_MAX_LEN || !usp_utf8_valid(msg_id, len))
		return uspc_err_set(err, USP_JSON_E_BAD_MSG_ID,
				    "msg_id: must be 1..%d bytes of UTF-8", USP_MSG_ID_MAX_LEN);
	Usp__Msg *msg = usp_msg_new(msg_id, type);
	ProtobufCMessage *payload = usp_msg_payload(msg);
	if (!msg || !payload) {
		usp_msg_free(msg);
		return nomem(&c);
	}
	if (fields) {
		int rc = parse_object(&c, fields, payload, skip);
		if (rc < 0) {
			usp_msg_free(msg);
			return rc;
		}
	}
	*out = msg;
	return 0;
}

int usp_json_build_request(const char *type_name, const cJSON *args, const char *msg_id,
			   Usp__Msg **out, struct uspc_err *err)
{
	Usp__Header__MsgType type = usp_msg_type_from_name(type_name);
	*out = NULL;
	if (type == USP_MSG_TYPE_INVALID)
		return uspc_err_set(err, USP_JSON_E_BAD_TYPE_NAME,
				    "type: unknown message type \"%.40s\"",
				    type_name ? type_name : "(null)");
	if (!usp_msg_type_is_request(type))
		return uspc_err_set(err, USP_JSON_E_BAD_TYPE_NAME,
				    "type: \"%s\" is not a request type", type_name);
	return build_msg(type, msg_id, args, NULL, out, err);
}

int usp_json_to_msg_payload(const cJSON *j, Usp__Msg **out, struct uspc_err *err)
{
	static const char *const reserved[] = { "type", "msg_id", NULL };
	*out = NULL;
	if (!cJSON_IsObject(j))
		return uspc_err_set(err, USP_JSON_E_WRONG_TYPE, "<root>: expected object");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "msg_id");
	if (!cJSON_IsString(t))
		return uspc_err_set(err, USP_JSON_E_BAD_TYPE_NAME, "type: expected string");
	Usp__Header__MsgType type = usp_msg_type_from_name(t->valuestring);
	if (type == USP_MSG_TYPE_INVALID)
		return uspc_err_set(err, USP_JSON_E_BAD_TYPE_NAME,
				    "type: unknown message type \"%.40s\"", t->valuestring);
	if (!cJSON_IsString(id))
		return uspc_err_set(err, USP_JSON_E_BAD_MSG_ID, "msg_id: expected string");
	return build_msg(type, id->valuestring, j, reserved, out, err);
}
