// Good calls for the hostile-input tests, in a process of their own (forked with IPC) so that
// hundreds of them load neither the server's process nor its file descriptors. Plain
// JavaScript on node:net, with its own framing: it judges the server as Asterisk 20.14+ would.
//
// Each call plays the part of Asterisk: its UUID in one write, then one 20 ms frame of 8 kHz
// slin per tick of one shared clock (absolute deadlines), for as long as the parent wants. Each
// frame is distinct (a per-call template and a sequence stamp, no zero sample), so the echo is
// checked frame by frame: every frame back, in order, bit-exact. Strict rules on what comes
// back: audio kinds only, never zero-length or odd, never a message split over more than 5 ms,
// and no 0x00 from the server.
//
// IPC: parent -> { type: 'start', port, calls, rampMs, echo = true, frames = Infinity } ... { type: 'stop' }
//      child  -> { type: 'ready', connected, failed } ... { type: 'sent' } ... { type: 'report', ... }
// With `frames`, each call stops sending after that many frames ('sent' once all have). With
// `echo: false` the server is not expected to echo: what comes back must be idle silence.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const FRAME_SAMPLES = 160;
const FRAME_BYTES = FRAME_SAMPLES * 2;
const STRICT_SPLIT_MS = 5;

/** The UUID of good call `index`: 600d.... so that the server side can tell good calls apart. */
export function goodCallUuid(index) {
  const hex = index.toString(16).padStart(8, '0');
  return `600d0000-0000-4000-8000-0000${hex}`;
}

function uuidBytes(id) {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

/** Frame `seq` of call `index`, as the payload of one message (the caller's audio). */
function framePayload(template, seq) {
  const payload = Buffer.from(template);
  // The stamp: never zero, so that no frame is mistaken for idle silence.
  payload.writeInt16LE(1 + (seq % 30000), 0);
  payload.writeInt16LE(1 + (Math.floor(seq / 30000) % 30000), 2);
  return payload;
}

function template(index) {
  const pcm = Buffer.alloc(FRAME_BYTES);
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const value = ((i * 7919 + (index + 3) * 104_729) % 60_000) - 30_000;
    pcm.writeInt16LE(value === 0 ? 1 : value, i * 2);
  }
  return pcm;
}

function isSilence(payload) {
  for (const byte of payload) if (byte !== 0) return false;
  return true;
}

class GoodCall {
  sent = 0;
  echoed = 0;
  silenceFrames = 0;
  mismatches = 0;
  violations = [];
  serverHangups = 0;
  closedEarly = false;
  closed = false;
  failed = null;
  lastArrival = -1;
  maxGapMs = 0;
  #header = Buffer.alloc(3);
  #headerBytes = 0;
  #payload = null;
  #payloadBytes = 0;
  #partialSince = null;
  #hangingUp = false;

  constructor(index, port, onConnect) {
    this.index = index;
    this.id = goodCallUuid(index);
    this.template = template(index);
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('connect', () => {
      const uuid = Buffer.concat([Buffer.of(0x01, 0x00, 0x10), uuidBytes(this.id)]);
      this.socket.write(uuid);
      onConnect(this);
    });
    this.socket.on('data', (chunk) => this.#data(chunk));
    this.socket.on('error', (error) => (this.failed ??= error.message));
    this.socket.on('close', () => {
      this.closed = true;
      if (!this.#hangingUp) this.closedEarly = true;
      onClose(this);
    });
  }

  send() {
    if (this.closed || this.#hangingUp || this.sent >= options.frames) return;
    const payload = framePayload(this.template, this.sent++);
    const message = Buffer.allocUnsafe(3 + FRAME_BYTES);
    message[0] = 0x10;
    message.writeUInt16BE(FRAME_BYTES, 1);
    payload.copy(message, 3);
    this.socket.write(message);
  }

  hangup() {
    this.#hangingUp = true;
    if (!this.closed) this.socket.end(Buffer.of(0, 0, 0));
  }

  #violate(reason) {
    if (this.violations.length < 5) this.violations.push(reason);
  }

  #data(chunk) {
    const at = performance.now();
    if (this.#partialSince !== null && at - this.#partialSince > STRICT_SPLIT_MS) {
      this.#violate(`the rest of a message arrived ${(at - this.#partialSince).toFixed(1)} ms after its start`);
    }
    let i = 0;
    while (i < chunk.length) {
      if (this.#payload === null) {
        this.#header[this.#headerBytes++] = chunk[i++];
        if (this.#headerBytes < 3) continue;
        this.#headerBytes = 0;
        const length = this.#header.readUInt16BE(1);
        this.#payload = Buffer.allocUnsafe(length);
        this.#payloadBytes = 0;
        if (length > 0) continue;
      } else {
        const take = Math.min(this.#payload.length - this.#payloadBytes, chunk.length - i);
        chunk.copy(this.#payload, this.#payloadBytes, i, i + take);
        this.#payloadBytes += take;
        i += take;
        if (this.#payloadBytes < this.#payload.length) continue;
      }
      const payload = this.#payload;
      this.#payload = null;
      this.#message(this.#header[0], payload, at);
    }
    this.#partialSince = this.#payload !== null || this.#headerBytes > 0 ? (this.#partialSince ?? at) : null;
  }

  #message(kind, payload, at) {
    if (kind === 0x00) {
      this.serverHangups++;
      return;
    }
    if (kind !== 0x10) return this.#violate(`a message of kind 0x${kind.toString(16)}`);
    if (payload.length === 0) return this.#violate('zero-length audio');
    if (payload.length % 2 !== 0) return this.#violate(`odd audio (${payload.length} bytes)`);
    if (this.lastArrival >= 0) this.maxGapMs = Math.max(this.maxGapMs, at - this.lastArrival);
    this.lastArrival = at;
    gaps.record(at, this);
    if (isSilence(payload)) {
      this.silenceFrames++;
      return;
    }
    if (options.echo && payload.length === FRAME_BYTES && payload.equals(framePayload(this.template, this.echoed))) this.echoed++;
    else this.mismatches++;
  }
}

/** Arrival gaps of every call, in 1 ms buckets (bounded memory). */
const gaps = {
  buckets: new Uint32Array(10_001),
  count: 0,
  record(at, call) {
    if (call.previousAt !== undefined) {
      this.buckets[Math.min(10_000, Math.round(at - call.previousAt))]++;
      this.count++;
    }
    call.previousAt = at;
  },
  quantile(q) {
    let seen = 0;
    for (let ms = 0; ms < this.buckets.length; ms++) {
      seen += this.buckets[ms];
      if (seen >= q * this.count) return ms;
    }
    return 0;
  },
};

const calls = [];
const options = { echo: true, frames: Infinity };
let sending = false;
let allSent = false;
let onClose = () => {};

function startClock() {
  const start = performance.now();
  let next = 1;
  const run = () => {
    if (!sending) return;
    const due = Math.floor((performance.now() - start) / 20);
    // Catch up a short stall of this process frame for frame, as a jitter buffer would; never
    // more than 3 frames at once.
    let ticks = Math.min(3, due - next + 1);
    if (due - next + 1 > 3) next = due - 2;
    for (; ticks > 0; ticks--, next++) for (const call of calls) if (call.connected) call.send();
    if (!allSent && calls.length > 0 && calls.every((c) => c.sent >= options.frames || c.closed)) {
      allSent = true;
      send({ type: 'sent' });
    }
    setTimeout(run, Math.max(0, start + next * 20 - performance.now()));
  };
  setTimeout(run, 20);
}

function send(message) {
  process.send?.(message);
}

async function start({ port, calls: count, rampMs, echo = true, frames = null }) {
  options.echo = echo;
  options.frames = frames ?? Infinity;
  let settled = 0;
  await new Promise((resolve) => {
    const opened = (call) => {
      call.connected = true;
      settled++;
      if (settled === count) resolve();
    };
    onClose = (call) => {
      if (!call.connected && !call.counted) {
        call.counted = true;
        settled++;
        if (settled === count) resolve();
      }
    };
    const t0 = performance.now();
    let index = 0;
    const open = () => {
      const due = rampMs === 0 ? count : Math.min(count, Math.floor(((performance.now() - t0) / rampMs) * count) + 1);
      while (index < due) calls.push(new GoodCall(index++, port, opened));
      if (index < count) setTimeout(open, 5);
    };
    open();
    sending = true;
    startClock();
  });
  send({ type: 'ready', connected: calls.filter((c) => c.connected).length, failed: calls.filter((c) => !c.connected).length });
}

async function stop() {
  sending = false;
  // Every frame sent has to come back: wait for the echo tail as long as it keeps coming (a
  // saturated server's echo runs late: a stall longer than its clock's catch-up delays every
  // later frame of a call for good). 10 s without progress is a bound on a broken run only.
  const pending = () => calls.reduce((total, c) => total + (c.closed ? 0 : c.sent - c.echoed - c.mismatches), 0);
  let last = pending();
  let progressAt = performance.now();
  while (options.echo && last > 0 && performance.now() - progressAt < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = pending();
    if (now < last) progressAt = performance.now();
    last = now;
  }
  for (const call of calls) call.hangup();
  const closeBy = performance.now() + 10_000;
  while (performance.now() < closeBy && calls.some((c) => !c.closed)) await new Promise((resolve) => setTimeout(resolve, 20));
  const sum = (f) => calls.reduce((total, call) => total + f(call), 0);
  const bad = calls.filter((c) => (options.echo && c.echoed !== c.sent) || c.mismatches > 0 || c.violations.length > 0 || c.serverHangups > 0 || c.closedEarly || !c.connected);
  send({
    type: 'report',
    calls: calls.length,
    connected: calls.filter((c) => c.connected).length,
    framesSent: sum((c) => c.sent),
    framesEchoed: sum((c) => c.echoed),
    lost: options.echo ? sum((c) => Math.max(0, c.sent - c.echoed)) : null,
    mismatches: sum((c) => c.mismatches),
    violations: sum((c) => c.violations.length),
    serverHangups: sum((c) => c.serverHangups),
    closedEarly: calls.filter((c) => c.closedEarly).length,
    arrivalGapMs: { p50: gaps.quantile(0.5), p99: gaps.quantile(0.99), max: Math.max(0, ...calls.map((c) => Math.round(c.maxGapMs))) },
    bad: bad.slice(0, 5).map((c) => ({
      id: c.id,
      connected: Boolean(c.connected),
      sent: c.sent,
      echoed: c.echoed,
      mismatches: c.mismatches,
      violations: c.violations,
      serverHangups: c.serverHangups,
      closedEarly: c.closedEarly,
      failed: c.failed,
    })),
  });
  process.disconnect?.();
}

process.on('message', (message) => {
  if (message.type === 'start') void start(message);
  if (message.type === 'stop') void stop();
});
