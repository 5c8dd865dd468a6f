import { once } from 'node:events';
import { AudioSocketServer, type Call, type EngineName, type ServerOptions } from '../../src';
import { AudioSocketClient, type ClientOptions } from '../../src/client';

/**
 * The engines the conformance suite runs against: the TypeScript one always, the native one
 * wherever it can be built (CI requires it there through AUDIOSOCKET_REQUIRE_NATIVE=1).
 */
export const ENGINES: EngineName[] = ['js', ...(nativeAvailable() ? (['native'] as const) : [])];

function nativeAvailable(): boolean {
  try {
    new AudioSocketServer({ engine: 'native' });
    return true;
  } catch (error) {
    if (process.env.AUDIOSOCKET_REQUIRE_NATIVE === '1') throw error;
    return false;
  }
}

export interface Harness {
  server: AudioSocketServer;
  port: number;
  connect(options?: Partial<ClientOptions>): Promise<AudioSocketClient>;
  close(): Promise<void>;
}

/** A server on 127.0.0.1 with an OS-chosen port, and strict clients for it. */
export async function startServer(engine: EngineName, options: ServerOptions = {}): Promise<Harness> {
  const server = new AudioSocketServer({ engine, ...options });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const clients: AudioSocketClient[] = [];
  return {
    server,
    port,
    async connect(clientOptions = {}) {
      const client = await AudioSocketClient.connect({ port, strict: true, ...clientOptions });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
    },
  };
}

/** A strict client connected, and the server's Call for it. */
export async function callAndClient(h: Harness, options: Partial<ClientOptions> = {}): Promise<{ call: Call; client: AudioSocketClient }> {
  const [[call], client] = await Promise.all([once(h.server, 'call') as Promise<[Call]>, h.connect(options)]);
  return { call, client };
}

/** Deterministic PCM with no zero sample, so that audio is never mistaken for idle silence. */
export function pattern(samples: number, seed = 1): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) {
    const value = ((i * 7919 + seed * 104_729) % 60_000) - 30_000;
    pcm[i] = value === 0 ? 1 : value;
  }
  return pcm;
}

export function bytesOf(pcm: Int16Array): Buffer {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
}

export function concat(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

export function isSilence(payload: Uint8Array): boolean {
  return payload.every((b) => b === 0);
}

/** The payloads of the audio frames a client received that are not idle silence. */
export function audioReceived(client: AudioSocketClient): Uint8Array[] {
  return client.received.map((f) => f.payload).filter((p) => !isSilence(p));
}

/**
 * Waits until `predicate` holds, checking every 5 ms. The timeout is a bound on a broken run,
 * not a timing claim: it is far beyond what any healthy run needs.
 */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { once };
