/**
 * Writes a collection's bundle: a zip (yazl, streamed entry by entry with backpressure, so memory
 * does not grow with the logs; ZIP64 where sizes need it) ending with manifest.json, which lists
 * every entry (SHA-256 of the stored bytes, sizes, truncation, redactions) and every skipped source
 * with its reason. On any failure the partial bundle is deleted; nothing half-written is left to
 * upload.
 */
import { createHash } from 'crypto';
import { createWriteStream, promises as fs } from 'fs';
import path from 'path';
import { Transform, type Readable, type TransformCallback, type Writable } from 'stream';
import { finished } from 'stream/promises';
import { ZipFile } from 'yazl';
import {
  DEFAULT_BUDGET_BYTES,
  CollectionRequestError,
  checkCategories,
  checkWindow,
  planCollection,
  sourceDenial,
  type PlannedEntry,
  type SourceListing,
} from './collect-plan';
import type { DenyOptions } from './deny';
import { RedactingStream, type RedactionCounts } from './redact';
import { errorReason, type SourceReader, type Skipped, type TimeWindow } from './reader';
import { SOURCES, sourcesFor, type Category, type KnownRoot, type Source } from './sources';

/** Unreadable entries tolerated before the collection fails (WALinuxAgent gives up after 8). */
export const DEFAULT_MAX_ERRORS = 8;
/** Compressed bundle size at most by default (the fault table: 512 MiB). */
export const DEFAULT_MAX_BUNDLE_BYTES = 512 * 1024 * 1024;
/** Fast deflate: logs still shrink several times, and the node's CPU is the owner's. */
const COMPRESSION_LEVEL = 1;

export interface BundleRequest {
  collectionId: string;
  machine: string;
  window: TimeWindow;
  categories: readonly string[];
  trigger: 'support' | 'owner';
  /** Who asked: the engineer's account or the owner's identity as the trigger carries it. */
  requestedBy: string;
  grantId?: string;
  supportRequestId?: string;
  securityLogOptIn?: boolean;
}

export interface BundleOptions {
  request: BundleRequest;
  reader: SourceReader;
  outputFile: string;
  /** Stop adding entries after this time; the manifest says so. */
  deadline: Date;
  budgetBytes?: number;
  maxBundleBytes?: number;
  maxErrors?: number;
  sources?: readonly Source[];
  roots?: Record<KnownRoot, string>;
  now?: () => Date;
  /** The file the zip is written to (the tests give one that fills up). */
  openOutput?: (file: string) => Writable;
}

export interface ManifestEntry {
  sourceId: string;
  category: Category;
  origin: string;
  path: string;
  originalSize: number;
  /** Where the stored bytes start in the original (more than 0 when the tail was kept). */
  keptFrom: number;
  storedSize: number;
  sha256: string;
  truncated: boolean;
  redactions: RedactionCounts;
  query?: string;
  /** Reading stopped part-way: what went wrong. */
  readError?: string;
}

export interface Manifest {
  schema: 1;
  collectionId: string;
  machine: string;
  createdUtc: string;
  window: TimeWindow;
  categories: Category[];
  trigger: 'support' | 'owner';
  requestedBy: string;
  grantId: string | null;
  supportRequestId: string | null;
  securityLogOptIn: boolean;
  budgetBytes: number;
  deadlineUtc: string;
  deadlineReached: boolean;
  entries: ManifestEntry[];
  skipped: Skipped[];
}

export interface BundleResult {
  file: string;
  size: number;
  sha256: string;
  /** Base64, as storage expects it in Content-MD5. */
  md5: string;
  manifest: Manifest;
}

export type BundleErrorCode = 'disk-full' | 'over-cap' | 'too-many-errors' | 'write-failed';

export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly code: BundleErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Counts and hashes the bytes flowing through. */
class Measure extends Transform {
  readonly sha256 = createHash('sha256');
  readonly md5 = createHash('md5');
  bytes = 0;
  constructor(
    private readonly withMd5: boolean,
    private readonly limit = Infinity,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(new BundleError('over-cap', `the bundle passed ${this.limit} bytes compressed`));
      return;
    }
    this.sha256.update(chunk);
    if (this.withMd5) this.md5.update(chunk);
    callback(null, chunk);
  }
}

async function freeBytes(folder: string): Promise<number | null> {
  try {
    const stats = await fs.statfs(folder);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

/** Lists every source of the request; a source that cannot be listed becomes a skip. */
async function listSources(
  sources: readonly Source[],
  reader: SourceReader,
  window: TimeWindow,
  deny: DenyOptions,
  pastDeadline: () => boolean,
): Promise<SourceListing[]> {
  const listings: SourceListing[] = [];
  for (const source of sources) {
    const origin =
      source.spec.kind === 'files' ? source.spec.folder : source.spec.kind === 'eventLog' ? source.spec.channel : source.spec.producer;
    const skip = (reason: Skipped['reason'], detail: string) =>
      listings.push({ source, listing: { sourceId: source.id, origin, reason, detail } });
    const denied = sourceDenial(source, deny);
    if (denied) {
      skip('denied', denied);
    } else if (pastDeadline()) {
      skip('deadline', 'the deadline passed before this source was listed');
    } else {
      try {
        listings.push({ source, listing: await reader.list(source, window) });
      } catch (error) {
        const reason = errorReason(error);
        const optional = source.spec.kind !== 'files' && source.spec.whenPresent && reason === 'missing';
        skip(reason, optional ? 'not present on this node (a role it does not run)' : (error as Error).message);
      }
    }
  }
  return listings;
}

export async function writeBundle(options: BundleOptions): Promise<BundleResult> {
  try {
    return await bundleSources(options);
  } finally {
    // The exported channels are in the zip or not taken: their copies go. One left behind (the host
    // failed to remove it) goes with the staging retention after 7 days.
    await options.reader.release?.().catch(() => undefined);
  }
}

async function bundleSources(options: BundleOptions): Promise<BundleResult> {
  const now = options.now ?? (() => new Date());
  const { request, reader } = options;
  const window = checkWindow(request.window, now());
  const categories = checkCategories(request.categories);
  const budgetBytes = options.budgetBytes ?? DEFAULT_BUDGET_BYTES;
  if (!(budgetBytes > 0)) throw new CollectionRequestError('budgetBytes', `budgetBytes ${budgetBytes} must be a positive number of bytes.`);
  const maxErrors = options.maxErrors ?? DEFAULT_MAX_ERRORS;
  const deny: DenyOptions = { securityLogOptIn: request.securityLogOptIn === true, roots: options.roots };
  const pastDeadline = () => now().getTime() >= options.deadline.getTime();
  let deadlineReached = false;

  const sources = sourcesFor(categories, options.sources ?? SOURCES);
  const listings = await listSources(sources, reader, window, deny, () => (deadlineReached ||= pastDeadline()));
  const plan = planCollection(listings, { ...deny, window, budgetBytes });
  const skipped = [...plan.skipped];
  const entries: ManifestEntry[] = [];

  const zip = new ZipFile();
  const output = (options.openOutput ?? ((file) => createWriteStream(file, { flags: 'wx' })))(options.outputFile);
  const measure = new Measure(true, options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES);
  let failure: Error | null = null;
  const failed = new Promise<never>((_, reject) => {
    const fail = (error: Error) => {
      failure ??= error;
      reject(failure);
    };
    zip.on('error', fail);
    zip.outputStream.on('error', fail);
    measure.on('error', fail);
    output.on('error', fail);
  });
  failed.catch(() => undefined);
  const written = new Promise<void>((resolve) => output.on('finish', resolve));
  zip.outputStream.pipe(measure).pipe(output);

  try {
    let errors = 0;
    for (const [index, entry] of plan.entries.entries()) {
      if ((deadlineReached ||= pastDeadline())) {
        for (const rest of plan.entries.slice(index)) {
          skipped.push({
            sourceId: rest.sourceId,
            origin: rest.origin,
            reason: 'deadline',
            detail: 'the deadline passed before this entry was added',
          });
        }
        break;
      }
      let source: Readable;
      try {
        source = await reader.open(entry, { start: entry.start, end: entry.end });
      } catch (error) {
        const reason = errorReason(error);
        skipped.push({ sourceId: entry.sourceId, origin: entry.origin, reason, detail: (error as Error).message });
        if (++errors > maxErrors) {
          throw new BundleError(
            'too-many-errors',
            `${errors} entries could not be read (at most ${maxErrors}): the last, ${entry.origin}, was ${reason}. Retry when the node is less busy.`,
          );
        }
        continue;
      }
      const added = await Promise.race([addEntry(zip, entry, source), failed]);
      entries.push(added);
      if (added.readError && ++errors > maxErrors) {
        throw new BundleError(
          'too-many-errors',
          `${errors} entries could not be read (at most ${maxErrors}): the last, ${entry.origin}, failed part-way.`,
        );
      }
    }
    const manifest: Manifest = {
      schema: 1,
      collectionId: request.collectionId,
      machine: request.machine,
      createdUtc: now().toISOString(),
      window,
      categories,
      trigger: request.trigger,
      requestedBy: request.requestedBy,
      grantId: request.grantId ?? null,
      supportRequestId: request.supportRequestId ?? null,
      securityLogOptIn: deny.securityLogOptIn === true,
      budgetBytes,
      deadlineUtc: options.deadline.toISOString(),
      deadlineReached,
      entries,
      skipped,
    };
    zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), 'manifest.json', { compressionLevel: COMPRESSION_LEVEL });
    zip.end();
    await Promise.race([written, failed]);
    return {
      file: options.outputFile,
      size: measure.bytes,
      sha256: measure.sha256.digest('hex'),
      md5: measure.md5.digest('base64'),
      manifest,
    };
  } catch (error) {
    zip.outputStream.unpipe();
    measure.destroy();
    output.destroy();
    await finished(output).catch(() => undefined);
    // A file that was there before (EEXIST) is not ours to delete.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await fs.rm(options.outputFile, { force: true }).catch(() => undefined);
    throw await describeFailure(error as Error, options.outputFile, plan.plannedBytes);
  }
}

async function describeFailure(error: Error, file: string, plannedBytes: number): Promise<Error> {
  if (error instanceof BundleError || error instanceof CollectionRequestError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') {
    const free = await freeBytes(path.dirname(file));
    return new BundleError(
      'disk-full',
      `the disk holding ${path.dirname(file)} filled up while zipping: ${free ?? 'unknown'} bytes free, up to ${plannedBytes} bytes needed; the partial bundle was deleted. Free space there, or collect fewer categories or a shorter window.`,
    );
  }
  return new BundleError('write-failed', `writing the bundle ${file} failed (${code ?? error.message}); the partial bundle was deleted.`);
}

/** Streams one entry into the zip (redacting text) and resolves with its manifest line when yazl has taken it all. */
function addEntry(zip: ZipFile, entry: PlannedEntry, source: Readable): Promise<ManifestEntry> {
  const redactor = entry.text ? new RedactingStream({ startsMidFile: entry.start > 0 }) : null;
  const measure = new Measure(false);
  let readError: string | undefined;
  source.on('error', (error) => {
    readError = `${errorReason(error)} after reading part of it: ${error.message}`;
    // End the entry with what was read: the zip stays whole and the manifest says so.
    (redactor ?? measure).end();
  });
  (redactor ? source.pipe(redactor) : source).pipe(measure);
  const mtime = entry.modifiedUtc ? new Date(entry.modifiedUtc) : new Date();
  zip.addReadStreamLazy(entry.zipPath, { mtime, compressionLevel: COMPRESSION_LEVEL }, (callback) => callback(null, measure));
  return new Promise((resolve) => {
    measure.on('end', () =>
      resolve({
        sourceId: entry.sourceId,
        category: entry.category,
        origin: entry.origin,
        path: entry.zipPath,
        originalSize: entry.size,
        keptFrom: entry.start,
        storedSize: measure.bytes,
        sha256: measure.sha256.digest('hex'),
        truncated: entry.truncated,
        redactions: { ...(redactor?.counts ?? {}) },
        ...(entry.query ? { query: entry.query } : {}),
        ...(readError ? { readError } : {}),
      }),
    );
  });
}
