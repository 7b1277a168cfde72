// A site: files from public/ are served before this script (see worker.toml [assets]);
// what no file answers comes here, and the cron trigger calls `scheduled`.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/api/time") {
      return Response.json({ now: new Date().toISOString(), greeting: env.GREETING });
    }
    return new Response(`no page at ${url.pathname}\n`, { status: 404, headers: { "content-type": "text/plain" } });
  },

  async scheduled(controller, env, ctx) {
    // controller: { cron, scheduledTime (ms since the epoch, UTC), type: "scheduled" }
    console.log(`cron ${controller.cron} fired for ${new Date(controller.scheduledTime).toISOString()}`);
  },
};
