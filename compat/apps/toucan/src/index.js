// toucan-js (Sentry for Workers): build error events from thrown errors and messages, with scope data,
// captured in beforeSend and never sent.
import { Toucan } from "toucan-js";

class PaymentError extends Error {
  constructor(message) { super(message); this.name = "PaymentError"; }
}
function chargeCard(amount) { throw new PaymentError(`card declined for ${amount}`); }
function checkout() { chargeCard(42); }

function summary(event) {
  const ex = event.exception?.values?.[0];
  const frames = ex?.stacktrace?.frames ?? [];
  const top = frames[frames.length - 1];
  return {
    event_id: event.event_id, timestamp: event.timestamp, level: event.level, platform: event.platform,
    message: event.message ?? null,
    exception: ex ? { type: ex.type, value: ex.value, mechanism: ex.mechanism?.type ?? null } : null,
    frameCount: frames.length > 0,
    topFunction: top?.function ?? null,
    functions: frames.map((f) => f.function).filter((f) => f === "chargeCard" || f === "checkout"),
    tags: event.tags, user: event.user, extra: event.extra,
    request: event.request ? { method: event.request.method, url: event.request.url } : null,
    sdk: event.sdk?.name, environment: event.environment, release: event.release,
  };
}

export default {
  async fetch(request, env, ctx) {
    let captured = null;
    const sentry = new Toucan({
      dsn: "https://public@sentry.example/1", context: ctx, request, environment: "compat", release: "compat@1.0.0",
      beforeSend: (event) => { captured = event; return null; },
    });
    sentry.setTag("app", "toucan");
    sentry.setUser({ id: "u-1" });
    sentry.setExtra("cart", { items: 2 });
    const { pathname } = new URL(request.url);
    if (pathname === "/exception") {
      try { checkout(); } catch (e) { sentry.captureException(e); }
    } else if (pathname === "/message") {
      sentry.captureMessage("something odd", "warning");
    } else if (pathname === "/stack") {
      try { checkout(); } catch (e) { return Response.json({ first: e.stack.split("\n")[0], name: e.name, message: e.message }); }
    } else {
      return new Response("no route", { status: 404 });
    }
    return Response.json(captured ? summary(captured) : { captured: false });
  },
};
