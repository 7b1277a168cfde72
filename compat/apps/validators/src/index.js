// Schema validation with zod and valibot on request JSON: success, error issues, transforms and defaults.
import * as z from "zod";
import * as v from "valibot";

const ZUser = z.object({
  name: z.string().min(1),
  email: z.email(),
  age: z.number().int().min(0).optional(),
  tags: z.array(z.string()).default([]),
  joined: z.iso.date().transform((s) => s.replaceAll("-", "/")),
});
const VUser = v.object({
  name: v.pipe(v.string(), v.minLength(1)),
  email: v.pipe(v.string(), v.email()),
  age: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  tags: v.optional(v.array(v.string()), []),
});

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const input = request.method === "POST" ? await request.json() : null;
    if (pathname === "/zod") {
      const r = ZUser.safeParse(input);
      return Response.json(r.success ? { ok: true, data: r.data } : { ok: false, issues: r.error.issues, pretty: z.prettifyError(r.error) }, { status: r.success ? 200 : 400 });
    }
    if (pathname === "/valibot") {
      const r = v.safeParse(VUser, input);
      return Response.json(r.success ? { ok: true, data: r.output } : { ok: false, issues: r.issues.map((i) => ({ path: v.getDotPath(i), message: i.message })) }, { status: r.success ? 200 : 400 });
    }
    if (pathname === "/schema") return Response.json(z.toJSONSchema(ZUser.omit({ joined: true })));
    return new Response("no route", { status: 404 });
  },
};
