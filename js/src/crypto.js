// crypto.getRandomValues and crypto.randomUUID from a ChaCha20 generator keyed
// with 32 bytes from the host's CSPRNG (os.urandom) when the isolate is created;
// crypto.subtle is the subtle chunk (js/src/subtle.js).
(function (sr) {
  "use strict";
  const G = globalThis;
  const key = new Uint32Array(Uint8Array.fromHex(sr.seed).buffer);
  const state = new Uint32Array(16), block = new Uint32Array(16);
  const bytes = new Uint8Array(block.buffer);
  let counter = 0, nonce = 0, used = 64;
  const rotl = (x, n) => (x << n) | (x >>> (32 - n));
  function qr(x, a, b, c, d) {
    x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 16);
    x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 12);
    x[a] = (x[a] + x[b]) | 0; x[d] = rotl(x[d] ^ x[a], 8);
    x[c] = (x[c] + x[d]) | 0; x[b] = rotl(x[b] ^ x[c], 7);
  }
  // RFC 8439 block function (exported for the test vector).
  function chachaBlock(k, ctr, n0, n1, n2, outWords) {
    const s = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, ...k, ctr, n0, n1, n2];
    const x = s.slice();
    for (let i = 0; i < 10; i++) {
      qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15);
      qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) outWords[i] = (x[i] + s[i]) | 0;
  }
  function fill(u8) {
    for (let i = 0; i < u8.length; i++) {
      if (used === 64) {
        chachaBlock(key, counter, nonce, 0, 0, block);
        counter = (counter + 1) >>> 0;
        if (counter === 0) nonce++;
        used = 0;
      }
      u8[i] = bytes[used++];
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
    __chachaBlock: chachaBlock,
  };
  Object.defineProperty(G, "crypto", { value: crypto, writable: true, configurable: true });
});
