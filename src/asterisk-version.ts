import { AudioSocketError, ErrorCode } from './errors';

/** An Asterisk release, as far as what the server may send depends on it. */
export interface AsteriskVersion {
  major: number;
  minor: number;
}

/**
 * The first minor release of each major that accepts the slin kinds above 8 kHz (0x11-0x18)
 * from the server; earlier ones hang the call up on them (PROTOCOL.md). Majors after the last
 * listed accept them from their first release, majors before 20 never.
 */
const RATE_KINDS_SINCE: ReadonlyMap<number, number> = new Map([
  [20, 17],
  [21, 12],
  [22, 7],
  [23, 1],
]);
const LAST_LISTED_MAJOR = 23;

/**
 * Parses a version as Asterisk prints it: `20.19`, `22.10.1`, `23`, `21.4.0-rc1`,
 * `20.7-cert5`. Throws ERR_AUDIOSOCKET_INVALID_ARGUMENT for anything else.
 */
export function parseAsteriskVersion(text: string): AsteriskVersion {
  const match = typeof text === 'string' ? /^(\d+)(?:\.(\d+))?(?:\.\d+)?(?:-[0-9A-Za-z.-]+)?$/.exec(text) : null;
  if (!match) {
    throw new AudioSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `asteriskVersion must look like '20.19' or '22.10.1' (major.minor[.patch][-suffix]), got ${JSON.stringify(text)}`,
    );
  }
  return { major: Number(match[1]), minor: Number(match[2] ?? 0) };
}

/** Whether `version` accepts audio kinds 0x11-0x18 (slin above 8 kHz) from the server. */
export function acceptsRateKinds(version: AsteriskVersion): boolean {
  if (version.major > LAST_LISTED_MAJOR) return true;
  const since = RATE_KINDS_SINCE.get(version.major);
  return since !== undefined && version.minor >= since;
}
