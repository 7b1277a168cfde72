// Prices in cents; catalog.js is imported here and by respond.js, and evaluated once.
import { CATALOG, CURRENCY } from "../catalog.js";

export function quote(item, qty) {
  const price = CATALOG[item];
  if (price === undefined) return { error: `no item ${item}`, items: Object.keys(CATALOG) };
  return { item, qty, total: price * qty, currency: CURRENCY };
}
