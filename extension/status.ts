import { mkdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { writeFileAtomically } from './atomic-file';
import { escapeUnsafe } from './unsafe-text';

export type StatusValue = 'transitioning' | 'success' | 'warning' | 'error';

export interface SubStatus {
  name: string;
  status: StatusValue;
  code: number;
  message: string;
}

export interface StatusReport {
  /** The handler operation this status reports, e.g. "Enable". */
  operation: string;
  status: StatusValue;
  code: number;
  message: string;
  substatus?: SubStatus[];
}

/** Limits the extension manager enforces on what it uploads. */
export const MAX_MESSAGE_BYTES = 1024;
export const MAX_STATUS_FILE_BYTES = 128 * 1024;

/**
 * Writes `<statusFolder>/<N>.status` in the array form the extension managers read. The write is
 * atomic (temporary file, then rename) so the manager never reads half a file.
 *
 * A status says which settings it answers. N can repeat with new content, so beside each status
 * the writer records (in the extension's own state, `recordFolder`) a digest of the settings
 * content it was written for. A finished status of the same N and the same content is never turned
 * back into `transitioning` (enable runs again with the same N after every reboot; the owner keeps
 * seeing the last result until a new one exists). Other content, or content not known, gets
 * `transitioning` first: the old result must not stand for settings it never saw, neither while
 * they are applied nor after a run killed half way.
 */
export class StatusWriter {
  constructor(
    private readonly statusFolder: string,
    private readonly handlerName: string,
    private readonly recordFolder: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  fileFor(sequenceNumber: number): string {
    return join(this.statusFolder, `${sequenceNumber}.status`);
  }

  /**
   * Reports work in progress on the settings with digest `settings`, unless a finished status of
   * this N already answers that same content. Returns whether it wrote.
   */
  async transitioning(sequenceNumber: number, operation: string, message: string, settings: string): Promise<boolean> {
    const current = await this.read(sequenceNumber);
    if (current && current !== 'transitioning' && (await this.answers(sequenceNumber)) === settings) return false;
    // The status first: killed between the two writes, it says transitioning whatever the record says.
    await this.write(sequenceNumber, { operation, status: 'transitioning', code: 0, message });
    await this.record(sequenceNumber, settings);
    return true;
  }

  /**
   * Writes the status of N; returns whether it wrote. A file that already says exactly this, all
   * but the time, is left as it is (a no-op enable after a reboot): it keeps the time the result was
   * first reported, and the run saves a write and a flush to disk.
   */
  async write(sequenceNumber: number, report: StatusReport): Promise<boolean> {
    const document = this.document(report);
    const text = JSON.stringify(document);
    const file = this.fileFor(sequenceNumber);
    if (sameButTheTime(readTextIfAny(file), document[0]!.timestampUTC, text)) return false;
    mkdirSync(this.statusFolder, { recursive: true });
    await writeFileAtomically(file, text);
    return true;
  }

  /** The status value currently on disk for N, if the file is readable. */
  async read(sequenceNumber: number): Promise<StatusValue | undefined> {
    try {
      const document = JSON.parse(readFileSync(this.fileFor(sequenceNumber), 'utf8'));
      return document?.[0]?.status?.status;
    } catch {
      return undefined;
    }
  }

  /** The digest of the settings the status of N answers, if recorded. */
  async answers(sequenceNumber: number): Promise<string | undefined> {
    try {
      const record = JSON.parse(readFileSync(this.recordFor(sequenceNumber), 'utf8'));
      return record?.sequenceNumber === sequenceNumber && typeof record.settings === 'string' ? record.settings : undefined;
    } catch {
      return undefined;
    }
  }

  private async record(sequenceNumber: number, settings: string): Promise<void> {
    mkdirSync(this.recordFolder, { recursive: true });
    await writeFileAtomically(this.recordFor(sequenceNumber), `${JSON.stringify({ sequenceNumber, settings })}\n`);
  }

  private recordFor(sequenceNumber: number): string {
    return join(this.recordFolder, `${sequenceNumber}.json`);
  }

  private document(report: StatusReport): Array<{ timestampUTC: string }> {
    const substatus = (report.substatus ?? []).map((item) => ({
      name: item.name,
      status: item.status,
      code: item.code,
      formattedMessage: { lang: 'en-US', message: shown(item.message) },
    }));
    const build = (items: typeof substatus) => [
      {
        version: '1.0',
        timestampUTC: this.clock()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        status: {
          name: this.handlerName,
          operation: report.operation,
          status: report.status,
          code: report.code,
          formattedMessage: { lang: 'en-US', message: shown(report.message) },
          substatus: items,
        },
      },
    ];
    // Keep the file under the limit by dropping trailing substatus entries (a tenth at a time) and saying so.
    let kept = substatus;
    let document = build(kept);
    while (Buffer.byteLength(JSON.stringify(document)) >= MAX_STATUS_FILE_BYTES && kept.length > 0) {
      kept = kept.slice(0, kept.length - Math.ceil(kept.length / 10));
      const omitted = {
        name: 'omitted',
        status: 'warning' as const,
        code: 0,
        formattedMessage: {
          lang: 'en-US',
          message: `${substatus.length - kept.length} more substatus entries were omitted to keep the status under 128 KB.`,
        },
      };
      document = build([...kept, omitted]);
    }
    return document;
  }
}

function readTextIfAny(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether `current` (a status file's text) is `text` with another timestamp; anything unreadable is not. */
function sameButTheTime(current: string | undefined, timestampUTC: string, text: string): boolean {
  if (current === undefined) return false;
  try {
    const parsed: unknown = JSON.parse(current);
    if (!Array.isArray(parsed) || parsed.length !== 1 || typeof parsed[0] !== 'object' || parsed[0] === null) return false;
    return JSON.stringify([{ ...parsed[0], timestampUTC }]) === text;
  } catch {
    return false;
  }
}

/** A message as the status carries it: nothing raw that could forge what is shown, at most 1 KB. */
function shown(message: string): string {
  return truncateUtf8(escapeUnsafe(message), MAX_MESSAGE_BYTES);
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character, marking the cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const marker = '...';
  let cut = '';
  let bytes = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character, 'utf8');
    if (bytes + size > maxBytes - marker.length) break;
    cut += character;
    bytes += size;
  }
  return cut + marker;
}
