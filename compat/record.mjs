// Records workerd's answers to compat/requests.json into compat/fixtures/<app>.json.
// Starts one workerd on 127.0.0.1 serving every bundle (one socket each), sends every request once,
// stops workerd whatever happens. Bounded: 30 s to start, 10 s per request, 180 s in all.
// Usage: node record.mjs [app ...]   (after node build.mjs)
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync, existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import workerd from "workerd";

export const COMPATIBILITY_DATE = "2025-06-01";
export const HOST = "compat.test";
const here = (p) => new URL(p, import.meta.url).pathname;
const readJson = (p) => JSON.parse(readFileSync(here(p), "utf8"));
const deadline = Date.now() + 180_000;

// The request exactly as sent to both runtimes: host first, then the listed headers, then content-length.
export function wireRequest(req) {
  const body = req.body === undefined ? null : typeof req.body === "string" ? Buffer.from(req.body, "utf8") : Buffer.from(req.body.base64, "base64");
  const headers = [["host", HOST], ...req.headers, ["connection", "close"]];
  if (body !== null) headers.push(["content-length", String(body.length)]);
  return { method: req.method, path: req.path, headers, body };
}

function normalise(app, status, rawHeaders, body, norm) {
  const drop = new Set(norm.drop_headers);
  const rules = [...(norm.rules["*"] ?? []), ...(norm.rules[app] ?? [])];
  const apply = (where, s) => rules.filter((r) => r.in === where).reduce((acc, r) => acc.replace(new RegExp(r.pattern, "g"), () => r.replace), s);
  const headers = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!drop.has(name)) headers.push([name, apply("header:" + name, rawHeaders[i + 1])]);
  }
  headers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));  // stable: repeats keep their order
  const text = new TextDecoder("utf-8", { fatal: true });
  let out;
  try { out = { text: apply("body", text.decode(body)) }; } catch { out = { base64: body.toString("base64") }; }
  return { status, headers, body: out };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().once("error", reject).listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitListening(port, until) {
  while (Date.now() < until) {
    const ok = await new Promise((resolve) => {
      const c = connect(port, "127.0.0.1").once("connect", () => { c.destroy(); resolve(true); }).once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`workerd did not listen on 127.0.0.1:${port} in time`);
}

function send(port, wire) {
  return new Promise((resolve, reject) => {
    const timeout = Math.max(1, Math.min(10_000, deadline - Date.now()));
    const req = httpRequest({ host: "127.0.0.1", port, method: wire.method, path: wire.path, headers: wire.headers, agent: false, timeout, setHost: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer to ${wire.method} ${wire.path} in ${timeout} ms`)));
    req.on("error", reject);
    req.end(wire.body ?? undefined);
  });
}

function config(apps, ports) {
  const lines = ['using Workerd = import "/workerd/workerd.capnp";', "const config :Workerd.Config = (", "  services = ["];
  lines.push(apps.map((a, i) => `    (name = "${a}", worker = .w${i})`).join(",\n"), "  ],", "  sockets = [");
  lines.push(apps.map((a, i) => `    (name = "s${i}", address = "127.0.0.1:${ports[i]}", http = (), service = "${a}")`).join(",\n"), "  ]", ");");
  apps.forEach((a, i) => lines.push(`const w${i} :Workerd.Worker = (modules = [(name = "${a}.js", esModule = embed "${a}.js")], compatibilityDate = "${COMPATIBILITY_DATE}");`));
  return lines.join("\n") + "\n";
}

async function main() {
  const requests = readJson("requests.json");
  const norm = readJson("fixtures/normalise.json");
  const only = process.argv.slice(2);
  const apps = Object.keys(requests).filter((a) => !only.length || only.includes(a));
  for (const a of apps) if (!existsSync(here(`bundles/${a}.js`))) throw new Error(`no bundle for ${a}: run node build.mjs first`);
  const dir = mkdtempSync(join(tmpdir(), "compat-"));
  const ports = [];
  for (const _ of apps) ports.push(await freePort());
  for (const a of apps) copyFileSync(here(`bundles/${a}.js`), join(dir, `${a}.js`));
  writeFileSync(join(dir, "config.capnp"), config(apps, ports));
  const proc = spawn(workerd.default, ["serve", join(dir, "config.capnp")], { stdio: ["ignore", "inherit", "inherit"] });
  const stop = () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL"); };
  process.on("exit", stop);
  const timer = setTimeout(() => { console.error("record.mjs: over 180 s, stopping"); stop(); process.exit(2); }, deadline - Date.now());
  try {
    await Promise.race([waitListening(ports[ports.length - 1], Date.now() + 30_000),
      new Promise((_, rej) => proc.once("exit", (c) => rej(new Error(`workerd exited (${c}) before listening`))))]);
    for (const [i, app] of apps.entries()) {
      const bundle = readFileSync(here(`bundles/${app}.js`));
      const cases = [];
      for (const req of requests[app]) {
        const res = await send(ports[i], wireRequest(req));
        cases.push({ name: req.name, response: normalise(app, res.status, res.rawHeaders, res.body, norm) });
      }
      const fixture = { app, bundle_sha256: createHash("sha256").update(bundle).digest("hex"), workerd: workerd.version,
        compatibility_date: COMPATIBILITY_DATE, cases };
      writeFileSync(here(`fixtures/${app}.json`), JSON.stringify(fixture, null, 1) + "\n");
      console.log(`${app.padEnd(16)} ${cases.map((c) => c.response.status).join(" ")}`);
    }
  } finally {
    clearTimeout(timer);
    stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
