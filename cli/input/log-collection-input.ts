/**
 * The window and categories of `collect-logs`, checked with the node's own rules
 * (diag/collect-plan.ts) so the CLI never sends a request the handler would refuse; each refusal
 * names the option, the value and the fix.
 */
import { CollectionRequestError, MAX_WINDOW_MS, checkCategories, checkWindow } from '../../diag/collect-plan';
import { CATEGORIES, type Category } from '../../diag/sources';
import { InputError } from '../errors';

export type WindowInput = { hours: number } | { from: string; to: string };

/** --hours ends the window this long before now: a node clock a little behind the CLI's still accepts it. */
export const HOURS_WINDOW_END_MARGIN_MS = 60_000;
const MAX_HOURS = MAX_WINDOW_MS / 3_600_000;

/** Exactly one of --hours N, or --from and --to. */
export function parseWindowOptions(hours: string | undefined, from: string | undefined, to: string | undefined): WindowInput {
  if (hours !== undefined) {
    if (from !== undefined || to !== undefined)
      throw new InputError(
        '--hours',
        hours,
        `Give either --hours, or --from and --to, not both (received --from ${from ?? 'nothing'}, --to ${to ?? 'nothing'}).`,
      );
    if (!/^\s*\d{1,2}\s*$/.test(hours) || Number(hours) < 1 || Number(hours) > MAX_HOURS)
      throw new InputError('--hours', hours, `Give a whole number of hours from 1 to ${MAX_HOURS}: the window ends now.`);
    return { hours: Number(hours) };
  }
  if (from === undefined && to === undefined)
    throw new InputError(
      '--hours / --from --to',
      undefined,
      `Give the time window to collect: --hours <1-${MAX_HOURS}> (ending now), or --from <UTC> --to <UTC> such as --from 2026-01-31T08:00:00Z --to 2026-01-31T10:00:00Z.`,
    );
  if (from === undefined) throw new InputError('--from', from, 'Give the start of the window with --to, e.g. --from 2026-01-31T08:00:00Z.');
  if (to === undefined) throw new InputError('--to', to, 'Give the end of the window with --from, e.g. --to 2026-01-31T10:00:00Z.');
  return { from, to };
}

/** The window as the node checks it: UTC, at most 24 hours, ending no later than now. */
export function resolveWindow(input: WindowInput, now: Date): { from: string; to: string } {
  if ('hours' in input) {
    const end = Math.floor((now.getTime() - HOURS_WINDOW_END_MARGIN_MS) / 1000) * 1000;
    return checkWindow({ from: utc(end - input.hours * 3_600_000), to: utc(end) }, now);
  }
  try {
    checkWindow(input, now);
    return { from: input.from, to: input.to };
  } catch (error) {
    if (!(error instanceof CollectionRequestError)) throw error;
    const option = error.field === 'window.from' ? '--from' : error.field === 'window.to' ? '--to' : '--from / --to';
    const value = option === '--from' ? input.from : option === '--to' ? input.to : `${input.from} to ${input.to}`;
    throw new InputError(option, value, error.message.replace(/window\.(from|to)/g, '--$1'));
  }
}

/** `--category A,B` (repeatable), in any letter case; the names the node knows, each once. */
export function parseCategories(values: string[]): Category[] {
  const given = values.flatMap((value) => value.split(',')).map((name) => name.trim());
  if (given.length === 0 || given.every((name) => name === ''))
    throw new InputError('--category', undefined, `Name what to collect, separated by commas: ${CATEGORIES.join(', ')}.`);
  const named = given.map((name) => CATEGORIES.find((category) => category.toLowerCase() === name.toLowerCase()) ?? name);
  try {
    return checkCategories(named);
  } catch (error) {
    if (!(error instanceof CollectionRequestError)) throw error;
    throw new InputError('--category', values.join(','), error.message);
  }
}

/** Whole-second UTC, as the handler's settings write times. */
function utc(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
