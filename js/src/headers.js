// Headers, and the WebIDL conversions the Fetch API classes share: the first part of the
// fetch_api chunk (js/build.mjs puts headers.js and fetch_api.js in one chunk). What
// fetch_api.js needs from here is handed over in sr.fetchParts, private to the prelude.
//
// Like the rest of the chunk it is evaluated lazily, maybe after tenant code patched
// built-ins, so it uses core's primordials (sr.prim) and never a global.
(function (sr) {
  "use strict";
  const { push, join, sort, list, q, is, stringify, parse, setProto, Str, Num, TypeErr, RangeErr, Prom, mget, mset,
    msize, mclear, MapC, AP, iter, keys, code, lower, upper, slice, wellFormed, U8, AB, isView, bytesLen, b64, fromB64, isArray, exec } = sr.prim;
  const utf8 = (s) => { sr.load("encoding"); return sr.utf8(s); };
  const fromUtf8 = (u8) => { sr.load("encoding"); return sr.fromUtf8(u8); };
  const array = (l) => setProto(l, AP);   // an internal list handed to the tenant as a plain array
  const R = Reflect;
  const asObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  // A string from a tenant value (WebIDL ToString): a Symbol is a TypeError, and what a
  // toString() throws propagates unchanged.
  function toStr(v, what) {
    if (typeof v === "string") return v;
    if (typeof v === "symbol") throw new TypeErr(what + " cannot be a Symbol");
    return Str(v);
  }
  // A WebIDL dictionary argument: undefined and null are the empty dictionary, a non-object a TypeError.
  function dict(v, what) {
    if (v === undefined || v === null) return { __proto__: null };
    if (typeof v !== "object" && typeof v !== "function") throw new TypeErr(what + " must be an object");
    return v;
  }

  // ---- header grammar (RFC 9110) ---------------------------------------------
  // A scan is one call of the engine's own RegExp exec (captured before any tenant code ran), not
  // a call per character; the exact complaint is worked out only when there is one.
  const TCHAR = new U8(128);
  const T = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (let i = 0; i < T.length; i++) TCHAR[code(T, i)] = 1;
  function isToken(s) {
    if (s.length === 0) return false;
    for (let i = 0; i < s.length; i++) { const c = code(s, i); if (c > 127 || !TCHAR[c]) return false; }
    return true;
  }
  const isWs = (c) => c === 32 || c === 9 || c === 10 || c === 13;
  const BAD_VALUE = /[\r\n\0\u0100-\uffff]/, WIDE = /[\u0100-\uffff]/, VALUE_WORK = /^[\t\n\r ]|[\t\n\r ]$|[\r\n\0\u0100-\uffff]/;
  // Names repeat (content-type, accept, ...): remember the ones already validated.
  const names = new MapC();
  function checkName(n) {
    n = toStr(n, "a header name");
    let l = mget(names, n);
    if (l === undefined) {
      if (!isToken(n)) throw new TypeErr("invalid header name: " + q(n));
      l = lower(n);
      if (msize(names) < 4096) mset(names, n, l);
    }
    return l;
  }
  function checkValue(v) {
    v = toStr(v, "a header value");
    if (exec(VALUE_WORK, v) === null) return v;   // nothing to trim, nothing to refuse: the common case
    let a = 0, b = v.length;
    while (a < b && isWs(code(v, a))) a++;
    while (b > a && isWs(code(v, b - 1))) b--;
    if (a > 0 || b < v.length) v = slice(v, a, b);
    if (exec(BAD_VALUE, v) !== null) {
      for (let i = 0; i < v.length; i++) {
        const c = code(v, i);
        if (c === 13 || c === 10 || c === 0) throw new TypeErr("invalid header value (contains CR, LF or NUL)");
        if (c > 255) throw new TypeErr("invalid header value (a character over U+00FF)");
      }
    }
    return v;
  }

  // ---- Headers --------------------------------------------------------------
  // A header list: [lowercased name, value] pairs, in insertion order.
  function hasName(l, n) { for (let i = 0; i < l.length; i++) if (l[i][0] === n) return true; return false; }
  function valuesOf(l, n) { const vs = list(); for (let i = 0; i < l.length; i++) if (l[i][0] === n) push(vs, l[i][1]); return vs; }
  function without(l, n) { const k = list(); for (let i = 0; i < l.length; i++) if (l[i][0] !== n) push(k, l[i]); return k; }
  function replaced(l, n, v) {   // the first n set to v, the other n dropped
    const k = list();
    let seen = false;
    for (let i = 0; i < l.length; i++) {
      if (l[i][0] !== n) push(k, l[i]);
      else if (!seen) { seen = true; push(k, [n, v]); }
    }
    if (!seen) push(k, [n, v]);
    return k;
  }
  let isHeaders, trustedHeaders, headersOf, freeze, appendHeader, addHeader, hasHeader, headerPairs, setHeader, headersJson;
  class Headers {
    #list = list();
    #immutable = false;
    #sorted = null; #sortedOf = null; #sortedLen = 0;   // sortedPairs(#list), while #list is unchanged
    constructor(init) {
      if (init === undefined) return;
      if (init === null || (typeof init !== "object" && typeof init !== "function")) throw new TypeErr("Headers: init must be an object, an array of pairs or Headers");
      const m = init[iter];
      if (m === headersIterator && isHeaders(init)) { const l = init.#list; for (let i = 0; i < l.length; i++) push(this.#list, [l[i][0], l[i][1]]); return; }
      if (m !== undefined && m !== null) {
        if (typeof m !== "function") throw new TypeErr("Headers: init[Symbol.iterator] is not a function");
        const pairs = list();
        for (const pair of { [iter]: () => m.call(init) }) {
          if (pair === null || typeof pair !== "object" || typeof pair[iter] !== "function") throw new TypeErr("Headers: each header pair must be a sequence");
          const p = [...pair];
          if (p.length !== 2) throw new TypeErr("Headers: each header pair must have exactly two items");
          push(pairs, [toStr(p[0], "a header name"), toStr(p[1], "a header value")]);
        }
        for (let i = 0; i < pairs.length; i++) appendHeader(this, pairs[i][0], pairs[i][1]);
      } else {
        // record<ByteString, ByteString>: own enumerable keys in order, each read once; a Symbol key is a TypeError.
        const ks = R.ownKeys(init), pairs = list();
        for (let i = 0; i < ks.length; i++) {
          const d = R.getOwnPropertyDescriptor(init, ks[i]);
          if (d === undefined || !d.enumerable) continue;
          if (typeof ks[i] === "symbol") throw new TypeErr("Headers: a header name cannot be a Symbol");
          if (mget(names, ks[i]) === undefined && exec(WIDE, ks[i]) !== null) throw new TypeErr("invalid header name: " + q(ks[i]));
          push(pairs, [ks[i], checkValue(init[ks[i]])]);
        }
        for (let i = 0; i < pairs.length; i++) push(this.#list, [checkName(pairs[i][0]), pairs[i][1]]);   // values checked above
      }
    }
    static {
      isHeaders = (o) => asObject(o) && #list in o;
      // The JSON text of the pairs the host sent (names already lowercased, names and values
      // valid): parsed only when the request's headers are read. A pair that is not two
      // strings is dropped (the host sends none; nothing here runs tenant code).
      trustedHeaders = (json) => {
        const h = new Headers(), pairs = parse(json);
        if (!isArray(pairs)) return h;
        const n = pairs.length;
        let i = 0;
        for (let p; i < n && isArray(p = pairs[i]) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string"; i++);
        if (i === n) { h.#list = setProto(pairs, null); return h; }   // the host's list as it came
        const l = h.#list;
        for (let j = 0; j < i; j++) push(l, pairs[j]);
        for (let p; i < n; i++) if (isArray(p = pairs[i]) && p.length === 2 && typeof p[0] === "string" && typeof p[1] === "string") push(l, p);
        return h;
      };
      // A header list the runtime made itself (Response.json and the like): no checks, no copy.
      headersOf = (l) => { const h = new Headers(); h.#list = l; return h; };
      freeze = (h) => { h.#immutable = true; };
      appendHeader = (h, n, v) => { h.#mutable(); push(h.#list, [checkName(n), checkValue(v)]); };
      addHeader = (h, n, v) => { push(h.#list, [n, v]); };   // set by the runtime itself: no checks
      hasHeader = (h, n) => hasName(h.#list, n);
      // Appending grows #list, set() and delete() replace it: either way the sorted pairs are redone.
      headerPairs = (h) => {
        if (h.#sortedOf !== h.#list || h.#sortedLen !== h.#list.length) { h.#sorted = sortedPairs(h.#list); h.#sortedOf = h.#list; h.#sortedLen = h.#list.length; }
        return h.#sorted;
      };
      setHeader = (h, n, v) => { h.#mutable(); h.#list = replaced(h.#list, n, v); };
      headersJson = (h) => {
        const l = h.#list;
        let s = "";
        for (let i = 0; i < l.length; i++) s += (i ? ",[" : "[") + q(l[i][0]) + "," + q(l[i][1]) + "]";
        return "[" + s + "]";
      };
    }
    #mutable() { if (this.#immutable) throw new TypeErr("Headers are immutable"); }
    append(n, v) { appendHeader(this, n, v); }
    set(n, v) { setHeader(this, checkName(n), checkValue(v)); }
    delete(n) { this.#mutable(); this.#list = without(this.#list, checkName(n)); }
    get(n) { const vs = valuesOf(this.#list, checkName(n)); return vs.length ? join(vs, ", ") : null; }
    getSetCookie() { return array(valuesOf(this.#list, "set-cookie")); }
    has(n) { return hasName(this.#list, checkName(n)); }
    entries() { return newIterator(this, 2); }
    keys() { return newIterator(this, 0); }
    values() { return newIterator(this, 1); }
    forEach(cb, thisArg) {
      if (typeof cb !== "function") throw new TypeErr("Headers.forEach: the callback must be a function");
      for (let i = 0, p; (p = headerPairs(this)[i]) !== undefined; i++) cb.call(thisArg, p[1], p[0], this);
    }
    get [Symbol.toStringTag]() { return "Headers"; }
  }
  // The Fetch standard's "sort and combine": pairs by name, the values of a name joined (set-cookie kept apart).
  function sortedPairs(l) {
    const groups = new MapC(), ns = list(), out = list();
    for (let i = 0; i < l.length; i++) {
      let vs = mget(groups, l[i][0]);
      if (vs === undefined) { vs = list(); mset(groups, l[i][0], vs); push(ns, l[i][0]); }
      push(vs, l[i][1]);
    }
    sort(ns);
    for (let i = 0; i < ns.length; i++) {
      const vs = mget(groups, ns[i]);
      if (ns[i] !== "set-cookie") push(out, [ns[i], join(vs, ", ")]);
      else for (let j = 0; j < vs.length; j++) push(out, [ns[i], vs[j]]);
    }
    return out;
  }
  // WebIDL iterators ("Headers Iterator"): each next() takes the index-th pair of the list as it
  // is then, so changes made while iterating are seen, as in the standard.
  const ITER_PROTO = Object.getPrototypeOf(Object.getPrototypeOf([][iter]()));
  const iterState = new WeakMap(), wget = sr.prim.uncurry(WeakMap.prototype.get), wset = sr.prim.uncurry(WeakMap.prototype.set);
  const HeadersIterator = { __proto__: ITER_PROTO };
  Object.defineProperties(HeadersIterator, {
    next: { writable: true, enumerable: true, configurable: true, value: function next() {
      const st = this !== null && typeof this === "object" ? wget(iterState, this) : undefined;
      if (st === undefined) throw new TypeErr("next() called on an object that is not a Headers Iterator");
      const pairs = st.h === null ? null : headerPairs(st.h);
      if (pairs === null || st.i >= pairs.length) { st.h = null; return { value: undefined, done: true }; }
      const p = pairs[st.i++];
      return { value: st.kind === 2 ? [p[0], p[1]] : p[st.kind], done: false };
    } },
    [Symbol.toStringTag]: { value: "Headers Iterator", configurable: true },
  });
  function newIterator(h, kind) {
    if (!isHeaders(h)) throw new TypeErr("not a Headers object");
    const it = { __proto__: HeadersIterator };
    wset(iterState, it, { __proto__: null, h, kind, i: 0 });
    return it;
  }
  const headersIterator = Headers.prototype.entries;
  Object.defineProperty(Headers.prototype, iter, { value: headersIterator, writable: true, configurable: true });

  sr.fetchParts = {
    __proto__: null, Headers, isHeaders, trustedHeaders, headersOf, freeze, appendHeader, addHeader, hasHeader, setHeader, headersJson,
    toStr, dict, asObject, isToken, array, utf8, fromUtf8,
  };
});
