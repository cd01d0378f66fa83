// The simulated CPE's data model (TR-181, Device: root) and the CWMP methods
// that read or change it. A model is a plain object: full parameter path ->
// {value, type, writable}. Paths with a '{i}' segment are templates of a
// multi-instance object: AddObject copies them into the new instance.
import { el, arrayType, child, children, textOf, xsiType, XSD } from './soap.mjs';

export class CwmpFault extends Error {
  constructor(code, string, extra = []) {
    super(`${code} ${string}`);
    this.code = code;
    this.string = string;
    this.extra = extra; // extra elements inside cwmp:Fault (SetParameterValuesFault)
  }
}

// The default data model; under `root` ('Device.', or 'InternetGatewayDevice.'
// for a TR-098 CPE: the same objects renamed).
export function defaultModel(id = {}, root = 'Device.') {
  const p = (value, type = 'string', writable = false) => ({ value: String(value), type, writable });
  const m = {
    'Device.RootDataModelVersion': p('2.15'),
    'Device.DeviceInfo.Manufacturer': p(id.manufacturer ?? 'uspc-test'),
    'Device.DeviceInfo.ManufacturerOUI': p(id.oui ?? '00D09E'),
    'Device.DeviceInfo.ProductClass': p(id.productClass ?? 'cwmp-peer'),
    'Device.DeviceInfo.SerialNumber': p(id.serial ?? '0001'),
    'Device.DeviceInfo.HardwareVersion': p('hw-1'),
    'Device.DeviceInfo.SoftwareVersion': p('1.0.0'),
    'Device.DeviceInfo.ProvisioningCode': p('', 'string', true),
    'Device.DeviceInfo.UpTime': p(0, 'unsignedInt'),
    'Device.ManagementServer.URL': p('', 'string', true),
    'Device.ManagementServer.Username': p('', 'string', true),
    'Device.ManagementServer.Password': p('', 'string', true),
    'Device.ManagementServer.PeriodicInformEnable': p('true', 'boolean', true),
    'Device.ManagementServer.PeriodicInformInterval': p(3600, 'unsignedInt', true),
    'Device.ManagementServer.PeriodicInformTime': p('0001-01-01T00:00:00Z', 'dateTime', true),
    'Device.ManagementServer.ParameterKey': p(''),
    'Device.ManagementServer.ConnectionRequestURL': p(''),
    'Device.ManagementServer.ConnectionRequestUsername': p('', 'string', true),
    'Device.ManagementServer.ConnectionRequestPassword': p('', 'string', true),
    'Device.Time.NTPServer1': p('pool.ntp.org', 'string', true),
    'Device.Time.LocalTimeZone': p('UTC', 'string', true),
    'Device.WiFi.SSID.1.Enable': p('true', 'boolean', true),
    'Device.WiFi.SSID.1.SSID': p('cwmp-peer', 'string', true),
    'Device.WiFi.SSID.1.Stats.BytesSent': p(0, 'unsignedLong'),
    'Device.NAT.PortMapping.{i}.Enable': p('false', 'boolean', true),
    'Device.NAT.PortMapping.{i}.ExternalPort': p(0, 'unsignedInt', true),
    'Device.NAT.PortMapping.{i}.InternalClient': p('', 'string', true),
    'Device.NAT.PortMapping.{i}.Description': p('', 'string', true),
  };
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [root + k.slice('Device.'.length), v]));
}

const typeName = (t) => String(t).replace(/^xsd:/, '');

function checkValue(type, v) {
  switch (type) {
    case 'boolean': return /^(0|1|true|false)$/.test(v);
    case 'int': case 'long': return /^-?\d+$/.test(v);
    case 'unsignedInt': case 'unsignedLong': return /^\d+$/.test(v);
    case 'dateTime': return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.test(v);
    default: return true;
  }
}

export class DataModel {
  constructor(params, root = 'Device.') {
    this.root = root;
    this.initial = structuredClone(params);
    this.reset();
  }

  reset() {
    this.params = new Map();
    this.templates = new Map(); // table path ("Device.NAT.PortMapping.") -> {name: spec}
    for (const [path, spec] of Object.entries(structuredClone(this.initial))) {
      const t = path.indexOf('.{i}.');
      const s = { value: String(spec.value ?? ''), type: typeName(spec.type ?? 'string'), writable: !!spec.writable };
      if (t < 0) this.params.set(path, s);
      else {
        const table = path.slice(0, t + 1);
        if (!this.templates.has(table)) this.templates.set(table, {});
        this.templates.get(table)[path.slice(t + 5)] = s;
      }
    }
    this.attrs = new Map(); // path -> {notification, accessList}
    this.changed = new Set(); // parameters changed by the CPE itself, for 4 VALUE CHANGE
    this.next = {}; // table -> next instance number (numbers are not reused)
  }

  get(path) { return this.params.get(path)?.value; }
  set(path, value, type) {
    const cur = this.params.get(path);
    this.params.set(path, { writable: false, ...cur, value: String(value), type: typeName(type ?? cur?.type ?? 'string') });
  }

  // Every object path (ending in '.'), including empty tables.
  objects() {
    const out = new Set();
    const add = (path) => { for (let i = path.indexOf('.'); i >= 0; i = path.indexOf('.', i + 1)) out.add(path.slice(0, i + 1)); };
    for (const p of this.params.keys()) add(p);
    for (const t of this.templates.keys()) add(t);
    return [...out].sort(byPath);
  }

  // Parameters named by a full or partial path ('' = everything).
  select(path) {
    if (path === '' || path.endsWith('.')) {
      const hits = [...this.params.keys()].filter((p) => p.startsWith(path)).sort(byPath);
      if (!hits.length && !this.objects().includes(path) && path !== '') throw new CwmpFault(9005, `Invalid parameter name ${path}`);
      return hits;
    }
    if (!this.params.has(path)) throw new CwmpFault(9005, `Invalid parameter name ${path}`);
    return [path];
  }

  // An object is writable when instances can be added to it or deleted from it.
  objectWritable(obj) {
    if (this.templates.has(obj)) return true;
    const m = /^(.*\.)\d+\.$/.exec(obj);
    return !!(m && this.templates.has(m[1]));
  }

  valueStruct(p) {
    const s = this.params.get(p);
    const secret = /Password$/.test(p); // passwords always read back empty
    return el('ParameterValueStruct', null, el('Name', null, p), el('Value', { 'xsi:type': `xsd:${s.type}` }, secret ? '' : s.value));
  }
}

// Sort paths so that instance numbers sort numerically.
function byPath(a, b) {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    const nx = /^\d+$/.test(x[i]);
    const ny = /^\d+$/.test(y[i]);
    if (nx && ny) return Number(x[i]) - Number(y[i]);
    return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

const strings = (e) => (e ? e.children.map((c) => c.text) : []);

// The methods on the data model: each takes the request element and returns
// {body, detail}, or throws CwmpFault. `cpe` receives side effects (key, hooks).
export const modelMethods = {
  GetParameterValues(m, req, cpe) {
    const names = strings(child(req, 'ParameterNames'));
    // quirk: some CPEs answer only full parameter names
    if (cpe?.opts?.quirks?.noPartialPaths && names.some((n) => n === '' || n.endsWith('.'))) {
      throw new CwmpFault(9005, 'Invalid parameter name (partial paths not supported)');
    }
    const list = [];
    for (const n of names) for (const p of m.select(n)) if (!list.includes(p)) list.push(p);
    return {
      body: el('cwmp:GetParameterValuesResponse', null,
        el('ParameterList', arrayType('cwmp:ParameterValueStruct', list.length), list.map((p) => m.valueStruct(p)))),
      detail: { names, count: list.length },
    };
  },

  GetParameterNames(m, req) {
    const path = textOf(req, 'ParameterPath');
    const next = /^(1|true)$/.test(textOf(req, 'NextLevel').trim());
    let list;
    if (path !== '' && !path.endsWith('.')) {
      if (!m.params.has(path)) throw new CwmpFault(9005, `Invalid parameter name ${path}`);
      if (next) throw new CwmpFault(9003, 'NextLevel true on a parameter');
      list = [path];
    } else {
      if (path !== '' && !m.objects().includes(path)) throw new CwmpFault(9005, `Invalid parameter name ${path}`);
      const all = [...m.objects(), ...m.params.keys()].filter((p) => p.startsWith(path)).sort(byPath);
      const depth = (p) => p.replace(/\.$/, '').split('.').length;
      const base = path === '' ? 0 : depth(path);
      list = next ? all.filter((p) => depth(p) === base + 1) : all;
    }
    const info = (p) => el('ParameterInfoStruct', null, el('Name', null, p),
      el('Writable', null, (p.endsWith('.') ? m.objectWritable(p) : m.params.get(p).writable) ? 1 : 0));
    return {
      body: el('cwmp:GetParameterNamesResponse', null,
        el('ParameterList', arrayType('cwmp:ParameterInfoStruct', list.length), list.map(info))),
      detail: { path, nextLevel: next, count: list.length },
    };
  },

  SetParameterValues(m, req, cpe) {
    const items = children(child(req, 'ParameterList'), 'ParameterValueStruct').map((s) => {
      const v = child(s, 'Value');
      return { name: textOf(s, 'Name'), value: v?.text ?? '', xsi: v ? xsiType(v) : null };
    });
    const key = textOf(req, 'ParameterKey');
    const faults = [];
    for (const it of items) {
      const spec = m.params.get(it.name);
      const sent = it.xsi ? `${it.xsi.ns === XSD ? 'xsd:' : `{${it.xsi.ns}}`}${it.xsi.name}` : '(none)';
      let f = null;
      if (!spec) f = [9005, 'Invalid parameter name'];
      else if (!spec.writable) f = [9008, 'Attempt to set a non-writable parameter'];
      else if (!it.xsi || it.xsi.ns !== XSD || it.xsi.name !== spec.type) f = [9006, `Invalid parameter type: ${sent}, expected xsd:${spec.type}`];
      else if (!checkValue(spec.type, it.value)) f = [9007, `Invalid parameter value for xsd:${spec.type}`];
      if (f) faults.push(el('SetParameterValuesFault', null, el('ParameterName', null, it.name), el('FaultCode', null, f[0]), el('FaultString', null, f[1])));
    }
    if (faults.length) throw new CwmpFault(9003, 'Invalid arguments', faults);
    for (const it of items) m.params.get(it.name).value = it.value;
    m.params.get(`${m.root}ManagementServer.ParameterKey`).value = key;
    cpe?.onSet?.(items.map((i) => i.name));
    return {
      body: el('cwmp:SetParameterValuesResponse', null, el('Status', null, 0)),
      detail: { parameters: items.map(({ name, value, xsi }) => ({ name, value, type: xsi?.name ?? null })), parameterKey: key },
    };
  },

  GetParameterAttributes(m, req) {
    const names = strings(child(req, 'ParameterNames'));
    const list = [];
    for (const n of names) for (const p of m.select(n)) if (!list.includes(p)) list.push(p);
    const struct = (p) => {
      const a = m.attrs.get(p) || { notification: 0, accessList: [] };
      return el('ParameterAttributeStruct', null, el('Name', null, p), el('Notification', null, a.notification),
        el('AccessList', arrayType('xsd:string', a.accessList.length), a.accessList.map((s) => el('string', null, s))));
    };
    return {
      body: el('cwmp:GetParameterAttributesResponse', null,
        el('ParameterList', arrayType('cwmp:ParameterAttributeStruct', list.length), list.map(struct))),
      detail: { names, count: list.length },
    };
  },

  SetParameterAttributes(m, req, cpe) {
    const max = cpe?.ns?.endsWith('1-4') ? 6 : 2;
    const changes = [];
    for (const s of children(child(req, 'ParameterList'), 'SetParameterAttributesStruct')) {
      const name = textOf(s, 'Name');
      const notifChange = /^(1|true)$/.test(textOf(s, 'NotificationChange').trim());
      const notification = Number(textOf(s, 'Notification') || 0);
      const aclChange = /^(1|true)$/.test(textOf(s, 'AccessListChange').trim());
      if (notifChange && !(Number.isInteger(notification) && notification >= 0 && notification <= max)) {
        throw new CwmpFault(9003, `Notification ${notification} out of range`);
      }
      for (const p of m.select(name)) changes.push({ p, notifChange, notification, aclChange, acl: strings(child(s, 'AccessList')) });
    }
    for (const c of changes) {
      const a = m.attrs.get(c.p) || { notification: 0, accessList: [] };
      if (c.notifChange) a.notification = c.notification;
      if (c.aclChange) a.accessList = c.acl;
      m.attrs.set(c.p, a);
    }
    return { body: el('cwmp:SetParameterAttributesResponse', null), detail: { count: changes.length } };
  },

  AddObject(m, req) {
    const obj = textOf(req, 'ObjectName');
    const tpl = m.templates.get(obj);
    if (!tpl) throw new CwmpFault(9005, `Invalid object name ${obj}`);
    let n = m.next[obj] ?? 1;
    for (const p of m.params.keys()) {
      const r = p.startsWith(obj) && /^(\d+)\./.exec(p.slice(obj.length));
      if (r) n = Math.max(n, Number(r[1]) + 1);
    }
    m.next[obj] = n + 1;
    for (const [name, spec] of Object.entries(tpl)) m.params.set(`${obj}${n}.${name}`, { ...spec });
    const key = textOf(req, 'ParameterKey');
    m.params.get(`${m.root}ManagementServer.ParameterKey`).value = key;
    return {
      body: el('cwmp:AddObjectResponse', null, el('InstanceNumber', null, n), el('Status', null, 0)),
      detail: { object: obj, instance: n, parameterKey: key },
    };
  },

  DeleteObject(m, req) {
    const obj = textOf(req, 'ObjectName');
    if (!/\.\d+\.$/.test(obj) || !m.objectWritable(obj) || ![...m.params.keys()].some((p) => p.startsWith(obj))) {
      throw new CwmpFault(9005, `Invalid object name ${obj}`);
    }
    for (const p of [...m.params.keys()]) if (p.startsWith(obj)) { m.params.delete(p); m.attrs.delete(p); }
    const key = textOf(req, 'ParameterKey');
    m.params.get(`${m.root}ManagementServer.ParameterKey`).value = key;
    return { body: el('cwmp:DeleteObjectResponse', null, el('Status', null, 0)), detail: { object: obj, parameterKey: key } };
  },
};
