// Headers, Request, Response, Blob and fetch(): the Fetch API surface of a worker.
// fetch() goes to the host through the mailbox; the host decides what is allowed.
(function (sr) {
  "use strict";
  const G = globalThis;
  const toB64 = (u8) => u8.toBase64();
  const fromB64 = (s) => Uint8Array.fromBase64(s);
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const BAD_VALUE = /[\0\r\n]/;
  const trimHttp = (v) => v.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  const utf8 = (s) => new G.TextEncoder().encode(s);
  const fromUtf8 = (u8) => new G.TextDecoder().decode(u8);

  // ---- Headers --------------------------------------------------------------
  // Names repeat (content-type, accept, ...): remember the ones already validated.
  const names = new Map();
  function checkName(n) {
    if (typeof n !== "string") n = String(n);
    let l = names.get(n);
    if (l === undefined) {
      if (!TOKEN.test(n)) throw new TypeError("invalid header name: " + JSON.stringify(n));
      l = n.toLowerCase();
      if (names.size < 4096) names.set(n, l);
    }
    return l;
  }
  const isWs = (c) => c === 32 || c === 9 || c === 10 || c === 13;
  function checkValue(v) {
    if (typeof v !== "string") v = String(v);
    const n = v.length;
    if (n && (isWs(v.charCodeAt(0)) || isWs(v.charCodeAt(n - 1)))) v = trimHttp(v);
    if (v.includes("\r") || v.includes("\n") || v.includes("\0")) throw new TypeError("invalid header value (contains CR, LF or NUL)");
    return v;
  }
  class Headers {
    #list = [];          // [lowercased name, value] in insertion order
    #guard = "none";
    constructor(init) {
      if (init === undefined || init === null) return;
      if (init instanceof Headers) { this.#list = init.#list.map((e) => [e[0], e[1]]); return; }
      if (typeof init !== "object") throw new TypeError("Headers: init must be an object, an array of pairs or Headers");
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeError("Headers: each header pair must have exactly two items");
          this.append(p[0], p[1]);
        }
      } else {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      }
    }
    static __guard(h, g) { h.#guard = g; return h; }
    // Trusted pairs (from the host, or set by the runtime itself): no validation.
    static __trusted(list) { const h = new Headers(); h.#list = list; return h; }
    static __add(h, n, v) { h.#list.push([n, v]); }
    static __has(h, n) { for (const e of h.#list) if (e[0] === n) return true; return false; }
    #mutable() { if (this.#guard === "immutable") throw new TypeError("Headers are immutable"); }
    append(n, v) { this.#mutable(); this.#list.push([checkName(n), checkValue(v)]); }
    set(n, v) {
      this.#mutable();
      n = checkName(n); v = checkValue(v);
      const i = this.#list.findIndex((e) => e[0] === n);
      if (i < 0) { this.#list.push([n, v]); return; }
      this.#list[i][1] = v;
      this.#list = this.#list.filter((e, j) => j <= i || e[0] !== n);
    }
    delete(n) { this.#mutable(); n = checkName(n); this.#list = this.#list.filter((e) => e[0] !== n); }
    get(n) {
      n = checkName(n);
      const vs = this.#list.filter((e) => e[0] === n).map((e) => e[1]);
      return vs.length ? vs.join(", ") : null;
    }
    getSetCookie() { return this.#list.filter((e) => e[0] === "set-cookie").map((e) => e[1]); }
    has(n) { n = checkName(n); return this.#list.some((e) => e[0] === n); }
    *entries() {
      const names = [...new Set(this.#list.map((e) => e[0]))].sort();
      for (const n of names) {
        if (n === "set-cookie") for (const v of this.getSetCookie()) yield [n, v];
        else yield [n, this.get(n)];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(cb, thisArg) { for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
    static __raw(h) { return h.#list.map((e) => [e[0], e[1]]); }
  }

  // ---- Blob ------------------------------------------------------------------
  function partBytes(p) {
    if (p instanceof Blob) return Blob.__bytes(p);
    if (p instanceof ArrayBuffer) return new Uint8Array(p.slice(0));
    if (ArrayBuffer.isView(p)) return new Uint8Array(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
    return utf8(String(p));
  }
  function concat(chunks) {
    let n = 0;
    for (const c of chunks) n += c.length;
    const u = new Uint8Array(n);
    let o = 0;
    for (const c of chunks) { u.set(c, o); o += c.length; }
    return u;
  }
  class Blob {
    #bytes;
    #type;
    constructor(parts = [], opts = {}) {
      if (typeof parts !== "object" || parts === null || typeof parts[Symbol.iterator] !== "function") {
        throw new TypeError("Blob: parts must be an iterable");
      }
      this.#bytes = concat([...parts].map(partBytes));
      const t = opts && opts.type !== undefined ? String(opts.type) : "";
      this.#type = /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : "";
    }
    static __bytes(b) { return b.#bytes; }
    get size() { return this.#bytes.length; }
    get type() { return this.#type; }
    slice(start = 0, end = this.size, type = "") {
      const n = this.size;
      const rel = (x) => (x < 0 ? Math.max(n + x, 0) : Math.min(x, n));
      const s = rel(Math.trunc(start) || 0), e = rel(Math.trunc(end) || 0);
      return new Blob([this.#bytes.subarray(s, Math.max(s, e))], { type });
    }
    async arrayBuffer() { return this.#bytes.slice().buffer; }
    async bytes() { return this.#bytes.slice(); }
    async text() { return fromUtf8(this.#bytes); }
    get [Symbol.toStringTag]() { return "Blob"; }
  }
  class File extends Blob {
    #name;
    #lastModified;
    constructor(parts, name, opts = {}) {
      super(parts, opts);
      this.#name = String(name);
      this.#lastModified = opts.lastModified !== undefined ? Number(opts.lastModified) : Date.now();
    }
    get name() { return this.#name; }
    get lastModified() { return this.#lastModified; }
    get [Symbol.toStringTag]() { return "File"; }
  }

  // ---- bodies ----------------------------------------------------------------
  // A body is held as a string (text) or a Uint8Array (bytes); text stays text
  // until someone asks for bytes, so the common `new Response("hi")` never encodes.
  function extractBody(body) {
    if (body === undefined || body === null) return [null, null];
    if (typeof body === "string") return [body, "text/plain;charset=UTF-8"];
    if (body instanceof Blob) return [Blob.__bytes(body), body.type || null];
    if (body instanceof ArrayBuffer) return [new Uint8Array(body.slice(0)), null];
    if (ArrayBuffer.isView(body)) return [new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)), null];
    if (G.URLSearchParams && body instanceof G.URLSearchParams) return [body.toString(), "application/x-www-form-urlencoded;charset=UTF-8"];
    if (typeof body === "object" && typeof body.getReader === "function") throw new TypeError("streaming bodies (ReadableStream) are not supported; pass a string, ArrayBuffer, typed array or Blob");
    return [String(body), "text/plain;charset=UTF-8"];
  }
  class Body {
    #body = null;
    #used = false;
    __initBody(b) { this.#body = b; }
    __peekBody() { return this.#body; }
    get bodyUsed() { return this.#used; }
    get body() { return null; }
    #consume() {
      if (this.#used) throw new TypeError("body has already been used");
      this.#used = true;
      return this.#body;
    }
    async text() { const b = this.#consume(); return b === null ? "" : typeof b === "string" ? b : fromUtf8(b); }
    async json() { return JSON.parse(await this.text()); }
    async bytes() { const b = this.#consume(); return b === null ? new Uint8Array(0) : typeof b === "string" ? utf8(b) : b.slice(); }
    async arrayBuffer() { return (await this.bytes()).buffer; }
    async blob() { const ct = this.headers.get("content-type") || ""; return new Blob([await this.bytes()], { type: ct }); }
    async formData() { throw new TypeError("formData() is not supported"); }
  }
  function setBody(obj, headers, body) {
    if (body === null || body === undefined) { obj.__initBody(null); return; }
    const [b, ct] = extractBody(body);
    obj.__initBody(b);
    if (ct && !Headers.__has(headers, "content-type")) Headers.__add(headers, "content-type", ct);
  }

  // ---- Request ---------------------------------------------------------------
  const HOST = Symbol("host");
  const METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"]);
  function normMethod(m) {
    m = String(m);
    if (!TOKEN.test(m)) throw new TypeError("invalid method: " + JSON.stringify(m));
    const u = m.toUpperCase();
    if (u === "CONNECT" || u === "TRACE" || u === "TRACK") throw new TypeError("forbidden method: " + m);
    return METHODS.has(u) ? u : m;
  }
  // Parsing a URL is the costliest step of a Request (~40 us): remember the canonical form of
  // the strings seen lately (a pure function of the string; bounded).
  const hrefs = new Map();
  function canonical(s) {
    let h = hrefs.get(s);
    if (h === undefined) {
      h = new G.URL(s).href;
      if (hrefs.size >= 256) hrefs.clear();
      hrefs.set(s, h);
    }
    return h;
  }
  class Request extends Body {
    #url; #method; #headers; #redirect; #signal;
    constructor(input, init = {}) {
      super();
      if (input === HOST) {
        this.#url = init.url;
        this.#method = init.method;
        this.#headers = Headers.__trusted(init.headers);
        this.#redirect = "manual";
        this.#signal = null;
        this.__initBody(init.body === null || init.body === undefined ? null : fromB64(init.body));
        return;
      }
      init = init || {};
      let src = null;
      if (input instanceof Request) { src = input; this.#url = input.url; }
      else this.#url = canonical(String(input));
      this.#method = init.method !== undefined ? normMethod(init.method) : src ? src.method : "GET";
      this.#headers = new Headers(init.headers !== undefined ? init.headers : src ? src.headers : undefined);
      this.#redirect = init.redirect !== undefined ? String(init.redirect) : src ? src.redirect : "follow";
      if (!["follow", "error", "manual"].includes(this.#redirect)) throw new TypeError("invalid redirect mode: " + this.#redirect);
      this.#signal = init.signal !== undefined ? init.signal : src ? src.signal : null;
      let body = init.body !== undefined ? init.body : null;
      if (body === null && src && init.body === undefined) {
        const b = src.__peekBody();
        if (b !== null) { if (src.bodyUsed) throw new TypeError("the input request's body has already been used"); body = b; }
      }
      if (body !== null && (this.#method === "GET" || this.#method === "HEAD")) throw new TypeError("a " + this.#method + " request cannot have a body");
      setBody(this, this.#headers, body);
    }
    static __fromHost(m) { return new Request(HOST, m); }
    get url() { return this.#url; }
    get method() { return this.#method; }
    get headers() { return this.#headers; }
    get redirect() { return this.#redirect; }
    get signal() { return this.#signal || (this.#signal = new G.AbortController().signal); }
    clone() {
      if (this.bodyUsed) throw new TypeError("cannot clone a request whose body has been used");
      const b = this.__peekBody();
      return new Request(this, { body: b === null ? null : typeof b === "string" ? b : b.slice() });
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }

  // ---- Response --------------------------------------------------------------
  const NULL_BODY = new Set([101, 103, 204, 205, 304]);
  const REDIRECT = new Set([301, 302, 303, 307, 308]);
  class Response extends Body {
    #status; #statusText; #headers; #type = "default"; #url = ""; #redirected = false;
    constructor(body = null, init = {}) {
      super();
      init = init || {};
      const status = init.status !== undefined ? Number(init.status) : 200;
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError("Response status must be an integer from 200 to 599, got " + init.status);
      const st = init.statusText !== undefined ? String(init.statusText) : "";
      if (/[^\t\x20-\x7e\x80-\xff]/.test(st)) throw new TypeError("invalid statusText");
      this.#status = status;
      this.#statusText = st;
      this.#headers = init.headers === undefined ? new Headers() : new Headers(init.headers);
      if (body !== null && body !== undefined && NULL_BODY.has(status)) throw new TypeError("a Response with status " + status + " cannot have a body");
      setBody(this, this.#headers, body);
    }
    static json(data, init = {}) {
      const s = JSON.stringify(data);
      if (s === undefined) throw new TypeError("Response.json: the value cannot be serialised as JSON");
      const headers = new Headers(init && init.headers);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
      return new Response(s, { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (!REDIRECT.has(status)) throw new RangeError("invalid redirect status: " + status);
      const r = new Response(null, { status, headers: { location: new G.URL(String(url)).href } });
      Headers.__guard(r.#headers, "immutable");
      return r;
    }
    static error() {
      const r = new Response(null, { status: 200 });
      r.#status = 0;
      r.#type = "error";
      Headers.__guard(r.#headers, "immutable");
      return r;
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get headers() { return this.#headers; }
    get type() { return this.#type; }
    get url() { return this.#url; }
    get redirected() { return this.#redirected; }
    // What the host's fetch returned: {status, statusText, headers, body (base64), url, redirected}.
    static __fromFetch(res) {
      const st = res.status;
      const body = NULL_BODY.has(st) || !res.body ? null : fromB64(res.body);
      const r = new Response(body, { status: st >= 200 && st <= 599 ? st : 200, statusText: res.statusText, headers: res.headers });
      r.#status = st;
      r.#url = res.url || "";
      r.#redirected = !!res.redirected;
      r.#type = "basic";
      Headers.__guard(r.#headers, "immutable");
      return r;
    }
    clone() {
      if (this.bodyUsed) throw new TypeError("cannot clone a response whose body has been used");
      const b = this.__peekBody();
      const r = new Response(b === null ? null : typeof b === "string" ? b : b.slice(), { status: this.#status === 0 ? 200 : this.#status, statusText: this.#statusText, headers: this.#headers });
      r.#status = this.#status;
      return r;
    }
    // The host's view: JSON text {status, statusText, headers, text | b64}.
    __serialize(max) {
      if (this.#type === "error") throw new TypeError("the handler returned Response.error()");
      if (this.bodyUsed) throw new TypeError("the returned Response's body has already been used");
      const b = this.__peekBody();
      const out = { status: this.#status, statusText: this.#statusText, headers: Headers.__raw(this.#headers) };
      let size = 0;
      if (typeof b === "string") { out.text = b.toWellFormed(); size = out.text.length; }
      else if (b !== null) { out.b64 = toB64(b); size = b.length; }
      if (size > max) throw sr.fail("E_RESPONSE_TOO_LARGE", RangeError, "the response body is " + size + " bytes, over the limit of " + max);
      return JSON.stringify(out);
    }
    get [Symbol.toStringTag]() { return "Response"; }
  }

  // ---- fetch -----------------------------------------------------------------
  // The host checks the worker's egress policy, makes the request (following redirects unless
  // told not to) and reads the body; an AbortSignal rejects at once with its reason.
  async function fetch(input, init) {
    const req = new Request(input, init);
    const signal = req.signal;
    if (signal.aborted) throw signal.reason;
    const b = req.__peekBody();
    const op = sr.hostOp("fetch", {
      url: req.url, method: req.method, headers: Headers.__raw(req.headers), redirect: req.redirect,
      body: b === null ? null : typeof b === "string" ? toB64(utf8(b)) : toB64(b),
    });
    const res = await new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      op.then((v) => { signal.removeEventListener("abort", onAbort); resolve(v); },
              (e) => { signal.removeEventListener("abort", onAbort); reject(e); });
    });
    return Response.__fromFetch(res);
  }

  for (const [k, v] of Object.entries({ Headers, Request, Response, Blob, File, fetch })) {
    Object.defineProperty(G, k, { value: v, writable: true, configurable: true });
  }
});
