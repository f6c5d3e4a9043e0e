/**
 * The JEA endpoint's session transcripts, as Windows PowerShell writes them: the header between
 * two lines of asterisks holds "Name: value" lines,
 *   Windows PowerShell transcript start
 *   Start time: 20260301101500          (yyyyMMddHHmmss, the machine's local time)
 *   Username: CONTOSO\alice             (who connected)
 *   RunAs User: WinRM Virtual Users\WinRM VA_1_CONTOSO_alice   (the JEA identity)
 * and, when the session closed cleanly, an "End time: yyyyMMddHHmmss" line at the end. The file
 * is PowerShell_transcript.<computer>.<random>.<stamp>.txt, the same local stamp in its name.
 */

/** A transcript file's name; PowerShell may file them in a folder per day. */
export const TRANSCRIPT_FILE_NAME = /^PowerShell_transcript\..*\.txt$/i;

export interface TranscriptSession {
  /** UTC: the header's start, else the name's stamp, else the file's last write. */
  start: Date;
  /** UTC; null while the session is open or when it did not close cleanly. */
  end: Date | null;
  user: string | null;
  runAsUser: string | null;
}

/**
 * Reads a transcript. Local stamps become UTC through this process's time zone: the node agent
 * runs on the machine whose local time the transcript carries.
 */
export function readTranscript(text: string, fileName: string, lastWriteTimeUtc: Date): TranscriptSession {
  const fields = new Map<string, string>();
  let stars = 0;
  for (const line of text.split(/\r?\n/)) {
    if (/^\*{10,}\s*$/.test(line)) {
      stars += 1;
      if (stars >= 2) break;
      continue;
    }
    const field = stars === 1 ? /^([^:]+):\s*(.*?)\s*$/.exec(line) : null;
    if (field && !fields.has(field[1]!.trim())) fields.set(field[1]!.trim(), field[2]!);
  }
  const fromName = /\.(\d{14})\.txt$/i.exec(fileName)?.[1];
  const start = localStampToUtc(fields.get('Start time')) ?? localStampToUtc(fromName) ?? lastWriteTimeUtc;
  const ends = [...text.matchAll(/^End time:\s*(\d{14})\s*$/gm)];
  const end = ends.length > 0 ? localStampToUtc(ends[ends.length - 1]![1]) : null;
  return { start, end, user: fields.get('Username') ?? null, runAsUser: fields.get('RunAs User') ?? null };
}

/** yyyyMMddHHmmss in this machine's local time, to UTC; null when it is not a real time. */
export function localStampToUtc(stamp: string | undefined): Date | null {
  const parts = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec((stamp ?? '').trim());
  if (!parts) return null;
  const [year, month, day, hour, minute, second] = parts.slice(1).map(Number) as [number, number, number, number, number, number];
  // 31 April would roll over to 1 May: such a stamp is not a time.
  const calendarDay = new Date(Date.UTC(year, month - 1, day));
  if (calendarDay.getUTCMonth() !== month - 1 || calendarDay.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return null;
  return new Date(year, month - 1, day, hour, minute, second);
}
