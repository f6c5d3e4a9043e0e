/**
 * The channel on a node, end to end on the simulated machine: the handler package applies a grant
 * whose protected settings carry the channel; the Channel task's agent listens at the test relay;
 * an engineer connects with a ticket, runs a diagnostic command in the JEA session as the grant's
 * account, is refused a repair command at Diagnostics; the owner revokes through the extension
 * settings, and the engineer receives `ended` and a close within 5 s, the session process is gone,
 * the account deleted, a new connect finds no listener, and the session's record and events stay.
 */
import { randomUUID } from 'crypto';
import path from 'path';
import { loadExtensionIdentity } from '../../../manifests/extension-identity';
import { bundleHandler } from '../../../scripts/build/bundle';
import { BackgroundTasks, installedAgentTaskRunner, type AgentRun } from '../../../sim/windows/agent-task-runner';
import { updateMachine } from '../../../sim/windows/default-machine';
import { advanceClock } from '../../../sim/windows/simulation';
import { RelayConnectError } from '../../../channel/relay/relay-error';
import type { SessionEnd } from '../../../channel/session/engineer-session';
import { CHANNEL_SESSIONS_FOLDER, CHANNEL_TOKEN_FILE, GROUPS, channelUserName } from '../../../core/node-layout';
import { ExtensionFixture, grantSettings, iso } from '../../support/extension-fixture';
import {
  addAgentToPackage,
  startChannelRig,
  startChannelTask,
  waitFor,
  type ChannelProcess,
  type ChannelRig,
} from '../../../sim/relay/channel-rig';

const NODE = 'ARC-NODE-1';
jest.setTimeout(60_000);

describe('the channel on a node (handler package, agent, test relay, simulated Windows)', () => {
  let fixture: ExtensionFixture;
  let rig: ChannelRig;
  let agent: ChannelProcess | undefined;

  beforeAll(async () => {
    fixture = await ExtensionFixture.create((machine) => {
      // Today's time: tickets and tokens are checked against it.
      machine.clock.nowUtc = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    });
    rig = await startChannelRig(fixture.base);
    // The package's agent, bundled from this checkout, and its scripts beside the handler: install copies them onto the node.
    const built = path.join(fixture.base, 'build', 'handler.js');
    await bundleHandler({ identity: loadExtensionIdentity(), outFile: built });
    await addAgentToPackage(fixture.root, path.join(path.dirname(built), 'agent.js'));
  });

  afterAll(async () => {
    agent?.kill();
    await rig?.close();
    await fixture?.remove();
  });

  it('gives an engineer a JEA session through the relay and ends it within 5 s of a revoke', async () => {
    const now = new Date();
    const settings = grantSettings(now);
    const access = settings.access as { grantId: string; expiresAt: string };
    const expiresAt = new Date(access.expiresAt);
    const account = channelUserName(access.grantId);
    await fixture.writeSettings(0, await rig.channelSettings(settings, expiresAt, [NODE]));
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    const enabled = await fixture.run('enable', { sequenceNumber: 0 });
    expect(enabled.stderr).toBe('');
    expect(enabled.exitCode).toBe(0);

    // The node: the account exists, is in the level's group, the token is stored but not in clear.
    let node = (await fixture.machine()).nodes[NODE]!;
    expect(Object.values(node.users ?? {}).map((user) => user.name)).toContain(account);
    expect(node.groups[GROUPS.diagnostics.toLowerCase()]!.members.map((m) => m.toLowerCase())).toContain(
      `${NODE}\\${account}`.toLowerCase(),
    );
    const stored = node.files[CHANNEL_TOKEN_FILE.toLowerCase()];
    expect(stored).toBeDefined();
    const modelText = JSON.stringify(await fixture.machine());
    expect(modelText).not.toContain(rig.sendToken(NODE, expiresAt).split('sig=')[1]!.split('&')[0]!);
    expect(modelText).not.toMatch(/SharedAccessSignature sr=/);

    agent = await startChannelTask(fixture.machinePath, NODE, rig.relay);
    await waitFor(
      () => rig.relay.counters.openListeners(rig.hybridConnection(NODE)) === 1,
      15_000,
      () => agent!.output(),
    );

    const engineer = await rig.connect(NODE, access.grantId, expiresAt);
    // The level is the node's grant, whatever the ticket says.
    expect(engineer.ready).toMatchObject({ level: 'Diagnostics', node: NODE, machine: 'ARC-NODE-1' });
    let output = '';
    const listed = await engineer.run('Get-Service -Name WinRM', (_stream, text) => (output += text));
    expect(listed).toMatchObject({ ok: true });
    expect(output).toMatch(/WinRM/);
    const repair = await engineer.run('Restart-Service -Name Spooler', () => undefined);
    expect(repair.ok).toBe(false);
    expect(repair.error ?? '').toMatch(/not recognized/i);
    const processes = (await fixture.machine()).nodes[NODE]!.processes ?? [];
    expect(processes.length).toBe(1);

    // The public settings re-sent without the protected ones (a deploy; Azure never returns them): the channel stays.
    const resent = await rig.channelSettings(settings, expiresAt, [NODE]);
    await fixture.writeSettings(1, { publicSettings: resent.publicSettings });
    expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);
    expect(Object.values((await fixture.machine()).nodes[NODE]!.users ?? {}).map((user) => user.name)).toContain(account);
    expect((await engineer.run('Get-Service -Name WinRM', () => undefined)).ok).toBe(true);

    // Revoke through the extension settings: level None.
    const ended = engineer.ended;
    const revokedAt = Date.now();
    await fixture.writeSettings(3, { publicSettings: { ...settings, access: { level: 'None' } } });
    expect((await fixture.run('enable', { sequenceNumber: 3 })).exitCode).toBe(0);
    const end: SessionEnd = await ended;
    await engineer.closed;
    expect(Date.now() - revokedAt).toBeLessThan(5000);
    expect(end.reason).toBe('revoked');

    // The agent exits: no listener without a grant; a new connect finds nobody.
    const exit = await agent.exited;
    expect(exit.exitCode).toBe(0);
    await expect(rig.connect(NODE, access.grantId, expiresAt)).rejects.toMatchObject({
      kind: 'no-listener',
    } satisfies Partial<RelayConnectError>);

    node = (await fixture.machine()).nodes[NODE]!;
    expect(Object.values(node.users ?? {}).map((user) => user.name)).not.toContain(account);
    expect(node.processes ?? []).toEqual([]);
    expect(node.files[CHANNEL_TOKEN_FILE.toLowerCase()]).toBeUndefined();

    // The session's record and events stay.
    const records = Object.values(node.files).filter(
      (file) => file.path.toLowerCase().startsWith(`${CHANNEL_SESSIONS_FOLDER.toLowerCase()}\\`) && file.type === 'file',
    );
    expect(records).toHaveLength(1);
    const record = JSON.parse(Buffer.from(records[0]!.contentBase64 ?? '', 'base64').toString('utf8'));
    expect(record).toMatchObject({ engineer: 'alex@support.example', level: 'Diagnostics', endReason: 'revoked', grantId: access.grantId });
    expect(record.commands.map((command: { command: string; outcome: string }) => [command.command, command.outcome])).toEqual([
      ['Get-Service -Name WinRM', 'succeeded'],
      ['Restart-Service -Name Spooler', 'failed'],
      ['Get-Service -Name WinRM', 'succeeded'],
    ]);
    const eventIds = node.events.map((event) => event.eventId);
    expect(eventIds).toEqual(expect.arrayContaining([1101, 1102]));
    expect(JSON.stringify(node.events)).not.toMatch(/sig=|eyJ/);
  });

  it('ends access without the agent: killed mid-session, its orphan is ended on restart, and the Expire task removes account and token', async () => {
    const now = new Date(Date.now() + 5_000);
    const grantId = randomUUID();
    const settings = grantSettings(now, { grantId });
    const expiresAt = new Date((settings.access as { expiresAt: string }).expiresAt);
    const account = channelUserName(grantId);
    await fixture.writeSettings(4, await rig.channelSettings(settings, expiresAt, [NODE]));
    expect((await fixture.run('enable', { sequenceNumber: 4 })).exitCode).toBe(0);

    const openSessionThenKill = async () => {
      agent = await startChannelTask(fixture.machinePath, NODE, rig.relay);
      await waitFor(
        () => rig.relay.counters.openListeners(rig.hybridConnection(NODE)) === 1,
        15_000,
        () => agent!.output(),
      );
      const engineer = await rig.connect(NODE, grantId, expiresAt);
      expect((await engineer.run('Get-Service -Name WinRM', () => undefined)).ok).toBe(true);
      agent.kill();
      await agent.exited;
      // The engineer's connection goes with the agent's process; the session process stays behind, as on Windows.
      await engineer.closed;
      expect(((await fixture.machine()).nodes[NODE]!.processes ?? []).length).toBe(1);
    };

    await openSessionThenKill();
    // Restarted (Task Scheduler's repetition, or by hand): the orphan is ended before listening.
    agent = await startChannelTask(fixture.machinePath, NODE, rig.relay);
    await waitFor(
      () => rig.relay.counters.openListeners(rig.hybridConnection(NODE)) === 1,
      15_000,
      () => agent!.output(),
    );
    expect((await fixture.machine()).nodes[NODE]!.processes ?? []).toEqual([]);
    expect(agent.output()).toMatch(/ended 1 session process/);
    agent.kill();
    await agent.exited;

    await openSessionThenKill();
    // Nothing runs the agent's channel now; the grant's time passes and the Expire task fires.
    const runs: AgentRun[] = [];
    const background = new BackgroundTasks();
    try {
      await advanceClock(
        fixture.machinePath,
        iso(new Date(expiresAt.getTime() + 60_000)),
        installedAgentTaskRunner(fixture.machinePath, runs, background, { NODE_EXTRA_CA_CERTS: rig.relay.caFile }),
      );
    } finally {
      await background.stopAll();
    }
    const expire = runs.find((run) => run.argv[0] === 'expire');
    expect(expire?.exitCode).toBe(0);
    const node = (await fixture.machine()).nodes[NODE]!;
    expect(node.processes ?? []).toEqual([]);
    expect(Object.values(node.users ?? {}).map((user) => user.name)).not.toContain(account);
    expect(node.files[CHANNEL_TOKEN_FILE.toLowerCase()]).toBeUndefined();
    expect(Object.keys(node.tasks).some((name) => name.endsWith('\\channel'))).toBe(false);
    expect(node.groups[GROUPS.diagnostics.toLowerCase()]!.members).toEqual([]);
  });

  it("ends a live session within 5 s when the grant's time passes on the node's clock, with the agent running", async () => {
    const start = new Date((await fixture.machine()).clock.nowUtc);
    const grantId = randomUUID();
    const settings = grantSettings(new Date(start.getTime() + 5_000), { grantId }, 1);
    const expiresAt = new Date((settings.access as { expiresAt: string }).expiresAt);
    await fixture.writeSettings(5, await rig.channelSettings(settings, expiresAt, [NODE]));
    expect((await fixture.run('enable', { sequenceNumber: 5 })).exitCode).toBe(0);
    agent = await startChannelTask(fixture.machinePath, NODE, rig.relay);
    await waitFor(
      () => rig.relay.counters.openListeners(rig.hybridConnection(NODE)) === 1,
      15_000,
      () => agent!.output(),
    );
    const engineer = await rig.connect(NODE, grantId, expiresAt);
    expect((await engineer.run('Get-Service -Name WinRM', () => undefined)).ok).toBe(true);

    // The hour passes on the node (the simulated clock); nothing else happens: no task, no settings.
    const passedAt = Date.now();
    await updateMachine(fixture.machinePath, (model) => {
      model.clock.nowUtc = iso(new Date(expiresAt.getTime() + 1_000));
    });
    const end = await engineer.ended;
    await engineer.closed;
    expect(Date.now() - passedAt).toBeLessThan(5000);
    expect(end.reason).toBe('expired');
    expect((await agent.exited).exitCode).toBe(0);
    expect((await fixture.machine()).nodes[NODE]!.processes ?? []).toEqual([]);
  });
});
