import { AudioSocketError, ErrorCode } from '../errors';
import { HEADER_LENGTH, MAX_PAYLOAD } from './encode';
import { parseMessage, type Message } from './message';

/** Options of {@link FrameDecoder} and {@link readMessages}. */
export interface FrameDecoderOptions {
  /**
   * Longest payload accepted, in bytes (1-65535, default 65535). A header announcing more fails
   * the stream with `ERR_AUDIOSOCKET_PAYLOAD_TOO_LARGE` before a byte of it is buffered.
   */
  maxPayload?: number;
}

const enum State {
  Header,
  Payload,
  Failed,
}

/**
 * Streaming AudioSocket decoder: bytes in any split (one at a time, many messages per chunk),
 * messages out in order.
 *
 * A payload that lies whole inside one chunk is handed out as a view onto that chunk (no copy);
 * one that spans chunks is assembled into a buffer of its own, which the message then owns.
 * Framing errors are fatal: the length field is the only way to find the next message, so after
 * an oversize header the decoder stays failed and rethrows the same error.
 */
export class FrameDecoder {
  /** The longest payload accepted, bytes. */
  readonly maxPayload: number;
  #state = State.Header;
  #header = new Uint8Array(HEADER_LENGTH);
  #headerBytes = 0;
  #kind = 0;
  #payload: Uint8Array = new Uint8Array(0);
  #payloadBytes = 0;
  #failure: AudioSocketError | null = null;

  constructor(options: FrameDecoderOptions = {}) {
    const maxPayload = options.maxPayload ?? MAX_PAYLOAD;
    if (!Number.isInteger(maxPayload) || maxPayload < 1 || maxPayload > MAX_PAYLOAD) {
      throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `maxPayload must be 1-${MAX_PAYLOAD} bytes, got ${maxPayload}`);
    }
    this.maxPayload = maxPayload;
  }

  /** Bytes held for a message not yet complete: 0 between messages and after a failure. */
  get buffered(): number {
    if (this.#state === State.Failed) return 0;
    return this.#state === State.Header ? this.#headerBytes : HEADER_LENGTH + this.#payloadBytes;
  }

  /**
   * Decodes `chunk`, calling `onMessage` for every message it completes, in order. Throws an
   * {@link AudioSocketError} on a framing error, after delivering the messages before it.
   */
  feed(chunk: Uint8Array, onMessage: (message: Message) => void): void {
    if (this.#failure) throw this.#failure;
    let at = 0;
    while (at < chunk.length) {
      if (this.#state === State.Header) {
        if (this.#headerBytes === 0 && chunk.length - at >= HEADER_LENGTH) {
          // Fast path: the header and, usually, the payload are inside this chunk.
          const length = (chunk[at + 1]! << 8) | chunk[at + 2]!;
          const kind = chunk[at]!;
          at += HEADER_LENGTH;
          this.#checkLength(length);
          if (chunk.length - at >= length) {
            onMessage(parseMessage(kind, chunk.subarray(at, at + length)));
            at += length;
          } else {
            this.#startPayload(kind, length);
          }
          continue;
        }
        this.#header[this.#headerBytes++] = chunk[at++]!;
        if (this.#headerBytes < HEADER_LENGTH) continue;
        this.#headerBytes = 0;
        const length = (this.#header[1]! << 8) | this.#header[2]!;
        this.#checkLength(length);
        if (length === 0) {
          onMessage(parseMessage(this.#header[0]!, new Uint8Array(0)));
        } else {
          this.#startPayload(this.#header[0]!, length);
        }
        continue;
      }
      const wanted = this.#payload.length - this.#payloadBytes;
      const take = Math.min(wanted, chunk.length - at);
      this.#payload.set(chunk.subarray(at, at + take), this.#payloadBytes);
      this.#payloadBytes += take;
      at += take;
      if (this.#payloadBytes === this.#payload.length) {
        const payload = this.#payload;
        this.#state = State.Header;
        this.#payload = EMPTY;
        this.#payloadBytes = 0;
        onMessage(parseMessage(this.#kind, payload));
      }
    }
  }

  /** Decodes `chunk` and returns its messages; a convenience over {@link feed}. */
  push(chunk: Uint8Array): Message[] {
    const messages: Message[] = [];
    this.feed(chunk, (message) => messages.push(message));
    return messages;
  }

  /** Declares the end of the stream: throws `ERR_AUDIOSOCKET_TRUNCATED` if it ended inside a message. */
  end(): void {
    if (this.#failure) throw this.#failure;
    if (this.buffered > 0) {
      throw new AudioSocketError(ErrorCode.TRUNCATED, `the stream ended inside a message (${this.buffered} bytes of it received)`);
    }
  }

  #checkLength(length: number): void {
    if (length > this.maxPayload) {
      this.#state = State.Failed;
      this.#failure = new AudioSocketError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `a message announces ${length} bytes, more than maxPayload (${this.maxPayload})`,
      );
      throw this.#failure;
    }
  }

  #startPayload(kind: number, length: number): void {
    this.#state = State.Payload;
    this.#kind = kind;
    this.#payload = new Uint8Array(length);
    this.#payloadBytes = 0;
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Messages from a byte stream (a socket, any async iterable of chunks), like the Go library's
 * `NextMessage`. Throws on a framing error or a stream that ends inside a message.
 */
export async function* readMessages(
  source: AsyncIterable<Uint8Array>,
  options?: FrameDecoderOptions,
): AsyncGenerator<Message, void, undefined> {
  const decoder = new FrameDecoder(options);
  for await (const chunk of source) yield* decoder.push(chunk);
  decoder.end();
}
