/**
 * The upload's journal: which blocks storage acknowledged, whether a commit was sent and whether
 * it is done, in a local file replaced atomically (new file, fsync, rename). A block counts as
 * sent only once a write that holds it has reached the disk, so a killed agent never skips a block
 * storage lacks. Writes run off the event loop (an fsync takes milliseconds, tens on a busy disk,
 * and a synchronous one would stall the blocks on the wire) and one at a time; acknowledgements
 * arriving while a write is under way go together in the next one.
 */
import { promises as fs } from 'fs';

export interface JournalIdentity {
  blobName: string;
  size: number;
  sha256: string;
  blockSize: number;
}

interface JournalFile extends JournalIdentity {
  schema: 1;
  acked: number[];
  /** A commit was sent: a 409 on a later try means it went through. */
  commitSent: boolean;
  committed: boolean;
}

let temporaries = 0;

/** Replaces `file` with `content`: a reader, or a run killed half-way, sees the old or the new. */
async function replaceFile(file: string, content: string): Promise<void> {
  // Unique in this process, and `wx` refuses a name another process happens to hold.
  const temporary = `${file}.${process.pid}.${++temporaries}.tmp`;
  try {
    const handle = await fs.open(temporary, 'wx');
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

async function readJournalFile(file: string): Promise<JournalFile | null> {
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as JournalFile;
    return parsed && parsed.schema === 1 && Array.isArray(parsed.acked) ? parsed : null;
  } catch {
    // Missing, or cannot be read: started again, every block is re-sent and nothing is lost.
    return null;
  }
}

export class UploadJournal {
  private readonly acked: Set<number>;
  private written: Promise<void> = Promise.resolve();
  /** The write that will take the next changes, while it has not started. */
  private next: Promise<void> | undefined;
  /** The first write that failed: the upload stops, and what it did not record it sends again next run. */
  private writeFailure: Error | undefined;

  private constructor(
    private readonly file: string,
    private readonly state: JournalFile,
  ) {
    this.acked = new Set(state.acked);
  }

  /** The journal of this blob and bundle, or a new one (written before it is returned). */
  static async open(file: string, identity: JournalIdentity): Promise<UploadJournal> {
    const found = await readJournalFile(file);
    const same =
      found &&
      found.blobName === identity.blobName &&
      found.size === identity.size &&
      found.sha256 === identity.sha256 &&
      found.blockSize === identity.blockSize;
    const journal = new UploadJournal(file, same ? found : { schema: 1, ...identity, acked: [], commitSent: false, committed: false });
    // A done upload is left as it is; any other is on disk before its first request.
    if (!journal.committed) await journal.save();
    return journal;
  }

  /** Blocks acknowledged by this run or an earlier one. */
  get ackedCount(): number {
    return this.acked.size;
  }

  get commitSent(): boolean {
    return this.state.commitSent;
  }

  get committed(): boolean {
    return this.state.committed;
  }

  isAcked(index: number): boolean {
    return this.acked.has(index);
  }

  /** Resolves once a write holding this block is on disk; rejects if that write failed. */
  recordAcked(index: number): Promise<void> {
    if (!this.acked.has(index)) {
      this.acked.add(index);
      this.state.acked.push(index);
    }
    return this.save();
  }

  markCommitSent(): Promise<void> {
    this.state.commitSent = true;
    return this.save();
  }

  markCommitted(): Promise<void> {
    this.state.committed = true;
    return this.save();
  }

  /** The first journal write that failed, if any. */
  get failure(): Error | undefined {
    return this.writeFailure;
  }

  /** Waits for the writes asked for so far; their failures are the callers' to report. */
  settled(): Promise<void> {
    return this.written.catch(() => undefined);
  }

  /** Resolves once everything recorded so far is on disk; rejects if any journal write failed. */
  async durable(): Promise<void> {
    await this.settled();
    if (this.writeFailure) throw this.writeFailure;
  }

  /**
   * Writes the state as it is when the write starts: every change made before this call is in it.
   * A failed write is not retried here; it fails its callers, and the run stops.
   */
  private save(): Promise<void> {
    if (this.next) return this.next;
    const next = this.written
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return replaceFile(this.file, JSON.stringify(this.state));
      });
    // Recorded here, so that a caller need not wait on each write (durable() reports it).
    next.catch((error: Error) => (this.writeFailure ??= error));
    this.next = next;
    this.written = next;
    return next;
  }
}
