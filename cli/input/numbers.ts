import { InputError } from '../errors';

function wholeNumber(text: string): number | undefined {
  return /^\s*\d{1,9}\s*$/.test(text) ? Number(text) : undefined;
}

/** The handler keeps transcripts and history at most 90 days (DESIGN section 1). */
export function parseRetentionDays(text: string): number {
  const days = wholeNumber(text);
  if (days === undefined || days < 1 || days > 90) {
    throw new InputError('--retention-days', text, 'Give a whole number of days from 1 to 90.');
  }
  return days;
}

export const MAX_CONCURRENCY = 256;

export function parseConcurrency(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1 || n > MAX_CONCURRENCY) {
    throw new InputError(
      '--concurrency',
      text,
      `Give a whole number of machines worked on at once, from 1 to ${MAX_CONCURRENCY} (default 16).`,
    );
  }
  return n;
}
