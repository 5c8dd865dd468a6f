#!/usr/bin/env node
// A toy "transcriber": a WebSocket service speaking FreeSWITCH mod_audio_stream's protocol, the
// kind `audiosocket serve --ws` bridges Asterisk calls to. Instead of words it hears loudness:
// for each call it prints the metadata (the first text message), then the level of every second
// of audio, and replies to the bridge with the same as JSON, as a speech-to-text service would
// reply with transcripts.
//
//   node examples/ws-transcriber/server.mjs [--port 8080] [--rate 8000]
//
// --rate must match the bridge's --ws-rate (mod_audio_stream does not announce it).
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, rate: { type: 'string', default: '8000' } } });
const rate = Number(values.rate);

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(values.port) });
wss.on('listening', () => console.log(`transcriber listening on ws://127.0.0.1:${wss.address().port} (L16 mono at ${rate} Hz)`));

wss.on('connection', (socket) => {
  let call = 'unknown';
  let second = 0;
  let sumOfSquares = 0;
  let samples = 0;
  let odd = null; // a byte of a sample split across two messages, if the bridge ever did that

  socket.on('message', (data, isBinary) => {
    if (!isBinary) {
      console.log(`metadata: ${data}`);
      try {
        call = JSON.parse(data).callId ?? call;
      } catch {
        // metadata is any text; JSON with a callId is what `audiosocket serve` sends by default
      }
      return;
    }
    const bytes = odd ? Buffer.concat([odd, data]) : data;
    const whole = bytes.length & ~1;
    odd = whole < bytes.length ? bytes.subarray(whole) : null;
    for (let at = 0; at < whole; at += 2) {
      const sample = bytes.readInt16LE(at);
      sumOfSquares += sample * sample;
      if (++samples === rate) {
        second++;
        const rms = Math.sqrt(sumOfSquares / samples);
        const dbfs = rms > 0 ? Math.round(200 * Math.log10(rms / 32768)) / 10 : -Infinity;
        console.log(`call ${call} second ${second}: ${dbfs} dBFS`);
        socket.send(JSON.stringify({ type: 'level', callId: call, second, dbfs }));
        sumOfSquares = 0;
        samples = 0;
      }
    }
  });
  socket.on('close', (code) => console.log(`call ${call} closed (${code}) after ${second} s`));
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => wss.close(() => process.exit(0)));
