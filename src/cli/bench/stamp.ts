/**
 * How bench frames carry their identity through a server: the first three samples of a frame are
 * a marker and a 30-bit sequence number, the rest is ordinary audio. A frame of idle silence has
 * no marker, so it is never mistaken for an echo.
 */
const MARKER = 0x5a5a;

/** Writes the stamp into a PCM16 payload (little-endian bytes, at `offset`). */
export function stamp(payload: Buffer, offset: number, seq: number): void {
  payload.writeInt16LE(MARKER, offset);
  payload.writeInt16LE(seq & 0x7fff, offset + 2);
  payload.writeInt16LE((seq >>> 15) & 0x7fff, offset + 4);
}

/** The sequence number stamped into a payload, or -1 when it carries none. */
export function readStamp(payload: Uint8Array): number {
  if (payload.length < 6) return -1;
  if ((payload[0]! | (payload[1]! << 8)) !== MARKER) return -1;
  return (payload[2]! | (payload[3]! << 8)) | ((payload[4]! | (payload[5]! << 8)) << 15);
}
