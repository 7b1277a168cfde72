// node_modules/itty-router/index.mjs
var t = ({ base: e = "", routes: t2 = [], ...o2 } = {}) => ({ __proto__: new Proxy({}, { get: (o3, r2, a2, s2) => (o4, ...n2) => t2.push([r2.toUpperCase?.(), RegExp(`^${(s2 = (e + o4).replace(/\/+(\/|$)/g, "$1")).replace(/(\/?\.?):(\w+)\+/g, "($1(?<$2>[^]+))").replace(/(\/?\.?):(\w+)/g, "($1(?<$2>[^$1/]+?))").replace(/\./g, "\\.").replace(/(\/?)\*/g, "($1.*)?")}/*$`), n2, s2]) && a2 }), routes: t2, ...o2, async fetch(e2, ...r2) {
  let a2, s2, n2 = new URL(e2.url), c2 = e2.query = { __proto__: null };
  for (let [e3, t3] of n2.searchParams) c2[e3] = c2[e3] ? [].concat(c2[e3], t3) : t3;
  e: try {
    for (let t3 of o2.before || []) if (null != (a2 = await t3(e2.proxy ?? e2, ...r2))) break e;
    t: for (let [o3, c3, l2, i2] of t2) if ((o3 == e2.method || "ALL" == o3) && (s2 = n2.pathname.match(c3))) {
      e2.params = s2.groups || {}, e2.route = i2;
      for (let t3 of l2) if (null != (a2 = await t3(e2.proxy ?? e2, ...r2))) break t;
    }
  } catch (t3) {
    if (!o2.catch) throw t3;
    a2 = await o2.catch(t3, e2.proxy ?? e2, ...r2);
  }
  try {
    for (let t3 of o2.finally || []) a2 = await t3(a2, e2.proxy ?? e2, ...r2) ?? a2;
  } catch (t3) {
    if (!o2.catch) throw t3;
    a2 = await o2.catch(t3, e2.proxy ?? e2, ...r2);
  }
  return a2;
} });
var o = (e = "text/plain; charset=utf-8", t2) => (o2, r2 = {}) => {
  if (void 0 === o2 || o2 instanceof Response) return o2;
  const a2 = new Response(t2?.(o2) ?? o2, r2.url ? void 0 : r2);
  return a2.headers.set("content-type", e), a2;
};
var r = o("application/json; charset=utf-8", JSON.stringify);
var a = (e) => ({ 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error" })[e] || "Unknown Error";
var s = (e = 500, t2) => {
  if (e instanceof Error) {
    const { message: o2, ...r2 } = e;
    e = e.status || 500, t2 = { error: o2 || a(e), ...r2 };
  }
  return t2 = { status: e, ..."object" == typeof t2 ? t2 : { error: t2 || a(e) } }, r(t2, { status: e });
};
var n = (e) => {
  e.proxy = new Proxy(e.proxy ?? e, { get: (t2, o2) => t2[o2]?.bind?.(e) ?? t2[o2] ?? t2?.params?.[o2] });
};
var c = ({ format: e = r, missing: o2 = (() => s(404)), finally: a2 = [], before: c2 = [], ...l2 } = {}) => t({ before: [n, ...c2], catch: s, finally: [(e2, ...t2) => e2 ?? o2(...t2), e, ...a2], ...l2 });
var l = class extends Error {
  status;
  constructor(e = 500, t2) {
    super("object" == typeof t2 ? t2.error : t2), "object" == typeof t2 && Object.assign(this, t2), this.status = e;
  }
};
var i = (e, t2) => new Response(null, { ...t2, status: e });
var p = o("text/plain; charset=utf-8", String);
var f = o("text/html");
var u = o("image/jpeg");
var h = o("image/png");
var g = o("image/webp");
var y = (e = {}) => {
  const { origin: t2 = "*", credentials: o2 = false, allowMethods: r2 = "*", allowHeaders: a2, exposeHeaders: s2, maxAge: n2 } = e, c2 = (e2) => {
    const r3 = e2?.headers.get("origin");
    return true === t2 ? r3 : t2 instanceof RegExp ? t2.test(r3) ? r3 : void 0 : Array.isArray(t2) ? t2.includes(r3) ? r3 : void 0 : t2 instanceof Function ? t2(r3) : "*" == t2 && o2 ? r3 : t2;
  }, l2 = (e2, t3) => {
    for (const [o3, r3] of Object.entries(t3)) r3 && e2.headers.append(o3, r3);
    return e2;
  };
  return { corsify: (e2, t3) => e2?.headers?.get("access-control-allow-origin") || 101 == e2.status ? e2 : l2(new Response(e2.body, e2), { "access-control-allow-origin": c2(t3), "access-control-allow-credentials": o2 }), preflight: (e2) => {
    if ("OPTIONS" == e2.method) {
      const t3 = new Response(null, { status: 204 });
      return l2(t3, { "access-control-allow-origin": c2(e2), "access-control-allow-methods": r2?.join?.(",") ?? r2, "access-control-expose-headers": s2?.join?.(",") ?? s2, "access-control-allow-headers": a2?.join?.(",") ?? a2 ?? e2.headers.get("access-control-request-headers"), "access-control-max-age": n2, "access-control-allow-credentials": o2 });
    }
  } };
};

// apps/itty-router/src/index.js
var { preflight, corsify } = y({ origin: "https://app.example", allowMethods: ["GET", "POST"] });
var router = c({ before: [preflight], finally: [corsify] });
router.get("/", () => "itty root").get("/pets/:kind/:id", ({ params, query }) => ({ kind: params.kind, id: params.id, fields: query.fields ?? null })).post("/pets", async (req) => {
  const pet = await req.json();
  return r({ saved: pet.name }, { status: 201 });
}).get("/text", () => p("plain words")).get("/gone", () => i(410)).get("/denied", () => s(403, "not for you")).get("/throws", () => {
  throw new l(422, { detail: "bad thing" });
}).get("/files/*", (req) => ({ rest: req.params }));
var index_default = { fetch: router.fetch };
export {
  index_default as default
};
