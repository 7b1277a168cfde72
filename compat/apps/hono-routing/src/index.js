// Hono core: routing, path params, query strings, JSON in and out, errors, redirects.
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";

const app = new Hono();

app.get("/", (c) => c.text("hello from hono"));
app.get("/users/:id{[0-9]+}", (c) => c.json({ id: Number(c.req.param("id")), route: "numeric" }));
app.get("/users/:name", (c) => c.json({ name: c.req.param("name"), route: "name" }));
app.get("/search", (c) => c.json({ q: c.req.query("q"), tags: c.req.queries("tag"), page: Number(c.req.query("page") ?? 1) }));
app.post("/echo", async (c) => {
  const body = await c.req.json();
  c.header("x-echo-keys", Object.keys(body).sort().join(","));
  return c.json({ got: body, type: c.req.header("content-type") }, 201);
});
app.get("/html", (c) => c.html("<h1>Hi</h1>"));
app.get("/old", (c) => c.redirect("/", 301));
app.get("/teapot", () => { throw new HTTPException(418, { message: "short and stout" }); });
app.get("/boom", () => { throw new Error("kaboom"); });
app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));
app.onError((err, c) => err instanceof HTTPException ? err.getResponse() : c.json({ error: err.message }, 500));

export default app;
