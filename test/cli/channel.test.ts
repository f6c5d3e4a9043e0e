/**
 * The channel's control plane, in-process against the ARM emulator (real HybridCompute, Relay and
 * Support SDKs, traffic validated with oav) with the test relay as the namespace's data plane:
 * grant opens the channel (hybrid connections, protected settings the handler accepts, ticket key
 * and access ticket owner-only), connect reaches a node stand-in (the product's listener and
 * session host), ticket reissues, revoke deletes the hybrid connections even for an unreachable
 * machine, status and cleanup-channels find what ended grants left, the support request is checked.
 * No token, key or ticket ever reaches stdout or stderr unless asked.
 */
import { createPublicKey } from 'crypto';
import { promises as fs } from 'fs';
import path from 'path';
import { EventEmitter } from 'events';
import { PassThrough } from 'stream';
import type WebSocket from 'ws';
import { RelayListener } from '../../channel/relay/listener';
import { parseSas } from '../../channel/relay/sas';
import { MemoryJtiStore } from '../../channel/session/jti-store';
import { SessionHost, type CommandExecutor } from '../../channel/session/session-host';
import { SessionSlots } from '../../channel/session/session-slots';
import { importTicketPublicKey } from '../../channel/session/ticket-key';
import { sessionSocketFromWebSocket } from '../../channel/session/websocket-session-socket';
import { checkPublicSettings } from '../../cli/settings/settings-check';
import { toDesiredState } from '../../core/desired-state';
import { readChannelSettings, type ChannelSettings } from '../../handlers/channel-settings';
import type { ExtensionRun, ExtensionRunResult } from '../../sim/arm';
import { startTestRelay, type TestRelay } from '../../sim/relay';
import { capture, runOffline, startEmulatedCli, SUBSCRIPTION, type CliRun, type EmulatedCli } from '../support/cli-harness';
import { all, relayClient, waitFor } from '../sim/arm/emulator-clients';

const RG = 'rg-servers';
const RELAY_RG = 'rg-relay';
const NS = 'contoso-support-relay';
const EXTENSION = 'WindowsRemoteSupport';
const HOUR = 3_600_000;
const grantArgs = (ticket = 'TKT-OPEN') => ['--level', 'Diagnostics', '--duration', '8h', '--support-request', ticket, '--accept-terms'];
const machine = (name: string) => ['--machine', name, '--resource-group', RG];

/** The extension manager: cluster nodes reported as the handler does; protected settings kept per machine. */
const protectedOf = new Map<string, Record<string, any>>();
async function extensionManager(run: ExtensionRun): Promise<ExtensionRunResult> {
  if (run.kind === 'delete') return { provisioningState: 'Succeeded' };
  if (run.machine.name === 'refuses-1')
    return {
      provisioningState: 'Failed',
      instanceView: { status: { code: 'ProvisioningState/failed', level: 'Error', message: 'Enable failed: the node said no.' } },
    };
  protectedOf.set(run.machine.name, run.properties.protectedSettings ?? {});
  const nodes = run.machine.name === 'clu-a' ? ['CLU-A', 'CLU-B'] : [];
  const lines = nodes.map((node) => `Node ${node}: channel listening.`);
  return {
    provisioningState: 'Succeeded',
    instanceView: { status: { code: 'ProvisioningState/succeeded', level: 'Info', message: ['Applied.', ...lines].join('\n') } },
  };
}

let cli: EmulatedCli;
let relay: TestRelay;
let home: string;
const cleanup: Array<() => unknown> = [];

beforeAll(async () => {
  relay = await startTestRelay({ rendezvousTimeoutMs: 2000 });
  cli = await startEmulatedCli({
    operationMs: 10,
    runExtension: extensionManager,
    machines: ['web-1', 'web-2', 'off-1', 'clu-a', 'refuses-1', 'other-1'].map((name) => ({
      subscriptionId: SUBSCRIPTION,
      resourceGroup: RG,
      name,
    })),
    relayNamespaces: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RELAY_RG, name: NS }],
    supportTickets: [
      { subscriptionId: SUBSCRIPTION, name: 'TKT-OPEN', status: 'Open', title: 'Disk latency on the file server' },
      { subscriptionId: SUBSCRIPTION, name: 'TKT-CLOSED', status: 'Closed', title: 'Solved long ago' },
    ],
  });
  cli.emulator.attachRelay(NS, relay);
  home = path.join(cli.folder, 'owner-home');
  for (const name of ['web-1', 'web-2', 'off-1', 'clu-a', 'refuses-1', 'other-1']) {
    expect((await run(['deploy', ...machine(name)])).code).toBe(name === 'refuses-1' ? 4 : 0);
  }
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await cli.close();
  await relay.close();
});

/** Every run: the owner's folder in the test's folder, the relay's CA trusted, no secret printed. */
async function run(argv: string[], io: Parameters<EmulatedCli['run']>[1] = {}): Promise<CliRun> {
  const result = await cli.run(argv, {
    env: { AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, ARC_REMOTE_SUPPORT_HOME: home },
    relayCa: relay.caPem,
    ...io,
  });
  if (!argv.includes('--show-ticket')) expectNoSecret(`${result.stdout}\n${result.stderr}`);
  return result;
}

/** The engineer's connect: no Resource Manager, only the ticket file and the relay. */
async function connect(argv: string[], io: Parameters<EmulatedCli['run']>[1] = {}): Promise<CliRun> {
  const result = await runOffline(['connect', ...argv], { cwd: cli.folder, env: {}, relayCa: relay.caPem, ...io });
  expectNoSecret(`${result.stdout}\n${result.stderr}`);
  return result;
}

function expectNoSecret(text: string): void {
  expect(text).not.toMatch(/SharedAccessSignature|sig=|PRIVATE KEY/);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
}

const hybridConnections = async () =>
  (await all(relayClient(cli.emulator, SUBSCRIPTION).hybridConnections.listByNamespace(RELAY_RG, NS))).map((hc) => hc.name!).sort();
const settingsOf = (name: string) => cli.emulator.extension(SUBSCRIPTION, RG, name, EXTENSION)!.properties.settings as Record<string, any>;

async function grantWithChannel(name: string, extra: string[] = []): Promise<{ result: CliRun; grantId: string; ticketFile: string }> {
  const ticketFile = path.join(cli.folder, `${name}-ticket.json`);
  const result = await run(['grant', ...machine(name), ...grantArgs(), '--relay-namespace', NS, '--ticket-file', ticketFile, ...extra]);
  expect(result.code).toBe(0);
  return { result, grantId: settingsOf(name).access.grantId, ticketFile };
}

/** The node's side as the agent runs it: listen with the token from protected settings, host sessions with the grant's key. */
async function nodeStandIn(
  machineName: string,
  node: string,
  executor: CommandExecutor,
): Promise<{ listener: RelayListener; hosts: SessionHost[] }> {
  const settings = settingsOf(machineName);
  const channel = (
    readChannelSettings(settings, protectedOf.get(machineName), toDesiredState(settings).grant, new Date()) as ChannelSettings
  ).get(node)!;
  const listenToken = (protectedOf.get(machineName)!.channel.listenTokens as Record<string, string>)[node]!;
  const hosts: SessionHost[] = [];
  const sockets: WebSocket[] = [];
  const seen = new MemoryJtiStore();
  const slots = new SessionSlots();
  const listener = new RelayListener({
    endpoint: { namespace: channel.record.relayNamespace, name: channel.record.hybridConnection },
    token: () => listenToken,
    transport: { ca: relay.caPem, proxy: { explicit: null } },
    slowRetryMs: 60_000,
    onRendezvous: async (rendezvous) => {
      const socket = await rendezvous.accept();
      sockets.push(socket);
      hosts.push(
        new SessionHost({
          socket: sessionSocketFromWebSocket(socket),
          executor,
          grant: {
            grantId: channel.record.grantId,
            level: 'Diagnostics',
            expiresAt: new Date(settings.access.expiresAt),
            machine: channel.record.machine,
            node,
            ticketPublicKey: importTicketPublicKey(channel.record.ticketPublicKey),
          },
          seen,
          slots,
          relayConnectionId: rendezvous.id,
          audit: () => undefined,
        }),
      );
    },
  });
  cleanup.push(async () => {
    for (const socket of sockets) socket.terminate();
    await listener.stop();
  });
  listener.start();
  await waitFor(async () => listener.state.status === 'connected');
  return { listener, hosts };
}

const echo: CommandExecutor = {
  run: async (command, onOutput) => {
    onOutput('output', `Status : Running\n`);
    onOutput('output', `(${command})\n`);
    return command.startsWith('Restart')
      ? { ok: false, error: 'The term Restart-Service is not allowed at level Diagnostics.' }
      : { ok: true };
  },
};

describe('grant --relay-namespace', () => {
  it('opens the channel: a hybrid connection with Listen and Send rules, protected settings the handler accepts, a public marker, owner-only key and ticket', async () => {
    const started = Date.now();
    const { result, grantId, ticketFile } = await grantWithChannel('web-1');
    const hc = `rs-web-1-${grantId.replace(/-/g, '').slice(0, 8)}`;
    expect(result.stdout).toContain(`channel: 1 hybrid connection(s) in ${NS}`);
    expect(result.stdout).toContain(ticketFile);

    const client = relayClient(cli.emulator, SUBSCRIPTION);
    expect(await hybridConnections()).toContain(hc);
    expect((await client.hybridConnections.get(RELAY_RG, NS, hc)).requiresClientAuthorization).toBe(true);
    const rules = await all(client.hybridConnections.listAuthorizationRules(RELAY_RG, NS, hc));
    expect(rules.map((rule) => [rule.name, rule.rights])).toEqual(
      expect.arrayContaining([
        ['agent-listen', ['Listen']],
        ['engineer-send', ['Send']],
      ]),
    );

    // Public: the grant and the marker, nothing secret; the schema accepts it.
    const settings = settingsOf('web-1');
    checkPublicSettings(settings);
    expect(settings.channel).toEqual({
      relayNamespace: relay.host,
      relayNamespaceId: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RELAY_RG}/providers/Microsoft.Relay/namespaces/${NS}`,
      machine: 'web-1',
      hybridConnections: { 'WEB-1': hc },
    });
    expect(JSON.stringify(settings)).not.toMatch(/SharedAccessSignature|PUBLIC KEY/);

    // Protected: exactly what the handler reads, bound to the grant, the listen token ending with it.
    const channels = readChannelSettings(settings, protectedOf.get('web-1'), toDesiredState(settings).grant, new Date()) as ChannelSettings;
    expect([...channels.keys()]).toEqual(['WEB-1']);
    const record = channels.get('WEB-1')!.record;
    expect(record).toMatchObject({ grantId, machine: 'web-1', relayNamespace: relay.host, hybridConnection: hc });
    expect(record.listenTokenExpiresAt.toISOString()).toBe(new Date(settings.access.expiresAt).toISOString());

    // The key stays with the owner (0600 in a 0700 folder); the ticket file is 0600 and holds no key.
    const keyFile = path.join(home, 'grants', grantId, 'ticket-key.pem');
    expect((await fs.stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(keyFile))).mode & 0o777).toBe(0o700);
    expect(createPublicKey(await fs.readFile(keyFile, 'utf8')).export({ type: 'spki', format: 'pem' })).toBe(record.ticketPublicKey);
    expect((await fs.stat(ticketFile)).mode & 0o777).toBe(0o600);
    const ticket = JSON.parse(await fs.readFile(ticketFile, 'utf8'));
    expect(JSON.stringify(ticket)).not.toMatch(/PRIVATE KEY/);
    expect(ticket).toMatchObject({
      machine: 'web-1',
      grantId,
      level: 'Diagnostics',
      relayNamespace: relay.host,
      engineer: 'support-request:TKT-OPEN',
    });
    const sendToken = parseSas(ticket.nodes['WEB-1'].sendToken);
    expect(sendToken.ok && sendToken.token.keyName).toBe('engineer-send');
    const sendExpiry = sendToken.ok ? sendToken.token.expiresAt.getTime() : 0;
    expect(sendExpiry).toBeLessThanOrEqual(Math.min(Date.parse(settings.access.expiresAt), Date.now() + 8 * HOUR));
    expect(sendExpiry).toBeGreaterThanOrEqual(started + 8 * HOUR - 5000 - 1000);
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });

  it('a ticket lasts 8 hours at most in a longer grant; --show-ticket prints it; the default file is in the owner folder', async () => {
    const result = await run([
      'grant',
      ...machine('web-2'),
      '--level',
      'Diagnostics',
      '--duration',
      '2d',
      '--support-request',
      'TKT-OPEN',
      '--accept-terms',
      '--relay-namespace',
      NS,
      '--engineer',
      'alex@support.example',
      '--show-ticket',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Access ticket for web-2 \(bearer secrets/);
    const grantId = settingsOf('web-2').access.grantId as string;
    const file = path.join(home, 'tickets', `web-2-${grantId.replace(/-/g, '').slice(0, 8)}.json`);
    const ticket = JSON.parse(await fs.readFile(file, 'utf8'));
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(ticket.engineer).toBe('alex@support.example');
    expect(Date.parse(ticket.expiresAt)).toBeLessThanOrEqual(Date.now() + 8 * HOUR);
    expect(Date.parse(ticket.grantExpiresAt) - Date.parse(ticket.expiresAt)).toBeGreaterThan(30 * HOUR);
  });

  it('a cluster machine gets one hybrid connection per node its extension reports', async () => {
    const { grantId } = await grantWithChannel('clu-a');
    const tag = grantId.replace(/-/g, '').slice(0, 8);
    expect(settingsOf('clu-a').channel.hybridConnections).toEqual({ 'CLU-A': `rs-clu-a-${tag}-clu-a`, 'CLU-B': `rs-clu-a-${tag}-clu-b` });
    expect([
      ...(
        readChannelSettings(
          settingsOf('clu-a'),
          protectedOf.get('clu-a'),
          toDesiredState(settingsOf('clu-a')).grant,
          new Date(),
        ) as ChannelSettings
      ).keys(),
    ]).toEqual(['CLU-A', 'CLU-B']);
  });

  it('refuses a relay namespace that does not exist, naming it, and writes nothing', async () => {
    const writes = cli.emulator.counters.writes;
    const result = await run(['grant', ...machine('web-1'), ...grantArgs(), '--relay-namespace', 'no-such-relay']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--relay-namespace: received "no-such-relay"\. No relay namespace of that name is in subscription/);
    expect(cli.emulator.counters.writes).toBe(writes);
  });

  it('a grant the extension does not take deletes the hybrid connection it made', async () => {
    const before = await hybridConnections();
    const result = await run(['grant', ...machine('refuses-1'), ...grantArgs(), '--relay-namespace', NS]);
    expect(result.code).toBe(4);
    expect(result.stdout).toMatch(/were deleted again/);
    expect(await hybridConnections()).toEqual(before);
  });
});

describe('connect', () => {
  it('runs one command through the relay and the node, exits with its outcome, and prints JSON lines for scripts', async () => {
    const { ticketFile, grantId } = await grantWithChannel('other-1');
    await nodeStandIn('other-1', 'OTHER-1', echo);
    const text = await connect(['--ticket', ticketFile, '--command', 'Get-Service WinRM']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('Status : Running\n(Get-Service WinRM)\n');
    expect(text.stderr).toMatch(/Connected to other-1 node OTHER-1 at level Diagnostics/);

    // A ticket opens one session: the second use is refused in words; `ticket` issues a fresh one.
    const again = await connect(['--ticket', ticketFile, '--command', 'hostname']);
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/refused the ticket: it was used before.*arc-remote-support ticket/);

    const fresh = path.join(cli.folder, 'fresh-ticket.json');
    const issued = await run([
      'ticket',
      ...machine('other-1'),
      '--grant',
      grantId,
      '--ticket-file',
      fresh,
      '--engineer',
      'sam@support.example',
    ]);
    expect(issued.code).toBe(0);
    expect(issued.stderr).toContain(fresh);
    expect((await fs.stat(fresh)).mode & 0o777).toBe(0o600);
    const json = await connect(['--ticket', fresh, '--command', 'Restart-Service Spooler', '--output', 'json']);
    expect(json.code).toBe(1);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ type: 'ready', machine: 'other-1', node: 'OTHER-1', level: 'Diagnostics' });
    // The two lines the command gave in one go come in one out frame.
    expect(lines.slice(1)).toEqual([
      { type: 'out', stream: 'output', text: 'Status : Running\n(Restart-Service Spooler)\n' },
      { type: 'done', ok: false, error: 'The term Restart-Service is not allowed at level Diagnostics.' },
    ]);
  });

  it('says nobody is listening yet when the node has not applied the grant', async () => {
    const { ticketFile } = await grantWithChannel('web-1');
    const result = await connect(['--ticket', ticketFile, '--command', 'hostname']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/Node WEB-1 is not listening on rs-web-1-\w{8} in .* yet: the grant has not been applied there/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an unreadable, damaged or expired ticket file in words (exit 2)', async () => {
    const missing = await connect(['--ticket', path.join(cli.folder, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/The ticket file .*nope\.json cannot be read \(ENOENT\)/);
    const damaged = path.join(cli.folder, 'damaged.json');
    await fs.writeFile(damaged, '{"kind": "arc-remote');
    expect((await connect(['--ticket', damaged])).stderr).toMatch(/is not JSON: it is damaged/);
    const { ticketFile } = await grantWithChannel('web-1');
    const later = await connect(['--ticket', ticketFile], { now: () => new Date(Date.now() + 9 * HOUR) });
    expect(later.code).toBe(2);
    expect(later.stderr).toMatch(/The access ticket in .* expired at .*arc-remote-support ticket --machine web-1 --grant/);
  });

  it('the prompt runs commands one at a time; a revoke ends the session in words, and deletes the hybrid connection of a disconnected machine', async () => {
    const { ticketFile, grantId } = await grantWithChannel('off-1');
    await nodeStandIn('off-1', 'OFF-1', echo);
    const stdin = new PassThrough();
    const screen = capture();
    const session = connect(['--ticket', ticketFile], { stdin, stdout: screen.stream });
    await waitFor(async () => screen.text().includes('[off-1 OFF-1 Diagnostics]> '));
    stdin.write('Get-Process\n');
    await waitFor(async () => screen.text().includes('(Get-Process)\n[off-1 OFF-1 Diagnostics]> '));
    cli.emulator.setMachineStatus(SUBSCRIPTION, RG, 'off-1', 'Disconnected');
    const revoked = await run(['revoke', ...machine('off-1'), '--timeout', '2s']);
    cli.emulator.setMachineStatus(SUBSCRIPTION, RG, 'off-1', 'Connected');
    expect(revoked.stdout).toMatch(/channel closed: rs-off-1-\w{8} deleted/);
    expect(await hybridConnections()).not.toContain(`rs-off-1-${grantId.replace(/-/g, '').slice(0, 8)}`);
    const ended = await session;
    expect(screen.text()).toBe('[off-1 OFF-1 Diagnostics]> Status : Running\n(Get-Process)\n[off-1 OFF-1 Diagnostics]> ');
    expect(ended.code).toBe(6);
    expect(ended.stderr).toMatch(/The session ended: the connection closed\. The access may have been revoked/);
    // The owner's key for that grant went with its last machine.
    await expect(fs.access(path.join(home, 'grants', grantId))).rejects.toThrow();
  });
});

describe('connect: Ctrl+C', () => {
  it('cancels the running command and keeps the session; twice at an idle prompt ends it (exit 0)', async () => {
    const { ticketFile } = await grantWithChannel('web-2');
    const slow: CommandExecutor = {
      run: (command, onOutput, signal) =>
        new Promise((resolve) => {
          if (command !== 'Wait-Forever') {
            onOutput('output', `(${command})\n`);
            return resolve({ ok: true });
          }
          onOutput('output', 'waiting...\n');
          signal.addEventListener('abort', () => resolve({ ok: false, error: 'The command was cancelled.' }));
        }),
    };
    await nodeStandIn('web-2', 'WEB-2', slow);
    const stdin = new PassThrough();
    const screen = capture();
    const errors = capture();
    const signals = new EventEmitter();
    const session = connect(['--ticket', ticketFile], { stdin, stdout: screen.stream, stderr: errors.stream, signals });
    await waitFor(async () => screen.text().endsWith('> '));
    stdin.write('Wait-Forever\n');
    await waitFor(async () => screen.text().includes('waiting...'));
    signals.emit('SIGINT');
    await waitFor(async () => errors.text().includes('Failed: Cancelled by the engineer.'));
    stdin.write('hostname\n');
    await waitFor(async () => screen.text().includes('(hostname)\n'));
    signals.emit('SIGINT');
    await waitFor(async () => errors.text().includes('Press Ctrl+C again to end the session'));
    signals.emit('SIGINT');
    expect((await session).code).toBe(0);
    expect(errors.text()).toMatch(/Cancelling the command \(the session stays open\)/);
  });
});

describe('status and cleanup-channels', () => {
  it('shows the channel in force, lists hybrid connections left from ended grants, and removes only those', async () => {
    const { grantId } = await grantWithChannel('web-1');
    const tag = grantId.replace(/-/g, '').slice(0, 8);
    const client = relayClient(cli.emulator, SUBSCRIPTION);
    await client.hybridConnections.createOrUpdate(RELAY_RG, NS, 'rs-web-1-0badc0de', { requiresClientAuthorization: true });
    await client.hybridConnections.createOrUpdate(RELAY_RG, NS, 'rs-web-10-0badc0de', { requiresClientAuthorization: true });

    const status = await run(['status', ...machine('web-1'), '--relay-namespace', NS, '--output', 'json']);
    expect(status.code).toBe(0);
    const seen = JSON.parse(status.stdout).machines[0];
    expect(seen.channel).toBe(`${NS}: rs-web-1-${tag}`);
    expect(seen.leftoverChannels).toEqual(expect.arrayContaining([`${NS}/rs-web-1-0badc0de`]));
    expect(seen.leftoverChannels).not.toContain(`${NS}/rs-web-1-${tag}`);
    expect(seen.leftoverChannels).not.toContain(`${NS}/rs-web-10-0badc0de`);
    const table = await run(['status', ...machine('web-1'), '--relay-namespace', NS]);
    expect(table.stdout).toMatch(/Left from ended grants/);

    const cleaned = await run(['cleanup-channels', ...machine('web-1'), '--relay-namespace', NS]);
    expect(cleaned.code).toBe(0);
    expect(cleaned.stdout).toMatch(/rs-web-1-0badc0de deleted/);
    const left = await hybridConnections();
    expect(left).toContain(`rs-web-1-${tag}`);
    expect(left).toContain('rs-web-10-0badc0de');
    expect(left.filter((name) => name.startsWith('rs-web-1-'))).toEqual([`rs-web-1-${tag}`]);
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});

describe('ticket', () => {
  it('refuses without the grant key here, and after the grant expired, naming the fix', async () => {
    const { grantId } = await grantWithChannel('web-2');
    const elsewhere = await run(['ticket', ...machine('web-2'), '--grant', grantId], {
      env: { AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, ARC_REMOTE_SUPPORT_HOME: path.join(cli.folder, 'another-home') },
    });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(
      /holds no channel record for this grant on web-2: it was made from another computer or account, or revoked/,
    );
    const late = await run(['ticket', ...machine('web-2'), '--grant', grantId], { now: () => new Date(Date.now() + 9 * HOUR) });
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/That grant expired at .*; a ticket cannot outlive it\. Grant access again\./);
  });
});

describe('the support request', () => {
  it('refuses one that does not exist or is closed, naming it, before anything is written', async () => {
    const writes = cli.emulator.counters.writes;
    const missing = await run(['grant', ...machine('web-1'), ...grantArgs('TKT-NOPE')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--support-request: received "TKT-NOPE"\. No support request of that name or number is in subscription/);
    const closed = await run(['grant', ...machine('web-1'), ...grantArgs('TKT-CLOSED')]);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toMatch(/That support request \("Solved long ago"\) is Closed/);
    expect(cli.emulator.counters.writes).toBe(writes);
  });

  it('when the identity may not read tickets: a clear refusal, or with the skip option a grant that records it', async () => {
    cli.emulator.setSupportTicketReadAccess(SUBSCRIPTION, false);
    try {
      const refused = await run(['grant', ...machine('web-2'), ...grantArgs()]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/may not read support tickets .*403.*--skip-support-request-check/);
      const skipped = await run(['grant', ...machine('web-2'), ...grantArgs(), '--skip-support-request-check']);
      expect(skipped.code).toBe(0);
      expect(skipped.stderr).toMatch(/TKT-OPEN was NOT checked/);
      expect(settingsOf('web-2').access.supportRequestChecked).toBe(false);
      checkPublicSettings(settingsOf('web-2'));
    } finally {
      cli.emulator.setSupportTicketReadAccess(SUBSCRIPTION, true);
    }
    await run(['grant', ...machine('web-2'), ...grantArgs()]);
    expect(settingsOf('web-2').access).not.toHaveProperty('supportRequestChecked');
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});
