// Peer for bench/peers_bench.py: node's http module doing what bench/peers/workers/*.js do.
//   node bench/peers/node_server.js PORT SCENARIO [PROCESSES]   (SCENARIO: hello | cpu | timer)
// With PROCESSES > 1, a cluster: the primary forks that many workers sharing the port.
const cluster = require("node:cluster");
const http = require("node:http");
const [port, scenario, procs] = [Number(process.argv[2]), process.argv[3] || "hello", Number(process.argv[4] || 1)];

function json(res, value) {
  const body = JSON.stringify(value);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
const handlers = {
  hello: (req, res) => json(res, { path: new URL(req.url, "http://" + (req.headers.host || "localhost")).pathname }),
  cpu: (req, res) => {
    let x = 0;
    for (let i = 0; i < 100000; i++) x = (x + i * 7) % 1000003;
    json(res, { x });
  },
  timer: (req, res) => setTimeout(() => json(res, { ok: true }), 5),
};
const handle = handlers[scenario];
if (!handle) throw new Error("unknown scenario " + scenario);

if (procs > 1 && cluster.isPrimary) {
  for (let i = 0; i < procs; i++) cluster.fork();
} else {
  http.createServer(handle).listen(port, "127.0.0.1");
}
