// crypto.subtle and CryptoKey. The host does the cryptography (shardrun/runtime/subtle.py) through
// the mailbox op "crypto.subtle": bytes cross as base64, keys stay on the host and JS holds only
// their ids (per isolate), with what the spec shows of a key (type, extractable, algorithm, usages).
// Keys the worker drops are freed on the host with its next operation.
//
// Loaded lazily (on the first read of crypto.subtle), so it uses core's primordials (sr.prim).
(function (sr) {
  "use strict";
  const { list, push, stringify, Str, Num, TypeErr, U8, AB, isView, bytesLen, b64, fromB64, keys, is } = sr.prim;
  const DOMEx = globalThis.DOMException, Registry = globalThis.FinalizationRegistry, WeakMapC = WeakMap;
  const freeze = Object.freeze, ArrayFrom = Array.from;
  const TOKEN = {};
  const DOM_NAMES = { __proto__: null, NotSupportedError: 1, DataError: 1, InvalidAccessError: 1, OperationError: 1, SyntaxError: 1, QuotaExceededError: 1 };
  const USAGES = { __proto__: null, encrypt: 1, decrypt: 1, sign: 1, verify: 1, deriveKey: 1, deriveBits: 1, wrapKey: 1, unwrapKey: 1 };
  const FORMATS = { __proto__: null, raw: 1, spki: 1, pkcs8: 1, jwk: 1 };
  const NUMS = ["length", "saltLength", "iterations", "tagLength", "modulusLength"];
  const BYTES = ["iv", "counter", "additionalData", "label", "salt", "info", "publicExponent"];
  const JWK_STR = ["kty", "use", "alg", "crv", "k", "n", "e", "d", "p", "q", "dp", "dq", "qi", "x", "y"];
  let freed = list();
  const registry = Registry ? new Registry((id) => push(freed, id)) : null;

  function toStr(v, what) {
    if (typeof v === "string") return v;
    if (typeof v === "symbol") throw new TypeErr(what + " cannot be a Symbol");
    return Str(v);
  }
  // The bytes of a BufferSource, as base64.
  function bytes(v, what) {
    if (is(v, AB)) return b64(new U8(v));
    if (isView(v)) return b64(new U8(v.buffer, v.byteOffset, v.byteLength));
    throw new TypeErr(what + " must be an ArrayBuffer or an ArrayBuffer view");
  }
  const buffer = (s) => { const u = fromB64(s); return u.buffer; };

  // ---- CryptoKey ---------------------------------------------------------------
  let infoOf, idOf, makeKey;
  class CryptoKey {
    #i; #alg; #usages;
    constructor(token, info) {
      if (token !== TOKEN) throw new TypeErr("Illegal constructor");
      this.#i = info;
    }
    get type() { return this.#i.type; }
    get extractable() { return this.#i.ext; }
    get algorithm() {
      if (this.#alg === undefined) this.#alg = showAlg(this.#i.alg);
      return this.#alg;
    }
    get usages() {
      if (this.#usages === undefined) this.#usages = freeze(ArrayFrom(this.#i.usages));
      return this.#usages;
    }
    static {
      infoOf = (k) => (k !== null && typeof k === "object" && #i in k ? k.#i : undefined);
      makeKey = (info) => {
        const k = new CryptoKey(TOKEN, info);
        if (registry) registry.register(k, info.id);
        return k;
      };
    }
  }
  Object.defineProperty(CryptoKey.prototype, Symbol.toStringTag, { value: "CryptoKey", configurable: true });
  idOf = (k, what) => {
    const i = infoOf(k);
    if (i === undefined) throw new TypeErr(what + " must be a CryptoKey");
    return i.id;
  };
  function showAlg(a) {
    const o = {};
    for (const k of keys(a)) {
      const v = a[k];
      o[k] = k === "publicExponent" ? fromB64(v) : k === "hash" ? { name: v.name } : v;
    }
    return o;
  }

  // ---- arguments ------------------------------------------------------------------
  function algo(a, what) {
    if (typeof a === "string") return { __proto__: null, name: a };
    if (a === null || typeof a !== "object") throw new TypeErr(what + " must be an algorithm name or an object with a name");
    if (a.name === undefined) throw new TypeErr(what + " has no name");
    const o = { __proto__: null, name: toStr(a.name, what + ".name") };
    for (let i = 0; i < NUMS.length; i++) { const v = a[NUMS[i]]; if (v !== undefined && v !== null) o[NUMS[i]] = Num(v); }
    for (let i = 0; i < BYTES.length; i++) { const v = a[BYTES[i]]; if (v !== undefined && v !== null) o[BYTES[i]] = bytes(v, what + "." + BYTES[i]); }
    if (a.namedCurve !== undefined) o.namedCurve = toStr(a.namedCurve, what + ".namedCurve");
    const h = a.hash;
    if (h !== undefined) o.hash = typeof h === "string" ? h : h !== null && typeof h === "object" ? toStr(h.name, what + ".hash.name") : toStr(h, what + ".hash");
    if (a.public !== undefined) o.public = idOf(a.public, what + ".public");
    return o;
  }
  function usages(u) {
    if (u === null || typeof u !== "object" || typeof u[Symbol.iterator] !== "function") throw new TypeErr("keyUsages must be a sequence of strings");
    const out = list();
    for (const x of u) {
      const s = toStr(x, "a key usage");
      if (!USAGES[s]) throw new TypeErr("unknown key usage " + stringify(s));
      push(out, s);
    }
    return out;
  }
  function format(f) {
    const s = toStr(f, "format");
    if (!FORMATS[s]) throw new TypeErr("unknown key format " + stringify(s));
    return s;
  }
  function jwk(j) {
    if (j === null || typeof j !== "object") throw new TypeErr("a jwk key must be an object");
    const o = { __proto__: null };
    for (let i = 0; i < JWK_STR.length; i++) { const v = j[JWK_STR[i]]; if (v !== undefined) o[JWK_STR[i]] = toStr(v, "jwk." + JWK_STR[i]); }
    if (j.ext !== undefined) o.ext = !!j.ext;
    if (j.key_ops !== undefined) o.key_ops = usages(j.key_ops);
    return o;
  }
  const keyData = (fmt, data) => (fmt === "jwk" ? jwk(data) : bytes(data, "keyData"));

  // ---- the host ----------------------------------------------------------------------
  async function op(args) {
    if (freed.length) { args.free = freed; freed = list(); }
    let r;
    try { r = await sr.hostOp("crypto.subtle", stringify(args)); } catch (e) {
      const name = e && e.name;
      if (typeof name === "string" && DOM_NAMES[name]) throw new DOMEx(e.message, name);
      throw e;
    }
    switch (r.t) {
      case "bytes": return buffer(r.v);
      case "key": return makeKey(r.v);
      case "pair": return { publicKey: makeKey(r.v.publicKey), privateKey: makeKey(r.v.privateKey) };
      default: return r.v;   // bool, jwk
    }
  }

  class SubtleCrypto {
    constructor(token) { if (token !== TOKEN) throw new TypeErr("Illegal constructor"); }
    async digest(algorithm, data) {
      return op({ __proto__: null, m: "digest", alg: algo(algorithm, "algorithm"), data: bytes(data, "data") });
    }
    async importKey(fmt, data, algorithm, extractable, keyUsages) {
      fmt = format(fmt);
      return op({ __proto__: null, m: "importKey", format: fmt, key: keyData(fmt, data), alg: algo(algorithm, "algorithm"), ext: !!extractable, usages: usages(keyUsages) });
    }
    async exportKey(fmt, key) {
      return op({ __proto__: null, m: "exportKey", format: format(fmt), key: idOf(key, "key") });
    }
    async generateKey(algorithm, extractable, keyUsages) {
      return op({ __proto__: null, m: "generateKey", alg: algo(algorithm, "algorithm"), ext: !!extractable, usages: usages(keyUsages) });
    }
    async sign(algorithm, key, data) {
      return op({ __proto__: null, m: "sign", alg: algo(algorithm, "algorithm"), key: idOf(key, "key"), data: bytes(data, "data") });
    }
    async verify(algorithm, key, signature, data) {
      return op({ __proto__: null, m: "verify", alg: algo(algorithm, "algorithm"), key: idOf(key, "key"), sig: bytes(signature, "signature"), data: bytes(data, "data") });
    }
    async encrypt(algorithm, key, data) {
      return op({ __proto__: null, m: "encrypt", alg: algo(algorithm, "algorithm"), key: idOf(key, "key"), data: bytes(data, "data") });
    }
    async decrypt(algorithm, key, data) {
      return op({ __proto__: null, m: "decrypt", alg: algo(algorithm, "algorithm"), key: idOf(key, "key"), data: bytes(data, "data") });
    }
    async deriveBits(algorithm, baseKey, length) {
      const n = length === undefined || length === null ? null : Num(length);
      return op({ __proto__: null, m: "deriveBits", alg: algo(algorithm, "algorithm"), key: idOf(baseKey, "baseKey"), length: n });
    }
    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      return op({ __proto__: null, m: "deriveKey", alg: algo(algorithm, "algorithm"), key: idOf(baseKey, "baseKey"),
        dalg: algo(derivedKeyType, "derivedKeyType"), ext: !!extractable, usages: usages(keyUsages) });
    }
    async wrapKey(fmt, key, wrappingKey, wrapAlgorithm) {
      return op({ __proto__: null, m: "wrapKey", format: format(fmt), key: idOf(key, "key"), wrap: idOf(wrappingKey, "wrappingKey"), alg: algo(wrapAlgorithm, "wrapAlgorithm") });
    }
    async unwrapKey(fmt, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      return op({ __proto__: null, m: "unwrapKey", format: format(fmt), data: bytes(wrappedKey, "wrappedKey"), wrap: idOf(unwrappingKey, "unwrappingKey"),
        alg: algo(unwrapAlgorithm, "unwrapAlgorithm"), kalg: algo(unwrappedKeyAlgorithm, "unwrappedKeyAlgorithm"), ext: !!extractable, usages: usages(keyUsages) });
    }
    // workerd's extension: compares two buffers in time that depends only on their length.
    timingSafeEqual(a, b) {
      const x = fromB64(bytes(a, "a")), y = fromB64(bytes(b, "b"));
      if (bytesLen(x) !== bytesLen(y)) throw new TypeErr("timingSafeEqual: the buffers must have the same length");
      let d = 0;
      for (let i = 0; i < x.length; i++) d |= x[i] ^ y[i];
      return d === 0;
    }
  }
  Object.defineProperty(SubtleCrypto.prototype, Symbol.toStringTag, { value: "SubtleCrypto", configurable: true });
  sr.subtle = new SubtleCrypto(TOKEN);
  sr.install({ SubtleCrypto, CryptoKey });
});
