// Echoes the request back as JSON: method, URL, headers and body.
export default {
  async fetch(request, env) {
    const body = await request.text();
    return Response.json({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
    });
  },
  task(payload, env) {
    return { payload, env: Object.keys(env) };
  },
};
