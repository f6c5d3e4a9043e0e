import { describeDuration, MAX_GRANT_DAYS, MIN_GRANT_MINUTES } from '../../core/desired-state';
import { InputError } from '../errors';
import { DURATION_FORMS, parseDurationMs } from './duration';

const MIN_MS = MIN_GRANT_MINUTES * 60_000;
const MAX_MS = MAX_GRANT_DAYS * 86_400_000;

/** A grant's length: the handler refuses anything outside 60 minutes to 14 days after consent. */
export function parseGrantDuration(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new InputError('--duration', text, `Give ${DURATION_FORMS}, from ${MIN_GRANT_MINUTES}m to ${MAX_GRANT_DAYS}d.`);
  if (ms < MIN_MS || ms > MAX_MS) {
    throw new InputError(
      '--duration',
      text,
      `That is ${describeDuration(ms)}; a grant lasts from ${MIN_GRANT_MINUTES} minutes to ${MAX_GRANT_DAYS} days (for example 8h or 2d).`,
    );
  }
  return ms;
}

/** Per-operation timeout: from one second to one day, default 15 minutes. */
export function parseTimeout(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 1000 || ms > 86_400_000) {
    throw new InputError('--timeout', text, `Give ${DURATION_FORMS}, from 1s to 1d (default 15m).`);
  }
  return ms;
}
