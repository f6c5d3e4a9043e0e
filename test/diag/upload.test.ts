import { AnonymousCredential, ContainerClient, newPipeline } from '@azure/storage-blob';
import { createHash, randomBytes } from 'crypto';
import { promises as fs, renameSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { writeBundle } from '../../diag/bundle';
import { LocalFolderReader } from '../../diag/reader';
import { UploadSasError, checkUploadSas } from '../../diag/upload-sas';
import { UploadError, blobNameFor, blockId, uploadBundle, type BundleFile, type UploadOptions } from '../../diag/upload';
import { startAzurite, type Azurite } from '../../sim/storage/azurite';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { plant, readBundle, sha256 } from './fixtures';

const BLOCK = 64 * 1024;
let azurite: Azurite;
let proxy: FaultProxy;
let work: string;
let containers = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  proxy = await startFaultProxy({ host: '127.0.0.1', port: azurite.port });
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await azurite?.stop();
});
beforeEach(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'ars-diag-upload-'));
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

async function bundleOf(bytes: number): Promise<BundleFile> {
  const data = randomBytes(bytes);
  const file = path.join(work, 'bundle.zip');
  await fs.writeFile(file, data);
  return { file, size: bytes, sha256: sha256(data), md5: createHash('md5').update(data).digest('base64') };
}

/** A fresh container, its cw SAS through the proxy, and upload options for it. */
async function setup(bundle: BundleFile, overrides: Partial<UploadOptions> = {}) {
  const name = `diag${++containers}`;
  const url = await azurite.containerSas(name, { origin: proxy.origin });
  const sas = checkUploadSas(url, { allowLoopbackEmulator: true });
  const blobName = blobNameFor(`c-${containers}`, 'Node 1', new Date('2026-03-10T12:00:00Z'));
  const options: UploadOptions = {
    sas,
    blobName,
    bundle,
    metadata: { machine: 'node1', collectionId: `c-${containers}`, grantId: 'g-1', supportRequestId: '2603100010000001' },
    journalFile: path.join(work, 'upload.journal.json'),
    blockSize: BLOCK,
    concurrency: 1,
    retryDelayMs: 10,
    ...overrides,
  };
  const stored = azurite.service.getContainerClient(name).getBlockBlobClient(blobName);
  return { options, stored };
}

const commits = () => proxy.requests.filter((line) => line.includes('comp=blocklist')).length;
const stages = () => proxy.requests.filter((line) => line.includes('comp=block&') || line.endsWith('comp=block')).length;

async function storedBytes(client: ReturnType<ContainerClient['getBlockBlobClient']>): Promise<Buffer> {
  return client.downloadToBuffer();
}

describe('Azurite and the SDK', () => {
  it('need --skipApiVersionCheck: without it Azurite refuses the SDK service version', async () => {
    const strict = await startAzurite({ skipApiVersionCheck: false });
    try {
      const error = await strict.service
        .getContainerClient('x')
        .createIfNotExists()
        .catch((caught: unknown) => caught);
      // If this starts passing, the two versions agree again: drop the flag from the helper.
      expect(error).toMatchObject({ statusCode: 400 });
      expect(String((error as Error).message)).toMatch(/API version/i);
    } finally {
      await strict.stop();
    }
  }, 60_000);
});

describe('the upload', () => {
  it('sends the blocks with their MD5, commits once with metadata, and the blob is the bundle byte for byte', async () => {
    const root = path.join(work, 'node');
    await plant(root, 'C:\\ProgramData\\ArcRemoteSupport\\Logs\\agent.log', `hello sig=SECRETSIG\n${'x'.repeat(300_000)}\n`);
    const written = await writeBundle({
      request: {
        collectionId: 'c-rt',
        machine: 'node1',
        window: { from: '2026-03-10T08:00:00Z', to: '2026-03-10T12:00:00Z' },
        categories: ['ArcRemoteSupport'],
        trigger: 'owner',
        requestedBy: 'owner@contoso',
      },
      reader: new LocalFolderReader(root),
      outputFile: path.join(work, 'collected.zip'),
      deadline: new Date('2026-03-10T13:00:00Z'),
      now: () => new Date('2026-03-10T12:00:00Z'),
    });
    const bundle: BundleFile = { file: written.file, size: written.size, sha256: written.sha256, md5: written.md5 };
    const { options, stored } = await setup(bundle, { blockSize: 4096, concurrency: 2 });
    const before = proxy.requests.length;
    const result = await uploadBundle(options);
    expect(result).toMatchObject({
      blocks: Math.ceil(bundle.size / 4096),
      resumedBlocks: 0,
      bytesSent: bundle.size,
      commitFoundDone: false,
    });
    expect(proxy.requests.length - before).toBe(result.blocks + 1);
    const data = await storedBytes(stored);
    expect(sha256(data)).toBe(bundle.sha256);
    const properties = await stored.getProperties();
    expect(Buffer.from(properties.contentMD5!).toString('base64')).toBe(bundle.md5);
    expect(properties.metadata).toEqual({
      machine: 'node1',
      collectionid: options.metadata.collectionId,
      grantid: 'g-1',
      supportrequestid: '2603100010000001',
      sha256: bundle.sha256,
    });
    expect(properties.contentType).toBe('application/zip');
    await fs.writeFile(path.join(work, 'downloaded.zip'), data);
    const unzipped = await readBundle(path.join(work, 'downloaded.zip'));
    expect(unzipped.manifest.entries[0]!.redactions).toEqual({ sasSignature: 1 });
    expect(JSON.parse(await fs.readFile(options.journalFile, 'utf8'))).toMatchObject({ committed: true });

    // The write-only SAS cannot list blocks: resume can only come from the journal.
    const writeOnly = new ContainerClient(
      options.sas.containerUrl,
      newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 1 } }),
    ).getBlockBlobClient(options.blobName);
    await expect(writeOnly.getBlockList('all')).rejects.toMatchObject({ statusCode: 403 });
  });

  it('refuses an expired, read-only, non-https or foreign-host SAS before any request', async () => {
    const before = proxy.requests.length;
    const url = await azurite.containerSas('refused', { origin: proxy.origin });
    const cases = [
      await azurite.containerSas('refused', { origin: proxy.origin, expiresOn: new Date(Date.now() - 60_000) }),
      await azurite.containerSas('refused', { origin: proxy.origin, permissions: 'r' }),
      await azurite.containerSas('refused', { origin: proxy.origin, permissions: 'rcw' }),
      url.replace(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1/, 'https://contoso.blob.core.windows.net.example.org'),
    ];
    for (const raw of cases) expect(() => checkUploadSas(raw, { allowLoopbackEmulator: true })).toThrow(UploadSasError);
    // Plain http to loopback is the emulator's allowance only.
    expect(() => checkUploadSas(url)).toThrow(/https only/);
    const sig = new URL(url).searchParams.get('sig')!;
    for (const raw of [...cases, url]) {
      try {
        checkUploadSas(raw);
      } catch (error) {
        expect((error as Error).message).not.toContain(sig);
      }
    }
    // A SAS that expired after it was checked: refused by the upload before it sends anything.
    const bundle = await bundleOf(BLOCK * 2);
    const { options } = await setup(bundle);
    const sent = proxy.requests.length;
    const error = await uploadBundle({ ...options, now: () => new Date(options.sas.expiresOn.getTime() + 1) }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ name: 'UploadError', code: 'sas-expired' });
    expect(proxy.requests.length).toBe(sent);
    expect(sent).toBe(before);
  });

  it('stops at a 403 mid-upload without retrying, and keeps the journal', async () => {
    const bundle = await bundleOf(BLOCK * 6);
    const { options, stored } = await setup(bundle);
    const before = proxy.requests.length;
    proxy.forbidRequest(3);
    const error = (await uploadBundle(options).catch((caught: unknown) => caught)) as UploadError;
    expect(error).toMatchObject({ code: 'sas-denied', resumable: true });
    expect(error.message).not.toContain(new URL(options.sas.containerUrl).searchParams.get('sig')!);
    expect(proxy.requests.length - before).toBe(3);
    expect(JSON.parse(await fs.readFile(options.journalFile, 'utf8'))).toMatchObject({ acked: [0, 1], committed: false });
    expect(await stored.exists()).toBe(false);
  });

  it('resumes after a cut connection: only the unacknowledged blocks are sent again, one commit, identical bytes', async () => {
    const bundle = await bundleOf(BLOCK * 8 + 1000);
    const { options, stored } = await setup(bundle, { maxAttempts: 1 });
    const commitsBefore = commits();
    proxy.cutAfterBytes(Math.floor(bundle.size / 2));
    const first = (await uploadBundle(options).catch((caught: unknown) => caught)) as UploadError;
    expect(first).toMatchObject({ code: 'network', resumable: true });
    const journal = JSON.parse(await fs.readFile(options.journalFile, 'utf8')) as { acked: number[] };
    expect(journal.acked.length).toBeGreaterThanOrEqual(3);
    expect(journal.acked.length).toBeLessThanOrEqual(5);

    const stagesBefore = stages();
    const second = await uploadBundle(options);
    const remaining = 9 - journal.acked.length;
    expect(second).toMatchObject({ resumedBlocks: journal.acked.length, commitFoundDone: false });
    expect(stages() - stagesBefore).toBe(remaining);
    expect(second.bytesSent).toBe(bundle.size - journal.acked.length * BLOCK);
    expect(commits() - commitsBefore).toBe(1);
    expect(sha256(await storedBytes(stored))).toBe(bundle.sha256);
  });

  it('with four blocks in flight, a cut mid-way keeps every journalled block in storage and the resume sends only the rest', async () => {
    const bundle = await bundleOf(BLOCK * 12 + 500);
    const blocks = 13;
    const { options, stored } = await setup(bundle, { concurrency: 4, maxAttempts: 1 });
    const commitsBefore = commits();
    proxy.cutAfterBytes(Math.floor(bundle.size / 2));
    const first = (await uploadBundle(options).catch((caught: unknown) => caught)) as UploadError;
    expect(first).toMatchObject({ code: 'network', resumable: true });
    const acked = (JSON.parse(await fs.readFile(options.journalFile, 'utf8')) as { acked: number[] }).acked;
    expect(acked.length).toBeGreaterThanOrEqual(3);
    expect(acked.length).toBeLessThan(blocks);
    // The account key (not the upload's write-only SAS) can list what storage holds: every block
    // the journal counts is there.
    const staged = (await stored.getBlockList('uncommitted')).uncommittedBlocks!.map((block) => block.name);
    expect(staged).toEqual(expect.arrayContaining(acked.map((index) => blockId(options.blobName, index))));

    const stagesBefore = stages();
    const second = await uploadBundle(options);
    const lengthOf = (index: number) => Math.min(BLOCK, bundle.size - index * BLOCK);
    const missing = Array.from({ length: blocks }, (_, index) => index).filter((index) => !acked.includes(index));
    expect(second).toMatchObject({ blocks, resumedBlocks: acked.length, commitFoundDone: false });
    expect(stages() - stagesBefore).toBe(missing.length);
    expect(second.bytesSent).toBe(missing.reduce((sum, index) => sum + lengthOf(index), 0));
    expect(commits() - commitsBefore).toBe(1);
    expect((await storedBytes(stored)).equals(await fs.readFile(bundle.file))).toBe(true);
    expect(JSON.parse(await fs.readFile(options.journalFile, 'utf8'))).toMatchObject({ committed: true });
  });

  it('a journal that cannot be written stops the upload before its commit', async () => {
    const bundle = await bundleOf(BLOCK * 8);
    const folder = path.join(work, 'journal');
    await fs.mkdir(folder);
    const { options, stored } = await setup(bundle, { concurrency: 2, journalFile: path.join(folder, 'upload.journal.json') });
    const commitsBefore = commits();
    let staged = 0;
    const error = await uploadBundle({
      ...options,
      onRequest: (request) => {
        // Moved away in one step: deleting it could race a journal write creating its temporary
        // file there (ENOTEMPTY), leaving the folder in place.
        if (request.kind === 'stage' && ++staged === 3) renameSync(folder, `${folder}.gone`);
      },
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ENOENT' });
    expect(staged).toBeLessThan(8);
    expect(commits()).toBe(commitsBefore);
    expect(await stored.exists()).toBe(false);
  });

  it('absorbs a cut connection with its own retries, re-sending the one block', async () => {
    const bundle = await bundleOf(BLOCK * 6);
    const { options, stored } = await setup(bundle, { maxAttempts: 3 });
    proxy.cutAfterBytes(Math.floor(bundle.size / 2));
    const result = await uploadBundle(options);
    expect(result.bytesSent).toBe(bundle.size + BLOCK);
    expect(sha256(await storedBytes(stored))).toBe(bundle.sha256);
  });

  it('resumes after the agent was stopped between blocks, and a cancel before the commit commits nothing', async () => {
    const bundle = await bundleOf(BLOCK * 6);
    const controller = new AbortController();
    const { options, stored } = await setup(bundle);
    let sent = 0;
    // Stopped while the fourth block is on its way: three are acknowledged.
    const stopped = await uploadBundle({
      ...options,
      abortSignal: controller.signal,
      onRequest: (request) => {
        if (request.kind === 'stage' && ++sent === 4) controller.abort();
      },
    }).catch((caught: unknown) => caught);
    expect(stopped).toMatchObject({ code: 'cancelled' });
    expect(await stored.exists()).toBe(false);
    const acked = (JSON.parse(await fs.readFile(options.journalFile, 'utf8')) as { acked: number[] }).acked;
    expect(acked).toEqual([0, 1, 2]);

    const commitsBefore = commits();
    const resumed = await uploadBundle(options);
    expect(resumed).toMatchObject({ resumedBlocks: 3, bytesSent: 3 * BLOCK });
    expect(commits() - commitsBefore).toBe(1);
    expect(sha256(await storedBytes(stored))).toBe(bundle.sha256);
    // Run again once done: nothing is sent.
    const requests = proxy.requests.length;
    expect(await uploadBundle(options)).toMatchObject({ bytesSent: 0, commitFoundDone: true });
    expect(proxy.requests.length).toBe(requests);
  });

  it('counts a retried commit whose first answer was lost as done', async () => {
    const bundle = await bundleOf(BLOCK * 3);
    const { options, stored } = await setup(bundle);
    proxy.loseAnswerTo(/comp=blocklist/);
    const commitsBefore = commits();
    const result = await uploadBundle(options);
    expect(result.commitFoundDone).toBe(true);
    expect(commits() - commitsBefore).toBe(2);
    expect(sha256(await storedBytes(stored))).toBe(bundle.sha256);
    expect((await stored.getProperties()).metadata).toMatchObject({ collectionid: options.metadata.collectionId });
  });

  it('refuses to commit over a blob it did not create', async () => {
    const bundle = await bundleOf(BLOCK);
    const { options, stored } = await setup(bundle);
    await stored.upload('someone else', 12);
    const error = await uploadBundle(options).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'conflict', resumable: false });
    expect((await stored.downloadToBuffer()).toString()).toBe('someone else');
  });

  it('names blobs by machine, time and collection, with block ids of one length', () => {
    expect(blobNameFor('c-42', 'Node 1', new Date('2026-03-10T12:00:00.123Z'))).toBe('node-1/20260310T120000Z-c-42.zip');
    const lengths = new Set([0, 9, 99999].map((index) => Buffer.from(blockId('x', index), 'base64').length));
    expect([...lengths]).toEqual([23]);
  });
});
