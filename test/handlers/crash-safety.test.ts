/**
 * Crash safety: the handler is killed (SIGKILL, for real) at every host operation of install,
 * enable with a grant, enable with a revoke, and uninstall. After each kill the same command runs
 * again, and the machine must end exactly where an uninterrupted run ends: no group, task,
 * endpoint, file or membership left over, none missing.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { MachineModel } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { bundleHandler } from '../../scripts/build/bundle';
import { layOutExtensionFolder, writeHandlerSettings } from '../../sim/arm/extension-folder';
import { makeTempDir } from '../support/cms';
import { grantSettings } from '../support/extension-fixture';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNode } from '../../scripts/build/shipped-node';

const NOW = new Date();

interface Scenario {
  name: string;
  operation: string;
  /** Brings a fresh machine to the state before the command. */
  before: string[];
}

const scenarios: Scenario[] = [
  { name: 'install', operation: 'install', before: [] },
  { name: 'enable with a grant', operation: 'enable:grant', before: ['install'] },
  { name: 'enable with a revoke', operation: 'enable:revoke', before: ['install', 'enable:grant'] },
  { name: 'uninstall', operation: 'uninstall', before: ['install', 'enable:grant'] },
  // cluster.installOnPeers: the same commands also converge the peer, ARC-NODE-2.
  { name: 'enable with a grant covering the peer', operation: 'enable:cluster', before: ['install'] },
  { name: 'uninstall from a covered peer', operation: 'uninstall', before: ['install', 'enable:cluster'] },
];

/** What must match after a re-run: everything of ours on every node, without times and counters. */
function footprint(model: MachineModel): unknown {
  return Object.fromEntries(Object.entries(model.nodes).map(([name, node]) => [name, nodeFootprint(node)]));
}

function nodeFootprint(node: MachineModel['nodes'][string]): unknown {
  return {
    groups: Object.values(node.groups)
      .map((group) => `${group.name}: ${[...group.members].sort().join(',')}`)
      .sort(),
    endpoints: Object.values(node.sessionConfigurations)
      .map((endpoint) => `${endpoint.name} ${endpoint.configFilePath}`)
      .sort(),
    tasks: Object.values(node.tasks)
      .map((task) => `${task.folder}${task.name} enabled=${task.enabled}`)
      .sort(),
    // History lines, and the record's times of ended grants, carry the time of the run that wrote
    // them; every other byte must match.
    files: Object.values(node.files)
      .map(
        (file) => `${file.type} ${file.path}${file.path.endsWith('history.jsonl') ? '' : ` ${withoutEndTimes(file)} ${file.sddl ?? ''}`}`,
      )
      .sort(),
    sessions: node.sessions.length,
  };
}

function withoutEndTimes(file: MachineModel['nodes'][string]['files'][string]): string {
  if (!file.path.endsWith('desired.json')) return file.contentBase64 ?? '';
  return Buffer.from(file.contentBase64 ?? '', 'base64')
    .toString('utf8')
    .replace(/"endedAt": "[^"]*"/g, '"endedAt": "<time of the run>"');
}

/** The owner lists the engineers on every node that has the group (install made it). */
async function nameEngineers(machinePath: string): Promise<void> {
  const host = new SimulatedHost(machinePath);
  for (const node of Object.keys((await readMachine(machinePath)).nodes)) {
    await host
      .execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], { phase: 'owner', node })
      .catch(() => undefined);
  }
}

describe('crash safety', () => {
  let work: string;
  let handler: string;
  let simulator: string;
  let node: string;

  beforeAll(async () => {
    work = await makeTempDir('ars-crash');
    handler = path.join(work, 'bin', 'handler.js');
    await bundleHandler({ identity: { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' }, outFile: handler });
    simulator = await simulatorBundle();
    node = await shippedNode();
  }, 120_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  /** A machine and extension folder of their own, under `name`. */
  async function setUp(name: string) {
    const base = path.join(work, name);
    const root = path.join(base, 'ext');
    await layOutExtensionFolder(root, 'ArcRemoteSupport.WindowsRemoteSupport');
    await writeHandlerSettings(root, 1, { publicSettings: grantSettings(NOW) });
    await writeHandlerSettings(root, 2, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
    await writeHandlerSettings(root, 3, { publicSettings: { ...grantSettings(NOW), cluster: { installOnPeers: true } } });
    const machinePath = path.join(base, 'machine.json');
    await writeMachine(machinePath, createDefaultMachine());
    const data = path.join(base, 'data');
    const run = async (step: string) => {
      const [command, variant] = step.split(':');
      const sequence = { grant: '1', revoke: '2', cluster: '3' }[variant ?? ''] ?? '0';
      return execa(node, [handler, command!], {
        cwd: root,
        reject: false,
        env: { ...simulatorEnvironment(machinePath, { simulator }), ARC_REMOTE_SUPPORT_DATA: data, ConfigSequenceNumber: sequence },
      });
    };
    return { base, root, machinePath, data, run };
  }

  const statusOf = async (root: string, sequence: number) =>
    JSON.parse(await fs.readFile(path.join(root, 'status', `${sequence}.status`), 'utf8'))[0].status;

  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))(
    '%s converges after a kill at every host operation',
    async (_name, scenario) => {
      // The reference: the command run once, uninterrupted.
      const reference = await setUp(`${scenario.name}-reference`);
      for (const step of scenario.before) expect((await reference.run(step)).exitCode).toBe(0);
      await nameEngineers(reference.machinePath);
      expect((await reference.run(scenario.operation)).exitCode).toBe(0);
      const expected = footprint(await readMachine(reference.machinePath));

      let killPoints = 0;
      for (let skip = 0; ; skip++) {
        const attempt = await setUp(`${scenario.name}-${skip}`);
        for (const step of scenario.before) expect((await attempt.run(step)).exitCode).toBe(0);
        await nameEngineers(attempt.machinePath);
        const model = await readMachine(attempt.machinePath);
        model.faults = [{ operation: '*', skip, action: 'kill' }];
        await writeMachine(attempt.machinePath, model);

        const killed = await attempt.run(scenario.operation);
        if (killed.signal !== 'SIGKILL') {
          // The run outlived every kill point: all operations of this command have been covered.
          expect(killed.exitCode).toBe(0);
          break;
        }
        killPoints += 1;
        // Time passes before the manager retries: the dead run's lock has gone stale.
        // (the handler's lock is the folder `<lock path>.lock`, extension/directory-lock.ts).
        await fs.rm(`${attempt.data}.lock.lock`, { recursive: true, force: true });
        const again = await attempt.run(scenario.operation);
        expect({ skip, exitCode: again.exitCode, stderr: again.stderr }).toEqual({ skip, exitCode: 0, stderr: '' });
        expect(footprint(await readMachine(attempt.machinePath))).toEqual(expected);
        await fs.rm(attempt.base, { recursive: true, force: true });
      }
      expect(killPoints).toBeGreaterThan(5);
    },
    600_000,
  );

  it('never shows the old success for new content under the same sequence number, killed at any host operation', async () => {
    let killPoints = 0;
    for (let skip = 0; ; skip++) {
      const attempt = await setUp(`same-number-${skip}`);
      expect((await attempt.run('install')).exitCode).toBe(0);
      await nameEngineers(attempt.machinePath);
      expect((await attempt.run('enable:grant')).exitCode).toBe(0);
      expect((await statusOf(attempt.root, 1)).status).toBe('success');
      // The manager rewrites 1.settings: the grant is revoked under the same sequence number.
      await writeHandlerSettings(attempt.root, 1, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
      const model = await readMachine(attempt.machinePath);
      model.faults = [{ operation: '*', skip, action: 'kill' }];
      await writeMachine(attempt.machinePath, model);

      const killed = await attempt.run('enable:grant');
      if (killed.signal !== 'SIGKILL') {
        expect(killed.exitCode).toBe(0);
        break;
      }
      killPoints += 1;
      // What the manager reads after the kill: work in progress, not the grant's success.
      expect({ skip, status: (await statusOf(attempt.root, 1)).status }).toEqual({ skip, status: 'transitioning' });
      await fs.rm(`${attempt.data}.lock.lock`, { recursive: true, force: true });
      expect((await attempt.run('enable:grant')).exitCode).toBe(0);
      expect((await statusOf(attempt.root, 1)).formattedMessage.message).toBe('Access: none. Settings 1 applied.');
      await fs.rm(attempt.base, { recursive: true, force: true });
    }
    expect(killPoints).toBeGreaterThan(3);
  }, 600_000);
});
