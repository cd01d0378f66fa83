/*
 * pb_check.c — descriptor-driven deep equality and field coverage for
 * protobuf-c messages, plus hex vector file I/O. Test-only code: aborts on
 * allocation failure, no globals, any thread.
 */
#include "pb_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(m, off) ((const char *)(m) + (off))

static size_t elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

static void append(char *where, size_t cap, const char *part)
{
	size_t used = strlen(where);
	if (used + 1 < cap)
		snprintf(where + used, cap - used, "%s%s", used ? "." : "", part);
}

/* Compare one value of field f stored at pa / pb. */
static int value_equal(const ProtobufCFieldDescriptor *f, const void *pa, const void *pb,
		       char *where, size_t cap)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return strcmp(str_or_empty(*(char *const *)pa), str_or_empty(*(char *const *)pb)) ==
		       0;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *a = pa, *b = pb;
		return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *a = *(ProtobufCMessage *const *)pa;
		const ProtobufCMessage *b = *(ProtobufCMessage *const *)pb;
		if (!a || !b)
			return a == b;
		return pb_check_equal(a, b, where, cap);
	}
	default:
		return memcmp(pa, pb, elem_size(f->type)) == 0;
	}
}

static int field_equal(const ProtobufCMessage *a, const ProtobufCMessage *b,
		       const ProtobufCFieldDescriptor *f, char *where, size_t cap)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t ca = *(const uint32_t *)FIELD(a, f->quantifier_offset);
		uint32_t cb = *(const uint32_t *)FIELD(b, f->quantifier_offset);
		if (ca != cb)
			return 0;
		if (ca != f->id)
			return 1;
		return value_equal(f, FIELD(a, f->offset), FIELD(b, f->offset), where, cap);
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t na = *(const size_t *)FIELD(a, f->quantifier_offset);
		size_t nb = *(const size_t *)FIELD(b, f->quantifier_offset);
		if (na != nb)
			return 0;
		const char *arr_a = *(char *const *)FIELD(a, f->offset);
		const char *arr_b = *(char *const *)FIELD(b, f->offset);
		size_t sz = elem_size(f->type);
		size_t mark_len = strlen(where);
		for (size_t i = 0; i < na; i++) {
			if (mark_len + 1 < cap)
				snprintf(where + mark_len, cap - mark_len, "[%zu]", i);
			if (!value_equal(f, arr_a + i * sz, arr_b + i * sz, where, cap))
				return 0;
			where[mark_len] = '\0';
		}
		return 1;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING) {
		protobuf_c_boolean ha = *(const protobuf_c_boolean *)FIELD(a, f->quantifier_offset);
		protobuf_c_boolean hb = *(const protobuf_c_boolean *)FIELD(b, f->quantifier_offset);
		if (ha != hb)
			return 0;
	}
	return value_equal(f, FIELD(a, f->offset), FIELD(b, f->offset), where, cap);
}

int pb_check_equal(const ProtobufCMessage *a, const ProtobufCMessage *b, char *where, size_t cap)
{
	/* where must hold a string ("" at the top level) and cap must be > 0 */
	if (where[0] == '\0')
		append(where, cap, a->descriptor->name);
	if (a->descriptor != b->descriptor)
		return 0;
	const ProtobufCMessageDescriptor *d = a->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		size_t mark = strlen(where);
		append(where, cap, d->fields[i].name);
		if (!field_equal(a, b, &d->fields[i], where, cap))
			return 0;
		where[mark] = '\0';
	}
	return 1;
}

/* ---- coverage --------------------------------------------------------- */

static bool value_nondefault(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return *(char *const *)p && (*(char *const *)p)[0];
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len > 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(ProtobufCMessage *const *)p != NULL;
	default: {
		static const char zero[8];
		return memcmp(p, zero, elem_size(f->type)) != 0;
	}
	}
}

static bool covered(const struct pb_cover *c, const ProtobufCMessageDescriptor *d, unsigned idx)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].desc == d && c->items[i].field_index == idx)
			return true;
	return false;
}

static void mark(struct pb_cover *c, const ProtobufCMessageDescriptor *d, unsigned idx)
{
	if (covered(c, d, idx))
		return;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->items = realloc(c->items, c->cap * sizeof(*c->items));
		if (!c->items)
			abort();
	}
	c->items[c->n].desc = d;
	c->items[c->n].field_index = idx;
	c->n++;
}

void pb_cover_add(struct pb_cover *c, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)FIELD(m, f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)FIELD(m, f->quantifier_offset);
			const char *arr = *(char *const *)FIELD(m, f->offset);
			if (n > 0)
				mark(c, d, i);
			for (size_t k = 0; f->type == PROTOBUF_C_TYPE_MESSAGE && k < n; k++)
				pb_cover_add(c, ((ProtobufCMessage *const *)arr)[k]);
			continue;
		}
		const void *p = FIELD(m, f->offset);
		if (!value_nondefault(f, p))
			continue;
		mark(c, d, i);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			pb_cover_add(c, *(ProtobufCMessage *const *)p);
	}
}

struct walk {
	const ProtobufCMessageDescriptor *seen[256];
	size_t n_seen;
};

static size_t missing_in(const struct pb_cover *c, const ProtobufCMessageDescriptor *d,
			 struct walk *w, void (*report)(const char *, const char *, void *),
			 void *ud)
{
	for (size_t i = 0; i < w->n_seen; i++)
		if (w->seen[i] == d)
			return 0;
	if (w->n_seen == sizeof(w->seen) / sizeof(w->seen[0]))
		abort();
	w->seen[w->n_seen++] = d;
	size_t missing = 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool single_enum = f->type == PROTOBUF_C_TYPE_ENUM &&
				   ((const ProtobufCEnumDescriptor *)f->descriptor)->n_values == 1;
		if (!single_enum && !covered(c, d, i)) {
			missing++;
			if (report)
				report(d->name, f->name, ud);
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			missing += missing_in(c, f->descriptor, w, report, ud);
	}
	return missing;
}

size_t pb_cover_missing(const struct pb_cover *c, const ProtobufCMessageDescriptor *root,
			void (*report)(const char *message, const char *field, void *ud), void *ud)
{
	struct walk w = { .n_seen = 0 };
	return missing_in(c, root, &w, report, ud);
}

void pb_cover_fini(struct pb_cover *c)
{
	free(c->items);
	c->items = NULL;
	c->n = c->cap = 0;
}

/* ---- hex files -------------------------------------------------------- */

static int hex_val(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int pb_hex_read(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t cap = 256, n = 0;
	uint8_t *buf = malloc(cap);
	int hi = -1, ch, rc = -1;
	if (!buf)
		goto out;
	while ((ch = fgetc(f)) != EOF) {
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		int v = hex_val(ch);
		if (v < 0)
			goto out;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == cap) {
			uint8_t *grown = realloc(buf, cap *= 2);
			if (!grown)
				goto out;
			buf = grown;
		}
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		goto out;
	*out = buf;
	*out_len = n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

int pb_hex_write(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x%s", buf[i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
	return fclose(f) == 0 ? 0 : -1;
}
