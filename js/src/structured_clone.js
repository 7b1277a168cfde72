// structuredClone(): the HTML structured clone algorithm (serialize then deserialize, done in
// one walk since both sides are this realm). What a value is, is told by its internal slots
// (a primordial method that throws on anything else), never by its prototype or toStringTag,
// and properties are read with [[Get]] in the spec's order. A DataCloneError for what cannot
// be cloned. Transferred ArrayBuffers are detached; the clone gets their bytes.
(function (sr) {
  "use strict";
  const { uncurry, getter, TypeErr, MapC, mget, mset, mhas, push, list, is, Str } = sr.prim;
  const O = Object, R = Reflect, DOMEx = globalThis.DOMException, AB = ArrayBuffer, SAB = globalThis.SharedArrayBuffer;
  const TA = O.getPrototypeOf(Uint8Array);
  const ownKeys = R.ownKeys, ownDesc = O.getOwnPropertyDescriptor, getProto = O.getPrototypeOf, isArray = Array.isArray;
  const abLen = getter(AB.prototype, "byteLength"), abMax = getter(AB.prototype, "maxByteLength");
  const abResizable = getter(AB.prototype, "resizable"), abDetached = getter(AB.prototype, "detached");
  const abSlice = uncurry(AB.prototype.slice), abTransfer = uncurry(AB.prototype.transfer);
  const sabLen = SAB ? getter(SAB.prototype, "byteLength") : null;
  const taBuffer = getter(TA.prototype, "buffer"), taOffset = getter(TA.prototype, "byteOffset"), taLength = getter(TA.prototype, "length");
  const taTag = getter(TA.prototype, Symbol.toStringTag);
  const dvBuffer = getter(DataView.prototype, "buffer"), dvOffset = getter(DataView.prototype, "byteOffset"), dvLength = getter(DataView.prototype, "byteLength");
  const U8 = Uint8Array, u8set = uncurry(U8.prototype.set);
  const VIEWS = {
    __proto__: null, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array,
  };
  if (globalThis.Float16Array) VIEWS.Float16Array = globalThis.Float16Array;
  const ERRORS = { __proto__: null, Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  const slot = (f) => { const u = uncurry(f); return (v) => { try { return { v: u(v) }; } catch (_) { return null; } }; };
  const boolOf = slot(Boolean.prototype.valueOf), numOf = slot(Number.prototype.valueOf), strOf = slot(String.prototype.valueOf);
  const bigOf = slot(BigInt.prototype.valueOf), symOf = slot(Symbol.prototype.valueOf), timeOf = slot(Date.prototype.getTime);
  const srcOf = getter(RegExp.prototype, "source"), reFlags = getter(RegExp.prototype, "flags");
  const reSource = (v) => { try { return { v: srcOf(v) }; } catch (_) { return null; } };
  const isAB = (v) => { try { abLen(v); return true; } catch (_) { return false; } };
  const isSAB = (v) => { if (!sabLen) return false; try { sabLen(v); return true; } catch (_) { return false; } };
  const isTA = (v) => { try { return taTag(v) !== undefined; } catch (_) { return false; } };
  const isDV = (v) => { try { dvLength(v); return true; } catch (_) { return false; } };
  const isMap = (v) => { try { getter(MapC.prototype, "size")(v); return true; } catch (_) { return false; } };
  const isSet = (v) => { try { getter(Set.prototype, "size")(v); return true; } catch (_) { return false; } };
  const mapEntries = uncurry(MapC.prototype.entries), setValues = uncurry(Set.prototype.values);
  const mapSet = uncurry(MapC.prototype.set), setAdd = uncurry(Set.prototype.add);
  const iterNext = uncurry(getProto(new MapC().entries()).next), setIterNext = uncurry(getProto(new Set().values()).next);
  const isError = (v) => { try { return is(v, Error) && ownDesc(v, "stack") !== undefined || O.prototype.toString.call(v) === "[object Error]"; } catch (_) { return false; } };
  const isDOMEx = (v) => { try { getter(DOMEx.prototype, "code")(v); return true; } catch (_) { return false; } };
  // Objects with internal slots that are not serializable.
  const UNCLONABLE = [
    [WeakMap.prototype.has, "WeakMap"], [WeakSet.prototype.has, "WeakSet"], [Promise.prototype.then, "Promise"],
    [globalThis.WeakRef && WeakRef.prototype.deref, "WeakRef"],
  ];
  const cloneError = (what) => new DOMEx("structuredClone: " + what + " cannot be cloned", "DataCloneError");
  function brandOf(v) {
    for (let i = 0; i < UNCLONABLE.length; i++) {
      const [f, name] = UNCLONABLE[i];
      if (!f) continue;
      try { f.call(v, {}); return name; } catch (_) {}
    }
    try { if (name(getProto(v)) === "Generator") return "a generator"; } catch (_) {}
    return null;
  }
  const name = (p) => { const d = p && ownDesc(p, Symbol.toStringTag); return d && d.value; };
  function copyBuffer(b) {
    if (abDetached(b)) throw cloneError("a detached ArrayBuffer");
    if (!abResizable(b)) return abSlice(b, 0);
    const n = new AB(abLen(b), { maxByteLength: abMax(b) });
    u8set(new U8(n), new U8(b));
    return n;
  }

  function clone(v, memory) {
    const t = typeof v;
    if (t === "symbol") throw cloneError("a Symbol");
    if (t === "function") throw cloneError("a function");
    if (v === null || t !== "object") return v;
    if (mhas(memory, v)) return mget(memory, v);
    let out, x;
    if ((x = boolOf(v))) out = new Boolean(x.v);
    else if ((x = numOf(v))) out = new Number(x.v);
    else if ((x = strOf(v))) out = new String(x.v);
    else if ((x = bigOf(v))) out = O(x.v);
    else if (symOf(v)) throw cloneError("a Symbol object");
    else if ((x = timeOf(v))) out = new Date(x.v);
    else if ((x = reSource(v))) out = new RegExp(x.v, reFlags(v));
    else if (isAB(v)) out = copyBuffer(v);
    else if (isSAB(v)) out = v;   // one agent: the clone shares the memory
    else if (isTA(v)) {
      const buf = clone(taBuffer(v), memory);
      out = new VIEWS[taTag(v)](buf, taOffset(v), taLength(v));
    } else if (isDV(v)) out = new DataView(clone(dvBuffer(v), memory), dvOffset(v), dvLength(v));
    else if (isDOMEx(v)) out = new DOMEx(Str(v.message), Str(v.name));
    else if (sr.peek("Blob") && sr.isBlob(v)) out = sr.cloneBlob(v);
    if (out !== undefined) { mset(memory, v, out); return out; }
    let b;
    if ((b = brandOf(v))) throw cloneError("a " + b);
    if (isMap(v)) {
      out = new MapC();
      mset(memory, v, out);
      const pairs = list(), it = mapEntries(v);
      for (let s = iterNext(it); !s.done; s = iterNext(it)) push(pairs, s.value);
      for (let i = 0; i < pairs.length; i++) mapSet(out, clone(pairs[i][0], memory), clone(pairs[i][1], memory));
      return out;
    }
    if (isSet(v)) {
      out = new Set();
      mset(memory, v, out);
      const items = list(), it = setValues(v);
      for (let s = setIterNext(it); !s.done; s = setIterNext(it)) push(items, s.value);
      for (let i = 0; i < items.length; i++) setAdd(out, clone(items[i], memory));
      return out;
    }
    if (isError(v)) {
      let n = v.name;
      n = typeof n === "string" && n in ERRORS ? n : "Error";
      const md = ownDesc(v, "message");
      out = md && "value" in md ? new ERRORS[n](Str(md.value)) : new ERRORS[n]();
      mset(memory, v, out);
      const sd = ownDesc(v, "stack");
      if (sd && typeof sd.value === "string") O.defineProperty(out, "stack", { value: sd.value, writable: true, configurable: true });
      if (md === undefined) delete out.message;
      return out;
    }
    out = isArray(v) ? new Array(v.length) : {};
    mset(memory, v, out);
    const ks = ownKeys(v);
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      if (typeof k !== "string") continue;
      const d = ownDesc(v, k);
      if (!d || !d.enumerable) continue;
      const c = clone(v[k], memory);
      O.defineProperty(out, k, { value: c, writable: true, enumerable: true, configurable: true });
    }
    return out;
  }

  function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeErr("structuredClone: a value is required");
    let transfer = list();
    if (options !== undefined && options !== null) {
      if (typeof options !== "object" && typeof options !== "function") throw new TypeErr("structuredClone: options must be an object");
      const t = options.transfer;
      if (t !== undefined) {
        if (t === null || typeof t !== "object" || typeof t[Symbol.iterator] !== "function") throw new TypeErr("structuredClone: options.transfer must be a sequence");
        for (const x of t) {
          if (x === null || (typeof x !== "object" && typeof x !== "function")) throw new TypeErr("structuredClone: each transferable must be an object");
          push(transfer, x);
        }
      }
    }
    const seen = new MapC();
    for (let i = 0; i < transfer.length; i++) {
      const x = transfer[i];
      if (mhas(seen, x)) throw cloneError("a value listed twice in transfer");
      mset(seen, x, true);
      if (!isAB(x)) throw cloneError(isSAB(x) ? "a SharedArrayBuffer in transfer" : "this transferable");
      if (abDetached(x)) throw cloneError("a detached ArrayBuffer");
    }
    const out = clone(value, new MapC());
    for (let i = 0; i < transfer.length; i++) abTransfer(transfer[i]);   // detach: the clone has the bytes
    return out;
  }
  sr.install({ __proto__: null, structuredClone });
});
