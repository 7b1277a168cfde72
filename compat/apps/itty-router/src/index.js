// itty-router v5: AutoRouter with params, query, JSON bodies, its cors helper, errors and 404.
import { AutoRouter, cors, error, json, status, StatusError, text } from "itty-router";

const { preflight, corsify } = cors({ origin: "https://app.example", allowMethods: ["GET", "POST"] });
const router = AutoRouter({ before: [preflight], finally: [corsify] });

router
  .get("/", () => "itty root")
  .get("/pets/:kind/:id", ({ params, query }) => ({ kind: params.kind, id: params.id, fields: query.fields ?? null }))
  .post("/pets", async (req) => { const pet = await req.json(); return json({ saved: pet.name }, { status: 201 }); })
  .get("/text", () => text("plain words"))
  .get("/gone", () => status(410))
  .get("/denied", () => error(403, "not for you"))
  .get("/throws", () => { throw new StatusError(422, { detail: "bad thing" }); })
  .get("/files/*", (req) => ({ rest: req.params }));

export default { fetch: router.fetch };
