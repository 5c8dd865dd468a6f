import { randomBytes } from 'node:crypto';
import { ulaw } from '../dsp/g711';
import { AudioSocketError, ErrorCode } from '../errors';
import type { Outgoing } from './connection';
import type { Dialect, DialectHost } from './dialect';

/** Twilio's rate and frame: 8 kHz mu-law, 20 ms (160 bytes) per media message. */
const TWILIO_RATE = 8000;
const CHUNK_SAMPLES = 160;

type Track = 'inbound' | 'outbound';

export interface TwilioSettings {
  /** Becomes the `callSid`: the call's UUID. */
  callId: string;
  accountSid: string;
  tracks: 'inbound' | 'both';
  customParameters: Record<string, string>;
}

/**
 * Twilio Media Streams' protocol, as `<Connect><Stream>` speaks it. To the service, per
 * connection: `connected`, `start` (streamSid, callSid = the call's UUID, tracks,
 * customParameters, mediaFormat audio/x-mulaw 8000 mono), then `media` (base64 mu-law, 20 ms,
 * with sequenceNumber, chunk and timestamp as strings, as Twilio sends them), `dtmf`, the `mark`
 * echoes, and `stop` at the end. sequenceNumber and chunk count from 1 on each connection;
 * timestamp is the chunk's position in the call's stream, ms. From the service: `media` (queued
 * for the caller), `mark` (echoed once the audio before it has played, or at once when a
 * `clear` drops it, as Twilio does), `clear` (barge-in); other JSON is the bridge's `json` event.
 */
export class TwilioDialect implements Dialect {
  /** `MZ` and 32 hex digits, as Twilio's; the same across reconnections of one bridge. */
  readonly streamSid = `MZ${randomBytes(16).toString('hex')}`;
  readonly #host: DialectHost;
  readonly #settings: TwilioSettings;
  #sequence = 0;
  readonly #chunks = { inbound: 0, outbound: 0 };
  /** Samples per track sent since the bridge started: the media timestamp. */
  #position = 0;
  readonly #codes = new Uint8Array(CHUNK_SAMPLES);
  readonly #track = new Int16Array(CHUNK_SAMPLES);

  constructor(host: DialectHost, settings: TwilioSettings) {
    this.#host = host;
    this.#settings = settings;
  }

  greeting(): Outgoing[] {
    this.#sequence = 0;
    this.#chunks.inbound = 0;
    this.#chunks.outbound = 0;
    const { callId, accountSid, tracks, customParameters } = this.#settings;
    return [
      JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }),
      this.#message('start', {
        start: {
          accountSid,
          streamSid: this.streamSid,
          callSid: callId,
          tracks: tracks === 'both' ? ['inbound', 'outbound'] : ['inbound'],
          customParameters,
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: TWILIO_RATE, channels: 1 },
        },
      }),
    ];
  }

  audio(frame: Int16Array): void {
    const timestamp = String(Math.round((this.#position * 1000) / TWILIO_RATE));
    if (this.#settings.tracks === 'inbound') {
      this.#media('inbound', frame, timestamp);
      this.#position += frame.length;
      return;
    }
    const samples = frame.length / 2;
    for (const [track, channel] of [['inbound', 0], ['outbound', 1]] as const) {
      for (let i = 0; i < samples; i++) this.#track[i] = frame[2 * i + channel]!;
      this.#media(track, this.#track.subarray(0, samples), timestamp);
    }
    this.#position += samples;
  }

  dtmf(digit: string): void {
    this.#host.send(this.#message('dtmf', { dtmf: { track: 'inbound_track', digit } }), false);
  }

  farewell(): Outgoing[] {
    const { accountSid, callId } = this.#settings;
    return [this.#message('stop', { stop: { accountSid, callSid: callId } })];
  }

  receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) return this.#error(`a binary message of ${data.length} bytes: Twilio Media Streams are JSON text`);
    let message: { event?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return this.#error(`a text message that is not JSON: ${JSON.stringify(data.toString('utf8', 0, 80))}`);
    }
    switch (message?.event) {
      case 'media': {
        const payload = message.media?.payload;
        if (typeof payload !== 'string') return this.#error('media without a base64 payload');
        this.#host.playAudio(ulaw.decode(Buffer.from(payload, 'base64')), TWILIO_RATE);
        return;
      }
      case 'mark': {
        const name = message.mark?.name;
        if (typeof name !== 'string') return this.#error('mark without a name');
        void this.#host.reached().then((reached) => {
          if (reached) this.#host.send(this.#message('mark', { mark: { name } }), false);
        });
        return;
      }
      case 'clear':
        return this.#host.clear();
      default:
        this.#host.json(message);
    }
  }

  /** One media message: encoded now, numbered when sent (chunk per track, per connection). */
  #media(track: Track, pcm: Int16Array, timestamp: string): void {
    ulaw.encodeInto(pcm, this.#codes);
    const payload = Buffer.from(this.#codes.buffer, 0, pcm.length).toString('base64');
    this.#host.send(
      () =>
        JSON.stringify({
          event: 'media',
          sequenceNumber: String(++this.#sequence),
          media: { track, chunk: String(++this.#chunks[track]), timestamp, payload },
          streamSid: this.streamSid,
        }),
      true,
    );
  }

  /** A message numbered when sent, as every message but `connected` is. */
  #message(event: string, body: Record<string, unknown>): () => string {
    return () => JSON.stringify({ event, sequenceNumber: String(++this.#sequence), ...body, streamSid: this.streamSid });
  }

  #error(message: string): void {
    this.#host.error(new AudioSocketError(ErrorCode.BRIDGE_PROTOCOL, message));
  }
}
