/**
 * Ticket ids already used on this node, kept in the data folder through the host port (so a
 * replayed ticket is refused across agent restarts and on the simulated node alike). Loaded once;
 * each new id is written before the session may start. A store that cannot write refuses (the
 * session layer then answers "try again later"): fail closed.
 */
import type { JtiStore, JtiUse } from '../../channel/session/jti-store';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';

const MAX_ENTRIES = 10_000;

export class HostJtiStore implements JtiStore {
  private used: Map<string, number> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly host: WindowsHost,
    private readonly path: string,
  ) {}

  use(jti: string, expiresAt: Date, now: Date): Promise<JtiUse> {
    // One at a time: two hellos must not both see an id as new.
    const result = this.queue.then(() => this.useNow(jti, expiresAt, now));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async useNow(jti: string, expiresAt: Date, now: Date): Promise<JtiUse> {
    const used = this.used ?? (this.used = await this.load());
    for (const [id, until] of used) if (until <= now.getTime()) used.delete(id);
    if (used.has(jti)) return 'reused';
    if (used.size >= MAX_ENTRIES) return 'full';
    used.set(jti, expiresAt.getTime());
    const content = `${JSON.stringify(Object.fromEntries(used))}\n`;
    const [written] = await this.host.execute([op('writeFile', { path: this.path, content, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY })], {
      phase: 'channel: record a used ticket',
    });
    if (!written?.ok) {
      used.delete(jti);
      throw new Error(
        `the used-ticket list ${this.path} could not be written: ${written && !written.ok ? written.error.message : 'no result'}`,
      );
    }
    return 'first-use';
  }

  private async load(): Promise<Map<string, number>> {
    const [read] = await this.host.execute([op('readFile', { path: this.path })], { phase: 'channel: read the used tickets' });
    if (!read?.ok)
      throw new Error(`the used-ticket list ${this.path} could not be read: ${read && !read.ok ? read.error.message : 'no result'}`);
    const content = (read.value as { content: string | null }).content;
    if (content === null) return new Map();
    // An unreadable list could forget used ids: refuse tickets until it is repaired (fail closed).
    const value = JSON.parse(content) as Record<string, unknown>;
    return new Map(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
  }
}
