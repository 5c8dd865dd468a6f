import { AudioSocketError, ErrorCode } from '../errors';
import { loadNative } from '../native/loader';
import type { Engine, EngineConfig, EngineName, EngineSink } from './contract';
import { JsEngine } from './js/engine';
import { NativeEngine } from './native/engine';

/** The `engine` option: `auto` picks native where its binary loads, else js. */
export type EngineChoice = 'auto' | EngineName;

/** Which engine a server runs (`server.engine`), and why. */
export interface EngineInfo {
  /** `native` (Rust) or `js` (TypeScript). */
  name: EngineName;
  /** Why this engine: where the native binary came from, or why it could not be used. */
  reason: string;
}

/** Picks and builds the engine for a server. */
export function selectEngine(choice: EngineChoice, config: EngineConfig, sink: EngineSink): { engine: Engine; info: EngineInfo } {
  if (choice === 'js') return { engine: new JsEngine(config, sink), info: { name: 'js', reason: "engine: 'js' was asked for" } };
  if (choice !== 'auto' && choice !== 'native') {
    throw new AudioSocketError(ErrorCode.INVALID_ARGUMENT, `engine must be 'auto', 'native' or 'js', got ${JSON.stringify(choice)}`);
  }
  const native = loadNative();
  const binding = native.binding && typeof native.binding.NativeServer === 'function' ? native.binding : null;
  if (binding) {
    const reason = choice === 'native' ? `engine: 'native' was asked for: ${native.reason}` : native.reason;
    return { engine: new NativeEngine(binding, config, sink), info: { name: 'native', reason } };
  }
  const reason = native.binding ? `${native.reason}, which has no NativeServer: the TypeScript engine serves calls` : native.reason;
  if (choice === 'native') throw new AudioSocketError(ErrorCode.NATIVE_UNAVAILABLE, `engine: 'native' was asked for, but ${reason}`);
  return { engine: new JsEngine(config, sink), info: { name: 'js', reason } };
}
