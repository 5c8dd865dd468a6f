import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { g711, type G711Codec } from './dsp/g711';
import { SharedClock } from './engine/clock';
import type { WireCodec } from './engine/contract';
import { AudioSocketError, ErrorCode } from './errors';
import { FrameDecoder } from './protocol/decode';
import { encodeAudio, encodeDtmf, encodeHangup, encodeMessage, encodeUuid, frameBytes, pcmBytes } from './protocol/encode';
import { Kind } from './protocol/kind';
import type { Message } from './protocol/message';

/** Options of {@link AudioSocketClient.connect}. */
export interface ClientOptions {
  /** The server's address (default `127.0.0.1`). */
  host?: string;
  /** The server's port. */
  port: number;
  /** The call's UUID (default: a random one). */
  id?: string;
  /** Rate of the audio sent, choosing its kind (default 8000: 0x10). */
  sampleRate?: number;
  /**
   * What the audio sent is (default `slin`). `ulaw` / `alaw`: PCM given as an Int16Array is sent
   * G.711-encoded in 0x10 frames, 160 bytes per 20 ms, as Asterisk does for `Dial()` without
   * `c(slin)` (bytes given as a Uint8Array are sent as they are); `sampleRate` must be 8000.
   * Frames received are kept as they arrive: decode them with `audiosocket/dsp`.
   */
  wire?: WireCodec;
  /**
   * Behave like Asterisk 20.14+'s reader: drop the call on any kind but hangup and audio, on
   * zero-length audio, on a payload arriving more than 5 ms after its header, and after 2 s
   * with no audio either way. Each drop is a 'violation' (ERR_AUDIOSOCKET_STRICT_VIOLATION).
   */
  strict?: boolean;
  /** Strict mode's inactivity limit, ms (default 2000, as the dialplan app). */
  inactivityMs?: number;
  /** Keep every frame received in `received` (default true; turn off for long load runs). */
  record?: boolean;
}

/** One audio frame the server sent, as received. */
export interface ReceivedFrame {
  /** Its kind (0x10-0x18). */
  kind: number;
  /** Its payload, as sent (slin, or G.711 on such a wire). */
  payload: Uint8Array;
  /** performance.now() when its last byte arrived, ms. */
  at: number;
}

/** How a client's connection ended. */
export interface ClientEnd {
  /** The server sent 0x00. */
  hangupReceived: boolean;
  /** Strict mode dropped the call, and why. */
  violation: AudioSocketError | null;
}

/** The events of {@link AudioSocketClient}, with their arguments. */
export interface ClientEvents {
  /** A frame of audio from the server. */
  audio: [payload: Uint8Array, at: number];
  /** Any message from the server. */
  message: [message: Message, at: number];
  /** The server sent 0x00. */
  hangup: [];
  /** Strict mode dropped the call (ERR_AUDIOSOCKET_STRICT_VIOLATION), and why. */
  violation: [error: AudioSocketError];
  /** The connection closed. */
  close: [end: ClientEnd];
}

/** Largest gap, in ms, allowed between a header and the rest of its message in strict mode (20.15+ waits 5 ms). */
const STRICT_SPLIT_MS = 5;

/**
 * The Asterisk side of an AudioSocket connection, for tests, simulators and load generators:
 * connects, sends the UUID as Asterisk does (one write), streams PCM paced on one clock shared
 * by every client of the process, and records what comes back with arrival times.
 */
export class AudioSocketClient extends EventEmitter<ClientEvents> {
  /** The call's UUID. */
  readonly id: string;
  /** Rate of the audio sent, Hz. */
  readonly sampleRate: number;
  /** What the audio sent is: slin, or G.711. */
  readonly wire: WireCodec;
  /** Whether Asterisk 20.14+'s reader rules apply to what the server sends. */
  readonly strict: boolean;
  /** Frames received, when `record` is on. */
  readonly received: ReceivedFrame[] = [];
  /** Messages sent, the UUID included. */
  messagesSent = 0;
  /** Audio messages sent. */
  audioFramesSent = 0;
  #socket: Socket;
  #law: G711Codec | null;
  #decoder = new FrameDecoder();
  #record: boolean;
  #inactivityMs: number;
  #lastActivity = performance.now();
  #partialSince: number | null = null;
  #hangupReceived = false;
  #violation: AudioSocketError | null = null;
  #closed: Promise<ClientEnd>;

  private constructor(socket: Socket, options: ClientOptions) {
    super();
    this.#socket = socket;
    this.id = options.id ?? randomUUID();
    this.sampleRate = options.sampleRate ?? 8000;
    frameBytes(this.sampleRate, 20); // validates the rate
    this.wire = options.wire ?? 'slin';
    this.#law = this.wire === 'slin' ? null : g711(this.wire);
    if (this.#law && this.sampleRate !== 8000) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `G.711 (wire: '${this.wire}') is 8000 Hz, not ${this.sampleRate}`);
    }
    this.strict = options.strict ?? false;
    this.#record = options.record ?? true;
    this.#inactivityMs = options.inactivityMs ?? 2000;
    this.#closed = new Promise((resolve) => {
      socket.on('close', () => {
        pacer.remove(this);
        const end = { hangupReceived: this.#hangupReceived, violation: this.#violation };
        this.emit('close', end);
        resolve(end);
      });
    });
    socket.on('error', () => {}); // the close event reports the end
    socket.on('data', this.#onData);
  }

  /** Connects and sends the UUID. */
  static connect(options: ClientOptions): Promise<AudioSocketClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        let client: AudioSocketClient;
        try {
          client = new AudioSocketClient(socket, options);
        } catch (error) {
          // Bad options: a rejection for the caller, never an exception in a socket callback.
          socket.destroy();
          return reject(error);
        }
        client.sendRaw(encodeUuid(client.id));
        if (client.strict) pacer.watch(client);
        resolve(client);
      });
    });
  }

  /** Resolves when the connection has closed. */
  get closed(): Promise<ClientEnd> {
    return this.#closed;
  }

  /** Local port of the connection (handy to match server-side logs). */
  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }

  /** One audio message: PCM (G.711-encoded on a `ulaw`/`alaw` wire), or bytes as they are. */
  sendAudio(pcm: Int16Array | Uint8Array): void {
    this.sendRaw(this.#law ? encodeMessage(Kind.Slin8k, this.#wireBytes(pcm)) : encodeAudio(pcm, this.sampleRate));
    this.audioFramesSent++;
    this.#lastActivity = performance.now();
  }

  /** Asterisk's 0x03 DTMF. */
  sendDtmf(digit: string): void {
    this.sendRaw(encodeDtmf(digit));
  }

  /** The CyCoreSystems fork's DTMF (kind 0x02, 6 bytes). */
  sendForkDtmf(digit: string, state: 'start' | 'end', durationMs: number): void {
    const payload = Buffer.alloc(6);
    payload[0] = state === 'start' ? 1 : 0;
    payload[1] = encodeDtmf(digit)[3]!;
    payload.writeUInt32LE(durationMs, 2);
    this.sendRaw(encodeMessage(Kind.Silence, payload));
  }

  /** Any bytes, in one write (for malformed-input tests). */
  sendRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
    this.messagesSent++;
  }

  /**
   * Sends `pcm` as frames of `frameMs`, one per frame period on the shared clock (or all at once
   * with `realtime: false`). Resolves when the last frame is written.
   */
  play(pcm: Int16Array | Uint8Array, options: { frameMs?: number; realtime?: boolean } = {}): Promise<void> {
    const size = frameBytes(this.sampleRate, options.frameMs ?? 20) / (this.#law ? 2 : 1);
    const bytes = this.#wireBytes(pcm);
    const frames: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; at += size) frames.push(bytes.subarray(at, at + size));
    if (options.realtime === false) {
      for (const frame of frames) this.sendAudio(frame);
      return Promise.resolve();
    }
    return pacer.play(this, frames);
  }

  /** What `pcm` is on this client's wire: G.711 codes or little-endian slin (bytes as they are). */
  #wireBytes(pcm: Int16Array | Uint8Array): Uint8Array {
    return this.#law && pcm instanceof Int16Array ? this.#law.encode(pcm) : pcmBytes(pcm);
  }

  /** Sends 0x00 and closes, as Asterisk does when the caller hangs up. */
  hangup(): Promise<ClientEnd> {
    if (!this.#socket.destroyed) {
      this.#socket.write(encodeHangup());
      this.#socket.end();
    }
    return this.#closed;
  }

  /** Closes without a 0x00. */
  end(): Promise<ClientEnd> {
    this.#socket.end();
    return this.#closed;
  }

  /** Resets the connection. */
  destroy(): void {
    this.#socket.resetAndDestroy();
  }

  /** @internal Strict mode's inactivity check, run by the shared clock. */
  _checkInactivity(now: number): void {
    if (now - this.#lastActivity > this.#inactivityMs) {
      this.#violate(`no audio either way for ${this.#inactivityMs} ms`);
    }
  }

  #onData = (chunk: Buffer): void => {
    const at = performance.now();
    if (this.strict && this.#partialSince !== null && at - this.#partialSince > STRICT_SPLIT_MS) {
      return this.#violate(`the rest of a message arrived ${(at - this.#partialSince).toFixed(1)} ms after its start`);
    }
    try {
      this.#decoder.feed(chunk, (message) => this.#onMessage(message, at));
    } catch (error) {
      return this.#violate((error as Error).message);
    }
    this.#partialSince = this.#decoder.buffered > 0 ? (this.#partialSince ?? at) : null;
  };

  #onMessage(message: Message, at: number): void {
    if (this.#violation) return;
    this.emit('message', message, at);
    if (message.type === 'hangup') {
      this.#hangupReceived = true;
      this.emit('hangup');
      return;
    }
    if (message.type === 'audio' && message.payload.length > 0) {
      this.#lastActivity = at;
      if (this.#record) this.received.push({ kind: message.kind, payload: Uint8Array.from(message.payload), at });
      this.emit('audio', message.payload, at);
      return;
    }
    if (this.strict) {
      const what = message.type === 'audio' ? 'zero-length audio' : `a message of kind 0x${message.kind.toString(16).padStart(2, '0')}`;
      this.#violate(`${what}: Asterisk 20.14+ hangs up`);
    }
  }

  #violate(reason: string): void {
    if (this.#violation) return;
    this.#violation = new AudioSocketError(ErrorCode.STRICT_VIOLATION, reason);
    this.emit('violation', this.#violation);
    this.#socket.destroy();
  }
}

interface Playback {
  client: AudioSocketClient;
  frames: Uint8Array[];
  next: number;
  done: () => void;
}

/**
 * One clock for every client in the process: paced sends and strict-mode inactivity checks,
 * so a load generator with thousands of calls runs one timer, not thousands.
 */
class ClientPacer {
  #playbacks = new Set<Playback>();
  #watched = new Set<AudioSocketClient>();
  #clock = new SharedClock(() => this.#tick());

  play(client: AudioSocketClient, frames: Uint8Array[]): Promise<void> {
    if (frames.length === 0) return Promise.resolve();
    return new Promise((done) => {
      this.#playbacks.add({ client, frames, next: 0, done });
      this.#clock.start();
    });
  }

  watch(client: AudioSocketClient): void {
    this.#watched.add(client);
    this.#clock.start();
  }

  remove(client: AudioSocketClient): void {
    this.#watched.delete(client);
    for (const playback of this.#playbacks) {
      if (playback.client === client) {
        this.#playbacks.delete(playback);
        playback.done();
      }
    }
    this.#stopIfIdle();
  }

  #tick(): void {
    for (const playback of this.#playbacks) {
      playback.client.sendAudio(playback.frames[playback.next++]!);
      if (playback.next === playback.frames.length) {
        this.#playbacks.delete(playback);
        playback.done();
      }
    }
    const now = performance.now();
    for (const client of this.#watched) client._checkInactivity(now);
    this.#stopIfIdle();
  }

  #stopIfIdle(): void {
    if (this.#playbacks.size === 0 && this.#watched.size === 0) this.#clock.stop();
  }
}

const pacer = new ClientPacer();
