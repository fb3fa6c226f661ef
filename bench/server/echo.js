'use strict';
// Neutral echo servers for the syncws benchmark, one kind per process:
//   node echo.js ws          ws + native bufferutil, no compression
//   node echo.js ws-deflate  same with permessage-deflate (ws defaults)
//   node echo.js tcp         plain TCP echo: the transport floor
// Prints one JSON "ready" line, then exits when stdin closes (runner gone).
const net = require('net');

const kind = process.argv[2] || 'ws';
const host = '127.0.0.1';
const backlog = 4096; // S5 opens 1,000 connections at once.

function ready(port, extra) {
  const info = { kind, port, pid: process.pid, node: process.versions.node, ...extra };
  process.stdout.write(JSON.stringify(info) + '\n');
}

// Die with the runner: stdin is a pipe from it and reaches EOF when it exits.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

if (kind === 'tcp') {
  const server = net.createServer({ noDelay: true }, (sock) => {
    sock.on('error', () => sock.destroy());
    sock.pipe(sock);
  });
  server.listen({ host, port: 0, backlog }, () => ready(server.address().port, {}));
} else if (kind === 'ws' || kind === 'ws-deflate') {
  const { WebSocketServer } = require('ws');
  // ws loads bufferutil at require time; a loaded native addon sits in require.cache.
  const native = Object.keys(require.cache).find((k) => k.endsWith('bufferutil.node')) || null;
  const wss = new WebSocketServer({
    host,
    port: 0,
    backlog,
    clientTracking: false,
    perMessageDeflate: kind === 'ws-deflate',
    maxPayload: 256 * 1024 * 1024,
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  wss.on('listening', () => {
    ready(wss.address().port, {
      ws: require('ws/package.json').version,
      bufferutil: native !== null,
      bufferutil_version: native ? require('bufferutil/package.json').version : null,
      bufferutil_path: native,
    });
  });
} else {
  process.stderr.write(`unknown server kind: ${kind}\n`);
  process.exit(2);
}
