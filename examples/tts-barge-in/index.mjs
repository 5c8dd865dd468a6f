#!/usr/bin/env node
// A voice bot's turn-taking with barge-in. The bot greets the caller with a long answer; the
// moment the caller talks over it (the energy of their audio above a threshold for 60 ms), the
// bot stops: call.clear() drops what was queued, now, not after the sentence. Once the caller has
// been quiet for 800 ms, the bot replies.
//
// The "TTS" is made here, with no network: each word becomes a short tone at 22050 Hz, as a
// speech synthesizer would hand over PCM at its own rate, resampled to the call's rate with
// audiosocket/dsp. Swap tts() for a real engine's output. On a real line the bot's voice can come
// back as echo and trigger barge-in: pick the threshold above that echo, or use an echo canceller.
//
//   node examples/tts-barge-in/index.mjs [--port 9092] [--threshold-db=-35]     (or PORT=9092)
//   npx audiosocket call 127.0.0.1:9092 --tone 300 --duration 3
import { parseArgs } from 'node:util';
import { AudioSocketServer } from 'audiosocket';
import { resample } from 'audiosocket/dsp';

const TTS_RATE = 22_050;
/** Caller frames in a row above the threshold that count as speech: 60 ms, so a click does not. */
const SPEECH_FRAMES = 3;
/** Quiet after the caller's last loud frame that ends their turn, ms (a timer: with DTX no frames arrive). */
const END_OF_TURN_MS = 800;

const GREETING =
  'Hello and thank you for calling. This is a long answer from the bot, and it goes on for a while ' +
  'so that you can interrupt it at any moment by simply starting to talk, as you would with a person.';
const REPLY = 'Sorry, please go ahead.';

const { values } = parseArgs({
  options: { port: { type: 'string', default: process.env.PORT ?? '9092' }, 'threshold-db': { type: 'string', default: '-35' } },
});
const thresholdDb = Number(values['threshold-db']);

/** Stand-in TTS: a 250 ms tone per word (its pitch from the word), 80 ms apart, at `rate` Hz. */
function tts(/** @type {string} */ text, /** @type {number} */ rate) {
  const words = text.split(/\s+/).filter(Boolean);
  const wordSamples = Math.round((TTS_RATE * 250) / 1000);
  const gapSamples = Math.round((TTS_RATE * 80) / 1000);
  const pcm = new Int16Array(words.length * (wordSamples + gapSamples));
  words.forEach((word, w) => {
    const hz = 140 + ([...word].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 160);
    const start = w * (wordSamples + gapSamples);
    for (let i = 0; i < wordSamples; i++) {
      const envelope = Math.sin((Math.PI * i) / wordSamples); // rises and falls like a syllable
      pcm[start + i] = Math.round(12_000 * envelope * Math.sin((2 * Math.PI * hz * i) / TTS_RATE));
    }
  });
  return resample(pcm, TTS_RATE, rate);
}

/** Level of a frame, dBFS (RMS against full scale). */
function dbfs(/** @type {Int16Array} */ pcm) {
  let sum = 0;
  for (const sample of pcm) sum += sample * sample;
  return 10 * Math.log10(sum / pcm.length / 32768 ** 2);
}

const server = new AudioSocketServer();
const greeting = tts(GREETING, server.format.sampleRate);
const reply = tts(REPLY, server.format.sampleRate);

server.on('call', (call) => {
  let loudFrames = 0;
  let callerTurn = false;
  /** @type {NodeJS.Timeout | undefined} */
  let endOfTurn;

  const say = async (/** @type {string} */ text, /** @type {Int16Array} */ pcm) => {
    console.log(`call ${call.id}: bot says "${text}"`);
    const { completed, unplayedMs } = await call.play(pcm);
    console.log(`call ${call.id}: bot ${completed ? 'finished' : `was cut off, ${Math.round(unplayedMs)} ms unsaid`}`);
  };

  call.on('audio', (pcm) => {
    const level = dbfs(pcm);
    loudFrames = level > thresholdDb ? loudFrames + 1 : 0;
    if (loudFrames < SPEECH_FRAMES) return;
    clearTimeout(endOfTurn);
    endOfTurn = setTimeout(() => {
      callerTurn = false;
      void say(REPLY, reply);
    }, END_OF_TURN_MS);
    if (callerTurn) return;
    callerTurn = true;
    const { clearedMs } = call.clear(); // barge-in: the rest of what the bot was saying is dropped now
    console.log(`call ${call.id}: caller speaks (${level.toFixed(0)} dBFS): barge-in, ${Math.round(clearedMs)} ms of bot audio cleared`);
  });
  call.on('end', ({ reason }) => {
    clearTimeout(endOfTurn);
    console.log(`call ${call.id} ended: ${reason}`);
  });
  void say(GREETING, greeting);
});

const { address, port } = await server.listen({ port: Number(values.port) });
console.log(`listening on ${address}:${port} (${server.engine.name} engine), barge-in above ${thresholdDb} dBFS`);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void server.close());
