import type { Socket } from 'node:net';
import type { G711Codec } from '../../dsp/g711';
import { AudioSocketError, ErrorCode } from '../../errors';
import { FrameDecoder } from '../../protocol/decode';
import { HEADER_LENGTH, encodeHangup } from '../../protocol/encode';
import { kindForSampleRate } from '../../protocol/kind';
import type { Message } from '../../protocol/message';
import type { CallStats, EndReason, EngineConfig, EngineEvent, RemoteAddress } from '../contract';
import { appFormat, type AudioFormat } from '../../format';
import { Inbound, encodePayload, wireLaw } from './format';
import { FrameKind, Playout } from './playout';
import { G711Detector } from './wire-detect';

/** Bytes Asterisk may leave unread in our socket buffer before frames are dropped instead (~1 s at 48 kHz). */
const MAX_UNSENT_BYTES = 128 * 1024;
/** Caller audio per frame, ms. */
const FRAME_MS = 20;
/** After our 0x00, how long the peer has to close before the socket is destroyed, ms. */
const CLOSE_GRACE_MS = 2000;

/** How every AudioSocket connection opens: a UUID message announcing 16 bytes. */
const UUID_HEADER = [0x01, 0x00, 0x10];

const enum State {
  /** Waiting for the UUID. */
  Handshake,
  /** A call: audio both ways. */
  Active,
  /** 0x00 sent (or received): waiting for the socket to close. */
  Closing,
  Closed,
}

/** What a connection needs from its engine. */
export interface ConnectionHost {
  readonly config: EngineConfig;
  emit(event: EngineEvent): void;
  /** Clock time in ms (monotonic) and the clock's next tick. */
  now(): number;
  nextTick(): number;
  /** The connection became a call: returns its handle. */
  register(connection: Connection): number;
  /** The socket is gone. */
  release(connection: Connection): void;
}

/**
 * One AudioSocket connection in the TypeScript engine: handshake, then a call. Reads are never
 * paused (Asterisk must always be drained); every frame out is one write() of one buffer.
 */
export class Connection {
  readonly remote: RemoteAddress;
  handle = -1;
  #socket: Socket;
  #host: ConnectionHost;
  #decoder: FrameDecoder;
  #state = State.Handshake;
  #deadline: number;
  #playout: Playout;
  /** Caller audio to the app format, and (wire 'auto') the watch for G.711 labelled 0x10; set when the call starts. */
  #inbound: Inbound | null = null;
  #detector: G711Detector | null = null;
  /** The application has settled the call's format (open()); until then caller audio is held. */
  #opened = false;
  #held: Array<{ kind: number; sampleRate: number; payload: Uint8Array }> = [];
  #heldOverflowing = false;
  /** Kind, codec and wire samples of every frame sent. */
  #frameKind: number;
  #law: G711Codec | null;
  #frame: Int16Array;
  #marks: number[] = [];
  #draining = false;
  #openingBytes = 0;
  /** Frames are being dropped because the peer is not reading: told once, until a frame goes out. */
  #outboundOverflowing = false;
  readonly stats: Omit<CallStats, 'queuedMs' | 'underruns' | 'latencyDroppedMs'> = {
    framesIn: 0,
    framesOut: 0,
    silenceFramesOut: 0,
    maxLatenessMs: 0,
    framesDropped: 0,
    inboundDropped: 0,
  };

  constructor(socket: Socket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    const config = host.config;
    this.remote = {
      address: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4',
    };
    this.#decoder = new FrameDecoder({ maxPayload: config.maxPayload });
    this.#deadline = host.now() + config.handshakeTimeoutMs;
    this.#playout = new Playout(config);
    this.#frameKind = kindForSampleRate(config.outputRate)!;
    this.#law = wireLaw(config.wire);
    this.#frame = new Int16Array(this.#playout.frameSamples);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  get isCall(): boolean {
    return this.handle >= 0;
  }

  get isOpen(): boolean {
    return this.#state === State.Handshake || this.#state === State.Active;
  }

  get playout(): Playout {
    return this.#playout;
  }

  /**
   * Lets caller audio flow, converted to `format` (null: the server's), which writes are then
   * read as too; delivers what was held meanwhile. Called once, before any write.
   */
  open(format: AudioFormat | null): void {
    if (this.#opened) throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `call ${this.handle} is open already`);
    const config = this.#host.config;
    if (format && (format.sampleRate !== config.sampleRate || format.channels !== config.channels)) {
      const { sampleRate, channels } = appFormat(format, config);
      this.#playout = new Playout({ ...config, sampleRate, channels });
      this.#inbound = new Inbound(config.wire, sampleRate, channels);
    }
    this.#opened = true;
    for (const held of this.#held.splice(0)) this.#deliver(held.kind, held.sampleRate, held.payload);
  }

  callStats(): CallStats {
    const playout = this.#playout;
    return { ...this.stats, underruns: playout.underruns, queuedMs: playout.queuedMs, latencyDroppedMs: playout.latencyDroppedMs };
  }

  /** One clock tick: deadlines, then this call's frame. */
  tick(tick: number, lateMs: number, now: number): void {
    if (this.#state === State.Handshake) {
      if (now >= this.#deadline) {
        this.#reject(new AudioSocketError(ErrorCode.HANDSHAKE_TIMEOUT, `no UUID within ${this.#host.config.handshakeTimeoutMs} ms`), true);
      }
      return;
    }
    if (this.#state === State.Closing) {
      if (now >= this.#deadline) this.#socket.destroy();
      return;
    }
    if (this.#state !== State.Active) return;
    if (lateMs > this.stats.maxLatenessMs) this.stats.maxLatenessMs = lateMs;

    const playout = this.#playout;
    const kind = playout.nextFrame(tick, this.#frame, this.#marks);
    if (kind !== FrameKind.Nothing) this.#send(kind === FrameKind.Silence);
    for (const mark of this.#marks) this.#host.emit({ type: 'mark', call: this.handle, mark });
    this.#marks.length = 0;
    if (playout.takeDrain()) this.#host.emit({ type: 'drain', call: this.handle });
    if (this.#draining && playout.queuedSamples === 0) this.hangup('server-close');
  }

  /** Hang up once the queue has played out (server.close with drainMs). */
  drain(): void {
    if (this.#state === State.Handshake) this.hangup('server-close');
    this.#draining = true;
  }

  /** Sends 0x00, ends the call with `reason`, and closes the socket once the peer has. */
  hangup(reason: EndReason, error: AudioSocketError | null = null): void {
    if (!this.isOpen) return;
    const wasCall = this.#state === State.Active;
    this.#socket.write(encodeHangup());
    this.#socket.end();
    this.#state = State.Closing;
    this.#deadline = this.#host.now() + CLOSE_GRACE_MS;
    if (wasCall) this.#end(reason, error);
  }

  /** This tick's frame, encoded into one message and written. */
  #send(silence: boolean): void {
    if (this.#socket.writableLength > MAX_UNSENT_BYTES) {
      this.stats.framesDropped++;
      if (!this.#outboundOverflowing) {
        this.#outboundOverflowing = true;
        this.#warn(
          new AudioSocketError(
            ErrorCode.OUTBOUND_OVERFLOW,
            `the peer is not reading: over ${MAX_UNSENT_BYTES} bytes unsent, frames are dropped until it reads again (stats().framesDropped)`,
          ),
        );
      }
      return;
    }
    this.#outboundOverflowing = false;
    const payloadLength = this.#frame.length * (this.#law ? 1 : 2);
    const message = Buffer.allocUnsafe(HEADER_LENGTH + payloadLength);
    message[0] = this.#frameKind;
    message[1] = payloadLength >> 8;
    message[2] = payloadLength & 0xff;
    encodePayload(this.#law, this.#frame, message.subarray(HEADER_LENGTH));
    this.#socket.write(message);
    this.stats.framesOut++;
    if (silence) this.stats.silenceFramesOut++;
  }

  #onData = (chunk: Buffer): void => {
    if (!this.isOpen) return; // after our 0x00: keep reading so the close is clean, ignore the rest
    if (this.#state === State.Handshake && !this.#checkOpening(chunk)) return;
    try {
      this.#decoder.feed(chunk, this.#onMessage);
    } catch (error) {
      this.#fail(error as AudioSocketError);
    }
  };

  #onMessage = (message: Message): void => {
    if (this.#state === State.Handshake) return this.#handshake(message);
    if (this.#state !== State.Active) return;
    switch (message.type) {
      case 'audio':
        return this.#audio(message.kind, message.sampleRate, message.payload);
      case 'dtmf':
        return this.#host.emit({
          type: 'dtmf',
          call: this.handle,
          digit: message.digit,
          state: message.state ?? 'end',
          durationMs: message.durationMs ?? null,
        });
      case 'hangup':
        this.#state = State.Closing;
        this.#deadline = this.#host.now() + CLOSE_GRACE_MS;
        this.#socket.end();
        return this.#end('remote-hangup', null);
      case 'silence':
        return;
      case 'invalid':
        return this.#warn(new AudioSocketError(message.error, `malformed message of kind 0x${hex(message.kind)} (${message.payload.length} bytes)`));
      case 'uuid':
        return this.#warn(new AudioSocketError(ErrorCode.UNEXPECTED_MESSAGE, `a second UUID (${message.id}) on call ${this.handle}`));
      case 'error':
        return this.#warn(new AudioSocketError(ErrorCode.UNEXPECTED_MESSAGE, `the peer sent an error message (code ${message.code})`));
      case 'unknown':
        return this.#warn(new AudioSocketError(ErrorCode.UNEXPECTED_MESSAGE, `unknown message kind 0x${hex(message.kind)}`));
    }
  };

  /**
   * Judges the first bytes before anything is buffered: Asterisk always opens with exactly
   * `01 00 10`, so a peer that does not (an HTTP probe, a port scanner) is turned away at once
   * instead of being waited on for a payload its garbage "header" announced.
   */
  #checkOpening(chunk: Uint8Array): boolean {
    for (let i = 0; i < chunk.length && this.#openingBytes < UUID_HEADER.length; i++, this.#openingBytes++) {
      if (chunk[i] === UUID_HEADER[this.#openingBytes]) continue;
      const error =
        this.#openingBytes === 0
          ? new AudioSocketError(ErrorCode.NO_UUID, `the first message is of kind 0x${hex(chunk[i]!)}, not a UUID`)
          : new AudioSocketError(ErrorCode.BAD_UUID, 'the UUID message does not announce 16 bytes');
      this.#reject(error, true);
      return false;
    }
    return true;
  }

  #handshake(message: Message): void {
    if (message.type === 'uuid') {
      const config = this.#host.config;
      this.#state = State.Active;
      this.#inbound = new Inbound(config.wire, config.sampleRate, config.channels);
      if (config.wire === 'auto') this.#detector = new G711Detector();
      this.handle = this.#host.register(this);
      this.#host.emit({ type: 'call', call: this.handle, id: message.id, remote: this.remote, wire: { kind: this.#frameKind, sampleRate: config.outputRate } });
      return;
    }
    const error =
      message.type === 'invalid' && message.kind === 0x01
        ? new AudioSocketError(ErrorCode.BAD_UUID, `a UUID message of ${message.payload.length} bytes (16 expected)`)
        : new AudioSocketError(ErrorCode.NO_UUID, `the first message was of kind 0x${hex(message.kind)}, not a UUID`);
    this.#reject(error, true);
  }

  #audio(kind: number, sampleRate: number, payload: Uint8Array): void {
    this.stats.framesIn++;
    const detected = this.#detector?.frame(kind, payload.length, this.#host.now());
    if (detected) this.#warn(detected);
    if (payload.length === 0) {
      return this.#warn(new AudioSocketError(ErrorCode.EMPTY_AUDIO, 'zero-length audio frame ignored'));
    }
    const inbound = this.#inbound!;
    if (!inbound.lawOf(kind) && payload.length % 2 !== 0) {
      this.#warn(new AudioSocketError(ErrorCode.ODD_AUDIO, `audio frame of ${payload.length} bytes: the last byte is dropped`));
      if (payload.length === 1) return;
    }
    if (this.#opened) return this.#deliver(kind, sampleRate, payload);
    // Held until the application settles the format; no more than the backlog allows (the
    // facade opens every call as soon as it sees it, so this is a few frames at most).
    if (this.#held.length < this.#host.config.inboundBacklogMs / FRAME_MS) {
      this.#held.push({ kind, sampleRate, payload: payload.slice() });
      return;
    }
    this.stats.inboundDropped++;
    if (!this.#heldOverflowing) {
      this.#heldOverflowing = true;
      this.#warn(new AudioSocketError(ErrorCode.INBOUND_OVERFLOW, 'caller audio arrived before the call was opened, more than inboundBacklogMs of it: newer frames are dropped until it is'));
    }
  }

  /** Converts one frame of caller audio to the call's format and hands it on. */
  #deliver(kind: number, sampleRate: number, payload: Uint8Array): void {
    const pcm = this.#inbound!.convert(kind, sampleRate, payload);
    if (pcm.length > 0) this.#host.emit({ type: 'audio', call: this.handle, pcm });
  }

  #warn(error: AudioSocketError): void {
    this.#host.emit({ type: 'error', call: this.handle, error });
  }

  /** A fatal error: the call (or the would-be call) ends, the peer gets 0x00. */
  #fail(error: AudioSocketError): void {
    if (this.#state === State.Handshake) return this.#reject(error, true);
    this.hangup('error', error);
  }

  #reject(error: AudioSocketError, sendHangup: boolean): void {
    if (this.#state !== State.Handshake) return;
    this.#host.emit({ type: 'reject', remote: this.remote, error });
    if (sendHangup) {
      this.#socket.write(encodeHangup());
      this.#socket.end();
      this.#state = State.Closing;
      this.#deadline = this.#host.now() + CLOSE_GRACE_MS;
    } else {
      this.#state = State.Closed;
      this.#socket.destroy();
    }
  }

  #end(reason: EndReason, error: AudioSocketError | null): void {
    const stats = this.callStats();
    const { clearedMs, marks } = this.#playout.abandon();
    // Marks whose audio is all out but that no tick has reported yet (a mark on an empty queue,
    // or while paused): reported now, or they would never be.
    this.#playout.takeReachedMarks(this.#marks);
    for (const mark of this.#marks) this.#host.emit({ type: 'mark', call: this.handle, mark });
    this.#marks.length = 0;
    this.#host.emit({ type: 'end', call: this.handle, reason, error, unplayedMs: clearedMs, marks, stats });
  }

  #onEnd = (): void => {
    // The peer half-closed: it sends nothing more. End the call and finish our side.
    if (this.#state === State.Handshake) {
      return this.#reject(new AudioSocketError(ErrorCode.NO_UUID, 'the peer closed the connection before sending a UUID'), false);
    }
    if (this.#state === State.Active) {
      if (this.#decoder.buffered > 0) {
        this.#warn(new AudioSocketError(ErrorCode.TRUNCATED, `the connection closed inside a message (${this.#decoder.buffered} bytes of it received)`));
      }
      this.#state = State.Closing;
      this.#deadline = this.#host.now() + CLOSE_GRACE_MS;
      this.#end('remote-hangup', null);
    }
    this.#socket.end();
  };

  #onError = (cause: Error): void => {
    const error = new AudioSocketError(ErrorCode.SOCKET, `socket error: ${cause.message}`, { cause });
    if (this.#state === State.Handshake) this.#reject(error, false);
    else if (this.#state === State.Active) {
      this.#state = State.Closing;
      this.#end('error', error);
    }
  };

  #onClose = (): void => {
    if (this.#state === State.Active) this.#end('remote-hangup', null);
    else if (this.#state === State.Handshake) {
      this.#host.emit({ type: 'reject', remote: this.remote, error: new AudioSocketError(ErrorCode.NO_UUID, 'the connection closed before a UUID') });
    }
    this.#state = State.Closed;
    this.#host.release(this);
  };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
