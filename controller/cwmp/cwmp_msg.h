/*
 * cwmp_msg.h — the CWMP (TR-069) codec: SOAP 1.1 envelopes as CPEs and ACSs
 * exchange them, parsed into plain structs and built from them, in both
 * directions (the ACS parses what a CPE sends and builds requests; the
 * simulator parses requests and builds what a CPE sends).
 *
 * Pure: no I/O, no globals, no threads. Parsing uses libxml2 with the
 * network, DTD loading and entity substitution off, and refuses any
 * document that has a DOCTYPE at all (SOAP 1.1 forbids one), so entity
 * expansion ("billion laughs") and external entities (XXE) cannot happen.
 * Elements are matched by namespace URI and local name, never by prefix.
 * Every input is bounded: CWMP_MAX_BODY bytes, CWMP_MAX_LIST entries per
 * list, CWMP_MAX_STR bytes per string (values: CWMP_MAX_VALUE).
 *
 * Namespaces. A CPE may use any of urn:dslforum-org:cwmp-1-0 … cwmp-1-4
 * (1.3 and 1.4 formally keep the 1-2 URN, but devices send all five); the
 * parser records which one (struct cwmp_msg.ns) and a reply is built in
 * the same one.
 *
 * Ownership: cwmp_parse fills a struct cwmp_msg whose strings and arrays
 * belong to it (cwmp_msg_free). Builders take a const struct and return a
 * malloc'd NUL-terminated document.
 */
#ifndef USPC_CWMP_MSG_H
#define USPC_CWMP_MSG_H

#include <stddef.h>
#include <stdint.h>

#define CWMP_MAX_BODY (4u * 1024u * 1024u) /* bytes of one envelope */
#define CWMP_MAX_LIST 20000                /* entries of any one list */
#define CWMP_MAX_STR 1024                  /* names, keys, URLs, codes */
#define CWMP_MAX_VALUE 65536               /* one parameter value */

/* Errors returned by cwmp_parse (negative) and cwmp_build_* (NULL + code). */
enum cwmp_err {
	CWMP_OK = 0,
	CWMP_E_XML = -1,   /* not well-formed XML, or has a DOCTYPE */
	CWMP_E_SOAP = -2,  /* no SOAP 1.1 Envelope/Body, or Body not one element */
	CWMP_E_NS = -3,    /* the method is in no known cwmp namespace */
	CWMP_E_FIELD = -4, /* a required field missing or malformed */
	CWMP_E_LIMIT = -5, /* a bound above exceeded */
	CWMP_E_NOMEM = -6,
	CWMP_E_ARG = -7, /* builder: a required field NULL, bad enum */
};
const char *cwmp_err_str(int err);

/* The five namespace URNs, in order; index is enum cwmp_ns. */
enum cwmp_ns { CWMP_NS_1_0, CWMP_NS_1_1, CWMP_NS_1_2, CWMP_NS_1_3, CWMP_NS_1_4, CWMP_NS_COUNT };
const char *cwmp_ns_urn(enum cwmp_ns ns);

/* Every method the codec knows; CWMP_M_EMPTY is an empty HTTP body (the
 * CPE's "nothing more to send"), CWMP_M_UNKNOWN a well-formed envelope
 * whose Body element is a cwmp method the codec does not know (its local
 * name is in cwmp_msg.unknown_name; an ACS answers 8000). */
enum cwmp_method {
	CWMP_M_EMPTY,
	CWMP_M_UNKNOWN,
	CWMP_M_FAULT, /* soap:Fault carrying a cwmp:Fault detail */
	/* CPE → ACS requests and their responses */
	CWMP_M_INFORM,
	CWMP_M_INFORM_RESPONSE,
	CWMP_M_TRANSFER_COMPLETE,
	CWMP_M_TRANSFER_COMPLETE_RESPONSE,
	CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE,
	CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE,
	CWMP_M_REQUEST_DOWNLOAD,
	CWMP_M_REQUEST_DOWNLOAD_RESPONSE,
	/* either direction */
	CWMP_M_GET_RPC_METHODS,
	CWMP_M_GET_RPC_METHODS_RESPONSE,
	/* ACS → CPE requests and their responses */
	CWMP_M_GET_PARAMETER_VALUES,
	CWMP_M_GET_PARAMETER_VALUES_RESPONSE,
	CWMP_M_GET_PARAMETER_NAMES,
	CWMP_M_GET_PARAMETER_NAMES_RESPONSE,
	CWMP_M_GET_PARAMETER_ATTRIBUTES,
	CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE,
	CWMP_M_SET_PARAMETER_VALUES,
	CWMP_M_SET_PARAMETER_VALUES_RESPONSE,
	CWMP_M_SET_PARAMETER_ATTRIBUTES,
	CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE,
	CWMP_M_ADD_OBJECT,
	CWMP_M_ADD_OBJECT_RESPONSE,
	CWMP_M_DELETE_OBJECT,
	CWMP_M_DELETE_OBJECT_RESPONSE,
	CWMP_M_REBOOT,
	CWMP_M_REBOOT_RESPONSE,
	CWMP_M_FACTORY_RESET,
	CWMP_M_FACTORY_RESET_RESPONSE,
	CWMP_M_DOWNLOAD,
	CWMP_M_DOWNLOAD_RESPONSE,
	CWMP_M_COUNT
};
/* The SOAP element's local name ("Inform", "GetParameterValuesResponse",
 * "Fault" for CWMP_M_FAULT, "" for EMPTY/UNKNOWN). */
const char *cwmp_method_name(enum cwmp_method m);

/* SOAP header (cwmp namespace). Absent flags are -1. */
struct cwmp_header {
	char *id;                      /* cwmp:ID, NULL when absent */
	int hold_requests;             /* -1, 0 or 1 */
	int no_more_requests;          /* -1, 0 or 1 (deprecated; parsed) */
	int session_timeout;           /* seconds, -1 when absent (1.3+) */
	char *supported_cwmp_versions; /* "1.0,1.1,1.2,1.3,1.4" (1.4), or NULL */
	char *use_cwmp_version;        /* "1.4" (1.4), or NULL */
};

/* A parameter value with its type: the xsi:type's local name without a
 * prefix ("string", "int", "unsignedInt", "long", "unsignedLong",
 * "boolean", "dateTime", "base64", "hexBinary"); NULL when the sender gave
 * none (the builder then writes "string"). */
struct cwmp_param_value {
	char *name;
	char *value;
	char *type;
};

struct cwmp_param_info { /* GetParameterNamesResponse */
	char *name;
	int writable; /* 0/1 */
};

struct cwmp_param_attr { /* GetParameterAttributesResponse */
	char *name;
	int notification;   /* 0 off, 1 passive, 2 active, 3..6 (1.4) */
	char **access_list; /* e.g. "Subscriber" */
	size_t n_access_list;
};

struct cwmp_set_attr { /* SetParameterAttributes entry */
	char *name;
	int notification_change; /* 0/1 */
	int notification;
	int access_list_change; /* 0/1 */
	char **access_list;
	size_t n_access_list;
};

struct cwmp_event {
	char *code;        /* "0 BOOTSTRAP", "1 BOOT", "M Reboot", ... as sent */
	char *command_key; /* "" when empty */
};

struct cwmp_device_id {
	char *manufacturer;
	char *oui;
	char *product_class;
	char *serial_number;
};

struct cwmp_inform {
	struct cwmp_device_id device_id;
	struct cwmp_event *events;
	size_t n_events;
	unsigned max_envelopes;
	char *current_time; /* as sent (xsd:dateTime) */
	unsigned retry_count;
	struct cwmp_param_value *params;
	size_t n_params;
};

struct cwmp_fault_struct { /* FaultStruct of TransferComplete */
	unsigned code;     /* 0 = success */
	char *string;      /* "" when none */
};

struct cwmp_transfer_complete { /* also AutonomousTransferComplete's common part */
	char *command_key;
	struct cwmp_fault_struct fault;
	char *start_time;
	char *complete_time;
	/* AutonomousTransferComplete only (NULL / 0 otherwise) */
	char *announce_url;
	char *transfer_url;
	int is_download;
	char *file_type;
	uint64_t file_size;
	char *target_file_name;
};

struct cwmp_spv_fault { /* SetParameterValuesFault inside a 9003 Fault */
	char *name;
	unsigned code;
	char *string;
};

struct cwmp_fault {             /* cwmp:Fault inside soap:Fault/detail */
	char *soap_faultcode;   /* "Client" or "Server" (prefix stripped) */
	char *soap_faultstring; /* "CWMP fault" */
	unsigned code;          /* 8000..8006 ACS, 9000..9032 CPE, 9800+ vendor */
	char *string;
	struct cwmp_spv_fault *spv;
	size_t n_spv;
};

struct cwmp_download { /* Download request */
	char *command_key;
	char *file_type; /* "1 Firmware Upgrade Image" */
	char *url;
	char *username; /* "" when none */
	char *password; /* "" when none */
	uint64_t file_size;
	char *target_file_name;
	unsigned delay_seconds;
	char *success_url;
	char *failure_url;
};

struct cwmp_msg {
	enum cwmp_ns ns; /* namespace used (parse: the sender's) */
	struct cwmp_header header;
	enum cwmp_method method;
	char *unknown_name; /* CWMP_M_UNKNOWN: the element's local name */

	/* Which of these are meaningful depends on method. */
	struct cwmp_inform inform;              /* INFORM */
	struct cwmp_transfer_complete transfer; /* (AUTONOMOUS_)TRANSFER_COMPLETE */
	struct cwmp_fault fault;                /* FAULT */
	struct cwmp_download download;          /* DOWNLOAD */

	/* GPV / GPA request names; GPVResponse / SPV request values;
	 * RequestDownload: FileType in transfer.file_type, FileTypeArg's
	 * ArgStructs in values (name, value; type NULL) */
	char **names;
	size_t n_names;
	struct cwmp_param_value *values;
	size_t n_values;
	struct cwmp_param_info *infos; /* GPNResponse */
	size_t n_infos;
	struct cwmp_param_attr *attrs; /* GPAResponse */
	size_t n_attrs;
	struct cwmp_set_attr *set_attrs; /* SPA request */
	size_t n_set_attrs;
	char **methods; /* GetRPCMethodsResponse MethodList */
	size_t n_methods;

	char *parameter_path;     /* GPN ParameterPath */
	int next_level;           /* GPN NextLevel 0/1 */
	char *parameter_key;      /* SPV / AddObject / DeleteObject ParameterKey */
	char *object_name;        /* AddObject / DeleteObject ObjectName */
	char *command_key;        /* Reboot CommandKey */
	unsigned instance_number; /* AddObjectResponse */
	int status;               /* SPV/Add/Delete/Download Response Status 0/1 */
	unsigned max_envelopes;   /* InformResponse */
	char *start_time;         /* DownloadResponse */
	char *complete_time;      /* DownloadResponse */
};

/* Initialises libxml2 (its globals are set up on first use without a lock
 * in 2.9): call once at program start, before threads that parse. A
 * single-threaded program may skip it. Changes no parser setting. */
void cwmp_init(void);

/* Parse one HTTP body. len 0 (or only whitespace) gives CWMP_M_EMPTY.
 * On success 0 and *out filled (free with cwmp_msg_free); on failure a
 * negative enum cwmp_err, *out zeroed, and errbuf (when not NULL) holds a
 * one-line reason naming the element at fault. Never reads past len. */
int cwmp_parse(const char *body, size_t len, struct cwmp_msg *out, char *errbuf, size_t errlen);
void cwmp_msg_free(struct cwmp_msg *m);

/* Build an envelope for m (m->method, m->ns, m->header and the fields the
 * method uses). Returns a malloc'd document and its length in *len, or
 * NULL with *err set. CWMP_M_EMPTY is not buildable (send no body). Text is
 * escaped; every value is written with its xsi:type; arrays carry
 * soap-enc:arrayType with their length, as CPEs expect. */
char *cwmp_build(const struct cwmp_msg *m, size_t *len, int *err);

/* A Fault envelope (ACS → CPE 8xxx or CPE → ACS 9xxx) with cwmp:ID id. */
char *cwmp_build_fault(enum cwmp_ns ns, const char *id, unsigned code, const char *string,
		       size_t *len, int *err);

/* The standard text of a fault code (8000..8006, 9000..9032), or NULL. */
const char *cwmp_fault_text(unsigned code);

/* Event codes: 1 when code (as received) names that standard event, by its
 * leading number or "M <Method>" form: cwmp_event_is(e, "1 BOOT"). */
int cwmp_event_is(const char *code, const char *standard);

/* The uspc endpoint id for a TR-069 DeviceId, per TR-369's authority
 * scheme: "os::<OUI>-<Serial>", or "ops::<OUI>-<ProductClass>-<Serial>"
 * when the product class is not empty; each part percent-encoded as a USP
 * instance identifier: letters, digits, '-', '.', '_' stay, any other
 * byte is %HH (upper-case hex). TR-369 caps an instance identifier at 50
 * characters; real serial numbers can exceed that, so the cap is not
 * applied here (a dual-stack agent with such an id could not use it
 * anyway). Written into buf (NUL-terminated); returns the length, or -1
 * when OUI or serial is empty, a part is longer than 64 bytes raw, or the
 * result does not fit in buflen (CWMP_EID_MAX is always enough). */
#define CWMP_EID_MAX 600
int cwmp_endpoint_id(const struct cwmp_device_id *id, char *buf, size_t buflen);

#endif
