import { CURRENCY } from "../catalog.js";

export const json = (body) =>
  Response.json(body, { status: body.error ? 404 : 200, headers: { "x-currency": CURRENCY } });
