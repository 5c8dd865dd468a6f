import type { IncomingHttpHeaders } from 'node:http';
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { WebSocketServer, type WebSocket } from 'ws';
import { until } from './harness';

/** One connection a test service accepted, with everything it received. */
export interface Peer {
  socket: WebSocket;
  headers: IncomingHttpHeaders;
  messages: Array<{ data: Buffer; isBinary: boolean }>;
  /** The close code, once closed. */
  closeCode: number | null;
  /** Text messages, in order. */
  texts(): string[];
  /** Text messages parsed as JSON. */
  json(): any[];
  /** Binary messages, in order. */
  frames(): Buffer[];
  /** Every binary message, concatenated. */
  binary(): Buffer;
  send(message: unknown): void;
}

export interface Service {
  port: number;
  url: string;
  peers: Peer[];
  /** The next peer to connect (or the latest, when `index` says which). */
  peer(index?: number): Promise<Peer>;
  /** Drops every connection with `code` (1012: service restart) and stops listening. */
  close(code?: number): Promise<void>;
}

export interface ServiceOptions {
  /** Default 0: a free port. */
  port?: number;
  /** PEM certificate and key: serve wss:; with `ca`, also require a client certificate it signed. */
  tls?: { cert: string; key: string; ca?: string };
  /** Refuse every upgrade with this HTTP status. */
  refuse?: number;
  /** Answer pings (default true); false plays a service that hangs with its socket open. */
  autoPong?: boolean;
}

/** A WebSocket service on 127.0.0.1 that records what it receives. */
export async function startService(options: ServiceOptions = {}): Promise<Service> {
  const tls = options.tls;
  const https: HttpsServer | null = tls ? createServer({ ...tls, ...(tls.ca ? { requestCert: true, rejectUnauthorized: true } : {}) }) : null;
  const verifyClient = options.refuse ? (_info: unknown, done: (ok: boolean, code?: number) => void) => done(false, options.refuse) : undefined;
  const common = { verifyClient, autoPong: options.autoPong ?? true };
  const wss = https ? new WebSocketServer({ server: https, ...common }) : new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, ...common });
  if (https) await new Promise<void>((resolve) => https.listen(options.port ?? 0, '127.0.0.1', resolve));
  else await new Promise<void>((resolve) => wss.once('listening', resolve));
  const port = ((https ?? wss).address() as AddressInfo).port;
  const peers: Peer[] = [];
  wss.on('connection', (socket, request) => {
    const messages: Peer['messages'] = [];
    const peer: Peer = {
      socket,
      headers: request.headers,
      messages,
      closeCode: null,
      texts: () => messages.filter((m) => !m.isBinary).map((m) => m.data.toString('utf8')),
      json: () => peer.texts().map((text) => JSON.parse(text)),
      frames: () => messages.filter((m) => m.isBinary).map((m) => m.data),
      binary: () => Buffer.concat(peer.frames()),
      send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    };
    socket.on('message', (data: Buffer, isBinary) => messages.push({ data, isBinary }));
    socket.on('close', (code) => (peer.closeCode = code));
    peers.push(peer);
  });
  return {
    port,
    url: `${https ? 'wss' : 'ws'}://127.0.0.1:${port}/stream`,
    peers,
    async peer(index = peers.length) {
      await until(() => peers.length > index, `connection ${index + 1} to the service`);
      return peers[index]!;
    },
    async close(code = 1012) {
      for (const client of wss.clients) client.close(code, 'restart');
      await new Promise((resolve) => wss.close(resolve));
      for (const client of wss.clients) client.terminate();
      if (https) await new Promise((resolve) => https.close(resolve));
    },
  };
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const service = await startService();
  await service.close();
  return service.port;
}

/** A CA, and certificates signed by it: for servers named `names` (DNS names and IP addresses), or for clients. */
export async function makeCertificates(): Promise<{ ca: string; issue(names: string[], use: 'server' | 'client'): Promise<{ cert: string; key: string }> }> {
  const ca = await generate([{ name: 'commonName', value: 'audiosocket test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  return {
    ca: ca.cert,
    async issue(names, use) {
      const pems = await generate([{ name: 'commonName', value: names[0]! }], {
        keyType: 'ec',
        algorithm: 'sha256',
        ca: { key: ca.private, cert: ca.cert },
        extensions: [
          { name: 'basicConstraints', cA: false },
          { name: 'keyUsage', digitalSignature: true, critical: true },
          { name: 'extKeyUsage', serverAuth: use === 'server', clientAuth: use === 'client' },
          { name: 'subjectAltName', altNames: names.map((name) => (/^[\d.]+$/.test(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
        ],
      });
      return { cert: pems.cert, key: pems.private };
    },
  };
}
