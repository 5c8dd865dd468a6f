import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AudioSocketClient } from '../src/client';
import { startServe, type Serving } from './helpers/cli';
import { ENGINES, audioReceived, pattern, until } from './helpers/harness';

/** The lines Node's debuglog printed for this module, without their `AUDIOSOCKET <pid>: ` prefix. */
function debugLines(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => /^AUDIOSOCKET \d+: /.test(line))
    .map((line) => line.replace(/^AUDIOSOCKET \d+: /, ''));
}

describe.each(ENGINES)('NODE_DEBUG=audiosocket with the %s engine', (engine) => {
  let serving: Serving | null = null;
  afterEach(async () => {
    await serving?.stop();
    serving = null;
  });

  it('logs the bound address, a call start, error and end with its counters, a refused connection and the close', async () => {
    serving = await startServe(['--port', '0', '--engine', engine, '--echo', '--quiet'], { env: { NODE_DEBUG: 'audiosocket' } });
    const { port, output } = serving;
    const client = await AudioSocketClient.connect({ port, strict: true });
    const clientPort = client.localPort;
    await client.play(pattern(160 * 5));
    client.sendRaw(Uint8Array.of(0x03, 0x00, 0x01, 0x5a)); // DTMF 'Z': an error that does not end the call
    await until(() => output().includes('ERR_AUDIOSOCKET_BAD_DTMF'), 'the DTMF error');
    await until(() => audioReceived(client).length === 5, 'the echo');
    await client.hangup();
    await until(() => output().includes(`call ${client.id} ended`), 'the end of the call');

    // A connection whose first message is audio, not its UUID: refused before it is a call.
    const stranger = connect(port, '127.0.0.1', () => stranger.write(Uint8Array.of(0x10, 0x00, 0x02, 1, 2)));
    stranger.on('error', () => {});
    await until(() => output().includes('refused'), 'the refused connection');
    stranger.destroy();
    expect(await serving.stop('SIGTERM')).toBe(0);

    const lines = debugLines(output());
    const address = '127\\.0\\.0\\.1:\\d+';
    const expected = [
      new RegExp(`^bound to 127\\.0\\.0\\.1:${port} \\(${engine} engine: .+\\)$`),
      new RegExp(`^call ${client.id} from 127\\.0\\.0\\.1:${clientPort}: wire slin 8000 Hz \\(kind 0x10\\), app format 8000 Hz mono$`),
      new RegExp(`^call ${client.id}: ERR_AUDIOSOCKET_BAD_DTMF .+`),
      new RegExp(`^call ${client.id} ended: remote-hangup; frames in 5, out \\d+ \\(\\d+ silence\\), underruns \\d+, unplayed 0 ms, max tick lateness [\\d.]+ ms$`),
      new RegExp(`^refused ${address}: ERR_AUDIOSOCKET_NO_UUID .+`),
      /^closed$/,
    ];
    expect(lines).toHaveLength(expected.length);
    lines.forEach((line, i) => expect(line).toMatch(expected[i]!));
    // The counters are the call's: its five frames were echoed, besides the idle silence.
    const [, out, silence] = /out (\d+) \((\d+) silence\)/.exec(lines[3]!)!;
    expect(Number(out) - Number(silence)).toBe(5);
  });

  it('prints nothing without it', async () => {
    serving = await startServe(['--port', '0', '--engine', engine, '--echo', '--quiet'], { env: { NODE_DEBUG: '' } });
    const client = await AudioSocketClient.connect({ port: serving.port, strict: true });
    await client.play(pattern(160 * 2));
    await client.hangup();
    expect(await serving.stop('SIGTERM')).toBe(0);
    expect(serving.output()).toMatch(/listening on/);
    expect(debugLines(serving.output())).toEqual([]);
  });
});
