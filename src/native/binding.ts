/**
 * The functions the native binary exports (crate/node/src/lib.rs). Internal: users meet the
 * engine through AudioSocketServer, never through this shape.
 */
export interface NativeBinding {
  abiVersion(): number;
  engineVersion(): string;
}

/** Must equal `ABI_VERSION` in crate/node/src/lib.rs; bump both together. */
export const NATIVE_ABI_VERSION = 1;
