// The echo application, apart from the server that runs it, so that examples/echo-js runs the
// very same code on the TypeScript engine.

/**
 * Every caller hears themselves: each frame of caller audio is queued for playout, which the
 * server paces back at one frame per 20 ms.
 *
 * @param {import('audiosocket').AudioSocketServer} server
 */
export function echo(server) {
  server.on('call', (call) => {
    console.log(`call ${call.id} from ${call.remote.address}`);
    // An echo is live audio: after a stall of this thread (a long collection), drop what is
    // queued beyond 100 ms rather than echo everything late for the rest of the call.
    call.setMaxLatency(100);
    call.on('audio', (pcm) => call.write(pcm));
    call.on('dtmf', (digit) => console.log(`call ${call.id} DTMF ${digit}`));
    call.on('end', ({ reason }) => console.log(`call ${call.id} ended: ${reason}`));
  });
}
