// crypto.getRandomValues and crypto.randomUUID from the host's CSPRNG (os.urandom),
// through a synchronous host function; bytes are drawn in blocks of 4 KiB so a UUID does
// not cost a host call. crypto.subtle is the subtle chunk (js/src/subtle.js).
(function (sr) {
  "use strict";
  const G = globalThis, host = sr.host, POOL = 4096;
  let pool = new Uint8Array(0), used = 0;
  function fill(u8) {
    let i = 0;
    while (i < u8.length) {
      if (used === pool.length) { pool = host("random.bytes", POOL); used = 0; }
      const n = Math.min(u8.length - i, pool.length - used);
      u8.set(pool.subarray(used, used + n), i);
      pool.fill(0, used, used + n);   // a byte handed out is not kept
      used += n; i += n;
    }
  }
  const INTS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const crypto = {
    getRandomValues(a) {
      if (!INTS.some((T) => a instanceof T)) throw new DOMException("getRandomValues: the argument must be an integer typed array", "TypeMismatchError");
      if (a.byteLength > 65536) throw new DOMException("getRandomValues: at most 65536 bytes per call, got " + a.byteLength, "QuotaExceededError");
      fill(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return a;
    },
    randomUUID() {
      const b = new Uint8Array(16);
      fill(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      const h = b.toHex();
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    },
    get subtle() { sr.load("subtle"); return sr.subtle; },   // its own chunk, loaded on first read
  };
  Object.defineProperty(G, "crypto", { value: crypto, writable: true, configurable: true });
});
