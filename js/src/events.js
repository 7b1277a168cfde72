// Event, EventTarget, AbortController and AbortSignal.
(function (sr) {
  "use strict";
  const G = globalThis;
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
    preventDefault() { if (this.#cancelable) this.#defaultPrevented = true; }
    stopPropagation() {}
    stopImmediatePropagation() { this.#stop = true; }
    static __target(e, t) { e.#target = t; e.#stop = false; }
    static __stopped(e) { return e.#stop; }
    get [Symbol.toStringTag]() { return "Event"; }
  }
  class EventTarget {
    #listeners = new Map();
    addEventListener(type, cb, opts) {
      if (cb === null || cb === undefined) return;
      const once = typeof opts === "object" && opts !== null && !!opts.once;
      const signal = typeof opts === "object" && opts !== null ? opts.signal : undefined;
      if (signal && signal.aborted) return;
      type = String(type);
      let list = this.#listeners.get(type);
      if (!list) this.#listeners.set(type, (list = []));
      if (list.some((l) => l.cb === cb)) return;
      const entry = { cb, once };
      list.push(entry);
      if (signal) signal.addEventListener("abort", () => this.removeEventListener(type, cb));
    }
    removeEventListener(type, cb) {
      const list = this.#listeners.get(String(type));
      if (list) { const i = list.findIndex((l) => l.cb === cb); if (i >= 0) list.splice(i, 1); }
    }
    dispatchEvent(ev) {
      if (!(ev instanceof Event)) throw new TypeError("dispatchEvent: the argument must be an Event");
      Event.__target(ev, this);
      const list = this.#listeners.get(ev.type);
      const handler = this["on" + ev.type];
      const all = list ? list.slice() : [];
      if (typeof handler === "function") all.unshift({ cb: handler, once: false });
      for (const l of all) {
        if (l.once) this.removeEventListener(ev.type, l.cb);
        try {
          if (typeof l.cb === "function") l.cb.call(this, ev);
          else if (l.cb && typeof l.cb.handleEvent === "function") l.cb.handleEvent(ev);
        } catch (e) { console.error("uncaught exception in an event listener:", e); }
        if (Event.__stopped(ev)) break;
      }
      return !ev.defaultPrevented;
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
    static __abort(s, reason) {
      if (s.#aborted) return;
      s.#aborted = true;
      s.#reason = reason === undefined ? new DOMException("This operation was aborted", "AbortError") : reason;
      s.dispatchEvent(new Event("abort"));
    }
    static abort(reason) { const s = new AbortSignal(ABORT); AbortSignal.__abort(s, reason); return s; }
    static timeout(ms) {
      const s = new AbortSignal(ABORT);
      setTimeout(() => AbortSignal.__abort(s, new DOMException("The operation timed out", "TimeoutError")), ms);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(ABORT);
      for (const x of signals) {
        if (x.aborted) { AbortSignal.__abort(s, x.reason); return s; }
      }
      for (const x of signals) x.addEventListener("abort", () => AbortSignal.__abort(s, x.reason), { once: true });
      return s;
    }
    get [Symbol.toStringTag]() { return "AbortSignal"; }
  }
  class AbortController {
    #signal = new AbortSignal(ABORT);
    get signal() { return this.#signal; }
    abort(reason) { AbortSignal.__abort(this.#signal, reason); }
    get [Symbol.toStringTag]() { return "AbortController"; }
  }
  for (const [k, v] of Object.entries({ Event, EventTarget, AbortController, AbortSignal })) Object.defineProperty(G, k, { value: v, writable: true, configurable: true });
});
