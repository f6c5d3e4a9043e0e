/**
 * The emulator's machines running the real handler package: an extension PUT through the real SDK
 * installs and enables the unzipped package on a simulated Windows machine, and the handler's
 * status comes back as the extension's instance view; DELETE disables and uninstalls it.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { GROUPS } from '../../../core/node-layout';
import { op } from '../../../windows/operations';
import { readMachine } from '../../../sim/windows/default-machine';
import { SimulatedHost } from '../../../sim/windows/simulated-host';
import { buildPackage } from '../../../scripts/build/package';
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { handlerPackageRunner, type HandlerPackageRunner } from '../../../sim/arm/handler-package-runner';
import { makeTempDir } from '../../support/cms';
import { grantSettings } from '../../support/extension-fixture';
import { extensionPropertiesPolicy, sdkClient, SUBSCRIPTION } from './emulator-clients';

const POLL = { updateIntervalInMs: 20, abortSignal: undefined as AbortSignal | undefined };
const SECRET = 'protected-broker-token-8841';

describe('the handler package behind the emulated Arc extension manager', () => {
  let work: string;
  let emulator: ArmEmulator;
  let runner: HandlerPackageRunner;

  beforeAll(async () => {
    work = await makeTempDir('ars-emulated-machine');
    const built = await buildPackage({ version: '1.0.0', outDir: path.join(work, 'dist'), log: () => undefined });
    await execa('unzip', ['-q', built.zipPath, '-d', path.join(work, 'package-1.0.0')]);
    runner = handlerPackageRunner({
      packages: { '1.0.0': path.join(work, 'package-1.0.0') },
      workDir: path.join(work, 'machines'),
      clusters: [['FS-01', 'FS-02']],
    });
    emulator = await startArmEmulator({
      operationMs: 5,
      machines: ['FS-01', 'FS-02'].map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name })),
      runExtension: (run) => runner.runExtension(run),
    });
  }, 120_000);
  afterAll(async () => {
    await emulator?.close();
    await fs.rm(work, { recursive: true, force: true });
  });

  it('installs, grants and reports the status per node as the instance view; delete uninstalls', async () => {
    const client = sdkClient(emulator, SUBSCRIPTION, { policies: [extensionPropertiesPolicy({ enableAutomaticUpgrade: true })] });
    const body = (settings: Record<string, unknown>) => ({
      location: 'westeurope',
      properties: {
        publisher: 'ArcRemoteSupport',
        type: 'WindowsRemoteSupport',
        typeHandlerVersion: '1.0',
        settings,
        protectedSettings: { brokerToken: SECRET },
      },
    });
    const created = await client.machineExtensions.beginCreateOrUpdateAndWait(
      'rg',
      'FS-01',
      'WindowsRemoteSupport',
      body({ schemaVersion: 1, access: { level: 'None' } }),
      { ...POLL, abortSignal: AbortSignal.timeout(60_000) },
    );
    expect(created.properties?.provisioningState).toBe('Succeeded');
    expect(created.properties?.instanceView?.status?.message).toBe(
      [
        'Access: none. Settings 0 applied.',
        'Node FS-01: access off; no change needed.',
        'Node FS-02: cluster node Up; not managed from FS-01: each node is its own Arc machine, so deploy the extension on FS-02 too (or set cluster.installOnPeers to cover it from FS-01).',
      ].join('\n'),
    );
    expect(runner.commands).toEqual(['FS-01 install 1.0.0 -> 0', 'FS-01 enable 1.0.0 -> 0']);

    const { modelPath, node } = runner.windowsOf({ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'FS-01' });
    await new SimulatedHost(modelPath).execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], {
      phase: 'owner',
      node,
    });
    const now = new Date((await readMachine(modelPath)).clock.nowUtc);
    const granted = await client.machineExtensions.beginCreateOrUpdateAndWait(
      'rg',
      'FS-01',
      'WindowsRemoteSupport',
      body(grantSettings(now)),
      { ...POLL, abortSignal: AbortSignal.timeout(60_000) },
    );
    expect(granted.properties?.instanceView?.status).toMatchObject({
      level: 'Info',
      message: expect.stringMatching(
        /^Access: Diagnostics for support request TKT-2611240001 until \S+Z \(7 h 59 min left\)\. Settings 1 applied\.\nNode FS-01: access Diagnostics/,
      ),
    });
    expect((await readMachine(modelPath)).nodes['FS-01']!.groups[GROUPS.diagnostics.toLowerCase()]?.members).toEqual([
      'CONTOSO\\engineer1',
    ]);
    // The protected settings reached the handler encrypted, and nothing it wrote shows them.
    const written = await execa('grep', ['-r', '-l', SECRET, path.join(work, 'machines')], { reject: false });
    expect(written.stdout).toBe('');

    await client.machineExtensions.beginDeleteAndWait('rg', 'FS-01', 'WindowsRemoteSupport', {
      ...POLL,
      abortSignal: AbortSignal.timeout(60_000),
    });
    expect(runner.commands.slice(-2)).toEqual(['FS-01 disable 1.0.0 -> 0', 'FS-01 uninstall 1.0.0 -> 0']);
    const after = (await readMachine(modelPath)).nodes['FS-01']!;
    expect([...Object.keys(after.groups), ...Object.keys(after.tasks), ...Object.keys(after.sessionConfigurations)]).toEqual([]);
    expect(await emulator.validateTraffic()).toEqual([]);
  }, 180_000);

  it('reports a handler that refuses bad settings as a failed operation with its message', async () => {
    const client = sdkClient(emulator, SUBSCRIPTION);
    const bad = {
      location: 'westeurope',
      properties: {
        publisher: 'ArcRemoteSupport',
        type: 'WindowsRemoteSupport',
        typeHandlerVersion: '1.0',
        settings: { schemaVersion: 1, access: { level: 'Administrator' } },
      },
    };
    await expect(
      client.machineExtensions.beginCreateOrUpdateAndWait('rg', 'FS-02', 'WindowsRemoteSupport', bad, {
        ...POLL,
        abortSignal: AbortSignal.timeout(60_000),
      }),
    ).rejects.toThrow(/Invalid setting 'access.level': received "Administrator"/);
    const extension = await client.machineExtensions.get('rg', 'FS-02', 'WindowsRemoteSupport');
    expect(extension.properties).toMatchObject({
      provisioningState: 'Failed',
      instanceView: { status: { level: 'Error', code: 'ProvisioningState/failed/53' } },
    });
  }, 120_000);
});
