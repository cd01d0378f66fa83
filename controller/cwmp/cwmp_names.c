/*
 * cwmp_names.c — the codec's constant tables: error texts, the five cwmp
 * namespace URNs, method element names, the standard fault texts
 * (8000..8006 from the ACS, 9000..9032 from the CPE) with their SOAP
 * faultcode side, and event code matching.
 *
 * Owns: only read-only tables; any thread may call any function here.
 * Every table is indexed by its enum through designated initialisers, so a
 * reordered enum cannot silently pair a value with another's name.
 */
#include "cwmp_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

const char *cwmp_err_str(int err)
{
	switch (err) {
	case CWMP_OK:
		return "ok";
	case CWMP_E_XML:
		return "not well-formed XML";
	case CWMP_E_SOAP:
		return "not a SOAP 1.1 envelope";
	case CWMP_E_NS:
		return "unknown cwmp namespace";
	case CWMP_E_FIELD:
		return "missing or malformed field";
	case CWMP_E_LIMIT:
		return "limit exceeded";
	case CWMP_E_NOMEM:
		return "out of memory";
	case CWMP_E_ARG:
		return "invalid argument";
	}
	return "unknown error";
}

static const char *const ns_urns[CWMP_NS_COUNT] = {
	[CWMP_NS_1_0] = "urn:dslforum-org:cwmp-1-0", [CWMP_NS_1_1] = "urn:dslforum-org:cwmp-1-1",
	[CWMP_NS_1_2] = "urn:dslforum-org:cwmp-1-2", [CWMP_NS_1_3] = "urn:dslforum-org:cwmp-1-3",
	[CWMP_NS_1_4] = "urn:dslforum-org:cwmp-1-4",
};

const char *cwmp_ns_urn(enum cwmp_ns ns)
{
	if ((unsigned)ns >= CWMP_NS_COUNT)
		return NULL;
	return ns_urns[ns];
}

int cwmp_ns_from_uri(const char *uri)
{
	if (!uri)
		return -1;
	for (int i = 0; i < CWMP_NS_COUNT; i++)
		if (strcmp(uri, ns_urns[i]) == 0)
			return i;
	return -1;
}

static const char *const method_names[CWMP_M_COUNT] = {
	[CWMP_M_EMPTY] = "",
	[CWMP_M_UNKNOWN] = "",
	[CWMP_M_FAULT] = "Fault",
	[CWMP_M_INFORM] = "Inform",
	[CWMP_M_INFORM_RESPONSE] = "InformResponse",
	[CWMP_M_TRANSFER_COMPLETE] = "TransferComplete",
	[CWMP_M_TRANSFER_COMPLETE_RESPONSE] = "TransferCompleteResponse",
	[CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE] = "AutonomousTransferComplete",
	[CWMP_M_AUTONOMOUS_TRANSFER_COMPLETE_RESPONSE] = "AutonomousTransferCompleteResponse",
	[CWMP_M_REQUEST_DOWNLOAD] = "RequestDownload",
	[CWMP_M_REQUEST_DOWNLOAD_RESPONSE] = "RequestDownloadResponse",
	[CWMP_M_GET_RPC_METHODS] = "GetRPCMethods",
	[CWMP_M_GET_RPC_METHODS_RESPONSE] = "GetRPCMethodsResponse",
	[CWMP_M_GET_PARAMETER_VALUES] = "GetParameterValues",
	[CWMP_M_GET_PARAMETER_VALUES_RESPONSE] = "GetParameterValuesResponse",
	[CWMP_M_GET_PARAMETER_NAMES] = "GetParameterNames",
	[CWMP_M_GET_PARAMETER_NAMES_RESPONSE] = "GetParameterNamesResponse",
	[CWMP_M_GET_PARAMETER_ATTRIBUTES] = "GetParameterAttributes",
	[CWMP_M_GET_PARAMETER_ATTRIBUTES_RESPONSE] = "GetParameterAttributesResponse",
	[CWMP_M_SET_PARAMETER_VALUES] = "SetParameterValues",
	[CWMP_M_SET_PARAMETER_VALUES_RESPONSE] = "SetParameterValuesResponse",
	[CWMP_M_SET_PARAMETER_ATTRIBUTES] = "SetParameterAttributes",
	[CWMP_M_SET_PARAMETER_ATTRIBUTES_RESPONSE] = "SetParameterAttributesResponse",
	[CWMP_M_ADD_OBJECT] = "AddObject",
	[CWMP_M_ADD_OBJECT_RESPONSE] = "AddObjectResponse",
	[CWMP_M_DELETE_OBJECT] = "DeleteObject",
	[CWMP_M_DELETE_OBJECT_RESPONSE] = "DeleteObjectResponse",
	[CWMP_M_REBOOT] = "Reboot",
	[CWMP_M_REBOOT_RESPONSE] = "RebootResponse",
	[CWMP_M_FACTORY_RESET] = "FactoryReset",
	[CWMP_M_FACTORY_RESET_RESPONSE] = "FactoryResetResponse",
	[CWMP_M_DOWNLOAD] = "Download",
	[CWMP_M_DOWNLOAD_RESPONSE] = "DownloadResponse",
};

const char *cwmp_method_name(enum cwmp_method m)
{
	if ((unsigned)m >= CWMP_M_COUNT || !method_names[m])
		return "";
	return method_names[m];
}

enum cwmp_method cwmp_method_from_name(const char *local)
{
	if (!local || !local[0])
		return CWMP_M_UNKNOWN;
	for (int i = CWMP_M_INFORM; i < CWMP_M_COUNT; i++)
		if (strcmp(local, method_names[i]) == 0)
			return (enum cwmp_method)i;
	return CWMP_M_UNKNOWN;
}

/* The standard fault texts. A fault is "Client" when the request itself
 * was wrong (bad arguments, names, types, values, a read-only parameter,
 * a transfer that can no longer be cancelled), "Server" otherwise. */
struct fault_def {
	const char *text;
	int client;
};

static const struct fault_def acs_faults[] = {
	[0] = { "Method not supported", 0 },
	[1] = { "Request denied (no reason specified)", 0 },
	[2] = { "Internal error", 0 },
	[3] = { "Invalid arguments", 1 },
	[4] = { "Resources exceeded", 0 },
	[5] = { "Retry request", 0 },
	[6] = { "ACS version incompatible with CPE", 0 },
};

static const struct fault_def cpe_faults[] = {
	[0] = { "Method not supported", 0 },
	[1] = { "Request denied (no reason specified)", 0 },
	[2] = { "Internal error", 0 },
	[3] = { "Invalid arguments", 1 },
	[4] = { "Resources exceeded", 0 },
	[5] = { "Invalid parameter name", 1 },
	[6] = { "Invalid parameter type", 1 },
	[7] = { "Invalid parameter value", 1 },
	[8] = { "Attempt to set a non-writable parameter", 1 },
	[9] = { "Notification request rejected", 0 },
	[10] = { "Download failure", 0 },
	[11] = { "Upload failure", 0 },
	[12] = { "File transfer server authentication failure", 0 },
	[13] = { "Unsupported protocol for file transfer", 0 },
	[14] = { "Download failure: unable to join multicast group", 0 },
	[15] = { "Download failure: unable to contact file server", 0 },
	[16] = { "Download failure: unable to access file", 0 },
	[17] = { "Download failure: unable to complete download", 0 },
	[18] = { "Download failure: file corrupted", 0 },
	[19] = { "Download failure: file authentication failure", 0 },
	[20] = { "Download failure: unable to complete download within specified time windows", 0 },
	[21] = { "Cancelation of file transfer not permitted in current transfer state", 1 },
	[22] = { "Invalid UUID format", 0 },
	[23] = { "Unknown Execution Environment", 0 },
	[24] = { "Disabled Execution Environment", 0 },
	[25] = { "Deployment Unit to Execution Environment mismatch", 0 },
	[26] = { "Duplicate Deployment Unit", 0 },
	[27] = { "System resources exceeded", 0 },
	[28] = { "Unknown Deployment Unit", 0 },
	[29] = { "Invalid Deployment Unit state", 0 },
	[30] = { "Invalid Deployment Unit update: downgrade not permitted", 0 },
	[31] = { "Invalid Deployment Unit update: version not specified", 0 },
	[32] = { "Invalid Deployment Unit update: version already exists", 0 },
};

static const struct fault_def *fault_def(unsigned code)
{
	if (code >= 8000 && code - 8000 < sizeof(acs_faults) / sizeof(acs_faults[0]))
		return &acs_faults[code - 8000];
	if (code >= 9000 && code - 9000 < sizeof(cpe_faults) / sizeof(cpe_faults[0]))
		return &cpe_faults[code - 9000];
	return NULL;
}

const char *cwmp_fault_text(unsigned code)
{
	const struct fault_def *d = fault_def(code);
	return d ? d->text : NULL;
}

const char *cwmp_fault_side(unsigned code)
{
	const struct fault_def *d = fault_def(code);
	return d && d->client ? "Client" : "Server";
}

/* Length of s without trailing XML whitespace. */
static size_t trimmed_len(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	return n;
}

/* Standard events are named by their number ("1 BOOT" is any code whose
 * leading number is 1: CPEs vary the text's case and spacing), method
 * events ("M Reboot") and vendor events by their whole text, compared
 * without regard to case or trailing whitespace. */
int cwmp_event_is(const char *code, const char *standard)
{
	if (!code || !standard || !standard[0])
		return 0;
	while (*code == ' ' || *code == '\t' || *code == '\r' || *code == '\n')
		code++;
	if (isdigit((unsigned char)standard[0])) {
		size_t ns = strspn(standard, "0123456789");
		size_t nc = strspn(code, "0123456789");
		return ns == nc && strncmp(code, standard, ns) == 0;
	}
	size_t n = trimmed_len(code);
	return n == strlen(standard) && strncasecmp(code, standard, n) == 0;
}
