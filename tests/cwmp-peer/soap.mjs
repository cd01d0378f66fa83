// SOAP 1.1 envelopes of CWMP (TR-069): building them and reading them back,
// both through fast-xml-parser. Elements are matched by namespace URI and
// local name, never by the prefix the peer happened to choose.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

export const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP_ENC = 'http://schemas.xmlsoap.org/soap/encoding/';
export const XSD = 'http://www.w3.org/2001/XMLSchema';
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const CWMP_NAMESPACES = ['1-0', '1-1', '1-2', '1-3', '1-4'].map((v) => `urn:dslforum-org:cwmp-${v}`);

// Thrown when the ACS breaks the protocol (bad XML, wrong ID or namespace, ...).
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// Accepts "cwmp-1-2", "1-2", "1.2" or the full URN.
export function cwmpNamespace(name = 'cwmp-1-0') {
  const short = String(name).replace(/^urn:dslforum-org:/, '').replace(/^cwmp-/, '').replace('.', '-');
  const urn = `urn:dslforum-org:cwmp-${short}`;
  if (!CWMP_NAMESPACES.includes(urn)) throw new Error(`unknown CWMP namespace ${name}`);
  return urn;
}

// ---- building -------------------------------------------------------------
// An element is written as el('Name', {attr: value}, child, child, ...); a
// child is another element or a string/number/boolean (text). Arguments of
// CWMP methods are unqualified; methods themselves carry the cwmp: prefix.
export function el(name, attrs, ...children) {
  const node = { [name]: [] };
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    node[name].push(typeof c === 'object' ? c : { '#text': String(c) });
  }
  const a = Object.entries(attrs || {});
  if (a.length) node[':@'] = Object.fromEntries(a.map(([k, v]) => [`@_${k}`, String(v)]));
  return node;
}

// A SOAP-ENC array: el('ParameterList', arrayType('cwmp:ParameterValueStruct', n), ...).
export const arrayType = (type, n) => ({ 'soap-enc:arrayType': `${type}[${n}]` });

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
});

export function envelope(ns, id, body, headerExtra = []) {
  const header = id === undefined || id === null
    ? headerExtra
    : [el('cwmp:ID', { 'soap-env:mustUnderstand': '1' }, id), ...headerExtra];
  const env = el(
    'soap-env:Envelope',
    {
      'xmlns:soap-env': SOAP_ENV,
      'xmlns:soap-enc': SOAP_ENC,
      'xmlns:xsd': XSD,
      'xmlns:xsi': XSI,
      'xmlns:cwmp': ns,
    },
    header.length ? el('soap-env:Header', null, header) : null,
    el('soap-env:Body', null, body),
  );
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + builder.build([env]);
}

// Fault codes that blame the request ("Client"); the others blame the CPE.
const CLIENT_FAULTS = new Set([9003, 9005, 9006, 9007, 9008]);

export function faultBody(code, string, extra = []) {
  return el(
    'soap-env:Fault',
    null,
    el('faultcode', null, CLIENT_FAULTS.has(Number(code)) ? 'Client' : 'Server'),
    el('faultstring', null, 'CWMP fault'),
    el('detail', null, el('cwmp:Fault', null, el('FaultCode', null, code), el('FaultString', null, string), extra)),
  );
}

// ---- parsing --------------------------------------------------------------
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
});

// Turns fast-xml-parser's ordered output into {name, ns, attrs, scope,
// children, text}, resolving prefixes through the xmlns declarations in scope.
function convert(node, parentScope) {
  const qname = Object.keys(node).find((k) => k !== ':@');
  const attrs = node[':@'] || {};
  const scope = { ...parentScope };
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns') scope[''] = v;
    else if (k.startsWith('xmlns:')) scope[k.slice(6)] = v;
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  if (!(prefix in scope) && prefix !== '') throw new ProtocolError(`undeclared namespace prefix in <${qname}>`);
  const out = { name: qname.slice(colon + 1), ns: scope[prefix] || '', attrs, scope, children: [], text: '' };
  for (const c of node[qname]) {
    if ('#text' in c) out.text += c['#text'];
    else if (!Object.keys(c)[0].startsWith('?')) out.children.push(convert(c, scope));
  }
  return out;
}

export function parseXml(text) {
  const ok = XMLValidator.validate(text);
  if (ok !== true) throw new ProtocolError(`malformed XML: ${ok.err.msg} (line ${ok.err.line})`);
  const roots = parser.parse(text).filter((n) => !Object.keys(n)[0].startsWith('?'));
  if (roots.length !== 1) throw new ProtocolError('malformed XML: expected one root element');
  return convert(roots[0], {});
}

// Helpers over the converted tree (local names; arguments are unqualified).
export const child = (e, name) => e?.children.find((c) => c.name === name);
export const children = (e, name) => (e ? e.children.filter((c) => c.name === name) : []);
export const textOf = (e, name) => child(e, name)?.text ?? '';

// The xsi:type of an element as {ns, name}, or null when it has none.
export function xsiType(e) {
  const entry = Object.entries(e.attrs).find(([k]) => {
    const i = k.indexOf(':');
    return i > 0 && k.slice(i + 1) === 'type' && e.scope[k.slice(0, i)] === XSI;
  });
  if (!entry) return null;
  const [p, local] = entry[1].includes(':') ? entry[1].split(':', 2) : ['', entry[1]];
  return { ns: e.scope[p] || '', name: local };
}

// Reads a CWMP envelope: its cwmp namespace, header ID and HoldRequests, and
// the one body element (method, response or Fault). Throws ProtocolError.
export function readEnvelope(text) {
  const root = parseXml(text);
  if (root.name !== 'Envelope' || root.ns !== SOAP_ENV) {
    throw new ProtocolError(`root element is {${root.ns}}${root.name}, not a SOAP 1.1 Envelope`);
  }
  const header = root.children.find((c) => c.name === 'Header' && c.ns === SOAP_ENV);
  const body = root.children.find((c) => c.name === 'Body' && c.ns === SOAP_ENV);
  if (!body) throw new ProtocolError('SOAP envelope without a Body');
  if (body.children.length !== 1) throw new ProtocolError(`SOAP Body has ${body.children.length} elements, expected 1`);
  const msg = body.children[0];
  const idEl = header?.children.find((c) => c.name === 'ID');
  const holdEl = header?.children.find((c) => c.name === 'HoldRequests');
  const out = { id: idEl ? idEl.text : null, idNs: idEl?.ns ?? null, hold: holdEl ? holdEl.text.trim() : null, msg };
  if (msg.name === 'Fault' && msg.ns === SOAP_ENV) {
    const f = child(child(msg, 'detail'), 'Fault');
    out.method = 'Fault';
    out.ns = f?.ns ?? idEl?.ns ?? null;
    out.fault = { code: Number(textOf(f, 'FaultCode')), string: textOf(f, 'FaultString') };
  } else {
    out.method = msg.name;
    out.ns = msg.ns;
  }
  if (!CWMP_NAMESPACES.includes(out.ns)) throw new ProtocolError(`unknown CWMP namespace "${out.ns}" on ${out.method}`);
  if (idEl && idEl.ns !== out.ns) throw new ProtocolError(`cwmp:ID in namespace ${idEl.ns} but ${out.method} in ${out.ns}`);
  return out;
}
