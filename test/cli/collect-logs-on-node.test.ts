/**
 * The owner's log collection end to end, every part the real one: the CLI's `collect-logs` through
 * the real SDK to the ARM emulator (oav-validated), whose machine runs the real handler package on
 * a simulated Windows Server; the handler takes the request and its SAS, and the node's
 * CollectLogs task (the simulated Task Scheduler) runs the installed agent, which uploads the
 * bundle to Azurite. `status` shows the request as the handler reported it, the node's record
 * (the owner's module reads it) the upload, and `status --refresh` (the handler runs again) the
 * upload with its blob; a later revoke goes through without the request.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { handlerPackageRunner, type HandlerPackageRunner } from '../../sim/arm/handler-package-runner';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { readMachine } from '../../sim/windows/default-machine';
import { advanceClock } from '../../sim/windows/simulation';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNodePath } from '../../sim/shipped-node-path';
import { AGENT_SCRIPT, LOG_COLLECTION_REQUEST_FILE } from '../../core/node-layout';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';
import { startEmulatedCli, SUBSCRIPTION, type CliRun, type EmulatedCli } from '../support/cli-harness';

const RG = 'rg-logs';
const NODE = 'APP-01';
const seed = ['--machine', NODE, '--resource-group', RG];
/** The node's clock runs this far ahead of the CLI's: a window ending "now" is in its past. */
const NODE_AHEAD_MS = 5 * 60_000;

jest.setTimeout(120_000);

describe("the owner's log collection: CLI, emulated Arc, real handler, CollectLogs task, Azurite", () => {
  let work: string;
  let cli: EmulatedCli;
  let runner: HandlerPackageRunner;
  let azurite: Azurite;
  let signature: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'ars-collect-logs-'));
    const built = await buildPackage({ version: '1.0.0', outDir: path.join(work, 'dist'), log: () => undefined });
    await execa('unzip', ['-q', built.zipPath, '-d', path.join(work, 'package')]);
    runner = handlerPackageRunner({
      packages: { '1.0.0': path.join(work, 'package') },
      workDir: path.join(work, 'machines'),
      shapeNode: (_machine, model) => {
        model.clock.nowUtc = new Date(Math.floor((Date.now() + NODE_AHEAD_MS) / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
      },
    });
    azurite = await startAzurite();
    cli = await startEmulatedCli({
      operationMs: 5,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: NODE }],
      runExtension: (run) => runner.runExtension(run),
    });
  }, 240_000);

  afterAll(async () => {
    await cli?.close();
    await azurite?.stop();
    await fs.rm(work, { recursive: true, force: true });
  });

  /** The owner's CLI, allowed Azurite's loopback SAS; nothing it prints holds the signature. */
  async function owner(argv: string[]): Promise<CliRun> {
    const run = await cli.run(argv, { allowStorageEmulator: true });
    expect(`${run.stdout}\n${run.stderr}`).not.toContain(signature);
    expect(`${run.stdout}\n${run.stderr}`).not.toMatch(/sig=/);
    return run;
  }

  it('collect-logs -> the handler -> the CollectLogs task uploads to Azurite -> status and the node record show it', async () => {
    expect((await cli.run(['deploy', ...seed])).code).toBe(0);
    const sas = await azurite.containerSas('owner-logs');
    signature = new URL(sas).searchParams.get('sig')!;
    const sasFile = path.join(work, 'owner-logs.sas');
    await fs.writeFile(sasFile, `${sas}\n`, { mode: 0o600 });

    const asked = await owner([
      'collect-logs',
      ...seed,
      '--container-sas-file',
      sasFile,
      '--hours',
      '4',
      '--category',
      'ArcRemoteSupport,ArcAgent',
      '--output',
      'json',
    ]);
    expect(asked.stderr).toBe('1 ok, 0 failed, 0 skipped.\n');
    expect(asked.code).toBe(0);
    const requestId = /log collection ([0-9a-f-]{36}) requested/.exec(JSON.parse(asked.stdout).results[0].detail)![1]!;
    expect(runner.commands).toEqual(['APP-01 install 1.0.0 -> 0', 'APP-01 enable 1.0.0 -> 0', 'APP-01 enable 1.0.0 -> 0']);

    // Azure's view: the handler took the request.
    const requested = JSON.parse((await owner(['status', ...seed, '--output', 'json'])).stdout).machines[0];
    expect(requested.logCollection).toMatchObject({
      requestId,
      state: 'requested',
      detail: `Log collection ${requestId} requested: the CollectLogs task collects and uploads within a minute.`,
      categories: ['ArcRemoteSupport', 'ArcAgent'],
    });

    // Task Scheduler runs CollectLogs: the installed agent bundles and uploads.
    const { modelPath } = runner.windowsOf({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: NODE });
    const model = await readMachine(modelPath);
    const runs: AgentRun[] = [];
    await advanceClock(
      modelPath,
      new Date(Date.parse(model.clock.nowUtc) + 120_000).toISOString().replace(/\.000Z$/, 'Z'),
      installedAgentTaskRunner(modelPath, runs),
    );
    const collect = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(collect).toMatchObject({ exitCode: 0, output: expect.stringMatching(/uploaded/) });

    // The blob in the owner's container, named for the machine and the request.
    const blobs: string[] = [];
    for await (const blob of azurite.service.getContainerClient('owner-logs').listBlobsFlat()) blobs.push(blob.name);
    expect(blobs).toEqual([expect.stringMatching(new RegExp(`^app-01/\\d{8}T\\d{6}Z-${requestId}\\.zip$`))]);
    const properties = await azurite.service.getContainerClient('owner-logs').getBlobClient(blobs[0]!).getProperties();
    expect(properties.metadata).toMatchObject({ collectionid: requestId });

    // The node's record, as Get-RemoteSupportAccess reads it through the installed agent.
    const installed = (await readMachine(modelPath)).nodes[NODE]!.files[AGENT_SCRIPT.toLowerCase()]!.copiedFrom!.source;
    const nodeStatus = await execa(shippedNodePath(), [installed, 'status', '--json'], {
      reject: false,
      env: simulatorEnvironment(modelPath, { node: NODE, simulator: await simulatorBundle() }),
    });
    expect(nodeStatus.exitCode).toBe(0);
    expect(JSON.parse(nodeStatus.stdout).lastLogCollection).toMatchObject({
      collectionId: requestId,
      outcome: 'uploaded',
      consent: 'owner request',
      blobName: blobs[0],
    });
    expect(nodeStatus.stdout).not.toContain(signature);

    // Azure hears from the handler only when it runs: status still shows the request it took.
    const after = JSON.parse((await owner(['status', ...seed, '--output', 'json'])).stdout).machines[0];
    expect(after.logCollection).toMatchObject({ requestId, state: 'requested' });

    // status --refresh runs the handler again (public settings, a new tag): it reads the node's last
    // collection and reports it, and no request goes to the node again.
    const refreshed = await owner(['status', ...seed, '--refresh', '--output', 'json']);
    expect(refreshed.code).toBe(0);
    expect(runner.commands.at(-1)).toBe('APP-01 enable 1.0.0 -> 0');
    const shown = JSON.parse(refreshed.stdout).machines[0];
    expect(shown.logCollection).toMatchObject({ requestId, state: 'uploaded', blob: `devstoreaccount1/owner-logs/${blobs[0]}` });
    expect(shown.nodes).toEqual([{ node: NODE, message: expect.stringContaining(`last log collection ${requestId} uploaded at `) }]);
    expect(shown.message).toMatch(new RegExp(`Last log collection ${requestId} uploaded at \\S+Z to devstoreaccount1/owner-logs/`));
    const requestFile = (await readMachine(modelPath)).nodes[NODE]!.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()];
    expect(requestFile).toBeUndefined();

    // A revoke after it does not send the request again without its SAS: the handler takes it.
    const revoked = await owner(['revoke', ...seed, '--output', 'json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).results[0].detail).toMatch(/^access None; provisioning Succeeded/);
    expect(runner.commands.at(-1)).toBe('APP-01 enable 1.0.0 -> 0');
    expect(JSON.stringify(await readMachine(modelPath))).not.toContain(signature);
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});
