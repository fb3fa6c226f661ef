'use strict';
// Neutral echo servers for the syncws benchmark, one kind per process:
//   node echo.js ws          ws + native bufferutil, no compression
//   node echo.js ws-deflate  same with permessage-deflate (ws defaults)
//   node echo.js tcp         plain TCP echo: the transport floor
// Prints one JSON "ready" line, then exits when stdin closes (runner gone).
//
// S7 (burst), plain ws kind only: a text message "burst:<count>:<size>:<seq>" is
// answered with <count> text messages of <size> bytes whose frames go out in ONE
// socket write (so they arrive together, typically in one TCP segment). Message k
// is the trigger + "#k:", padded with PAD (repeated) or cut to <size>: the same
// strings bench/payloads.py expects. Every other message is echoed unchanged.
//
// S9 (blast), ws-deflate kind only: a text of at least KEEP bytes is echoed and kept as
// one pre-compressed frame; the text "blast" is answered with that frame, written
// straight to the socket, so a blast costs the server no zlib time (bench/payloads.py).
const net = require('net');
const zlib = require('zlib');

const kind = process.argv[2] || 'ws';
const host = '127.0.0.1';
const backlog = 4096; // S5 opens 1,000 connections at once.

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const TRIGGER = /^burst:(\d{1,4}):(\d{1,5}):\d{1,12}$/;
const B = 0x62; // 'b': the only first byte worth a closer look

// All frames of one burst in one Buffer (server frames are unmasked), or null if
// the text is not a well-formed trigger (then it is echoed like any message).
function burstFrames(text) {
  const m = TRIGGER.exec(text);
  if (m === null) return null;
  const count = Number(m[1]);
  const size = Number(m[2]);
  if (count < 1 || count > 1000 || size < 1 || size > 65535) return null;
  const head = size < 126 ? 2 : 4;
  const out = Buffer.allocUnsafe(count * (head + size));
  let at = 0;
  for (let k = 0; k < count; k++) {
    out[at] = 0x81; // FIN + text
    if (head === 2) {
      out[at + 1] = size;
    } else {
      out[at + 1] = 126;
      out.writeUInt16BE(size, at + 2);
    }
    at += head;
    let body = `${text}#${k}:`;
    while (body.length < size) body += PAD;
    at += out.write(body.slice(0, size), at, 'latin1'); // ASCII only
  }
  return out;
}

const BLAST = 'blast';
const KEEP = 64 * 1024;

// A text message as one compressed frame that inflates on its own (RFC 7692: deflate,
// sync flush, its 00 00 ff ff tail cut). A 512-byte window fits whatever window the
// client allowed us; no shared context, so it needs none of the client's history. Only
// blasts follow it on that connection: ws's own compressor would now refer to history
// the client no longer has in its window.
function keptFrame(data) {
  const body = zlib.deflateRawSync(data, { level: 1, windowBits: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const payload = body.subarray(0, body.length - 4);
  const n = payload.length;
  const head = Buffer.alloc(n < 126 ? 2 : n < 65536 ? 4 : 10);
  head[0] = 0xc1; // FIN + RSV1 (compressed) + text
  if (n < 126) {
    head[1] = n;
  } else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

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
  const bursts = kind === 'ws';
  const blasts = kind === 'ws-deflate';
  wss.on('connection', (ws) => {
    let kept = null;
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (blasts && !isBinary) {
        if (data.length >= KEEP) {
          kept = keptFrame(data);
        } else if (kept !== null && data.length === BLAST.length && data.toString('latin1') === BLAST) {
          // The client waits for each answer before it asks again, so ws's sender has
          // nothing queued: this write cannot overtake one of its frames.
          ws._socket.write(kept);
          return;
        }
      }
      if (bursts && !isBinary && data[0] === B && data.length <= 40) {
        const frames = burstFrames(data.toString('latin1'));
        if (frames !== null) {
          // One write of pre-built frames. Safe next to ws's own sender: without
          // permessage-deflate it queues nothing, so every earlier send is already
          // in the socket's buffer ahead of this one.
          ws._socket.write(frames);
          return;
        }
      }
      ws.send(data, { binary: isBinary });
    });
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
