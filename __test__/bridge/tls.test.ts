import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bridgeToWebSocket, type Bridge, type BridgeOptions } from '../../src/bridge';
import type { AudioSocketError } from '../../src/errors';
import { ENGINES, bytesOf, callAndClient, pattern, startServer, until, type Harness } from '../helpers/harness';
import { makeCertificates, startService, type Service } from '../helpers/ws-service';

/** PEM files made for this run in a temporary directory: no key is ever committed. */
let files: { ca: string; clientCert: string; clientKey: string };
let certificates: { ca: string; good: { cert: string; key: string }; otherName: { cert: string; key: string }; client: { cert: string; key: string } };

beforeAll(async () => {
  const authority = await makeCertificates();
  certificates = {
    ca: authority.ca,
    good: await authority.issue(['127.0.0.1'], 'server'),
    otherName: await authority.issue(['service.invalid'], 'server'),
    client: await authority.issue(['bridge'], 'client'),
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'audiosocket-tls-'));
  files = { ca: path.join(dir, 'ca.pem'), clientCert: path.join(dir, 'client.pem'), clientKey: path.join(dir, 'client.key') };
  writeFileSync(files.ca, certificates.ca);
  writeFileSync(files.clientCert, certificates.client.cert);
  writeFileSync(files.clientKey, certificates.client.key);
});

describe.each(ENGINES)('%s engine: bridge over TLS', (engine) => {
  let h: Harness | undefined;
  let service: Service | undefined;
  let bridge: Bridge | undefined;
  afterEach(async () => {
    await bridge?.stop();
    await h?.close();
    await service?.close();
    h = bridge = service = undefined;
  });

  /** Bridges a call to a wss service with `tls`; resolves with what the service got, or the error. */
  async function attempt(server: { cert: string; key: string; ca?: string }, options: BridgeOptions) {
    h = await startServer(engine);
    service = await startService({ tls: server });
    const { call, client } = await callAndClient(h);
    bridge = bridgeToWebSocket(call, service.url, { metadata: 'secure', reconnect: false, ...options });
    const errors: AudioSocketError[] = [];
    bridge.on('error', (error) => errors.push(error));
    await until(() => service!.peers.length > 0 || bridge!.closed, 'a connection or a failure');
    if (bridge.closed) return { errors, audio: null };
    const sent = pattern(800, 31);
    await client.play(sent);
    const peer = service.peers[0]!;
    await until(() => peer.binary().length === bytesOf(sent).length, 'the audio');
    expect(peer.texts()[0]).toBe('secure');
    expect(call.ended).toBe(false);
    return { errors, audio: peer.binary().equals(bytesOf(sent)) };
  }

  it('connects with a CA file, and audio flows', async () => {
    expect(await attempt(certificates.good, { tls: { caFile: files.ca } })).toEqual({ errors: [], audio: true });
  });

  it('fails on a hostname mismatch unless the check is off', async () => {
    const { errors, audio } = await attempt(certificates.otherName, { tls: { caFile: files.ca } });
    expect(audio).toBeNull();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_AUDIOSOCKET_BRIDGE_CONNECTION', cause: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    await bridge!.stop();
    await h!.close();
    await service!.close();
    expect(await attempt(certificates.otherName, { tls: { caFile: files.ca, checkHostname: false } })).toEqual({ errors: [], audio: true });
  });

  it("refuses a certificate the system store does not vouch for, unless verification is 'none'", async () => {
    const { errors } = await attempt(certificates.good, {});
    expect(errors[0]).toMatchObject({ code: 'ERR_AUDIOSOCKET_BRIDGE_CONNECTION', cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
    await bridge!.stop();
    await h!.close();
    await service!.close();
    expect(await attempt(certificates.good, { tls: { caFile: 'none' } })).toEqual({ errors: [], audio: true });
  });

  it('presents a client certificate to a service that requires one', async () => {
    const server = { ...certificates.good, ca: certificates.ca };
    const without = await attempt(server, { tls: { caFile: files.ca } });
    expect(without.errors[0]?.code).toBe('ERR_AUDIOSOCKET_BRIDGE_CONNECTION');
    await bridge!.stop();
    await h!.close();
    await service!.close();
    const tls = { caFile: files.ca, certFile: files.clientCert, keyFile: files.clientKey };
    expect(await attempt(server, { tls })).toEqual({ errors: [], audio: true });
  });
});
