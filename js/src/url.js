// URL and URLSearchParams (WHATWG URL Standard). The parser is the host's (ada, through the
// synchronous host functions url.parse and url.set: shardrun/runtime/hostfns/url.py): a URL
// holds the components the host returned (href, protocol, username, password, host, hostname,
// port, pathname, search, hash, origin: one array, never changed, replaced by a setter), so a
// getter is a read. The components of the strings parsed lately are kept (`abs` and `rel`,
// bounded), so `new URL(request.url)` on every request crosses to the host once. URLSearchParams is here,
// in JS: the application/x-www-form-urlencoded parser and serialiser, with the list kept in
// sync with its URL's query both ways. `sr.urlHref(s)` is the href of s for the other chunks
// (a Request's URL), without the globals or URL.prototype, which tenant code may have replaced.
(function (sr) {
  "use strict";
  const { push, join, sort, list, Str, TypeErr, MapC, mget, mset, msize, mclear, iter, code, slice, wellFormed, setProto, define, U8 } = sr.prim;
  const host = sr.host, uncurry = sr.prim.uncurry, indexOf = uncurry(String.prototype.indexOf), split = uncurry(String.prototype.split);
  const encURI = encodeURIComponent, decURI = decodeURIComponent;
  const ownKeys = Reflect.ownKeys, ownDesc = Reflect.getOwnPropertyDescriptor, apply = Reflect.apply, getProto = Object.getPrototypeOf;
  const HREF = 0, SEARCH = 8, ORIGIN = 10;
  const asObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  // WebIDL's DOMString conversion; a USVString also has its lone surrogates replaced (the
  // host does that for what it parses).
  function str(v) {
    if (typeof v === "string") return v;
    if (typeof v === "symbol") throw new TypeErr("cannot convert a Symbol to a string");
    return Str(v);
  }
  const usv = (v) => wellFormed(str(v));
  const required = (n, got, what) => { if (got < n) throw new TypeErr(what + ": " + n + " argument" + (n > 1 ? "s" : "") + " required, but only " + got + " present"); };

  // ---- parsing, through the host --------------------------------------------------
  // abs: input -> components; rel: (base href, input) -> components (keyed by the base's length,
  // then the base, then the input: no two pairs share a key); sets: (setter, href, value) ->
  // components (an href has no NUL). null: not a URL. A string from the host is a refusal (a
  // string over its length limit), thrown as it is and not kept.
  const CACHE_ENTRIES = 256, CACHE_CHARS = 4096;
  const abs = new MapC(), rel = new MapC(), sets = new MapC();
  function remember(cache, key, p) {
    if (typeof p !== "string" && key.length <= CACHE_CHARS) {
      if (msize(cache) >= CACHE_ENTRIES) mclear(cache);
      mset(cache, key, p);
    }
    return p;
  }
  function lookup(cache, key, input, base) {
    const p = mget(cache, key);
    return p !== undefined ? p : remember(cache, key, host("url.parse", input, base));
  }
  // The components of href after its setter prop ran with the string v.
  function setter(href, prop, v) {
    const key = prop + ":" + href + "\0" + v;
    let p = mget(sets, key);
    if (p === undefined) p = remember(sets, key, host("url.set", href, prop, v));
    if (typeof p === "string") throw new TypeErr(p);
    return p;
  }
  // The components of url (against base, a string or undefined); if it is not a URL, a TypeError
  // thrown (loud) or null.
  function components(url, base, loud) {
    let b = null;
    if (base !== undefined) {
      b = lookup(abs, base, base, null);
      if (b === null || typeof b === "string") { if (loud) throw new TypeErr(b === null ? "Invalid base URL: " + base : b); return null; }
      b = b[HREF];
    }
    const p = b === null ? lookup(abs, url, url, null) : lookup(rel, b.length + ":" + b + url, url, b);
    if (p === null || typeof p === "string") { if (loud) throw new TypeErr(p === null ? "Invalid URL: " + url : p); return null; }
    return p;
  }
  sr.urlHref = (s) => components(s, undefined, true)[HREF];

  // ---- application/x-www-form-urlencoded --------------------------------------------
  // A list is flat: name, value, name, value...
  let noBom = null;   // the standard's "UTF-8 decode without BOM": a leading U+FEFF is kept
  function decodeBytes(s) {   // percent-decode s as bytes, then UTF-8 with replacement characters
    if (noBom === null) noBom = new (sr.get("TextDecoder"))("utf-8", { ignoreBOM: true });
    const b = list();
    for (let i = 0; i < s.length; i++) {
      let c = code(s, i);
      if (c === 37 && i + 2 < s.length && hex(code(s, i + 1)) >= 0 && hex(code(s, i + 2)) >= 0) {
        push(b, hex(code(s, i + 1)) * 16 + hex(code(s, i + 2)));
        i += 2;
      } else if (c < 0x80) push(b, c);
      else {
        if (c >= 0xd800 && c <= 0xdbff) { c = 0x10000 + ((c - 0xd800) << 10) + (code(s, i + 1) - 0xdc00); i++; }   // s is well formed
        if (c < 0x800) push(b, 0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) push(b, 0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else push(b, 0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    const u8 = new U8(b.length);
    for (let i = 0; i < b.length; i++) u8[i] = b[i];
    return noBom.decode(u8);
  }
  const hex = (c) => c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
  function decode(s) {
    const pct = indexOf(s, "%");
    let k = indexOf(s, "+");
    if (k >= 0) {
      let t = "", from = 0;
      for (; k >= 0; k = indexOf(s, "+", from)) { t += slice(s, from, k) + " "; from = k + 1; }
      s = t + slice(s, from);
    }
    if (pct < 0) return s;
    try { return decURI(s); } catch (_) { return decodeBytes(s); }   // a stray % or bytes that are not UTF-8
  }
  function parseForm(s) {
    const out = list();
    if (s === "") return out;
    const plain = indexOf(s, "%") < 0 && indexOf(s, "+") < 0;   // as a URL's query usually is: nothing to decode
    const pieces = split(s, "&");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (piece === "") continue;
      const eq = indexOf(piece, "=");
      const name = eq < 0 ? piece : slice(piece, 0, eq), value = eq < 0 ? "" : slice(piece, eq + 1);
      if (plain) push(out, name, value); else push(out, decode(name), decode(value));
    }
    return out;
  }
  // The bytes left as they are: ASCII alphanumerics, *-._ (and space becomes +).
  const KEEP = new U8(128), KEPT = "*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (let i = 0; i < KEPT.length; i++) KEEP[code(KEPT, i)] = 1;
  const FIX = { __proto__: null, 33: "%21", 39: "%27", 40: "%28", 41: "%29", 126: "%7E" };   // what encodeURIComponent keeps and forms do not
  function encode(s) {
    let i = 0;
    while (i < s.length && KEEP[code(s, i)] === 1) i++;
    if (i === s.length) return s;
    const e = encURI(s);   // s is well formed: no lone surrogate to throw on
    let out = "", from = 0;
    for (let j = 0; j < e.length; j++) {
      const c = code(e, j);
      if (c === 37) {
        if (code(e, j + 1) === 50 && code(e, j + 2) === 48) { out += slice(e, from, j) + "+"; from = j + 3; }
        j += 2;
      } else if (FIX[c] !== undefined) { out += slice(e, from, j) + FIX[c]; from = j + 1; }
    }
    return from === 0 ? e : out + slice(e, from);
  }
  function serialize(l) {
    const parts = list();
    for (let i = 0; i < l.length; i += 2) push(parts, encode(l[i]) + "=" + encode(l[i + 1]));
    return join(parts, "&");
  }

  // ---- WebIDL shapes ----------------------------------------------------------------
  // Attributes and operations are enumerable; the class tag is Symbol.toStringTag.
  function idl(C, tag) {
    for (const o of [C, C.prototype]) {
      const ks = ownKeys(o);
      for (let i = 0; i < ks.length; i++) {
        const k = ks[i];
        if (typeof k !== "string" || k === "constructor" || k === "prototype" || k === "length" || k === "name") continue;
        const d = ownDesc(o, k);
        d.enumerable = true;
        define(o, k, d);
      }
    }
    define(C.prototype, Symbol.toStringTag, { __proto__: null, value: tag, configurable: true });
  }

  // ---- URLSearchParams ----------------------------------------------------------------
  let listOf, link, setQuery;
  class URLSearchParams {
    #list = list();
    #url = null;   // the URL whose query this is
    constructor(init = undefined) {
      if (init === undefined) return;
      const l = this.#list;
      if (asObject(init)) {
        const m = init[iter];
        if (m !== undefined && m !== null) {
          if (typeof m !== "function") throw new TypeErr("URLSearchParams: init[Symbol.iterator] is not a function");
          for (const pair of { [iter]: () => m.call(init) }) {
            if (!asObject(pair) || typeof pair[iter] !== "function") throw new TypeErr("URLSearchParams: each pair must be a sequence");
            const p = [...pair];
            if (p.length !== 2) throw new TypeErr("URLSearchParams: each pair must have exactly two items, not " + p.length);
            push(l, usv(p[0]), usv(p[1]));
          }
        } else {
          // record<USVString, USVString>: own enumerable keys in order; a name twice (two keys
          // that are one USVString) keeps its first place and its last value.
          const ks = ownKeys(init);
          for (let i = 0; i < ks.length; i++) {
            const d = ownDesc(init, ks[i]);
            if (d === undefined || !d.enumerable) continue;
            const name = usv(ks[i]), value = usv(init[ks[i]]);
            let j = 0;
            while (j < l.length && l[j] !== name) j += 2;
            if (j < l.length) l[j + 1] = value; else push(l, name, value);
          }
        }
      } else {
        const s = usv(init);
        this.#list = parseForm(code(s, 0) === 63 ? slice(s, 1) : s);
      }
    }
    get size() { return this.#list.length / 2; }
    append(name, value) {
      required(2, arguments.length, "URLSearchParams.append");
      push(this.#list, usv(name), usv(value));
      this.#update();
    }
    delete(name, value = undefined) {
      required(1, arguments.length, "URLSearchParams.delete");
      name = usv(name);
      if (value !== undefined) value = usv(value);
      this.#list = this.#without(name, value, 0);
      this.#update();
    }
    get(name) {
      required(1, arguments.length, "URLSearchParams.get");
      name = usv(name);
      const l = this.#list;
      for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
      return null;
    }
    getAll(name) {
      required(1, arguments.length, "URLSearchParams.getAll");
      name = usv(name);
      const l = this.#list, out = [];
      for (let i = 0; i < l.length; i += 2) if (l[i] === name) push(out, l[i + 1]);
      return out;
    }
    has(name, value = undefined) {
      required(1, arguments.length, "URLSearchParams.has");
      name = usv(name);
      if (value !== undefined) value = usv(value);
      const l = this.#list;
      for (let i = 0; i < l.length; i += 2) if (l[i] === name && (value === undefined || l[i + 1] === value)) return true;
      return false;
    }
    set(name, value) {
      required(2, arguments.length, "URLSearchParams.set");
      name = usv(name);
      value = usv(value);
      const l = this.#list;
      let i = 0;
      while (i < l.length && l[i] !== name) i += 2;
      if (i === l.length) push(l, name, value);
      else { l[i + 1] = value; this.#list = this.#without(name, undefined, i + 2); }
      this.#update();
    }
    sort() {   // stable, by the names' UTF-16 code units
      const l = this.#list, pairs = list();
      for (let i = 0; i < l.length; i += 2) push(pairs, [l[i], l[i + 1]]);
      sort(pairs, (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const out = list();
      for (let i = 0; i < pairs.length; i++) push(out, pairs[i][0], pairs[i][1]);
      this.#list = out;
      this.#update();
    }
    forEach(callback, thisArg = undefined) {
      required(1, arguments.length, "URLSearchParams.forEach");
      if (typeof callback !== "function") throw new TypeErr("URLSearchParams.forEach: the callback is not a function");
      for (let i = 0; i < this.#list.length; i += 2) apply(callback, thisArg, [this.#list[i + 1], this.#list[i], this]);
    }
    entries() { return new Iter(this, 0); }
    keys() { return new Iter(this, 1); }
    values() { return new Iter(this, 2); }
    toString() { return serialize(this.#list); }
    // The pairs from `from` on, without those named `name` (and of `value`, if given).
    #without(name, value, from) {
      const l = this.#list, out = list();
      for (let i = 0; i < l.length; i += 2) {
        if (i >= from && l[i] === name && (value === undefined || l[i + 1] === value)) continue;
        push(out, l[i], l[i + 1]);
      }
      return out;
    }
    #update() { if (this.#url !== null) setQuery(this.#url, serialize(this.#list)); }
    static {
      listOf = (sp) => sp.#list;
      link = (sp, url, search) => { sp.#url = url; sp.#list = parseForm(slice(search, 1)); };   // search: "" or "?..."
    }
  }
  idl(URLSearchParams, "URLSearchParams");
  define(URLSearchParams.prototype, iter, { __proto__: null, value: URLSearchParams.prototype.entries, writable: true, configurable: true });

  // The "URLSearchParams Iterator": live over the list, as WebIDL's pair iterators are.
  class Iter {
    #sp; #kind; #i = 0;
    constructor(sp, kind) { this.#sp = sp; this.#kind = kind; }
    next() {
      const l = listOf(this.#sp), i = this.#i;
      if (i >= l.length) return { value: undefined, done: true };
      this.#i = i + 2;
      return { value: this.#kind === 0 ? [l[i], l[i + 1]] : this.#kind === 1 ? l[i] : l[i + 1], done: false };
    }
  }
  const IterProto = Iter.prototype;
  delete IterProto.constructor;
  setProto(IterProto, getProto(getProto([][iter]())));
  define(IterProto, "next", { __proto__: null, enumerable: true });
  define(IterProto, Symbol.toStringTag, { __proto__: null, value: "URLSearchParams Iterator", configurable: true });

  // ---- URL ----------------------------------------------------------------------------
  const MADE = {};   // new URL(MADE, components): URL.parse's, from components already parsed
  class URL {
    #p;
    #params = null;   // the searchParams object, made on first read
    constructor(url, base = undefined) {
      if (url === MADE) { this.#p = base; return; }
      required(1, arguments.length, "URL");
      this.#p = components(str(url), base === undefined ? undefined : str(base), true);
    }
    static canParse(url, base = undefined) {
      required(1, arguments.length, "URL.canParse");
      return components(str(url), base === undefined ? undefined : str(base), false) !== null;
    }
    static parse(url, base = undefined) {
      required(1, arguments.length, "URL.parse");
      const p = components(str(url), base === undefined ? undefined : str(base), false);
      return p === null ? null : new URL(MADE, p);
    }
    static createObjectURL(obj) { void obj; throw new TypeErr("URL.createObjectURL is not supported (there are no blob: URLs here)"); }
    static revokeObjectURL(url) { void url; }
    get href() { return this.#p[HREF]; }
    set href(v) { this.#replace(components(str(v), undefined, true), false); }
    get origin() { return this.#p[ORIGIN]; }
    get protocol() { return this.#p[1]; }
    set protocol(v) { this.#set("protocol", v, false); }
    get username() { return this.#p[2]; }
    set username(v) { this.#set("username", v, false); }
    get password() { return this.#p[3]; }
    set password(v) { this.#set("password", v, false); }
    get host() { return this.#p[4]; }
    set host(v) { this.#set("host", v, false); }
    get hostname() { return this.#p[5]; }
    set hostname(v) { this.#set("hostname", v, false); }
    get port() { return this.#p[6]; }
    set port(v) { this.#set("port", v, false); }
    get pathname() { return this.#p[7]; }
    set pathname(v) { this.#set("pathname", v, false); }
    get search() { return this.#p[SEARCH]; }
    set search(v) { this.#set("search", v, false); }
    get searchParams() {
      let sp = this.#params;
      if (sp === null) { sp = this.#params = new URLSearchParams(); link(sp, this, this.#p[SEARCH]); }
      return sp;
    }
    get hash() { return this.#p[9]; }
    set hash(v) { this.#set("hash", v, false); }
    toJSON() { return this.#p[HREF]; }
    toString() { return this.#p[HREF]; }
    #set(prop, v, fromParams) { this.#replace(setter(this.#p[HREF], prop, str(v)), fromParams); }
    // New components; the searchParams list follows a new query (the list equals the parse of
    // the query it was made from or made, so an unchanged query leaves it as it is).
    #replace(p, fromParams) {
      const old = this.#p;
      this.#p = p;
      if (!fromParams && this.#params !== null && p[SEARCH] !== old[SEARCH]) link(this.#params, this, p[SEARCH]);
    }
    // The searchParams' update steps: the serialised list is the query ("" is none).
    static { setQuery = (url, query) => url.#set("search", query, true); }
  }
  idl(URL, "URL");

  sr.install({ __proto__: null, URL, URLSearchParams });
});
