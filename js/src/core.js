// shardrun core prelude: the per-isolate event loop, the host mailbox, timers,
// console capture and handler dispatch. Evaluated in every fresh isolate, so it
// stays small; the Web APIs are separate chunks evaluated on first use.
//
// The chunk is a function (specJson, host, loadChunk) returning the entry points below;
// loadChunk(i) runs the i-th lazy chunk of specJson (see "lazily loaded Web APIs").
// Host <-> JS traffic is JSON text only. The host calls, per turn:
//   dispatch(rid, kind, json, now)  start a request (kind: task | scheduled; json: its argument)
//   dispatch(rid, "fetch", headers, now, method, url, body, stream, streamed)  start a fetch request: the
//                              JSON text of its header pairs (parsed only if the handler reads
//                              request.headers), method and url, body base64 or null, and
//                              stream true when the host takes a streamed body, streamed
//                              true when the request's body arrives as body.read host operations
//   fire(now)                  run the due timers of the request whose timer is due first
//   settle(json)               settle host operations: [[opid, ok, value], ...]
// These and cancel return the outbox like take(false) does, saving a call per turn.
//   cancel(rid)                forget a request the host gave up on (drops its timers; cancels its body stream)
//   credit(rid, n)             the host took n more bytes of a streamed body: JS may send that many more
//   take(idle)                 drain the outbox as a JSON array of events, one per line;
//                              idle=true (no pending jobs) also fails requests that can
//                              never respond
// Loading: boot(promise of the bootstrap module, env JSON, limits JSON, bindings JSON), then booted() -> JSON
//   {handlers: [...]} or an error {code, message, ...}.
// Events: ["r", rid, ok, value]  a response (value is a result, or an error object)
//         ["f", rid]             the request is finished (waitUntil settled)
//         ["o", opid, rid, name, args]  a host operation request
//         ["l", rid, level, text]       a console line
//         ["d", n]               console lines of finished requests dropped so far (isolate total)
//         ["t", due, rid]        the earliest timer (always last, when there are timers)
//         ["c", rid, b64]        a piece of a streamed response body (after its "r" event)
//         ["e", rid]             the streamed body ended
//         ["x", rid, error]      the streamed body failed (an error object)
// A fetch request the host marked `stream` whose Response has a stream body is answered with
// its head at once ("r" with `"stream":true`) and its body in pieces as the stream gives them,
// at most `credit` bytes ahead of what the host took (limits.streamWindow to start with).
//
// Tenant code runs in this realm and may patch any built-in. So nothing here looks a
// built-in up after init: the primordials below are captured before the worker's script
// runs, events are built as text from primitives (JSON.stringify only ever sees strings),
// and the helpers the chunks share travel in `internals`, never through globals. No entry
// point throws to the host because of what tenant code did.
(function (specJson, host, loadChunk) {
  "use strict";
  const G = globalThis, O = Object;
  const uncurry = Function.prototype.bind.bind(Function.prototype.call);   // uncurry(f)(self, ...a) = f.call(self, ...a)
  const getter = (proto, k) => uncurry(O.getOwnPropertyDescriptor(proto, k).get);
  const parse = JSON.parse, stringify = JSON.stringify, define = O.defineProperty, setProto = O.setPrototypeOf;
  const Str = String, Num = Number, TypeErr = TypeError, RangeErr = RangeError, Err = Error, IErr = InternalError;
  const Prom = Promise, rejected = Promise.reject.bind(Promise), apply = Reflect.apply, MapC = Map, SetC = Set;
  const AP = Array.prototype, SP = String.prototype, MP = Map.prototype, TP = O.getPrototypeOf(Uint8Array.prototype);
  const push = uncurry(AP.push), join = uncurry(AP.join), sort = uncurry(AP.sort);
  const startsWith = uncurry(SP.startsWith), includes = uncurry(SP.includes), trimEnd = uncurry(SP.trimEnd);
  const mget = uncurry(MP.get), mset = uncurry(MP.set), mhas = uncurry(MP.has), mdel = uncurry(MP.delete);
  const meach = uncurry(MP.forEach), msize = getter(MP, "size");
  const sadd = uncurry(Set.prototype.add), shas = uncurry(Set.prototype.has), sdel = uncurry(Set.prototype.delete);
  const seach = uncurry(Set.prototype.forEach);
  const wget = uncurry(WeakMap.prototype.get), wset = uncurry(WeakMap.prototype.set);
  const hasInstance = uncurry(Function.prototype[Symbol.hasInstance]), objTag = uncurry(O.prototype.toString);
  const getterOf = uncurry(O.prototype.__lookupGetter__), ownDesc = O.getOwnPropertyDescriptor;
  const list = () => setProto([], null);   // an array no Array.prototype accessor can intercept
  const q = (s) => stringify(s);           // JSON text of a string primitive (no toJSON is consulted)
  const is = (v, C) => { try { return hasInstance(C, v); } catch (_) { return false; } };
  // What the chunks may use instead of the (patchable) globals.
  const prim = {
    __proto__: null, uncurry, getter, push, join, sort, list, q, is, stringify, parse, define, setProto, Str, Num,
    TypeErr, RangeErr, Prom, mget, mset, mhas, msize, mclear: uncurry(MP.clear), MapC, AP, iter: Symbol.iterator,
    keys: O.keys, code: uncurry(SP.charCodeAt), lower: uncurry(SP.toLowerCase), upper: uncurry(SP.toUpperCase),
    slice: uncurry(SP.slice), wellFormed: uncurry(SP.toWellFormed), U8: Uint8Array, AB: ArrayBuffer,
    isView: ArrayBuffer.isView, bytesLen: getter(TP, "length"), b64: uncurry(Uint8Array.prototype.toBase64),
    fromB64: Uint8Array.fromBase64.bind(Uint8Array), isArray: Array.isArray, exec: uncurry(RegExp.prototype.exec),
  };
  let limits = null, env = null;   // set by boot(): a prepared isolate is not yet any worker's
  const chunks = { __proto__: null };
  parse(specJson).forEach(([name, globals], i) => { chunks[name] = [i, globals]; });
  const codes = new WeakMap();   // errors raised by the runtime itself -> stable code

  const reqs = new MapC();      // rid -> request state
  const timers = new MapC();    // timer id -> {fn, args, due, every, rid}
  const ops = new MapC();       // opid -> {resolve, reject, rid}
  const ctxs = new WeakMap();   // ctx object -> request state
  let out = list();             // pre-serialised events
  let now = 0, cur = 0, tseq = 0, oseq = 0, mod = null;

  // ---- errors -------------------------------------------------------------
  // Each part of a tenant's exception is read on its own, and nothing it does escapes.
  function field(e, k) {
    try { const v = e[k]; return v === undefined || v === null ? undefined : typeof v === "string" ? v : Str(v); } catch (_) { return undefined; }
  }
  function errInfo(e, code) {
    let name = "Uncaught", message, stack = "";
    if (e !== null && (typeof e === "object" || typeof e === "function")) {
      name = field(e, "name") ?? "Error";
      message = field(e, "message");
      if (message === undefined) { try { message = Str(e); } catch (_) { message = "an exception whose message could not be read"; } }
      try { const s = e.stack; if (typeof s === "string") stack = s; } catch (_) {}
      code = code || wget(codes, e);
    } else {
      message = Str(e);
    }
    if (!code) {
      if (message === "out of memory" && is(e, IErr)) code = "E_OOM";
      else if (message === "interrupted" && is(e, IErr)) code = "E_CPU_LIMIT";   // the engine's time limit
      else if (startsWith(message, "Maximum call stack size") && is(e, RangeErr)) code = "E_STACK";
      else code = "E_SCRIPT";
    }
    return { __proto__: null, code, name, message, stack };
  }
  const infoJson = (i) => '{"code":' + q(i.code) + ',"name":' + q(i.name) + ',"message":' + q(i.message) + ',"stack":' + q(i.stack) + "}";
  const HOST_ERRORS = { __proto__: null, TypeError, RangeError, Error };
  function hostError(info) {
    const name = info.name ? Str(info.name) : "Error", Cls = HOST_ERRORS[name] || Err;
    const err = new Cls(Str(info.message));
    if (!(name in HOST_ERRORS)) err.name = name || "Error";
    if (info.code) { err.code = Str(info.code); wset(codes, err, err.code); }
    return err;
  }
  function fail(code, ErrorClass, message) {
    const e = new ErrorClass(message);
    wset(codes, e, code);
    return e;
  }

  // ---- outbox -------------------------------------------------------------
  function respond(r, ok, value) {   // value: JSON text of the result, or an error info
    if (r.responded) return;
    r.responded = true;
    push(out, '["r",' + r.rid + (ok ? ",true," + value : ",false," + infoJson(value)) + "]");
    maybeFinish(r);
  }
  function maybeFinish(r) {
    if (!r.responded || r.waiting > 0 || r.finished) return;
    r.finished = true;
    dropTimers(r);
    mdel(reqs, r.rid);
    push(out, '["f",' + r.rid + "]");
  }
  function dropTimers(r) { if (r.timers) seach(r.timers, (id) => mdel(timers, id)); }

  // ---- results ------------------------------------------------------------
  const badOutput = (message) => ({ __proto__: null, code: "E_BAD_OUTPUT", name: "TypeError", message, stack: "" });
  const tooLarge = (message) => ({ __proto__: null, code: "E_RESPONSE_TOO_LARGE", name: "RangeError", message, stack: "" });
  function taskResult(r, v) {
    if (typeof v === "function" || typeof v === "symbol") return respond(r, false, badOutput("the handler returned a " + typeof v + "; a task result must be JSON"));
    if (typeof v === "string" && v.length > limits.maxOutputBytes) {   // before copying it into JSON
      return respond(r, false, tooLarge("the task result is a string of " + v.length + " characters, over the limit of " + limits.maxOutputBytes + " bytes"));
    }
    let s;
    try { s = stringify(v === undefined ? null : v); } catch (e) {
      const i = errInfo(e), m = i.message;
      if (i.code === "E_OOM") return respond(r, false, { __proto__: null, code: "E_OOM", name: "InternalError", stack: "", message: "the isolate ran out of memory while serialising the task result" });
      const what = includes(m, "circular") ? "a circular structure" : includes(m, "BigInt") ? "a BigInt" : "a value JSON cannot carry";
      return respond(r, false, badOutput("the task result cannot be serialised as JSON: it contains " + what + " (" + m + ")"));
    }
    if (typeof s !== "string") s = "null";
    if (s.length > limits.maxOutputBytes) return respond(r, false, tooLarge("the task result is " + s.length + " bytes of JSON, over the limit of " + limits.maxOutputBytes));
    respond(r, true, s);
  }
  function fetchResult(r, v) {
    let s;
    try { load("fetch_api"); s = internals.serialize(v, limits.maxOutputBytes, r.stream); } catch (e) { return respond(r, false, errInfo(e)); }
    if (s === undefined) return respond(r, false, badOutput("the fetch handler must return a Response, it returned " + describe(v)));
    if (typeof s === "object" && s.reader) { load("stream_out"); return internals.streamOut(r, s.head, s.reader); }   // streamed to the host
    if (typeof s !== "string") return later(r, s, fetched);   // a stream body: read to its end first
    respond(r, true, s);
  }
  const fetched = (r, s) => respond(r, true, s);

  // ---- streamed bodies: the stream_out chunk (js/src/stream_out.js) -------
  // r.reader is set only by that chunk, so where it is set the chunk is loaded.
  function credit(rid, n) {
    const r = mget(reqs, rid);
    if (r && r.reader && n > 0) internals.streamCredit(r, n);   // n: a positive int (the shard checks it)
    return flush();
  }
  function describe(v) {
    if (v === null || typeof v !== "object") return v === null ? "null" : typeof v;
    let n;
    try { n = v.constructor.name; } catch (_) {}
    return (typeof n === "string" && n ? n : "an object") + " (not a Response made by the runtime's Response class)";
  }

  // ---- dispatch -----------------------------------------------------------
  const ctxProto = {
    waitUntil(p) {
      const r = wget(ctxs, this);
      if (!r || r.finished) throw new TypeErr("waitUntil() must be called on the ctx of a request that is still running");
      r.waiting++;
      track(r, p);
    },
    passThroughOnException() {},
  };
  async function track(r, p) {
    try { await p; } catch (e) { log(r.rid, "error", ["waitUntil promise rejected:", e]); }
    r.waiting--;
    maybeFinish(r);
  }
  function dispatch(rid, kind, json, t, method, url, body, stream, streamed) {
    now = t;
    const r = { rid, responded: false, finished: false, waiting: 0, timers: null, logBytes: 0, logDropped: false };
    mset(reqs, rid, r);
    cur = rid;
    const done = kind === "fetch" ? fetchResult : taskResult;
    let v, then;
    try {
      let arg;
      if (kind === "fetch") { r.stream = stream === true; load("fetch_api"); arg = internals.requestFromHost(method, url, json, body, streamed, rid); }
      else arg = parse(json);
      const ctx = { __proto__: ctxProto };
      wset(ctxs, ctx, r);
      v = mod[kind](arg, env, ctx);
      if (v !== null && (typeof v === "object" || typeof v === "function")) then = v.then;
    } catch (e) {
      respond(r, false, errInfo(e));
      return flush();
    }
    if (typeof then === "function") later(r, v, done); else done(r, v);
    return flush();
  }
  // `await` takes the engine's own path for a native promise: a patched then() is never called.
  async function later(r, v, done) {
    let x;
    try { x = await v; } catch (e) { cur = r.rid; return respond(r, false, errInfo(e)); }
    cur = r.rid;
    done(r, x);
  }
  function cancel(rid) {
    const r = mget(reqs, rid);
    if (!r) return flush();
    if (r.reader) internals.streamStop(r);
    r.responded = r.finished = true;
    r.waiting = 0;
    dropTimers(r);
    mdel(reqs, rid);
    return flush();
  }

  // ---- timers -------------------------------------------------------------
  function addTimer(fn, ms, args, every) {
    if (typeof fn !== "function") throw new TypeErr("the timer callback must be a function");
    const r = mget(reqs, cur);
    if (!r) throw new Err("timers can only be set while handling a request, not at the top level of the script");
    if (msize(timers) >= limits.maxTimers) throw new RangeErr("too many timers (limit " + limits.maxTimers + ")");
    ms = Num(ms);
    if (!(ms >= 0) || ms > 2147483647) ms = 0;
    const id = ++tseq;
    mset(timers, id, { fn, args, due: now + ms, every: every ? (ms < 1 ? 1 : ms) : 0, rid: r.rid });
    sadd(r.timers || (r.timers = new SetC()), id);
    return id;
  }
  function clearTimer(id) {
    const t = mget(timers, id);
    if (t) { mdel(timers, id); const r = mget(reqs, t.rid); if (r && r.timers) sdel(r.timers, id); }
  }
  const timerFns = {   // methods: their names survive minifying
    setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); },
    setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); },
    clearTimeout(id) { clearTimer(id); },
    clearInterval(id) { clearTimer(id); },
  };
  for (const k in timerFns) G[k] = timerFns[k];

  function firstTimer(dueOnly) {
    let first = null;
    meach(timers, (x) => { if ((!dueOnly || x.due <= now) && (first === null || x.due < first.due)) first = x; });
    return first;
  }
  function fire(t) {
    now = t;
    const first = firstTimer(true);
    if (first === null) return flush();
    const rid = first.rid;
    cur = rid;
    const due = list();
    meach(timers, (x, id) => { if (x.rid === rid && x.due <= now) push(due, [id, x]); });
    sort(due, (a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (let i = 0; i < due.length; i++) {
      const id = due[i][0], x = due[i][1];
      if (!mhas(timers, id)) continue;
      if (x.every) x.due = now + x.every; else clearTimer(id);
      try { apply(x.fn, undefined, x.args); } catch (e) {
        const r = mget(reqs, rid);
        if (r && !r.responded) respond(r, false, errInfo(e));
        else log(rid, "error", ["uncaught exception in a timer:", e]);
      }
    }
    return flush();
  }

  // ---- host operations (the mailbox) -----------------------------------------
  // args: the operation's arguments as JSON text, built by the caller from primitives.
  function hostOp(name, args) {
    const rid = cur;
    if (!mhas(reqs, rid)) return rejected(new Err(name + "() can only be called while handling a request"));
    const opid = ++oseq;
    const s = '["o",' + opid + "," + rid + "," + q(name) + "," + args + "]";
    if (s.length > limits.maxOpBytes) return rejected(new RangeErr(name + "(): arguments are " + s.length + " bytes, over the limit of " + limits.maxOpBytes));
    return new Prom((resolve, reject) => { mset(ops, opid, { resolve, reject, rid }); push(out, s); });
  }
  function settle(json) {
    const items = parse(json);
    let rid = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i], o = mget(ops, it[0]);
      if (!o) continue;                       // late settle after the request ended
      mdel(ops, it[0]);
      cur = rid = o.rid;
      if (it[1]) o.resolve(it[2]); else o.reject(hostError(it[2]));
    }
    cur = rid;
    return flush();
  }

  // ---- error stacks ---------------------------------------------------------
  // As V8 prints them ("Name: message", then "    at fn (file:line:col)" frames, the error's own
  // constructors left out), without the frames of shardrun's own code (its chunks are named
  // "shardrun:..."). A worker may replace it. Like V8, the text is made when `stack` is first
  // read: the engine calls prepareStack when the error is made, which keeps the call sites
  // behind a token, and the Error.prototype.stack getter formats them on the first read, so a
  // name a subclass sets after super() is in the first line.
  function formatStack(err, sites) {
    let head = "Error";
    try {
      head = Str(err.name === undefined ? "Error" : err.name);
      const m = err.message;
      if (m !== undefined && m !== "") head += ": " + Str(m);
    } catch (_) { /* a hostile name or message: keep what we have */ }
    const lines = [head];
    try {
      let i = 0;
      while (i < sites.length && sites[i].isConstructor()) i++;   // the error's own constructors, as V8 hides them
      for (; i < sites.length; i++) {
        const s = sites[i];
        const file = s.getFileName();
        // shardrun's chunks are named "shardrun:..." or stripped of debug information (no name)
        if (typeof file === "string" && (file === "" || startsWith(file, "shardrun:") || file === "<bootstrap>")) continue;
        const fn = s.getFunctionName(), line = s.getLineNumber(), col = s.getColumnNumber();
        const where = (file || "<anonymous>") + (line ? ":" + line + (col ? ":" + col : "") : "");
        push(lines, fn ? "    at " + fn + " (" + where + ")" : "    at " + where);
      }
    } catch (_) { /* keep the frames read so far */ }
    return join(lines, "\n");
  }
  // token -> call sites, then the formatted text. A token is kept only where the engine keeps the
  // value as the error's own [[ErrorData]] (a genuine Error, not Error.captureStackTrace's target).
  const lazyStacks = new WeakMap(), isError = Err.isError, EP = Err.prototype;
  const stackDesc = ownDesc(EP, "stack"), nativeStack = uncurry(stackDesc.get), nativeCapture = Err.captureStackTrace;
  let capturing = 0;
  function lazyPrepare(err, sites) {
    if (capturing || !isError(err) || ownDesc(err, "stack")) return formatStack(err, sites);
    const token = { __proto__: null };
    wset(lazyStacks, token, sites);
    return token;
  }
  // Workers see (and may call, chain to, or put back) a prepareStackTrace that returns the text;
  // the engine gets the lazy one while that is the one set.
  const shown = { prepareStackTrace(err, sites) { return formatStack(err, sites); } }.prepareStackTrace;
  const setPrepare = uncurry(ownDesc(Err, "prepareStackTrace").set);
  let prepare = shown;
  define(Err, "prepareStackTrace", { __proto__: null, configurable: true, enumerable: false,
    get: { prepareStackTrace() { return prepare; } }.prepareStackTrace,
    set: { prepareStackTrace(f) { prepare = f; setPrepare(Err, f === shown ? lazyPrepare : f); } }.prepareStackTrace });
  setPrepare(Err, lazyPrepare);
  define(EP, "stack", { __proto__: null, configurable: true, enumerable: false, set: stackDesc.set,
    get: { stack() {
      const v = nativeStack(this);
      if (v === null || typeof v !== "object") return v;
      let s = wget(lazyStacks, v);
      if (typeof s === "object") wset(lazyStacks, v, (s = formatStack(this, s)));
      return s === undefined ? v : s;
    } }.stack });
  define(Err, "captureStackTrace", { __proto__: null, writable: true, configurable: true, value: { captureStackTrace(target, fn) {
    capturing++;
    try { return apply(nativeCapture, Err, [target, fn]); } finally { capturing--; }
  } }.captureStackTrace });

  // ---- console -------------------------------------------------------------
  function fmt(v) {
    try {
      switch (typeof v) {
        case "string": return v;
        case "function": { const n = field(v, "name"); return "[Function " + (n || "anonymous") + "]"; }
        case "bigint": return v + "n";
        case "object": {
          if (v === null) return "null";
          if (is(v, Err)) {
            const s = field(v, "stack"), head = field(v, "name") + ": " + field(v, "message");
            return s ? head + "\n" + trimEnd(s) : head;
          }
          const seen = new SetC();
          const s = stringify(v, (k, x) => {
            if (typeof x === "bigint") return x + "n";
            if (typeof x === "object" && x !== null) { if (shas(seen, x)) return "[Circular]"; sadd(seen, x); }
            return x;
          });
          return typeof s === "string" ? s : Str(s);
        }
        default: return Str(v);   // undefined, number, boolean, symbol: no tenant code runs
      }
    } catch (_) {
      try { return objTag(v); } catch (_) { return "[unprintable]"; }
    }
  }
  // Lines of a running request count against its own budget; lines of a finished request
  // (a timer or promise job that outlived it) or of no request count against the isolate's.
  // Limits arrive with boot(), after the script's top level ran: until then the default cap.
  let orphanBytes = 0, orphanDropped = 0, dropsReported = 0;
  function log(rid, level, args, head, tail) {
    const r = mget(reqs, rid), cap = limits ? limits.maxLogBytes : 65536;
    if (r ? r.logDropped : orphanDropped) { if (!r) orphanDropped++; return; }
    let text = head || "";
    for (let i = 0; i < args.length; i++) text += (text || i ? " " : "") + fmt(args[i]);
    if (tail) text += (text ? " " : "") + tail;
    if (r) {
      r.logBytes += text.length;
      if (r.logBytes > cap) {
        r.logDropped = true;
        text = "[console output over " + cap + " bytes for this request; the rest is dropped]";
        level = "warn";
      }
    } else if ((orphanBytes += text.length) > cap) {
      orphanDropped = 1;
      text = "[console output of finished requests over " + cap + " bytes for this isolate; the rest is dropped]";
      level = "warn";
    }
    push(out, '["l",' + rid + "," + q(level) + "," + q(text) + "]");
  }
  const con = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) con[level] = (...a) => log(cur, level, a);
  con.trace = (...a) => log(cur, "debug", a, "", Str(new Err("trace").stack));
  con.assert = (c, ...a) => { if (!c) log(cur, "error", a, "Assertion failed"); };
  define(G, "console", { value: con, writable: true, configurable: true });

  // ---- lazily loaded Web APIs -------------------------------------------------
  // chunks: {name: [index, [globals...]]}. The first read of a global evaluates its chunk:
  // loadChunk(index) (the host's) runs it and returns function(internals) that installs its globals. A global the
  // tenant set before its chunk loaded stays the tenant's; `internals.get` gives the real one.
  const loaded = { __proto__: null }, chunkOf = { __proto__: null }, lazy = { __proto__: null }, installed = { __proto__: null };
  const data = (value) => ({ __proto__: null, value, writable: true, configurable: true });
  const internals = {
    __proto__: null, prim, hostOp, errInfo, fail, host, load: (n) => load(n), respond, maybeFinish, infoJson, describe,
    hostOpFor: (rid, name, args) => { const c = cur; cur = rid; try { return hostOp(name, args); } finally { cur = c; } },   // of request rid, whichever is current
    emit: (event) => push(out, event), clearTimer,
    setTimer: (fn, ms) => addTimer(fn, ms, list(), false),   // whatever the tenant did to setTimeout
    get: (g) => { load(chunkOf[g]); return installed[g]; }, peek: (g) => installed[g],
    install(o) { for (const k in o) define(G, k, data(o[k])); },
    get limits() { return limits; }, get now() { return now; },
  };
  function load(name) {
    if (loaded[name]) return;
    loaded[name] = true;
    const c = chunks[name], names = c[1], kept = list();
    for (let i = 0; i < names.length; i++) {
      const g = names[i];
      if (getterOf(G, g) === lazy[g]) delete G[g]; else { const d = ownDesc(G, g); push(kept, [g, d && setProto(d, null)]); }
    }
    loadChunk(c[0])(internals);
    for (let i = 0; i < names.length; i++) installed[names[i]] = G[names[i]];
    for (let i = 0; i < kept.length; i++) { const g = kept[i][0], d = kept[i][1]; if (d) define(G, g, d); else delete G[g]; }
  }
  // One descriptor object for all, and arrows (no prototype object each): this loop was a
  // fifth of a fresh isolate's engine work.
  const acc = { __proto__: null, configurable: true, enumerable: false, get: undefined, set: undefined };
  for (const name in chunks) {
    const names = chunks[name][1];
    for (let i = 0; i < names.length; i++) {
      const g = names[i];
      chunkOf[g] = name;
      acc.get = lazy[g] = () => { load(name); return G[g]; };
      acc.set = (v) => define(G, g, data(v));
      define(G, g, acc);
    }
  }

  // Date/Number/BigInt/String's locale-aware methods: thin wrappers that load the intl chunk on first
  // call and run its sr.<D|N|B|S><name> (the engine's own ones ignore locales and options).
  for (const k of "DtoLocaleString DtoLocaleDateString DtoLocaleTimeString NtoLocaleString BtoLocaleString SlocaleCompare StoLocaleUpperCase StoLocaleLowerCase".split(" ")) {
    const m = k.slice(1);
    define({ D: Date, N: Num, B: BigInt, S: Str }[k[0]].prototype, m, data({ [m](...a) { load("intl"); return apply(internals[k], this, a); } }[m]));
  }

  // ---- entry points for the host ------------------------------------------------
  // boot(p): p is the promise of the bootstrap module, which imports the worker's
  // module namespace and calls register(ns). booted() reports how that went.
  let bootState = null;   // JSON text
  function register(ns) {
    if (!("default" in ns)) {
      return infoJson(fail0("the script has no default export: add `export default { async fetch(request, env, ctx) { ... } }` (or a task or scheduled handler)"));
    }
    mod = ns.default;
    if (mod === null || (typeof mod !== "object" && typeof mod !== "function")) {
      return infoJson(fail0("the default export is " + (mod === null ? "null" : typeof mod) + "; it must be an object with fetch, task or scheduled handlers"));
    }
    const handlers = list();
    const kinds = ["fetch", "task", "scheduled"];   // by index: after the top level, the Array iterator may be the tenant's
    for (let i = 0; i < kinds.length; i++) if (typeof mod[kinds[i]] === "function") push(handlers, q(kinds[i]));
    return '{"handlers":[' + join(handlers, ",") + "]}";
  }
  const fail0 = (message) => ({ __proto__: null, code: "E_NO_DEFAULT_EXPORT", name: "Error", message, stack: "" });
  function boot(p, envJson, limitsJson, bindingsJson) {
    env = parse(envJson);
    // env bindings ([[kv_namespaces]] and the like): [[name, kind], ...], objects of the bindings chunk
    const spec = bindingsJson ? parse(bindingsJson) : null;
    if (spec !== null && spec.length) { load("bindings"); internals.bind(env, spec); }
    limits = parse(limitsJson);
    define(p, "constructor", data(Prom));   // so `await p` never consults a patched Promise.prototype
    booting(p);
  }
  async function booting(p) {
    try {
      await p;
      const ns = G.__shardrun_ns;
      delete G.__shardrun_ns;
      bootState = register(ns);
    } catch (e) { bootState = infoJson(errInfo(e)); }
  }
  function booted() {
    return bootState || '{"code":"E_SCRIPT","message":"the script\'s top level did not finish: top-level await is waiting on something that never settles (timers and I/O are not available at the top level)"}';
  }
  function take(idle) {
    if (idle && msize(reqs) !== 0 && msize(timers) === 0 && msize(ops) === 0) {
      const rs = list();
      meach(reqs, (r) => push(rs, r));
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i];
        if (!r.responded) {
          respond(r, false, { __proto__: null, code: "E_NEVER_RESPONDS", name: "Error", stack: "",
            message: "the handler will never generate a response: its promise is still pending and nothing is left that could settle it (no timers, no host operations)" });
        } else if (r.waiting > 0) {
          if (r.reader) {
            if (r.wake) continue;   // a streamed body waiting for the host's credit: the host will give it
            internals.streamStrand(r);   // its source can never give more
            if (r.waiting === 0) { maybeFinish(r); continue; }
          }
          log(r.rid, "warn", ["ctx.waitUntil() promises will never settle; the request is finished without them"]);
          r.waiting = 0;
          maybeFinish(r);
        }
      }
    }
    return flush();
  }
  function flush() {
    if (orphanDropped !== dropsReported) push(out, '["d",' + (dropsReported = orphanDropped) + "]");
    const first = msize(timers) ? firstTimer(false) : null;
    if (first !== null) push(out, '["t",' + first.due + "," + first.rid + "]");
    if (out.length === 0) return "";
    const s = join(["[", join(out, "\n,"), "]"], "");   // join makes a flat string; "+" may make a rope the binding cannot read
    out = list();
    return s;
  }
  // An exception that still gets here (tenant code run by a getter, a proxy, ...) fails the
  // request being served instead of reaching the host.
  const guard = (fn) => (a, b, c, d, m, u, y, s, z) => {
    try { return fn(a, b, c, d, m, u, y, s, z); } catch (e) {
      const r = mget(reqs, cur);
      if (r) respond(r, false, errInfo(e));
      return flush();
    }
  };
  return { boot, booted, dispatch: guard(dispatch), fire: guard(fire), settle: guard(settle), take: guard(take), cancel: guard(cancel), credit: guard(credit), load };
});
