/**
 * Single use of engineer tickets: every ticket id (`jti`) the node accepted is kept until the
 * ticket's own expiry, so a replayed ticket is refused. An id is forgotten only once its ticket has
 * expired, when the expiry check refuses it anyway. A full store refuses new tickets rather than
 * forgetting live ids (fail closed).
 */
import { promises as fs } from 'fs';
import path from 'path';

/** 'first-use': recorded now; 'reused': seen before; 'full': not recorded, the store is at its bound. */
export type JtiUse = 'first-use' | 'reused' | 'full';

export interface JtiStore {
  /** Records `jti` as used until `expiresAt`, unless it was used before. Rejects when it cannot record. */
  use(jti: string, expiresAt: Date, now: Date): Promise<JtiUse>;
}

/** Live ticket ids a store keeps by default: far above what 2 sessions per grant can consume. */
export const DEFAULT_MAX_JTI_ENTRIES = 10_000;

function checkBound(maxEntries: number): number {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`maxEntries: received ${maxEntries}. Give a whole number of ticket ids, 1 or more.`);
  }
  return maxEntries;
}

function prune(used: Map<string, number>, now: Date): void {
  for (const [jti, expiresAt] of used) if (expiresAt <= now.getTime()) used.delete(jti);
}

/** Ids in memory only: reuse is refused while the process lives. */
export class MemoryJtiStore implements JtiStore {
  private readonly used = new Map<string, number>();
  private readonly maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.maxEntries = checkBound(options.maxEntries ?? DEFAULT_MAX_JTI_ENTRIES);
  }

  get size(): number {
    return this.used.size;
  }

  async use(jti: string, expiresAt: Date, now: Date): Promise<JtiUse> {
    prune(this.used, now);
    if (this.used.has(jti)) return 'reused';
    if (this.used.size >= this.maxEntries) return 'full';
    this.used.set(jti, expiresAt.getTime());
    return 'first-use';
  }
}

/** The file a FileJtiStore keeps in its folder. */
export const JTI_FILE_NAME = 'used-ticket-ids.jsonl';

/**
 * Ids in a JSON-lines file (`{"jti":…,"expiresAt":…}`), so reuse is refused across agent restarts.
 * A new id is on disk (flushed) before `use` resolves. Expired lines are dropped when the file is
 * loaded and whenever they outnumber the live ones. One process owns the folder: calls are
 * serialised in this object, not across processes.
 */
export class FileJtiStore implements JtiStore {
  readonly file: string;
  private readonly maxEntries: number;
  private used: Map<string, number> | undefined;
  private linesOnDisk = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly folder: string,
    options: { maxEntries?: number } = {},
  ) {
    if (!path.isAbsolute(folder)) throw new RangeError(`FileJtiStore folder: received '${folder}'. Give an absolute path.`);
    this.maxEntries = checkBound(options.maxEntries ?? DEFAULT_MAX_JTI_ENTRIES);
    this.file = path.join(folder, JTI_FILE_NAME);
  }

  use(jti: string, expiresAt: Date, now: Date): Promise<JtiUse> {
    const result = this.queue.then(() => this.useNow(jti, expiresAt, now));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async useNow(jti: string, expiresAt: Date, now: Date): Promise<JtiUse> {
    const used = await this.load(now);
    prune(used, now);
    if (used.has(jti)) return 'reused';
    if (used.size >= this.maxEntries) return 'full';
    if (this.linesOnDisk > 2 * used.size + 64) await this.rewrite(used);
    await this.append(`${JSON.stringify({ jti, expiresAt: expiresAt.toISOString() })}\n`);
    used.set(jti, expiresAt.getTime());
    this.linesOnDisk += 1;
    return 'first-use';
  }

  private async load(now: Date): Promise<Map<string, number>> {
    if (this.used) return this.used;
    await fs.mkdir(this.folder, { recursive: true, mode: 0o700 });
    let text = '';
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const used = new Map<string, number>();
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) {
      const entry = readLine(line);
      // A line cut short by a crash belongs to a ticket that never got its session.
      if (entry) used.set(entry.jti, Math.max(entry.expiresAt, used.get(entry.jti) ?? 0));
    }
    this.linesOnDisk = lines.length;
    prune(used, now);
    if (this.linesOnDisk > used.size) await this.rewrite(used);
    this.used = used;
    return used;
  }

  private async append(line: string): Promise<void> {
    const handle = await fs.open(this.file, 'a', 0o600);
    try {
      await handle.writeFile(line, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  /** Replaces the file with the live ids only: a new file renamed over the old one. */
  private async rewrite(used: Map<string, number>): Promise<void> {
    const text = [...used].map(([jti, expiresAt]) => `${JSON.stringify({ jti, expiresAt: new Date(expiresAt).toISOString() })}\n`);
    const next = `${this.file}.next`;
    const handle = await fs.open(next, 'w', 0o600);
    try {
      await handle.writeFile(text.join(''), 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.rename(next, this.file);
    this.linesOnDisk = used.size;
  }
}

function readLine(line: string): { jti: string; expiresAt: number } | undefined {
  try {
    const entry = JSON.parse(line) as { jti?: unknown; expiresAt?: unknown };
    const expiresAt = typeof entry.expiresAt === 'string' ? Date.parse(entry.expiresAt) : NaN;
    if (typeof entry.jti !== 'string' || entry.jti === '' || Number.isNaN(expiresAt)) return undefined;
    return { jti: entry.jti, expiresAt };
  } catch {
    return undefined;
  }
}
