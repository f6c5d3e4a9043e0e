/**
 * When a trigger fires, as Task Scheduler computes it, in epoch milliseconds (pure functions).
 *
 * A trigger has activations: a TimeTrigger one at StartBoundary, a daily CalendarTrigger one every
 * DaysInterval days from StartBoundary, a BootTrigger one at the node's last boot plus Delay (only
 * when that boot lies between its boundaries). Each activation fires at once and then, with a
 * Repetition, every Interval while less than Duration has passed since it (a repetition without
 * Duration runs indefinitely; on a daily trigger, until the next activation). Nothing fires after
 * EndBoundary. A disabled trigger never fires.
 */
import type { TaskTrigger } from './task-xml';

const DAY_MS = 86_400_000;

interface Series {
  first: number;
  /** Between activations; Infinity for a single one. */
  period: number;
  /** Repetition interval, or null. */
  interval: number | null;
  /** Fires happen in [activation, activation + span); 0 without repetition. */
  span: number;
  end: number;
}

function seriesOf(trigger: TaskTrigger, lastBoot: number | null): Series | null {
  if (!trigger.enabled || trigger.kind === 'unsupported') return null;
  let first: number;
  let period = Infinity;
  if (trigger.kind === 'boot') {
    if (lastBoot === null || (trigger.start !== null && lastBoot < trigger.start)) return null;
    if (trigger.end !== null && lastBoot > trigger.end) return null;
    first = lastBoot + trigger.delayMs;
  } else {
    if (trigger.start === null) return null;
    first = trigger.start;
    if (trigger.kind === 'daily') period = trigger.daysInterval * DAY_MS;
  }
  const repetition = trigger.repetition;
  const span = repetition === null ? 0 : (repetition.durationMs ?? period);
  return { first, period, interval: repetition?.intervalMs ?? null, span, end: trigger.end ?? Infinity };
}

/** The first fire strictly after `after`, or null. */
export function nextFireAfter(trigger: TaskTrigger, after: number, lastBoot: number | null): number | null {
  const series = seriesOf(trigger, lastBoot);
  if (!series) return null;
  const { first, period, interval, span, end } = series;
  let best: number | null = null;
  // Earliest activation whose series can still reach past `after`.
  let n = Number.isFinite(period) && Number.isFinite(span) ? Math.max(0, Math.floor((after - first - span) / period)) : 0;
  for (; ; n++) {
    if (!Number.isFinite(period) && n > 0) break;
    const activation = n === 0 ? first : first + n * period; // 0 * Infinity is NaN
    if (activation > end || (best !== null && activation >= best)) break;
    let fire: number | null = null;
    if (activation > after) fire = activation;
    else if (interval !== null) {
      const offset = (Math.floor((after - activation) / interval) + 1) * interval;
      if (offset < span) fire = activation + offset;
    }
    if (fire !== null && (best === null || fire < best)) best = fire;
  }
  return best !== null && best <= end ? best : null;
}

/** The last fire at or before `at`, or null. */
export function lastFireAtOrBefore(trigger: TaskTrigger, at: number, lastBoot: number | null): number | null {
  const series = seriesOf(trigger, lastBoot);
  if (!series) return null;
  const { first, period, interval, span, end } = series;
  const cap = Math.min(at, end);
  if (cap < first) return null;
  let best: number | null = null;
  for (let n = Number.isFinite(period) ? Math.floor((cap - first) / period) : 0; n >= 0; n--) {
    const activation = n === 0 ? first : first + n * period; // 0 * Infinity is NaN
    if (best !== null && activation + Math.max(span, 1) <= best) break;
    let fire = activation;
    if (interval !== null) {
      const lastStep = Number.isFinite(span) ? Math.ceil(span / interval) - 1 : Infinity;
      fire = activation + Math.min(Math.floor((cap - activation) / interval), lastStep) * interval;
    }
    if (best === null || fire > best) best = fire;
  }
  return best;
}

/** Whether the trigger fires exactly at `at`. */
export function firesAt(trigger: TaskTrigger, at: number, lastBoot: number | null): boolean {
  return lastFireAtOrBefore(trigger, at, lastBoot) === at;
}
