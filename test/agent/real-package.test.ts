/**
 * The real extension package, built and zipped by `npm run package`, unzipped and driven by the
 * real Linux Azure guest agent (Debian's waagent) through its own orchestration: install, enable,
 * new settings, enable after a reboot, update to a higher version in the agent's order, disable,
 * uninstall. Every status file must pass the agent's own parser.
 */
import { createHash } from 'crypto';
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { makeTempDir } from '../support/cms';
import { grantSettings } from '../support/extension-fixture';
import { runAgentStep, type AgentStepRequest, type AgentStepResult } from '../support/waagent';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { AGENT_FOLDER, AGENT_VERSION_FILE, GROUPS, OWNER_MODULE_FOLDER } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { advanceClock } from '../../sim/windows/simulation';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';

const PUBLISHER = 'ArcRemoteSupport';
const TYPE = 'WindowsRemoteSupport';
const SECRET = 'engineer-broker-token-5521';
const NOW = new Date();

describe('the real package driven by the real Linux Azure agent', () => {
  let work: string;
  let libDir: string;
  let dataFolder: string;
  let machinePath: string;
  let certificate: TestCertificate;
  let certDir: string;
  let simulator: string;
  const packages: Record<string, string> = {};

  beforeAll(async () => {
    simulator = await simulatorBundle();
    work = await makeTempDir('ars-agent');
    libDir = path.join(work, 'lib');
    dataFolder = path.join(work, 'ProgramData', 'ArcRemoteSupport');
    certDir = path.join(work, 'certs');
    // The handler runs on Linux here, so it works on the simulated Windows machine.
    machinePath = path.join(work, 'machine.json');
    await writeMachine(machinePath, createDefaultMachine());
    certificate = await createTestCertificate(certDir);
    await fs.rm(certificate.pfxPath);
    for (const version of ['1.0.0', '1.0.1']) {
      const built = await buildPackage({ version, outDir: path.join(work, `dist-${version}`), log: () => undefined });
      const unzipped = path.join(work, `unzipped-${version}`);
      await execa('unzip', ['-q', built.zipPath, '-d', unzipped]);
      packages[version] = unzipped;
    }
  }, 120_000);

  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  const step = (request: Partial<AgentStepRequest> & Pick<AgentStepRequest, 'op'>): Promise<AgentStepResult> =>
    runAgentStep({
      libDir,
      publisher: PUBLISHER,
      type: TYPE,
      version: '1.0.0',
      packageDir: packages[request.version ?? '1.0.0'],
      certDir,
      env: { ARC_REMOTE_SUPPORT_DATA: dataFolder, ...simulatorEnvironment(machinePath, { simulator }) },
      ...request,
    });

  const protectedGrant = async (overrides: Record<string, unknown> = {}, from = NOW) => ({
    publicSettings: grantSettings(from, overrides),
    protectedSettings: await encryptToCms(JSON.stringify({ brokerToken: SECRET }), certificate.crtPath, 'aes256'),
    protectedSettingsCertThumbprint: certificate.thumbprint,
  });

  const commands = (result: AgentStepResult) => result.commandsRun.map((run) => `${run.command} ${run.version} -> ${run.exitCode}`);
  const state = async () => JSON.parse(await fs.readFile(path.join(dataFolder, 'state.json'), 'utf8'));

  const expectParsedStatus = (result: AgentStepResult, expected: { operation: string; status: string; code: number }) => {
    expect(result.statusParseError).toBeNull();
    expect(result.status).toMatchObject(expected);
    expect(result.status?.message ?? '').not.toContain(SECRET);
  };

  /** Everything of ours on a node, without times and counters (the event log keeps its entries). */
  const footprint = async () => {
    const node = (await readMachine(machinePath)).nodes['ARC-NODE-1']!;
    return {
      groups: Object.values(node.groups)
        .map((group) => `${group.name}: ${group.members.join(',')}`)
        .sort(),
      endpoints: Object.keys(node.sessionConfigurations).sort(),
      tasks: Object.values(node.tasks)
        .map((task) => `${task.name} ${task.enabled}`)
        .sort(),
      files: Object.values(node.files)
        .map((file) => file.path)
        .sort(),
    };
  };
  const members = async () => {
    const node = (await readMachine(machinePath)).nodes['ARC-NODE-1']!;
    return {
      diagnostics: node.groups[GROUPS.diagnostics.toLowerCase()]?.members ?? [],
      repair: node.groups[GROUPS.repair.toLowerCase()]?.members ?? [],
    };
  };

  it('plays the owner story: grant, configure, reboot, expiry, grant again, update, revoke, uninstall', async () => {
    const pristine = await footprint();
    const install = await step({ op: 'install' });
    // No settings yet, so no extension status; the agent's own handler status says installed.
    expect(install.status).toBeNull();
    expect(install.handlerStatus).toMatchObject({ version: '1.0.0', status: 'NotReady', message: 'Plugin installed but not enabled' });
    expect(commands(install)).toEqual(['install 1.0.0 -> 0']);
    expect(await state()).toMatchObject({ extensionVersion: '1.0.0', enabled: false });
    // The agent's runtime and the owner's module were copied from the package onto the node.
    const installedFiles = Object.values((await readMachine(machinePath)).nodes['ARC-NODE-1']!.files).map((file) => file.path);
    expect(installedFiles).toEqual(
      expect.arrayContaining([
        `${AGENT_FOLDER}\\node.exe`,
        `${AGENT_FOLDER}\\agent.js`,
        `${AGENT_FOLDER}\\scripts\\HostBridge.ps1`,
        `${AGENT_FOLDER}\\scripts\\ArcRemoteSupport.Host.psm1`,
        `${OWNER_MODULE_FOLDER}\\ArcRemoteSupport.psm1`,
        `${OWNER_MODULE_FOLDER}\\ArcRemoteSupport.psd1`,
        AGENT_VERSION_FILE,
      ]),
    );
    // The owner names the support engineers once.
    await new SimulatedHost(machinePath).execute(
      [op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })],
      { phase: 'owner' },
    );

    // Grant Diagnostics for 8 hours, with protected settings decrypted from the agent's certificate layout.
    const enable = await step({ op: 'enable', seq: 0, settings: await protectedGrant() });
    expect(commands(enable)).toEqual(['enable 1.0.0 -> 0']);
    expectParsedStatus(enable, { operation: 'Enable', status: 'success', code: 0 });
    expect(enable.status?.message).toMatch(
      /^Access: Diagnostics for support request TKT-2611240001 until \S+Z \(7 h 5\d min left\)\. Settings 0 applied\.$/,
    );
    expect(enable.status?.substatus.map((item) => [item.name, item.status])).toEqual([
      ['Node ARC-NODE-1', 'success'],
      ['Node ARC-NODE-2', 'success'],
    ]);
    expect(enable.commandsRun[0]?.env).toMatchObject({ ConfigSequenceNumber: '0', AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.0' });
    expect(await members()).toEqual({ diagnostics: ['CONTOSO\\engineer1'], repair: [] });
    const granted = await state();
    expect(granted.applied).toMatchObject({ sequenceNumber: 0, protectedSettingsPresent: true });
    const expiresAt = granted.applied.desired.grant.expiresAt;
    const restartsAfterInstall = (await readMachine(machinePath)).nodes['ARC-NODE-1']!.winrmRestarts;

    // Configure: the level changes, the expiry does not.
    const configure = await step({ op: 'enable', seq: 1, settings: await protectedGrant({ level: 'DiagnosticsAndRepair' }) });
    expectParsedStatus(configure, { operation: 'Enable', status: 'success', code: 0 });
    expect(configure.status?.message).toContain('Access: DiagnosticsAndRepair');
    expect(await members()).toEqual({ diagnostics: [], repair: ['CONTOSO\\engineer1'] });

    // After a reboot the agent runs enable again with the same sequence number: nothing is extended.
    const again = await step({ op: 'enable', seq: 1, settings: await protectedGrant({ level: 'DiagnosticsAndRepair' }) });
    expectParsedStatus(again, { operation: 'Enable', status: 'success', code: 0 });
    expect((await state()).applied.desired.grant.expiresAt).toBe(expiresAt);
    // Grant and configure never re-register the endpoint (that would restart WinRM).
    expect((await readMachine(machinePath)).nodes['ARC-NODE-1']!.winrmRestarts).toBe(restartsAfterInstall);

    // The clock moves past the expiry: the tasks run the agent installed on the node, which turns access off.
    const runs: AgentRun[] = [];
    const afterExpiry = new Date(Date.parse(expiresAt) + 60_000);
    await advanceClock(machinePath, afterExpiry.toISOString().replace(/\.\d{3}Z$/, 'Z'), installedAgentTaskRunner(machinePath, runs));
    expect(runs.map((run) => run.task)).toEqual(expect.arrayContaining(['Reconcile', `Expire-${granted.applied.desired.grant.grantId}`]));
    expect(runs.find((run) => run.task.startsWith('Expire-'))?.output).toContain('remove repair access');
    expect(runs.every((run) => run.exitCode === 0)).toBe(true);
    expect(await members()).toEqual({ diagnostics: [], repair: [] });

    // Grant again (a new grant), then update to 1.0.1 in the agent's own order: the grant survives.
    // The machine lives in the simulated time now: the new consent and expiry are in it too.
    const regrant = await step({
      op: 'enable',
      seq: 2,
      settings: await protectedGrant({ grantId: 'a7f0c2d4-1b2c-4d3e-8f40-5a6b7c8d9e0f' }, afterExpiry),
    });
    expectParsedStatus(regrant, { operation: 'Enable', status: 'success', code: 0 });
    expect(await members()).toEqual({ diagnostics: ['CONTOSO\\engineer1'], repair: [] });
    const regrantExpiry = (await state()).applied.desired.grant.expiresAt;

    const update = await step({
      op: 'update',
      version: '1.0.1',
      fromVersion: '1.0.0',
      seq: 2,
      settings: await protectedGrant({ grantId: 'a7f0c2d4-1b2c-4d3e-8f40-5a6b7c8d9e0f' }, afterExpiry),
    });
    expect(update.agentError).toBeNull();
    expect(commands(update)).toEqual([
      'disable 1.0.0 -> 0',
      'update 1.0.1 -> 0',
      'uninstall 1.0.0 -> 0',
      'install 1.0.1 -> 0',
      'enable 1.0.1 -> 0',
    ]);
    const updateRun = update.commandsRun.find((run) => run.command === 'update');
    expect(updateRun?.env).toMatchObject({
      AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: '1.0.0',
      AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.1',
    });
    expectParsedStatus(update, { operation: 'Enable', status: 'success', code: 0 });
    // The old version's uninstall ran after the new update and destroyed nothing the new version needs.
    const updated = await state();
    expect(updated).toMatchObject({ extensionVersion: '1.0.1', enabled: true });
    // The new version's agent replaced the old one on the node.
    const versionFile = (await readMachine(machinePath)).nodes['ARC-NODE-1']!.files[AGENT_VERSION_FILE.toLowerCase()];
    expect(Buffer.from(versionFile?.contentBase64 ?? '', 'base64').toString()).toBe('1.0.1');
    expect(updated.applied.desired.grant).toMatchObject({ grantId: 'a7f0c2d4-1b2c-4d3e-8f40-5a6b7c8d9e0f', expiresAt: regrantExpiry });
    expect(await members()).toEqual({ diagnostics: ['CONTOSO\\engineer1'], repair: [] });
    await expect(fs.access(path.join(dataFolder, 'upgrade.json'))).rejects.toThrow();
    const journal = (await fs.readFile(path.join(dataFolder, 'operations.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const updateEntries = journal.slice(-5);
    expect(updateEntries.map((entry) => `${entry.operation} ${entry.version}`)).toEqual([
      'disable 1.0.0',
      'update 1.0.1',
      'uninstall 1.0.0',
      'install 1.0.1',
      'enable 1.0.1',
    ]);
    // The environment each handler run saw, as the handler itself recorded it.
    expect(updateEntries[1].environment).toMatchObject({
      AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: '1.0.0',
      AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.1',
      ConfigSequenceNumber: '2',
    });

    // Revoke.
    const revoke = await step({
      op: 'enable',
      version: '1.0.1',
      seq: 3,
      settings: { publicSettings: { schemaVersion: 1, access: { level: 'None' } } },
    });
    expectParsedStatus(revoke, { operation: 'Enable', status: 'success', code: 0 });
    expect(revoke.status?.message).toBe('Access: none. Settings 3 applied.');
    expect(await members()).toEqual({ diagnostics: [], repair: [] });

    const uninstall = await step({ op: 'uninstall', version: '1.0.1', seq: 3 });
    expect(commands(uninstall)).toEqual(['disable 1.0.1 -> 0', 'uninstall 1.0.1 -> 0']);
    expect(uninstall.agentError).toBeNull();
    await expect(fs.access(dataFolder)).rejects.toThrow();
    // The machine is back to exactly what it was before install.
    expect(await footprint()).toEqual(pristine);

    // No secret anywhere the agent or the handler wrote.
    const logs = await execa('grep', ['-r', '-l', SECRET, libDir, `${libDir}-log`], { reject: false });
    expect(logs.stdout).toBe('');
  }, 300_000);

  it("covers the cluster's other node with cluster.installOnPeers: the package's agent runs there and ends access at the expiry", async () => {
    const clusterMachine = path.join(work, 'cluster-machine.json');
    await writeMachine(clusterMachine, createDefaultMachine());
    const peerFootprint = async () => {
      const node = (await readMachine(clusterMachine)).nodes['ARC-NODE-2']!;
      return {
        groups: Object.keys(node.groups).sort(),
        tasks: Object.keys(node.tasks).sort(),
        files: Object.values(node.files)
          .map((file) => file.path)
          .sort(),
      };
    };
    const pristine = await peerFootprint();
    const clusterStep = (request: Partial<AgentStepRequest> & Pick<AgentStepRequest, 'op'>) =>
      step({
        libDir: path.join(work, 'lib-cluster'),
        env: { ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data-cluster'), ...simulatorEnvironment(clusterMachine, { simulator }) },
        ...request,
      });
    const host = new SimulatedHost(clusterMachine);
    expect(commands(await clusterStep({ op: 'install' }))).toEqual(['install 1.0.0 -> 0']);
    for (const node of ['ARC-NODE-1', 'ARC-NODE-2']) {
      await host.execute(
        [
          op('ensureLocalGroup', { name: GROUPS.engineers, description: 'engineers' }),
          op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] }),
        ],
        { phase: 'owner', node },
      );
    }

    const grant = grantSettings(NOW) as { access: { expiresAt: string } };
    const settings = { publicSettings: { ...grant, cluster: { installOnPeers: true } } };
    const enable = await clusterStep({ op: 'enable', seq: 0, settings });
    expectParsedStatus(enable, { operation: 'Enable', status: 'success', code: 0 });
    const peerLine = enable.status?.substatus.find((item) => item.name === 'Node ARC-NODE-2');
    expect(peerLine?.message).toMatch(/^access Diagnostics until \S+Z, covered from ARC-NODE-1; \d+ change\(s\) applied\.$/);
    // The peer got the package's own agent runtime, byte for byte.
    const peer = (await readMachine(clusterMachine)).nodes['ARC-NODE-2']!;
    const copied = peer.files[`${AGENT_FOLDER}\\agent.js`.toLowerCase()];
    expect(copied?.copiedFrom?.sha256).toBe(
      createHash('sha256')
        .update(await fs.readFile(path.join(packages['1.0.0']!, 'bin', 'agent.js')))
        .digest('hex'),
    );
    const peerMembers = async () =>
      (await readMachine(clusterMachine)).nodes['ARC-NODE-2']!.groups[GROUPS.diagnostics.toLowerCase()]?.members ?? [];
    expect(await peerMembers()).toEqual(['CONTOSO\\engineer1']);

    // Past the expiry, the peer's own Expire task runs the agent installed there.
    const runs: AgentRun[] = [];
    const expiresAt = Date.parse(grant.access.expiresAt);
    await advanceClock(
      clusterMachine,
      new Date(expiresAt + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      installedAgentTaskRunner(clusterMachine, runs),
    );
    expect(runs.filter((run) => run.node === 'ARC-NODE-2' && run.task.startsWith('Expire-')).map((run) => run.exitCode)).toEqual([0]);
    expect(await peerMembers()).toEqual([]);

    const uninstall = await clusterStep({ op: 'uninstall', seq: 0 });
    expect(uninstall.agentError).toBeNull();
    expect(await peerFootprint()).toEqual(pristine);
  }, 300_000);

  it.each([
    ['settings that are not JSON', { rawSettings: '{"runtimeSettings": [' }, "'settings file'"],
    ['an unknown access level', { settings: { publicSettings: grantSettings(NOW, { level: 'Administrator' }) } }, "'access.level'"],
  ])(
    'reports %s as error 53 through the agent',
    async (_name, request, field) => {
      const badLib = path.join(work, `lib-bad-${field.replace(/\W/g, '')}`);
      const result = await runAgentStep({
        libDir: badLib,
        publisher: PUBLISHER,
        type: TYPE,
        version: '1.0.0',
        packageDir: packages['1.0.0'],
        op: 'enable',
        seq: 0,
        env: {
          ARC_REMOTE_SUPPORT_DATA: path.join(work, `data-${field.replace(/\W/g, '')}`),
          ...simulatorEnvironment(machinePath, { simulator }),
        },
        ...request,
      });
      expect(result.commandsRun.map((run) => [run.command, run.exitCode])).toEqual([
        ['install', 0],
        ['enable', 53],
      ]);
      expect(result.statusParseError).toBeNull();
      expect(result.status).toMatchObject({ operation: 'Enable', status: 'error', code: 53 });
      expect(result.status?.message).toContain(field);
    },
    120_000,
  );
});
