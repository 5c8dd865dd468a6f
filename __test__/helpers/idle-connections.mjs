// Thousands of connections that never send a byte, from a process of their own (file
// descriptors are limited per process), for the hostile-input tests: forked with IPC.
//
// IPC: parent -> { type: 'open', port, count, batch, gapMs }
//      child  -> { type: 'opened', ports, failed }            every connection is up (or failed)
//      parent -> { type: 'probe' }                            once the server has settled them all
//      child  -> { type: 'probed', lost }                     ports the server never had
//      parent -> { type: 'report' }
//      child  -> { type: 'report', closedByServer, hangups, stillOpen, errors }
//
// `probe` finds the connections the kernel dropped before the server could accept them (a full
// accept queue with SYN cookies: this side completed its handshake, the server's side never
// existed, and a peer that never sends never learns): one byte on each connection the server has
// not closed; the kernel answers RST where there is no socket. Any the server does have would
// get the byte as a bad first message: the parent sees that as a reject of another kind.
// Each connection is closed from this side only after the server has closed it (or at report
// time, if it has not: `stillOpen` says how many).
import { connect } from 'node:net';

const sockets = [];
let closedByServer = 0;
let hangups = 0;
let errors = 0;

function open({ port, count, batch, gapMs }) {
  const ports = [];
  let failed = 0;
  let index = 0;
  let pending = 0;
  // A batch at a time, 10 ms apart and only once the last one is up: a server's listen backlog
  // (128 for the native engine's, 511 for Node's) must never overflow, or the kernel can drop
  // a connection this side believes is established (SYN cookies), and an idle peer never learns.
  const next = () => {
    if (ports.length + failed === count) return process.send({ type: 'opened', ports, failed });
    if (pending > 0 || index === count) return;
    for (let n = 0; n < batch && index < count; n++) {
      index++;
      pending++;
      const socket = connect({ host: '127.0.0.1', port });
      const state = { socket, connected: false, serverClosed: false, reset: false, bytes: [] };
      sockets.push(state);
      socket.once('connect', () => {
        state.connected = true;
        state.port = socket.localPort;
        ports.push(state.port);
        settled();
      });
      socket.on('data', (chunk) => {
        if (state.bytes.length < 3) state.bytes.push(...chunk.subarray(0, 3 - state.bytes.length));
      });
      socket.on('end', () => {
        state.serverClosed = true;
        closedByServer++;
        if (state.bytes.length === 3 && state.bytes.every((b) => b === 0)) hangups++;
      });
      socket.on('error', (error) => {
        errors++;
        if (error.code === 'ECONNRESET') state.reset = true;
        if (!state.connected) {
          failed++;
          settled();
        }
      });
    }
  };
  const settled = () => {
    pending--;
    if (pending === 0) setTimeout(next, gapMs);
  };
  next();
}

async function probe() {
  const open = sockets.filter((s) => s.connected && !s.serverClosed);
  for (const { socket } of open) socket.write(Buffer.of(0x3f));
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && open.some((s) => !s.reset && !s.serverClosed)) await new Promise((resolve) => setTimeout(resolve, 20));
  const lost = open.filter((s) => s.reset && !s.serverClosed);
  errors -= lost.length;
  process.send({ type: 'probed', lost: lost.map((s) => s.port) });
}

async function report() {
  // The server closed them all (the parent saw every reject): give the last closes time to land.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && sockets.some((s) => !s.serverClosed)) await new Promise((resolve) => setTimeout(resolve, 20));
  const stillOpen = sockets.filter((s) => !s.serverClosed && !s.reset).length;
  for (const { socket } of sockets) socket.destroy();
  process.send({ type: 'report', closedByServer, hangups, stillOpen, errors });
  process.disconnect();
}

process.on('message', (message) => {
  if (message.type === 'open') open(message);
  if (message.type === 'probe') void probe();
  if (message.type === 'report') void report();
});
