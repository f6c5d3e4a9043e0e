import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'fs';

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
 * start and makes about ten file system calls per write where five do.) The calls are synchronous:
 * a handler or agent run does one thing at a time, and each awaited call is a round trip through
 * the thread pool (and fs.promises a module to load) at every start.
 */
export async function writeFileAtomically(file: string, content: string, options: AtomicWriteOptions = {}): Promise<void> {
  // Unique in this process, and `wx` refuses a name another process happens to hold.
  const temporary = `${file}.${process.pid}.${++written}.tmp`;
  try {
    const descriptor = openSync(temporary, 'wx');
    try {
      writeFileSync(descriptor, content, 'utf8');
      if (options.fsync !== false) fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, file);
  } catch (error) {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // The write's own error is the one to report.
    }
    throw error;
  }
}
