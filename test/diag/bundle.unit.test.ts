import { promises as fs, createWriteStream } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { Writable } from 'stream';
import { BundleError, writeBundle, type BundleOptions } from '../../diag/bundle';
import { CollectionRequestError } from '../../diag/collect-plan';
import { deniedPathReason } from '../../diag/deny';
import { LocalFolderReader, SourceReadError, type SourceReader } from '../../diag/reader';
import { CATEGORIES, SOURCES, sourceFolder } from '../../diag/sources';
import { plant, readBundle, sha256 } from './fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');
const HOUR = 3600_000;
const WINDOW = { from: new Date(NOW.getTime() - 4 * HOUR).toISOString(), to: NOW.toISOString() };
const RECENT = new Date(NOW.getTime() - HOUR);
const SAS_LINE = 'GET https://a.blob.core.windows.net/c?sv=1&sp=cw&sig=SIGNATURESECRET123&se=2 200\n';

let work: string;
let root: string;
let counter = 0;

beforeEach(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'ars-diag-bundle-'));
  root = path.join(work, 'node');
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

function options(overrides: Partial<BundleOptions> = {}, request: Partial<BundleOptions['request']> = {}): BundleOptions {
  return {
    request: {
      collectionId: 'c-1',
      machine: 'node1',
      window: WINDOW,
      categories: ['ArcRemoteSupport', 'ArcAgent', 'Extensions', 'EventLogs', 'Cluster'],
      trigger: 'support',
      requestedBy: 'CONTOSO\\engineer',
      grantId: 'g-1',
      supportRequestId: '2603100010000001',
      ...request,
    },
    reader: new LocalFolderReader(root),
    outputFile: path.join(work, `bundle-${++counter}.zip`),
    deadline: new Date(NOW.getTime() + HOUR),
    now: () => NOW,
    ...overrides,
  };
}

async function plantNode(): Promise<void> {
  await plant(root, 'C:\\ProgramData\\ArcRemoteSupport\\history.jsonl', '{"event":"grant"}\n', RECENT);
  await plant(
    root,
    'C:\\ProgramData\\ArcRemoteSupport\\Logs\\agent.log',
    `start\n${SAS_LINE}Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123\nend\n`,
    RECENT,
  );
  await plant(root, 'C:\\ProgramData\\ArcRemoteSupport\\desired.json', 'DESIRED-STATE-SECRET', RECENT);
  const himds = Array.from({ length: 4000 }, (_, i) => `line ${i} of himds\n`).join('');
  await plant(root, 'C:\\ProgramData\\AzureConnectedMachineAgent\\Log\\himds.log', himds, RECENT);
  await plant(root, 'C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\token.json', 'ARC-TOKEN-SECRET', RECENT);
  await plant(root, 'C:\\ProgramData\\GuestConfig\\extension_logs\\Contoso.ArcRemoteSupport\\handler.log', 'handler ok\n', RECENT);
  await plant(
    root,
    'C:\\ProgramData\\GuestConfig\\extension_logs\\Contoso.ArcRemoteSupport\\old.log',
    'old\n',
    new Date(NOW.getTime() - 48 * HOUR),
  );
  await plant(root, 'C:\\Windows\\System32\\winevt\\Logs\\System.evtx', Buffer.from('ElfFile\0system-events'), RECENT);
  await plant(root, 'C:\\Windows\\System32\\winevt\\Logs\\Security.evtx', Buffer.from('ElfFile\0SECURITY-EVENTS'), RECENT);
  await plant(
    root,
    'C:\\Windows\\System32\\winevt\\Logs\\Microsoft-Windows-WinRM%4Operational.evtx',
    Buffer.from('ElfFile\0winrm'),
    RECENT,
  );
}

describe('the bundle', () => {
  it('holds every entry with its manifest line, the tail of capped logs, redacted text and no denied file', async () => {
    await plantNode();
    const sources = SOURCES.map((source) => (source.id === 'arc-agent-logs' ? { ...source, maxFileBytes: 1000 } : source));
    const result = await writeBundle(options({ sources }));
    const bundle = await readBundle(result.file);
    const { manifest } = bundle;

    expect(bundle.names.at(-1)).toBe('manifest.json');
    expect(result.sha256).toBe(sha256(await fs.readFile(result.file)));
    expect(result.size).toBe((await fs.stat(result.file)).size);
    expect(manifest).toMatchObject({
      collectionId: 'c-1',
      machine: 'node1',
      window: WINDOW,
      trigger: 'support',
      requestedBy: 'CONTOSO\\engineer',
      grantId: 'g-1',
      supportRequestId: '2603100010000001',
      deadlineReached: false,
    });
    expect(bundle.names.slice(0, -1).sort()).toEqual(manifest.entries.map((entry) => entry.path).sort());
    for (const entry of manifest.entries) {
      const data = bundle.files.get(entry.path)!;
      expect([entry.path, sha256(data), data.length]).toEqual([entry.path, entry.sha256, entry.storedSize]);
    }

    const himds = manifest.entries.find((entry) => entry.path === 'ArcAgent/arc-agent-logs/himds.log')!;
    const original = await fs.readFile(path.join(root, 'C/ProgramData/AzureConnectedMachineAgent/Log/himds.log'));
    expect(himds).toMatchObject({ truncated: true, originalSize: original.length, keptFrom: original.length - 1000, storedSize: 1000 });
    expect(bundle.files.get(himds.path)!.equals(original.subarray(original.length - 1000))).toBe(true);

    const agent = manifest.entries.find((entry) => entry.path === 'ArcRemoteSupport/ars-logs/agent.log')!;
    expect(agent.redactions).toEqual({ sasSignature: 1, bearerToken: 1 });
    const all = [...bundle.files.values()].map((data) => data.toString('latin1')).join('\n');
    for (const secret of [
      'SIGNATURESECRET123',
      'abcdefghijklmnopqrstuvwxyz0123',
      'DESIRED-STATE-SECRET',
      'ARC-TOKEN-SECRET',
      'SECURITY-EVENTS',
    ]) {
      expect(all).not.toContain(secret);
    }

    const system = manifest.entries.find((entry) => entry.sourceId === 'event-system')!;
    expect(system.query).toBe(`*[System[TimeCreated[@SystemTime>='${WINDOW.from}' and @SystemTime<='${WINDOW.to}']]]`);
    const skip = (id: string) => manifest.skipped.filter((item) => item.sourceId === id).map((item) => item.reason);
    expect(skip('event-security')).toEqual(['denied']);
    expect(skip('event-failover-clustering')).toEqual(['missing']);
    expect(manifest.skipped.find((item) => item.sourceId === 'event-failover-clustering')!.detail).toMatch(/not present/);
    expect(skip('extension-logs')).toEqual(['outside-window']);
    expect(skip('event-setup')).toEqual(['missing']);
  });

  it('asks for the Security log only when the owner opted in', async () => {
    await plantNode();
    const without = await readBundle((await writeBundle(options({}, { categories: ['EventLogs'] }))).file);
    expect(without.manifest.skipped).toContainEqual(expect.objectContaining({ sourceId: 'event-security', reason: 'denied' }));
    expect(without.names.some((name) => name.includes('event-security'))).toBe(false);
    const opted = await readBundle((await writeBundle(options({}, { categories: ['EventLogs'], securityLogOptIn: true }))).file);
    expect(opted.names).toContain('EventLogs/event-security/Security.evtx');
    expect(opted.manifest.securityLogOptIn).toBe(true);
  });

  it('drops the lowest-priority entries first when over the total budget', async () => {
    await plantNode();
    await plant(root, 'C:\\ProgramData\\GuestConfig\\extension_logs\\Other\\big.log', 'x'.repeat(5000), RECENT);
    await plant(root, 'C:\\Windows\\System32\\winevt\\Logs\\Microsoft-Windows-WinRM%4Operational.evtx', Buffer.alloc(2000), RECENT);
    const sources = SOURCES.map((source) => (source.id === 'arc-agent-logs' ? { ...source, maxFileBytes: 1000 } : source));
    const result = await writeBundle(options({ sources, budgetBytes: 1300 }));
    const { manifest } = await readBundle(result.file);
    const budget = manifest.skipped.filter((item) => item.reason === 'budget');
    // Priority 30 (extension logs) goes before priority 40 (WinRM); the small handler.log still fits.
    expect(budget.map((item) => item.origin)).toEqual([expect.stringMatching(/big\.log$/), 'Microsoft-Windows-WinRM/Operational']);
    const taken = manifest.entries.reduce((sum, entry) => sum + entry.originalSize - entry.keptFrom, 0);
    expect(taken).toBeLessThanOrEqual(1300);
    expect(manifest.entries.map((entry) => entry.sourceId)).toEqual(
      expect.arrayContaining(['ars-history', 'ars-logs', 'arc-agent-logs', 'event-system', 'extension-logs']),
    );
  });

  it('stops adding at the deadline and says so', async () => {
    await plantNode();
    const local = new LocalFolderReader(root);
    let opened = 0;
    // The clock passes the deadline once two entries were opened.
    const reader: SourceReader = {
      list: (source, window) => local.list(source, window),
      open: (entry, range) => (opened++, local.open(entry, range)),
    };
    const deadline = new Date(NOW.getTime() + 60_000);
    const result = await writeBundle(options({ reader, deadline, now: () => (opened >= 2 ? deadline : NOW) }));
    const { manifest } = await readBundle(result.file);
    expect(manifest.deadlineReached).toBe(true);
    expect(manifest.skipped.filter((item) => item.reason === 'deadline').length).toBeGreaterThan(0);
    expect(manifest.entries.length).toBe(2);
  });

  it('skips and lists a locked file, and fails when too many cannot be read', async () => {
    await plantNode();
    const local = new LocalFolderReader(root);
    const locking = (locked: (origin: string) => boolean): SourceReader => ({
      list: (source, window) => local.list(source, window),
      open: async (entry, range) => {
        if (locked(entry.origin)) throw new SourceReadError('locked', `${entry.origin} is in use by another process`);
        return local.open(entry, range);
      },
    });
    const result = await writeBundle(options({ reader: locking((origin) => origin.endsWith('handler.log')) }));
    const { manifest } = await readBundle(result.file);
    expect(manifest.skipped).toContainEqual(expect.objectContaining({ sourceId: 'extension-logs', reason: 'locked' }));
    expect(manifest.entries.some((entry) => entry.origin.endsWith('handler.log'))).toBe(false);

    const failing = options({ reader: locking(() => true), maxErrors: 2 });
    await expect(writeBundle(failing)).rejects.toMatchObject({ name: 'BundleError', code: 'too-many-errors' });
    await expect(fs.access(failing.outputFile)).rejects.toThrow();
  });

  it('deletes the partial bundle and names free and needed bytes when the disk fills up', async () => {
    await plantNode();
    const full = options({
      openOutput: (file) => {
        const stream = createWriteStream(file);
        let written = 0;
        return new Writable({
          write(chunk: Buffer, _encoding, callback) {
            written += chunk.length;
            if (written > 200) {
              callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
              return;
            }
            stream.write(chunk, callback);
          },
          final(callback) {
            stream.end(callback);
          },
        });
      },
    });
    const error = (await writeBundle(full).catch((caught: unknown) => caught)) as BundleError;
    expect(error).toBeInstanceOf(BundleError);
    expect(error.code).toBe('disk-full');
    expect(error.message).toMatch(/\d+ bytes free, up to \d+ bytes needed; the partial bundle was deleted/);
    await expect(fs.access(full.outputFile)).rejects.toThrow();
  });

  it('fails over the compressed cap and leaves nothing to upload', async () => {
    await plantNode();
    const capped = options({ maxBundleBytes: 300 });
    await expect(writeBundle(capped)).rejects.toMatchObject({ code: 'over-cap' });
    await expect(fs.access(capped.outputFile)).rejects.toThrow();
  });

  it('refuses a window over 24 hours, one ending in the future, and an unknown category, naming the field', async () => {
    const cases: Array<[Partial<BundleOptions['request']>, string, RegExp]> = [
      [{ window: { from: '2026-03-09T11:00:00Z', to: '2026-03-10T12:00:00Z' } }, 'window', /longer than 24 hours/],
      [{ window: { from: '2026-03-10T11:00:00Z', to: '2026-03-10T12:30:00Z' } }, 'window.to', /in the future/],
      [{ window: { from: '2026-03-10T11:00:00Z', to: 'yesterday' } }, 'window.to', /not a UTC time/],
      [{ categories: ['EventLogs', 'C:\\Users'] }, 'categories', /not one of ArcRemoteSupport, /],
      [{ categories: [] }, 'categories', /empty/],
    ];
    for (const [request, field, message] of cases) {
      const error = await writeBundle(options({}, request)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CollectionRequestError);
      expect([(error as CollectionRequestError).field, (error as Error).message]).toEqual([field, expect.stringMatching(message)]);
    }
  });
});

describe('no source can reach a denied path', () => {
  /** Planted in and below every file source's folder: each must stay out of the bundle. */
  const PLANTED = [
    'client.pfx',
    'SERVER.PEM',
    'id.Key',
    'ca.crt',
    'x.cer',
    '0.settings',
    'RuntimeSettings\\1.log',
    'Tokens\\t.log',
    'Certs\\c.log',
    'CERT~1.LOG',
    'secret:x.log',
    'x.pfx.log.pfx',
    'a.log.',
    'b.log ',
    'NUL.log',
    'COM1.log',
  ];

  it('keeps every planted secret out, whatever the categories and however it is named', async () => {
    const fileSources = SOURCES.filter((source) => source.spec.kind === 'files');
    for (const source of fileSources) {
      if (source.spec.kind !== 'files') continue;
      const folder = sourceFolder(source.spec);
      for (const name of PLANTED) await plant(root, `${folder}\\${name}`, `PLANTED-SECRET ${name}`, RECENT);
      await plant(root, `${folder}\\sub\\${PLANTED[0]}`, 'PLANTED-SECRET sub', RECENT);
      await plant(root, `${folder}\\ok.log`, 'fine\n', RECENT);
      // A link to a user's profile, named like a log.
      const target = await plant(root, 'C:\\Users\\admin\\secret.log', 'PLANTED-SECRET profile', RECENT);
      await fs.symlink(target, path.join(root, ...`C\\${folder.slice(3)}\\link.log`.split('\\')));
    }
    const result = await writeBundle(options({}, { categories: [...CATEGORIES] }));
    const bundle = await readBundle(result.file);
    for (const [name, data] of bundle.files) {
      if (name !== 'manifest.json') expect([name, data.toString('latin1')]).not.toEqual([name, expect.stringContaining('PLANTED-SECRET')]);
    }
    for (const entry of bundle.manifest.entries) expect(deniedPathReason(entry.origin)).toBeNull();
    const okLogs = bundle.manifest.entries.filter((entry) => entry.origin.endsWith('\\ok.log'));
    expect(okLogs.length).toBe(
      fileSources.filter((source) => source.spec.kind === 'files' && source.spec.include.includes('*.log')).length,
    );
    const denied = bundle.manifest.skipped.filter((item) => item.reason === 'denied').map((item) => item.origin);
    expect(denied.some((origin) => origin.endsWith('\\link.log'))).toBe(true);
    expect(denied.some((origin) => origin.endsWith('CERT~1.LOG'))).toBe(true);
    expect(denied.some((origin) => origin.endsWith('secret:x.log'))).toBe(true);
  });
});
