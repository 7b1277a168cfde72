// Intl, backed by ICU on the host (shardrun/runtime/hostfns/intl*.py) through synchronous host
// functions. JS reads the options the way ECMA-402 does (each property once, in the spec's order,
// ToString / ToBoolean / ToNumber applied here, where tenant getters may run) and hands the host
// JSON of primitives; the host checks every value, resolves the locale, and keeps the ICU object
// behind a handle this chunk holds in a private field. The host's refusals (codes E_INTL_RANGE /
// E_INTL_TYPE) are thrown as RangeError / TypeError with V8's messages. Also installs the locale-aware
// Date/Number/BigInt/String methods that core's thin wrappers call (sr.D... sr.N... sr.S...).
(function (sr) {
  "use strict";
  const { Str, Num, TypeErr, RangeErr, stringify, list, push, uncurry, define, is, slice: sliceS, upper, lower } = sr.prim;
  const host = sr.host, G = globalThis, O = Object;
  const ERRORS = { __proto__: null, E_INTL_RANGE: RangeErr, E_INTL_TYPE: TypeErr };
  const toStr = (x) => { if (typeof x === "symbol") throw new TypeErr("Cannot convert a Symbol value to a string"); return Str(x); };   // ToString
  const Registry = G.FinalizationRegistry, construct = Reflect.construct, create = O.create;
  const getTime = uncurry(Date.prototype.getTime), numValue = uncurry(Number.prototype.valueOf);
  const bigValue = uncurry(BigInt.prototype.valueOf), dateNow = Date.now, isArray = Array.isArray;

  // ---- host calls ---------------------------------------------------------------------------------
  function call(name, ...a) {
    try {
      switch (a.length) {
        case 1: return host(name, a[0]);
        case 2: return host(name, a[0], a[1]);
        case 3: return host(name, a[0], a[1], a[2]);
        case 4: return host(name, a[0], a[1], a[2], a[3]);
        default: return host(name, a[0], a[1], a[2], a[3], a[4]);
      }
    } catch (e) {
      const C = e !== null && typeof e === "object" ? ERRORS[e.code] : undefined;
      if (!C) throw e;
      const m = Str(e.message), head = "host function 'host' failed: ";
      throw new C(sliceS(m, 0, head.length) === head ? sliceS(m, head.length) : m);
    }
  }
  let freed = list();
  const registry = Registry ? new Registry((h) => push(freed, h)) : null;
  function make(obj, name, locales, options) {   // a host object for obj: [handle, resolved]
    if (freed.length) { const f = freed; freed = list(); for (let i = 0; i < f.length; i++) call("intl.drop", f[i]); }
    const r = call(name, locales, options);
    if (registry) registry.register(obj, r[0]);
    return r;
  }

  // ---- arguments ------------------------------------------------------------------------------------
  // CanonicalizeLocaleList's input as JSON of strings (the host canonicalises and checks them), or null.
  function locales(v) {
    if (v === undefined) return null;
    if (v === null) throw new TypeErr("Cannot convert undefined or null to object");
    const tags = list();
    if (typeof v === "string" || is(v, Locale)) push(tags, tagOf(v));
    else {
      const o = O(v), n = Num(o.length) >>> 0;
      if (n > 64) throw new RangeErr("Incorrect locale information provided: at most 64 tags");
      for (let i = 0; i < n; i++) {
        if (!(i in o)) continue;
        const t = o[i];
        if (typeof t !== "string" && (t === null || (typeof t !== "object" && typeof t !== "function"))) throw new TypeErr("Language ID should be string or object.");
        push(tags, tagOf(t));
      }
    }
    return stringify(tags);
  }
  const tagOf = (t) => is(t, Locale) ? localeTag(t) : toStr(t);
  // Options as JSON: spec: "s" ToString, "b" ToBoolean, "n" ToNumber, "g" useGrouping's string-or-boolean.
  function options(v, spec, service) {
    if (v === undefined) return null;
    if (v === null) throw new TypeErr((service || "Intl") + " called on null or undefined");
    const o = O(v), out = { __proto__: null };
    for (let i = 0; i < spec.length; i += 2) {
      const k = spec[i], kind = spec[i + 1], x = o[k];
      if (x === undefined) continue;
      if (kind === "b") out[k] = !!x;
      else if (kind === "n") { const n = Num(x); out[k] = n - n === 0 ? n : Str(n); }   // JSON has no NaN: the host refuses the string
      else if (kind === "g") out[k] = x === true ? true : !x ? false : toStr(x);
      else { const v = toStr(x); out[k] = v.length > 200 ? sliceS(v, 0, 200) + "\u2026" : v; }   // no valid value is that long
    }
    return stringify(out);
  }
  const DIGITS = ["minimumIntegerDigits", "n", "minimumFractionDigits", "n", "maximumFractionDigits", "n", "minimumSignificantDigits", "n", "maximumSignificantDigits", "n", "roundingIncrement", "n", "roundingMode", "s", "roundingPriority", "s", "trailingZeroDisplay", "s"];
  const DTF_OPTS = ["localeMatcher", "s", "calendar", "s", "numberingSystem", "s", "hour12", "b", "hourCycle", "s", "timeZone", "s", "weekday", "s", "era", "s", "year", "s", "month", "s", "day", "s", "dayPeriod", "s", "hour", "s", "minute", "s", "second", "s", "fractionalSecondDigits", "n", "timeZoneName", "s", "formatMatcher", "s", "dateStyle", "s", "timeStyle", "s"];
  const cat = (...arrays) => { const out = list(); for (let i = 0; i < arrays.length; i++) for (let j = 0; j < arrays[i].length; j++) push(out, arrays[i][j]); return out; };
  const NF_OPTS = cat(["localeMatcher", "s", "numberingSystem", "s", "style", "s", "currency", "s", "currencyDisplay", "s", "currencySign", "s", "unit", "s", "unitDisplay", "s", "notation", "s"], DIGITS, ["compactDisplay", "s", "useGrouping", "g", "signDisplay", "s"]);
  const COLL_OPTS = ["usage", "s", "localeMatcher", "s", "collation", "s", "numeric", "b", "caseFirst", "s", "sensitivity", "s", "ignorePunctuation", "b"];
  const array = (a) => { const out = []; for (let i = 0; i < a.length; i++) push(out, a[i]); return out; };
  const copy = (r) => { const o = {}; for (const k in r) o[k] = isArray(r[k]) ? array(r[k]) : r[k]; return o; };
  const parts = (ps) => { const out = []; for (let i = 0; i < ps.length; i++) { const p = ps[i]; push(out, p.length > 2 ? { type: p[0], value: p[1], unit: p[2] } : { type: p[0], value: p[1] }); } return out; };
  function timeOf(d) {
    const t = d === undefined ? dateNow() : Num(d);
    if (!(t === t) || t > 8.64e15 || t < -8.64e15) throw new RangeErr("Invalid time value");
    return t;
  }
  function numberArg(x) {   // ToIntlMathematicalValue: a Number, a BigInt, or a string kept exact
    if (typeof x === "bigint" || typeof x === "number") return x;
    if (x !== null && typeof x === "object") x = toPrimitive(x);
    if (typeof x === "bigint" || typeof x === "number") return x;
    if (typeof x === "string") return x;
    return Num(x);
  }
  const toPrimitive = (o) => { const v = o.valueOf(); return v !== null && typeof v === "object" ? Str(o) : v; };
  function statics(C, name) {
    define(C, "supportedLocalesOf", { value: function supportedLocalesOf(l, o) {
      const m = o === undefined ? undefined : O(o).localeMatcher;
      if (m !== undefined && Str(m) !== "lookup" && Str(m) !== "best fit") throw new RangeErr("Value " + Str(m) + " out of range for Intl." + name + ".supportedLocalesOf options property localeMatcher");
      return call("intl.supported", locales(l), name);
    }, writable: true, configurable: true });
  }
  // V8's TypeError for a method called on something that is not one of its objects.
  function check(ok, method, x) {
    if (ok) return;
    let d;
    try { d = x !== null && (typeof x === "object" || typeof x === "function") ? "#<" + (x.constructor && x.constructor.name || "Object") + ">" : typeof x === "symbol" ? "Symbol()" : Str(x); } catch (_) { d = "#<Object>"; }
    throw new TypeErr("Method " + method + " called on incompatible receiver " + d);
  }
  const isObj = (o) => o !== null && (typeof o === "object" || typeof o === "function");
  const tag = (C, name) => define(C.prototype, Symbol.toStringTag, { value: name, configurable: true });

  // ---- DateTimeFormat ---------------------------------------------------------------------------------
  // The bound format/compare functions refer to their formatter, so a kept `fmt.format` keeps its handle alive.
  class DTF {
    #h; #r; #bound; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.dtf", locales(l), options(o, DTF_OPTS, "Intl.DateTimeFormat")); this.#h = r[0]; this.#r = r[1]; }
    get format() { check(DTF.#is(this), "get Intl.DateTimeFormat.prototype.format", this); const self = this; return this.#bound || (this.#bound = (d) => call("intl.dtf_format", self.#h, timeOf(d))); }
    formatToParts(d) { check(DTF.#is(this), "Intl.DateTimeFormat.prototype.formatToParts", this); return parts(call("intl.dtf_parts", this.#h, timeOf(d))); }
    formatRange(a, b) {
      check(DTF.#is(this), "Intl.DateTimeFormat.prototype.formatRange", this);
      if (a === undefined || b === undefined) throw new TypeErr("Invalid time value");
      const x = this.format(a), y = this.format(b);
      return x === y ? x : x + " \u2013 " + y;
    }
    resolvedOptions() { check(DTF.#is(this), "Intl.DateTimeFormat.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  // ---- NumberFormat -----------------------------------------------------------------------------------
  class NF {
    #h; #r; #bound; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.nf", locales(l), options(o, NF_OPTS, "Intl.NumberFormat")); this.#h = r[0]; this.#r = r[1]; }
    get format() { check(NF.#is(this), "get Intl.NumberFormat.prototype.format", this); const self = this; return this.#bound || (this.#bound = (x) => call("intl.nf_format", self.#h, numberArg(x))); }
    formatToParts(x) { check(NF.#is(this), "Intl.NumberFormat.prototype.formatToParts", this); return parts(call("intl.nf_parts", this.#h, numberArg(x))); }
    formatRange(a, b) {
      check(NF.#is(this), "Intl.NumberFormat.prototype.formatRange", this);
      if (a === undefined || b === undefined) throw new TypeErr("start or end is undefined");
      return call("intl.nf_range", this.#h, numberArg(a), numberArg(b));
    }
    resolvedOptions() { check(NF.#is(this), "Intl.NumberFormat.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  // ---- Collator -----------------------------------------------------------------------------------------
  class Coll {
    #h; #r; #bound; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.coll", locales(l), options(o, COLL_OPTS, "Intl.Collator")); this.#h = r[0]; this.#r = r[1]; }
    get compare() { check(Coll.#is(this), "get Intl.Collator.prototype.compare", this); const self = this; return this.#bound || (this.#bound = (a, b) => call("intl.coll_compare", self.#h, toStr(a), toStr(b))); }
    resolvedOptions() { check(Coll.#is(this), "Intl.Collator.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  // The constructors the global exposes: functions over the classes, with the spec's names and lengths;
  // the first three may be called without `new` (legacy constructors).
  function wrap(Impl, name, callable, length) {
    const C = { [name]: function (...a) {
      if (!new.target && !callable) throw new TypeErr("Constructor Intl." + name + " requires 'new'");
      return construct(Impl, [a[0], a[1]], new.target || C);
    } }[name];
    define(C, "length", { value: length, configurable: true });
    define(C, "prototype", { value: Impl.prototype, writable: false, enumerable: false, configurable: false });
    define(Impl.prototype, "constructor", { value: C, writable: true, configurable: true });
    if (name !== "Locale") statics(C, name);
    tag(C, "Intl." + name);
    return C;
  }
  const DateTimeFormat = wrap(DTF, "DateTimeFormat", true, 0), NumberFormat = wrap(NF, "NumberFormat", true, 0), Collator = wrap(Coll, "Collator", true, 0);

  // ---- PluralRules, RelativeTimeFormat, ListFormat ----------------------------------------------------------
  class PluralRules {
    #h; #r; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.pr", locales(l), options(o, cat(["localeMatcher", "s", "type", "s", "notation", "s"], DIGITS))); this.#h = r[0]; this.#r = r[1]; }
    select(n) { check(PluralRules.#is(this), "Intl.PluralRules.prototype.select", this); return call("intl.pr_select", this.#h, Num(n)); }
    resolvedOptions() { check(PluralRules.#is(this), "Intl.PluralRules.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  class RelativeTimeFormat {
    #h; #r; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.rtf", locales(l), options(o, ["localeMatcher", "s", "numberingSystem", "s", "style", "s", "numeric", "s"])); this.#h = r[0]; this.#r = r[1]; }
    format(v, unit) { check(RelativeTimeFormat.#is(this), "Intl.RelativeTimeFormat.prototype.format", this); return call("intl.rtf_format", this.#h, Num(v), toStr(unit)); }
    formatToParts(v, unit) { check(RelativeTimeFormat.#is(this), "Intl.RelativeTimeFormat.prototype.formatToParts", this); return parts(call("intl.rtf_parts", this.#h, Num(v), toStr(unit))); }
    resolvedOptions() { check(RelativeTimeFormat.#is(this), "Intl.RelativeTimeFormat.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  function strings(it) {
    if (it === undefined) return "[]";
    const out = list();
    for (const s of it) {
      if (typeof s !== "string") throw new TypeErr("Iterable yielded " + (typeof s === "symbol" ? "a Symbol" : Str(s)) + " which is not a string");
      push(out, s);
    }
    return stringify(out);
  }
  class ListFormat {
    #h; #r; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.lf", locales(l), options(o, ["localeMatcher", "s", "type", "s", "style", "s"])); this.#h = r[0]; this.#r = r[1]; }
    format(items) { check(ListFormat.#is(this), "Intl.ListFormat.prototype.format", this); return call("intl.lf_format", this.#h, strings(items)); }
    formatToParts(items) { check(ListFormat.#is(this), "Intl.ListFormat.prototype.formatToParts", this); return parts(call("intl.lf_parts", this.#h, strings(items))); }
    resolvedOptions() { check(ListFormat.#is(this), "Intl.ListFormat.prototype.resolvedOptions", this); return copy(this.#r); }
  }

  // ---- Segmenter ----------------------------------------------------------------------------------------------
  class Segmenter {
    #h; #r; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) { const r = make(this, "intl.seg", locales(l), options(o, ["localeMatcher", "s", "granularity", "s"])); this.#h = r[0]; this.#r = r[1]; }
    segment(s) { check(Segmenter.#is(this), "Intl.Segmenter.prototype.segment", this); return new Segments(SEG, this, this.#h, this.#r.granularity === "word", toStr(s)); }
    resolvedOptions() { check(Segmenter.#is(this), "Intl.Segmenter.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  const SEG = {};
  class Segments {
    #owner; #h; #words; #s; #b = null;   // #owner: the Segmenter, kept alive with its host handle
    constructor(key, owner, h, words, s) { if (key !== SEG) throw new TypeErr("Illegal constructor"); this.#owner = owner; this.#h = h; this.#words = words; this.#s = s; }
    #bounds() { return this.#b || (this.#b = call("intl.seg_split", this.#h, this.#s)); }
    #data(i) {   // the segment ending at boundary number i
      const b = this.#bounds(), w = this.#words, step = w ? 2 : 1, start = i === 0 ? 0 : b[(i - 1) * step], end = b[i * step];
      const d = { segment: sliceS(this.#s, start, end), index: start, input: this.#s };
      if (w) d.isWordLike = b[i * step + 1] === 1;
      return d;
    }
    containing(index) {
      let n = Num(index);
      n = n !== n ? 0 : n < 0 ? -Math.floor(-n) : Math.floor(n);
      if (n < 0 || n >= this.#s.length) return undefined;
      const b = this.#bounds(), step = this.#words ? 2 : 1;
      for (let i = 0; i * step < b.length; i++) if (b[i * step] > n) return this.#data(i);
      return undefined;
    }
    [Symbol.iterator]() {
      let i = 0;
      const count = () => this.#bounds().length / (this.#words ? 2 : 1);
      const next = () => i < count() ? { value: this.#data(i++), done: false } : { value: undefined, done: true };
      const it = create(segIterProto);
      define(it, "next", { value: next, writable: true, configurable: true });
      return it;
    }
  }
  const segIterProto = create(O.getPrototypeOf(O.getPrototypeOf([][Symbol.iterator]())));
  define(segIterProto, Symbol.toStringTag, { value: "Segmenter String Iterator", configurable: true });

  // ---- DisplayNames, Locale -------------------------------------------------------------------------------------
  class DisplayNames {
    #h; #r; static #is(o) { return isObj(o) && #h in o; }
    constructor(l, o) {
      if (o === undefined) throw new TypeErr("invalid_argument");
      const r = make(this, "intl.dn", locales(l), options(o, ["localeMatcher", "s", "style", "s", "type", "s", "fallback", "s", "languageDisplay", "s"]));
      this.#h = r[0]; this.#r = r[1];
    }
    of(code) { check(DisplayNames.#is(this), "Intl.DisplayNames.prototype.of", this); const v = call("intl.dn_of", this.#h, toStr(code)); return v === null ? undefined : v; }
    resolvedOptions() { check(DisplayNames.#is(this), "Intl.DisplayNames.prototype.resolvedOptions", this); return copy(this.#r); }
  }
  const LOCALE_OPTS = ["language", "s", "script", "s", "region", "s", "calendar", "s", "collation", "s", "hourCycle", "s", "caseFirst", "s", "numeric", "b", "numberingSystem", "s"];
  let localeTag;
  class Locale {
    #i;
    constructor(t, o) {
      if (typeof t !== "string" && (t === null || typeof t !== "object")) throw new TypeErr("First argument to Intl.Locale constructor can't be empty or missing");
      this.#i = call("intl.locale", is(t, Locale) ? t.#i.tag : toStr(t), options(o, LOCALE_OPTS));
    }
    static { localeTag = (l) => l.#i.tag; }
    toString() { return this.#i.tag; }
    maximize() { return new Locale(call("intl.locale", this.#i.tag, null, "maximize").tag); }
    minimize() { return new Locale(call("intl.locale", this.#i.tag, null, "minimize").tag); }
    get baseName() { return this.#i.baseName; }
    get language() { return this.#i.language; }
    get script() { return this.#i.script; }
    get region() { return this.#i.region; }
    get calendar() { return this.#i.calendar; }
    get collation() { return this.#i.collation; }
    get hourCycle() { return this.#i.hourCycle; }
    get caseFirst() { return this.#i.caseFirst; }
    get numeric() { return this.#i.numeric === true; }
    get numberingSystem() { return this.#i.numberingSystem; }
  }
  tag(Segments, "Segments");
  const Intl = {};
  const ctors = { DateTimeFormat, NumberFormat, Collator, PluralRules: wrap(PluralRules, "PluralRules", false, 0),
    RelativeTimeFormat: wrap(RelativeTimeFormat, "RelativeTimeFormat", false, 0), ListFormat: wrap(ListFormat, "ListFormat", false, 0),
    Locale: wrap(Locale, "Locale", false, 1), DisplayNames: wrap(DisplayNames, "DisplayNames", false, 2), Segmenter: wrap(Segmenter, "Segmenter", false, 0) };
  define(Intl, "getCanonicalLocales", { value: function getCanonicalLocales(l) { return call("intl.canon", locales(l)); }, writable: true, configurable: true });
  define(Intl, "supportedValuesOf", { value: function supportedValuesOf(k) { return call("intl.values", toStr(k)); }, writable: true, configurable: true });
  for (const k in ctors) define(Intl, k, { value: ctors[k], writable: true, configurable: true });
  define(Intl, Symbol.toStringTag, { value: "Intl", configurable: true });

  // ---- the locale-aware methods of Date, Number, BigInt and String (called by core's wrappers) ------------------
  function dateMethod(name, required, defaults) {
    return function (l, o) {
      let t;
      try { t = getTime(this); } catch (_) { check(false, "Date.prototype." + name, this); }
      if (t !== t) return "Invalid Date";
      return call("intl.date_once", locales(l), options(o, DTF_OPTS, "Intl.DateTimeFormat"), required, defaults, t);
    };
  }
  sr.DtoLocaleString = dateMethod("toLocaleString", "any", "all");
  sr.DtoLocaleDateString = dateMethod("toLocaleDateString", "date", "date");
  sr.DtoLocaleTimeString = dateMethod("toLocaleTimeString", "time", "time");
  function thisValue(get, x, what) {
    try { return get(x); } catch (_) { throw new TypeErr(what + ".prototype.toLocaleString requires that 'this' be a " + what); }
  }
  sr.NtoLocaleString = function (l, o) { const x = thisValue(numValue, this, "Number"); return call("intl.number_once", locales(l), options(o, NF_OPTS, "Intl.NumberFormat"), x); };
  sr.BtoLocaleString = function (l, o) { const x = thisValue(bigValue, this, "BigInt"); return call("intl.number_once", locales(l), options(o, NF_OPTS, "Intl.NumberFormat"), x); };
  function thisString(s, what) {
    if (s === undefined || s === null) throw new TypeErr("String.prototype." + what + " called on null or undefined");
    return toStr(s);
  }
  sr.SlocaleCompare = function (that, l, o) {
    const s = thisString(this, "localeCompare");
    return call("intl.compare_once", locales(l), options(o, COLL_OPTS, "Intl.Collator"), s, toStr(that));
  };
  sr.StoLocaleUpperCase = function (l) { const s = thisString(this, "toLocaleUpperCase"); return l === undefined ? upper(s) : call("intl.case", s, locales(l), true); };
  sr.StoLocaleLowerCase = function (l) { const s = thisString(this, "toLocaleLowerCase"); return l === undefined ? lower(s) : call("intl.case", s, locales(l), false); };

  define(G, "Intl", { value: Intl, writable: true, configurable: true });
});
