import { AudioSocketError, ErrorCode } from '../errors';
import { loadNative } from '../native/loader';
import type { Engine, EngineConfig, EngineName, EngineSink } from './contract';
import { JsEngine } from './js/engine';

export type EngineChoice = 'auto' | EngineName;

export interface EngineInfo {
  name: EngineName;
  /** Why this engine: the loader's account for `auto`, or the explicit choice. */
  reason: string;
}

/** Picks and builds the engine for a server. */
export function selectEngine(choice: EngineChoice, config: EngineConfig, sink: EngineSink): { engine: Engine; info: EngineInfo } {
  if (choice === 'js') return { engine: new JsEngine(config, sink), info: { name: 'js', reason: "engine: 'js' was asked for" } };
  if (choice !== 'auto' && choice !== 'native') {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `engine must be 'auto', 'native' or 'js', got ${JSON.stringify(choice)}`);
  }
  const native = loadNative();
  // The native media engine arrives with the native engine issue; until then the binary only
  // carries the protocol layer and the TypeScript engine serves calls.
  const reason = native.binding
    ? `${native.reason}, which has no media engine yet: the TypeScript engine serves calls`
    : native.reason;
  if (choice === 'native') throw new AudioSocketError(ErrorCode.NATIVE_UNAVAILABLE, `engine: 'native' was asked for, but ${reason}`);
  return { engine: new JsEngine(config, sink), info: { name: 'js', reason } };
}
