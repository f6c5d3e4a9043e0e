/**
 * The audit of one engineer's channel session (DESIGN section 8): a record file per session in
 * CHANNEL_SESSIONS_FOLDER and Windows events for its start, refusal and end. Pure: the agent
 * writes what this builds. Values come from the verified ticket and the node; the commands are
 * kept as sent (JSON-escaped), and never reach an event message.
 */
import { escapeUnsafe } from '../extension/unsafe-text';
import type { EventLevel } from '../windows/operations';
import { CHANNEL_SESSIONS_FOLDER, TRANSCRIPT_FOLDER } from './node-layout';

export const SESSION_EVENT_IDS = { started: 1101, ended: 1102, refused: 1103 } as const;

export interface SessionCommandRecord {
  id: string;
  command: string;
  startedAt: string;
  endedAt: string;
  outcome: string;
  error?: string;
  outputBytes: number;
}

export interface SessionRecord {
  sessionId: string;
  grantId: string;
  engineer: string | null;
  ticketId: string | null;
  relayConnectionId: string;
  level: string | null;
  startedAt: string;
  endedAt: string;
  /** revoked, expired, closed, limit, error, or refused. */
  endReason: string;
  detail: string;
  refusal?: string;
  commands: SessionCommandRecord[];
  commandsRejected: Record<string, number>;
  /** The session process, when one was opened. */
  processId: number | null;
  /** Where the JEA endpoint wrote the transcript of the account's session. */
  transcriptFolder: string;
  account: string;
}

const SESSION_ID = /^[0-9a-fA-F-]{36}$/;
/** A record's file name in CHANNEL_SESSIONS_FOLDER: the session's id and .json. */
export const SESSION_RECORD_FILE_NAME = /^[0-9a-fA-F-]{36}\.json$/;

export function sessionRecordPath(sessionId: string): string {
  // The id becomes a file name: only the UUIDs the agent makes may get there.
  if (!SESSION_ID.test(sessionId)) throw new Error(`session id ${JSON.stringify(sessionId)} is not a UUID`);
  return `${CHANNEL_SESSIONS_FOLDER}\\${sessionId}.json`;
}

export function serializeSessionRecord(record: SessionRecord): string {
  return `${JSON.stringify({ schemaVersion: 1, ...record, transcriptFolder: TRANSCRIPT_FOLDER }, null, 2)}\n`;
}

export function parseSessionRecord(text: string): SessionRecord | null {
  try {
    const value = JSON.parse(text) as Partial<SessionRecord> & { schemaVersion?: number };
    if (value.schemaVersion !== 1 || typeof value.sessionId !== 'string' || typeof value.startedAt !== 'string') return null;
    return value as SessionRecord;
  } catch {
    return null;
  }
}

export interface SessionEvent {
  eventId: number;
  level: EventLevel;
  message: string;
}

const text = (value: string | null) => (value === null ? 'unknown' : escapeUnsafe(value));

export function sessionStartedEvent(
  record: Pick<SessionRecord, 'sessionId' | 'grantId' | 'engineer' | 'ticketId' | 'level' | 'relayConnectionId' | 'account'>,
): SessionEvent {
  return {
    eventId: SESSION_EVENT_IDS.started,
    level: 'Information',
    message: `Remote support session ${record.sessionId} started: engineer ${text(record.engineer)}, ticket ${text(record.ticketId)}, level ${text(record.level)}, grant ${record.grantId}, account ${record.account}, relay connection ${text(record.relayConnectionId)}.`,
  };
}

export function sessionEndedEvent(record: SessionRecord): SessionEvent {
  if (record.endReason === 'refused')
    return {
      eventId: SESSION_EVENT_IDS.refused,
      level: 'Warning',
      message: `Remote support session ${record.sessionId} refused (${text(record.refusal ?? 'refused')}): grant ${record.grantId}, engineer ${text(record.engineer)}, relay connection ${text(record.relayConnectionId)}. ${text(record.detail)}`,
    };
  return {
    eventId: SESSION_EVENT_IDS.ended,
    level: 'Information',
    message: `Remote support session ${record.sessionId} ended (${record.endReason}): engineer ${text(record.engineer)}, level ${text(record.level)}, grant ${record.grantId}, ${record.commands.length} command(s) run. ${text(record.detail)} Record: ${sessionRecordPath(record.sessionId)}.`,
  };
}
