/**
 * `agent collect-logs`, run by the CollectLogs task as SYSTEM: serves the waiting log collection
 * request (LOG_COLLECTION_REQUEST_FILE). It reads the request and its upload SAS (machine-protected),
 * bundles the sources (diag/bundle.ts) into the node's staging folder, uploads the bundle with a
 * journal there (diag/upload.ts), then leaves a record and a Windows event, and deletes the request,
 * the SAS and the staging. An upload cut off (network, a killed agent) exits 1 and keeps the
 * request, the bundle and the journal: the task's next try resumes it. Exit 0 when nothing waits.
 * An engineer's request (agent request-log-collection) uploads with its grant's SAS
 * (LOG_UPLOAD_SAS_FILE, kept for the grant) and rests on that grant: before it starts, between
 * upload blocks and right before the commit, a grant no longer in force (revoked, expired on the
 * node's clock, replaced, or its log uploads withdrawn) cancels it: no commit, staging deleted,
 * record 'cancelled' with the reason (event 1203). Blobs uploaded before are never touched.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { writeFileAtomically } from '../../extension/atomic-file';
import { BundleError, writeBundle, type BundleResult } from '../../diag/bundle';
import { CollectionRequestError } from '../../diag/collect-plan';
import { blobNameFor, uploadBundle, UploadError } from '../../diag/upload';
import { checkUploadSas, UploadSasError, type UploadSas } from '../../diag/upload-sas';
import type { LogCollectionAdapters } from '../../handlers/compose';
import {
  consentOf,
  logCollectionEvent,
  logCollectionRecordPath,
  parseLogCollectionRequest,
  serializeLogCollectionRecord,
  type LogCollectionRecord,
  type LogCollectionRequest,
} from '../../core/log-collection-record';
import {
  DESIRED_STATE_FILE,
  EVENT_SOURCE,
  LOG_COLLECTION_REQUEST_FILE,
  LOG_COLLECTION_SAS_FILE,
  LAST_LOG_COLLECTION_FILE,
  LOG_COLLECTIONS_FOLDER,
  LOG_UPLOAD_SAS_FILE,
} from '../../core/node-layout';
import { endedCollectionGrant } from '../../core/engineer-log-collection';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import type { AgentResult } from '../commands';

/** A collection stops adding entries after this long; the manifest says so. */
const BUNDLE_DEADLINE_MS = 30 * 60_000;
/** Staging left behind (a collection that never finished) is deleted after this long. */
export const STAGING_RETENTION_MS = 7 * 86_400_000;

export interface CollectLogsInputs {
  host: WindowsHost;
  adapters: LogCollectionAdapters;
  /** The node's clock (the simulated machine keeps its own). */
  clock: () => Promise<Date>;
}

export async function collectLogsCommand(argv: string[], inputs: CollectLogsInputs): Promise<AgentResult> {
  if (argv.length > 0) return { exitCode: 2, output: `collect-logs takes no arguments; received ${JSON.stringify(argv.join(' '))}.` };
  const { host, adapters } = inputs;
  const startedAt = await inputs.clock();
  // The node's time as it runs: its clock when the command started, plus what has passed since.
  const began = Date.now();
  const now = () => new Date(startedAt.getTime() + (Date.now() - began));
  const removedStaging = await removeOldStaging(adapters.stagingFolder, now());

  const [requestRead, sasRead, probe, grantSasRead, desiredRead] = await host.execute(
    [
      op('readFile', { path: LOG_COLLECTION_REQUEST_FILE }),
      op('readSecretFile', { path: LOG_COLLECTION_SAS_FILE }),
      op('probe', {}),
      op('readSecretFile', { path: LOG_UPLOAD_SAS_FILE }),
      op('readFile', { path: DESIRED_STATE_FILE }),
    ],
    { phase: 'collect-logs: read the request', stopOnError: false },
  );
  if (!requestRead?.ok)
    return {
      exitCode: 1,
      output: `collect-logs: could not read ${LOG_COLLECTION_REQUEST_FILE}: ${requestRead?.error.message ?? 'no answer'}`,
    };
  const content = (requestRead.value as { content: string | null }).content;
  const request = parseLogCollectionRequest(content);
  if (!request)
    return {
      exitCode: content === null ? 0 : 1,
      output:
        content === null
          ? `collect-logs: no log collection is waiting${removedStaging ? `; removed ${removedStaging} old staging file(s)` : ''}.`
          : `collect-logs: ${LOG_COLLECTION_REQUEST_FILE} is not a log collection request; delete it as an administrator.`,
    };
  const machine = probe?.ok ? (probe.value as { computerName: string }).computerName : 'unknown';
  const finish = (
    outcome: LogCollectionRecord['outcome'],
    detail: string,
    upload?: { sas: UploadSas; blobName: string; bundle: BundleResult },
  ) =>
    recordCollection(host, adapters, {
      ...request,
      consent: consentOf(request),
      startedAt: startedAt.toISOString(),
      endedAt: now().toISOString(),
      outcome,
      detail,
      container: upload ? `${upload.sas.account}/${upload.sas.container}` : null,
      blobName: upload?.blobName ?? null,
      bundleBytes: upload?.bundle.size ?? null,
      fileCount: upload?.bundle.manifest.entries.length ?? null,
      skippedCount: upload?.bundle.manifest.skipped.length ?? null,
      bundleSha256: upload?.bundle.sha256 ?? null,
    });

  // An engineer's collection rests on its grant: checked before it starts, between upload blocks and
  // before the commit, against the node's record and clock; the grant's SAS is the one it uploads with.
  const engineer = request.trigger === 'engineer';
  let checkGrant = async (): Promise<void> => undefined;
  if (engineer) {
    const grantId = request.grantId ?? '';
    const ended = desiredRead?.ok
      ? endedCollectionGrant(grantId, fileContent(desiredRead.value), await inputs.clock())
      : { reason: 'revoked' as const, detail: `the node's grant could not be read (${desiredRead?.error.message ?? 'no answer'})` };
    if (ended) return finish('cancelled', cancelledDetail(ended.detail, false));
    checkGrant = () => stillInForce(host, grantId, inputs.clock);
  }
  const sasFile = engineer ? LOG_UPLOAD_SAS_FILE : LOG_COLLECTION_SAS_FILE;
  const read = engineer ? grantSasRead : sasRead;
  const secret = read?.ok ? (read.value as { secret: string | null }).secret : null;
  let sas: UploadSas;
  try {
    if (secret === null) throw new UploadSasError('sasUrl', `the upload SAS ${sasFile} is missing or cannot be read on this node`);
    sas = checkUploadSas(secret, { now: now(), allowLoopbackEmulator: adapters.allowStorageEmulator });
  } catch (error) {
    if (!(error instanceof UploadSasError)) throw error;
    const fix = engineer ? 'the owner must grant again with --log-container-sas-file' : 'ask again with a new SAS';
    return finish('failed', `${error.message} Nothing was collected; ${fix}.`);
  }

  const staging = stagingFiles(adapters.stagingFolder, request.collectionId);
  let bundle: BundleResult;
  try {
    bundle = await stagedBundle(staging, request, machine, adapters, now);
  } catch (error) {
    if (!(error instanceof BundleError || error instanceof CollectionRequestError)) throw error;
    return finish('failed', `the bundle could not be made: ${error.message}`);
  }
  const blobName = blobNameFor(request.collectionId, machine, new Date(bundle.manifest.createdUtc));
  try {
    await checkGrant();
    await uploadBundle({
      sas,
      blobName,
      bundle,
      journalFile: staging.journal,
      metadata: {
        machine,
        collectionId: request.collectionId,
        ...(request.grantId ? { grantId: request.grantId } : {}),
        ...(request.supportRequestId ? { supportRequestId: request.supportRequestId } : {}),
      },
      now,
      checkpoint: checkGrant,
    });
  } catch (error) {
    if (error instanceof GrantEnded) return finish('cancelled', cancelledDetail(error.message, true));
    if (!(error instanceof UploadError)) throw error;
    // Kept for the task's next try, which resumes from the journal.
    if (error.resumable)
      return {
        exitCode: 1,
        output: `collect-logs: ${request.collectionId}: upload interrupted (${error.message}); the next run resumes it.`,
      };
    return finish('failed', `the upload to ${sas.redacted} failed: ${error.message}`);
  }
  return finish(
    'uploaded',
    `${bundle.manifest.entries.length} file(s) and ${bundle.manifest.skipped.length} skipped source(s) listed in its manifest.json`,
    { sas, blobName, bundle },
  );
}

interface StagingFiles {
  folder: string;
  zip: string;
  /** The finished bundle's description: a bundle without it is half written and made again. */
  done: string;
  journal: string;
}

function stagingFiles(folder: string, collectionId: string): StagingFiles {
  const base = path.join(folder, collectionId);
  return { folder, zip: `${base}.zip`, done: `${base}.bundle.json`, journal: `${base}.journal.json` };
}

/** The bundle a earlier try finished, or a new one. */
async function stagedBundle(
  staging: StagingFiles,
  request: LogCollectionRequest,
  machine: string,
  adapters: LogCollectionAdapters,
  now: () => Date,
): Promise<BundleResult> {
  try {
    return JSON.parse(await fs.readFile(staging.done, 'utf8')) as BundleResult;
  } catch {
    // None finished: start over.
  }
  await fs.mkdir(staging.folder, { recursive: true });
  await fs.rm(staging.zip, { force: true });
  await fs.rm(staging.journal, { force: true });
  const bundle = await writeBundle({
    request: {
      collectionId: request.collectionId,
      machine,
      window: request.window,
      categories: request.categories,
      trigger: request.trigger === 'engineer' ? 'support' : 'owner',
      requestedBy: request.requestedBy,
      ...(request.grantId ? { grantId: request.grantId } : {}),
      ...(request.supportRequestId ? { supportRequestId: request.supportRequestId } : {}),
      securityLogOptIn: request.includeSecurityLog,
    },
    reader: adapters.reader,
    outputFile: staging.zip,
    deadline: new Date(now().getTime() + BUNDLE_DEADLINE_MS),
    now,
  });
  await writeFileAtomically(staging.done, JSON.stringify(bundle));
  return bundle;
}

/** The grant an engineer's collection rests on is no longer in force: the collection stops, uncommitted. */
class GrantEnded extends Error {
  override readonly name = 'GrantEnded';
}

/** Reads the node's record and clock again; throws GrantEnded when the grant no longer allows the collection. */
async function stillInForce(host: WindowsHost, grantId: string, clock: () => Promise<Date>): Promise<void> {
  const [read] = await host.execute([op('readFile', { path: DESIRED_STATE_FILE })], {
    phase: 'collect-logs: check the grant',
    stopOnError: false,
  });
  // A record that cannot be read stops the collection (fail closed).
  const ended = read?.ok
    ? endedCollectionGrant(grantId, fileContent(read.value), await clock())
    : { detail: `the node's grant could not be read (${read?.error.message ?? 'no answer'})` };
  if (ended) throw new GrantEnded(ended.detail);
}

function cancelledDetail(why: string, started: boolean): string {
  return started
    ? `${why} while it ran: stopped before its commit, so nothing was committed; its staging was deleted, and uploads made before are untouched.`
    : `${why} before it started: nothing was collected.`;
}

function fileContent(value: unknown): string | null {
  const read = value as { exists?: boolean; content?: string | null };
  return read.exists === false ? null : (read.content ?? null);
}

/** The record and the event; then the request, the SAS and the staging go. */
async function recordCollection(host: WindowsHost, adapters: LogCollectionAdapters, record: LogCollectionRecord): Promise<AgentResult> {
  const event = logCollectionEvent(record);
  const outcomes = await host.execute(
    [
      op('ensureDirectory', { path: LOG_COLLECTIONS_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('writeFile', {
        path: logCollectionRecordPath(record.collectionId),
        content: serializeLogCollectionRecord(record),
        sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
      }),
      // The same record again where the handler's observe batch reads it: how the last one ended.
      op('writeFile', {
        path: LAST_LOG_COLLECTION_FILE,
        content: serializeLogCollectionRecord(record),
        sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
      }),
      op('writeEvent', { source: EVENT_SOURCE, ...event }),
      // The owner's SAS served this one request; a grant's SAS stays for the grant (the plan removes it when the grant ends).
      ...(record.trigger === 'engineer' ? [] : [op('removePath', { path: LOG_COLLECTION_SAS_FILE })]),
      op('removePath', { path: LOG_COLLECTION_REQUEST_FILE }),
    ],
    { phase: 'collect-logs: record' },
  );
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed && !failed.ok)
    return {
      exitCode: 1,
      output: `collect-logs: ${record.collectionId} ${record.outcome}, but its record could not be written: ${failed.error.message}`,
    };
  const staging = stagingFiles(adapters.stagingFolder, record.collectionId);
  await Promise.all([staging.zip, staging.done, staging.journal].map((file) => fs.rm(file, { force: true })));
  const line = `collect-logs: ${record.collectionId} ${record.outcome}: ${record.detail}${record.blobName ? ` (blob ${record.container}/${record.blobName})` : ''}`;
  return { exitCode: record.outcome === 'uploaded' ? 0 : 1, output: line };
}

/** Deletes staging files older than STAGING_RETENTION_MS; how many. */
export async function removeOldStaging(folder: string, now: Date): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const file = path.join(folder, name);
    const stat = await fs.lstat(file).catch(() => null);
    if (stat && now.getTime() - stat.mtime.getTime() > STAGING_RETENTION_MS) {
      await fs.rm(file, { recursive: true, force: true });
      removed += 1;
    }
  }
  return removed;
}
