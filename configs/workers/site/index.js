// A site: files from public/ are served before this script (see worker.toml [assets]);
// what no file answers comes here, and the cron trigger calls `scheduled`.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/api/time") {
      return Response.json({ now: new Date().toISOString(), greeting: env.GREETING });
    }
    // No file and no route: the site's own 404 page, read through the assets binding.
    const page = await env.ASSETS.fetch(new URL("/404", url)); // 404.html (/404.html redirects here)
    return new Response(page.body, { status: 404, headers: page.headers });
  },

  async scheduled(controller, env, ctx) {
    // controller: { cron, scheduledTime (ms since the epoch, UTC), type: "scheduled" }
    console.log(`cron ${controller.cron} fired for ${new Date(controller.scheduledTime).toISOString()}`);
  },
};
