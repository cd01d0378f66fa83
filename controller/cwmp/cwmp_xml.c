/*
 * cwmp_xml.c — the parser's bounded readers over a libxml2 tree: element
 * lookup by local name, text of at most N bytes, numbers, booleans, lists
 * of at most CWMP_MAX_LIST items, and parameter value lists with their
 * xsi:type.
 *
 * Owns: the reason strings of field errors (each names the element at
 * fault and its parent). Reads a tree that one thread owns for the
 * duration of one cwmp_parse; keeps nothing between calls.
 */
#include "cwmp_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cwmp_px_fail(struct cwmp_px *px, int code, const char *fmt, ...)
{
	if (px->errbuf && px->errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(px->errbuf, px->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *cwmp_xml_local(const xmlNode *n)
{
	return n && n->name ? (const char *)n->name : "";
}

int cwmp_xml_in_ns(const xmlNode *n, const char *uri)
{
	return n && n->ns && n->ns->href && strcmp((const char *)n->ns->href, uri) == 0;
}

const xmlNode *cwmp_xml_first_elem(const xmlNode *parent)
{
	for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

const xmlNode *cwmp_xml_next_elem(const xmlNode *n)
{
	for (const xmlNode *c = n ? n->next : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return c;
	return NULL;
}

const xmlNode *cwmp_xml_child(const xmlNode *parent, const char *local)
{
	for (const xmlNode *c = cwmp_xml_first_elem(parent); c; c = cwmp_xml_next_elem(c))
		if (strcmp(cwmp_xml_local(c), local) == 0)
			return c;
	return NULL;
}

int cwmp_xml_text(struct cwmp_px *px, const xmlNode *n, size_t max, char **out)
{
	size_t len = 0;
	*out = NULL;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_ELEMENT_NODE)
			return cwmp_px_fail(px, CWMP_E_FIELD,
					    "%s: element <%s> where text expected",
					    cwmp_xml_local(n), cwmp_xml_local(c));
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			len += strlen((const char *)c->content);
		if (len > max)
			return cwmp_px_fail(px, CWMP_E_LIMIT, "%s: text longer than %zu bytes",
					    cwmp_xml_local(n), max);
	}
	char *s = malloc(len + 1);
	if (!s)
		return cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
	size_t pos = 0;
	for (const xmlNode *c = n->children; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content) {
			size_t k = strlen((const char *)c->content);
			memcpy(s + pos, c->content, k);
			pos += k;
		}
	}
	s[pos] = '\0';
	*out = s;
	return 0;
}

static int missing(struct cwmp_px *px, const xmlNode *parent, const char *local)
{
	return cwmp_px_fail(px, CWMP_E_FIELD, "%s: missing %s", cwmp_xml_local(parent), local);
}

int cwmp_xml_str(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		 size_t max, char **out)
{
	const xmlNode *n = cwmp_xml_child(parent, local);
	*out = NULL;
	if (n)
		return cwmp_xml_text(px, n, max, out);
	if (required)
		return missing(px, parent, local);
	*out = strdup("");
	return *out ? 0 : cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
}

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* n's text with XML whitespace trimmed into tok (a number or boolean is
 * short). 1 when done, or < 0. */
static int scalar_of(struct cwmp_px *px, const xmlNode *n, char *tok, size_t toklen)
{
	char *s;
	int rc = cwmp_xml_text(px, n, 256, &s);
	if (rc != 0)
		return rc == CWMP_E_LIMIT ? cwmp_px_fail(px, CWMP_E_FIELD, "%s: not a number",
							 cwmp_xml_local(n))
					  : rc;
	const char *b = s, *e = s + strlen(s);
	while (b < e && is_ws(*b))
		b++;
	while (e > b && is_ws(e[-1]))
		e--;
	size_t k = (size_t)(e - b);
	if (k == 0 || k >= toklen) {
		free(s);
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: empty or too long", cwmp_xml_local(n));
	}
	memcpy(tok, b, k);
	tok[k] = '\0';
	free(s);
	return 1;
}

/* The same for parent's child local: 0 when absent and optional. */
static int scalar(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		  char *tok, size_t toklen)
{
	const xmlNode *n = cwmp_xml_child(parent, local);
	if (!n)
		return required ? missing(px, parent, local) : 0;
	return scalar_of(px, n, tok, toklen);
}

/* Decimal digits only into *v; -1 on anything else or overflow. */
static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int cwmp_xml_u64(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		 uint64_t *out)
{
	char tok[32];
	*out = 0;
	int rc = scalar(px, parent, local, required, tok, sizeof(tok));
	if (rc <= 0)
		return rc;
	const char *p = tok[0] == '+' ? tok + 1 : tok;
	if (parse_u64(p, UINT64_MAX, out) != 0)
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: not an unsignedLong: '%s'", local, tok);
	return 0;
}

int cwmp_xml_uint(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		  unsigned *out)
{
	char tok[32];
	uint64_t v = 0;
	*out = 0;
	int rc = scalar(px, parent, local, required, tok, sizeof(tok));
	if (rc <= 0)
		return rc;
	const char *p = tok[0] == '+' ? tok + 1 : tok;
	if (parse_u64(p, UINT32_MAX, &v) != 0)
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: not an unsignedInt: '%s'", local, tok);
	*out = (unsigned)v;
	return 0;
}

int cwmp_xml_int(struct cwmp_px *px, const xmlNode *parent, const char *local, int required, int lo,
		 int hi, int *out)
{
	char tok[32];
	uint64_t v = 0;
	*out = 0;
	int rc = scalar(px, parent, local, required, tok, sizeof(tok));
	if (rc <= 0)
		return rc;
	int neg = tok[0] == '-';
	const char *p = tok[0] == '-' || tok[0] == '+' ? tok + 1 : tok;
	if (parse_u64(p, (uint64_t)INT32_MAX + 1, &v) != 0 || (!neg && v > INT32_MAX))
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: not an int: '%s'", local, tok);
	int64_t x = neg ? -(int64_t)v : (int64_t)v;
	if (x < lo || x > hi)
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: %lld not in %d..%d", local, (long long)x,
				    lo, hi);
	*out = (int)x;
	return 0;
}

static int bool_tok(struct cwmp_px *px, const char *local, const char *tok, int *out)
{
	if (strcmp(tok, "1") == 0 || strcmp(tok, "true") == 0)
		*out = 1;
	else if (strcmp(tok, "0") == 0 || strcmp(tok, "false") == 0)
		*out = 0;
	else
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: not a boolean: '%s'", local, tok);
	return 0;
}

int cwmp_xml_bool(struct cwmp_px *px, const xmlNode *parent, const char *local, int required,
		  int *out)
{
	char tok[8];
	*out = 0;
	int rc = scalar(px, parent, local, required, tok, sizeof(tok));
	return rc <= 0 ? rc : bool_tok(px, local, tok, out);
}

int cwmp_xml_bool_of(struct cwmp_px *px, const xmlNode *n, int *out)
{
	char tok[8];
	*out = 0;
	int rc = scalar_of(px, n, tok, sizeof(tok));
	return rc <= 0 ? rc : bool_tok(px, cwmp_xml_local(n), tok, out);
}

int cwmp_xml_uint_of(struct cwmp_px *px, const xmlNode *n, unsigned *out)
{
	char tok[32];
	uint64_t v = 0;
	*out = 0;
	int rc = scalar_of(px, n, tok, sizeof(tok));
	if (rc <= 0)
		return rc;
	const char *p = tok[0] == '+' ? tok + 1 : tok;
	if (parse_u64(p, UINT32_MAX, &v) != 0)
		return cwmp_px_fail(px, CWMP_E_FIELD, "%s: not an unsignedInt: '%s'",
				    cwmp_xml_local(n), tok);
	*out = (unsigned)v;
	return 0;
}

int cwmp_xml_list(struct cwmp_px *px, const xmlNode *parent, const char *local,
		  const xmlNode **list, size_t *n)
{
	*list = cwmp_xml_child(parent, local);
	*n = 0;
	if (!*list)
		return missing(px, parent, local);
	for (const xmlNode *c = cwmp_xml_first_elem(*list); c; c = cwmp_xml_next_elem(c))
		if (++*n > CWMP_MAX_LIST)
			return cwmp_px_fail(px, CWMP_E_LIMIT, "%s: more than %d entries", local,
					    CWMP_MAX_LIST);
	return 0;
}

int cwmp_xml_strings(struct cwmp_px *px, const xmlNode *parent, const char *local, char ***out,
		     size_t *n)
{
	const xmlNode *list;
	size_t count;
	int rc = cwmp_xml_list(px, parent, local, &list, &count);
	if (rc != 0 || count == 0)
		return rc;
	*out = calloc(count, sizeof(**out));
	if (!*out)
		return cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
	*n = count;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c; c = cwmp_xml_next_elem(c), i++) {
		rc = cwmp_xml_text(px, c, CWMP_MAX_STR, &(*out)[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The xsi:type of a Value without its prefix into *type (NULL when absent):
 * CWMP_E_FIELD unless it is a plain name. */
static int value_type(struct cwmp_px *px, const xmlNode *v, char **type)
{
	*type = NULL;
	xmlChar *t = xmlGetNsProp(v, (const xmlChar *)"type", (const xmlChar *)CWMP_URI_XSI);
	if (!t)
		return 0;
	const char *s = (const char *)t;
	const char *colon = strrchr(s, ':');
	const char *local = colon ? colon + 1 : s;
	int rc = 0;
	if (!cwmp_type_ok(local))
		rc = cwmp_px_fail(px, CWMP_E_FIELD, "Value: bad xsi:type '%.64s'", s);
	else if (!(*type = strdup(local)))
		rc = cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
	xmlFree(t);
	return rc;
}

int cwmp_xml_values(struct cwmp_px *px, const xmlNode *parent, const char *local,
		    struct cwmp_param_value **out, size_t *n)
{
	const xmlNode *list;
	size_t count;
	int rc = cwmp_xml_list(px, parent, local, &list, &count);
	if (rc != 0 || count == 0)
		return rc;
	*out = calloc(count, sizeof(**out));
	if (!*out)
		return cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
	*n = count;
	size_t i = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(list); c; c = cwmp_xml_next_elem(c), i++) {
		struct cwmp_param_value *pv = &(*out)[i];
		rc = cwmp_xml_str(px, c, "Name", 1, CWMP_MAX_STR, &pv->name);
		if (rc != 0)
			return rc;
		const xmlNode *v = cwmp_xml_child(c, "Value");
		if (!v)
			return missing(px, c, "Value");
		rc = cwmp_xml_text(px, v, CWMP_MAX_VALUE, &pv->value);
		if (rc == 0)
			rc = value_type(px, v, &pv->type);
		if (rc != 0)
			return rc;
	}
	return 0;
}
