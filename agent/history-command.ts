/**
 * `history [--json] [--from <UTC time>] [--include-transcript]`: the access changes
 * (history.jsonl), the support sessions (the JEA transcripts) and the engineers' channel sessions
 * (one record each in CHANNEL_SESSIONS_FOLDER), merged, newest first. For the
 * owner's module (Get-RemoteSupportSessionHistory) with --json: one JSON object per line, either
 * {"entry": {...}} or {"warning": "..."}, so a long history with transcripts never becomes one
 * document too large for Windows PowerShell 5.1's ConvertFrom-Json (2 MB).
 */
import { readHistory } from '../core/access-history';
import { formatUtc } from '../core/desired-state';
import { CHANNEL_SESSIONS_FOLDER, HISTORY_FILE, LOG_COLLECTIONS_FOLDER, TRANSCRIPT_FOLDER } from '../core/node-layout';
import { LOG_COLLECTION_RECORD_FILE_NAME, parseLogCollectionRecord, type LogCollectionRecord } from '../core/log-collection-record';
import { parseSessionRecord, SESSION_RECORD_FILE_NAME, type SessionCommandRecord, type SessionRecord } from '../core/session-record';
import { readTranscript, TRANSCRIPT_FILE_NAME } from '../core/session-transcript';
import { op } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { parseOptions } from './arguments';
import type { AgentResult } from './commands';
import { asciiJson, jsonTime } from './json-output';

/** Folders below the transcript folder that are searched (PowerShell files transcripts by day). */
const TRANSCRIPT_FOLDER_DEPTH = 3;

export interface HistoryItem {
  time: Date;
  /** Granted, Changed, Revoked, Expired, Session (a JEA transcript) or ChannelSession (a session over the channel). */
  kind: string;
  by: string | null;
  level: string | null;
  grantId: string | null;
  supportRequestId: string | null;
  expiresAt: Date | null;
  termsVersion: string | null;
  runAsUser: string | null;
  endTime: Date | null;
  /** The transcript file of a session; the record file of a channel session. */
  path: string | null;
  transcript: string | null;
  /** The rest are a channel session's, null for the other kinds. */
  sessionId: string | null;
  /** revoked, expired, closed, limit, error or refused. */
  endReason: string | null;
  detail: string | null;
  ticketId: string | null;
  relayConnectionId: string | null;
  /** The grant's local account the session ran as in the JEA endpoint. */
  account: string | null;
  commandCount: number | null;
  /** With --include-transcript: each command with its outcome and output size. */
  commands: SessionCommandRecord[] | null;
  /** With --include-transcript: where the JEA endpoint wrote the account's transcripts. */
  transcriptFolder: string | null;
  /** A log collection's record (kind LogCollection), null for the other kinds. */
  logCollection: LogCollectionRecord | null;
}

const NOT_A_CHANNEL_SESSION = {
  sessionId: null,
  endReason: null,
  detail: null,
  ticketId: null,
  relayConnectionId: null,
  account: null,
  commandCount: null,
  commands: null,
  transcriptFolder: null,
  logCollection: null,
} as const;

export async function historyCommand(argv: string[], host: WindowsHost): Promise<AgentResult> {
  const options = parseOptions('history', argv, { flags: ['--json', '--include-transcript'], values: ['--from'] });
  if ('problem' in options) return { exitCode: 2, output: options.problem };
  const fromText = options.values.get('--from');
  const from = fromText === undefined ? null : new Date(fromText);
  if (from && Number.isNaN(from.getTime()))
    return { exitCode: 2, output: `history: --from must be a UTC time such as 2026-03-01T00:00:00Z, not ${JSON.stringify(fromText)}` };

  const [history, listing, sessionListing, collectionListing] = await host.execute(
    [
      op('readFile', { path: HISTORY_FILE }),
      op('listDirectory', { path: TRANSCRIPT_FOLDER }),
      op('listDirectory', { path: CHANNEL_SESSIONS_FOLDER }),
      op('listDirectory', { path: LOG_COLLECTIONS_FOLDER }),
    ],
    { phase: 'history', stopOnError: false },
  );
  if (!history?.ok)
    return {
      exitCode: 1,
      output: `history: could not read ${HISTORY_FILE}: ${history ? `${history.error.code}: ${history.error.message}` : 'no answer'}`,
    };
  const warnings: string[] = [];
  const transcripts = await findTranscripts(host, listing, warnings);
  const records = sessionRecordFiles(sessionListing, warnings);
  const collections = recordFiles(collectionListing, LOG_COLLECTIONS_FOLDER, LOG_COLLECTION_RECORD_FILE_NAME, 'log collection', warnings);
  const allReads = await host.execute(
    [...transcripts.map((file) => file.path), ...records, ...collections].map((path) => op('readFile', { path })),
    { phase: 'history: transcripts and session records', stopOnError: false },
  );
  const reads = allReads.slice(0, transcripts.length);
  const recordReads = allReads.slice(transcripts.length, transcripts.length + records.length);
  const collectionReads = allReads.slice(transcripts.length + records.length);
  const withTranscripts = options.flags.has('--include-transcript');

  const items: HistoryItem[] = [];
  for (const entry of readHistory((history.value as { content: string | null }).content)) {
    items.push({
      time: entry.at,
      kind: entry.change.charAt(0).toUpperCase() + entry.change.slice(1),
      by: entry.by,
      level: entry.level,
      grantId: entry.grantId,
      supportRequestId: entry.supportRequestId,
      expiresAt: entry.expiresAt,
      termsVersion: entry.termsVersion,
      runAsUser: null,
      endTime: null,
      path: null,
      transcript: null,
      ...NOT_A_CHANNEL_SESSION,
    });
  }
  transcripts.forEach((file, index) => {
    const read = reads[index];
    if (!read?.ok) {
      warnings.push(`Cannot read the transcript ${file.path}: ${read ? read.error.message : 'no answer'}`);
      return;
    }
    const text = (read.value as { content: string | null }).content ?? '';
    const session = readTranscript(text, file.name, file.lastWriteTimeUtc);
    items.push({
      time: session.start,
      kind: 'Session',
      by: session.user,
      level: null,
      grantId: null,
      supportRequestId: null,
      expiresAt: null,
      termsVersion: null,
      runAsUser: session.runAsUser,
      endTime: session.end,
      path: file.path,
      transcript: withTranscripts ? text : null,
      ...NOT_A_CHANNEL_SESSION,
    });
  });
  records.forEach((path, index) => {
    const read = recordReads[index];
    const record = read?.ok ? parseSessionRecord((read.value as { content: string | null }).content ?? '') : null;
    const started = record ? new Date(record.startedAt) : null;
    if (!record || !started || Number.isNaN(started.getTime())) {
      warnings.push(
        `Cannot read the channel session record ${path}: ${read && !read.ok ? read.error.message : 'it is not a session record'}`,
      );
      return;
    }
    items.push(channelSessionItem(record, started, path, withTranscripts));
  });
  collections.forEach((path, index) => {
    const read = collectionReads[index];
    const record = read?.ok ? parseLogCollectionRecord((read.value as { content: string | null }).content ?? '') : null;
    const started = record ? new Date(record.startedAt) : null;
    if (!record || !started || Number.isNaN(started.getTime())) {
      warnings.push(
        `Cannot read the log collection record ${path}: ${read && !read.ok ? read.error.message : 'it is not a log collection record'}`,
      );
      return;
    }
    items.push(logCollectionItem(record, started, path));
  });
  // Newest first; of entries at the same time, the later line of the history first (the sort is stable).
  const shown = items
    .filter((item) => !from || item.time.getTime() >= from.getTime())
    .reverse()
    .sort((a, b) => b.time.getTime() - a.time.getTime());

  if (!options.flags.has('--json')) {
    const lines = shown.map(
      (item) =>
        `${formatUtc(item.time)}  ${item.kind.padEnd(14)}  ${item.by ?? ''}${item.level ? `  ${item.level}` : ''}${item.supportRequestId ? `  ${item.supportRequestId}` : ''}`,
    );
    return { exitCode: 0, output: [...warnings.map((warning) => `warning: ${warning}`), ...lines].join('\n') || 'No history.' };
  }
  const lines = [
    ...warnings.map((warning) => asciiJson({ warning })),
    ...shown.map((item) =>
      asciiJson({ entry: { ...item, time: jsonTime(item.time), expiresAt: jsonTime(item.expiresAt), endTime: jsonTime(item.endTime) } }),
    ),
  ];
  return { exitCode: 0, output: lines.join('\n'), stream: 'stdout' };
}

function channelSessionItem(record: SessionRecord, started: Date, path: string, withTranscripts: boolean): HistoryItem {
  const ended = record.endedAt ? new Date(record.endedAt) : null;
  const commands = Array.isArray(record.commands) ? record.commands : [];
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    time: started,
    kind: 'ChannelSession',
    by: text(record.engineer),
    level: text(record.level),
    grantId: text(record.grantId),
    supportRequestId: null,
    expiresAt: null,
    termsVersion: null,
    runAsUser: null,
    endTime: ended && !Number.isNaN(ended.getTime()) ? ended : null,
    path,
    transcript: null,
    sessionId: record.sessionId,
    endReason: text(record.endReason),
    detail: text(record.detail),
    ticketId: text(record.ticketId),
    relayConnectionId: text(record.relayConnectionId),
    account: text(record.account),
    commandCount: commands.length,
    commands: withTranscripts ? commands : null,
    transcriptFolder: withTranscripts ? text(record.transcriptFolder) : null,
    logCollection: null,
  };
}

function logCollectionItem(record: LogCollectionRecord, started: Date, path: string): HistoryItem {
  const ended = new Date(record.endedAt);
  return {
    ...NOT_A_CHANNEL_SESSION,
    time: started,
    kind: 'LogCollection',
    by: record.requestedBy,
    level: null,
    grantId: record.grantId,
    supportRequestId: record.supportRequestId,
    expiresAt: null,
    termsVersion: null,
    runAsUser: null,
    endTime: Number.isNaN(ended.getTime()) ? null : ended,
    path,
    transcript: null,
    endReason: record.outcome,
    detail: record.detail,
    logCollection: record,
  };
}

/** A folder's record files; none while it does not exist (listDirectory says so without failing). */
function recordFiles(listing: OperationOutcome | undefined, folder: string, name: RegExp, what: string, warnings: string[]): string[] {
  if (!listing?.ok) {
    warnings.push(`Cannot list the ${what} records in ${folder}: ${listing ? listing.error.message : 'no answer'}`);
    return [];
  }
  return (listing.value as { entries: Array<{ name: string; type: string }> }).entries
    .filter((entry) => entry.type === 'file' && name.test(entry.name))
    .map((entry) => `${folder}\\${entry.name}`);
}

/** The channel session records in their folder; none while it does not exist. */
function sessionRecordFiles(listing: OperationOutcome | undefined, warnings: string[]): string[] {
  if (!listing?.ok) {
    warnings.push(
      `Cannot list the channel session records in ${CHANNEL_SESSIONS_FOLDER}: ${listing ? listing.error.message : 'no answer'}`,
    );
    return [];
  }
  return (listing.value as { entries: Array<{ name: string; type: string }> }).entries
    .filter((entry) => entry.type === 'file' && SESSION_RECORD_FILE_NAME.test(entry.name))
    .map((entry) => `${CHANNEL_SESSIONS_FOLDER}\\${entry.name}`);
}

interface TranscriptFile {
  path: string;
  name: string;
  lastWriteTimeUtc: Date;
}

/** The transcript files under the transcript folder, one listing batch per folder level. */
async function findTranscripts(host: WindowsHost, listing: OperationOutcome | undefined, warnings: string[]): Promise<TranscriptFile[]> {
  const files: TranscriptFile[] = [];
  let level: Array<{ folder: string; outcome: OperationOutcome | undefined }> = [{ folder: TRANSCRIPT_FOLDER, outcome: listing }];
  for (let depth = 0; level.length > 0; depth++) {
    const subfolders: string[] = [];
    for (const { folder, outcome } of level) {
      if (!outcome?.ok) {
        warnings.push(`Cannot list the transcripts in ${folder}: ${outcome ? outcome.error.message : 'no answer'}`);
        continue;
      }
      for (const entry of (outcome.value as { entries: Array<{ name: string; type: string; lastWriteTimeUtc: string }> }).entries) {
        const path = `${folder}\\${entry.name}`;
        if (entry.type === 'directory') subfolders.push(path);
        else if (TRANSCRIPT_FILE_NAME.test(entry.name))
          files.push({ path, name: entry.name, lastWriteTimeUtc: new Date(entry.lastWriteTimeUtc) });
      }
    }
    if (depth >= TRANSCRIPT_FOLDER_DEPTH || subfolders.length === 0) break;
    const outcomes = await host.execute(
      subfolders.map((path) => op('listDirectory', { path })),
      { phase: 'history: transcript folders', stopOnError: false },
    );
    level = subfolders.map((folder, index) => ({ folder, outcome: outcomes[index] }));
  }
  return files;
}
