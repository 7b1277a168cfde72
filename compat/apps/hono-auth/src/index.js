// Hono auth: basic auth, bearer auth, JWT middleware and the JWT helpers (HS256), signed cookies.
import { Hono } from "hono";
import { basicAuth } from "hono/basic-auth";
import { bearerAuth } from "hono/bearer-auth";
import { jwt, sign, verify } from "hono/jwt";
import { getSignedCookie, setSignedCookie } from "hono/cookie";

const SECRET = "compat-secret-do-not-use";
const app = new Hono();

app.use("/basic/*", basicAuth({ username: "ada", password: "lovelace" }));
app.use("/bearer/*", bearerAuth({ token: "tok-123" }));
app.use("/jwt/*", jwt({ secret: SECRET, alg: "HS256" }));

app.get("/basic/me", (c) => c.text("hello ada"));
app.get("/bearer/me", (c) => c.text("bearer ok"));
app.get("/token", async (c) => c.json({ token: await sign({ sub: "u1", role: "admin", iat: 1700000000, exp: 4102444800 }, SECRET, "HS256") }));
app.get("/jwt/me", (c) => c.json(c.get("jwtPayload")));
app.post("/verify", async (c) => {
  try {
    return c.json({ ok: true, payload: await verify(await c.req.text(), SECRET, "HS256") });
  } catch (e) {
    return c.json({ ok: false, error: e.name }, 401);
  }
});
app.get("/cookie/set", async (c) => { await setSignedCookie(c, "session", "s-42", SECRET, { path: "/", httpOnly: true }); return c.text("set"); });
app.get("/cookie/get", async (c) => c.json({ session: await getSignedCookie(c, SECRET, "session") ?? null }));

export default app;
