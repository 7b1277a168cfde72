// A worker of several modules: index.js imports its own files with relative specifiers.
// GET /w/shop/price?item=tea&qty=3  or  shardrun run configs/workers/shop --payload '{"item": "tea", "qty": 3}'
import { quote } from "./lib/pricing.js";
import { json } from "./lib/respond.js";

export default {
  fetch(request) {
    const url = new URL(request.url);
    return json(quote(url.searchParams.get("item") ?? "tea", Number(url.searchParams.get("qty") ?? 1)));
  },
  task(payload) {
    return quote(payload.item ?? "tea", payload.qty ?? 1);
  },
};
