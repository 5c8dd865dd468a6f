/**
 * audiosocket: Asterisk AudioSocket servers for Node.js.
 * The protocol layer alone is also published as `audiosocket/protocol`.
 */
export * from './protocol';
export { EnvVar, loadNative, platformTriple, type LoadAttempt, type NativeLoadResult, type NativeSource } from './native/loader';
