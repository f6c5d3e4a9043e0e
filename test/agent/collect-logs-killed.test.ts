/**
 * A log collection whose agent is killed mid-upload, on the simulated node against Azurite: the
 * real agent process (the package's agent.js) is killed while its upload hangs after some blocks
 * were acknowledged; the CollectLogs task's next run resumes from the journal, sends only the
 * blocks not acknowledged, commits once, and the blob is the bundle the first run made, byte for
 * byte (the SHA-256 the first run recorded for it).
 */
import { createHash, randomBytes, randomUUID } from 'crypto';
import execa from 'execa';
import { mkdtempSync, promises as fs, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { bundleHandler } from '../../scripts/build/bundle';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { advanceClock } from '../../sim/windows/simulation';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNodePath } from '../../sim/shipped-node-path';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { addAgentToPackage } from '../../sim/relay/channel-rig';
import * as files from '../../sim/windows/file-system';
import { AGENT_SCRIPT, DATA_FOLDER } from '../../core/node-layout';
import { logCollectionRecordPath, parseLogCollectionRecord } from '../../core/log-collection-record';
import { ExtensionFixture, iso } from '../support/extension-fixture';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';
import { startFaultProxy, type FaultProxy } from '../diag/fault-proxy';

jest.setTimeout(180_000);
const NODE = 'ARC-NODE-1';
const MiB = 1024 * 1024;
const BLOCK_PUT = /^PUT \S+comp=block(?!list)/;
const COMMIT_PUT = /^PUT \S+comp=blocklist/;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a log collection whose agent is killed mid-upload', () => {
  let fixture: ExtensionFixture;
  let azurite: Azurite;
  let proxy: FaultProxy;
  let certificate: TestCertificate;
  let nowUtc: Date;
  let scratch: string;

  beforeAll(async () => {
    nowUtc = new Date(Math.floor(Date.now() / 1000) * 1000);
    // Two large logs of random text: a bundle of several 8 MiB blocks even after compression.
    scratch = mkdtempSync(path.join(os.tmpdir(), 'ars-killed-'));
    const logs = [1, 2].map((n) => {
      const file = path.join(scratch, `big-${n}.log`);
      writeFileSync(file, randomBytes(15 * MiB).toString('base64'));
      return file;
    });
    fixture = await ExtensionFixture.create((machine) => {
      machine.clock.nowUtc = iso(nowUtc);
      const ctx = { node: machine.nodes[NODE]!, now: iso(new Date(nowUtc.getTime() - 60_000)) };
      files.ensureDirectory(ctx, { path: `${DATA_FOLDER}\\Logs` });
      logs.forEach((source, index) => files.copyFromHandler(ctx, { path: `${DATA_FOLDER}\\Logs\\big-${index + 1}.log`, source }));
    });
    certificate = await createTestCertificate(fixture.base);
    const built = path.join(fixture.base, 'build', 'handler.js');
    await bundleHandler({ identity: loadExtensionIdentity(), outFile: built });
    await addAgentToPackage(fixture.root, path.join(path.dirname(built), 'agent.js'));
    azurite = await startAzurite();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: azurite.port });
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1 } });
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
  });

  afterAll(async () => {
    await proxy?.close();
    await azurite?.stop();
    await fixture?.remove();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  it('resumes in the next run: only the blocks not acknowledged are sent again, one commit, the same bytes', async () => {
    const collectionId = randomUUID();
    // The SAS names the proxy in front of Azurite, so the test can hang the upload.
    const sas = await azurite.containerSas('killed', { origin: proxy.origin });
    await fixture.writeSettings(1, {
      publicSettings: {
        schemaVersion: 1,
        logCollection: {
          requestId: collectionId,
          window: { from: iso(new Date(nowUtc.getTime() - 3_600_000)), to: iso(nowUtc) },
          categories: ['ArcRemoteSupport'],
        },
      },
      protectedSettingsCertThumbprint: certificate.thumbprint,
      protectedSettings: await encryptToCms(JSON.stringify({ logCollection: { containerSas: sas } }), certificate.crtPath, 'aes256'),
    });
    expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);

    // The first run, as the CollectLogs task starts it; the upload hangs after 20 MiB have gone up.
    const model = await fixture.machine();
    const agent = model.nodes[NODE]!.files[AGENT_SCRIPT.toLowerCase()]!.copiedFrom!.source;
    const staging = `${fixture.machinePath}.log-staging/${NODE}`;
    const journalFile = path.join(staging, `${collectionId}.journal.json`);
    proxy.stallAfterBytes(20 * MiB);
    const first = execa(shippedNodePath(), [agent, 'collect-logs'], {
      reject: false,
      env: simulatorEnvironment(fixture.machinePath, { node: NODE, simulator: await simulatorBundle() }),
    });
    const acked = await until('an acknowledged block in the journal', async () => {
      const journal = await fs.readFile(journalFile, 'utf8').then(JSON.parse, () => undefined);
      return journal?.acked?.length > 0 ? (journal.acked as number[]) : undefined;
    });
    first.kill('SIGKILL');
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');
    const blocksBefore = proxy.requests.filter((line) => BLOCK_PUT.test(line)).length;
    expect(proxy.requests.some((line) => COMMIT_PUT.test(line))).toBe(false);
    const madeFirst = JSON.parse(await fs.readFile(path.join(staging, `${collectionId}.bundle.json`), 'utf8')) as {
      size: number;
      sha256: string;
    };
    const blocks = Math.ceil(madeFirst.size / (8 * MiB));
    expect(blocks).toBeGreaterThanOrEqual(3);
    expect(acked.length).toBeLessThan(blocks);
    proxy.release();

    // The task's next run (Task Scheduler starts it at its trigger) resumes from the journal.
    const runs: AgentRun[] = [];
    await advanceClock(fixture.machinePath, iso(new Date(nowUtc.getTime() + 120_000)), installedAgentTaskRunner(fixture.machinePath, runs));
    const second = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(second?.output).toMatch(/uploaded/);
    expect(second?.exitCode).toBe(0);

    const blocksAfter = proxy.requests.filter((line) => BLOCK_PUT.test(line)).length - blocksBefore;
    expect(blocksAfter).toBe(blocks - acked.length);
    expect(proxy.requests.filter((line) => COMMIT_PUT.test(line))).toHaveLength(1);

    const node = (await fixture.machine()).nodes[NODE]!;
    const recordFile = node.files[logCollectionRecordPath(collectionId).toLowerCase()]!;
    const record = parseLogCollectionRecord(Buffer.from(recordFile.contentBase64!, 'base64').toString('utf8'))!;
    expect(record).toMatchObject({ outcome: 'uploaded', bundleSha256: madeFirst.sha256, bundleBytes: madeFirst.size });
    expect(node.events.filter((event) => event.eventId === 1201)).toHaveLength(1);
    const downloaded = await azurite.service.getContainerClient('killed').getBlobClient(record.blobName!).downloadToBuffer();
    expect(downloaded.length).toBe(madeFirst.size);
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(madeFirst.sha256);
    // Staging is gone once the record is written.
    expect(await fs.readdir(staging)).toEqual([]);
  });
});
