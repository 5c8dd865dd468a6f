import { AudioSocketClient } from '../client';
import { AudioSocketError } from '../errors';
import { DTMF_DIGITS } from '../protocol/message';
import { readWav, writeWav } from '../wav';
import { UsageError, hostPort, int, num, parse, sampleRateOption } from './args';
import { Histogram } from './histogram';

export const CALL_USAGE = `usage: audiosocket call HOST:PORT [options]
  --play FILE        send a WAV (16-bit PCM, mono, at --rate) as the caller's audio
  --tone HZ          send a sine tone instead (default 440 Hz when --play is not given)
  --duration S       seconds of audio to send (default: the file's length, or 5 for a tone)
  --dtmf DIGITS      send these DTMF digits after the audio, 100 ms apart (0-9 * # A-D)
  --rate HZ          sample rate, choosing the kind: 8000 (0x10, default) ... 192000 (0x18)
  --record FILE      write what the server sends back to a WAV
  --strict           apply Asterisk 20.14+'s reader rules: drop the call on what it would
  --id UUID          the call's UUID (default: random)
  --linger-ms MS     after the audio and digits, wait this long before hanging up (default 500)
  --json             print the summary as JSON`;

const OPTIONS = {
  play: { type: 'string' },
  tone: { type: 'string' },
  duration: { type: 'string' },
  dtmf: { type: 'string' },
  rate: { type: 'string' },
  record: { type: 'string' },
  strict: { type: 'boolean' },
  id: { type: 'string' },
  'linger-ms': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export interface CallSummary {
  id: string;
  framesSent: number;
  framesReceived: number;
  audioFramesReceived: number;
  silenceFramesReceived: number;
  arrivalGapMs: { p50: number; p99: number; max: number; count: number };
  hangupReceived: boolean;
  errors: string[];
}

/** `audiosocket call`: behaves like Asterisk towards a server, then prints what happened. */
export async function call(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, 1);
  if (values.help) return void console.log(CALL_USAGE), 0;
  const target = hostPort(positionals[0], 'the target');
  if (values.play && values.tone) throw new UsageError('choose --play or --tone, not both');
  const sampleRate = sampleRateOption(values.rate);
  const digits = values.dtmf ?? '';
  for (const digit of digits) if (!DTMF_DIGITS.includes(digit)) throw new UsageError(`--dtmf: not a DTMF digit: ${JSON.stringify(digit)} (0-9 * # A-D)`);
  const audio = values.play ? loadAudio(values.play, sampleRate) : tone(num('tone', values.tone, 440, 1, sampleRate / 2), sampleRate, 1);
  const seconds = num('duration', values.duration, values.play ? audio.length / sampleRate : 5, 0, 86_400);
  const pcm = fit(audio, Math.round(seconds * sampleRate));
  const lingerMs = int('linger-ms', values['linger-ms'], 500, 0, 600_000);

  let client: AudioSocketClient;
  try {
    client = await AudioSocketClient.connect({ host: target.host, port: target.port, sampleRate, strict: values.strict === true, id: values.id });
  } catch (error) {
    const message = error instanceof AudioSocketError ? error.message : (error as Error).message;
    if (error instanceof AudioSocketError) throw new UsageError(message);
    console.error(`audiosocket call: cannot connect to ${target.host}:${target.port}: ${message}`);
    return 1;
  }
  const errors: string[] = [];
  client.on('violation', (error) => errors.push(`${error.code}: ${error.message}`));
  let hungUp = false;
  client.on('hangup', () => (hungUp = true));

  await Promise.race([client.play(pcm), client.closed]);
  for (const digit of digits) {
    if (hungUp) break;
    client.sendDtmf(digit);
    await sleep(100);
  }
  const linger = new AbortController();
  await Promise.race([sleep(lingerMs, linger.signal), client.closed]);
  linger.abort(); // a hang-up ended the wait: the timer must not keep the process alive
  const end = hungUp ? await client.closed : await client.hangup();

  const gaps = new Histogram();
  for (let i = 1; i < client.received.length; i++) gaps.record(client.received[i]!.at - client.received[i - 1]!.at);
  const silent = client.received.filter((f) => f.payload.every((b) => b === 0)).length;
  const summary: CallSummary = {
    id: client.id,
    framesSent: client.audioFramesSent,
    framesReceived: client.received.length,
    audioFramesReceived: client.received.length - silent,
    silenceFramesReceived: silent,
    arrivalGapMs: gaps.summary(),
    hangupReceived: end.hangupReceived,
    errors,
  };
  if (values.record) {
    const bytes = Buffer.concat(client.received.map((f) => f.payload));
    writeWav(values.record, { sampleRate, channels: 1, samples: new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1) });
  }
  if (values.json) console.log(JSON.stringify(summary));
  else {
    const g = summary.arrivalGapMs;
    console.log(
      `call ${summary.id}: sent ${summary.framesSent} frames, received ${summary.framesReceived} ` +
        `(${summary.audioFramesReceived} audio, ${summary.silenceFramesReceived} silence); ` +
        `arrival gaps p50 ${g.p50} ms, p99 ${g.p99} ms, max ${g.max} ms; ` +
        `${summary.hangupReceived ? 'hung up by the server' : 'hung up by us'}; ${errors.length ? `errors: ${errors.join('; ')}` : 'no errors'}` +
        (values.record ? `; recorded ${values.record}` : ''),
    );
  }
  return errors.length ? 1 : 0;
}

function loadAudio(file: string, rate: number): Int16Array {
  try {
    const audio = readWav(file);
    if (audio.channels !== 1 || audio.sampleRate !== rate) {
      throw new UsageError(`--play ${file}: ${audio.channels} channel(s) at ${audio.sampleRate} Hz; supported: WAV, 16-bit PCM, mono, at --rate (${rate} Hz)`);
    }
    return audio.samples;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--play ${(error as Error).message}`);
  }
}

/** A sine at -6 dBFS. */
export function tone(hz: number, rate: number, seconds: number): Int16Array {
  const pcm = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(16384 * Math.sin((2 * Math.PI * hz * i) / rate));
  return pcm;
}

/** `audio` repeated or cut to `samples` samples. */
function fit(audio: Int16Array, samples: number): Int16Array {
  if (audio.length === 0) return new Int16Array(0);
  const out = new Int16Array(samples);
  for (let at = 0; at < samples; at += audio.length) out.set(audio.subarray(0, Math.min(audio.length, samples - at)), at);
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()));
  });
}
