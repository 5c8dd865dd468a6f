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
    call.on('audio', (pcm) => call.write(pcm));
    call.on('dtmf', (digit) => console.log(`call ${call.id} DTMF ${digit}`));
    call.on('end', ({ reason }) => console.log(`call ${call.id} ended: ${reason}`));
  });
}
