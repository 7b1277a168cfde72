// The smallest worker: answers HTTP requests and runs tasks.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    return new Response(`Hello from shardrun! You asked for ${url.pathname}\n`, {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  },

  async task(payload, env, ctx) {
    console.log("task payload:", payload);
    return { greeting: `Hello, ${payload.name ?? "world"}!`, at: new Date().toISOString() };
  },
};
