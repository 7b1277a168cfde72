// Hono request bodies: parseBody() for urlencoded and multipart forms, the validator helper, zod-validator.
import { Hono } from "hono";
import { validator } from "hono/validator";
import { zValidator } from "@hono/zod-validator";
import * as z from "zod";

const app = new Hono();

app.post("/form", async (c) => {
  const body = await c.req.parseBody({ all: true });
  const out = {};
  for (const [k, v] of Object.entries(body)) out[k] = v instanceof File ? { file: v.name, type: v.type, size: v.size, text: await v.text() } : v;
  return c.json(out);
});
app.post("/contact", validator("form", (value, c) => {
  const email = value["email"];
  if (typeof email !== "string" || !email.includes("@")) return c.json({ error: "email required" }, 400);
  return { email, message: String(value["message"] ?? "") };
}), (c) => c.json({ thanks: c.req.valid("form").email }));
const Item = z.object({ name: z.string().min(2), qty: z.number().int().positive() });
app.post("/items", zValidator("json", Item), (c) => { const v = c.req.valid("json"); return c.json({ ok: true, total: v.qty * 2, name: v.name }); });
app.get("/q", zValidator("query", z.object({ n: z.coerce.number().max(10) })), (c) => c.json({ n: c.req.valid("query").n }));

export default app;
