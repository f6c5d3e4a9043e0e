/**
 * Diagnostic log collection on a node (DESIGN section 9), as data: the request waiting for the
 * agent (LOG_COLLECTION_REQUEST_FILE, one at a time), and the record each collection leaves in
 * LOG_COLLECTIONS_FOLDER with its Windows event. Pure: the handler and the agent write what this
 * builds. Neither holds the upload SAS: it waits machine-protected in LOG_COLLECTION_SAS_FILE.
 */
import { escapeUnsafe } from '../extension/unsafe-text';
import type { EventLevel } from '../windows/operations';
import { LOG_COLLECTIONS_FOLDER } from './node-layout';

export const LOG_COLLECTION_EVENT_IDS = { uploaded: 1201, failed: 1202, cancelled: 1203 } as const;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** A record's file name in LOG_COLLECTIONS_FOLDER: the collection's id and .json. */
export const LOG_COLLECTION_RECORD_FILE_NAME = /^[0-9a-fA-F-]{36}\.json$/;

export interface LogCollectionRequest {
  /** The collection's id: the owner's requestId. */
  collectionId: string;
  trigger: 'owner' | 'engineer';
  requestedBy: string;
  requestedAt: string;
  window: { from: string; to: string };
  categories: string[];
  includeSecurityLog: boolean;
  /** The grant the collection rests on; null for the owner's own request. */
  grantId: string | null;
  supportRequestId: string | null;
}

export type LogCollectionOutcome = 'uploaded' | 'failed' | 'cancelled';

export interface LogCollectionRecord extends LogCollectionRequest {
  /** What the collection rests on: the grant's consent, or the owner's own request. */
  consent: string;
  startedAt: string;
  endedAt: string;
  outcome: LogCollectionOutcome;
  /** Why it failed or was cancelled; what was uploaded otherwise. Never a SAS. */
  detail: string;
  /** The container (account/container) and blob, when uploaded. */
  container: string | null;
  blobName: string | null;
  bundleBytes: number | null;
  fileCount: number | null;
  skippedCount: number | null;
  bundleSha256: string | null;
}

export function isCollectionId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function logCollectionRecordPath(collectionId: string): string {
  // The id becomes a file name: only a UUID may get there.
  if (!isCollectionId(collectionId)) throw new Error(`collection id ${JSON.stringify(collectionId)} is not a UUID`);
  return `${LOG_COLLECTIONS_FOLDER}\\${collectionId.toLowerCase()}.json`;
}

export function serializeLogCollectionRequest(request: LogCollectionRequest): string {
  return `${JSON.stringify({ schemaVersion: 1, ...request }, null, 2)}\n`;
}

/** The waiting request, or null when the text is not one (a damaged file is not acted on). */
export function parseLogCollectionRequest(text: string | null): LogCollectionRequest | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<LogCollectionRequest> & { schemaVersion?: number };
    if (value.schemaVersion !== 1 || !isCollectionId(value.collectionId) || typeof value.requestedAt !== 'string') return null;
    if (!value.window || !Array.isArray(value.categories)) return null;
    return value as LogCollectionRequest;
  } catch {
    return null;
  }
}

export function serializeLogCollectionRecord(record: LogCollectionRecord): string {
  return `${JSON.stringify({ schemaVersion: 1, ...record }, null, 2)}\n`;
}

export function parseLogCollectionRecord(text: string): LogCollectionRecord | null {
  try {
    const value = JSON.parse(text) as Partial<LogCollectionRecord> & { schemaVersion?: number };
    if (value.schemaVersion !== 1 || !isCollectionId(value.collectionId) || typeof value.endedAt !== 'string') return null;
    return value as LogCollectionRecord;
  } catch {
    return null;
  }
}

/** How both paths refuse a second collection while one waits or runs: what is running, and the fix. */
export function collectionNotEnded(running: LogCollectionRequest): { what: string; fix: string } {
  return {
    what: `the collection ${running.collectionId} (requested ${running.requestedAt}) has not ended`,
    fix: `one collection at a time: wait until ${running.collectionId} ends (its record appears in the log collection history), then ask again`,
  };
}

export function consentOf(request: LogCollectionRequest): string {
  return request.grantId ? `grant ${request.grantId}` : 'owner request';
}

export function logCollectionEvent(record: LogCollectionRecord): { eventId: number; level: EventLevel; message: string } {
  const what = `Diagnostic log collection ${record.collectionId} (${record.trigger}, ${escapeUnsafe(record.requestedBy)}; rests on ${escapeUnsafe(record.consent)}; window ${record.window.from} to ${record.window.to}; categories ${record.categories.join(', ')})`;
  if (record.outcome === 'uploaded')
    return {
      eventId: LOG_COLLECTION_EVENT_IDS.uploaded,
      level: 'Information',
      message: `${what} uploaded ${record.fileCount} file(s), ${record.bundleBytes} bytes, to ${escapeUnsafe(record.container ?? '')}/${escapeUnsafe(record.blobName ?? '')}. Record: ${logCollectionRecordPath(record.collectionId)}.`,
    };
  return {
    eventId: LOG_COLLECTION_EVENT_IDS[record.outcome],
    level: 'Warning',
    message: `${what} ${record.outcome}: ${escapeUnsafe(record.detail)} Record: ${logCollectionRecordPath(record.collectionId)}.`,
  };
}
