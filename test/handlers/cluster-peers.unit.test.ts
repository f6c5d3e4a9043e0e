/**
 * cluster.installOnPeers on the simulated two-node cluster: the handler on ARC-NODE-1 installs the
 * agent, JEA and tasks on ARC-NODE-2 and applies the same access there; a peer that is down,
 * refuses us, is not eligible or runs its own extension is named with the fix and left as it was;
 * disable, uninstall and turning the option off clean what was put there.
 */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import path from 'path';
import { agentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { runAgentCommand } from '../../agent/commands';
import { parseDesiredRecord } from '../../core/desired-record';
import { AGENT_SCRIPT, DESIRED_STATE_FILE, ENDPOINT_NAME, GROUPS, expireTaskName } from '../../core/node-layout';
import { op } from '../../windows/operations';
import type { NodeModel } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { advanceClock, powerOn } from '../../sim/windows/simulation';
import { updateMachine } from '../../sim/windows/default-machine';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';
import { simulatorEnvironment } from '../../sim/windows/simulator-bundle';

const START = new Date('2026-11-24T20:00:00Z');
const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const hoursLater = (hours: number) => new Date(START.getTime() + hours * 3_600_000);
const GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const PEER = 'ARC-NODE-2';
const withPeers = (settings: Record<string, unknown>) => ({ ...settings, cluster: { installOnPeers: true } });

describe('cluster.installOnPeers', () => {
  let fixture: ExtensionFixture;
  let peerBefore: NodeModel;

  async function create(change?: Parameters<typeof ExtensionFixture.create>[0]): Promise<void> {
    fixture = await ExtensionFixture.create((machine) => {
      machine.clock.nowUtc = iso(START);
      change?.(machine);
    });
    peerBefore = structuredClone((await fixture.machine()).nodes[PEER]!);
  }
  afterEach(() => fixture.remove());

  const peer = async () => (await fixture.machine()).nodes[PEER]!;
  /** Files and folders by path (Windows updates a folder's write time when its content changes). */
  const paths = (node: NodeModel) =>
    Object.values(node.files)
      .map((file) => `${file.type} ${file.path}`)
      .sort();
  const members = (node: NodeModel, group: string) => node.groups[group.toLowerCase()]?.members ?? null;
  const peerRecord = async () => {
    const [outcome] = await new SimulatedHost(fixture.machinePath).execute([op('readFile', { path: DESIRED_STATE_FILE })], {
      phase: 'check',
      node: PEER,
    });
    return outcome?.ok ? (outcome.value as { content: string | null }).content : null;
  };
  /** The owner lists the engineers on each node, as the local groups are per node. */
  const nameEngineers = async () => {
    const host = new SimulatedHost(fixture.machinePath);
    for (const node of ['ARC-NODE-1', PEER]) {
      await host.execute(
        [
          op('ensureLocalGroup', { name: GROUPS.engineers, description: 'engineers' }),
          op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] }),
        ],
        { phase: 'owner', node },
      );
    }
  };
  const grant = async (sequenceNumber: number, settings: Record<string, unknown> = withPeers(grantSettings(START))) => {
    await fixture.writeSettings(sequenceNumber, { publicSettings: settings });
    return fixture.run('enable', { sequenceNumber, now: START });
  };
  const nodeLine = async (sequenceNumber: number, node: string) =>
    (await fixture.status(sequenceNumber)).status.substatus.find((item) => item.name === `Node ${node}`);

  it('installs the agent, JEA and tasks on the peer and applies the grant there, marked as covered from this node', async () => {
    await create();
    await nameEngineers();
    // The package's agent runtime, as the extension folder of a real package has it.
    await fs.mkdir(path.join(fixture.root, 'bin'));
    await fs.writeFile(path.join(fixture.root, 'bin', 'agent.js'), 'the node agent\n');
    await fixture.writeSettings(0, { publicSettings: withPeers({ schemaVersion: 1, access: { level: 'None' } }) });
    expect((await fixture.run('install', { sequenceNumber: 0, now: START })).exitCode).toBe(0);
    const installed = await peer();
    expect(installed.sessionConfigurations[ENDPOINT_NAME.toLowerCase()]).toBeDefined();
    expect(installed.files[AGENT_SCRIPT.toLowerCase()]).toMatchObject({
      copiedFrom: { sha256: createHash('sha256').update('the node agent\n').digest('hex') },
    });
    expect(
      Object.values(installed.tasks)
        .map((task) => task.name)
        .sort(),
    ).toEqual(['Reconcile', 'Retention']);
    expect((await fixture.status(0)).status.substatus.map((item) => [item.name, item.status])).toEqual([
      ['Node ARC-NODE-1', 'success'],
      [`Node ${PEER}`, 'success'],
    ]);

    expect((await grant(1)).exitCode).toBe(0);
    const status = await fixture.status(1);
    expect(status.status.status).toBe('success');
    expect((await nodeLine(1, PEER))!.formattedMessage.message).toMatch(
      /^access Diagnostics until 2026-11-25T03:59:00Z, covered from ARC-NODE-1; \d+ change\(s\) applied\.$/,
    );
    const granted = await peer();
    expect(members(granted, GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
    expect(Object.values(granted.tasks).map((task) => task.name)).toContain(expireTaskName(GRANT_ID));
    expect(parseDesiredRecord(await peerRecord()).record).toMatchObject({ managedFrom: 'ARC-NODE-1', grant: { grantId: GRANT_ID } });
    // The peer's endpoint names the peer's own groups.
    const pssc = granted.files['c:\\programdata\\arcremotesupport\\arcremotesupport.pssc'];
    expect(Buffer.from(pssc && 'contentBase64' in pssc ? (pssc.contentBase64 ?? '') : '', 'base64').toString('utf8')).toContain(
      `${PEER}\\${GROUPS.diagnostics}`,
    );
    expect((await fixture.state()).coveredPeers).toEqual([PEER]);
  });

  it('ends access on the peer at the expiry through the peer agent, with no handler run', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    const runs: AgentRun[] = [];
    await advanceClock(fixture.machinePath, iso(hoursLater(8)), agentTaskRunner(fixture.machinePath, runs));
    expect(
      runs
        .filter((run) => run.task === expireTaskName(GRANT_ID))
        .map((run) => [run.node, run.exitCode])
        .sort(),
    ).toEqual([
      ['ARC-NODE-1', 0],
      [PEER, 0],
    ]);
    expect(members(await peer(), GROUPS.diagnostics)).toEqual([]);
    // The agent kept the mark: the peer is still covered from ARC-NODE-1.
    expect(parseDesiredRecord(await peerRecord()).record.managedFrom).toBe('ARC-NODE-1');
  });

  it('names a peer that is down with the fix, changes nothing there, and covers it once it is up', async () => {
    await create((machine) => (machine.nodes[PEER]!.power = 'Off'));
    await nameEngineers().catch(() => undefined);
    await fixture.run('install', { sequenceNumber: 0, now: START });
    const result = await grant(1);
    expect(result.exitCode).toBe(0);
    const status = await fixture.status(1);
    expect(status.status.status).toBe('warning');
    expect(status.status.formattedMessage.message).toContain('1 cluster node(s) need attention (see each node).');
    expect(await nodeLine(1, PEER)).toMatchObject({
      status: 'warning',
      formattedMessage: {
        message: `not covered: the node is down (cluster state Down). Access there is unchanged; when it is up, run the command again, or deploy the extension on ${PEER}.`,
      },
    });
    expect(await peer()).toEqual(peerBefore);

    await powerOn(fixture.machinePath, PEER, agentTaskRunner(fixture.machinePath, []));
    await nameEngineers();
    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect(await nodeLine(1, PEER)).toMatchObject({ status: 'success' });
    expect(members(await peer(), GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
  });

  it('names a peer that refuses the connection, with deploying the extension there as the fix', async () => {
    await create((machine) => (machine.nodes[PEER]!.remoteAccess = 'Denied'));
    await fixture.run('install', { sequenceNumber: 0, now: START });
    expect((await grant(1)).exitCode).toBe(0);
    const line = await nodeLine(1, PEER);
    expect(line?.status).toBe('warning');
    expect(line?.formattedMessage.message).toMatch(
      new RegExp(
        `^not covered: ${PEER} refused the connection from ARC-NODE-1 \\(.*access denied.*\\)\\. Access there is unchanged; pushing to a peer as SYSTEM is often denied: deploy the extension on ${PEER}\\.$`,
      ),
    );
    expect((await fixture.state()).coveredPeers).toEqual([]);
  });

  it('gives no access on a peer that does not meet the prerequisites, and says which one', async () => {
    await create((machine) => (machine.nodes[PEER]!.memory = { moduleBytes: [2 * 1024 ** 3], usableBytes: 2 * 1024 ** 3 - 1 }));
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    expect((await grant(1)).exitCode).toBe(0);
    const line = await nodeLine(1, PEER);
    expect(line?.status).toBe('warning');
    expect(line?.formattedMessage.message).toMatch(
      /^not covered: ARC-NODE-2 does not meet the prerequisites \(Memory: Failed: found 2\.00 GiB installed; requires at least 4\.00 GiB installed\..*\) Access there is unchanged/,
    );
    expect(members(await peer(), GROUPS.diagnostics)).toBeNull();
    expect(await nodeLine(1, 'ARC-NODE-1')).toMatchObject({ status: 'success' });
  });

  it('leaves a peer that runs its own extension to that extension', async () => {
    await create();
    await nameEngineers();
    // ARC-NODE-2's own extension: the same package, run as that node, with its own data folder.
    const own = {
      env: { ...simulatorEnvironment(fixture.machinePath, { node: PEER }), ARC_REMOTE_SUPPORT_DATA: `${fixture.base}/data-node-2` },
    };
    expect((await fixture.run('install', { sequenceNumber: 0, now: START, ...own })).exitCode).toBe(0);
    const ownRecord = await peerRecord();

    await fixture.run('install', { sequenceNumber: 0, now: START });
    expect((await grant(1)).exitCode).toBe(0);
    expect(await nodeLine(1, PEER)).toMatchObject({
      status: 'success',
      formattedMessage: { message: 'managed by its own extension; left alone by ARC-NODE-1.' },
    });
    expect(await peerRecord()).toBe(ownRecord);
    expect(members(await peer(), GROUPS.diagnostics)).toEqual([]);
    expect((await fixture.state()).coveredPeers).toEqual([]);
  });

  it('hands a covered peer over to its own extension when one is installed there', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    const own = {
      env: { ...simulatorEnvironment(fixture.machinePath, { node: PEER }), ARC_REMOTE_SUPPORT_DATA: `${fixture.base}/data-node-2` },
    };
    expect((await fixture.run('install', { sequenceNumber: 0, now: START, ...own })).exitCode).toBe(0);
    // The peer's own extension keeps the access in force and drops the mark.
    expect(parseDesiredRecord(await peerRecord()).record).toMatchObject({ grant: { grantId: GRANT_ID } });
    expect(parseDesiredRecord(await peerRecord()).record.managedFrom).toBeUndefined();
    await fixture.writeSettings(2, { publicSettings: withPeers({ schemaVersion: 1, access: { level: 'None' } }) });
    await fixture.run('enable', { sequenceNumber: 2, now: START });
    expect((await nodeLine(2, PEER))?.formattedMessage.message).toBe('managed by its own extension; left alone by ARC-NODE-1.');
    expect(members(await peer(), GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
  });

  it('records the end of access on every node at an uninstall without a prior disable', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    expect((await grant(1)).exitCode).toBe(0);
    expect(members(await peer(), GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
    expect((await fixture.run('uninstall', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    const revokes = (node: NodeModel) =>
      node.events.filter((event) => event.eventId === 1003).map((event) => event.message.replace(/^.*, by /, 'by '));
    const machine = await fixture.machine();
    expect(revokes(machine.nodes['ARC-NODE-1']!)).toEqual(['by uninstall.']);
    expect(revokes(machine.nodes[PEER]!)).toEqual(['by uninstall (from ARC-NODE-1).']);
    expect(members(machine.nodes[PEER]!, GROUPS.diagnostics)).toBeNull();
  });

  it('turns access off on covered peers at disable, and removes every trace from them at uninstall', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    expect((await fixture.run('disable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect(members(await peer(), GROUPS.diagnostics)).toEqual([]);
    expect(await nodeLine(1, PEER)).toMatchObject({
      status: 'success',
      formattedMessage: { message: expect.stringMatching(/^access off, covered from ARC-NODE-1/) },
    });

    expect((await fixture.run('uninstall', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect((await fixture.status(1)).status.formattedMessage.message).toMatch(
      /^Uninstalled: access is off, and the groups, JEA endpoint and module, scheduled tasks, agent, owner's module, state, history and transcripts were removed. Kept by design as the audit record/,
    );
    const after = await peer();
    // Back to what it was (WinRM's restart count aside), the groups install made included.
    expect(after.tasks).toEqual(peerBefore.tasks);
    expect(after.sessionConfigurations).toEqual(peerBefore.sessionConfigurations);
    expect(paths(after)).toEqual(paths(peerBefore));
    expect(after.groups).toEqual(peerBefore.groups);
  });

  it('cleans the peers it covered when installOnPeers is turned off', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    expect((await grant(2, grantSettings(START))).exitCode).toBe(0);
    expect(await nodeLine(2, PEER)).toMatchObject({
      status: 'success',
      formattedMessage: { message: expect.stringMatching(/^everything of the extension removed \(it was covered from ARC-NODE-1\)/) },
    });
    expect(paths(await peer())).toEqual(paths(peerBefore));
    expect((await fixture.state()).coveredPeers).toEqual([]);
    // ARC-NODE-1 keeps its grant.
    expect(members((await fixture.machine()).nodes['ARC-NODE-1']!, GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
  });

  it('names a covered peer that is down at uninstall as not cleaned, and still removes this node', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    await updateMachine(fixture.machinePath, (machine) => {
      machine.nodes[PEER]!.power = 'Off';
    });
    expect((await fixture.run('uninstall', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    const status = await fixture.status(1);
    expect(status.status.status).toBe('warning');
    expect(status.status.formattedMessage.message).toMatch(
      /^Uninstalled from this node; 1 covered peer\(s\) could not be cleaned \(see each node\)\. Kept by design as the audit record: /,
    );
    expect((await nodeLine(1, PEER))?.formattedMessage.message).toMatch(
      /^not cleaned: the node is down \(cluster state Down\)\. Anything of the extension there stays, and its own tasks still end access at its expiry;/,
    );
    expect(await fixture.stateText()).toBeUndefined();
  });

  it('reports a peer whose change failed as an error of that node, and converges it on the next run', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await updateMachine(fixture.machinePath, (machine) => {
      machine.faults = [
        { operation: 'setLocalGroupMembers', node: PEER, action: 'fail', code: 'Failed', message: 'The member could not be added' },
      ];
    });
    expect((await grant(1)).exitCode).toBe(0);
    const status = await fixture.status(1);
    expect(status.status.status).toBe('warning');
    expect(await nodeLine(1, 'ARC-NODE-1')).toMatchObject({ status: 'success' });
    expect((await nodeLine(1, PEER))?.status).toBe('error');
    expect((await nodeLine(1, PEER))?.formattedMessage.message).toMatch(
      new RegExp(
        `^Failed at '.+' on ${PEER}: Failed: The member could not be added\\. Run the command again; the node converges from where it stopped\\.$`,
      ),
    );
    expect((await fixture.state()).coveredPeers).toEqual([PEER]);

    expect((await fixture.run('enable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect(await nodeLine(1, PEER)).toMatchObject({ status: 'success' });
    expect(members(await peer(), GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
  });

  it('names a covered peer that is down at disable, and turns access off there once it is back', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    await updateMachine(fixture.machinePath, (machine) => {
      machine.nodes[PEER]!.power = 'Off';
    });
    expect((await fixture.run('disable', { sequenceNumber: 1, now: START })).exitCode).toBe(0);
    expect((await fixture.status(1)).status.status).toBe('warning');
    expect((await nodeLine(1, PEER))?.formattedMessage.message).toMatch(
      /^not covered: the node is down \(cluster state Down\)\. Access there is unchanged;/,
    );
    expect((await fixture.state()).coveredPeers).toEqual([PEER]);

    await powerOn(fixture.machinePath, PEER, agentTaskRunner(fixture.machinePath, []));
    await fixture.run('disable', { sequenceNumber: 1, now: START });
    expect(members(await peer(), GROUPS.diagnostics)).toEqual([]);
  });

  it('keeps a grant the owner revoked on a covered peer off there, naming when and why, while this node keeps it', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    expect((await grant(1)).exitCode).toBe(0);
    const revoke = await runAgentCommand(
      ['revoke', '--local', '--by', 'CONTOSO\\admin'],
      new SimulatedHost(fixture.machinePath, { localNode: PEER }),
      hoursLater(1),
    );
    expect(revoke.exitCode).toBe(0);

    // The manager runs enable again with the same settings (after a reboot).
    expect((await fixture.run('enable', { sequenceNumber: 1, now: hoursLater(2) })).exitCode).toBe(0);
    expect((await fixture.status(1)).status.status).toBe('warning');
    expect((await nodeLine(1, PEER))?.formattedMessage.message).toBe(
      `access off, covered from ARC-NODE-1: grant ${GRANT_ID} ended on ${PEER} at ${iso(hoursLater(1))} because the machine's owner revoked it on the machine (CONTOSO\\admin), ` +
        'and a grant that ended never gives access again; only a new grant gives access there; no change needed.',
    );
    expect(members(await peer(), GROUPS.diagnostics)).toEqual([]);
    expect(members((await fixture.machine()).nodes['ARC-NODE-1']!, GROUPS.diagnostics)).toEqual(['CONTOSO\\engineer1']);
  });

  it('tries to clean a covered peer that left the cluster, and names it while it cannot', async () => {
    await create();
    await nameEngineers();
    await fixture.run('install', { sequenceNumber: 0, now: START });
    await grant(1);
    // Evicted from the cluster and gone from the network.
    await updateMachine(fixture.machinePath, (machine) => {
      delete machine.nodes[PEER];
    });
    expect((await grant(2)).exitCode).toBe(0);
    expect((await nodeLine(2, PEER))?.formattedMessage.message).toMatch(new RegExp(`^not cleaned: ${PEER} did not answer`));
    expect((await fixture.state()).coveredPeers).toEqual([PEER]);
  });
});
