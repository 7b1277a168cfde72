// Event, EventTarget, AbortController and AbortSignal. The classes share their private
// state through closures made in `static {}` blocks; fetch gets what it needs through `sr`.
(function (sr) {
  "use strict";
  const { TypeErr } = sr.prim;
  let setTarget, stopped, addListener, removeListener, dispatch, abort;
  class Event {
    #type; #bubbles; #cancelable; #defaultPrevented = false; #stop = false; #target = null; #time;
    constructor(type, init = {}) {
      if (arguments.length === 0) throw new TypeError("Event: the type argument is required");
      this.#type = String(type);
      this.#bubbles = !!(init && init.bubbles);
      this.#cancelable = !!(init && init.cancelable);
      this.#time = Date.now();
    }
    get type() { return this.#type; }
    get bubbles() { return this.#bubbles; }
    get cancelable() { return this.#cancelable; }
    get defaultPrevented() { return this.#defaultPrevented; }
    get target() { return this.#target; }
    get currentTarget() { return this.#target; }
    get timeStamp() { return this.#time; }
    get eventPhase() { return this.#target ? 2 : 0; }
    get isTrusted() { return false; }   // no event a worker sees comes from a user agent
    preventDefault() { if (this.#cancelable) this.#defaultPrevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this.#stop = true; }
    static {
      setTarget = (e, t) => { e.#target = t; e.#stop = false; };
      stopped = (e) => e.#stop;
    }
    get [Symbol.toStringTag]() { return "Event"; }
  }
  class CustomEvent extends Event {
    #detail;
    constructor(type, init = {}) {
      if (arguments.length === 0) throw new TypeError("CustomEvent: the type argument is required");
      super(type, init);
      this.#detail = init && init.detail !== undefined ? init.detail : null;
    }
    get detail() { return this.#detail; }
    get [Symbol.toStringTag]() { return "CustomEvent"; }
  }
  class EventTarget {
    #listeners = new Map();
    static {
      addListener = (t, type, cb, once) => {
        let list = t.#listeners.get(type);
        if (!list) t.#listeners.set(type, (list = []));
        if (list.some((l) => l.cb === cb)) return;
        list.push({ cb, once });
      };
      removeListener = (t, type, cb) => {
        const list = t.#listeners.get(type);
        if (list) { const i = list.findIndex((l) => l.cb === cb); if (i >= 0) list.splice(i, 1); }
      };
      dispatch = (t, ev) => {
        setTarget(ev, t);
        const type = ev.type, list = t.#listeners.get(type);
        const handler = t["on" + type];
        const all = list ? list.slice() : [];
        if (typeof handler === "function") all.unshift({ cb: handler, once: false });
        for (const l of all) {
          if (l.once) removeListener(t, type, l.cb);
          try {
            if (typeof l.cb === "function") l.cb.call(t, ev);
            else if (l.cb && typeof l.cb.handleEvent === "function") l.cb.handleEvent(ev);
          } catch (e) { console.error("uncaught exception in an event listener:", e); }
          if (stopped(ev)) break;
        }
        return !ev.defaultPrevented;
      };
    }
    addEventListener(type, cb, opts) {
      if (cb === null || cb === undefined) return;
      const once = typeof opts === "object" && opts !== null && !!opts.once;
      const signal = typeof opts === "object" && opts !== null ? opts.signal : undefined;
      if (signal && signal.aborted) return;
      type = String(type);
      addListener(this, type, cb, once);
      if (signal) signal.addEventListener("abort", () => removeListener(this, type, cb));
    }
    removeEventListener(type, cb) { removeListener(this, String(type), cb); }
    dispatchEvent(ev) {
      if (!(ev instanceof Event)) throw new TypeErr("dispatchEvent: the argument must be an Event");
      return dispatch(this, ev);
    }
  }
  const ABORT = Symbol("abort");
  class AbortSignal extends EventTarget {
    #aborted = false; #reason = undefined;
    onabort = null;
    constructor(key) { super(); if (key !== ABORT) throw new TypeError("Illegal constructor: use new AbortController().signal"); }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    static {
      abort = (s, reason) => {
        if (s.#aborted) return;
        s.#aborted = true;
        s.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
        dispatch(s, new Event("abort"));
      };
      // For fetch(): a real signal's own state, whatever the tenant did to the prototypes.
      sr.isSignal = (s) => s !== null && typeof s === "object" && #aborted in s;
      sr.signalAborted = (s) => s.#aborted;
      sr.signalReason = (s) => s.#reason;
      sr.listen = (s, cb) => addListener(s, "abort", cb, true);
      sr.unlisten = (s, cb) => removeListener(s, "abort", cb);
      sr.newSignal = () => new AbortSignal(ABORT);
    }
    static abort(reason) { const s = new AbortSignal(ABORT); abort(s, reason); return s; }
    static timeout(ms) {
      const s = new AbortSignal(ABORT);
      setTimeout(() => abort(s, new DOMException("The operation timed out", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(ABORT);
      for (const x of signals) {
        if (x.aborted) { abort(s, x.reason); return s; }
      }
      for (const x of signals) x.addEventListener("abort", () => abort(s, x.reason), { once: true });
      return s;
    }
    get [Symbol.toStringTag]() { return "AbortSignal"; }
  }
  class AbortController {
    #signal = new AbortSignal(ABORT);
    get signal() { return this.#signal; }
    abort(reason) { abort(this.#signal, reason); }
    get [Symbol.toStringTag]() { return "AbortController"; }
  }
  sr.install({ __proto__: null, Event, CustomEvent, EventTarget, AbortController, AbortSignal });
});
