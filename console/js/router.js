// router.js — owns the hash route: "#/agents?tag=beta" is {name: 'agents',
// arg: '', query}; "#/agent/<eid>" is {name: 'agent', arg: eid}. go()
// builds and follows such links; link() builds one for an <a href>.

export function parse(hash) {
  const h = (hash || '').replace(/^#\/?/, '');
  const qi = h.indexOf('?');
  const pathPart = qi < 0 ? h : h.slice(0, qi);
  const query = new URLSearchParams(qi < 0 ? '' : h.slice(qi + 1));
  const slash = pathPart.indexOf('/');
  const name = slash < 0 ? pathPart : pathPart.slice(0, slash);
  let arg = slash < 0 ? '' : pathPart.slice(slash + 1);
  try {
    arg = decodeURIComponent(arg);
  } catch (_) { /* keep it raw */ }
  return { name: name || 'fleet', arg, query };
}

// link('agent', eid) -> "#/agent/<eid>"; link('agents', '', {tag:'b'}).
export function link(name, arg, query) {
  let s = '#/' + name;
  if (arg !== undefined && arg !== null && arg !== '') s += '/' + encodeURIComponent(arg).replace(/%3A/gi, ':');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const qs = q.toString();
  return qs ? s + '?' + qs : s;
}

export function go(name, arg, query) {
  location.hash = link(name, arg, query);
}

export function current() {
  return parse(location.hash);
}
