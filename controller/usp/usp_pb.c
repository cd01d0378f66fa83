/*
 * usp_pb.c — generic heap-building helpers over protobuf-c descriptors.
 * Owns no state; any thread. Allocations use malloc so that
 * protobuf_c_message_free_unpacked(m, NULL) releases what is built here.
 */
#include "usp_pb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ProtobufCMessage *usp_pb_new(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	if (m)
		protobuf_c_message_init(d, m);
	return m;
}

char *usp_pb_strdup(const char *s)
{
	return strdup(s ? s : "");
}

int usp_pb_push(void ***arr, size_t *n, void *item)
{
	void **grown = realloc(*arr, (*n + 1) * sizeof(void *));
	if (!grown)
		return USPC_E_NOMEM;
	grown[*n] = item;
	*arr = grown;
	(*n)++;
	return 0;
}

int usp_pb_push_str(char ***arr, size_t *n, const char *s)
{
	char *copy = usp_pb_strdup(s);
	if (!copy || usp_pb_push((void ***)arr, n, copy) < 0) {
		free(copy);
		return USPC_E_NOMEM;
	}
	return 0;
}

static void *field_ptr(const ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

const ProtobufCFieldDescriptor *usp_pb_field_named(const ProtobufCMessageDescriptor *d,
						   const char *member)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(d, member);
	size_t n = strlen(member);
	char name[64];
	/* protoc-c appends '_' to a field named like a C keyword */
	if (f || n < 2 || n > sizeof(name) || member[n - 1] != '_')
		return f;
	memcpy(name, member, n - 1);
	name[n - 1] = '\0';
	return protobuf_c_message_descriptor_get_field_by_name(d, name);
}

/* The map<string,string> field member of d and its key and value fields. */
static const ProtobufCFieldDescriptor *map_field(const ProtobufCMessageDescriptor *d,
						 const char *member,
						 const ProtobufCFieldDescriptor **kf,
						 const ProtobufCFieldDescriptor **vf)
{
	const ProtobufCFieldDescriptor *f = usp_pb_field_named(d, member);
	if (!f || f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return NULL;
	/* map entries: key = field 1, value = field 2, both strings */
	*kf = protobuf_c_message_descriptor_get_field(f->descriptor, 1);
	*vf = protobuf_c_message_descriptor_get_field(f->descriptor, 2);
	if (!*kf || !*vf || (*kf)->type != PROTOBUF_C_TYPE_STRING ||
	    (*vf)->type != PROTOBUF_C_TYPE_STRING)
		return NULL;
	return f;
}

int usp_pb_map_put(ProtobufCMessage *parent, const char *member, const char *key, const char *value)
{
	const ProtobufCFieldDescriptor *kf, *vf;
	const ProtobufCFieldDescriptor *f = map_field(parent->descriptor, member, &kf, &vf);
	if (!f)
		return USPC_E_INVAL;
	ProtobufCMessage *entry = usp_pb_new(f->descriptor);
	if (!entry)
		return USPC_E_NOMEM;
	char *k = usp_pb_strdup(key), *v = usp_pb_strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		usp_pb_free(entry);
		return USPC_E_NOMEM;
	}
	*(char **)field_ptr(entry, kf->offset) = k;
	*(char **)field_ptr(entry, vf->offset) = v;
	if (usp_pb_push((void ***)field_ptr(parent, f->offset),
			(size_t *)field_ptr(parent, f->quantifier_offset), entry) < 0) {
		usp_pb_free(entry);
		return USPC_E_NOMEM;
	}
	return 0;
}

const char *usp_pb_map_get(const ProtobufCMessage *parent, const char *member, const char *key)
{
	const ProtobufCFieldDescriptor *kf, *vf;
	const ProtobufCFieldDescriptor *f = map_field(parent->descriptor, member, &kf, &vf);
	if (!f)
		return NULL;
	size_t n = *(size_t *)field_ptr(parent, f->quantifier_offset);
	ProtobufCMessage **entries = *(ProtobufCMessage ***)field_ptr(parent, f->offset);
	for (size_t i = 0; i < n; i++) {
		const char *k = *(char **)field_ptr(entries[i], kf->offset);
		if (k && strcmp(k, key) == 0)
			return *(char **)field_ptr(entries[i], vf->offset);
	}
	return NULL;
}

static ProtobufCMessage *set_child(ProtobufCMessage *parent, const ProtobufCFieldDescriptor *f)
{
	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	ProtobufCMessage **slot = field_ptr(parent, f->offset);
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = field_ptr(parent, f->quantifier_offset);
		if (*which == f->id && *slot)
			return *slot;
		/* another member may be selected: release it first */
		if (*which != 0) {
			const ProtobufCFieldDescriptor *old =
				protobuf_c_message_descriptor_get_field(parent->descriptor, *which);
			void **old_slot = field_ptr(parent, old->offset);
			if (old->type == PROTOBUF_C_TYPE_MESSAGE)
				usp_pb_free(*old_slot);
			else if (old->type == PROTOBUF_C_TYPE_STRING)
				free(*old_slot);
			*old_slot = NULL;
		}
		*which = f->id;
	} else if (*slot) {
		return *slot;
	}
	*slot = usp_pb_new(f->descriptor);
	return *slot;
}

ProtobufCMessage *usp_pb_set_child(ProtobufCMessage *parent, unsigned field_number)
{
	return set_child(parent,
			 protobuf_c_message_descriptor_get_field(parent->descriptor, field_number));
}

ProtobufCMessage *usp_pb_set_child_named(ProtobufCMessage *parent, const char *member)
{
	return set_child(parent, usp_pb_field_named(parent->descriptor, member));
}

ProtobufCMessage *usp_pb_child(const ProtobufCMessage *parent, unsigned field_number)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field(parent->descriptor, field_number);
	if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
		return NULL;
	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    *(const uint32_t *)field_ptr(parent, f->quantifier_offset) != f->id)
		return NULL;
	return *(ProtobufCMessage **)field_ptr(parent, f->offset);
}

int usp_pb_check_unknown(const ProtobufCMessage *m)
{
	for (unsigned i = 0; i < m->n_unknown_fields; i++)
		if (m->unknown_fields[i].tag == 0)
			return -1;
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)field_ptr(m, f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)field_ptr(m, f->quantifier_offset);
			ProtobufCMessage **arr = *(ProtobufCMessage ***)field_ptr(m, f->offset);
			for (size_t k = 0; k < n; k++)
				if (usp_pb_check_unknown(arr[k]) < 0)
					return -1;
		} else {
			const ProtobufCMessage *c = *(ProtobufCMessage **)field_ptr(m, f->offset);
			if (c && usp_pb_check_unknown(c) < 0)
				return -1;
		}
	}
	return 0;
}

void usp_pb_free(ProtobufCMessage *m)
{
	if (m)
		protobuf_c_message_free_unpacked(m, NULL);
}
