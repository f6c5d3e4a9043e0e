/**
 * The pure part of a collection: checks a request (window, categories, budget) and decides, from
 * what the sources list, what goes into the bundle and what is skipped and why. Per-file caps keep
 * the tail of text (the newest lines); binary entries over their cap are skipped; the total budget
 * is filled most important first, so low-priority entries are the ones dropped.
 */
import { deniedChannelReason, deniedPathReason, type DenyOptions } from './deny';
import type { Listing, SourceEntry, Skipped, TimeWindow } from './reader';
import { CATEGORIES, type Category, type Source } from './sources';

export const MAX_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Uncompressed bytes a collection takes at most by default (the fault table: 1 GiB). */
export const DEFAULT_BUDGET_BYTES = 1024 * 1024 * 1024;

/** A request that cannot be served: names the field, the value and the fix. */
export class CollectionRequestError extends Error {
  override readonly name = 'CollectionRequestError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const isoUtc = (field: string, value: unknown): number => {
  const time = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw new CollectionRequestError(field, `${field} '${String(value)}' is not a UTC time: give it as 2026-01-31T08:00:00Z.`);
  }
  return time;
};

/** The window, checked: at most 24 hours, start before end, ending no later than now. */
export function checkWindow(window: TimeWindow, now: Date): TimeWindow {
  const from = isoUtc('window.from', window?.from);
  const to = isoUtc('window.to', window?.to);
  if (to > now.getTime()) {
    throw new CollectionRequestError(
      'window.to',
      `window.to '${window.to}' is in the future (now ${now.toISOString()}): end the window at or before now.`,
    );
  }
  if (from >= to)
    throw new CollectionRequestError(
      'window.from',
      `window.from '${window.from}' is not before window.to '${window.to}': start the window earlier.`,
    );
  if (to - from > MAX_WINDOW_MS) {
    throw new CollectionRequestError(
      'window',
      `the window ${window.from} to ${window.to} is longer than 24 hours: collect at most 24 hours at a time.`,
    );
  }
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** The categories, checked against the fixed set; duplicates removed. */
export function checkCategories(categories: readonly string[]): Category[] {
  if (!Array.isArray(categories) || categories.length === 0) {
    throw new CollectionRequestError('categories', `categories is empty: name one or more of ${CATEGORIES.join(', ')}.`);
  }
  for (const category of categories) {
    if (!(CATEGORIES as readonly string[]).includes(category)) {
      throw new CollectionRequestError(
        'categories',
        `category '${String(category)}' is not one of ${CATEGORIES.join(', ')}: use those names exactly.`,
      );
    }
  }
  return [...new Set(categories)] as Category[];
}

export interface PlannedEntry extends SourceEntry {
  category: Category;
  priority: number;
  /** Its path in the zip: `<category>/<source id>/<name>`. */
  zipPath: string;
  /** The bytes taken: [start, end) of the original. */
  start: number;
  end: number;
  truncated: boolean;
}

export interface CollectionPlan {
  entries: PlannedEntry[];
  skipped: Skipped[];
  /** Bytes the entries take before compression and redaction. */
  plannedBytes: number;
}

export interface SourceListing {
  source: Source;
  /** What the source listed, or why it could not be listed (already a skip). */
  listing: Listing | Skipped;
}

export interface PlanOptions extends DenyOptions {
  window: TimeWindow;
  budgetBytes: number;
}

/** A name for the zip that cannot climb out of its folder or mean something else on Windows. */
export function zipName(name: string): string {
  return name
    .split('/')
    .map(
      (segment) =>
        segment
          .replace(/[^A-Za-z0-9._ -]/g, '_')
          .replace(/^\.+$/, '_')
          .replace(/[. ]+$/, '_') || '_',
    )
    .join('/');
}

/** Whether a source may be asked at all (the Security log without the opt-in may not). */
export function sourceDenial(source: Source, options: DenyOptions): string | null {
  if (source.optIn === 'securityLog' && !options.securityLogOptIn) return 'the Security log needs the owner to opt in';
  if (source.spec.kind === 'eventLog') return deniedChannelReason(source.spec.channel, options);
  return null;
}

export function planCollection(listings: readonly SourceListing[], options: PlanOptions): CollectionPlan {
  const skipped: Skipped[] = [];
  const candidates: PlannedEntry[] = [];
  const windowStart = Date.parse(options.window.from);
  for (const { source, listing } of listings) {
    if ('reason' in listing) {
      skipped.push(listing);
      continue;
    }
    skipped.push(...listing.skipped);
    for (const entry of listing.entries) {
      const skip = (reason: Skipped['reason'], detail: string) =>
        skipped.push({ sourceId: source.id, origin: entry.origin, reason, detail });
      // The reader is not trusted to have kept to its folder: every path is judged here.
      const denied = entry.windowsPath !== undefined ? deniedPathReason(entry.windowsPath, options) : sourceDenial(source, options);
      if (denied) {
        skip('denied', denied);
        continue;
      }
      if (source.spec.kind === 'files' && entry.modifiedUtc && Date.parse(entry.modifiedUtc) < windowStart) {
        skip('outside-window', `last written ${entry.modifiedUtc}, before the window`);
        continue;
      }
      const over = entry.size > source.maxFileBytes;
      if (over && !entry.text) {
        skip('over-cap', `${entry.size} bytes, over the ${source.maxFileBytes}-byte cap, and not text to keep the tail of`);
        continue;
      }
      candidates.push({
        ...entry,
        category: source.category,
        priority: source.priority,
        zipPath: `${source.category}/${source.id}/${zipName(entry.name)}`,
        start: over ? entry.size - source.maxFileBytes : 0,
        end: entry.size,
        truncated: over,
      });
    }
  }
  // Stable: equal priorities keep the sources' order and each source's listing order.
  const ordered = candidates
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.priority - b.entry.priority || a.index - b.index);
  const entries: PlannedEntry[] = [];
  const used = new Set<string>();
  let plannedBytes = 0;
  for (const { entry } of ordered) {
    const bytes = entry.end - entry.start;
    if (plannedBytes + bytes > options.budgetBytes) {
      skipped.push({
        sourceId: entry.sourceId,
        origin: entry.origin,
        reason: 'budget',
        detail: `${bytes} bytes do not fit in what is left of the ${options.budgetBytes}-byte budget`,
      });
      continue;
    }
    // Two names that sanitise alike stay apart.
    let zipPath = entry.zipPath;
    for (let n = 2; used.has(zipPath.toLowerCase()); n++) zipPath = `${entry.zipPath}.${n}`;
    used.add(zipPath.toLowerCase());
    entries.push({ ...entry, zipPath });
    plannedBytes += bytes;
  }
  return { entries, skipped, plannedBytes };
}
