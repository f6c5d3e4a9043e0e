/**
 * The engineer's log collection on a node, end to end on the simulated machine against Azurite: the
 * owner's grant carries a container SAS (protected logUpload.containerSas), which the handler keeps
 * machine-protected for the grant; the engineer's request (the installed agent's
 * request-log-collection, as the JEA function runs it) is served by the CollectLogs task's agent
 * process, which uploads with the grant's SAS and records trigger engineer and the grant. A revoke
 * while the upload runs removes the SAS at once and cancels the collection before its commit:
 * nothing committed, record 'cancelled', event 1203; the blob uploaded before stays. So does the
 * node's clock passing a later grant's expiry during its upload.
 */
import execa from 'execa';
import net from 'net';
import path from 'path';
import { existsSync, readdirSync } from 'fs';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { bundleHandler } from '../../scripts/build/bundle';
import { installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { advanceClock } from '../../sim/windows/simulation';
import { updateMachine } from '../../sim/windows/default-machine';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNodePath } from '../../sim/shipped-node-path';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../../sim/arm/protected-settings-cms';
import { addAgentToPackage } from '../../sim/relay/channel-rig';
import * as files from '../../sim/windows/file-system';
import { AGENT_SCRIPT, LOG_COLLECTION_REQUEST_FILE, LOG_UPLOAD_SAS_FILE } from '../../core/node-layout';
import { logCollectionRecordPath, parseLogCollectionRecord, type LogCollectionRecord } from '../../core/log-collection-record';
import type { MachineModel } from '../../sim/windows/machine-model';
import { ExtensionFixture, grantSettings, iso } from '../support/extension-fixture';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';
import { readBundle } from '../diag/fixtures';

jest.setTimeout(180_000);
const NODE = 'ARC-NODE-1';
const CONTAINER = 'engineer-logs';
const SECOND_GRANT = '5d6e7f80-9a1b-4c2d-8e3f-405162738495';

/** A loopback proxy in front of Azurite that can hold the next block upload until released. */
interface GateProxy {
  origin: string;
  /** Holds the next block upload (not the commit); resolves once one is held. */
  holdNextBlock(): Promise<void>;
  release(): void;
  requests: string[];
  close(): Promise<void>;
}

async function startGateProxy(port: number): Promise<GateProxy> {
  let armed: (() => void) | null = null;
  const held: Array<() => void> = [];
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    let queue: Buffer[] | null = null;
    client.on('data', (chunk: Buffer) => {
      if (queue) return void queue.push(chunk);
      const line = /(PUT|GET|HEAD|POST|DELETE) (\S+) HTTP\/1\.1/.exec(chunk.toString('latin1'));
      if (line) requests.push(`${line[1]} ${line[2]}`);
      if (line && armed && /[?&]comp=block(?!list)/.test(line[2]!)) {
        const notify = armed;
        armed = null;
        queue = [chunk];
        held.push(() => {
          for (const part of queue ?? []) upstream.write(part);
          queue = null;
        });
        notify();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    requests,
    holdNextBlock: () => new Promise<void>((resolve) => (armed = resolve)),
    release: () => held.splice(0).forEach((flush) => flush()),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function addNodeFiles(machine: MachineModel, now: string): void {
  const ctx = { node: machine.nodes[NODE]!, now };
  const put = (file: string, content: string) => {
    files.ensureDirectory(ctx, { path: file.slice(0, file.lastIndexOf('\\')) });
    files.writeFile(ctx, { path: file, content });
  };
  put('C:\\ProgramData\\AzureConnectedMachineAgent\\Log\\himds.log', 'started\nconnected\n');
  put('C:\\ProgramData\\GuestConfig\\extension_logs\\Microsoft.Test\\handler.log', 'handler ran\n');
}

describe("the engineer's log collection on a node (grant SAS, request, CollectLogs, Azurite, cancel on revoke)", () => {
  let fixture: ExtensionFixture;
  let azurite: Azurite;
  let proxy: GateProxy;
  let certificate: TestCertificate;
  let nowUtc: Date;
  let sas: string;
  let grant: Record<string, unknown>;
  let firstBlob: string;
  const grantId = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

  const nodeModel = async () => (await fixture.machine()).nodes[NODE]!;
  const nodeClock = async () => new Date((await fixture.machine()).clock.nowUtc);
  const recordOf = async (collectionId: string): Promise<LogCollectionRecord> => {
    const file = (await nodeModel()).files[logCollectionRecordPath(collectionId).toLowerCase()]!;
    return parseLogCollectionRecord(Buffer.from(file.contentBase64!, 'base64').toString('utf8'))!;
  };
  /** The installed agent, as the JEA function runs it: node.exe agent.js request-log-collection ... */
  const requestAsEngineer = async (engineer: string) => {
    const installed = (await nodeModel()).files[AGENT_SCRIPT.toLowerCase()]!.copiedFrom!.source;
    const to = await nodeClock();
    const env = simulatorEnvironment(fixture.machinePath, { node: NODE, simulator: await simulatorBundle() });
    const argv = ['request-log-collection', '--from', iso(new Date(to.getTime() - 3_600_000)), '--to', iso(to)];
    return execa(shippedNodePath(), [installed, ...argv, '--category', 'ArcAgent,Extensions', '--requested-by', engineer], {
      reject: false,
      env,
    });
  };
  const collectionIdOf = (output: string) => /^Log collection ([0-9a-f-]{36}) requested/.exec(output)![1]!;
  const committedBlobs = async () => {
    const names: string[] = [];
    for await (const blob of azurite.service.getContainerClient(CONTAINER).listBlobsFlat()) names.push(blob.name);
    return names;
  };

  beforeAll(async () => {
    nowUtc = new Date(Math.floor(Date.now() / 1000) * 1000);
    fixture = await ExtensionFixture.create((machine) => {
      machine.clock.nowUtc = iso(nowUtc);
      addNodeFiles(machine, iso(new Date(nowUtc.getTime() - 60_000)));
    });
    certificate = await createTestCertificate(fixture.base);
    const built = path.join(fixture.base, 'build', 'handler.js');
    await bundleHandler({ identity: loadExtensionIdentity(), outFile: built });
    await addAgentToPackage(fixture.root, path.join(path.dirname(built), 'agent.js'));
    azurite = await startAzurite();
    proxy = await startGateProxy(azurite.port);
    sas = await azurite.containerSas(CONTAINER, { origin: proxy.origin });
    grant = grantSettings(nowUtc, { grantId });
    await fixture.writeSettings(0, { publicSettings: { schemaVersion: 1 } });
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
  });

  afterAll(async () => {
    proxy?.release();
    await proxy?.close();
    await azurite?.stop();
    await fixture?.remove();
  });

  it('keeps the grant SAS protected, and uploads the engineer request with trigger engineer and the grant in record and blob', async () => {
    const signature = new URL(sas).searchParams.get('sig')!;
    await fixture.writeSettings(1, {
      publicSettings: grant,
      protectedSettingsCertThumbprint: certificate.thumbprint,
      protectedSettings: await encryptToCms(JSON.stringify({ logUpload: { containerSas: sas } }), certificate.crtPath, 'aes256'),
    });
    const enabled = await fixture.run('enable', { sequenceNumber: 1 });
    expect(enabled.stderr).toBe('');
    expect(enabled.exitCode).toBe(0);
    expect((await nodeModel()).files[LOG_UPLOAD_SAS_FILE.toLowerCase()]).toBeDefined();
    expect(JSON.stringify(await fixture.machine()) + (await fixture.logText())).not.toContain(signature);

    // A public-only re-send (a deploy: Azure never returns protected settings) keeps it for the same grant.
    await fixture.writeSettings(2, { publicSettings: grant });
    expect((await fixture.run('enable', { sequenceNumber: 2 })).exitCode).toBe(0);
    expect((await nodeModel()).files[LOG_UPLOAD_SAS_FILE.toLowerCase()]).toBeDefined();

    const asked = await requestAsEngineer('CONTOSO\\eng1');
    expect(asked.stderr).toBe('');
    expect(asked.exitCode).toBe(0);
    const collectionId = collectionIdOf(asked.stdout);

    const runs: AgentRun[] = [];
    await advanceClock(
      fixture.machinePath,
      iso(new Date((await nodeClock()).getTime() + 120_000)),
      installedAgentTaskRunner(fixture.machinePath, runs),
    );
    const collect = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(collect).toMatchObject({ exitCode: 0, output: expect.stringMatching(/uploaded/) });

    const record = await recordOf(collectionId);
    expect(record).toMatchObject({
      collectionId,
      trigger: 'engineer',
      requestedBy: 'CONTOSO\\eng1',
      grantId,
      supportRequestId: 'TKT-2611240001',
      consent: `grant ${grantId}`,
      outcome: 'uploaded',
      includeSecurityLog: false,
    });
    const node = await nodeModel();
    expect(node.events.map((event) => event.eventId)).toContain(1201);
    // The grant's SAS stays for the grant; the request is served.
    expect(node.files[LOG_UPLOAD_SAS_FILE.toLowerCase()]).toBeDefined();
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();

    const blob = azurite.service.getContainerClient(CONTAINER).getBlobClient(record.blobName!);
    expect((await blob.getProperties()).metadata).toMatchObject({
      machine: NODE,
      collectionid: collectionId,
      grantid: grantId,
      supportrequestid: 'TKT-2611240001',
    });
    const downloaded = path.join(fixture.base, 'engineer.zip');
    await blob.downloadToFile(downloaded);
    const { names, manifest } = await readBundle(downloaded);
    expect(names).toContain('ArcAgent/arc-agent-logs/himds.log');
    expect(manifest).toMatchObject({ collectionId, trigger: 'support', requestedBy: 'CONTOSO\\eng1', grantId });
    firstBlob = record.blobName!;
  });

  it('a revoke during the upload removes the SAS at once and cancels before the commit; the earlier blob stays', async () => {
    const asked = await requestAsEngineer('CONTOSO\\eng2');
    expect(asked.exitCode).toBe(0);
    const collectionId = collectionIdOf(asked.stdout);

    // The CollectLogs task runs; its block upload is held at the proxy while the owner revokes.
    const held = proxy.holdNextBlock();
    const runs: AgentRun[] = [];
    const clock = advanceClock(
      fixture.machinePath,
      iso(new Date((await nodeClock()).getTime() + 120_000)),
      installedAgentTaskRunner(fixture.machinePath, runs),
    );
    await held;
    await fixture.writeSettings(3, { publicSettings: { ...grant, access: { level: 'None' } } });
    expect((await fixture.run('enable', { sequenceNumber: 3 })).exitCode).toBe(0);
    expect((await nodeModel()).files[LOG_UPLOAD_SAS_FILE.toLowerCase()]).toBeUndefined();
    proxy.release();
    await clock;

    const collect = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(collect?.output).toMatch(/cancelled/);
    expect(proxy.requests.some((request) => /comp=blocklist/.test(request) && request.includes(collectionId))).toBe(false);
    const record = await recordOf(collectionId);
    expect(record).toMatchObject({ collectionId, trigger: 'engineer', grantId, outcome: 'cancelled', blobName: null });
    expect(record.detail).toMatch(
      new RegExp(`the grant ${grantId} was revoked while it ran: stopped before its commit, so nothing was committed`),
    );
    const node = await nodeModel();
    expect(
      node.events
        .filter((event) => event.eventId === 1203)
        .map((event) => event.message)
        .join('\n'),
    ).toContain(collectionId);
    expect(node.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()]).toBeUndefined();
    const staging = `${fixture.machinePath}.log-staging/${NODE}`;
    expect(existsSync(staging) ? readdirSync(staging).filter((name) => name.startsWith(collectionId)) : []).toEqual([]);
    // Nothing of this collection was committed; the blob uploaded before is untouched.
    expect(await committedBlobs()).toEqual([firstBlob]);
  });

  it("a new grant's collection is cancelled as expired when the node clock passes the expiry during the upload", async () => {
    const second = grantSettings(new Date(), { grantId: SECOND_GRANT }, 1);
    const expiresAt = new Date((second.access as { expiresAt: string }).expiresAt);
    await fixture.writeSettings(4, {
      publicSettings: second,
      protectedSettingsCertThumbprint: certificate.thumbprint,
      protectedSettings: await encryptToCms(JSON.stringify({ logUpload: { containerSas: sas } }), certificate.crtPath, 'aes256'),
    });
    expect((await fixture.run('enable', { sequenceNumber: 4 })).exitCode).toBe(0);
    const asked = await requestAsEngineer('CONTOSO\\eng3');
    expect(asked.exitCode).toBe(0);
    const collectionId = collectionIdOf(asked.stdout);

    const held = proxy.holdNextBlock();
    const runs: AgentRun[] = [];
    const clock = advanceClock(
      fixture.machinePath,
      iso(new Date(expiresAt.getTime() + 60_000)),
      installedAgentTaskRunner(fixture.machinePath, runs),
    );
    await held;
    // The node's clock reaches the grant's expiry while the block is on its way.
    await updateMachine(fixture.machinePath, (model) => {
      model.clock.nowUtc = iso(expiresAt);
    });
    proxy.release();
    await clock;

    const collect = runs.find((run) => run.argv[0] === 'collect-logs');
    expect(collect?.output).toMatch(/cancelled/);
    const record = await recordOf(collectionId);
    expect(record).toMatchObject({ collectionId, grantId: SECOND_GRANT, outcome: 'cancelled', blobName: null });
    expect(record.detail).toMatch(new RegExp(`the grant ${SECOND_GRANT} expired at ${expiresAt.toISOString()}`));
    // The Expire task ended the grant: its SAS is gone too.
    expect((await nodeModel()).files[LOG_UPLOAD_SAS_FILE.toLowerCase()]).toBeUndefined();
    expect(await committedBlobs()).toEqual([firstBlob]);
  });
});
