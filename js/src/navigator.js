// `self` (the worker's global scope is globalThis, as in Workers) and `navigator`.
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
  sr.install({ __proto__: null, self: global, navigator: new Navigator(sr) });
});
