#!/usr/bin/env node
// An IVR menu: a prompt, then the caller's DTMF decides.
//
//   menu   two beeps at 440 Hz ("1 for sales, 2 for support, 0 to leave")
//   1      1 s at 600 Hz ("sales"), then the menu again
//   2      1 s at 900 Hz ("support"), then the menu again
//   0      three falling beeps ("goodbye"), then hangup: 0x00, and on Asterisk 20.14+ the
//          dialplan goes on after AudioSocket() (route the caller to an operator there)
//   other  the menu again
//
// A key pressed while a prompt plays cuts it short: play() with an AbortSignal clears the queue.
// No key within 5 s of the menu: the menu again, three times at most, then goodbye. The prompts
// are tones made here so that the example needs no files; real ones are 16-bit PCM at the server's
// rate (8 kHz here), e.g. read from a WAV.
//
//   node examples/ivr/index.mjs [--port 9092]      (or PORT=9092)
//   npx audiosocket call 127.0.0.1:9092 --duration 2 --dtmf 20 --linger-ms 2000
import { parseArgs } from 'node:util';
import { AudioSocketServer } from 'audiosocket';

const RATE = 8000;
const NO_INPUT_MS = 5000;
const MAX_REPEATS = 3;

/** Sine segments of [Hz, ms] (0 Hz: a pause) at -12 dBFS, with 5 ms fades so that nothing clicks. */
function tones(/** @type {Array<[number, number]>} */ parts) {
  const segments = parts.map(([hz, ms]) => {
    const pcm = new Int16Array((RATE * ms) / 1000);
    const fade = (RATE * 5) / 1000;
    for (let i = 0; i < pcm.length; i++) {
      const gain = Math.min(1, i / fade, (pcm.length - 1 - i) / fade);
      pcm[i] = Math.round(8192 * gain * Math.sin((2 * Math.PI * hz * i) / RATE));
    }
    return pcm;
  });
  const out = new Int16Array(segments.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const segment of segments) {
    out.set(segment, at);
    at += segment.length;
  }
  return out;
}

/** @type {Record<string, Int16Array>} */
const PROMPTS = {
  menu: tones([[440, 400], [0, 200], [440, 400]]),
  sales: tones([[600, 1000]]),
  support: tones([[900, 1000]]),
  goodbye: tones([[660, 250], [0, 50], [550, 250], [0, 50], [440, 400]]),
};
/** @type {Record<string, string>} */
const MENU = { 1: 'sales', 2: 'support', 0: 'goodbye' };

const { values } = parseArgs({ options: { port: { type: 'string', default: process.env.PORT ?? '9092' } } });
const server = new AudioSocketServer({ sampleRate: RATE });

server.on('call', (call) => {
  /** @type {AbortController | undefined} */
  let playing; // the prompt playing now: aborting it clears the queue
  /** @type {NodeJS.Timeout | undefined} */
  let noInput;
  let repeats = 0;

  /** Plays a prompt, cutting short the one before; resolves true if it played to the end. */
  const say = async (/** @type {string} */ name) => {
    playing?.abort();
    clearTimeout(noInput);
    const controller = (playing = new AbortController());
    return (await call.play(PROMPTS[name], { signal: controller.signal })).completed;
  };
  const goodbye = async () => {
    if (await say('goodbye')) call.hangup();
  };
  const menu = async () => {
    if (!(await say('menu'))) return; // a key cut it short: that key's handler goes on
    noInput = setTimeout(() => {
      console.log(`call ${call.id}: no input`);
      void (++repeats < MAX_REPEATS ? menu() : goodbye());
    }, NO_INPUT_MS);
  };

  console.log(`call ${call.id}: menu`);
  call.on('dtmf', async (digit) => {
    repeats = 0;
    const choice = MENU[digit] ?? 'menu';
    console.log(`call ${call.id}: pressed ${digit} -> ${choice}`);
    if (choice === 'goodbye') return goodbye();
    if (choice !== 'menu' && !(await say(choice))) return;
    await menu();
  });
  call.on('end', ({ reason }) => {
    clearTimeout(noInput);
    console.log(`call ${call.id} ended: ${reason}`);
  });
  void menu();
});

const { address, port } = await server.listen({ port: Number(values.port) });
console.log(`listening on ${address}:${port} (${server.engine.name} engine)`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close());
