/**
 * The session over the real stack: the test relay (sim/relay), the product's listener and sender,
 * and a session host with a fake executor. An engineer connects, gets ready, runs a command and
 * gets its output; revoking on the node delivers `ended` and a close to the engineer within 1 s.
 */
import type WebSocket from 'ws';
import { hybridConnectionResource } from '../../../channel/relay/endpoint';
import { RelayListener } from '../../../channel/relay/listener';
import { signSas } from '../../../channel/relay/sas';
import { connectSender } from '../../../channel/relay/sender';
import { MemoryJtiStore } from '../../../channel/session/jti-store';
import { parseNodeFrame, serializeFrame, type NodeFrame } from '../../../channel/session/protocol';
import { SessionHost, type CommandExecutor, type SessionAuditEntry } from '../../../channel/session/session-host';
import { SessionSlots } from '../../../channel/session/session-slots';
import { sessionSocketFromWebSocket } from '../../../channel/session/websocket-session-socket';
import { startTestRelay, type TestRelay } from '../../../sim/relay';
import { GRANT, HOUR, ed25519, ticket } from './ticket-fixtures';

const LISTEN_KEY = 'listen-key-0123456789';
const SEND_KEY = 'send-key-9876543210';
const HC = 'rs-arc-node-1-grant7f3';

let relay: TestRelay;
let listener: RelayListener | undefined;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  relay = await startTestRelay({ rendezvousTimeoutMs: 5000 });
  relay.createHybridConnection(HC, { requiresClientAuthorization: true });
  relay.putRule({ hybridConnection: HC }, { name: 'agent-listen', rights: ['Listen'], primaryKey: LISTEN_KEY });
  relay.putRule({ hybridConnection: HC }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await listener?.stop();
  await relay.close();
});

const endpoint = () => ({ namespace: relay.host, name: HC });
const transport = () => ({ ca: relay.caPem, proxy: { explicit: null } });
const sas = (keyName: string, key: string) =>
  signSas({ resourceUri: hybridConnectionResource(endpoint()), keyName, key, expiresAt: new Date(Date.now() + HOUR) });

/** Frames the engineer received, in order, and a way to wait for the next one of a type. */
function engineerInbox(socket: WebSocket) {
  const frames: NodeFrame[] = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data, isBinary) => {
    const parsed = parseNodeFrame(Buffer.from(data as Buffer), isBinary);
    if (!parsed.ok) throw new Error(`the node sent a bad frame: ${parsed.error.message}`);
    frames.push(parsed.frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const next = (type: NodeFrame['type']) =>
    new Promise<NodeFrame>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`no ${type} frame within 5 s; got ${JSON.stringify(frames)}`)), 5000);
      const look = () => {
        const found = frames.find((frame) => frame.type === type);
        if (found) {
          clearTimeout(timeout);
          resolve(found);
        } else waiters.push(look);
      };
      look();
    });
  return { frames, next };
}

it('an engineer connects through the relay, runs a command, and is ended within 1 s of revoke', async () => {
  const keys = ed25519();
  const hosts: SessionHost[] = [];
  const audit: SessionAuditEntry[] = [];
  const executor: CommandExecutor = {
    run: async (command, onOutput) => {
      onOutput('output', `Status : Running\nName   : WinRM\n(${command})`);
      return { ok: true };
    },
  };
  const grant = {
    ...GRANT,
    level: 'Diagnostics' as const,
    expiresAt: new Date(Date.now() + 2 * HOUR),
    ticketPublicKey: keys.publicKey,
  };
  const seen = new MemoryJtiStore();
  const slots = new SessionSlots();
  listener = new RelayListener({
    endpoint: endpoint(),
    token: () => sas('agent-listen', LISTEN_KEY),
    transport: transport(),
    onRendezvous: async (rendezvous) => {
      const socket = await rendezvous.accept();
      sockets.push(socket);
      const host = new SessionHost({
        socket: sessionSocketFromWebSocket(socket),
        executor,
        grant,
        seen,
        slots,
        relayConnectionId: rendezvous.id,
        audit: (entry) => audit.push(entry),
      });
      hosts.push(host);
    },
  });
  listener.start();
  const deadline = Date.now() + 5000;
  while (listener.state.status !== 'connected') {
    if (Date.now() > deadline) throw new Error(`the listener did not connect: ${JSON.stringify(listener.state)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const engineer = await connectSender({
    endpoint: endpoint(),
    token: sas('engineer-send', SEND_KEY),
    transport: transport(),
    trackingId: 'engineer-conn-1',
  });
  sockets.push(engineer);
  const inbox = engineerInbox(engineer);
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    engineer.once('close', (code) => resolve({ code, at: Date.now() })),
  );

  engineer.send(serializeFrame({ type: 'hello', ticket: await ticket(keys.privateKey) }));
  expect(await inbox.next('ready')).toMatchObject({ type: 'ready', level: 'Diagnostics', machine: GRANT.machine, node: GRANT.node });

  engineer.send(serializeFrame({ type: 'run', id: 'c1', command: 'Get-Service WinRM' }));
  expect(await inbox.next('done')).toEqual({ type: 'done', id: 'c1', ok: true });
  expect(inbox.frames.filter((frame) => frame.type === 'out')).toEqual([
    { type: 'out', id: 'c1', stream: 'output', text: 'Status : Running\nName   : WinRM\n(Get-Service WinRM)' },
  ]);

  const revokedAt = Date.now();
  hosts[0]!.end('revoked');
  expect(await inbox.next('ended')).toEqual({ type: 'ended', reason: 'revoked' });
  const close = await closed;
  expect(close.at - revokedAt).toBeLessThan(1000);
  expect(audit.map((entry) => entry.event)).toEqual(['ready', 'command', 'end']);
  expect(audit[0]).toMatchObject({ relayConnectionId: 'engineer-conn-1', engineer: 'alex@support.example' });
  expect(audit[2]).toMatchObject({ reason: 'revoked', commandsRun: 1 });
});
