/**
 * The agent's reader over a node's tree with a fake host: event log channels are exported through
 * the host (exportEventLog with the window's query into the export folder) and read back from that
 * copy; an absent channel is 'missing', a failed export 'unreadable' with the host's words; the
 * Security log is never asked for without the owner's opt-in; the copies go after the bundle.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { Readable } from 'stream';
import { writeBundle, type BundleOptions } from '../../diag/bundle';
import { HostLogExporter } from '../../diag/host-log-export';
import { errorReason, eventLogQuery, SourceReadError, type SourceEntry } from '../../diag/reader';
import { SOURCES, type Source } from '../../diag/sources';
import { TreeSourceReader, type NodeFileTree, type TreeItem } from '../../diag/tree-reader';
import { LOG_EXPORT_FOLDER } from '../../core/node-layout';
import { EXPORTED_LOGS_FOLDER, type OperationRequest } from '../../windows/operations';
import type { HostOperationError, OperationOutcome, WindowsHost } from '../../windows/port';
import { readBundle } from './fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');
const WINDOW = { from: '2026-03-10T08:00:00.000Z', to: '2026-03-10T12:00:00.000Z' };
const source = (id: string): Source => SOURCES.find((candidate) => candidate.id === id)!;

/** The node's files by Windows path (lower case). */
class MemoryTree implements NodeFileTree {
  readonly files = new Map<string, Buffer>();
  async children(): Promise<TreeItem[] | null> {
    return null;
  }
  async read(file: string, start: number, end: number): Promise<Readable> {
    const bytes = this.files.get(file.toLowerCase());
    if (!bytes) throw new SourceReadError('missing', `${file} is gone`);
    return Readable.from([bytes.subarray(start, end)]);
  }
}

type Answer = { present: boolean; bytes?: Buffer } | { error: Pick<HostOperationError, 'code' | 'message'> };

/** A host that records every batch and exports channels and generated logs (by producer) from a table into the tree. */
class FakeHost implements WindowsHost {
  readonly batches: OperationRequest[][] = [];
  launches = 0;
  constructor(
    private readonly tree: MemoryTree,
    private readonly channels: Record<string, Answer>,
  ) {}
  decryptor(): never {
    throw new Error('not used');
  }
  async execute(operations: OperationRequest[]): Promise<OperationOutcome[]> {
    this.batches.push(operations);
    return operations.map((request): OperationOutcome => {
      if (request.op === 'exportEventLog') {
        const answer = this.channels[request.channel] ?? { present: false };
        if ('error' in answer) return { ok: false, error: { operation: request.op, target: request.channel, ...answer.error } };
        if (answer.present) this.tree.files.set(request.path.toLowerCase(), answer.bytes ?? Buffer.alloc(0));
        return { ok: true, value: { present: answer.present, size: answer.present ? (answer.bytes?.length ?? 0) : 0 } };
      }
      if (request.op === 'writeGeneratedLog') {
        const answer = this.channels[request.producer] ?? { present: false };
        if ('error' in answer) return { ok: false, error: { operation: request.op, target: request.producer, ...answer.error } };
        if (answer.present) this.tree.files.set(request.path.toLowerCase(), answer.bytes ?? Buffer.alloc(0));
        return { ok: true, value: { present: answer.present, size: answer.present ? (answer.bytes?.length ?? 0) : 0 } };
      }
      if (request.op === 'removePath') {
        for (const key of [...this.tree.files.keys()]) if (key.startsWith(`${request.path.toLowerCase()}\\`)) this.tree.files.delete(key);
        return { ok: true, value: { removed: true } };
      }
      return { ok: true, value: { created: false } };
    });
  }
  exports(): OperationRequest[] {
    return this.batches.flat().filter((request) => request.op === 'exportEventLog');
  }
}

const EVTX = Buffer.concat([Buffer.from('ElfFile\0'), Buffer.alloc(200, 7)]);

function reader(channels: Record<string, Answer>): { tree: MemoryTree; host: FakeHost; reader: TreeSourceReader } {
  const tree = new MemoryTree();
  const host = new FakeHost(tree, channels);
  return { tree, host, reader: new TreeSourceReader(tree, new HostLogExporter(host)) };
}

async function text(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('event log channels through the host', () => {
  it('exports the channel over the window into the export folder and reads the copy back', async () => {
    const { host, reader: subject } = reader({ 'Microsoft-Windows-WinRM/Operational': { present: true, bytes: EVTX } });
    const listing = await subject.list(source('event-winrm'), WINDOW);
    const path = `${LOG_EXPORT_FOLDER}\\event-winrm.evtx`;
    expect(host.batches).toEqual([
      [
        { op: 'ensureDirectory', path: LOG_EXPORT_FOLDER },
        {
          op: 'exportEventLog',
          channel: 'Microsoft-Windows-WinRM/Operational',
          query: "*[System[TimeCreated[@SystemTime>='2026-03-10T08:00:00.000Z' and @SystemTime<='2026-03-10T12:00:00.000Z']]]",
          path,
        },
      ],
    ]);
    expect(listing).toEqual({
      entries: [
        {
          sourceId: 'event-winrm',
          origin: 'Microsoft-Windows-WinRM/Operational',
          name: 'Microsoft-Windows-WinRM%4Operational.evtx',
          size: EVTX.length,
          text: false,
          query: eventLogQuery(WINDOW),
          stagedPath: path,
        },
      ],
      skipped: [],
    });
    const entry = listing.entries[0] as SourceEntry;
    expect(await text(await subject.open(entry, { start: 0, end: entry.size }))).toEqual(EVTX);
  });

  it('the agent and the PowerShell agree on the export folder', () => {
    expect(LOG_EXPORT_FOLDER).toBe(EXPORTED_LOGS_FOLDER);
  });

  it("says a channel the node does not have is missing, and a failed export unreadable in the host's words", async () => {
    const { reader: subject } = reader({
      System: {
        error: { code: 'Failed', message: "wevtutil could not export the event log channel 'System' (exit code 5): Access is denied." },
      },
    });
    await expect(subject.list(source('event-hyperv-vmms-admin'), WINDOW)).rejects.toMatchObject({
      reason: 'missing',
      message: 'Microsoft-Windows-Hyper-V-VMMS-Admin is not on this node',
    });
    await expect(subject.list(source('event-system'), WINDOW)).rejects.toMatchObject({
      reason: 'unreadable',
      message: "System could not be exported: wevtutil could not export the event log channel 'System' (exit code 5): Access is denied.",
    });
  });

  it("keeps the reason of a read error from another bundle's copy of SourceReadError (the simulated Windows')", () => {
    const foreign = Object.assign(new Error('C:\\x does not exist'), { name: 'SourceReadError', reason: 'missing' });
    expect(errorReason(foreign)).toBe('missing');
    expect(errorReason(Object.assign(new Error('x'), { name: 'SourceReadError', reason: 'everything' }))).toBe('unreadable');
    expect(errorReason(Object.assign(new Error('x'), { code: 'EBUSY' }))).toBe('locked');
  });

  it('removes the exported copies on release, and asks nothing when none were made', async () => {
    const { host, tree, reader: subject } = reader({ System: { present: true, bytes: EVTX } });
    await subject.release();
    expect(host.batches).toEqual([]);
    await subject.list(source('event-system'), WINDOW);
    expect(tree.files.size).toBe(1);
    await subject.release();
    expect(host.batches.at(-1)).toEqual([{ op: 'removePath', path: LOG_EXPORT_FOLDER }]);
    expect(tree.files.size).toBe(0);
  });
});

describe('logs Windows writes on request, through the host', () => {
  it('asks for the cluster log from the window start into the export folder, as text read from the copy', async () => {
    const log = Buffer.from('00000a10.00001b2c::2026/03/10-09:00:00.000 INFO  [RCM] resource online\n');
    const { host, reader: subject } = reader({ clusterLog: { present: true, bytes: log } });
    const listing = await subject.list(source('cluster-log'), WINDOW);
    const path = `${LOG_EXPORT_FOLDER}\\cluster-log.log`;
    expect(host.batches).toEqual([
      [
        { op: 'ensureDirectory', path: LOG_EXPORT_FOLDER },
        { op: 'writeGeneratedLog', producer: 'clusterLog', sinceUtc: WINDOW.from, path },
      ],
    ]);
    expect(listing.entries).toEqual([
      { sourceId: 'cluster-log', origin: 'clusterLog', name: 'Cluster.log', size: log.length, text: true, stagedPath: path },
    ]);
    expect(await text(await subject.open(listing.entries[0]!, { start: 0, end: log.length }))).toEqual(log);
  });

  it('says a node without the cluster service has no cluster log, and a failed Windows Update log is unreadable', async () => {
    const { reader: subject } = reader({
      windowsUpdateLog: { error: { code: 'Failed', message: 'Get-WindowsUpdateLog: symbols could not be read' } },
    });
    await expect(subject.list(source('cluster-log'), WINDOW)).rejects.toMatchObject({
      reason: 'missing',
      message: 'clusterLog is not on this node',
    });
    await expect(subject.list(source('windows-update-log'), WINDOW)).rejects.toMatchObject({
      reason: 'unreadable',
      message: 'windowsUpdateLog could not be exported: Get-WindowsUpdateLog: symbols could not be read',
    });
  });
});

describe('event log channels in a bundle', () => {
  let work: string;
  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'ars-diag-tree-'));
  });
  afterEach(() => fs.rm(work, { recursive: true, force: true }));

  const bundle = (
    subject: TreeSourceReader,
    categories: BundleOptions['request']['categories'],
    securityLogOptIn = false,
    sources: readonly Source[] = SOURCES,
  ) =>
    writeBundle({
      sources,
      request: {
        collectionId: 'c-1',
        machine: 'node1',
        window: WINDOW,
        categories,
        trigger: 'owner',
        requestedBy: 'owner',
        securityLogOptIn,
      },
      reader: subject,
      outputFile: path.join(work, `bundle-${securityLogOptIn}.zip`),
      deadline: new Date(NOW.getTime() + 3600_000),
      now: () => NOW,
    });

  it('holds each exported channel whole with its query, skips an absent role as missing, and removes the copies', async () => {
    const big = Buffer.alloc(64 * 1024 * 1024 + 1, 1);
    const {
      host,
      tree,
      reader: subject,
    } = reader({
      System: { present: true, bytes: EVTX },
      Application: { present: true, bytes: Buffer.from('ElfFile\0application') },
      'Microsoft-Windows-PowerShell/Operational': { present: true, bytes: big },
    });
    const result = await bundle(subject, ['EventLogs', 'HyperV']);
    const { files, manifest } = await readBundle(result.file);
    expect(files.get('EventLogs/event-system/System.evtx')).toEqual(EVTX);
    expect(manifest.entries.find((entry) => entry.sourceId === 'event-system')).toMatchObject({
      origin: 'System',
      query: eventLogQuery(WINDOW),
      truncated: false,
      originalSize: EVTX.length,
    });
    expect(manifest.skipped).toEqual(
      expect.arrayContaining([
        // Binary: over its 64 MiB cap it is left out, never cut.
        expect.objectContaining({ sourceId: 'event-powershell', reason: 'over-cap' }),
        expect.objectContaining({
          sourceId: 'event-hyperv-vmms-admin',
          reason: 'missing',
          detail: 'not present on this node (a role it does not run)',
        }),
        // Not a role's channel: missing, in the reader's words.
        expect.objectContaining({ sourceId: 'event-setup', reason: 'missing', detail: 'Setup is not on this node' }),
      ]),
    );
    expect(tree.files.size).toBe(0);
    expect(host.batches.at(-1)).toEqual([{ op: 'removePath', path: LOG_EXPORT_FOLDER }]);
  });

  it('keeps the newest lines of a generated log over its cap, and redacts it', async () => {
    const cap = 4096;
    const log = Buffer.from(`${'x'.repeat(1023)}\n`.repeat(8) + 'Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123\nnewest line\n');
    const { reader: subject } = reader({ windowsUpdateLog: { present: true, bytes: log } });
    const result = await bundle(subject, ['WindowsUpdate'], false, [{ ...source('windows-update-log'), maxFileBytes: cap }]);
    const { files, manifest } = await readBundle(result.file);
    const kept = files.get('WindowsUpdate/windows-update-log/WindowsUpdate.log')!.toString('utf8');
    expect(kept.endsWith('newest line\n')).toBe(true);
    expect(kept).not.toContain('abcdefghijklmnopqrstuvwxyz0123');
    expect(manifest.entries.find((entry) => entry.sourceId === 'windows-update-log')).toMatchObject({
      origin: 'windowsUpdateLog',
      truncated: true,
      keptFrom: log.length - cap,
    });
  });

  it('never asks the host for the Security log without the owner opting in', async () => {
    const { host, reader: subject } = reader({ Security: { present: true, bytes: EVTX } });
    const refused = await bundle(subject, ['EventLogs']);
    expect(host.exports().map((request) => (request as { channel: string }).channel)).not.toContain('Security');
    expect(refused.manifest.skipped).toContainEqual(
      expect.objectContaining({ sourceId: 'event-security', reason: 'denied', detail: 'the Security log needs the owner to opt in' }),
    );
    const allowed = await bundle(subject, ['EventLogs'], true);
    expect(host.exports().filter((request) => (request as { channel: string }).channel === 'Security')).toHaveLength(1);
    expect(allowed.manifest.entries.map((entry) => entry.sourceId)).toContain('event-security');
  });
});
