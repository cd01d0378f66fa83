/*
 * cwmp_int.h — what the CWMP codec's modules share and nobody else sees:
 * the fixed namespace URIs, name lookups (cwmp_names.c), the parser's
 * element helpers (cwmp_xml.c) and the builder's string buffer
 * (cwmp_build.c). Not installed, not included outside controller/cwmp.
 */
#ifndef USPC_CWMP_INT_H
#define USPC_CWMP_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "cwmp_msg.h"

#define CWMP_URI_SOAP_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define CWMP_URI_SOAP_ENC "http://schemas.xmlsoap.org/soap/encoding/"
#define CWMP_URI_XSD "http://www.w3.org/2001/XMLSchema"
#define CWMP_URI_XSI "http://www.w3.org/2001/XMLSchema-instance"

/* ---- cwmp_names.c -------------------------------------------------------- */

/* The enum cwmp_ns of a namespace URI, or -1 when it is none of the five. */
int cwmp_ns_from_uri(const char *uri);
/* The method whose element is called local, or CWMP_M_UNKNOWN. Fault is
 * not a cwmp element (it is soap-env:Fault) and is never returned. */
enum cwmp_method cwmp_method_from_name(const char *local);
/* "Client" for faults caused by the request's content, else "Server". */
const char *cwmp_fault_side(unsigned code);

/* ---- cwmp_xml.c: reading a parsed tree --------------------------------- */

/* Error sink of one parse: the caller's errbuf (may be NULL). */
struct cwmp_px {
	char *errbuf;
	size_t errlen;
};

/* Formats the reason into errbuf and returns code (negative). */
int cwmp_px_fail(struct cwmp_px *px, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

const char *cwmp_xml_local(const xmlNode *n);
int cwmp_xml_in_ns(const xmlNode *n, const char *uri);
/* First / next element sibling (skips text, comments, PIs). */
const xmlNode *cwmp_xml_first_elem(const xmlNode *parent);
const xmlNode *cwmp_xml_next_elem(const xmlNode *n);
/* First element child whose local name is local, any namespace or none
 * (children of a method are unqualified in the XSDs; some CPEs qualify
 * them anyway). */
const xmlNode *cwmp_xml_child(const xmlNode *parent, const char *local);

/* Text content of n (text and CDATA children joined) in a new string of
 * at most max bytes: CWMP_E_FIELD when n has element children,
 * CWMP_E_LIMIT when longer. */
int cwmp_xml_text(struct cwmp_px *px, const xmlNode *n, size_t max, char **out);

/* Scalar child fields of parent. A missing required field is CWMP_E_FIELD;
 * a missing optional one gives "" (strings), 0 (numbers). Numbers and
 * booleans may be surrounded by XML whitespace; anything else, a sign on an
 * unsigned value, or overflow is CWMP_E_FIELD. */
int cwmp_xml_str(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		 size_t max, char **out);
int cwmp_xml_uint(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		  unsigned *out);
int cwmp_xml_u64(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		 uint64_t *out);
/* A signed int in [lo, hi]. */
int cwmp_xml_int(struct cwmp_px *px, const xmlNode *parent, const char *local, int required, int lo,
		 int hi, int *out);
/* xsd:boolean: 0, 1, true, false. */
int cwmp_xml_bool(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		  int *out);

/* The same for the element n itself (header fields). */
int cwmp_xml_bool_of(struct cwmp_px *px, const xmlNode *n, int *out);
int cwmp_xml_uint_of(struct cwmp_px *px, const xmlNode *n, unsigned *out);

/* The list element called local under parent (required) and the number of
 * its element children (CWMP_E_LIMIT above CWMP_MAX_LIST). Items are then
 * walked with cwmp_xml_first_elem / cwmp_xml_next_elem; soap-enc:arrayType
 * is not needed and not checked. */
int cwmp_xml_list(struct cwmp_px *px, const xmlNode *parent, const char *local,
		  const xmlNode **list, size_t *n);
/* A list of strings (ParameterNames, MethodList, AccessList). */
int cwmp_xml_strings(struct cwmp_px *px, const xmlNode *parent, const char *local, char ***out,
		     size_t *n);
/* A ParameterValueStruct list (Name, Value with its xsi:type); also reads
 * RequestDownload's ArgStructs (Name, Value). */
int cwmp_xml_values(struct cwmp_px *px, const xmlNode *parent, const char *local,
		    struct cwmp_param_value **out, size_t *n);

/* ---- cwmp_parse_rpc.c ---------------------------------------------------- */

/* The fields of method element body into m (m->method already set). */
int cwmp_parse_rpc(struct cwmp_px *px, const xmlNode *body, struct cwmp_msg *m);
/* The detail of a soap-env:Fault (f is the soap Fault element). */
int cwmp_parse_fault(struct cwmp_px *px, const xmlNode *f, struct cwmp_msg *m);

/* ---- cwmp_build.c: the output buffer ------------------------------------- */

/* A growing output buffer with a sticky error: after the first failure
 * every call is a no-op and err keeps the first code. */
struct cwmp_sb {
	char *buf;
	size_t len, cap;
	int err;
};

void cwmp_sb_raw(struct cwmp_sb *b, const char *s);
void cwmp_sb_fmt(struct cwmp_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Escaped text of at most max bytes (CWMP_E_LIMIT); CWMP_E_ARG when s is
 * not UTF-8 or holds a character XML 1.0 cannot carry. */
void cwmp_sb_text(struct cwmp_sb *b, const char *s, size_t max);
/* <name>text</name> on its own line at depth (NULL text is ""). */
void cwmp_sb_el(struct cwmp_sb *b, int depth, const char *name, const char *text, size_t max);
void cwmp_sb_el_uint(struct cwmp_sb *b, int depth, const char *name, uint64_t v);
void cwmp_sb_el_int(struct cwmp_sb *b, int depth, const char *name, int v);
/* Opening / closing tag lines; open's attrs (may be NULL) is raw. */
void cwmp_sb_open(struct cwmp_sb *b, int depth, const char *name, const char *attrs);
void cwmp_sb_close(struct cwmp_sb *b, int depth, const char *name);
/* An xsi:type local name: 1..64 of [A-Za-z0-9_.-]. */
int cwmp_type_ok(const char *t);

/* ---- cwmp_build_rpc.c ---------------------------------------------------- */

/* The method element of m (not FAULT) at depth 2, inside soap-env:Body. */
void cwmp_build_rpc(struct cwmp_sb *b, const struct cwmp_msg *m);
/* The soap-env:Fault element of f at depth 2. */
void cwmp_build_fault_body(struct cwmp_sb *b, const struct cwmp_fault *f);

#endif
