// structuredClone: @ungap/structured-clone (the HTML structured clone algorithm
// as serialize/deserialize); DataCloneError for what cannot be cloned.
import { serialize, deserialize } from "@ungap/structured-clone";
function structuredClone(value, options) {
  if (arguments.length === 0) throw new TypeError("structuredClone: a value is required");
  const check = (v, seen) => {
    if (typeof v === "function" || typeof v === "symbol") throw new DOMException("structuredClone: " + String(typeof v) + " values cannot be cloned", "DataCloneError");
    if (v && typeof v === "object" && !seen.has(v)) { seen.add(v); for (const k of Reflect.ownKeys(v)) { const d = Object.getOwnPropertyDescriptor(v, k); if (d && "value" in d) check(d.value, seen); } if (v instanceof Map) for (const [a, b] of v) { check(a, seen); check(b, seen); } if (v instanceof Set) for (const a of v) check(a, seen); }
  };
  check(value, new Set());
  return deserialize(serialize(value, { lossy: false, json: false }));
}
Object.defineProperty(globalThis, "structuredClone", { value: structuredClone, writable: true, configurable: true });
