import { AudioSocketError, ErrorCode } from '../errors';

const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` is a UUID string in the 8-4-4-4-12 form (any case) the UUID message needs. */
export function isUuid(id: string): boolean {
  return CANONICAL.test(id);
}

/** The 16 bytes of an 8-4-4-4-12 UUID string; throws `ERR_AUDIOSOCKET_BAD_UUID` otherwise. */
export function uuidToBytes(id: string): Uint8Array {
  if (!isUuid(id)) {
    throw new AudioSocketError(ErrorCode.BAD_UUID, `not a UUID (8-4-4-4-12 hex): ${JSON.stringify(id)}`);
  }
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

/** The canonical lower-case 8-4-4-4-12 string of 16 UUID bytes. */
export function uuidFromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) {
    throw new AudioSocketError(ErrorCode.BAD_UUID, `a UUID is 16 bytes, got ${bytes.length}`);
  }
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
