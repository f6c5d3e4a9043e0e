/**
 * Durations typed by people: `90m`, `8h`, `2d`, `1h30m`, `45s`, `500ms`, or ISO 8601 such as
 * `PT8H`, `P2D`, `P1DT12H`, `PT90M`. Years and months are refused: their length varies.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const SHORT_FORM = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/i;
const SHORT_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gi;
const ISO_FORM = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Milliseconds, or undefined when the text is not a duration this parser knows. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (SHORT_FORM.test(trimmed)) {
    let total = 0;
    for (const match of trimmed.matchAll(SHORT_PART)) {
      total += Number(match[1]) * (UNIT_MS[match[2]!.toLowerCase()] ?? Number.NaN);
    }
    return Number.isFinite(total) ? Math.round(total) : undefined;
  }
  const iso = ISO_FORM.exec(trimmed);
  // "P" and "PT" alone match the pattern with no part at all: not a duration.
  if (!iso || !/\d/.test(trimmed) || /T$/i.test(trimmed)) return undefined;
  const [, weeks, days, hours, minutes, seconds] = iso;
  const part = (value: string | undefined, unit: number) => (value === undefined ? 0 : Number(value) * unit);
  return Math.round(
    part(weeks, UNIT_MS.w!) + part(days, UNIT_MS.d!) + part(hours, UNIT_MS.h!) + part(minutes, UNIT_MS.m!) + part(seconds, UNIT_MS.s!),
  );
}

export const DURATION_FORMS = 'a duration such as 90m, 8h, 2d, 1h30m or ISO 8601 PT8H, P2D';
