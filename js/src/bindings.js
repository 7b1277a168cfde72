// env bindings: the objects a worker.toml's [[kv_namespaces]], [[d1_databases]],
// [[queues.producers]] and [assets] binding put in `env`. Every method is one "binding" host operation
// {b: binding name, m: method, a: args}; the host checks the binding is this worker's,
// counts it against the request's caps and runs it (shardrun/bindings/). One entry per
// kind in `kinds` below, matching shardrun/bindings/types.py.
(function (sr) {
  const { stringify, parse, Str, Num, TypeErr, RangeErr, list, push, is, U8, AB, isView, b64, fromB64 } = sr.prim;
  // One call; arguments over a host operation's size limit fail here with `big` (or E_BINDING_ARGUMENT).
  function op(b, m, a, big) {
    const s = stringify({ __proto__: null, b, m, a }), max = sr.limits.maxOpBytes - 64;
    if (s.length > max) {
      const e = sr.fail(big || "E_BINDING_ARGUMENT", RangeErr, "env." + b + "." + m + "(): the arguments are " + s.length +
        " bytes as sent to the host, over the limit of " + max + " (a host operation's, max_op_bytes)");
      e.code = big || "E_BINDING_ARGUMENT";
      throw e;
    }
    return sr.hostOp("binding", s);
  }
  const obj = () => ({ __proto__: null });
  function bytesOf(v) {                       // a string stays text; bytes go as base64
    if (typeof v === "string") return { __proto__: null, t: v };
    if (is(v, AB)) return { __proto__: null, b: b64(new U8(v)) };
    if (isView(v)) return { __proto__: null, b: b64(new U8(v.buffer, v.byteOffset, v.byteLength)) };
    return null;
  }
  const isStream = (v) => { try { return is(v, sr.get("ReadableStream")); } catch (_) { return false; } };
  const plain = (v) => (v && typeof v === "object" ? v : obj());

  // ---- KV --------------------------------------------------------------------------
  const TYPES = ["text", "json", "arrayBuffer", "stream"];
  function typed(v, type) {
    if (v === null) return null;
    if (type === "text") return v;
    if (type === "json") return parse(v);
    const bytes = fromB64(v);
    if (type === "arrayBuffer") return bytes.buffer;
    const RS = sr.get("ReadableStream");
    return new RS({ type: "bytes", start(c) { if (bytes.length) c.enqueue(bytes); c.close(); } });
  }
  async function kvGet(n, key, opts, meta) {
    let type = typeof opts === "string" ? opts : opts && typeof opts === "object" && opts.type !== undefined ? Str(opts.type) : "text";
    if (!TYPES.includes(type)) throw new TypeErr("KV get(): type must be one of text, json, arrayBuffer, stream");
    const r = await op(n, meta ? "getWithMetadata" : "get", { __proto__: null, key: Str(key), type });
    const value = typed(r.v, type);
    if (!meta) return value;
    return { value, metadata: r.meta === null ? null : parse(r.meta), cacheStatus: null };
  }
  class KVNamespace {
    #n;
    constructor(key, n) { if (key !== sr) throw new TypeErr("Illegal constructor"); this.#n = n; }
    get(key, opts) { return kvGet(this.#n, key, opts, false); }
    getWithMetadata(key, opts) { return kvGet(this.#n, key, opts, true); }
    async put(key, value, opts) {
      const o = plain(opts), a = obj();
      a.key = Str(key);
      if (isStream(value)) value = new U8(await new (sr.get("Response"))(value).arrayBuffer());
      const v = bytesOf(value);
      if (v === null) throw new TypeErr("KV put(): the value must be a string, an ArrayBuffer, a typed array or a ReadableStream");
      a.value = v;
      if (o.expiration !== undefined) a.expiration = Num(o.expiration);
      if (o.expirationTtl !== undefined) a.expirationTtl = Num(o.expirationTtl);
      if (o.metadata !== undefined && o.metadata !== null) a.metadata = stringify(o.metadata);
      await op(this.#n, "put", a, "E_KV_TOO_LARGE");
    }
    async delete(key) { await op(this.#n, "delete", { __proto__: null, key: Str(key) }); }
    async list(opts) {
      const o = plain(opts), a = obj();
      if (o.prefix !== undefined && o.prefix !== null) a.prefix = Str(o.prefix);
      if (o.cursor !== undefined && o.cursor !== null) a.cursor = Str(o.cursor);
      if (o.limit !== undefined) a.limit = Num(o.limit);
      const r = await op(this.#n, "list", a);
      const ks = [];
      for (let i = 0; i < r.keys.length; i++) {
        const k = r.keys[i], e = { name: k.name };
        if (k.expiration !== undefined) e.expiration = k.expiration;
        if (k.metadata !== undefined) e.metadata = parse(k.metadata);
        push(ks, e);
      }
      const page = { keys: ks, list_complete: r.list_complete, cacheStatus: null };
      if (r.cursor !== undefined) page.cursor = r.cursor;
      return page;
    }
  }

  // ---- D1 --------------------------------------------------------------------------
  function param(v) {
    if (v === null || typeof v === "string") return v;
    if (typeof v === "number") { if (v !== v || v === Infinity || v === -Infinity) throw new TypeErr("D1_TYPE_ERROR: cannot bind " + v); return v; }
    if (typeof v === "boolean") return v ? 1 : 0;
    const bytes = bytesOf(v);
    if (bytes !== null && bytes.b !== undefined) return bytes;
    throw new TypeErr("D1_TYPE_ERROR: Type '" + (v === undefined ? "undefined" : typeof v) + "' not supported for value '" + Str(v) + "'");
  }
  function rowsOf(r) {
    const out = [], cols = r.columns;
    for (let i = 0; i < r.rows.length; i++) {
      const row = r.rows[i], o = {};
      for (let j = 0; j < cols.length; j++) o[cols[j]] = row[j];
      push(out, o);
    }
    return out;
  }
  const shaped = (r) => ({ success: true, meta: r.meta, results: rowsOf(r) });
  let partsOf;   // batch() reads a statement's private parts through this
  class D1PreparedStatement {
    #n; #sql; #params;
    static { partsOf = (st) => [st.#n, st.#sql, st.#params]; }
    constructor(key, n, sql, params) { if (key !== sr) throw new TypeErr("Illegal constructor"); this.#n = n; this.#sql = sql; this.#params = params; }
    bind(...values) {
      const ps = list();
      for (let i = 0; i < values.length; i++) push(ps, param(values[i]));
      return new D1PreparedStatement(sr, this.#n, this.#sql, ps);
    }
    async first(column) {
      const r = await op(this.#n, "query", { __proto__: null, mode: "first", s: [[this.#sql, this.#params]] });
      const rows = rowsOf(r);
      if (rows.length === 0) return null;
      if (column === undefined) return rows[0];
      const c = Str(column);
      if (!r.columns.includes(c)) throw new Error("D1_COLUMN_NOTFOUND: Column not found (" + c + ")");
      return rows[0][c];
    }
    async all() { return shaped(await op(this.#n, "query", { __proto__: null, mode: "all", s: [[this.#sql, this.#params]] })); }
    async run() { return shaped(await op(this.#n, "query", { __proto__: null, mode: "run", s: [[this.#sql, this.#params]] })); }
    async raw(opts) {
      const r = await op(this.#n, "query", { __proto__: null, mode: "raw", s: [[this.#sql, this.#params]] });
      const out = [];
      if (opts && opts.columnNames) push(out, [...r.columns]);
      for (let i = 0; i < r.rows.length; i++) push(out, r.rows[i]);
      return out;
    }
  }
  class D1Database {
    #n;
    constructor(key, n) { if (key !== sr) throw new TypeErr("Illegal constructor"); this.#n = n; }
    prepare(sql) { const s = new D1PreparedStatement(sr, this.#n, Str(sql), list()); return s; }
    async batch(statements) {
      const s = list();
      for (const st of statements) {
        if (!is(st, D1PreparedStatement)) throw new TypeErr("D1 batch(): takes an array of prepared statements");
        const p = partsOf(st);
        if (p[0] !== this.#n) throw new TypeErr("D1 batch(): a statement was prepared on another database");
        push(s, [p[1], p[2]]);
      }
      if (s.length === 0) return [];
      const rs = await op(this.#n, "query", { __proto__: null, mode: "batch", s });
      const out = [];
      for (let i = 0; i < rs.length; i++) push(out, shaped(rs[i]));
      return out;
    }
    async exec(sql) { return { ...(await op(this.#n, "exec", { __proto__: null, sql: Str(sql) })) }; }
    async dump() { throw new Error("D1 dump() is not supported"); }
  }

  // ---- queue producers --------------------------------------------------------------
  function message(body, opts) {
    if (body === undefined) throw new TypeErr("Queue send(): the body is undefined");
    const m = obj();
    m.body = stringify(body);
    if (m.body === undefined) throw new TypeErr("Queue send(): the body cannot be sent as JSON");
    const o = plain(opts);
    if (o.delaySeconds !== undefined) m.delaySeconds = Num(o.delaySeconds);
    return m;
  }
  class Queue {
    #n;
    constructor(key, n) { if (key !== sr) throw new TypeErr("Illegal constructor"); this.#n = n; }
    async send(body, opts) { const m = list(); push(m, message(body, opts)); await op(this.#n, "send", { __proto__: null, m }, "E_QUEUE_TOO_LARGE"); }
    async sendBatch(messages, opts) {
      const m = list(), d = plain(opts).delaySeconds;
      for (const x of messages) push(m, message(plain(x).body, { delaySeconds: plain(x).delaySeconds !== undefined ? plain(x).delaySeconds : d }));
      await op(this.#n, "sendBatch", { __proto__: null, m }, "E_QUEUE_TOO_LARGE");
    }
  }

  // ---- static assets ([assets] binding = "ASSETS") -----------------------------------
  // Cloudflare's Fetcher shape: fetch(input, init) answers with the file at the URL's path.
  const NO_BODY = [101, 204, 205, 304];
  class Assets {
    #n;
    constructor(key, n) { if (key !== sr) throw new TypeErr("Illegal constructor"); this.#n = n; }
    async fetch(input, init) {
      const req = new (sr.get("Request"))(input, init), hs = list();
      for (const h of req.headers) push(hs, [h[0], h[1]]);
      const r = await op(this.#n, "fetch", { __proto__: null, method: req.method, url: req.url, headers: hs });
      const body = req.method === "HEAD" || NO_BODY.includes(r.status) ? null : fromB64(r.b64);
      return new (sr.get("Response"))(body, { status: r.status, statusText: r.statusText, headers: r.headers });
    }
    connect() { throw new TypeErr("the assets binding has no connect()"); }
  }

  const kinds = { __proto__: null, kv: KVNamespace, d1: D1Database, queue: Queue, assets: Assets };
  // env gets one object per binding: spec is [[name, kind], ...] from the host.
  sr.bind = (env, spec) => {
    for (let i = 0; i < spec.length; i++) {
      const C = kinds[spec[i][1]];
      if (C !== undefined) env[spec[i][0]] = new C(sr, spec[i][0]);
    }
  };
});
