/*
 * cwmp_build.c — struct cwmp_msg to a SOAP 1.1 envelope: the output
 * buffer with XML escaping, the envelope and cwmp header, the public
 * builders (the method bodies are in cwmp_build_rpc.c).
 *
 * Owns: the exact bytes we send, one element a line indented by two
 * spaces, fixed prefixes (soap-env, soap-enc, xsd, xsi, cwmp). A careful
 * string builder rather than libxml2's xmlTextWriter: the messages are
 * small and of fixed shape, the golden vectors pin every byte (the writer's
 * formatting is its own), and the builder must refuse what XML 1.0 cannot
 * carry where the writer would emit character references (&#1;) that no
 * parser accepts.
 *
 * Text rules: &, <, >, " are escaped and a CR is written as &#13; so it
 * survives a parser's line-end normalisation. A value that is not UTF-8,
 * or holds a control character other than TAB, LF, CR (or U+FFFE/U+FFFF),
 * cannot be sent in XML 1.0 at all: the builder fails with CWMP_E_ARG
 * rather than alter it; a CPE's value may hold such bytes, so callers that
 * relay values must expect it. The builder applies the parser's limits
 * (CWMP_MAX_STR, CWMP_MAX_VALUE, CWMP_MAX_LIST, CWMP_MAX_BODY), so what it
 * builds always parses. Pure; any thread.
 */
#include "cwmp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_grow(struct cwmp_sb *b, size_t add)
{
	if (b->err)
		return -1;
	if (b->len + add + 1 <= b->cap)
		return 0;
	if (b->len + add > (size_t)CWMP_MAX_BODY) {
		b->err = CWMP_E_LIMIT;
		return -1;
	}
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + add + 1)
		cap *= 2;
	char *p = realloc(b->buf, cap);
	if (!p) {
		b->err = CWMP_E_NOMEM;
		return -1;
	}
	b->buf = p;
	b->cap = cap;
	return 0;
}

static void sb_mem(struct cwmp_sb *b, const char *s, size_t n)
{
	if (sb_grow(b, n) != 0)
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void cwmp_sb_raw(struct cwmp_sb *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

void cwmp_sb_fmt(struct cwmp_sb *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (!b->err)
			b->err = CWMP_E_ARG;
		return;
	}
	sb_mem(b, tmp, (size_t)n);
}

/* Length of the UTF-8 sequence at s that XML 1.0 allows, or 0. */
static size_t xml_char(const unsigned char *s)
{
	unsigned c = s[0], cp, min;
	size_t n;
	if (c < 0x80)
		return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2, cp = c & 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		n = 3, cp = c & 0x0F, min = 0x800;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
	    cp == 0xFFFF)
		return 0;
	return n;
}

void cwmp_sb_text(struct cwmp_sb *b, const char *s, size_t max)
{
	if (b->err)
		return;
	if (strlen(s) > max) {
		b->err = CWMP_E_LIMIT;
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	while (*p && !b->err) {
		const unsigned char *run = p;
		size_t n;
		while (*p && *p != '&' && *p != '<' && *p != '>' && *p != '"' && *p != '\r' &&
		       (n = xml_char(p)) > 0)
			p += n;
		sb_mem(b, (const char *)run, (size_t)(p - run));
		switch (*p) {
		case '\0':
			return;
		case '&':
			cwmp_sb_raw(b, "&amp;");
			break;
		case '<':
			cwmp_sb_raw(b, "&lt;");
			break;
		case '>':
			cwmp_sb_raw(b, "&gt;");
			break;
		case '"':
			cwmp_sb_raw(b, "&quot;");
			break;
		case '\r':
			cwmp_sb_raw(b, "&#13;");
			break;
		default:
			if (!b->err)
				b->err = CWMP_E_ARG; /* not UTF-8, or not an XML 1.0 char */
			return;
		}
		p++;
	}
}

static void indent(struct cwmp_sb *b, int depth)
{
	static const char sp[] = "                ";
	size_t n = (size_t)depth * 2;
	sb_mem(b, sp, n < sizeof(sp) - 1 ? n : sizeof(sp) - 1);
}

void cwmp_sb_el(struct cwmp_sb *b, int depth, const char *name, const char *text, size_t max)
{
	indent(b, depth);
	cwmp_sb_fmt(b, "<%s>", name);
	cwmp_sb_text(b, text ? text : "", max);
	cwmp_sb_fmt(b, "</%s>\n", name);
}

void cwmp_sb_el_uint(struct cwmp_sb *b, int depth, const char *name, uint64_t v)
{
	indent(b, depth);
	cwmp_sb_fmt(b, "<%s>%llu</%s>\n", name, (unsigned long long)v, name);
}

void cwmp_sb_el_int(struct cwmp_sb *b, int depth, const char *name, int v)
{
	indent(b, depth);
	cwmp_sb_fmt(b, "<%s>%d</%s>\n", name, v, name);
}

void cwmp_sb_open(struct cwmp_sb *b, int depth, const char *name, const char *attrs)
{
	indent(b, depth);
	cwmp_sb_fmt(b, "<%s%s%s>\n", name, attrs ? " " : "", attrs ? attrs : "");
}

void cwmp_sb_close(struct cwmp_sb *b, int depth, const char *name)
{
	indent(b, depth);
	cwmp_sb_fmt(b, "</%s>\n", name);
}

int cwmp_type_ok(const char *t)
{
	size_t n = 0;
	for (; t[n]; n++) {
		char c = t[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= 64;
}

/* ---- envelope -------------------------------------------------------------- */

static int flag_ok(int v)
{
	return v >= -1 && v <= 1;
}

static void build_header(struct cwmp_sb *b, const struct cwmp_header *h)
{
	if (!h->id && h->hold_requests < 0 && h->no_more_requests < 0 && h->session_timeout < 0 &&
	    !h->supported_cwmp_versions && !h->use_cwmp_version)
		return;
	if (!flag_ok(h->hold_requests) || !flag_ok(h->no_more_requests)) {
		b->err = b->err ? b->err : CWMP_E_ARG;
		return;
	}
	cwmp_sb_open(b, 1, "soap-env:Header", NULL);
	if (h->id) {
		indent(b, 2);
		cwmp_sb_raw(b, "<cwmp:ID soap-env:mustUnderstand=\"1\">");
		cwmp_sb_text(b, h->id, CWMP_MAX_STR);
		cwmp_sb_raw(b, "</cwmp:ID>\n");
	}
	if (h->hold_requests >= 0) {
		indent(b, 2);
		cwmp_sb_fmt(
			b,
			"<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">%d</cwmp:HoldRequests>\n",
			h->hold_requests);
	}
	if (h->no_more_requests >= 0) {
		indent(b, 2);
		cwmp_sb_fmt(b, "<cwmp:NoMoreRequests>%d</cwmp:NoMoreRequests>\n",
			    h->no_more_requests);
	}
	if (h->session_timeout >= 0) {
		indent(b, 2);
		cwmp_sb_fmt(b, "<cwmp:SessionTimeout>%d</cwmp:SessionTimeout>\n",
			    h->session_timeout);
	}
	if (h->supported_cwmp_versions) {
		indent(b, 2);
		cwmp_sb_raw(b, "<cwmp:SupportedCWMPVersions soap-env:mustUnderstand=\"0\">");
		cwmp_sb_text(b, h->supported_cwmp_versions, CWMP_MAX_STR);
		cwmp_sb_raw(b, "</cwmp:SupportedCWMPVersions>\n");
	}
	if (h->use_cwmp_version) {
		indent(b, 2);
		cwmp_sb_raw(b, "<cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">");
		cwmp_sb_text(b, h->use_cwmp_version, CWMP_MAX_STR);
		cwmp_sb_raw(b, "</cwmp:UseCWMPVersion>\n");
	}
	cwmp_sb_close(b, 1, "soap-env:Header");
}

static int method_ok(enum cwmp_method m)
{
	return (unsigned)m < CWMP_M_COUNT && m != CWMP_M_EMPTY && m != CWMP_M_UNKNOWN;
}

char *cwmp_build(const struct cwmp_msg *m, size_t *len, int *err)
{
	struct cwmp_sb b = { 0 };
	int dummy;
	if (!err)
		err = &dummy;
	if (len)
		*len = 0;
	if (!m || !len || !cwmp_ns_urn(m->ns) || !method_ok(m->method)) {
		*err = CWMP_E_ARG;
		return NULL;
	}
	cwmp_sb_raw(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	cwmp_sb_raw(&b, "<soap-env:Envelope"
			" xmlns:soap-env=\"" CWMP_URI_SOAP_ENV "\""
			" xmlns:soap-enc=\"" CWMP_URI_SOAP_ENC "\""
			" xmlns:xsd=\"" CWMP_URI_XSD "\""
			" xmlns:xsi=\"" CWMP_URI_XSI "\"");
	cwmp_sb_fmt(&b, " xmlns:cwmp=\"%s\">\n", cwmp_ns_urn(m->ns));
	build_header(&b, &m->header);
	cwmp_sb_open(&b, 1, "soap-env:Body", NULL);
	if (m->method == CWMP_M_FAULT)
		cwmp_build_fault_body(&b, &m->fault);
	else
		cwmp_build_rpc(&b, m);
	cwmp_sb_close(&b, 1, "soap-env:Body");
	cwmp_sb_raw(&b, "</soap-env:Envelope>\n");
	if (b.err) {
		free(b.buf);
		*err = b.err;
		return NULL;
	}
	*err = CWMP_OK;
	*len = b.len;
	return b.buf;
}

char *cwmp_build_fault(enum cwmp_ns ns, const char *id, unsigned code, const char *string,
		       size_t *len, int *err)
{
	struct cwmp_msg m;
	memset(&m, 0, sizeof(m));
	m.ns = ns;
	m.method = CWMP_M_FAULT;
	m.header.id = (char *)id; /* only read */
	m.header.hold_requests = -1;
	m.header.no_more_requests = -1;
	m.header.session_timeout = -1;
	m.fault.code = code;
	m.fault.string = (char *)(string ? string : cwmp_fault_text(code));
	return cwmp_build(&m, len, err);
}
