// Streaming responses: server-sent events and text streams via hono/streaming, and a hand-made ReadableStream.
import { Hono } from "hono";
import { stream, streamSSE, streamText } from "hono/streaming";

const app = new Hono();

app.get("/sse", (c) => streamSSE(c, async (s) => {
  for (let i = 1; i <= 3; i++) await s.writeSSE({ id: String(i), event: "tick", data: JSON.stringify({ n: i }) });
  await s.writeSSE({ event: "done", data: "bye" });
}));
app.get("/text", (c) => streamText(c, async (s) => {
  await s.writeln("line one");
  await s.write("line ");
  await s.writeln("two");
}));
app.get("/bytes", (c) => stream(c, async (s) => {
  await s.write(new Uint8Array([104, 105, 10]));
  await s.write("done");
}));
app.get("/raw", () => {
  const enc = new TextEncoder();
  let i = 0;
  const body = new ReadableStream({
    pull(ctl) { if (i < 3) ctl.enqueue(enc.encode(`chunk ${i++}\n`)); else ctl.close(); },
  });
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
});
app.post("/upper", (c) => new Response(c.req.raw.body.pipeThrough(new TextDecoderStream()).pipeThrough(new TransformStream({
  transform(chunk, ctl) { ctl.enqueue(chunk.toUpperCase()); },
})).pipeThrough(new TextEncoderStream())));

export default app;
