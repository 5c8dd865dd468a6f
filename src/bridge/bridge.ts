import { EventEmitter } from 'node:events';
import type { Call, ClearedAudio, DtmfInfo } from '../call';
import { monoToStereo } from '../dsp/channels';
import { AudioSocketError, ErrorCode } from '../errors';
import { AudioStreamDialect } from './audio-stream';
import { Connection, type BridgeErrorInfo } from './connection';
import { ToCallRate } from './convert';
import type { BridgePlayInfo, Dialect, DialectHost } from './dialect';
import type { BridgeDialect, ResolvedBridgeOptions } from './options';
import { leftChannel, Playback } from './playback';
import { TwilioDialect } from './twilio';
import { Upstream } from './upstream';

/** The events of a {@link Bridge}, with their arguments. */
export interface BridgeEvents {
  /** A connection to the service opened (its greeting is sent); `reconnected` after the first. */
  connect: [info: { reconnected: boolean }];
  /** An open connection closed, with the WebSocket close code and reason. */
  disconnect: [info: { code: number; reason: string }];
  /**
   * A connection attempt failed (ERR_AUDIOSOCKET_BRIDGE_CONNECTION, with retries, waitMs and
   * httpStatus), the backlog overflowed (ERR_AUDIOSOCKET_BRIDGE_OVERFLOW), or a message from
   * the service was unusable. The call goes on. Without a listener, errors go to the call's
   * 'error' event (or the server's 'callError'), never thrown.
   */
  error: [error: AudioSocketError, info: BridgeErrorInfo];
  /** A JSON message from the service that the dialect does not consume itself. */
  json: [message: unknown];
  /** audio_stream: a `streamAudio` message was queued for the caller. */
  play: [info: BridgePlayInfo];
  /** The bridge is finished (stopped, the call ended, or no connection will follow); its listeners on the call are gone. */
  close: [];
}

/** A bridge's counters: `bridge.stats()`. */
export interface BridgeStats {
  /** Whether a connection to the service is open. */
  connected: boolean;
  /** Connections opened so far (1 + reconnections). */
  connections: number;
  /** Audio frames held while the service is down or slow. */
  backlogFrames: number;
  /** Audio frames dropped because the backlog was full, since the start. */
  framesDropped: number;
  /** Control messages (text, marks, DTMF) dropped because the backlog was full, since the start. */
  messagesDropped: number;
}

/** What the service receives. */
export interface BridgeStreamFormat {
  /** L16 (signed 16-bit little-endian, audio_stream) or mu-law (Twilio). */
  encoding: 'L16' | 'audio/x-mulaw';
  /** Hz. */
  sampleRate: number;
  /** 2: interleaved, caller first (mod_audio_stream stereo; Twilio's two tracks go as separate messages). */
  channels: 1 | 2;
}

const NO_INFO: BridgeErrorInfo = Object.freeze({ retries: 0, waitMs: null, httpStatus: null });

/**
 * One call bridged to a WebSocket service: made by {@link bridgeToWebSocket}. Caller audio goes
 * to the service in its dialect; the service's audio is queued for the caller through the call's
 * paced playout. The call never depends on the service: while it is down or slow the bridge
 * holds a bounded backlog and reconnects; when the call ends the bridge stops and lets go of it.
 */
export class Bridge extends EventEmitter<BridgeEvents> {
  /** The call bridged. */
  readonly call: Call;
  /** The protocol spoken to the service. */
  readonly dialect: BridgeDialect;
  /** What the service receives: encoding, rate and channels. */
  readonly format: BridgeStreamFormat;
  /** Twilio: the stream's `streamSid`; null for audio_stream. */
  readonly streamSid: string | null;
  readonly #connection: Connection;
  readonly #playback: Playback;
  readonly #upstream: Upstream;
  readonly #dialect: Dialect;
  readonly #toCall: ToCallRate;
  readonly #backlogMs: number;
  #paused = false;
  #stopping: Promise<void> | null = null;
  #closed = false;

  /** @internal Use {@link bridgeToWebSocket}. */
  constructor(call: Call, options: ResolvedBridgeOptions) {
    super();
    this.call = call;
    this.dialect = options.dialect;
    const twilio = options.dialect === 'twilio';
    this.format = { encoding: twilio ? 'audio/x-mulaw' : 'L16', sampleRate: options.sampleRate, channels: options.channels };
    this.#backlogMs = options.backlogMs;
    this.#toCall = new ToCallRate(call.format.sampleRate);
    this.#playback = new Playback(call, options.mix !== 'mono');
    const host = this.#host();
    const dialect = twilio ? new TwilioDialect(host, { callId: call.id, ...options.twilio }) : new AudioStreamDialect(host, options.metadata);
    this.#dialect = dialect;
    this.streamSid = dialect instanceof TwilioDialect ? dialect.streamSid : null;
    this.#upstream = new Upstream(call.format.sampleRate, options.sampleRate, options.mix, options.bufferMs, this.#playback, (frame) => {
      if (!this.#paused) this.#dialect.audio(frame);
    });
    // Twilio's two tracks are two messages per frame.
    const backlogFrames = Math.ceil(options.backlogMs / options.bufferMs) * (twilio ? options.channels : 1);
    this.#connection = new Connection(options, backlogFrames, () => this.#dialect.greeting());
    this.#listen();
    call.on('audio', this.#onAudio);
    call.on('dtmf', this.#onDtmf);
    call.on('end', this.#onEnd);
    this.#connection.start();
  }

  /** Whether a connection to the service is open. */
  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Whether sending audio is paused (pause()). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Whether the bridge has finished ('close' was emitted). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a text message to the service (held in the backlog while it is away). */
  sendText(text: string): void {
    this.#assertOpen('sendText');
    this.#connection.send(text, false);
  }

  /** Stops sending audio (what the caller says meanwhile is not sent, nor held); messages still flow. */
  pause(): void {
    this.#assertOpen('pause');
    this.#paused = true;
  }

  /** Sends audio again after pause(). */
  resume(): void {
    this.#assertOpen('resume');
    this.#paused = false;
  }

  /**
   * Queues audio for the caller through the bridge, so that it is part of the played leg of the
   * `mixed` and `stereo` mixes (audio written straight to the call is not). Same contract as
   * call.write(): PCM16 in the call's format; false means wait for the call's 'drain'.
   */
  write(pcm: Int16Array): boolean {
    return this.#playback.write(pcm);
  }

  /** Barge-in through the bridge: call.clear(), and the played leg forgets the dropped audio. */
  clear(): ClearedAudio {
    const cleared = this.#playback.clear();
    this.#toCall.reset();
    return cleared;
  }

  /**
   * Ends the stream: the last partial frame and anything held are sent, then `metadata` (a text
   * message; an object goes as its JSON), then the dialect's end (Twilio's `stop`), then the
   * connection closes with 1000. Resolves once closed. The call goes on.
   */
  stop(metadata?: string | Record<string, unknown>): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#detach();
    if (!this.#closed) this.#upstream.flush();
    const farewell = metadata === undefined ? [] : [typeof metadata === 'string' ? metadata : JSON.stringify(metadata)];
    this.#stopping = this.#connection.stop([...farewell, ...this.#dialect.farewell()]);
    return this.#stopping;
  }

  /** The bridge's counters now. */
  stats(): BridgeStats {
    const { backlog } = this.#connection;
    return {
      connected: this.#connection.connected,
      connections: this.#connection.opened,
      backlogFrames: backlog.audioFrames,
      framesDropped: backlog.droppedAudio,
      messagesDropped: backlog.droppedControl,
    };
  }

  #onAudio = (pcm: Int16Array): void => {
    this.#upstream.push(this.call.format.channels === 2 ? leftChannel(pcm) : pcm);
  };

  #onDtmf = (digit: string, info: DtmfInfo): void => {
    if (info.state === 'end') this.#dialect.dtmf(digit);
  };

  #onEnd = (): void => {
    void this.stop();
  };

  #listen(): void {
    const connection = this.#connection;
    connection.on('open', (reconnected) => this.#guard('connect', () => this.emit('connect', { reconnected })));
    connection.on('disconnect', (code, reason) => this.#guard('disconnect', () => this.emit('disconnect', { code, reason })));
    connection.on('failure', (error, info) => this.#guard('error', () => this.#report(error, info)));
    connection.on('overflow', () =>
      this.#guard('error', () =>
        this.#report(
          new AudioSocketError(
            ErrorCode.BRIDGE_OVERFLOW,
            `${connection.target} is not taking audio: more than ${this.#backlogMs} ms held, dropping the oldest (stats().framesDropped)`,
          ),
        ),
      ),
    );
    connection.on('message', (data, isBinary) => {
      if (!this.#stopping) this.#guard('json', () => this.#dialect.receive(data, isBinary));
    });
    connection.on('end', () => {
      this.#detach();
      this.#closed = true;
      this.#guard('close', () => this.emit('close'));
    });
  }

  /** What the dialect may do: bound here so the dialect never sees the bridge itself. */
  #host(): DialectHost {
    return {
      playAudio: (pcm, sampleRate) => {
        try {
          const mono = this.#toCall.convert(pcm, sampleRate);
          this.#playback.write(this.call.format.channels === 2 ? monoToStereo(mono) : mono);
        } catch (error) {
          this.#report(error as AudioSocketError);
          return null;
        }
        return (pcm.length * 1000) / sampleRate;
      },
      reached: () => this.#playback.reached(),
      clear: () => void this.clear(),
      send: (item, audio) => this.#connection.send(item, audio),
      json: (message) => this.emit('json', message),
      play: (info) => this.emit('play', info),
      error: (error) => this.#report(error),
    };
  }

  #report(error: AudioSocketError, info: BridgeErrorInfo = NO_INFO): void {
    if (this.listenerCount('error') > 0) this.emit('error', error, info);
    else if (!this.call.ended) this.call._error(error);
  }

  /**
   * Runs an application handler reached from a socket or timer callback: one that throws ends
   * its call (ERR_AUDIOSOCKET_HANDLER_FAILED), as a throwing call handler does, and nothing else.
   */
  #guard(event: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.call._handlerFailed(error, `bridge ${event}`);
    }
  }

  #detach(): void {
    this.call.off('audio', this.#onAudio);
    this.call.off('dtmf', this.#onDtmf);
    this.call.off('end', this.#onEnd);
  }

  #assertOpen(what: string): void {
    if (this.#stopping || this.#closed) throw new AudioSocketError(ErrorCode.BRIDGE_CLOSED, `${what}: the bridge of call ${this.call.id} has ${this.#closed ? 'closed' : 'stopped'}`);
  }
}
