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

/* calloc + descriptor init; NULL on allocation failure. */
ProtobufCMessage *usp_pb_new(const ProtobufCMessageDescriptor *d);
/* strdup that treats NULL as "". */
char *usp_pb_strdup(const char *s);

/* Append to a repeated field given its array and count: *arr grows by one.
 * Takes ownership of item (a heap message or string) on success only. */
int usp_pb_push(void ***arr, size_t *n, void *item);
/* Append a copy of s to a repeated string field. */
int usp_pb_push_str(char ***arr, size_t *n, const char *s);

/*
 * Append a key/value to a map<string,string> field of parent, named by
 * field number. Copies key and value.
 */
int usp_pb_map_put(ProtobufCMessage *parent, unsigned field_number, const char *key,
		   const char *value);

/* Value of key in a map<string,string> field, or NULL. */
const char *usp_pb_map_get(const ProtobufCMessage *parent, unsigned field_number, const char *key);

/*
 * Create the sub-message for field field_number of parent (singular or
 * oneof member), store it and select it in its oneof. Returns the child
 * (owned by parent) or NULL.
 */
ProtobufCMessage *usp_pb_set_child(ProtobufCMessage *parent, unsigned field_number);

/* The selected member of a oneof containing field number any_member, or
 * NULL if none; *selected receives the selected field's descriptor. */
ProtobufCMessage *usp_pb_oneof_child(const ProtobufCMessage *parent, unsigned any_member,
				     const ProtobufCFieldDescriptor **selected);

/*
 * 0 if no unknown field anywhere in m (recursively) has field number 0,
 * else -1. Field number 0 is invalid protobuf, but protobuf-c accepts it when
 * the tag is an over-long varint (80 00) and would re-encode it as 00 00,
 * which no decoder accepts; decoders call this to refuse such input.
 */
int usp_pb_check_unknown(const ProtobufCMessage *m);

void usp_pb_free(ProtobufCMessage *m);

#endif
