/**
 * The node's last log collection as the handler reports it (enable's message and each node's
 * substatus): how it ended, when, and where it went or why not. Read from LAST_LOG_COLLECTION_FILE,
 * which the agent writes with the collection's record. The CLI's `status` parses this sentence
 * (cli/commands/log-collection-status.ts): change both together.
 */
import { escapeUnsafe } from '../extension/unsafe-text';
import { parseLogCollectionRecord } from './log-collection-record';

/**
 * `last log collection <id> uploaded at <endedAt> to <account>/<container>/<blob>`, or
 * `... failed at <endedAt>: "<detail>"` (cancelled alike); null when the file is missing or not a record.
 */
export function describeLastLogCollection(text: string | null): string | null {
  if (!text) return null;
  const record = parseLogCollectionRecord(text);
  if (!record || !['uploaded', 'failed', 'cancelled'].includes(record.outcome)) return null;
  const head = `last log collection ${record.collectionId.toLowerCase()} ${record.outcome} at ${oneWord(record.endedAt)}`;
  if (record.outcome === 'uploaded' && record.container && record.blobName)
    return `${head} to ${oneWord(record.container)}/${oneWord(record.blobName)}`;
  return `${head}: "${quoted(record.detail)}"`;
}

/** A SAS never belongs in a record; should one get there, its query goes no further (fail closed). */
function withoutQuery(text: string): string {
  return text.replace(/(https?:\/\/[^\s?"]*)\?[^\s"]*/gi, '$1?[query removed]').replace(/\bsig=[^\s&"]*/gi, 'sig=[removed]');
}

function oneWord(text: string): string {
  return escapeUnsafe(withoutQuery(String(text)).replace(/\s+/g, '_'));
}

/** One line, no double quote inside (the quotes end the reason), no final period. */
function quoted(text: string): string {
  const line = withoutQuery(String(text ?? ''))
    .replace(/\s+/g, ' ')
    .replace(/"/g, "'")
    .trim()
    .replace(/\.$/, '');
  return escapeUnsafe(line);
}
