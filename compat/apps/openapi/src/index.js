// @hono/zod-openapi: typed routes validated by zod, and the generated OpenAPI document.
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";

const Book = z.object({ id: z.string().openapi({ example: "b1" }), title: z.string(), year: z.number().int() }).openapi("Book");
const getBook = createRoute({
  method: "get", path: "/books/{id}",
  request: { params: z.object({ id: z.string().min(2).openapi({ param: { name: "id", in: "path" } }) }) },
  responses: { 200: { content: { "application/json": { schema: Book } }, description: "A book" } },
});
const addBook = createRoute({
  method: "post", path: "/books",
  request: { body: { content: { "application/json": { schema: Book.omit({ id: true }) } } } },
  responses: { 201: { content: { "application/json": { schema: Book } }, description: "Created" } },
});

const app = new OpenAPIHono({
  defaultHook: (result, c) => { if (!result.success) return c.json({ ok: false, issues: result.error.issues.map((i) => [i.path.join("."), i.code]) }, 422); },
});
app.openapi(getBook, (c) => c.json({ id: c.req.valid("param").id, title: "Dune", year: 1965 }, 200));
app.openapi(addBook, (c) => { const b = c.req.valid("json"); return c.json({ id: "new", ...b }, 201); });
app.doc("/doc", { openapi: "3.0.0", info: { title: "Books", version: "1.0.0" } });

export default app;
