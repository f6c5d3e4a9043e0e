/**
 * The engineer's log collection through the whole loop: the owner grants with a channel and a log
 * upload container (`grant --relay-namespace --log-container-sas-file`) through the ARM emulator to
 * the real handler package on the simulated cluster; the engineer's `connect` runs
 * Request-RemoteSupportLogCollection in the node's JEA session, which runs the node's installed
 * agent (`request-log-collection`); the CollectLogs task's agent bundles and uploads to Azurite
 * with the grant's SAS; the engineer reads the result with Get-RemoteSupportLogCollectionHistory.
 * A window over 24 hours and an unknown category are refused in the session, before the agent.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { startChannelTask, waitFor, type ChannelProcess } from '../../sim/relay/channel-rig';
import { readMachine } from '../../sim/windows/default-machine';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { advanceClock } from '../../sim/windows/simulation';
import { COLLECT_LOGS_TASK, LOG_COLLECTION_REQUEST_FILE, TASK_FOLDER } from '../../core/node-layout';
import { logCollectionRecordPath, parseLogCollectionRecord } from '../../core/log-collection-record';
import { CHANNEL_LOOP, startChannelLoopRig, type ChannelLoopRig } from '../support/channel-loop';
import { SUBSCRIPTION } from '../support/cli-harness';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';

jest.setTimeout(180_000);
const { RG, NS, TICKET, ENGINEER, seed } = CHANNEL_LOOP;

describe("the engineer's log collection through the channel, the node's agent and Azurite", () => {
  let rig: ChannelLoopRig;
  let azurite: Azurite;
  let agent: ChannelProcess | undefined;
  let grantId: string;
  let modelPath: string;
  let signature: string;

  beforeAll(async () => {
    [rig, azurite] = await Promise.all([startChannelLoopRig(), startAzurite()]);
  }, 240_000);

  afterAll(async () => {
    agent?.kill();
    await azurite?.stop();
    await rig?.close();
  });

  const owner = async (argv: string[]) => {
    const result = await rig.cli.run(argv, {
      env: { AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, ARC_REMOTE_SUPPORT_HOME: rig.home },
      allowStorageEmulator: true,
    });
    expect(`${result.stdout}${result.stderr}`).not.toContain(signature);
    return result;
  };

  let tickets = 0;
  async function engineer(command: string) {
    const file = path.join(rig.work, `engineer-ticket-${(tickets += 1)}.json`);
    expect((await owner(['ticket', ...seed, '--grant', grantId, '--ticket-file', file, '--engineer', ENGINEER])).code).toBe(0);
    const run = await rig.connect(['--ticket', file, '--node', 'FS-01', '--command', command]);
    expect(`${run.stdout}${run.stderr}`).not.toContain(signature);
    return run;
  }

  it('grants with a channel and a log upload container; the node listens', async () => {
    const sas = await azurite.containerSas('engineer-logs');
    signature = new URL(sas).searchParams.get('sig')!;
    const sasFile = path.join(rig.work, 'container-sas.txt');
    await fs.writeFile(sasFile, sas, { mode: 0o600 });
    expect((await owner(['deploy', ...seed])).code).toBe(0);
    expect((await owner(['deploy', ...seed, '--cluster'])).code).toBe(0);
    const granted = await owner([
      ...['grant', ...seed, '--cluster', '--level', 'Diagnostics', '--duration', '8h', '--support-request', TICKET],
      ...['--accept-terms', '--relay-namespace', NS, '--engineer', ENGINEER, '--log-container-sas-file', sasFile, '--output', 'json'],
    ]);
    expect(granted.code).toBe(0);
    grantId = JSON.parse(granted.stdout).grant.grantId;
    modelPath = rig.runner.windowsOf({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'FS-01' }).modelPath;
    expect(JSON.stringify(await readMachine(modelPath))).not.toContain(signature);
    agent = await startChannelTask(modelPath, 'FS-01', rig.relay);
    await waitFor(
      () => rig.relay.counters.openListeners(`rs-fs-01-${grantId.replace(/-/g, '').slice(0, 8)}-fs-01`) === 1,
      15_000,
      () => agent!.output(),
    );
  });

  it('refuses a window over 24 hours and an unknown category in the session, before the agent', async () => {
    const tooLong = await engineer('Request-RemoteSupportLogCollection -Hours 25 -Category ArcAgent');
    const unknown = await engineer('Request-RemoteSupportLogCollection -Hours 2 -Category Secrets');
    expect(tooLong.exitCode).not.toBe(0);
    expect(tooLong.stderr).toMatch(/Cannot validate argument on parameter 'Hours'/);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toMatch(/Cannot validate argument on parameter 'Category'/);
    const node = (await readMachine(modelPath)).nodes['FS-01']!;
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();
  });

  it('the engineer asks; the CollectLogs task uploads with the grant SAS; the engineer sees it in the history', async () => {
    const asked = await engineer('Request-RemoteSupportLogCollection -Hours 2 -Category ArcRemoteSupport,Extensions');
    expect(asked.stderr).not.toMatch(/error/i);
    expect(asked.exitCode).toBe(0);
    const collectionId = /Log collection ([0-9a-f-]{36}) requested/.exec(asked.stdout)?.[1];
    expect(collectionId).toBeDefined();

    // A second request while the first waits is refused, naming it.
    const second = await engineer('Request-RemoteSupportLogCollection -Hours 1 -Category ArcAgent');
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain(collectionId);

    // Task Scheduler runs the one-shot CollectLogs task the request registered.
    const model = await readMachine(modelPath);
    expect(model.nodes['FS-01']!.tasks[`${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase()]).toBeDefined();
    const runs: AgentRun[] = [];
    const later = new Date(Date.parse(model.clock.nowUtc) + 120_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await advanceClock(modelPath, later, installedAgentTaskRunner(modelPath, runs));
    const collect = runs.find((run) => run.node === 'FS-01' && run.argv[0] === 'collect-logs');
    expect(collect?.output).toMatch(/uploaded/);

    const node = (await readMachine(modelPath)).nodes['FS-01']!;
    const file = node.files[logCollectionRecordPath(collectionId!).toLowerCase()]!;
    const record = parseLogCollectionRecord(Buffer.from(file.contentBase64!, 'base64').toString('utf8'))!;
    expect(record).toMatchObject({
      trigger: 'engineer',
      grantId,
      supportRequestId: TICKET,
      outcome: 'uploaded',
      consent: `grant ${grantId}`,
    });
    expect(record.requestedBy).toMatch(/ArcRS-[0-9a-f]{8}/);
    const blob = azurite.service.getContainerClient('engineer-logs').getBlobClient(record.blobName!);
    expect((await blob.getProperties()).metadata).toMatchObject({ grantid: grantId, collectionid: collectionId });

    const history = await engineer('Get-RemoteSupportLogCollectionHistory');
    expect(history.exitCode).toBe(0);
    expect(history.stdout).toContain(collectionId);
    expect(history.stdout).toContain('uploaded');
  });
});
