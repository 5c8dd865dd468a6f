import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SharedClock, type TickInfo } from '../../engine/clock';
import { FrameDecoder } from '../../protocol/decode';
import { encodeAudio, encodeHangup, encodeUuid, frameBytes } from '../../protocol/encode';
import { isAudioKind, Kind } from '../../protocol/kind';
import type { Message } from '../../protocol/message';
import { Histogram } from '../histogram';
import { readStamp, stamp } from './stamp';

export interface GeneratorOptions {
  host: string;
  port: number;
  sampleRate: number;
  /** How long each call sends audio, ms (a whole number of 20 ms frames). */
  durationMs: number;
  /** After sending, how long each call waits for the echo tail before hanging up, ms. */
  lingerMs: number;
  /**
   * What stamped frames coming back are: `echo`, the call's own frames (round trip measured);
   * `play`, the server's stamped prompt (continuity measured: a skipped stamp is a lost frame).
   */
  returns: 'echo' | 'play';
  /** Send no caller audio (DTX, hold): the call only listens until durationMs has passed. */
  silent: boolean;
  /**
   * Offsets within the 20 ms period the calls send at, 1 to 20: 1, every call's frame leaves on
   * the same tick; 20, the calls take turns over 1 ms offsets, as independent Asterisk channels
   * (each with its own timing) spread theirs over the period.
   */
  phases: number;
}

/** Frames a call remembers send times for: echoes later than this many frames lose their latency sample. */
const SEND_TIME_SLOTS = 1024;

/**
 * Thousands of simulated Asterisk calls from one process: one shared clock, no timer per call.
 * Each call is given one of `phases` offsets of the 20 ms period, round robin as they connect,
 * and a tick sends a frame for every call of its offset. Each frame is stamped so that echoes
 * are matched to their send time; replies are parsed with the protocol decoder and folded into
 * histograms at once (constant memory).
 */
export class LoadGenerator {
  readonly echoLatency = new Histogram();
  readonly arrivalGaps = new Histogram();
  readonly sendLateness = new Histogram();
  connected = 0;
  failed = 0;
  finished = 0;
  framesSent = 0;
  framesEchoed = 0;
  framesReceived = 0;
  /** Play mode: stamped frames received, and stamps skipped between them. */
  framesPlayed = 0;
  framesSkipped = 0;
  violations = 0;
  /** @internal */
  readonly options: GeneratorOptions;
  readonly #template: Buffer;
  /** The open calls of each phase. */
  readonly #phases: Set<LoadCall>[];
  #active = 0;
  #connects = 0;
  readonly #clock: SharedClock;

  constructor(options: GeneratorOptions) {
    this.options = options;
    this.#phases = Array.from({ length: options.phases }, () => new Set<LoadCall>());
    this.#clock = new SharedClock((tick) => this.#tick(tick), { periodMs: 20 / options.phases });
    const samples = frameBytes(options.sampleRate, 20) / 2;
    const tone = new Int16Array(samples);
    for (let i = 0; i < samples; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / options.sampleRate));
    this.#template = encodeAudio(tone, options.sampleRate);
  }

  /** Opens one call; it sends durationMs of frames from the next tick, lingers, hangs up. */
  start(): void {
    const socket = connect({ host: this.options.host, port: this.options.port, noDelay: true });
    const call = new LoadCall(this, socket, this.#connects++ % this.options.phases);
    socket.once('connect', () => {
      this.connected++;
      socket.write(encodeUuid(randomUUID()));
      this.#phases[call.phase]!.add(call);
      this.#active++;
      this.#clock.start();
    });
    socket.on('error', () => call.fail());
    socket.on('close', () => call.closed());
  }

  /** Calls still open. */
  get active(): number {
    return this.#active;
  }

  /** @internal */
  remove(call: LoadCall): void {
    if (!this.#phases[call.phase]!.delete(call)) return;
    if (--this.#active === 0) this.#clock.stop();
  }

  #tick({ tick, lateMs }: TickInfo): void {
    this.sendLateness.record(lateMs);
    const now = performance.now();
    const frames = Math.round(this.options.durationMs / 20);
    for (const call of this.#phases[tick % this.options.phases]!) {
      if (call.ticks++ < frames) {
        if (!this.options.silent) call.send(this.#template, now);
        call.lastSentAt = now;
      } else if (now - call.lastSentAt >= this.options.lingerMs) call.hangup();
    }
  }
}

class LoadCall {
  /** Ticks this call has been through: its age in frames. */
  ticks = 0;
  lastSentAt = 0;
  /** The offset of the period this call sends at (see GeneratorOptions.phases). */
  readonly phase: number;
  #generator: LoadGenerator;
  #socket: Socket;
  #decoder = new FrameDecoder();
  #seq = 0;
  #sendTimes = new Float64Array(SEND_TIME_SLOTS);
  #lastArrival = -1;
  #lastPlayed = -1;
  #done = false;

  constructor(generator: LoadGenerator, socket: Socket, phase: number) {
    this.#generator = generator;
    this.phase = phase;
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now();
      try {
        this.#decoder.feed(chunk, (message) => this.#receive(message, at));
      } catch {
        this.#violation();
      }
    });
  }

  send(template: Buffer, now: number): void {
    const frame = Buffer.allocUnsafe(template.length);
    template.copy(frame);
    stamp(frame, 3, this.#seq);
    this.#sendTimes[this.#seq % SEND_TIME_SLOTS] = now;
    this.#seq++;
    this.#socket.write(frame);
    this.#generator.framesSent++;
  }

  hangup(): void {
    if (this.#done) return;
    this.#done = true;
    this.#generator.finished++;
    this.#generator.remove(this);
    this.#socket.end(encodeHangup());
  }

  fail(): void {
    if (this.#done) return;
    this.#done = true;
    this.#generator.failed++;
    this.#generator.remove(this);
  }

  closed(): void {
    // A server that closes before our hangup failed the call.
    if (!this.#done) this.fail();
  }

  #receive(message: Message, at: number): void {
    if (message.kind === Kind.Hangup) return;
    if (!isAudioKind(message.kind) || message.payload.length === 0) return this.#violation();
    const generator = this.#generator;
    generator.framesReceived++;
    if (this.#lastArrival >= 0) generator.arrivalGaps.record(at - this.#lastArrival);
    this.#lastArrival = at;
    const seq = readStamp(message.payload);
    if (seq < 0) return;
    if (generator.options.returns === 'play') {
      generator.framesPlayed++;
      if (this.#lastPlayed >= 0 && seq > this.#lastPlayed + 1) generator.framesSkipped += seq - this.#lastPlayed - 1;
      this.#lastPlayed = seq;
      return;
    }
    generator.framesEchoed++;
    if (this.#seq - seq <= SEND_TIME_SLOTS) generator.echoLatency.record(at - this.#sendTimes[seq % SEND_TIME_SLOTS]!);
  }

  #violation(): void {
    this.#generator.violations++;
    this.#socket.destroy();
    this.fail();
  }
}
