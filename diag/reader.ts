/**
 * How a collection reads the node: the agent supplies a reader (tree-reader.ts: files, and event
 * logs and the cluster and Windows Update logs the host makes on request); LocalFolderReader serves
 * a folder that stands for drive C: (the tests).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { Readable } from 'stream';
import { KNOWN_ROOTS, namePattern, sourceFolder, type KnownRoot, type Source } from './sources';

export interface TimeWindow {
  /** ISO 8601 UTC. */
  from: string;
  to: string;
}

/** One thing to take from a source: a file, an exported channel, a generated log. */
export interface SourceEntry {
  sourceId: string;
  /** Where it is on the node: a Windows path, or the channel / producer. */
  origin: string;
  /** The Windows path the deny-list judges (everything read from the file system has one). */
  windowsPath?: string;
  /** Its path below the source (`/` between folders), for its name in the bundle. */
  name: string;
  size: number;
  modifiedUtc?: string;
  text: boolean;
  /** The event query the host applied (the window), recorded in the manifest. */
  query?: string;
  /** The node path of the copy the host made for this collection (an exported channel), read in its place. */
  stagedPath?: string;
}

export const SKIP_REASONS = ['missing', 'locked', 'unreadable', 'over-cap', 'denied', 'budget', 'deadline', 'outside-window'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface Skipped {
  sourceId: string;
  origin: string;
  reason: SkipReason;
  detail: string;
}

export interface Listing {
  entries: SourceEntry[];
  /** What the listing itself passed over (a link, a file it could not stat). */
  skipped: Skipped[];
}

/** A source or entry that cannot be read; `reason` says why in the manifest's words. */
export class SourceReadError extends Error {
  override readonly name = 'SourceReadError';
  constructor(
    readonly reason: 'missing' | 'locked' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

export interface SourceReader {
  /** What the source holds now. A source that does not exist rejects with SourceReadError('missing'). */
  list(source: Source, window: TimeWindow): Promise<Listing>;
  /** The entry's bytes from `start` to `end` (exclusive), as listed; rejects with SourceReadError. */
  open(entry: SourceEntry, range: { start: number; end: number }): Promise<Readable>;
  /** Deletes what listing made on the node (exported channels); called once the bundle is written or failed. */
  release?(): Promise<void>;
}

/** The XPath query that selects a channel's events inside the window (wevtutil epl /q:). */
export function eventLogQuery(window: TimeWindow): string {
  return `*[System[TimeCreated[@SystemTime>='${window.from}' and @SystemTime<='${window.to}']]]`;
}

/** eventLogQuery's shape and nothing else (the hosts refuse any other query): UTC times only. */
export const EVENT_LOG_QUERY_PATTERN =
  /^\*\[System\[TimeCreated\[@SystemTime>='(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z)' and @SystemTime<='(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,7})?Z)'\]\]\]$/;

/** The window an eventLogQuery selects, or null for any other text. */
export function windowOfEventLogQuery(query: string): TimeWindow | null {
  const match = EVENT_LOG_QUERY_PATTERN.exec(query);
  return match ? { from: match[1]!, to: match[2]! } : null;
}

/** The file Windows keeps a channel in (`/` in a channel name is `%4` in its file name). */
export function channelFileName(channel: string): string {
  return `${channel.replace(/\//g, '%4')}.evtx`;
}

/** Where LocalFolderReader finds generated logs: where Windows' own commands put them. */
export const GENERATED_LOG_PATHS = {
  clusterLog: 'C:\\Windows\\Cluster\\Reports\\Cluster.log',
  windowsUpdateLog: 'C:\\Windows\\Logs\\WindowsUpdate\\WindowsUpdate.log',
} as const;

const EVENT_LOG_FOLDER = 'C:\\Windows\\System32\\winevt\\Logs';

/**
 * Why a read failed, in the manifest's words. A SourceReadError is known by its name, not class
 * identity: the simulated Windows' reader is a bundle of its own, with its own copy of the class.
 */
export function errorReason(error: unknown): 'missing' | 'locked' | 'unreadable' {
  const own = error as Partial<SourceReadError> | undefined;
  if (
    error instanceof Error &&
    own?.name === 'SourceReadError' &&
    (own.reason === 'missing' || own.reason === 'locked' || own.reason === 'unreadable')
  )
    return own.reason;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
  if (code === 'EBUSY' || code === 'EPERM' || code === 'EACCES') return 'locked';
  return 'unreadable';
}

/**
 * Reads a folder standing for drive C: (`C:\ProgramData\x` is `<folder>/C/ProgramData/x`), looking
 * names up case-insensitively as Windows does. Links are never followed (on Windows a junction
 * could lead anywhere): they are listed as denied.
 */
export class LocalFolderReader implements SourceReader {
  constructor(
    private readonly folder: string,
    private readonly roots: Record<KnownRoot, string> = KNOWN_ROOTS,
  ) {}

  /** The local path of a Windows path, each segment matched case-insensitively; null if missing. */
  async localPath(windowsPath: string): Promise<{ local: string; windows: string } | null> {
    const [drive, ...segments] = windowsPath.split('\\').filter((segment) => segment !== '');
    let local = path.join(this.folder, drive!.replace(':', '').toUpperCase());
    let windows = drive!.toUpperCase();
    for (const segment of segments) {
      let names: string[];
      try {
        names = await fs.readdir(local);
      } catch {
        return null;
      }
      const found = names.find((name) => name === segment) ?? names.find((name) => name.toLowerCase() === segment.toLowerCase());
      if (found === undefined) return null;
      local = path.join(local, found);
      windows = `${windows}\\${found}`;
    }
    return { local, windows };
  }

  async list(source: Source, window: TimeWindow): Promise<Listing> {
    const { spec } = source;
    if (spec.kind === 'files') return this.listFiles(source.id, sourceFolder(spec, this.roots), spec.include, spec.depth, spec.text);
    const windowsPath =
      spec.kind === 'eventLog' ? `${EVENT_LOG_FOLDER}\\${channelFileName(spec.channel)}` : GENERATED_LOG_PATHS[spec.producer];
    const origin = spec.kind === 'eventLog' ? spec.channel : spec.producer;
    const found = await this.localPath(windowsPath);
    if (!found) throw new SourceReadError('missing', `${origin} is not on this node`);
    const stat = await fs.lstat(found.local);
    if (!stat.isFile()) return { entries: [], skipped: [{ sourceId: source.id, origin, reason: 'denied', detail: 'not a regular file' }] };
    const entry: SourceEntry = {
      sourceId: source.id,
      origin,
      windowsPath: found.windows,
      name: path.basename(found.local),
      size: stat.size,
      modifiedUtc: stat.mtime.toISOString(),
      text: spec.kind === 'generated',
    };
    if (spec.kind === 'eventLog') entry.query = eventLogQuery(window);
    return { entries: [entry], skipped: [] };
  }

  private async listFiles(sourceId: string, folder: string, include: readonly string[], depth: number, text: boolean): Promise<Listing> {
    const found = await this.localPath(folder);
    if (!found) throw new SourceReadError('missing', `${folder} does not exist`);
    const patterns = include.map(namePattern);
    const listing: Listing = { entries: [], skipped: [] };
    const walk = async (local: string, windows: string, relative: string, level: number): Promise<void> => {
      let children;
      try {
        children = await fs.readdir(local, { withFileTypes: true });
      } catch (error) {
        listing.skipped.push({ sourceId, origin: windows, reason: errorReason(error), detail: 'folder not readable' });
        return;
      }
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const child of children) {
        const childWindows = `${windows}\\${child.name}`;
        const childRelative = relative ? `${relative}/${child.name}` : child.name;
        const childLocal = path.join(local, child.name);
        if (child.isSymbolicLink()) {
          listing.skipped.push({ sourceId, origin: childWindows, reason: 'denied', detail: 'a link (never followed)' });
        } else if (child.isDirectory()) {
          if (level < depth) await walk(childLocal, childWindows, childRelative, level + 1);
        } else if (child.isFile() && patterns.some((pattern) => pattern.test(child.name))) {
          try {
            const stat = await fs.lstat(childLocal);
            listing.entries.push({
              sourceId,
              origin: childWindows,
              windowsPath: childWindows,
              name: childRelative,
              size: stat.size,
              modifiedUtc: stat.mtime.toISOString(),
              text,
            });
          } catch (error) {
            listing.skipped.push({ sourceId, origin: childWindows, reason: errorReason(error), detail: 'cannot read its size' });
          }
        }
      }
    };
    await walk(found.local, found.windows, '', 0);
    return listing;
  }

  async open(entry: SourceEntry, range: { start: number; end: number }): Promise<Readable> {
    const found = entry.windowsPath ? await this.localPath(entry.windowsPath) : null;
    if (!found) throw new SourceReadError('missing', `${entry.origin} is gone`);
    let handle;
    try {
      handle = await fs.open(found.local, 'r');
    } catch (error) {
      throw new SourceReadError(errorReason(error), `${entry.origin}: ${(error as Error).message}`);
    }
    if (range.end <= range.start) {
      await handle.close();
      return Readable.from([]);
    }
    // Up to the size listed: a log that grows meanwhile gives the entry it was planned as.
    return handle.createReadStream({ start: range.start, end: range.end - 1, autoClose: true });
  }
}
