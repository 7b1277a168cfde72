// Request, Response and fetch(): the Fetch API surface of a worker, with Headers from
// headers.js and Blob and File from blob.js (the same chunk). fetch() goes to the host through the mailbox;
// the host decides what is allowed.
//
// This chunk is evaluated lazily, maybe after tenant code patched built-ins, so it uses
// core's primordials (sr.prim) and never a global; what it shares with core (the request
// from the host, the response serialiser) goes into `sr`, and what its classes share
// with each other are closures over private fields made in `static {}` blocks.
(function (sr) {
  "use strict";
  const { push, join, sort, list, q, is, stringify, parse, setProto, Str, Num, TypeErr, RangeErr, Prom, AP, iter,
    keys, code, lower, upper, slice, wellFormed, U8, AB, isView, bytesLen, b64, fromB64 } = sr.prim;
  const { Headers, isHeaders, trustedHeaders, headersOf, freeze, appendHeader, addHeader, hasHeader, setHeader, headersJson,
    toStr, dict, asObject, isToken, array, utf8, fromUtf8 } = sr.fetchParts;

  const { Blob, File, isBlob, blobBytes, blobType, copyBytes } = sr.blobParts;
  const streams = () => { sr.load("streams"); return sr; };

  // ---- bodies ----------------------------------------------------------------
  // A body is held as a string (text), a Uint8Array (bytes) or a ReadableStream. Text and bytes
  // become a stream only when someone reads `.body`, so the common `new Response("hi")` read
  // with text() (or returned) never builds a stream, and text stays text until bytes are asked for.
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
  // A stream this chunk made from a body's string or bytes (`.body` read), and that source: while
  // nobody has read, cancelled, tee'd or locked the stream, its content is exactly the source, so
  // a returned or fetched body takes the source instead of reading the stream (new Response(res.body, res)).
  const origins = new WeakMap(), wget = sr.prim.uncurry(WeakMap.prototype.get), wset = sr.prim.uncurry(WeakMap.prototype.set);
  const untouched = (st) => { const o = wget(origins, st); return o !== undefined && !sr.streamDisturbed(st) && !sr.streamLocked(st) ? o : undefined; };
  // A body's stream given back as its source when untouched (else the stream itself).
  const sourceOf = (b) => { if (b === null || isSource(b)) return b; const o = untouched(b); return o === undefined ? b : o; };
  let initBody, moveBody, hasBody, bodyLocked, bodyUsed, bodySource, bodyStream, consumeBody;
  class Body {
    #src = null;      // a string or a Uint8Array nobody has asked to see as a stream
    #stream = null;   // the body as a ReadableStream, once there is one
    #used = false;    // read without a stream (the fast path)
    static {
      initBody = (o, b) => { if (b === null || isSource(b)) { o.#src = b; o.#stream = null; } else { o.#src = null; o.#stream = b; } o.#used = false; };
      // new Request(input): the body moves to the new request and the input's body counts as used.
      moveBody = (to, from) => { to.#src = from.#src; to.#stream = from.#stream; from.#used = true; };
      hasBody = (o) => o.#src !== null || o.#stream !== null;
      bodyLocked = (o) => o.#stream !== null && sr.streamLocked(o.#stream);
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
        if (!this.#used) wset(origins, this.#stream, this.#src);
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
    const e = extractBody(body), b = e[0], ct = e[1];   // by index: a patched Array iterator is not consulted
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
  // A Request's URL is the href of its input: the url chunk's parser (which keeps the strings it
  // parsed lately), not the global URL, which tenant code may have replaced.
  function canonical(s) { sr.load("url"); return sr.urlHref(s); }
  let isRequest, fetchArgs, requestSignal, reqMethod;
  // A request body the host streams in as it arrives (`bodyStream`): each pull is a "body.read"
  // host operation of request `rid`, settled with the next piece (base64) or null at the end, or
  // failed with the body's error (E_BODY_TOO_LARGE, E_TIMEOUT, E_CLIENT_GONE). Nothing is pulled
  // until someone reads (highWaterMark 0): a worker that never reads the body costs nothing.
  function bodyIn(rid) {
    const s = streams();
    return s.newReadable({ __proto__: null, async pull(c) {
      const v = await s.hostOpFor(rid, "body.read", "null");
      if (v === null) s.rsClose(c); else s.rsEnqueue(c, fromB64(v));
    } }, { __proto__: null, highWaterMark: 0 });
  }
  class Request extends Body {
    // #headers: a Headers, or (a request from the host whose headers nobody has read yet) the
    // JSON text of its header pairs; #hs() makes the Headers on first use.
    #url; #method; #headers; #redirect; #signal;
    constructor(input, init) {
      super();
      if (input === HOST) return;   // sr.requestFromHost fills it in
      if (init === undefined || init === null) init = { __proto__: null };
      else if (!asObject(init)) throw new TypeErr("Request: init must be an object");
      const src = isRequest(input) ? input : null;
      this.#url = src ? src.#url : canonical(toStr(input, "the URL"));
      const method = init.method, headers = init.headers, redirect = init.redirect, signal = init.signal;
      let body = init.body;
      this.#method = method !== undefined ? normMethod(method) : src ? src.#method : "GET";
      this.#headers = new Headers(headers !== undefined ? headers : src ? src.#hs() : undefined);
      this.#redirect = redirect !== undefined ? toStr(redirect, "the redirect mode") : src ? src.#redirect : "follow";
      if (this.#redirect !== "follow" && this.#redirect !== "error" && this.#redirect !== "manual") throw new TypeErr("invalid redirect mode: " + this.#redirect);
      if (signal !== undefined && signal !== null && !(sr.isSignal && sr.isSignal(signal))) throw new TypeErr("Request: signal must be an AbortSignal");
      this.#signal = signal !== undefined ? signal : src ? src.#signal : null;
      if (body === undefined) body = null;
      const inherit = body === null && src !== null && hasBody(src);   // the input's body, without its Content-Type
      if (inherit && (bodyUsed(src) || bodyLocked(src))) throw new TypeErr("the input request's body has already been used or is locked to a reader");
      if ((body !== null || inherit) && (this.#method === "GET" || this.#method === "HEAD")) throw new TypeErr("a " + this.#method + " request cannot have a body");
      if (inherit) moveBody(this, src); else setBody(this, this.#headers, body);
    }
    static {
      isRequest = (o) => asObject(o) && #url in o;
      // The request the host sent (checked there): method and url strings, pairs the JSON text
      // of its header pairs, body base64 or null, or `streamed`: its body arrives as request
      // `rid`'s "body.read" host operations.
      sr.requestFromHost = (method, url, pairs, body, streamed, rid) => {
        const r = new Request(HOST);
        r.#url = url;
        r.#method = method;
        r.#headers = pairs;
        r.#redirect = "manual";
        r.#signal = null;
        if (streamed === true) initBody(r, bodyIn(rid));
        else if (body !== null) initBody(r, fromB64(body));
        return r;
      };
      requestSignal = (r) => r.#signal;
      reqMethod = (r) => r.#method;
      // The host's fetch operation: {url, method, headers, redirect, body (base64)} as JSON text.
      fetchArgs = (r, body) => '{"url":' + q(r.#url) + ',"method":' + q(r.#method) + ',"headers":' + headersJson(r.#hs()) +
        ',"redirect":' + q(r.#redirect) + ',"body":' + b64Body(body) + "}";
    }
    get url() { return this.#url; }
    get method() { return this.#method; }
    #hs() { const h = this.#headers; return typeof h === "string" ? (this.#headers = trustedHeaders(h)) : h; }
    get headers() { return this.#hs(); }
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
  // The header list of a Response the runtime fills in itself: one content-type, or none.
  const typed = (ct) => { const l = list(); if (ct !== null) push(l, ["content-type", ct]); return l; };
  const MADE = Symbol("made");
  let responseFromFetch, made;
  class Response extends Body {
    #status; #statusText; #headers; #type = "default"; #url = ""; #redirected = false;
    constructor(body = null, init) {
      super();
      if (body === MADE) return;   // made(): filled in there
      if (init === undefined && (body === null || typeof body === "string")) {   // the common new Response(text)
        this.#status = 200;
        this.#statusText = "";
        this.#headers = headersOf(typed(body === null ? null : "text/plain;charset=UTF-8"));
        initBody(this, body);
        return;
      }
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
    static json(data, init = undefined) {
      const s = stringify(data);
      if (s === undefined) throw new TypeErr("Response.json: the value cannot be serialised as JSON");
      if (init === undefined) return made(s, "application/json");
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
      // A 200 Response with a text body and its content-type, as new Response(s) would make it.
      made = (s, ct) => {
        const r = new Response(MADE);
        r.#status = 200;
        r.#statusText = "";
        r.#headers = headersOf(typed(ct));
        initBody(r, s);
        return r;
      };
      // What the host's fetch returned: {status, statusText, headers, body (base64), url, redirected}.
      responseFromFetch = (res, method) => {
        const st = res.status, hs = res.headers, h = new Headers();
        for (let i = 0; i < hs.length; i++) appendHeader(h, hs[i][0], hs[i][1]);
        // An empty body is a body (read once, then bodyUsed); only a null-body status or HEAD has none.
        const body = nullBody(st) || method === "HEAD" ? null : res.body ? fromB64(res.body) : new U8(0);
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
        const b = sourceOf(bodySource(v));
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
    let body = sourceOf(bodySource(req));
    if (body !== null && !isSource(body)) {   // a stream body is read first, within the host-operation limit
      const max = sr.limits.maxOpBytes;
      body = await consumeBody(req, Math.floor(max / 4) * 3, (n) => new RangeErr("fetch(): the request body stream is over " + (n - 1) + " bytes, over the limit of " + max + " bytes as base64"));
    }
    const op = sr.hostOp("fetch", fetchArgs(req, body));
    if (signal === null) return responseFromFetch(await op, reqMethod(req));
    const res = await new Prom((resolve, reject) => {
      const onAbort = () => reject(sr.signalReason(signal));
      sr.listen(signal, onAbort);
      (async () => { try { resolve(await op); } catch (e) { reject(e); } sr.unlisten(signal, onAbort); })();
    });
    return responseFromFetch(res, reqMethod(req));
  }

  sr.install({ __proto__: null, Headers, Request, Response, Blob, File, fetch });
});
