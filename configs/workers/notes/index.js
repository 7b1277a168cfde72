// Notes: a worker with env bindings (see worker.toml). KV counts visits, a D1 database keeps notes.
//   curl -H 'Host: notes.workers.localhost' localhost:8080/             list the notes
//   curl -H 'Host: notes.workers.localhost' localhost:8080/ -d 'hello'  add one
export default {
  async fetch(request, env) {
    await env.DB.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, at TEXT NOT NULL);");
    const visits = Number((await env.KV.get("visits")) || 0) + 1;
    await env.KV.put("visits", String(visits));
    if (request.method === "POST") {
      const text = (await request.text()).slice(0, 1000);
      if (!text) return Response.json({ error: "empty note" }, { status: 400 });
      const r = await env.DB.prepare("INSERT INTO notes (text, at) VALUES (?, ?)").bind(text, new Date().toISOString()).run();
      return Response.json({ id: r.meta.last_row_id }, { status: 201 });
    }
    const { results } = await env.DB.prepare("SELECT id, text, at FROM notes ORDER BY id DESC LIMIT 20").all();
    return Response.json({ visits, notes: results, lastPrune: await env.KV.get("last-prune", "json") });
  },
  // the cron trigger (worker.toml [triggers]): prune old notes, remember when
  async scheduled(event, env) {
    await env.DB.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL, at TEXT NOT NULL);");
    const r = await env.DB.prepare("DELETE FROM notes WHERE id NOT IN (SELECT id FROM notes ORDER BY id DESC LIMIT 1000)").run();
    await env.KV.put("last-prune", JSON.stringify({ cron: event.cron, at: new Date(event.scheduledTime).toISOString(), removed: r.meta.changes }));
  },
  // also as a task: shardrun invoke notes --payload '{"text": "from a task"}'
  async task(payload, env) {
    const r = await env.DB.prepare("INSERT INTO notes (text, at) VALUES (?, ?)").bind(String(payload.text), new Date().toISOString()).run();
    return { id: r.meta.last_row_id };
  },
};
