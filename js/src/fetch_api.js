// Headers, Request, Response, Blob and fetch(): the Fetch API surface of a worker.
// fetch() goes to the host through the mailbox; the host decides what is allowed.
//
// This chunk is evaluated lazily, maybe after tenant code patched built-ins, so it uses
// core's primordials (sr.prim) and never a global; what it shares with core (the request
// from the host, the response serialiser) goes into `sr`, and what its classes share
// with each other are closures over private fields made in `static {}` blocks.
(function (sr) {
  "use strict";
  const { push, join, sort, list, q, is, stringify, parse, setProto, Str, Num, TypeErr, RangeErr, Prom, mget, mset,
    msize, mclear, MapC, AP, iter, keys, code, lower, upper, slice, wellFormed, U8, AB, isView, bytesLen, b64, fromB64 } = sr.prim;
  const utf8 = (s) => { sr.load("encoding"); return sr.utf8(s); };
  const fromUtf8 = (u8) => { sr.load("encoding"); return sr.fromUtf8(u8); };
  const array = (l) => setProto(l, AP);   // an internal list handed to the tenant as a plain array
  const asObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
  // A string from a tenant value, or a TypeError (a Symbol, or a toString that throws).
  function toStr(v, what) {
    if (typeof v === "string") return v;
    if (typeof v === "symbol") throw new TypeErr(what + " cannot be a Symbol");
    try { return Str(v); } catch (e) { throw new TypeErr(what + " cannot be converted to a string: " + sr.errInfo(e).message); }
  }

  // ---- header grammar (RFC 9110), checked char by char -----------------------
  const TCHAR = new U8(128);
  const T = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (let i = 0; i < T.length; i++) TCHAR[code(T, i)] = 1;
  function isToken(s) {
    if (s.length === 0) return false;
    for (let i = 0; i < s.length; i++) { const c = code(s, i); if (c > 127 || !TCHAR[c]) return false; }
    return true;
  }
  const isWs = (c) => c === 32 || c === 9 || c === 10 || c === 13;
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
    let a = 0, b = v.length;
    while (a < b && isWs(code(v, a))) a++;
    while (b > a && isWs(code(v, b - 1))) b--;
    if (a > 0 || b < v.length) v = slice(v, a, b);
    for (let i = 0; i < v.length; i++) { const c = code(v, i); if (c === 13 || c === 10 || c === 0) throw new TypeErr("invalid header value (contains CR, LF or NUL)"); }
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
  function sortedNames(l) {
    const ns = list();
    for (let i = 0; i < l.length; i++) if (!hasIn(ns, l[i][0])) push(ns, l[i][0]);
    return sort(ns);
  }
  function hasIn(l, x) { for (let i = 0; i < l.length; i++) if (l[i] === x) return true; return false; }
  let isHeaders, trustedHeaders, freeze, appendHeader, addHeader, hasHeader, setHeader, headersJson;
  class Headers {
    #list = list();
    #immutable = false;
    constructor(init) {
      if (init === undefined || init === null) return;
      if (isHeaders(init)) { const l = init.#list; for (let i = 0; i < l.length; i++) push(this.#list, [l[i][0], l[i][1]]); return; }
      if (typeof init !== "object") throw new TypeErr("Headers: init must be an object, an array of pairs or Headers");
      if (typeof init[iter] === "function") {
        for (const pair of init) {
          const p = [...pair];
          if (p.length !== 2) throw new TypeErr("Headers: each header pair must have exactly two items");
          appendHeader(this, p[0], p[1]);
        }
      } else {
        const ks = keys(init);
        for (let i = 0; i < ks.length; i++) appendHeader(this, ks[i], init[ks[i]]);
      }
    }
    static {
      isHeaders = (o) => asObject(o) && #list in o;
      // Pairs from the host: names already lowercased and valid.
      trustedHeaders = (pairs) => { const h = new Headers(); for (let i = 0; i < pairs.length; i++) push(h.#list, [Str(pairs[i][0]), Str(pairs[i][1])]); return h; };
      freeze = (h) => { h.#immutable = true; };
      appendHeader = (h, n, v) => { h.#mutable(); push(h.#list, [checkName(n), checkValue(v)]); };
      addHeader = (h, n, v) => { push(h.#list, [n, v]); };   // set by the runtime itself: no checks
      hasHeader = (h, n) => hasName(h.#list, n);
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
    *entries() {
      const l = this.#list, ns = sortedNames(l);
      for (let i = 0; i < ns.length; i++) {
        const vs = valuesOf(l, ns[i]);
        if (ns[i] !== "set-cookie") yield [ns[i], join(vs, ", ")];
        else for (let j = 0; j < vs.length; j++) yield [ns[i], vs[j]];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    forEach(cb, thisArg) { for (const [k, v] of this.entries()) cb.call(thisArg, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "Headers"; }
  }

  // ---- Blob ------------------------------------------------------------------
  let isBlob, blobBytes, blobType;
  function copyBytes(p) {   // an ArrayBuffer or a view -> a fresh Uint8Array, else null
    if (is(p, AB)) return new U8(p.slice(0));
    if (isView(p)) return new U8(p.buffer.slice(p.byteOffset, p.byteOffset + p.byteLength));
    return null;
  }
  function partBytes(p) { return isBlob(p) ? blobBytes(p) : copyBytes(p) || utf8(toStr(p, "a Blob part")); }
  function concat(chunks) {
    let n = 0;
    for (let i = 0; i < chunks.length; i++) n += bytesLen(chunks[i]);
    const u = new U8(n);
    for (let i = 0, o = 0; i < chunks.length; i++) { u.set(chunks[i], o); o += bytesLen(chunks[i]); }
    return u;
  }
  class Blob {
    #bytes;
    #type;
    constructor(parts = [], opts = {}) {
      if (typeof parts !== "object" || parts === null || typeof parts[iter] !== "function") throw new TypeErr("Blob: parts must be an iterable");
      const bs = list();
      for (const p of parts) push(bs, partBytes(p));
      this.#bytes = concat(bs);
      const t = opts && opts.type !== undefined ? toStr(opts.type, "Blob type") : "";
      let ok = true;
      for (let i = 0; i < t.length; i++) { const c = code(t, i); if (c < 0x20 || c > 0x7e) ok = false; }
      this.#type = ok ? lower(t) : "";
    }
    static {
      isBlob = (o) => asObject(o) && #bytes in o;
      blobBytes = (b) => b.#bytes;
      blobType = (b) => b.#type;
      sr.blobBytes = blobBytes;
      sr.isBlob = isBlob;
    }
    get size() { return bytesLen(this.#bytes); }
    get type() { return this.#type; }
    slice(start = 0, end = this.size, type = "") {
      const n = this.size;
      const rel = (x) => (x < 0 ? (n + x > 0 ? n + x : 0) : x < n ? x : n);
      const s = rel(Math.trunc(start) || 0), e = rel(Math.trunc(end) || 0);
      return new Blob([this.#bytes.subarray(s, s > e ? s : e)], { type });
    }
    async arrayBuffer() { return this.#bytes.slice().buffer; }
    async bytes() { return this.#bytes.slice(); }
    async text() { return fromUtf8(this.#bytes); }
    stream() { return streams().streamOf(this.#bytes); }
    get [Symbol.toStringTag]() { return "Blob"; }
  }
  class File extends Blob {
    #name;
    #lastModified;
    constructor(parts, name, opts = {}) {
      super(parts, opts);
      this.#name = toStr(name, "File name");
      this.#lastModified = opts.lastModified !== undefined ? Num(opts.lastModified) : Date.now();
    }
    get name() { return this.#name; }
    get lastModified() { return this.#lastModified; }
    get [Symbol.toStringTag]() { return "File"; }
  }

  // ---- bodies ----------------------------------------------------------------
  // A body is held as a string (text), a Uint8Array (bytes) or a ReadableStream. Text and bytes
  // become a stream only when someone reads `.body`, so the common `new Response("hi")` read
  // with text() (or returned) never builds a stream, and text stays text until bytes are asked for.
  const streams = () => { sr.load("streams"); return sr; };
  function extractBody(body) {
    if (typeof body === "string") return [body, "text/plain;charset=UTF-8"];
    if (isBlob(body)) return [blobBytes(body), blobType(body) || null];
    const bytes = copyBytes(body);
    if (bytes !== null) return [bytes, null];
    const USP = sr.peek("URLSearchParams"), FD = sr.peek("FormData"), RS = sr.peek("ReadableStream");   // loaded already if the body can be one
    if (USP && is(body, USP)) return [toStr(body, "the body"), "application/x-www-form-urlencoded;charset=UTF-8"];
    if (FD && is(body, FD)) return sr.multipart(body);
    if (RS && sr.isStream(body)) {
      if (sr.streamLocked(body) || sr.streamDisturbed(body)) throw new TypeErr("the body stream is locked or has already been read");
      return [body, null];
    }
    return [toStr(body, "the body"), "text/plain;charset=UTF-8"];
  }
  const isSource = (b) => typeof b === "string" || is(b, U8);
  let initBody, moveBody, hasBody, bodyUsed, bodySource, bodyStream, consumeBody;
  class Body {
    #src = null;      // a string or a Uint8Array nobody has asked to see as a stream
    #stream = null;   // the body as a ReadableStream, once there is one
    #used = false;    // read without a stream (the fast path)
    static {
      initBody = (o, b) => { if (b === null || isSource(b)) { o.#src = b; o.#stream = null; } else { o.#src = null; o.#stream = b; } o.#used = false; };
      // new Request(input): the body moves to the new request and the input's body counts as used.
      moveBody = (to, from) => { to.#src = from.#src; to.#stream = from.#stream; from.#used = true; };
      hasBody = (o) => o.#src !== null || o.#stream !== null;
      bodyUsed = (o) => o.#used || (o.#stream !== null && sr.streamDisturbed(o.#stream));
      bodySource = (o) => o.#stream === null ? o.#src : o.#stream;
      // For clone(): the body as it can be copied; a stream is teed, this body keeping one branch.
      bodyStream = (o) => { const t = sr.tee(o.#stream); o.#stream = t[0]; return t[1]; };
      // The whole body (null, a string or a Uint8Array), marking it used; `max` bounds a stream.
      consumeBody = (o, max, tooLarge) => {
        if (o.#src === null && o.#stream === null) return null;
        if (o.#used || (o.#stream !== null && (sr.streamDisturbed(o.#stream) || sr.streamLocked(o.#stream)))) throw new TypeErr("body has already been used");
        if (o.#stream === null) { o.#used = true; return o.#src; }
        return sr.readAll(o.#stream, max, tooLarge);
      };
    }
    get bodyUsed() { return bodyUsed(this); }
    get body() {
      if (this.#stream === null && (this.#src !== null || this.#used)) {
        this.#stream = this.#used ? streams().usedStream() : streams().streamOf(this.#src);
        this.#src = null;
      }
      return this.#stream;
    }
    async text() { const b = await consumeBody(this); return b === null ? "" : typeof b === "string" ? b : fromUtf8(b); }
    async json() { return parse(await this.text()); }
    async bytes() { const b = await consumeBody(this); return b === null ? new U8(0) : typeof b === "string" ? utf8(b) : b.slice(); }
    async arrayBuffer() { return (await this.bytes()).buffer; }
    async blob() { const ct = this.headers.get("content-type") || ""; return new Blob([await this.bytes()], { type: ct }); }
    async formData() {
      const ct = this.headers.get("content-type") || "";
      const b = await consumeBody(this);
      sr.load("forms");
      return sr.parseForm(b === null ? new U8(0) : typeof b === "string" ? utf8(b) : b, ct);
    }
  }
  function setBody(obj, headers, body) {
    if (body === null || body === undefined) { initBody(obj, null); return; }
    const [b, ct] = extractBody(body);
    initBody(obj, b);
    if (ct && !hasHeader(headers, "content-type")) addHeader(headers, "content-type", ct);
  }
  // A body copied for clone(): a string or bytes as they are, a stream teed.
  const cloneSource = (o) => { const b = bodySource(o); return b === null || typeof b === "string" ? b : is(b, U8) ? b.slice() : bodyStream(o); };
  // A body whose base64 alone is over the host-operation limit is refused before it is encoded
  // (a string's UTF-8 is at least as long as the string).
  const b64Body = (b) => {
    if (b === null) return "null";
    if (!isSource(b)) throw new TypeErr("fetch(): the request body stream must be read first");
    const least = Math.ceil(b.length / 3) * 4, max = sr.limits.maxOpBytes;
    if (least > max) throw new RangeErr("fetch(): arguments are over " + least + " bytes (the body as base64), over the limit of " + max);
    return q(b64(typeof b === "string" ? utf8(b) : b));
  };

  // ---- Request ---------------------------------------------------------------
  const HOST = Symbol("host");
  const METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH"];
  function normMethod(m) {
    m = toStr(m, "the method");
    if (!isToken(m)) throw new TypeErr("invalid method: " + q(m));
    const u = upper(m);
    if (u === "CONNECT" || u === "TRACE" || u === "TRACK") throw new TypeErr("forbidden method: " + m);
    for (let i = 0; i < METHODS.length; i++) if (METHODS[i] === u) return u;
    return m;
  }
  // Parsing a URL is the costliest step of a Request (~40 us): remember the canonical form of
  // the strings seen lately (a pure function of the string; bounded).
  const hrefs = new MapC();
  function canonical(s) {
    let h = mget(hrefs, s);
    if (h === undefined) {
      h = toStr(new (sr.get("URL"))(s).href, "the URL");
      if (msize(hrefs) >= 256) mclear(hrefs);
      mset(hrefs, s, h);
    }
    return h;
  }
  let isRequest, fetchArgs, requestSignal;
  class Request extends Body {
    #url; #method; #headers; #redirect; #signal;
    constructor(input, init) {
      super();
      if (input === HOST) {
        this.#url = Str(init.url);
        this.#method = Str(init.method);
        this.#headers = trustedHeaders(init.headers);
        this.#redirect = "manual";
        this.#signal = null;
        initBody(this, init.body === null || init.body === undefined ? null : fromB64(init.body));
        return;
      }
      if (init === undefined || init === null) init = { __proto__: null };
      else if (!asObject(init)) throw new TypeErr("Request: init must be an object");
      const src = isRequest(input) ? input : null;
      this.#url = src ? src.#url : canonical(toStr(input, "the URL"));
      const method = init.method, headers = init.headers, redirect = init.redirect, signal = init.signal;
      let body = init.body;
      this.#method = method !== undefined ? normMethod(method) : src ? src.#method : "GET";
      this.#headers = new Headers(headers !== undefined ? headers : src ? src.#headers : undefined);
      this.#redirect = redirect !== undefined ? toStr(redirect, "the redirect mode") : src ? src.#redirect : "follow";
      if (this.#redirect !== "follow" && this.#redirect !== "error" && this.#redirect !== "manual") throw new TypeErr("invalid redirect mode: " + this.#redirect);
      if (signal !== undefined && signal !== null && !(sr.isSignal && sr.isSignal(signal))) throw new TypeErr("Request: signal must be an AbortSignal");
      this.#signal = signal !== undefined ? signal : src ? src.#signal : null;
      if (body === undefined) body = null;
      const inherit = body === null && src !== null && hasBody(src);   // the input's body, without its Content-Type
      if (inherit && bodyUsed(src)) throw new TypeErr("the input request's body has already been used");
      if ((body !== null || inherit) && (this.#method === "GET" || this.#method === "HEAD")) throw new TypeErr("a " + this.#method + " request cannot have a body");
      if (inherit) moveBody(this, src); else setBody(this, this.#headers, body);
    }
    static {
      isRequest = (o) => asObject(o) && #url in o;
      sr.requestFromHost = (m) => new Request(HOST, m);
      requestSignal = (r) => r.#signal;
      // The host's fetch operation: {url, method, headers, redirect, body (base64)} as JSON text.
      fetchArgs = (r, body) => '{"url":' + q(r.#url) + ',"method":' + q(r.#method) + ',"headers":' + headersJson(r.#headers) +
        ',"redirect":' + q(r.#redirect) + ',"body":' + b64Body(body) + "}";
    }
    get url() { return this.#url; }
    get method() { return this.#method; }
    get headers() { return this.#headers; }
    get redirect() { return this.#redirect; }
    get signal() { if (this.#signal === null) { sr.load("events"); this.#signal = sr.newSignal(); } return this.#signal; }
    clone() {
      if (bodyUsed(this)) throw new TypeErr("cannot clone a request whose body has been used");
      const r = new Request(this, { __proto__: null, body: null });
      initBody(this, bodySource(r));   // the new request took this one's body: hand it back
      initBody(r, cloneSource(this));
      return r;
    }
    get [Symbol.toStringTag]() { return "Request"; }
  }

  // ---- Response --------------------------------------------------------------
  const nullBody = (s) => s === 101 || s === 103 || s === 204 || s === 205 || s === 304;
  const REDIRECT = [301, 302, 303, 307, 308];
  function checkStatusText(st) {
    for (let i = 0; i < st.length; i++) { const c = code(st, i); if (c > 0xff || (c < 0x20 && c !== 9) || c === 0x7f) throw new TypeErr("invalid statusText"); }
    return st;
  }
  let responseFromFetch;
  class Response extends Body {
    #status; #statusText; #headers; #type = "default"; #url = ""; #redirected = false;
    constructor(body = null, init) {
      super();
      if (init === undefined || init === null) init = { __proto__: null };
      const s = init.status, st = init.statusText, h = init.headers;
      const status = s !== undefined ? Num(s) : 200;
      if (!(status >= 200 && status <= 599 && status % 1 === 0)) throw new RangeErr("Response status must be an integer from 200 to 599, got " + toStr(s, "the status"));
      this.#status = status;
      this.#statusText = st !== undefined ? checkStatusText(toStr(st, "the statusText")) : "";
      this.#headers = new Headers(h);
      if (body !== null && body !== undefined && nullBody(status)) throw new TypeErr("a Response with status " + status + " cannot have a body");
      setBody(this, this.#headers, body);
    }
    static json(data, init = {}) {
      const s = stringify(data);
      if (s === undefined) throw new TypeErr("Response.json: the value cannot be serialised as JSON");
      const headers = new Headers(init && init.headers);
      if (!hasHeader(headers, "content-type")) setHeader(headers, "content-type", "application/json");
      return new Response(s, { ...init, headers });
    }
    static redirect(url, status = 302) {
      let ok = false;
      for (let i = 0; i < REDIRECT.length; i++) if (REDIRECT[i] === status) ok = true;
      if (!ok) throw new RangeErr("invalid redirect status: " + toStr(status, "the status"));
      const r = new Response(null, { __proto__: null, status, headers: { __proto__: null, location: canonical(toStr(url, "the URL")) } });
      freeze(r.#headers);
      return r;
    }
    static error() {
      const r = new Response(null, { __proto__: null, status: 200 });
      r.#status = 0;
      r.#type = "error";
      freeze(r.#headers);
      return r;
    }
    static {
      // What the host's fetch returned: {status, statusText, headers, body (base64), url, redirected}.
      responseFromFetch = (res) => {
        const st = res.status, hs = res.headers, h = new Headers();
        for (let i = 0; i < hs.length; i++) appendHeader(h, hs[i][0], hs[i][1]);
        const body = nullBody(st) || !res.body ? null : fromB64(res.body);
        const r = new Response(body, { __proto__: null, status: st >= 200 && st <= 599 ? st : 200, statusText: res.statusText, headers: h });
        r.#status = st;
        r.#url = res.url ? Str(res.url) : "";
        r.#redirected = !!res.redirected;
        r.#type = "basic";
        freeze(r.#headers);
        return r;
      };
      // The host's view of a Response the handler returned: JSON text {status, statusText,
      // headers, text | b64}; undefined when v is not a Response made by this class.
      // A stream body is read to its end first (within max): then the answer is a promise of that text.
      // With `stream` (the host takes streamed bodies), a stream body is not read here: the
      // answer is {head, reader}, the head's JSON with "stream":true and a reader of the body.
      sr.serialize = (v, max, stream) => {
        if (!(asObject(v) && #status in v)) return undefined;
        if (v.#type === "error") throw new TypeErr("the handler returned Response.error()");
        if (bodyUsed(v)) throw new TypeErr("the returned Response's body has already been used");
        const b = bodySource(v);
        if (b === null || isSource(b)) return responseJson(v, b, max);
        if (stream) {
          const head = responseJson(v, null, max);
          return { __proto__: null, head: slice(head, 0, -1) + ',"stream":true}', reader: sr.bodyReader(b) };
        }
        const tooLarge = (n) => sr.fail("E_RESPONSE_TOO_LARGE", RangeErr, "the response body stream gave over " + (n - 1) + " bytes, over the limit of " + max);
        return (async () => responseJson(v, await consumeBody(v, max, tooLarge), max))();
      };
      const responseJson = (v, b, max) => {
        const size = b === null ? 0 : typeof b === "string" ? b.length : bytesLen(b);
        if (size > max) throw sr.fail("E_RESPONSE_TOO_LARGE", RangeErr, "the response body is " + size + " bytes, over the limit of " + max);
        const body = b === null ? "" : typeof b === "string" ? ',"text":' + q(wellFormed(b)) : ',"b64":' + q(b64(b));
        return '{"status":' + v.#status + ',"statusText":' + q(v.#statusText) + ',"headers":' + headersJson(v.#headers) + body + "}";
      };
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get headers() { return this.#headers; }
    get type() { return this.#type; }
    get url() { return this.#url; }
    get redirected() { return this.#redirected; }
    clone() {
      if (bodyUsed(this)) throw new TypeErr("cannot clone a response whose body has been used");
      const r = new Response(null, { __proto__: null, status: this.#status === 0 ? 200 : this.#status, statusText: this.#statusText, headers: this.#headers });
      initBody(r, cloneSource(this));
      r.#status = this.#status;
      r.#type = this.#type;
      r.#url = this.#url;
      r.#redirected = this.#redirected;
      return r;
    }
    get [Symbol.toStringTag]() { return "Response"; }
  }

  // ---- fetch -----------------------------------------------------------------
  // The host checks the worker's egress policy, makes the request (following redirects unless
  // told not to) and reads the body; an AbortSignal rejects at once with its reason. A call
  // JS can tell is wrong rejects at once with a TypeError, before anything reaches the host.
  async function fetch(input, init) {
    if (arguments.length === 0) throw new TypeErr("fetch: a URL or a Request is required");
    const req = new Request(input, init);
    const signal = requestSignal(req);
    if (signal !== null && sr.signalAborted(signal)) throw sr.signalReason(signal);
    let body = bodySource(req);
    if (body !== null && !isSource(body)) {   // a stream body is read first, within the host-operation limit
      const max = sr.limits.maxOpBytes;
      body = await consumeBody(req, Math.floor(max / 4) * 3, (n) => new RangeErr("fetch(): the request body stream is over " + (n - 1) + " bytes, over the limit of " + max + " bytes as base64"));
    }
    const op = sr.hostOp("fetch", fetchArgs(req, body));
    if (signal === null) return responseFromFetch(await op);
    const res = await new Prom((resolve, reject) => {
      const onAbort = () => reject(sr.signalReason(signal));
      sr.listen(signal, onAbort);
      (async () => { try { resolve(await op); } catch (e) { reject(e); } sr.unlisten(signal, onAbort); })();
    });
    return responseFromFetch(res);
  }

  sr.install({ __proto__: null, Headers, Request, Response, Blob, File, fetch });
});
