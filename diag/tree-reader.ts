/**
 * A SourceReader over a node's file tree addressed by Windows paths: the agent's reader on Windows
 * (Node's fs; the agent is SYSTEM on the node) and on the simulated Windows (the machine model's
 * files). Files are read from the tree; event log channels and the logs Windows writes on request
 * are made by the host (host-log-export.ts) and read back from their copy there.
 */
import type { Readable } from 'stream';
import type { LogExporter } from './host-log-export';
import { SourceReadError, type Listing, type SourceEntry, type SourceReader, type TimeWindow } from './reader';
import { KNOWN_ROOTS, namePattern, sourceFolder, type KnownRoot, type Source } from './sources';

export interface TreeItem {
  name: string;
  /** Links (junctions, symbolic links) are never followed. */
  type: 'file' | 'directory' | 'link' | 'other';
  size: number;
  modifiedUtc: string;
}

/** What the reader needs of a node's files. Paths are Windows paths, matched as Windows does. */
export interface NodeFileTree {
  /** The folder's children sorted by name, or null when it does not exist. */
  children(folder: string): Promise<TreeItem[] | null>;
  /** Bytes [start, end) of a file; rejects with SourceReadError. */
  read(path: string, start: number, end: number): Promise<Readable>;
}

export class TreeSourceReader implements SourceReader {
  constructor(
    private readonly tree: NodeFileTree,
    private readonly exporter: LogExporter,
    private readonly roots: Record<KnownRoot, string> = KNOWN_ROOTS,
  ) {}

  async list(source: Source, window: TimeWindow): Promise<Listing> {
    const { spec } = source;
    if (spec.kind === 'eventLog') return this.exporter.eventLog(source, spec, window);
    if (spec.kind === 'generated') return this.exporter.generatedLog(source, spec, window);
    const folder = sourceFolder(spec, this.roots);
    if (!(await this.tree.children(folder))) throw new SourceReadError('missing', `${folder} does not exist`);
    const patterns = spec.include.map(namePattern);
    const listing: Listing = { entries: [], skipped: [] };
    const walk = async (windows: string, relative: string, level: number): Promise<void> => {
      const children = await this.tree.children(windows);
      if (!children) {
        listing.skipped.push({ sourceId: source.id, origin: windows, reason: 'missing', detail: 'folder gone while listing' });
        return;
      }
      for (const child of children) {
        const path = `${windows}\\${child.name}`;
        const name = relative ? `${relative}/${child.name}` : child.name;
        if (child.type === 'link')
          listing.skipped.push({ sourceId: source.id, origin: path, reason: 'denied', detail: 'a link (never followed)' });
        else if (child.type === 'directory' && level < spec.depth) await walk(path, name, level + 1);
        else if (child.type === 'file' && patterns.some((pattern) => pattern.test(child.name)))
          listing.entries.push(this.entry(source.id, path, name, child, spec.text));
      }
    };
    await walk(folder, '', 0);
    return listing;
  }

  open(entry: SourceEntry, range: { start: number; end: number }): Promise<Readable> {
    const path = entry.stagedPath ?? entry.windowsPath;
    if (!path) return Promise.reject(new SourceReadError('missing', `${entry.origin} has no path on this node`));
    return this.tree.read(path, range.start, range.end);
  }

  release(): Promise<void> {
    return this.exporter.release();
  }

  private entry(sourceId: string, path: string, name: string, item: TreeItem, text: boolean): SourceEntry {
    return { sourceId, origin: path, windowsPath: path, name, size: item.size, modifiedUtc: item.modifiedUtc, text };
  }
}
