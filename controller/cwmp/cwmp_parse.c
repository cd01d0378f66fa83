/*
 * cwmp_parse.c — one HTTP body to a struct cwmp_msg: the XML document, the
 * SOAP envelope, the cwmp header and the choice of method (the method's
 * fields are read by cwmp_parse_rpc.c), and cwmp_msg_free.
 *
 * Owns: the libxml2 parser context of one call. Any thread may parse;
 * nothing outlives the call and no libxml2 global is changed:
 *  - errors go to a structured handler on this context's own SAX table
 *    (XML_PARSE_NOERROR | NOWARNING silence the default printing), which
 *    keeps the first message for errbuf; nothing reaches stderr;
 *  - a DOCTYPE stops the parser from its own SAX callback the moment it is
 *    seen, before any internal subset is read, so no entity is ever
 *    declared: entity expansion ("billion laughs") and external entities
 *    cannot happen, and no external entity loader is ever called, which
 *    is why the process-wide xmlSetExternalEntityLoader is not needed;
 *  - options: XML_PARSE_NONET (no fetches), XML_PARSE_NOCDATA (CDATA read
 *    as text); never NOENT, DTDLOAD or HUGE, so libxml2's own depth and
 *    size limits stay on. The body is capped at CWMP_MAX_BODY first.
 * libxml2 2.9 initialises its globals on first use without a lock, hence
 * cwmp_init() for programs that parse on several threads.
 */
#include "cwmp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

void cwmp_init(void)
{
	xmlInitParser();
}

/* Per-call parser state, reached from the SAX callbacks via _private. */
struct doc_state {
	int doctype;
	int have_error;
	char error[160];
};

static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct doc_state *st = ctxt->_private;
	st->doctype = 1;
	xmlStopParser(ctxt);
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct doc_state *st = ctxt ? ctxt->_private : NULL;
	if (!st || st->have_error || !e || e->level < XML_ERR_ERROR)
		return;
	st->have_error = 1;
	snprintf(st->error, sizeof(st->error), "line %d: %s", e->line,
		 e->message ? e->message : "error");
	size_t n = strlen(st->error);
	while (n > 0 && (st->error[n - 1] == '\n' || st->error[n - 1] == '\r'))
		st->error[--n] = '\0';
}

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* The document, or NULL with the reason in px. */
static xmlDoc *read_doc(struct cwmp_px *px, const char *body, size_t len, int *rc)
{
	struct doc_state st = { 0 };
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(body, (int)len);
	if (!ctxt) {
		*rc = cwmp_px_fail(px, CWMP_E_NOMEM, "XML: no parser context");
		return NULL;
	}
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	ctxt->_private = &st;
	ctxt->sax->internalSubset = on_doctype;
	ctxt->sax->externalSubset = on_doctype;
	ctxt->sax->serror = on_error;
	xmlParseDocument(ctxt);
	xmlDoc *doc = ctxt->myDoc;
	int ok = ctxt->wellFormed && !st.doctype;
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	if (doc && (doc->intSubset || doc->extSubset))
		st.doctype = 1, ok = 0;
	if (ok && doc)
		return doc;
	xmlFreeDoc(doc);
	if (st.doctype)
		*rc = cwmp_px_fail(px, CWMP_E_XML, "DOCTYPE not allowed in SOAP");
	else
		*rc = cwmp_px_fail(px, CWMP_E_XML, "XML: %s",
				   st.have_error ? st.error : "not well-formed");
	return NULL;
}

/* ---- header ---------------------------------------------------------------- */

static int parse_header(struct cwmp_px *px, const xmlNode *hdr, struct cwmp_header *h)
{
	int rc = 0;
	for (const xmlNode *c = cwmp_xml_first_elem(hdr); c && rc == 0; c = cwmp_xml_next_elem(c)) {
		if (cwmp_ns_from_uri(c->ns ? (const char *)c->ns->href : NULL) < 0)
			continue; /* another protocol's header: not ours to judge */
		const char *name = cwmp_xml_local(c);
		if (strcmp(name, "ID") == 0 && !h->id) {
			rc = cwmp_xml_text(px, c, CWMP_MAX_STR, &h->id);
		} else if (strcmp(name, "HoldRequests") == 0) {
			rc = cwmp_xml_bool_of(px, c, &h->hold_requests);
		} else if (strcmp(name, "NoMoreRequests") == 0) {
			rc = cwmp_xml_bool_of(px, c, &h->no_more_requests);
		} else if (strcmp(name, "SessionTimeout") == 0) {
			unsigned v;
			rc = cwmp_xml_uint_of(px, c, &v);
			if (rc == 0 && v > INT32_MAX)
				rc = cwmp_px_fail(px, CWMP_E_FIELD, "SessionTimeout: too large");
			h->session_timeout = rc == 0 ? (int)v : -1;
		} else if (strcmp(name, "SupportedCWMPVersions") == 0 &&
			   !h->supported_cwmp_versions) {
			rc = cwmp_xml_text(px, c, CWMP_MAX_STR, &h->supported_cwmp_versions);
		} else if (strcmp(name, "UseCWMPVersion") == 0 && !h->use_cwmp_version) {
			rc = cwmp_xml_text(px, c, CWMP_MAX_STR, &h->use_cwmp_version);
		}
	}
	return rc;
}

/* ---- envelope -------------------------------------------------------------- */

static int parse_body(struct cwmp_px *px, const xmlNode *body, struct cwmp_msg *m)
{
	const xmlNode *el = cwmp_xml_first_elem(body);
	if (!el)
		return cwmp_px_fail(px, CWMP_E_SOAP, "Body: no element");
	if (cwmp_xml_next_elem(el))
		return cwmp_px_fail(px, CWMP_E_SOAP, "Body: more than one element (<%s>, <%s>)",
				    cwmp_xml_local(el), cwmp_xml_local(cwmp_xml_next_elem(el)));
	if (cwmp_xml_in_ns(el, CWMP_URI_SOAP_ENV)) {
		if (strcmp(cwmp_xml_local(el), "Fault") != 0)
			return cwmp_px_fail(px, CWMP_E_SOAP, "Body: unexpected soap <%s>",
					    cwmp_xml_local(el));
		m->method = CWMP_M_FAULT;
		return cwmp_parse_fault(px, el, m);
	}
	int ns = cwmp_ns_from_uri(el->ns ? (const char *)el->ns->href : NULL);
	if (ns < 0)
		return cwmp_px_fail(px, CWMP_E_NS, "<%s>: namespace '%.100s' is not cwmp",
				    cwmp_xml_local(el),
				    el->ns ? (const char *)el->ns->href : "(none)");
	m->ns = (enum cwmp_ns)ns;
	m->method = cwmp_method_from_name(cwmp_xml_local(el));
	if (m->method == CWMP_M_UNKNOWN) {
		m->unknown_name = strdup(cwmp_xml_local(el));
		if (!m->unknown_name)
			return cwmp_px_fail(px, CWMP_E_NOMEM, "out of memory");
		return 0;
	}
	return cwmp_parse_rpc(px, el, m);
}

static int parse_envelope(struct cwmp_px *px, const xmlNode *env, struct cwmp_msg *m)
{
	if (!env || !cwmp_xml_in_ns(env, CWMP_URI_SOAP_ENV) ||
	    strcmp(cwmp_xml_local(env), "Envelope") != 0)
		return cwmp_px_fail(px, CWMP_E_SOAP, "root <%s> is not a SOAP 1.1 Envelope",
				    cwmp_xml_local(env));
	const xmlNode *header = NULL, *body = NULL;
	for (const xmlNode *c = cwmp_xml_first_elem(env); c; c = cwmp_xml_next_elem(c)) {
		const char *name = cwmp_xml_local(c);
		if (!cwmp_xml_in_ns(c, CWMP_URI_SOAP_ENV))
			continue;
		if (strcmp(name, "Header") == 0 && !header && !body) {
			header = c;
		} else if (strcmp(name, "Body") == 0) {
			if (body)
				return cwmp_px_fail(px, CWMP_E_SOAP, "Envelope: two Body elements");
			body = c;
		}
	}
	if (!body)
		return cwmp_px_fail(px, CWMP_E_SOAP, "Envelope: no Body");
	int rc = header ? parse_header(px, header, &m->header) : 0;
	return rc != 0 ? rc : parse_body(px, body, m);
}

static void msg_init(struct cwmp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->header.hold_requests = -1;
	m->header.no_more_requests = -1;
	m->header.session_timeout = -1;
}

int cwmp_parse(const char *body, size_t len, struct cwmp_msg *out, char *errbuf, size_t errlen)
{
	struct cwmp_px px = { errbuf, errlen };
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!out)
		return cwmp_px_fail(&px, CWMP_E_ARG, "no output");
	msg_init(out);
	int rc = 0;
	if (len == 0 || (body && is_blank(body, len))) {
		out->method = CWMP_M_EMPTY;
	} else if (!body) {
		rc = cwmp_px_fail(&px, CWMP_E_ARG, "no body");
	} else if (len > CWMP_MAX_BODY) {
		rc = cwmp_px_fail(&px, CWMP_E_LIMIT, "body of %zu bytes over %u", len,
				  CWMP_MAX_BODY);
	} else {
		xmlInitParser(); /* idempotent; see cwmp_init */
		xmlDoc *doc = read_doc(&px, body, len, &rc);
		if (doc) {
			rc = parse_envelope(&px, xmlDocGetRootElement(doc), out);
			xmlFreeDoc(doc);
		}
	}
	if (rc != 0) {
		cwmp_msg_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* ---- free ------------------------------------------------------------------ */

static void free_strs(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void free_values(struct cwmp_param_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].value);
		free(v[i].type);
	}
	free(v);
}

static void free_inform(struct cwmp_inform *in)
{
	free(in->device_id.manufacturer);
	free(in->device_id.oui);
	free(in->device_id.product_class);
	free(in->device_id.serial_number);
	for (size_t i = 0; in->events && i < in->n_events; i++) {
		free(in->events[i].code);
		free(in->events[i].command_key);
	}
	free(in->events);
	free(in->current_time);
	free_values(in->params, in->n_params);
}

static void free_transfer(struct cwmp_transfer_complete *t)
{
	free(t->command_key);
	free(t->fault.string);
	free(t->start_time);
	free(t->complete_time);
	free(t->announce_url);
	free(t->transfer_url);
	free(t->file_type);
	free(t->target_file_name);
}

static void free_fault(struct cwmp_fault *f)
{
	free(f->soap_faultcode);
	free(f->soap_faultstring);
	free(f->string);
	for (size_t i = 0; f->spv && i < f->n_spv; i++) {
		free(f->spv[i].name);
		free(f->spv[i].string);
	}
	free(f->spv);
}

static void free_download(struct cwmp_download *d)
{
	free(d->command_key);
	free(d->file_type);
	free(d->url);
	free(d->username);
	free(d->password);
	free(d->target_file_name);
	free(d->success_url);
	free(d->failure_url);
}

void cwmp_msg_free(struct cwmp_msg *m)
{
	if (!m)
		return;
	free(m->header.id);
	free(m->header.supported_cwmp_versions);
	free(m->header.use_cwmp_version);
	free(m->unknown_name);
	free_inform(&m->inform);
	free_transfer(&m->transfer);
	free_fault(&m->fault);
	free_download(&m->download);
	free_strs(m->names, m->n_names);
	free_values(m->values, m->n_values);
	for (size_t i = 0; m->infos && i < m->n_infos; i++)
		free(m->infos[i].name);
	free(m->infos);
	for (size_t i = 0; m->attrs && i < m->n_attrs; i++) {
		free(m->attrs[i].name);
		free_strs(m->attrs[i].access_list, m->attrs[i].n_access_list);
	}
	free(m->attrs);
	for (size_t i = 0; m->set_attrs && i < m->n_set_attrs; i++) {
		free(m->set_attrs[i].name);
		free_strs(m->set_attrs[i].access_list, m->set_attrs[i].n_access_list);
	}
	free(m->set_attrs);
	free_strs(m->methods, m->n_methods);
	free(m->parameter_path);
	free(m->parameter_key);
	free(m->object_name);
	free(m->command_key);
	free(m->start_time);
	free(m->complete_time);
	msg_init(m);
}
