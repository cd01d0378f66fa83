/*
 * usp_pb.h — small helpers to heap-build protobuf-c messages generically
 * (by descriptor), so a message built here can be released with
 * protobuf_c_message_free_unpacked(m, NULL) exactly like a decoded one.
 * Rule: everything reachable from a heap-built message is malloc'd by these
 * helpers (or by malloc/strdup); never mix in borrowed pointers.
 */
#ifndef USPC_USP_PB_H
#define USPC_USP_PB_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "usp_err.h"

/* calloc + descriptor init; NULL on allocation failure. */
ProtobufCMessage *usp_pb_new(const ProtobufCMessageDescriptor *d);
/* strdup that treats NULL as "". */
char *usp_pb_strdup(const char *s);

/* Append to a repeated field given its array and count: *arr grows by one.
 * Takes ownership of item (a heap message or string) on success only.
 * 0 or USPC_E_NOMEM. */
int usp_pb_push(void ***arr, size_t *n, void *item);
/* Append a copy of s to a repeated string field. 0 or USPC_E_NOMEM. */
int usp_pb_push_str(char ***arr, size_t *n, const char *s);

/*
 * Fields are named, not numbered. The macros below take a typed parent and
 * the member of the generated struct: a misspelt field, or one the parent's
 * message does not have, does not compile, and USP_PB_CHILD returns the
 * member's own type. At run time the member is looked up by name in the
 * parent's descriptor (a binary search over a handful of names), so the
 * name is always the generated one. Numbers remain only where they come from
 * protoc-c itself: a oneof's *_case value (usp_pb_set_child, usp_pb_child).
 */
#define USP_PB_CHILD(parent, member) \
	((__typeof__((parent)->member))usp_pb_set_child_named(&(parent)->base, #member))
#define USP_PB_MAP_PUT(parent, member, key, value) \
	((void)sizeof((parent)->member), usp_pb_map_put(&(parent)->base, #member, (key), (value)))
#define USP_PB_MAP_GET(parent, member, key) \
	((void)sizeof((parent)->member), usp_pb_map_get(&(parent)->base, #member, (key)))

/*
 * Field of d by the name its generated C struct member has: the proto name,
 * or that name plus '_' where protoc-c renamed a C keyword (delete_,
 * register_). NULL if d has no such field.
 */
const ProtobufCFieldDescriptor *usp_pb_field_named(const ProtobufCMessageDescriptor *d,
						   const char *member);

/*
 * Append a key/value to the map<string,string> field member of parent.
 * Copies key and value. USPC_E_INVAL if member is not such a field,
 * USPC_E_NOMEM.
 */
int usp_pb_map_put(ProtobufCMessage *parent, const char *member, const char *key,
		   const char *value);

/* Value of key in the map<string,string> field member, or NULL. */
const char *usp_pb_map_get(const ProtobufCMessage *parent, const char *member, const char *key);

/*
 * Create the sub-message for field field_number of parent (singular or
 * oneof member), store it and select it in its oneof; an existing one is
 * returned as it is. Returns the child (owned by parent) or NULL.
 * field_number is a generated oneof case value (USP__NOTIFY__NOTIFICATION_EVENT);
 * for a named field use USP_PB_CHILD.
 */
ProtobufCMessage *usp_pb_set_child(ProtobufCMessage *parent, unsigned field_number);
/* The same, for the field with the generated member name member. */
ProtobufCMessage *usp_pb_set_child_named(ProtobufCMessage *parent, const char *member);

/* The sub-message in field field_number of parent (e.g. a oneof's *_case
 * value), or NULL if that field is not a message or is not set (a oneof
 * member other than the selected one). */
ProtobufCMessage *usp_pb_child(const ProtobufCMessage *parent, unsigned field_number);

/*
 * 0 if no unknown field anywhere in m (recursively) has field number 0,
 * else -1. Field number 0 is invalid protobuf, but protobuf-c accepts it when
 * the tag is an over-long varint (80 00) and would re-encode it as 00 00,
 * which no decoder accepts; decoders call this to refuse such input.
 */
int usp_pb_check_unknown(const ProtobufCMessage *m);

void usp_pb_free(ProtobufCMessage *m);

#endif
