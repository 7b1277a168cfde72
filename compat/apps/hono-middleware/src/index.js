// Hono's common middleware: CORS (preflight and simple), ETag, secure headers, body limit, a custom timing-free logger.
import { Hono } from "hono";
import { cors } from "hono/cors";
import { etag } from "hono/etag";
import { secureHeaders } from "hono/secure-headers";
import { bodyLimit } from "hono/body-limit";

const app = new Hono();

app.use("/api/*", cors({ origin: "https://app.example", allowMethods: ["GET", "POST"], allowHeaders: ["X-Token"], maxAge: 600, credentials: true, exposeHeaders: ["X-Count"] }));
app.use("/etag/*", etag());
app.use("/secure/*", secureHeaders());
app.use("/upload", bodyLimit({ maxSize: 16, onError: (c) => c.text("too big", 413) }));
app.use("*", async (c, next) => { await next(); c.res.headers.set("x-mw", "after"); });

app.get("/api/items", (c) => { c.header("x-count", "2"); return c.json(["a", "b"]); });
app.post("/api/items", async (c) => c.json({ created: await c.req.text() }, 201));
app.get("/etag/doc", (c) => c.text("the same document every time"));
app.get("/secure/page", (c) => c.text("secured"));
app.post("/upload", async (c) => c.text("stored " + (await c.req.text()).length));

export default app;
