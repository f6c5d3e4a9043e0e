import { promises as fs } from 'fs';

export interface AtomicWriteOptions {
  /**
   * Flush the content to disk before the rename (default true), so that a power cut leaves the
   * old file or the new one. Off only where a lost write is harmless (the simulated machine).
   */
  fsync?: boolean;
}

let written = 0;

/**
 * Replaces `file` with `content` (UTF-8) so that a reader, or a run killed half-way, sees the old
 * content or the new and never a part: the content goes to a new file beside it, which is then
 * renamed over it. The new file takes the folder's inherited rights, as a new file would.
 * (In place of write-file-atomic, which loads worker_threads and signal-exit at every handler
 * start and makes about ten file system calls per write where five do.)
 */
export async function writeFileAtomically(file: string, content: string, options: AtomicWriteOptions = {}): Promise<void> {
  // Unique in this process, and `wx` refuses a name another process happens to hold.
  const temporary = `${file}.${process.pid}.${++written}.tmp`;
  try {
    const handle = await fs.open(temporary, 'wx');
    try {
      await handle.writeFile(content, 'utf8');
      if (options.fsync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
