// Identifiers: uuid (v4 random, v5 name-based, v7 time-ordered; parse/validate) and nanoid (default and custom alphabet).
import { v4 as uuidv4, v5 as uuidv5, v7 as uuidv7, validate, version, parse, stringify, NIL } from "uuid";
import { nanoid, customAlphabet } from "nanoid";

export default {
  fetch(request) {
    const { pathname, searchParams } = new URL(request.url);
    if (pathname === "/uuid") {
      const a = uuidv4(), b = uuidv4();
      return Response.json({ v4: a, distinct: a !== b, version: version(a), valid: validate(a), native: crypto.randomUUID() });
    }
    if (pathname === "/uuid5") {
      const name = searchParams.get("name") ?? "example.com";
      const id = uuidv5(name, uuidv5.DNS);
      return Response.json({ id, version: version(id), roundTrip: stringify(parse(id)) === id, nil: NIL, bad: validate("not-a-uuid") });
    }
    if (pathname === "/uuid7") {
      const id = uuidv7({ msecs: 1700000000000, seq: 0, random: new Uint8Array(16) });
      return Response.json({ id, version: version(id), random: uuidv7() });
    }
    if (pathname === "/nanoid") {
      const hex = customAlphabet("0123456789abcdef", 12);
      const id = nanoid();
      return Response.json({ id, length: id.length, short: nanoid(8), hex: hex(), urlSafe: /^[A-Za-z0-9_-]+$/.test(id) });
    }
    if (pathname === "/random") {
      const bytes = crypto.getRandomValues(new Uint8Array(8));
      return Response.json({ n: bytes.length, allBytes: bytes.every((b) => b >= 0 && b < 256) });
    }
    return new Response("no route", { status: 404 });
  },
};
