/**
 * audiosocket: Asterisk AudioSocket servers for Node.js.
 *
 * - {@link AudioSocketServer} and {@link Call}: the server applications build on.
 * - {@link AudioSocketClient}: the Asterisk side, for tests, simulators and load.
 * - The protocol layer (also published alone as `audiosocket/protocol`).
 * - {@link bridgeToWebSocket}: calls to mod_audio_stream or Twilio Media Streams services (also `audiosocket/bridge`).
 */
export { AudioSocketServer, type CloseOptions, type ListenOptions, type ServerEvents, type ServerOptions } from './server';
export { Call, type CallEnd, type CallEvents, type ClearedAudio, type DtmfInfo, type PlayOptions, type PlayResult } from './call';
export { AudioSocketClient, type ClientEnd, type ClientEvents, type ClientOptions, type ReceivedFrame } from './client';
export type { CallStats, EndReason, EngineName, RemoteAddress, Wire, WireCodec, WireFormat } from './engine/contract';
export { APP_SAMPLE_RATES, type AudioFormat } from './format';
export type { ConnectionRateLimit } from './net/rate-limit';
export type { EngineChoice, EngineInfo } from './engine/select';
export * from './protocol';
export { EnvVar, loadNative, platformTriple, type LoadAttempt, type NativeLoadResult, type NativeSource } from './native/loader';
export * from './bridge';
