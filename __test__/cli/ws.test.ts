import { afterEach, describe, expect, it } from 'vitest';
import { wsBridger, type WsValues } from '../../src/cli/bridge-options';
import { AudioSocketClient } from '../../src/client';
import { runCli, startServe, type Serving } from '../helpers/cli';
import { ENGINES, audioReceived, bytesOf, concat, pattern, until } from '../helpers/harness';
import { startService, type Service } from '../helpers/ws-service';

describe.each(ENGINES)('CLI serve --ws with the %s engine', (engine) => {
  let serving: Serving | undefined;
  let service: Service | undefined;
  afterEach(async () => {
    await serving?.stop();
    await service?.close();
    serving = service = undefined;
  });

  it("bridges a call: metadata, then the caller's audio bit-exact; the service's replies are logged and played", async () => {
    service = await startService();
    serving = await startServe(['--port', '0', '--engine', engine, '--ws', service.url, '--ws-header', 'Authorization: Bearer t0ken']);
    const client = await AudioSocketClient.connect({ port: serving.port, strict: true });
    const peer = await service.peer();
    const sent = pattern(1600, 41);
    await client.play(sent);
    await until(() => peer.binary().length === bytesOf(sent).length, 'the audio at the service');
    expect(peer.binary().equals(bytesOf(sent))).toBe(true);
    expect(peer.messages[0]!.data.toString()).toBe(JSON.stringify({ callId: client.id }));
    expect(peer.headers.authorization).toBe('Bearer t0ken');

    peer.send({ type: 'transcript', text: 'hello' });
    const reply = pattern(800, 42);
    peer.send({ type: 'streamAudio', data: { audioDataType: 'raw', sampleRate: 8000, audioData: Buffer.from(bytesOf(reply)).toString('base64') } });
    await until(() => concat(audioReceived(client)).length === bytesOf(reply).length, 'the reply at the caller');
    expect(concat(audioReceived(client)).equals(bytesOf(reply))).toBe(true);
    await until(() => serving!.output().includes(`call ${client.id} ws json {"type":"transcript","text":"hello"}`), 'the json log line');
    expect(serving.output()).toContain(`call ${client.id} ws play raw 8000 Hz 100 ms`);

    expect((await client.hangup()).violation).toBeNull();
    await until(() => peer.closeCode === 1000, 'the stream to close');
  });
});

describe('CLI serve --ws options', () => {
  it('refuses bad ones with a one-line usage error, at start', async () => {
    const bad: Array<[WsValues, RegExp]> = [
      [{ 'ws-mix': 'stereo' }, /--ws-mix goes with --ws/],
      [{ ws: 'http://127.0.0.1:1/' }, /--ws: the service URL must be ws:/],
      [{ ws: 'ws://127.0.0.1:1/', 'ws-buffer-ms': '30' }, /--ws-buffer-ms must be a multiple of 20/],
      [{ ws: 'ws://127.0.0.1:1/', 'ws-dialect': 'twilio', 'ws-rate': '16000' }, /--ws-rate is for --ws-dialect audio_stream/],
      [{ ws: 'ws://127.0.0.1:1/', 'ws-ca': '/nonexistent/ca.pem' }, /--ws: tls.caFile: cannot read \/nonexistent\/ca.pem/],
      [{ ws: 'ws://127.0.0.1:1/', 'ws-header': ['no colon'] }, /--ws-header must be 'Name: value'/],
    ];
    for (const [values, message] of bad) expect(() => wsBridger(values), JSON.stringify(values)).toThrow(message);
    expect(wsBridger({})).toBeNull();
    const run = await runCli(['serve', '--ws', 'ws://127.0.0.1:1/', '--echo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('audiosocket: choose one of --echo, --play, --listen and --ws\n');
  });
});
