/**
 * Times of the simulated machine. The model stores UTC as ISO 8601 text; the scheduler computes
 * in epoch milliseconds. The simulated machine's time zone is UTC, so a task time written without
 * an offset (Task Scheduler's "local time") is read as UTC.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses an xs:dateTime; throws on anything else. */
export function parseUtc(text: string): number {
  const match = DATE_TIME.exec(text.trim());
  const time = match ? Date.parse(match[8] ? text.trim() : `${text.trim()}Z`) : NaN;
  if (Number.isNaN(time)) throw new Error(`'${text}' is not a date and time (xs:dateTime)`);
  return time;
}

/** `2026-01-01T04:00:00Z`, with milliseconds only when there are some. */
export function formatUtc(time: number): string {
  return new Date(time).toISOString().replace('.000Z', 'Z');
}

/**
 * An xs:duration (`PT15M`, `P1D`, `P30D`, `PT0S`). Years and months have no fixed length, so
 * they are kept apart and added on the calendar.
 */
export interface Duration {
  months: number;
  /** Days, hours, minutes and seconds as milliseconds. */
  ms: number;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

export function parseDuration(text: string): Duration {
  const trimmed = text.trim();
  const match = DURATION.exec(trimmed);
  if (!match || trimmed === 'P' || trimmed.endsWith('T')) throw new Error(`'${text}' is not a duration (xs:duration)`);
  const n = (index: number) => Number(match[index] ?? 0);
  return {
    months: n(1) * 12 + n(2),
    ms: (((n(3) * 7 + n(4)) * 24 + n(5)) * 60 + n(6)) * 60_000 + Math.round(n(7) * 1000),
  };
}

/** A duration of fixed length (no years or months), in milliseconds. */
export function fixedDurationMs(text: string): number {
  const duration = parseDuration(text);
  if (duration.months !== 0) throw new Error(`'${text}' has years or months; only days, hours, minutes and seconds are supported here`);
  return duration.ms;
}

export function addDuration(time: number, duration: Duration): number {
  const date = new Date(time);
  if (duration.months) date.setUTCMonth(date.getUTCMonth() + duration.months);
  return date.getTime() + duration.ms;
}
