// `self` (the worker's global scope is globalThis, as in Workers), `navigator` and workerd's
// `scheduler`.
(function (sr) {
  const global = (function () { return this; })();   // sloppy mode: the global object, whatever `globalThis` now names
  class Navigator {
    constructor(key) { if (key !== sr) throw new TypeError("Illegal constructor: use the global navigator"); }
    get userAgent() { return "shardrun"; }
    get hardwareConcurrency() { return 1; }
    get language() { return "en"; }
    get languages() { return ["en"]; }
    get [Symbol.toStringTag]() { return "Navigator"; }
  }
  // workerd's scheduler: wait(ms, { signal }) resolves after ms, or rejects with the signal's reason.
  class Scheduler {
    constructor(key) { if (key !== sr) throw new TypeError("Illegal constructor: use the global scheduler"); }
    wait(delay = 0, options = undefined) {   // length 0, as workerd's
      const signal = options === undefined || options === null ? undefined : options.signal;
      return new sr.prim.Prom((resolve, reject) => {
        if (signal !== undefined && signal !== null) {
          sr.load("events");
          if (!sr.isSignal(signal)) throw new TypeError("scheduler.wait: options.signal must be an AbortSignal");
          if (sr.signalAborted(signal)) { reject(sr.signalReason(signal)); return; }
        }
        const onAbort = () => { sr.clearTimer(id); reject(sr.signalReason(signal)); };
        const id = sr.setTimer(() => { if (signal) sr.unlisten(signal, onAbort); resolve(); }, delay);
        if (signal) sr.listen(signal, onAbort);
      });
    }
    get [Symbol.toStringTag]() { return "Scheduler"; }
  }
  sr.install({ __proto__: null, self: global, navigator: new Navigator(sr), scheduler: new Scheduler(sr) });
});
