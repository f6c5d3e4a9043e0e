/**
 * One session on the node, driven frame by frame: the ticket is checked before anything runs, the
 * level is the grant's, limits hold (one command at a time, a rate, two sessions per grant, frame
 * caps), cancel and end work mid-command, and the audit trail has every session and command with
 * nothing secret in it.
 */
import { MemoryJtiStore } from '../../../channel/session/jti-store';
import {
  COMMANDS_PER_WINDOW,
  HELLO_TIMEOUT_MS,
  MAX_COMMAND_CHARS,
  MAX_INBOUND_FRAME_BYTES,
  OUTPUT_CHUNK_CHARS,
} from '../../../channel/session/protocol';
import { SessionHost, type SessionAuditEntry, type SessionGrant } from '../../../channel/session/session-host';
import { SessionSlots } from '../../../channel/session/session-slots';
import { FakeTimers } from '../fake-timers';
import { FakeExecutor, FakeSocket, settle, until } from './session-fakes';
import { GRANT, HOUR, b64, ed25519, signedPayload, ticket } from './ticket-fixtures';

const keys = ed25519();

interface World {
  timers: FakeTimers;
  grant: SessionGrant;
  seen: MemoryJtiStore;
  slots: SessionSlots;
  executor: FakeExecutor;
  audit: SessionAuditEntry[];
  tickets: string[];
}

function world(grantOverrides: Partial<SessionGrant> = {}): World {
  const timers = new FakeTimers();
  return {
    timers,
    grant: {
      ...GRANT,
      level: 'Diagnostics',
      expiresAt: new Date(timers.now() + 2 * HOUR),
      ticketPublicKey: keys.publicKey,
      ...grantOverrides,
    },
    seen: new MemoryJtiStore(),
    slots: new SessionSlots(),
    executor: new FakeExecutor(),
    audit: [],
    tickets: [],
  };
}

function open(w: World, relayConnectionId = 'relay-conn-1'): { host: SessionHost; socket: FakeSocket } {
  const socket = new FakeSocket();
  const host = new SessionHost({
    socket,
    executor: w.executor,
    grant: w.grant,
    seen: w.seen,
    slots: w.slots,
    relayConnectionId,
    audit: (entry) => w.audit.push(structuredClone(entry)),
    timers: w.timers,
  });
  return { host, socket };
}

async function hello(w: World, socket: FakeSocket, token?: string): Promise<any> {
  const text = token ?? (await ticket(keys.privateKey));
  w.tickets.push(text);
  socket.deliver({ type: 'hello', ticket: text });
  await until(() => socket.sent.length > 0);
  return socket.sent[0];
}

async function ready(w: World) {
  const session = open(w);
  expect(await hello(w, session.socket)).toMatchObject({ type: 'ready' });
  return session;
}

/** Nothing the node said or recorded contains a ticket. */
function expectNoTicketLeak(w: World, ...sockets: FakeSocket[]): void {
  const said = [...sockets.flatMap((socket) => socket.raw), JSON.stringify(w.audit)].join('\n');
  for (const token of w.tickets) {
    expect(said).not.toContain(token);
    const signature = token.split('.')[2] ?? '';
    if (signature.length >= 16) expect(said).not.toContain(signature);
  }
}

const endEntry = (w: World) => w.audit.find((entry) => entry.event === 'end') as Extract<SessionAuditEntry, { event: 'end' }>;
const commandEntries = (w: World) =>
  w.audit.filter((entry) => entry.event === 'command') as Array<Extract<SessionAuditEntry, { event: 'command' }>>;

describe('hello and the ticket', () => {
  it('a good ticket gets ready with the grant level, the session id and the earlier of the two expiries', async () => {
    const w = world();
    const { host, socket } = open(w, 'sb-hc-id-42');
    const expiresAt = new Date(w.timers.now() + HOUR);
    const first = await hello(w, socket, await ticket(keys.privateKey, { ticketId: 'jti-ready', expiresAt }));
    expect(first).toEqual({
      type: 'ready',
      level: 'Diagnostics',
      sessionId: host.sessionId,
      expiresAt: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000).toISOString(),
      machine: GRANT.machine,
      node: GRANT.node,
    });
    expect(host.state).toBe('ready');
    expect(w.audit).toEqual([
      expect.objectContaining({
        event: 'ready',
        sessionId: host.sessionId,
        relayConnectionId: 'sb-hc-id-42',
        engineer: 'alex@support.example',
        ticketId: 'jti-ready',
        level: 'Diagnostics',
        notes: [],
      }),
    ]);
    expectNoTicketLeak(w, socket);
  });

  it('a ticket claiming Repair on a Diagnostics grant gets Diagnostics, and the record says the claim was ignored', async () => {
    const w = world();
    const { socket } = open(w);
    const token = await signedPayload(keys.privateKey, {
      grantId: GRANT.grantId,
      machine: GRANT.machine,
      engineer: 'mallory@support.example',
      jti: 'jti-claims-repair',
      exp: Math.floor(w.timers.now() / 1000) + 600,
      level: 'DiagnosticsAndRepair',
    });
    expect(await hello(w, socket, token)).toMatchObject({ type: 'ready', level: 'Diagnostics' });
    expect(w.audit[0]).toMatchObject({
      event: 'ready',
      level: 'Diagnostics',
      notes: [expect.stringMatching(/claimed a level; ignored.*Diagnostics/)],
    });
  });

  it.each([
    ['a forged ticket', () => ticket(ed25519().privateKey), 'bad-signature'],
    ['an expired ticket', () => ticket(keys.privateKey, { expiresAt: new Date(Date.now() - 1000) }), 'expired'],
    ['a ticket for another grant', () => ticket(keys.privateKey, { grantId: 'grant-other' }), 'other-grant'],
    ['a ticket for another machine', () => ticket(keys.privateKey, { machine: 'ARC-NODE-2' }), 'other-machine'],
    [
      'an alg none ticket',
      async () => `${b64({ alg: 'none' })}.${b64({ ...GRANT, engineer: 'e', jti: 'n', exp: 4102444800 })}.`,
      'wrong-algorithm',
    ],
    ['text that is not a ticket', async () => 'hello', 'malformed'],
  ])('%s is refused before any command can run, and the connection closed', async (_name, make, reason) => {
    const w = world();
    const { host, socket } = open(w);
    expect(await hello(w, socket, await make())).toMatchObject({ type: 'refused', reason, message: expect.any(String) });
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service' });
    await settle();
    expect(socket.sent).toHaveLength(1);
    expect(socket.closed).toEqual({ code: 1008, reason: `refused: ${reason}` });
    expect(host.state).toBe('ended');
    expect(w.executor.commands).toEqual([]);
    expect(w.audit).toEqual([expect.objectContaining({ event: 'end', reason: 'refused', refusal: reason, level: null, commandsRun: 0 })]);
    expectNoTicketLeak(w, socket);
  });

  it('a reused ticket is refused on the second connection', async () => {
    const w = world();
    const token = await ticket(keys.privateKey);
    expect(await hello(w, open(w).socket, token)).toMatchObject({ type: 'ready' });
    const second = open(w);
    expect(await hello(w, second.socket, token)).toMatchObject({ type: 'refused', reason: 'reused' });
    expect(w.executor.commands).toEqual([]);
  });

  it('a first frame that is not hello, a binary first frame, a frame before ready, and no hello at all are refused', async () => {
    const w = world();
    const notHello = open(w);
    notHello.socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service' });
    expect(notHello.socket.sent).toEqual([{ type: 'refused', reason: 'hello-expected', message: expect.any(String) }]);

    const binary = open(w);
    binary.socket.deliver(Buffer.from('{"type":"hello"}'));
    expect(binary.socket.last()).toMatchObject({ type: 'refused', reason: 'hello-expected' });
    expect(binary.socket.closed?.code).toBe(1003);

    const eager = open(w);
    eager.socket.deliver({ type: 'hello', ticket: await ticket(keys.privateKey) });
    eager.socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service' });
    await settle();
    expect(eager.socket.sent).toEqual([{ type: 'refused', reason: 'hello-expected', message: expect.any(String) }]);

    const silent = open(w);
    w.timers.advance(HELLO_TIMEOUT_MS - 1);
    expect(silent.socket.sent).toEqual([]);
    w.timers.advance(1);
    expect(silent.socket.sent).toEqual([{ type: 'refused', reason: 'hello-timeout', message: expect.any(String) }]);
    expect(w.executor.commands).toEqual([]);
  });

  it('a grant allows two sessions at once; the third is refused until one ends', async () => {
    const w = world();
    const first = await ready(w);
    await ready(w);
    const third = open(w);
    expect(await hello(w, third.socket)).toMatchObject({ type: 'refused', reason: 'too-many-sessions' });
    first.host.end('closed');
    expect((await ready(w)).host.state).toBe('ready');
  });
});

describe('commands', () => {
  it('streams output and done, and records the command with its outcome and output size', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service WinRM' });
    await until(() => w.executor.pending.length === 1);
    w.executor.current.onOutput('output', 'Running  WinRM');
    w.executor.current.onOutput('warning', 'é');
    w.executor.current.finish({ ok: true });
    await until(() => socket.ofType('done').length === 1);
    expect(socket.sent.slice(1)).toEqual([
      { type: 'out', id: 'c1', stream: 'output', text: 'Running  WinRM' },
      { type: 'out', id: 'c1', stream: 'warning', text: 'é' },
      { type: 'done', id: 'c1', ok: true },
    ]);
    expect(commandEntries(w)).toEqual([
      expect.objectContaining({ id: 'c1', command: 'Get-Service WinRM', outcome: 'succeeded', outputBytes: 16 }),
    ]);
  });

  it('output given in one go travels in one frame per stream run, in order; output given later streams as it comes', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service' });
    await until(() => w.executor.pending.length === 1);
    const { onOutput } = w.executor.current;
    for (const line of ['', 'Status  Name', '------  ----', 'Running WinRM', '']) onOutput('output', `${line}\n`);
    onOutput('error', 'one\n');
    onOutput('error', 'two\n');
    onOutput('output', 'after\n');
    await settle();
    expect(socket.sent.slice(1)).toEqual([
      { type: 'out', id: 'c1', stream: 'output', text: '\nStatus  Name\n------  ----\nRunning WinRM\n\n' },
      { type: 'out', id: 'c1', stream: 'error', text: 'one\ntwo\n' },
      { type: 'out', id: 'c1', stream: 'output', text: 'after\n' },
    ]);
    // Still running: what comes later is sent on its own, before the command ends.
    onOutput('output', 'later\n');
    await settle();
    expect(socket.last()).toEqual({ type: 'out', id: 'c1', stream: 'output', text: 'later\n' });
    onOutput('output', 'last\n');
    w.executor.current.finish({ ok: true });
    await until(() => socket.ofType('done').length === 1);
    expect(socket.sent.slice(-2)).toEqual([
      { type: 'out', id: 'c1', stream: 'output', text: 'last\n' },
      { type: 'done', id: 'c1', ok: true },
    ]);
    const sentText = socket
      .ofType('out')
      .map((frame) => frame.text)
      .join('');
    expect(commandEntries(w)).toEqual([expect.objectContaining({ outputBytes: Buffer.byteLength(sentText) })]);
  });

  it('output given in one go over a frame size goes in frames of at most OUTPUT_CHUNK_CHARS, nothing lost or reordered', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-WinEvent' });
    await until(() => w.executor.pending.length === 1);
    const lines = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(4, '0')} ${'é'.repeat(60)}\n`);
    for (const line of lines) w.executor.current.onOutput('output', line);
    w.executor.current.finish({ ok: true });
    await until(() => socket.ofType('done').length === 1);
    const out = socket.ofType('out');
    expect(out.length).toBeGreaterThan(1);
    expect(out.length).toBeLessThan(lines.length / 10);
    for (const frame of out) expect(frame.text.length).toBeLessThanOrEqual(OUTPUT_CHUNK_CHARS);
    expect(out.map((frame) => frame.text).join('')).toBe(lines.join(''));
    expect(socket.last()).toEqual({ type: 'done', id: 'c1', ok: true });
  });

  it('a failed command reports its error; an executor that throws is reported without its internals', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Restart-Service WinRM' });
    await until(() => w.executor.pending.length === 1);
    w.executor.current.finish({ ok: false, error: "The term 'Restart-Service' is not recognized" });
    await until(() => socket.ofType('done').length === 1);
    expect(socket.last()).toEqual({ type: 'done', id: 'c1', ok: false, error: "The term 'Restart-Service' is not recognized" });

    w.executor.run = () => Promise.reject(new Error('pipe C:\\secret\\path broke'));
    socket.deliver({ type: 'run', id: 'c2', command: 'Get-Date' });
    await until(() => socket.ofType('done').length === 2);
    expect(socket.last()).toEqual({ type: 'done', id: 'c2', ok: false, error: 'The node could not run the command.' });
    expect(commandEntries(w).map((entry) => [entry.outcome, entry.error])).toEqual([
      ['failed', "The term 'Restart-Service' is not recognized"],
      ['failed', 'The executor failed: pipe C:\\secret\\path broke'],
    ]);
  });

  it('a second run while one runs is rejected as busy; the first carries on', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-EventLog System -Newest 5' });
    socket.deliver({ type: 'run', id: 'c2', command: 'Get-Process' });
    await until(() => w.executor.pending.length === 1);
    expect(socket.last()).toMatchObject({ type: 'rejected', id: 'c2', reason: 'busy', message: expect.stringContaining("'c1'") });
    expect(w.executor.commands).toEqual(['Get-EventLog System -Newest 5']);
    w.executor.current.finish({ ok: true });
    await until(() => socket.ofType('done').length === 1);
    expect(socket.last()).toEqual({ type: 'done', id: 'c1', ok: true });
  });

  it('a flood of commands starts at most the rate limit, then one more as the bucket refills', async () => {
    const w = world();
    w.executor.instant = { output: 'ok' };
    const { socket } = await ready(w);
    for (let index = 0; index < 30; index += 1) {
      socket.deliver({ type: 'run', id: `f${index}`, command: 'Get-Date' });
      await settle(2);
    }
    expect(w.executor.commands).toHaveLength(COMMANDS_PER_WINDOW);
    const limited = socket.ofType('rejected');
    expect(limited).toHaveLength(30 - COMMANDS_PER_WINDOW);
    expect(limited[0]).toMatchObject({ reason: 'rate-limited', retryAfterMs: 1000 });
    w.timers.advance(1000);
    socket.deliver({ type: 'run', id: 'after', command: 'Get-Date' });
    await until(() => socket.last().type === 'done');
    expect(socket.last()).toEqual({ type: 'done', id: 'after', ok: true });
    await settle();
    expect(endEntry(w)).toBeUndefined();
  });

  it('cancel stops the running command and says so; cancelling nothing is rejected', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'cancel', id: 'nothing' });
    expect(socket.last()).toMatchObject({ type: 'rejected', id: 'nothing', reason: 'not-running' });
    socket.deliver({ type: 'run', id: 'long', command: 'Test-NetConnection -Port 443' });
    await until(() => w.executor.pending.length === 1);
    socket.deliver({ type: 'cancel', id: 'long' });
    expect(w.executor.current.signal.aborted).toBe(true);
    await until(() => socket.ofType('done').length === 1);
    expect(socket.last()).toEqual({ type: 'done', id: 'long', ok: false, error: 'Cancelled by the engineer.' });
    expect(commandEntries(w)[0]).toMatchObject({ id: 'long', outcome: 'cancelled' });
  });

  it('a command too long is rejected by id and the session goes on', async () => {
    const w = world();
    const { host, socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'big', command: 'x'.repeat(MAX_COMMAND_CHARS + 1) });
    expect(socket.last()).toMatchObject({ type: 'rejected', id: 'big', reason: 'command-too-long' });
    expect(host.state).toBe('ready');
    expect(w.executor.commands).toEqual([]);
  });

  it.each([
    ['an oversize frame', () => 'x'.repeat(MAX_INBOUND_FRAME_BYTES + 1), 1009],
    ['a binary frame', () => Buffer.from('{}'), 1003],
    ['malformed JSON', () => '{"type":"run",', 1008],
    ['an unknown frame type', () => ({ type: 'exec', command: 'x' }), 1008],
    ['a second hello', () => ({ type: 'hello', ticket: 'a.b.c' }), 1008],
  ])('%s ends the session with limit', async (_name, frame, code) => {
    const w = world();
    const { host, socket } = await ready(w);
    socket.deliver(frame());
    expect(socket.last()).toEqual({ type: 'ended', reason: 'limit' });
    expect(socket.closed?.code).toBe(code);
    expect(host.state).toBe('ended');
    expect(endEntry(w)).toMatchObject({ reason: 'limit', detail: expect.stringMatching(/frame|hello/i) });
  });
});

describe('the end of a session', () => {
  it("end('revoked') during a command: ended is the last frame, the close starts within the call, the command is stopped", async () => {
    const w = world();
    const { host, socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-WinEvent -LogName System' });
    await until(() => w.executor.pending.length === 1);
    w.executor.current.onOutput('output', 'event 1');
    host.end('revoked');
    // What the command printed just before goes first.
    expect(socket.sent.slice(-2)).toEqual([
      { type: 'out', id: 'c1', stream: 'output', text: 'event 1' },
      { type: 'ended', reason: 'revoked' },
    ]);
    expect(socket.closed).toEqual({ code: 1000, reason: 'revoked' });
    expect(w.executor.current.signal.aborted).toBe(true);
    expect(w.slots.open).toBe(0);
    w.executor.current.onOutput('output', 'event 2');
    await settle();
    expect(socket.last()).toEqual({ type: 'ended', reason: 'revoked' });
    expect(commandEntries(w)).toEqual([expect.objectContaining({ id: 'c1', outcome: 'interrupted', outputBytes: 7 })]);
    expect(endEntry(w)).toMatchObject({ reason: 'revoked', engineer: 'alex@support.example', level: 'Diagnostics', commandsRun: 1 });
    host.end('expired');
    expect(socket.ofType('ended')).toHaveLength(1);
    expectNoTicketLeak(w, socket);
  });

  it('the session ends by itself at the ticket expiry when it comes before the grant', async () => {
    const w = world();
    const { socket } = open(w);
    await hello(w, socket, await ticket(keys.privateKey, { expiresAt: new Date(w.timers.now() + 60_000) }));
    w.timers.advance(50_000);
    expect(socket.closed).toBeUndefined();
    w.timers.advance(10_000);
    expect(socket.last()).toEqual({ type: 'ended', reason: 'expired' });
    expect(endEntry(w)).toMatchObject({ reason: 'expired' });
  });

  it('the engineer closing mid-command stops the command and ends the session as closed, without sending', async () => {
    const w = world();
    const { socket } = await ready(w);
    socket.deliver({ type: 'run', id: 'c1', command: 'Get-Service' });
    await until(() => w.executor.pending.length === 1);
    const frames = socket.sent.length;
    socket.peerClose();
    expect(w.executor.current.signal.aborted).toBe(true);
    await settle();
    expect(socket.sent).toHaveLength(frames);
    expect(endEntry(w)).toMatchObject({ reason: 'closed' });
    expect(w.slots.open).toBe(0);
  });

  it('a session whose record cannot be written does not start', async () => {
    const w = world();
    const socket = new FakeSocket();
    new SessionHost({
      socket,
      executor: w.executor,
      grant: w.grant,
      seen: w.seen,
      slots: w.slots,
      relayConnectionId: 'r',
      audit: (entry) => {
        if (entry.event === 'ready') throw new Error('disk full');
      },
      timers: w.timers,
    });
    expect(await hello(w, socket)).toEqual({ type: 'ended', reason: 'error' });
    expect(socket.closed?.code).toBe(1011);
    expect(w.slots.open).toBe(0);
  });
});
