/**
 * Uploads a bundle as a block blob through a write-only container SAS, resumably: blocks have
 * fixed ids and sizes, each is sent with its MD5, and each acknowledged block is recorded in a
 * local journal (written atomically) because a create/write SAS cannot list the blocks already
 * staged. A cut connection or a killed agent resumes from the journal and re-sends only what was
 * not acknowledged; one commit (If-None-Match: *) with the metadata ends it. A retried commit
 * answered 409 finds the blob it created itself: our blob names are unique per collection and
 * the journal records that a commit was sent, so that counts as done.
 */
import { AnonymousCredential, ContainerClient, newPipeline, type BlockBlobClient } from '@azure/storage-blob';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import type { UploadSas } from './upload-sas';
import { UploadJournal } from './upload-journal';

export const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
const MAX_BLOCKS = 50_000;

export interface BundleFile {
  file: string;
  size: number;
  sha256: string;
  /** Base64 MD5 of the whole file, stored as the blob's Content-MD5. */
  md5: string;
}

export interface UploadMetadata {
  machine: string;
  collectionId: string;
  grantId?: string;
  supportRequestId?: string;
}

export interface UploadOptions {
  sas: UploadSas;
  blobName: string;
  bundle: BundleFile;
  metadata: UploadMetadata;
  /** Where the acknowledged blocks are recorded; kept until the commit is done. */
  journalFile: string;
  blockSize?: number;
  concurrency?: number;
  /** A revoke or expiry aborts: no block is sent after it and no commit. */
  abortSignal?: AbortSignal;
  /** Awaited before each block and before the commit; what it throws stops the upload there, uncommitted. */
  checkpoint?: () => Promise<void>;
  /** Tries per request for network errors, timeouts and 5xx (403 and other refusals: one). */
  maxAttempts?: number;
  retryDelayMs?: number;
  requestTimeoutMs?: number;
  now?: () => Date;
  /** Each request as it is sent: progress, and the benches' count of bytes sent. */
  onRequest?: (request: { kind: 'stage'; index: number; bytes: number } | { kind: 'commit' }) => void;
}

export interface UploadResult {
  blobName: string;
  blocks: number;
  /** Blocks the journal already had acknowledged when this run started. */
  resumedBlocks: number;
  /** Bytes of block content sent by this run, retries included. */
  bytesSent: number;
  /** The commit was found done: by an earlier run, or by a try whose answer was lost. */
  commitFoundDone: boolean;
}

export type UploadErrorCode =
  'sas-expired' | 'sas-denied' | 'network' | 'integrity' | 'conflict' | 'rejected' | 'cancelled' | 'bundle-changed';

export class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    readonly code: UploadErrorCode,
    message: string,
    /** Whether running the upload again (same journal) can finish it. */
    readonly resumable: boolean,
  ) {
    super(message);
  }
}

/** `<machine>/<time>-<collection id>.zip`: unique per collection, sorted by time per machine. */
export function blobNameFor(collectionId: string, machine: string, createdUtc: Date): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63) || 'unknown';
  const time = createdUtc
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${safe(machine).toLowerCase()}/${time}-${safe(collectionId)}.zip`;
}

/** Same length for every block of a blob (the service requires it), at most 64 bytes before base64. */
export function blockId(blobName: string, index: number): string {
  const prefix = createHash('sha256').update(blobName).digest('hex').slice(0, 16);
  return Buffer.from(`${prefix}-${String(index).padStart(6, '0')}`).toString('base64');
}

interface RestLike {
  name?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

const isAbort = (error: unknown) => (error as RestLike)?.name === 'AbortError';
const retryable = (error: RestLike) =>
  error.statusCode === undefined || error.statusCode >= 500 || error.statusCode === 408 || error.statusCode === 429;

/** A description without the request URL (the SDK puts it, with the SAS, into some messages). */
function describe(error: RestLike): string {
  const parts = [error.statusCode !== undefined ? `HTTP ${error.statusCode}` : 'no response', error.code].filter(Boolean);
  return parts.join(' ');
}

interface PreparedBlock {
  index: number;
  body: Buffer;
  md5: Buffer;
}

/** Hashed in slices with a turn of the event loop between them: the other blocks keep moving. */
const HASH_SLICE = 1024 * 1024;

async function md5Of(body: Buffer): Promise<Buffer> {
  const hash = createHash('md5');
  for (let at = 0; at < body.length; at += HASH_SLICE) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    hash.update(body.subarray(at, at + HASH_SLICE));
  }
  return hash.digest();
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export async function uploadBundle(options: UploadOptions): Promise<UploadResult> {
  const now = options.now ?? (() => new Date());
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const { bundle, sas, blobName, abortSignal } = options;
  const blocks = Math.max(1, Math.ceil(bundle.size / blockSize));
  if (blocks > MAX_BLOCKS)
    throw new UploadError(
      'rejected',
      `${bundle.size} bytes in ${blockSize}-byte blocks is over ${MAX_BLOCKS} blocks: use larger blocks.`,
      false,
    );

  const stat = await fs.stat(bundle.file);
  if (stat.size !== bundle.size) {
    throw new UploadError(
      'bundle-changed',
      `the bundle ${bundle.file} is ${stat.size} bytes, not the ${bundle.size} it was written with: collect again.`,
      false,
    );
  }

  const journal = await UploadJournal.open(options.journalFile, { blobName, size: bundle.size, sha256: bundle.sha256, blockSize });
  const resumedBlocks = journal.ackedCount;
  if (journal.committed) return { blobName, blocks, resumedBlocks, bytesSent: 0, commitFoundDone: true };

  const container = new ContainerClient(
    sas.containerUrl,
    // Our loop retries, so that a refusal is never retried and every try is counted.
    newPipeline(new AnonymousCredential(), { retryOptions: { maxTries: 1, tryTimeoutInMs: options.requestTimeoutMs ?? 120_000 } }),
  );
  const client: BlockBlobClient = container.getBlockBlobClient(blobName);

  const checkUsable = () => {
    if (abortSignal?.aborted)
      throw new UploadError('cancelled', `the upload of ${blobName} was cancelled before its commit; nothing was committed.`, true);
    if (now().getTime() >= sas.expiresOn.getTime()) {
      throw new UploadError(
        'sas-expired',
        `the upload SAS expired at ${sas.expiresOn.toISOString()}: issue a new one; the upload resumes from its journal.`,
        true,
      );
    }
  };

  /** One request with our retries; refusals are classified and not retried. */
  const attempt = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    let md5Retried = false;
    for (let tries = 1; ; tries++) {
      checkUsable();
      try {
        return await send();
      } catch (caught) {
        if (caught instanceof UploadError) throw caught;
        const error = caught as RestLike;
        if (isAbort(error)) checkUsable();
        if (isAbort(error)) throw new UploadError('cancelled', `the upload of ${blobName} was cancelled.`, true);
        if (error.statusCode === 403) {
          const expired = now().getTime() >= sas.expiresOn.getTime();
          throw new UploadError(
            expired ? 'sas-expired' : 'sas-denied',
            `storage refused ${what} (${describe(error)})${expired ? ': the SAS expired' : ''}: issue a new container SAS with sp=cw; the upload resumes from its journal.`,
            true,
          );
        }
        if (error.statusCode === 400 && error.code === 'Md5Mismatch' && !md5Retried) {
          md5Retried = true;
          continue;
        }
        if (error.statusCode === 400 && error.code === 'Md5Mismatch') {
          throw new UploadError(
            'integrity',
            `storage received ${what} with a different MD5 twice (${describe(error)}): the connection corrupts data.`,
            true,
          );
        }
        if (!retryable(error)) throw new UploadError('rejected', `storage refused ${what} (${describe(error)}).`, false);
        if (tries >= maxAttempts) {
          throw new UploadError(
            'network',
            `${what} failed ${tries} times (last: ${describe(error)}): the upload resumes from its journal when run again.`,
            true,
          );
        }
        await sleep(Math.min(retryDelayMs * 2 ** (tries - 1), 60_000) * (0.5 + Math.random() / 2), abortSignal);
      }
    }
  };

  const handle = await fs.open(bundle.file, 'r');
  let bytesSent = 0;
  try {
    const pending = Array.from({ length: blocks }, (_, index) => index).filter((index) => !journal.isAcked(index));
    let stopped = false;
    const carryOn = () => !stopped && !journal.failure;

    // Blocks are read and hashed one at a time across the workers (the hashing shares the one
    // thread), in order, each while the worker's previous block is still on the wire.
    let preparing: Promise<unknown> = Promise.resolve();
    const prepareNext = (buffer: Buffer): Promise<PreparedBlock | undefined> => {
      const prepared = preparing.then(async () => {
        const index = carryOn() ? pending.shift() : undefined;
        if (index === undefined) return undefined;
        const offset = index * blockSize;
        const length = Math.min(blockSize, bundle.size - offset);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        if (bytesRead !== length)
          throw new UploadError('bundle-changed', `the bundle ${bundle.file} shrank while uploading: collect again.`, false);
        const body = buffer.subarray(0, length);
        return { index, body, md5: await md5Of(body) };
      });
      preparing = prepared.catch(() => undefined);
      return prepared;
    };

    const worker = async () => {
      // Two buffers: one block on the wire, the next being read into the other.
      const size = Math.min(blockSize, bundle.size || 1);
      const buffers = [Buffer.alloc(size), Buffer.alloc(size)];
      let next = prepareNext(buffers[0]!);
      try {
        // One worker failing stops the others taking new blocks.
        for (let turn = 1; ; turn++) {
          const block = await next;
          if (!block || !carryOn()) return;
          // The caller's check between blocks (a grant that ended stops the upload here).
          await options.checkpoint?.();
          next = prepareNext(buffers[turn % 2]!);
          const { index, body, md5 } = block;
          await attempt(`block ${index + 1} of ${blocks}`, () => {
            options.onRequest?.({ kind: 'stage', index, bytes: body.length });
            bytesSent += body.length;
            return client.stageBlock(blockId(blobName, index), body, body.length, { transactionalContentMD5: md5, abortSignal });
          });
          // It counts once a journal write holding it is on disk (durable() below, before the
          // commit); the next block does not wait for the disk.
          void journal.recordAcked(index);
        }
      } catch (error) {
        stopped = true;
        throw error;
      } finally {
        // Not sent: the next run sends it. Its read ends before the file closes.
        await next.catch(() => undefined);
      }
    };
    const workers = Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, blocks)) }, () => worker());
    // Every worker settles before the file closes and the first failure is reported.
    const settled = await Promise.allSettled(workers);
    const failure = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    await journal.durable();
  } catch (error) {
    // Whatever was acknowledged stays in the journal for the next run.
    await journal.settled();
    throw error;
  } finally {
    await handle.close();
  }

  checkUsable();
  await options.checkpoint?.();
  const ids = Array.from({ length: blocks }, (_, index) => blockId(blobName, index));
  const sentByEarlierRun = journal.commitSent;
  let tries = 0;
  let commitFoundDone = false;
  await attempt('the commit', async () => {
    const retried = tries++ > 0 || sentByEarlierRun;
    if (!journal.commitSent) await journal.markCommitSent();
    options.onRequest?.({ kind: 'commit' });
    try {
      await client.commitBlockList(ids, {
        metadata: {
          machine: options.metadata.machine,
          collectionid: options.metadata.collectionId,
          ...(options.metadata.grantId ? { grantid: options.metadata.grantId } : {}),
          ...(options.metadata.supportRequestId ? { supportrequestid: options.metadata.supportRequestId } : {}),
          sha256: bundle.sha256,
        },
        blobHTTPHeaders: { blobContentMD5: Buffer.from(bundle.md5, 'base64'), blobContentType: 'application/zip' },
        conditions: { ifNoneMatch: '*' },
        abortSignal,
      });
    } catch (error) {
      if ((error as RestLike).statusCode !== 409) throw error;
      // The blob exists. A commit of it was sent before this try, and the name is this
      // collection's own: that commit went through and its answer was lost.
      if (retried) {
        commitFoundDone = true;
        return;
      }
      throw new UploadError(
        'conflict',
        `a blob named ${blobName} already exists and this upload did not create it: collect again (a new collection has a new name).`,
        false,
      );
    }
  });
  await journal.markCommitted();
  return { blobName, blocks, resumedBlocks, bytesSent, commitFoundDone };
}
