/**
 * `audiosocket/protocol`: the AudioSocket wire format on its own, for clients, proxies, tests
 * and tools. Everything the Go reference library's Message API offers, typed.
 */
export { Kind, SAMPLE_RATES, isAudioKind, kindForSampleRate, sampleRateOfKind } from './kind';
export {
  HEADER_LENGTH,
  MAX_PAYLOAD,
  encodeAudio,
  encodeAudioFrames,
  encodeDtmf,
  encodeError,
  encodeHangup,
  encodeMessage,
  encodeSilence,
  encodeUuid,
  frameBytes,
  pcmBytes,
  pcmFrames,
  writeMessage,
} from './encode';
export { FrameDecoder, readMessages, type FrameDecoderOptions } from './decode';
export {
  DTMF_DIGITS,
  decodeSamples,
  parseMessage,
  type AudioMessage,
  type DtmfMessage,
  type ErrorMessage,
  type HangupMessage,
  type InvalidMessage,
  type Message,
  type MessageType,
  type SilenceMessage,
  type UnknownMessage,
  type UuidMessage,
} from './message';
export { isUuid, uuidFromBytes, uuidToBytes } from './uuid';
export { AudioSocketError, ErrorCode } from '../errors';
