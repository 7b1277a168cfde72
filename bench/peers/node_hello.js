// Peer for the HTTP comparison: node's http module answering "Hello World" (one process).
//   node bench/peers/node_hello.js PORT
const http = require("http");
const port = Number(process.argv[2] || 8090);
http.createServer((req, res) => { res.writeHead(200, { "content-type": "text/plain" }); res.end("Hello World"); })
  .listen(port, "127.0.0.1");
