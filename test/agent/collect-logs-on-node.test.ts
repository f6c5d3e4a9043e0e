/**
 * The owner's log collection on a node, end to end on the simulated machine against Azurite: the
 * handler takes the request and its SAS from the extension settings, stores the SAS protected and
 * registers CollectLogs; the task's agent run (the package's agent.js, as a process) bundles the
 * node's files, uploads and commits the blob with its metadata, and leaves a record and an event.
 * A bad SAS is refused at enable (exit 53) naming the field without its signature; a second
 * request while one waits is refused naming it.
 */
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { bundleHandler } from '../../scripts/build/bundle';
import { randomUUID } from 'crypto';
import path from 'path';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { advanceClock } from '../../sim/windows/simulation';
import { updateMachine } from '../../sim/windows/default-machine';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { addAgentToPackage } from '../../sim/relay/channel-rig';
import * as files from '../../sim/windows/file-system';
import {
  COLLECT_LOGS_TASK,
  LOG_COLLECTION_REQUEST_FILE,
  LOG_COLLECTION_SAS_FILE,
  LOG_EXPORT_FOLDER,
  TASK_FOLDER,
} from '../../core/node-layout';
import { eventLogQuery } from '../../diag/reader';
import { logCollectionRecordPath, parseLogCollectionRecord } from '../../core/log-collection-record';
import type { MachineModel } from '../../sim/windows/machine-model';
import { ExtensionFixture, iso } from '../support/extension-fixture';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';
import { readBundle } from '../diag/fixtures';
import { runAgentCommand } from '../../agent/commands';
import { SimulatedHost } from '../../sim/windows/simulated-host';

jest.setTimeout(120_000);
const NODE = 'ARC-NODE-1';
const SECRET_SIG = 'c2lnbmF0dXJlLWluLWEtbG9n';

/** Files on the node: an Arc agent log holding a SAS (redacted), its config (not a source), a log in a Keys folder (denied). */
function addNodeFiles(machine: MachineModel, now: string): void {
  const ctx = { node: machine.nodes[NODE]!, now };
  const put = (path: string, content: string) => {
    files.ensureDirectory(ctx, { path: path.slice(0, path.lastIndexOf('\\')) });
    files.writeFile(ctx, { path, content });
  };
  put(
    'C:\\ProgramData\\AzureConnectedMachineAgent\\Log\\himds.log',
    `started\nurl https://a.blob.core.windows.net/c?sv=1&sig=${SECRET_SIG}\ndone\n`,
  );
  put('C:\\ProgramData\\AzureConnectedMachineAgent\\Config\\agentconfig.json', '{"tenant":"x"}');
  put('C:\\ProgramData\\GuestConfig\\extension_logs\\Keys\\secret.log', 'do not take me');
  put('C:\\ProgramData\\GuestConfig\\extension_logs\\Microsoft.Test\\handler.log', 'handler ran\n');
}

/** What Windows wrote in the System and Application logs (one event inside the collection's window, one before it) and the cluster's. */
function addNodeEvents(machine: MachineModel, now: Date): void {
  const node = machine.nodes[NODE]!;
  const at = (minutesAgo: number) => iso(new Date(now.getTime() - minutesAgo * 60_000));
  node.eventLogs!['System']!.push(
    { source: 'EventLog', eventId: 6005, level: 'Information', message: 'INSIDE-WINDOW system', timeUtc: at(30) },
    { source: 'EventLog', eventId: 6006, level: 'Information', message: 'BEFORE-WINDOW system', timeUtc: at(120) },
  );
  node.eventLogs!['Microsoft-Windows-FailoverClustering/Operational']!.push({
    source: 'Microsoft-Windows-FailoverClustering',
    eventId: 1069,
    level: 'Error',
    message: 'INSIDE-WINDOW cluster',
    timeUtc: at(20),
  });
  node.events.push(
    { source: 'Application Error', eventId: 1000, level: 'Error', message: 'INSIDE-WINDOW application', timeUtc: at(10) },
    { source: 'Application Error', eventId: 1000, level: 'Error', message: 'BEFORE-WINDOW application', timeUtc: at(90) },
  );
}

describe('log collection on a node (handler, CollectLogs task, agent, Azurite)', () => {
  let fixture: ExtensionFixture;
  let azurite: Azurite;
  let certificate: TestCertificate;
  let nowUtc: Date;

  const settingsWith = async (logCollection: Record<string, unknown>, containerSas: string) => ({
    publicSettings: { schemaVersion: 1, logCollection },
    protectedSettingsCertThumbprint: certificate.thumbprint,
    protectedSettings: await encryptToCms(JSON.stringify({ logCollection: { containerSas } }), certificate.crtPath, 'aes256'),
  });
  const request = (requestId: string) => ({
    requestId,
    window: { from: iso(new Date(nowUtc.getTime() - 3_600_000)), to: iso(nowUtc) },
    categories: ['ArcRemoteSupport', 'ArcAgent', 'Extensions', 'EventLogs', 'HyperV', 'Cluster', 'WindowsUpdate'],
  });

  beforeAll(async () => {
    nowUtc = new Date(Math.floor(Date.now() / 1000) * 1000);
    fixture = await ExtensionFixture.create((machine) => {
      // Today's time: the SAS's expiry is checked against it.
      machine.clock.nowUtc = iso(nowUtc);
      addNodeFiles(machine, iso(new Date(nowUtc.getTime() - 60_000)));
      addNodeEvents(machine, nowUtc);
    });
    certificate = await createTestCertificate(fixture.base);
    // The package's agent, bundled from this checkout (a fresh clone has no build/), beside the handler.
    const built = path.join(fixture.base, 'build', 'handler.js');
    await bundleHandler({ identity: loadExtensionIdentity(), outFile: built });
    await addAgentToPackage(fixture.root, path.join(path.dirname(built), 'agent.js'));
    azurite = await startAzurite();
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1 } });
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
  });

  afterAll(async () => {
    await azurite?.stop();
    await fixture?.remove();
  });

  it('refuses a SAS that is not write-only at enable (exit 53), naming the field, quoting no signature, storing nothing', async () => {
    const readable = await azurite.containerSas('refused', { permissions: 'rcw' });
    await fixture.writeSettings(1, await settingsWith(request(randomUUID()), readable));
    const run = await fixture.run('enable', { sequenceNumber: 1 });
    expect(run.exitCode).toBe(53);
    const status = await fixture.status(1);
    const message = status.status.formattedMessage.message;
    expect(message).toMatch(/protectedSettings\.logCollection\.containerSas\.sp/);
    const signature = new URL(readable).searchParams.get('sig')!;
    for (const text of [message, run.stderr, await fixture.logText(), JSON.stringify(await fixture.machine())])
      expect(text).not.toContain(signature);
    const node = (await fixture.machine()).nodes[NODE]!;
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();
    expect(node.files[LOG_COLLECTION_SAS_FILE.toLowerCase()]).toBeUndefined();
  });

  it('collects, uploads and records the owner request; refuses a second request while it waits', async () => {
    const collectionId = randomUUID();
    const sas = await azurite.containerSas('support-logs');
    const signature = new URL(sas).searchParams.get('sig')!;
    await fixture.writeSettings(2, await settingsWith(request(collectionId), sas));
    const enabled = await fixture.run('enable', { sequenceNumber: 2 });
    expect(enabled.stderr).toBe('');
    expect(enabled.exitCode).toBe(0);
    expect((await fixture.status(2)).status.formattedMessage.message).toContain(`Log collection ${collectionId} requested`);
    let node = (await fixture.machine()).nodes[NODE]!;
    expect(node.tasks[`${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase()]).toBeDefined();
    expect(node.files[LOG_COLLECTION_SAS_FILE.toLowerCase()]).toBeDefined();
    expect(JSON.stringify(await fixture.machine())).not.toContain(signature);

    // A second request while the first waits: refused, naming the first.
    const second = randomUUID();
    await fixture.writeSettings(3, await settingsWith(request(second), sas));
    expect((await fixture.run('enable', { sequenceNumber: 3 })).exitCode).toBe(53);
    expect((await fixture.status(3)).status.formattedMessage.message).toContain(collectionId);

    // Task Scheduler runs CollectLogs: the agent process bundles and uploads to Azurite.
    const runs: AgentRun[] = [];
    await advanceClock(fixture.machinePath, iso(new Date(nowUtc.getTime() + 120_000)), installedAgentTaskRunner(fixture.machinePath, runs));
    const collect = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(collect?.output).toMatch(/uploaded/);
    expect(collect?.exitCode).toBe(0);

    node = (await fixture.machine()).nodes[NODE]!;
    const recordFile = node.files[logCollectionRecordPath(collectionId).toLowerCase()]!;
    const record = parseLogCollectionRecord(Buffer.from(recordFile.contentBase64!, 'base64').toString('utf8'))!;
    expect(record).toMatchObject({ collectionId, trigger: 'owner', consent: 'owner request', grantId: null, outcome: 'uploaded' });
    expect(record.fileCount).toBeGreaterThan(0);
    expect(node.events.map((event) => event.eventId)).toContain(1201);
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();
    expect(node.files[LOG_COLLECTION_SAS_FILE.toLowerCase()]).toBeUndefined();
    expect(JSON.stringify(node)).not.toContain(signature);

    // The blob: committed with its metadata, its manifest listing entries and skipped sources.
    const blob = azurite.service.getContainerClient('support-logs').getBlobClient(record.blobName!);
    const properties = await blob.getProperties();
    expect(properties.metadata).toMatchObject({ machine: NODE, collectionid: collectionId });
    const downloaded = path.join(fixture.base, 'downloaded.zip');
    await blob.downloadToFile(downloaded);
    const { files: zipped, names, manifest } = await readBundle(downloaded);
    expect(names).toContain('ArcAgent/arc-agent-logs/himds.log');
    expect(names).toContain('Extensions/extension-logs/Microsoft.Test/handler.log');
    expect(names.some((name) => /secret\.log|agentconfig/i.test(name))).toBe(false);
    expect(zipped.get('ArcAgent/arc-agent-logs/himds.log')!.toString('utf8')).not.toContain(SECRET_SIG);
    // The System and Application logs as the host exported them over the window (the simulated
    // machine's rendering, one event a line), with the query in the manifest.
    const system = zipped.get('EventLogs/event-system/System.evtx')!.toString('utf8');
    const application = zipped.get('EventLogs/event-application/Application.evtx')!.toString('utf8');
    expect(system).toContain('INSIDE-WINDOW system');
    expect(application).toContain('INSIDE-WINDOW application');
    expect(system + application).not.toContain('BEFORE-WINDOW');
    const window = request(collectionId).window;
    const query = eventLogQuery({ from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() });
    expect(manifest.entries.find((entry) => entry.sourceId === 'event-system')).toMatchObject({
      origin: 'System',
      query,
      truncated: false,
    });
    // The cluster log, made on request over the window (the simulated machine's rendering), and
    // the Windows Update log.
    expect(zipped.get('Cluster/cluster-log/Cluster.log')!.toString('utf8')).toContain('INSIDE-WINDOW cluster');
    expect(names).toContain('WindowsUpdate/windows-update-log/WindowsUpdate.log');
    expect(names).toContain('Cluster/event-failover-clustering/Microsoft-Windows-FailoverClustering_4Operational.evtx');
    expect(manifest.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ origin: 'C:\\ProgramData\\GuestConfig\\extension_logs\\Keys\\secret.log', reason: 'denied' }),
        // The simulator's reader is a bundle of its own: its errors keep their reason across.
        expect.objectContaining({ sourceId: 'ars-logs', reason: 'missing' }),
        // Hyper-V is not installed on this node.
        expect.objectContaining({ sourceId: 'event-hyperv-vmms-admin', reason: 'missing' }),
        expect.objectContaining({ sourceId: 'event-security', reason: 'denied' }),
      ]),
    );
    // The exported copies are gone from the node once the bundle is written.
    expect(Object.keys(node.files).filter((key) => key.startsWith(`${LOG_EXPORT_FOLDER.toLowerCase()}\\`))).toEqual([]);
    expect(manifest).toMatchObject({ collectionId, machine: NODE, trigger: 'owner' });

    // The owner sees it: in the history (LogCollection) and as the last collection in status.
    const host = new SimulatedHost(fixture.machinePath, { localNode: NODE });
    const history = await runAgentCommand(['history', '--json'], host, new Date());
    const entries = history.output
      .split('\n')
      .map((line) => JSON.parse(line).entry)
      .filter(Boolean);
    const collection = entries.find((entry: { kind: string }) => entry.kind === 'LogCollection');
    expect(collection).toMatchObject({ endReason: 'uploaded', logCollection: { collectionId, blobName: record.blobName } });
    const status = JSON.parse((await runAgentCommand(['status', '--json'], host, new Date())).output);
    expect(status.lastLogCollection).toMatchObject({ collectionId, outcome: 'uploaded', consent: 'owner request' });
    expect(history.output + JSON.stringify(status)).not.toContain(signature);
  });
  it('a request left waiting with no CollectLogs run to come gets its task again from the next enable, and ends', async () => {
    const stalled = randomUUID();
    const sas = await azurite.containerSas('stalled-logs');
    await fixture.writeSettings(4, await settingsWith(request(stalled), sas));
    expect((await fixture.run('enable', { sequenceNumber: 4 })).exitCode).toBe(0);
    // The task's tries ran out and it expired (or the handler was killed before registering it).
    const taskKey = `${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase();
    await updateMachine(fixture.machinePath, (machine) => {
      delete machine.nodes[NODE]!.tasks[taskKey];
    });

    // The owner asks for another collection: refused, naming the waiting one, whose task is back.
    await fixture.writeSettings(5, await settingsWith(request(randomUUID()), sas));
    expect((await fixture.run('enable', { sequenceNumber: 5 })).exitCode).toBe(53);
    expect((await fixture.status(5)).status.formattedMessage.message).toContain(stalled);
    expect((await fixture.machine()).nodes[NODE]!.tasks[taskKey]).toBeDefined();

    const runs: AgentRun[] = [];
    const clock = new Date((await fixture.machine()).clock.nowUtc);
    await advanceClock(fixture.machinePath, iso(new Date(clock.getTime() + 120_000)), installedAgentTaskRunner(fixture.machinePath, runs));
    expect(runs.find((run) => run.argv[0] === 'collect-logs')?.output).toMatch(new RegExp(`${stalled} uploaded`));
    const node = (await fixture.machine()).nodes[NODE]!;
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();
    expect(node.files[logCollectionRecordPath(stalled).toLowerCase()]).toBeDefined();
  });
});
