/*
 * pb_check.h — test-only helpers over protobuf-c descriptors: deep equality
 * of two messages, field coverage ("which fields of the schema have been
 * seen with a non-default value"), and hex file I/O for golden vectors.
 * Used by the codec unit tests, the wire check and the vector generator.
 */
#ifndef USPC_TESTS_PB_CHECK_H
#define USPC_TESTS_PB_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/*
 * 1 when a and b have the same descriptor and every field (recursively,
 * repeated fields element by element, oneofs by case and value) is equal.
 * Otherwise 0, and where (cap bytes) names the first differing field as a
 * dotted path, e.g. "Msg.body.request.get.max_depth".
 */
int pb_check_equal(const ProtobufCMessage *a, const ProtobufCMessage *b, char *where, size_t cap);

/* Set of (message descriptor, field) pairs seen with a non-default value. */
struct pb_cover {
	struct pb_cover_item {
		const ProtobufCMessageDescriptor *desc;
		unsigned field_index;
	} * items;
	size_t n, cap;
};

/* Record every non-default field of m, recursively. Aborts on OOM. */
void pb_cover_add(struct pb_cover *c, const ProtobufCMessage *m);
/*
 * Walk every message type reachable from root and call report() for each
 * field never recorded. Enum fields whose enum has a single value cannot be
 * non-default and are not reported. Returns the number of missing fields.
 */
size_t pb_cover_missing(const struct pb_cover *c, const ProtobufCMessageDescriptor *root,
			void (*report)(const char *message, const char *field, void *ud), void *ud);
void pb_cover_fini(struct pb_cover *c);

/* Read a hex text file (whitespace ignored) into a malloc'd buffer. 0 / -1. */
int pb_hex_read(const char *path, uint8_t **out, size_t *out_len);
/* Write bytes as lower-case hex, 32 bytes per line. 0 / -1. */
int pb_hex_write(const char *path, const uint8_t *buf, size_t len);

#endif
