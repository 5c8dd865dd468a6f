/**
 * audiosocket: Asterisk AudioSocket servers for Node.js.
 *
 * - {@link AudioSocketServer} and {@link Call}: the server applications build on.
 * - {@link AudioSocketClient}: the Asterisk side, for tests, simulators and load.
 * - The protocol layer (also published alone as `audiosocket/protocol`).
 */
export { AudioSocketServer, type CloseOptions, type ListenOptions, type ServerEvents, type ServerOptions } from './server';
export { Call, type CallEnd, type CallEvents, type ClearedAudio, type DtmfInfo, type PlayOptions, type PlayResult } from './call';
export { AudioSocketClient, type ClientEnd, type ClientEvents, type ClientOptions, type ReceivedFrame } from './client';
export type { CallStats, EndReason, EngineName, RemoteAddress, WireFormat } from './engine/contract';
export type { EngineChoice, EngineInfo } from './engine/select';
export * from './protocol';
export { EnvVar, loadNative, platformTriple, type LoadAttempt, type NativeLoadResult, type NativeSource } from './native/loader';
