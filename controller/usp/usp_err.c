/*
 * usp_err.c — struct uspc_err helpers, the names and texts of every
 * internal error code (uspc_err_name / uspc_strerror) and the lookups over
 * the TR-369 error code table, all from the lists in usp_err.h. Pure,
 * thread-safe, no globals besides the constant tables.
 */
#include "usp_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int uspc_err_set(struct uspc_err *err, int code, const char *fmt, ...)
{
	if (code >= 0 && code < 7000)
		code = USPC_E_FAILED;
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code < 0 ? code : USPC_E_FAILED;
}

void uspc_err_clear(struct uspc_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

struct err_entry {
	uint32_t code;
	const char *ident;
	const char *text;
};

static const struct err_entry err_table[] = {
#define USP_ERR_ROW_(code, ident, text) { code, #ident, text },
	USP_ERROR_CODES(USP_ERR_ROW_)
#undef USP_ERR_ROW_
};

static const struct err_entry *err_find(uint32_t code)
{
	for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

const char *usp_err_text(uint32_t code)
{
	const struct err_entry *e = err_find(code);
	if (e)
		return e->text;
	if (code >= 7200 && code <= 7299)
		return "Data-model defined error";
	if (code >= 7800 && code <= 7999)
		return "Vendor defined error";
	return "Unknown error code";
}

const char *usp_err_ident(uint32_t code)
{
	const struct err_entry *e = err_find(code);
	return e ? e->ident : NULL;
}

int usp_err_is_known(uint32_t code)
{
	return err_find(code) != NULL || (code >= 7200 && code <= 7299) ||
	       (code >= 7800 && code <= 7999);
}

/* ---- internal codes ---------------------------------------------------- */

/* Each module's codes stay inside its hundred, so ranges never overlap. */
#define RANGE_FITS_(base, end) ((end) - (base)-1 < 100)
_Static_assert(RANGE_FITS_(USP_RECORD_E_BASE_, USP_RECORD_E_END_), "record codes overflow");
_Static_assert(RANGE_FITS_(USP_MSG_E_BASE_, USP_MSG_E_END_), "msg codes overflow");
_Static_assert(RANGE_FITS_(USP_PATH_E_BASE_, USP_PATH_E_END_), "path codes overflow");
_Static_assert(RANGE_FITS_(USPCTL_E_BASE_, USPCTL_E_END_), "uspctl codes overflow");
_Static_assert(RANGE_FITS_(USP_JSON_E_BASE_, USP_JSON_E_END_), "json codes overflow");
_Static_assert(RANGE_FITS_(STORE_E_BASE_, STORE_E_END_), "store codes overflow");
_Static_assert(RANGE_FITS_(MQTT_MTP_E_BASE_, MQTT_MTP_E_END_), "mqtt codes overflow");

struct code_entry {
	int code;
	const char *name;
	const char *text;
};

#define GEN_ROW_(ident, value, text) { USPC_E_##ident, "USPC_E_" #ident, text },
#define MOD_ROW_(prefix, what, ident, text) { prefix##ident, #prefix #ident, what ": " text },
#define RECORD_ROW_(i, n, t) MOD_ROW_(USP_RECORD_E_, "USP record", i, t)
#define MSG_ROW_(i, n, t) MOD_ROW_(USP_MSG_E_, "USP message", i, t)
#define PATH_ROW_(i, n, t) MOD_ROW_(USP_PATH_E_, "USP path", i, t)
#define USPCTL_ROW_(i, n, t) MOD_ROW_(USPCTL_E_, "uspctl", i, t)
#define JSON_ROW_(i, n, t) MOD_ROW_(USP_JSON_E_, "JSON", i, t)
#define STORE_ROW_(i, n, t) MOD_ROW_(STORE_E_, "store", i, t)
#define MQTT_ROW_(i, n, t) MOD_ROW_(MQTT_MTP_E_, "MQTT", i, t)

static const struct code_entry codes[] = {
	{ 0, "OK", "success" },
	USPC_ERRORS(GEN_ROW_) USP_RECORD_ERRORS(RECORD_ROW_) USP_MSG_ERRORS(MSG_ROW_)
		USP_PATH_ERRORS(PATH_ROW_) USPCTL_ERRORS(USPCTL_ROW_) USP_JSON_ERRORS(JSON_ROW_)
			STORE_ERRORS(STORE_ROW_) MQTT_MTP_ERRORS(MQTT_ROW_)
};

static const struct code_entry wire_names[] = {
#define WIRE_ROW_(code, ident, text) { code, "USP_ERR_" #ident, text },
	USP_ERROR_CODES(WIRE_ROW_)
#undef WIRE_ROW_
};

static const struct code_entry *code_find(int code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

static const char *unknown(int code, char *buf, size_t len)
{
	if (!buf || len == 0)
		return "unknown error";
	snprintf(buf, len, "unknown error %d", code);
	return buf;
}

const char *uspc_err_name_r(int code, char *buf, size_t len)
{
	const struct code_entry *e = code_find(code);
	if (e)
		return e->name;
	for (size_t i = 0; code > 0 && i < sizeof(wire_names) / sizeof(wire_names[0]); i++)
		if (wire_names[i].code == code)
			return wire_names[i].name;
	if (code >= 7200 && code <= 7299)
		return "USP_ERR_DATA_MODEL";
	if (code >= 7800 && code <= 7999)
		return "USP_ERR_VENDOR";
	return unknown(code, buf, len);
}

const char *uspc_strerror_r(int code, char *buf, size_t len)
{
	const struct code_entry *e = code_find(code);
	if (e)
		return e->text;
	if (code > 0 && usp_err_is_known((uint32_t)code))
		return usp_err_text((uint32_t)code);
	return unknown(code, buf, len);
}
