/**
 * Microsoft's hyco-ws 1.0.5, unchanged, as both peers through the test relay: its RelayedServer
 * listens, its relayedConnect sends, each with a token its createRelayToken made. Run as a child
 * process, because hyco-ws takes no CA: the relay's CA comes in NODE_EXTRA_CA_CERTS. Prints one JSON
 * line (what each side received, or the error) and exits; it gives up after 10 s.
 *
 * env: RELAY_HOST ('127.0.0.1:<port>'), RELAY_HC, LISTEN_RULE, LISTEN_KEY, SEND_RULE, SEND_KEY
 */
'use strict';
const WebSocket = require('hyco-ws');

const { RELAY_HOST, RELAY_HC, LISTEN_RULE, LISTEN_KEY, SEND_RULE, SEND_KEY } = process.env;
// hyco-ws's own base URI names port 443, so its tokens' resource carries ':443' as against Azure;
// the handshakes go to the relay's real port (hyco-ws cannot build such a URI itself).
const tokenUri = WebSocket.createRelayBaseUri('127.0.0.1', RELAY_HC);
const listenToken = WebSocket.createRelayToken(tokenUri, LISTEN_RULE, LISTEN_KEY, 60);
const sendToken = WebSocket.createRelayToken(tokenUri, SEND_RULE, SEND_KEY, 60);
const base = `wss://${RELAY_HOST}/$hc/${RELAY_HC}`;

const result = { tokenResource: decodeURIComponent(/sr=([^&]+)/.exec(listenToken)[1]), listenerReceived: [], senderReceived: [] };
let server;

function finish(outcome) {
  if (server) server.close(() => undefined);
  process.stdout.write(`${JSON.stringify({ ...result, ...outcome })}\n`);
  process.exit(outcome.error ? 1 : 0);
}

setTimeout(() => finish({ error: 'hyco-ws peers did not finish within 10 s' }), 10000);

server = WebSocket.createRelayedServer({ server: `${base}?sb-hc-action=listen`, token: listenToken }, (socket) => {
  socket.on('open', () => socket.send('hello from the hyco-ws listener'));
  socket.on('message', (data, flags) => {
    result.listenerReceived.push(flags.binary ? { binary: Buffer.from(data).toString('hex') } : { text: data });
    socket.send(data, { binary: flags.binary });
  });
});
// hyco-ws reconnects at once after any error; the first error ends the run instead.
server.on('error', (error) => finish({ error: `listener: ${error.message || error.type || String(error)}` }));

server.on('listening', () => {
  const sender = WebSocket.relayedConnect(`${base}?sb-hc-action=connect`, sendToken, (open) => {
    open.send('hello from the hyco-ws sender');
    open.send(Buffer.from([0, 1, 2, 254, 255]), { binary: true });
  });
  sender.on('message', (data, flags) => {
    result.senderReceived.push(flags.binary ? { binary: Buffer.from(data).toString('hex') } : { text: data });
    if (result.senderReceived.length === 3) {
      sender.close();
      finish({});
    }
  });
  sender.on('error', (error) => finish({ error: `sender: ${error.message}` }));
});
