/**
 * Message kinds (byte 0 of every message). See PROTOCOL.md for who sends which, and which
 * Asterisk versions hang up on which.
 */
export const Kind = {
  /** Either side: end of the call. Sent by the server before every close it starts. */
  Hangup: 0x00,
  /** Asterisk -> server, first: the call's 16-byte UUID. */
  Uuid: 0x01,
  /**
   * Empty: silence (the Go reference library only). With a 6-byte payload: DTMF in the
   * CyCoreSystems fork (state, digit, duration).
   */
  Silence: 0x02,
  /** Asterisk -> server at the end of a digit (20.14+): one ASCII byte `0-9 * # A-D`. */
  Dtmf: 0x03,
  /** signed linear 16-bit LE, 8 kHz; on the Dial() path also any non-slin codec (ulaw, alaw). */
  Slin8k: 0x10,
  Slin12k: 0x11,
  Slin16k: 0x12,
  Slin24k: 0x13,
  Slin32k: 0x14,
  Slin44k: 0x15,
  Slin48k: 0x16,
  Slin96k: 0x17,
  Slin192k: 0x18,
  /** Declared error kind; Asterisk never sends it. */
  Error: 0xff,
} as const;

export type Kind = (typeof Kind)[keyof typeof Kind];

/** Sample rate in Hz of each audio kind (0x11 is 12 kHz, not 16: the merged code, not the draft). */
const RATE_BY_KIND: ReadonlyMap<number, number> = new Map([
  [Kind.Slin8k, 8000],
  [Kind.Slin12k, 12000],
  [Kind.Slin16k, 16000],
  [Kind.Slin24k, 24000],
  [Kind.Slin32k, 32000],
  [Kind.Slin44k, 44100],
  [Kind.Slin48k, 48000],
  [Kind.Slin96k, 96000],
  [Kind.Slin192k, 192000],
]);

const KIND_BY_RATE: ReadonlyMap<number, number> = new Map(
  [...RATE_BY_KIND].map(([kind, rate]) => [rate, kind]),
);

/** Every sample rate an AudioSocket audio kind can carry, in Hz, ascending. */
export const SAMPLE_RATES: readonly number[] = [...KIND_BY_RATE.keys()];

/** True for the audio kinds 0x10-0x18. */
export function isAudioKind(kind: number): boolean {
  return RATE_BY_KIND.has(kind);
}

/** The sample rate in Hz of an audio kind, or `undefined` for any other kind. */
export function sampleRateOfKind(kind: number): number | undefined {
  return RATE_BY_KIND.get(kind);
}

/** The audio kind that carries `sampleRate` Hz, or `undefined` when none does. */
export function kindForSampleRate(sampleRate: number): number | undefined {
  return KIND_BY_RATE.get(sampleRate);
}
