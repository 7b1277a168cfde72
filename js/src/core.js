// shardrun core prelude: the per-isolate event loop, the host mailbox, timers,
// console capture and handler dispatch. Evaluated in every fresh isolate, so it
// stays small; the Web APIs are separate chunks evaluated on first use.
//
// Host <-> JS traffic is JSON text only. The host calls, per turn:
//   dispatch(rid, kind, json, now)  start a request (kind: task | fetch | scheduled)
//   fire(now)                  run the due timers of the request whose timer is due first
//   settle(json)               settle host operations: [[opid, ok, value], ...]
// These and cancel return the outbox like take(false) does, saving a call per turn.
//   cancel(rid)                forget a request the host gave up on (drops its timers)
//   take(idle)                 drain the outbox as a JSON array of events, one per line;
//                              idle=true (no pending jobs) also fails requests that can
//                              never respond
// Loading: boot(promise of the bootstrap module, env JSON, limits JSON), then booted() -> JSON
//   {handlers: [...]} or an error {code, message, ...}.
// Events: ["r", rid, ok, value]  a response (value is a result, or an error object)
//         ["f", rid]             the request is finished (waitUntil settled)
//         ["o", opid, rid, name, args]  a host operation request
//         ["l", rid, level, text]       a console line
//         ["t", due, rid]        the earliest timer (always last, when there are timers)
(function (specJson, seed) {
  "use strict";
  const G = globalThis;
  const parse = JSON.parse, stringify = JSON.stringify;
  const define = Object.defineProperty;
  const P = Promise, then = Promise.prototype.then, resolveP = Promise.resolve.bind(Promise);
  const isArray = Array.isArray;
  const indirectEval = G.eval;
  let limits = null, env = null;   // set by boot(): a prepared isolate is not yet any worker's
  const sources = Array.prototype.slice.call(arguments, 2);
  const chunks = {};
  parse(specJson).forEach(([name, globals], i) => { chunks[name] = [sources[i], globals]; });
  const codes = new WeakMap();   // errors raised by the runtime itself -> stable code

  const reqs = new Map();      // rid -> request state
  const timers = new Map();    // timer id -> {fn, args, due, every, rid}
  const ops = new Map();       // opid -> {resolve, reject, rid}
  let out = [];                // pre-serialised events
  let now = 0, cur = 0, tseq = 0, oseq = 0, mod = null;

  // ---- errors -------------------------------------------------------------
  function errInfo(e, code) {
    let name = "Error", message, stack = "";
    try {
      if (e !== null && (typeof e === "object" || typeof e === "function")) {
        name = String(e.name ?? "Error");
        message = String(e.message ?? e);
        stack = typeof e.stack === "string" ? e.stack : "";
      } else {
        message = String(e);
        name = "Uncaught";
      }
    } catch (_) {
      message = "an exception whose message could not be read";
    }
    if (!code && e !== null && typeof e === "object") code = codes.get(e);
    if (!code) {
      if (e instanceof InternalError && message === "out of memory") code = "E_OOM";
      else if (e instanceof InternalError && message === "interrupted") code = "E_CPU_LIMIT";   // the engine's time limit
      else if (e instanceof RangeError && message.startsWith("Maximum call stack size")) code = "E_STACK";
      else code = "E_SCRIPT";
    }
    return { code, name, message, stack };
  }
  const HOST_ERRORS = { TypeError, RangeError, Error };
  function hostError(info) {
    const Cls = HOST_ERRORS[info.name] || Error;
    const err = new Cls(info.message);
    if (!(info.name in HOST_ERRORS)) err.name = info.name || "Error";
    if (info.code) { err.code = info.code; codes.set(err, info.code); }
    return err;
  }

  function fail(code, ErrorClass, message) {
    const e = new ErrorClass(message);
    codes.set(e, code);
    return e;
  }

  // ---- outbox -------------------------------------------------------------
  function emit(ev) { out.push(stringify(ev)); }
  function respond(r, ok, value) {
    if (r.responded) return;
    r.responded = true;
    if (ok) out.push('["r",' + r.rid + ",true," + value + "]");
    else emit(["r", r.rid, false, value]);
    maybeFinish(r);
  }
  function maybeFinish(r) {
    if (!r.responded || r.waiting > 0 || r.finished) return;
    r.finished = true;
    if (r.timers) for (const id of r.timers) timers.delete(id);
    reqs.delete(r.rid);
    out.push('["f",' + r.rid + "]");
  }

  // ---- results ------------------------------------------------------------
  function badOutput(message) { return { code: "E_BAD_OUTPUT", name: "TypeError", message, stack: "" }; }
  function taskResult(r, v) {
    if (typeof v === "function") return respond(r, false, badOutput("the handler returned a function; a task result must be JSON"));
    if (typeof v === "symbol") return respond(r, false, badOutput("the handler returned a symbol; a task result must be JSON"));
    if (typeof v === "string" && v.length > limits.maxOutputBytes) {   // before copying it into JSON
      return respond(r, false, { code: "E_RESPONSE_TOO_LARGE", name: "RangeError", stack: "",
        message: "the task result is a string of " + v.length + " characters, over the limit of " + limits.maxOutputBytes + " bytes" });
    }
    let s;
    try { s = stringify(v === undefined ? null : v); } catch (e) {
      const m = String(e && e.message);
      if (e instanceof InternalError && m === "out of memory") {
        return respond(r, false, { code: "E_OOM", name: "InternalError", stack: "",
          message: "the isolate ran out of memory while serialising the task result" });
      }
      const what = m.includes("circular") ? "a circular structure" : m.includes("BigInt") ? "a BigInt" : "a value JSON cannot carry";
      return respond(r, false, badOutput("the task result cannot be serialised as JSON: it contains " + what + " (" + m + ")"));
    }
    if (s === undefined) s = "null";
    if (s.length > limits.maxOutputBytes) {
      return respond(r, false, { code: "E_RESPONSE_TOO_LARGE", name: "RangeError", stack: "",
        message: "the task result is " + s.length + " bytes of JSON, over the limit of " + limits.maxOutputBytes });
    }
    respond(r, true, s);
  }
  function fetchResult(r, v) {
    if (!(v instanceof G.Response)) {
      const t = v === null ? "null" : typeof v === "object" ? (v.constructor && v.constructor.name) || "object" : typeof v;
      return respond(r, false, badOutput("the fetch handler must return a Response, it returned " + t));
    }
    let s;
    try { s = v.__serialize(limits.maxOutputBytes); } catch (e) { return respond(r, false, errInfo(e)); }
    respond(r, true, s);
  }

  // ---- dispatch -----------------------------------------------------------
  const REQ = Symbol("request");
  const ctxProto = {
    waitUntil(p) {
      const r = this[REQ];
      if (!r || r.finished) throw new TypeError("waitUntil() must be called on the ctx of a request that is still running");
      r.waiting++;
      const done = () => { r.waiting--; maybeFinish(r); };
      then.call(resolveP(p), done, (e) => { log(r.rid, "error", ["waitUntil promise rejected:", e]); done(); });
    },
    passThroughOnException() {},
  };
  function dispatch(rid, kind, json, t) {
    now = t;
    const r = { rid, responded: false, finished: false, waiting: 0, timers: null, logBytes: 0, logDropped: false };
    reqs.set(rid, r);
    cur = rid;
    const done = kind === "fetch" ? fetchResult : taskResult;
    let v;
    try {
      const arg = kind === "fetch" ? G.Request.__fromHost(parse(json)) : parse(json);
      v = mod[kind](arg, env, { __proto__: ctxProto, [REQ]: r });
    } catch (e) {
      respond(r, false, errInfo(e));
      return flush();
    }
    if (v !== null && typeof v === "object" && typeof v.then === "function") {
      then.call(resolveP(v), (x) => { cur = rid; done(r, x); }, (e) => respond(r, false, errInfo(e)));
    } else {
      done(r, v);
    }
    return flush();
  }
  function cancel(rid) {
    const r = reqs.get(rid);
    if (!r) return;
    r.responded = true;
    r.waiting = 0;
    r.finished = true;
    if (r.timers) for (const id of r.timers) timers.delete(id);
    reqs.delete(rid);
    return flush();
  }

  // ---- timers -------------------------------------------------------------
  function addTimer(fn, ms, args, every) {
    if (typeof fn !== "function") throw new TypeError("the timer callback must be a function");
    const r = reqs.get(cur);
    if (!r) throw new Error("timers can only be set while handling a request, not at the top level of the script");
    if (timers.size >= limits.maxTimers) throw new RangeError("too many timers (limit " + limits.maxTimers + ")");
    ms = Number(ms);
    if (!(ms >= 0) || ms > 2147483647) ms = 0;
    const id = ++tseq;
    timers.set(id, { fn, args, due: now + ms, every: every ? Math.max(ms, 1) : 0, rid: cur });
    (r.timers || (r.timers = new Set())).add(id);
    return id;
  }
  function clearTimer(id) {
    const t = timers.get(id);
    if (t) { timers.delete(id); const r = reqs.get(t.rid); if (r && r.timers) r.timers.delete(id); }
  }
  G.setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  G.setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  G.clearTimeout = clearTimer;
  G.clearInterval = clearTimer;

  function fire(t) {
    now = t;
    let first = null;
    for (const [id, x] of timers) if (x.due <= now && (first === null || x.due < first.due)) first = x;
    if (first === null) return flush();
    const rid = first.rid;
    cur = rid;
    const due = [];
    for (const [id, x] of timers) if (x.rid === rid && x.due <= now) due.push([id, x]);
    due.sort((a, b) => a[1].due - b[1].due || a[0] - b[0]);
    for (const [id, x] of due) {
      if (!timers.has(id)) continue;
      if (x.every) x.due = now + x.every; else clearTimer(id);
      try { x.fn(...x.args); } catch (e) {
        const r = reqs.get(rid);
        if (r && !r.responded) respond(r, false, errInfo(e));
        else log(rid, "error", ["uncaught exception in a timer:", e]);
      }
    }
    return flush();
  }

  // ---- host operations (the mailbox) -----------------------------------------
  function hostOp(name, args) {
    const rid = cur;
    if (!reqs.has(rid)) return P.reject(new Error(name + "() can only be called while handling a request"));
    const opid = ++oseq;
    let s;
    try { s = stringify(["o", opid, rid, name, args]); } catch (e) {
      return P.reject(new TypeError(name + "(): arguments cannot be serialised: " + e.message));
    }
    if (s.length > limits.maxOpBytes) return P.reject(new RangeError(name + "(): arguments are " + s.length + " bytes, over the limit of " + limits.maxOpBytes));
    return new P((resolve, reject) => { ops.set(opid, { resolve, reject, rid }); out.push(s); });
  }
  function settle(json) {
    const list = parse(json);
    let rid = 0;
    for (const [opid, ok, value] of list) {
      const o = ops.get(opid);
      if (!o) continue;                       // late settle after the request ended
      ops.delete(opid);
      rid = o.rid;
      if (ok) o.resolve(value); else o.reject(hostError(value));
    }
    cur = rid;
    return flush();
  }

  // ---- console -------------------------------------------------------------
  function fmt(v, depth) {
    switch (typeof v) {
      case "string": return depth ? stringify(v) : v;
      case "undefined": return "undefined";
      case "function": return "[Function " + (v.name || "anonymous") + "]";
      case "bigint": return v + "n";
      case "symbol": return v.toString();
      case "object":
        if (v === null) return "null";
        if (v instanceof Error) return v.stack ? v.name + ": " + v.message + "\n" + v.stack.trimEnd() : v.name + ": " + v.message;
        try {
          const seen = new Set();
          return stringify(v, (k, x) => {
            if (typeof x === "bigint") return x + "n";
            if (typeof x === "object" && x !== null) { if (seen.has(x)) return "[Circular]"; seen.add(x); }
            return x;
          });
        } catch (_) { return Object.prototype.toString.call(v); }
      default: return String(v);
    }
  }
  function log(rid, level, args) {
    const r = reqs.get(rid);
    let text;
    try { text = args.map((a) => fmt(a, 0)).join(" "); } catch (e) { text = "[unprintable]"; }
    if (r) {
      if (r.logDropped) return;
      r.logBytes += text.length;
      if (r.logBytes > limits.maxLogBytes) {
        r.logDropped = true;
        text = "[console output over " + limits.maxLogBytes + " bytes for this request; the rest is dropped]";
        level = "warn";
      }
    }
    emit(["l", rid, level, text]);
  }
  const con = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) con[level] = (...a) => log(cur, level, a);
  con.trace = (...a) => log(cur, "debug", [...a, new Error("trace").stack]);
  con.assert = (c, ...a) => { if (!c) log(cur, "error", ["Assertion failed", ...a]); };
  define(G, "console", { value: con, writable: true, configurable: true });

  // ---- lazily loaded Web APIs -------------------------------------------------
  // chunks: {name: [source, [globals...]]}. The first read of a global evaluates
  // its chunk; a chunk's source evaluates to function(internals) that installs its globals.
  const loaded = new Set();
  const internals = { hostOp, errInfo, fail, seed, get limits() { return limits; }, get now() { return now; }, load: (n) => load(n) };
  function load(name) {
    if (loaded.has(name)) return;
    loaded.add(name);
    const [src, names] = chunks[name];
    for (const g of names) delete G[g];
    indirectEval(src)(internals);
  }
  for (const name of Object.keys(chunks)) {
    for (const g of chunks[name][1]) {
      define(G, g, {
        configurable: true,
        enumerable: false,
        get() { load(name); return G[g]; },
        set(v) { define(G, g, { value: v, writable: true, configurable: true }); },
      });
    }
  }

  // ---- entry points for the host ------------------------------------------------
  // boot(p): p is the promise of the bootstrap module, which imports the worker's
  // module namespace and calls register(ns). booted() reports how that went.
  let bootState = null;
  function register(ns) {
    if (!("default" in ns)) {
      bootState = { code: "E_NO_DEFAULT_EXPORT", message: "the script has no default export: add `export default { async fetch(request, env, ctx) { ... } }` (or a task or scheduled handler)" };
      return;
    }
    mod = ns.default;
    if (mod === null || (typeof mod !== "object" && typeof mod !== "function")) {
      bootState = { code: "E_NO_DEFAULT_EXPORT", message: "the default export is " + (mod === null ? "null" : typeof mod) + "; it must be an object with fetch, task or scheduled handlers" };
      return;
    }
    const handlers = [];
    for (const k of ["fetch", "task", "scheduled"]) if (typeof mod[k] === "function") handlers.push(k);
    bootState = { handlers };
  }
  function boot(p, envJson, limitsJson) {
    env = parse(envJson);
    limits = parse(limitsJson);
    then.call(p, () => { const ns = G.__shardrun_ns; delete G.__shardrun_ns; register(ns); }, (e) => { bootState = errInfo(e); });
  }
  function booted() {
    return stringify(bootState || { code: "E_SCRIPT", message: "the script's top level did not finish: top-level await is waiting on something that never settles (timers and I/O are not available at the top level)" });
  }
  function take(idle) {
    if (idle && timers.size === 0 && ops.size === 0) {
      for (const r of [...reqs.values()]) {
        if (!r.responded) {
          respond(r, false, { code: "E_NEVER_RESPONDS", name: "Error", stack: "",
            message: "the handler will never generate a response: its promise is still pending and nothing is left that could settle it (no timers, no host operations)" });
        } else if (r.waiting > 0) {
          log(r.rid, "warn", ["ctx.waitUntil() promises will never settle; the request is finished without them"]);
          r.waiting = 0;
          maybeFinish(r);
        }
      }
    }
    return flush();
  }
  function flush() {
    if (timers.size) {
      let first = null;
      for (const x of timers.values()) if (first === null || x.due < first.due) first = x;
      out.push("[\"t\"," + first.due + "," + first.rid + "]");
    }
    if (out.length === 0) return "";
    const s = ["[", out.join("\n,"), "]"].join("");   // join makes a flat string; "+" may make a rope the binding cannot read
    out = [];
    return s;
  }
  G.__shardrun = { boot, booted, dispatch, fire, settle, take, cancel, load };
});
