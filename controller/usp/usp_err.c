/*
 * usp_err.c — struct uspc_err helpers and the lookups over the TR-369 error
 * code table declared once in usp_err.h. Pure, thread-safe, no globals
 * besides the constant table.
 */
#include "usp_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int uspc_err_set(struct uspc_err *err, int code, const char *fmt, ...)
{
	if (code >= 0 && code < 7000)
		code = -1;
	if (err) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code < 0 ? code : -1;
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
