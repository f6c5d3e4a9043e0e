import { promises as fs, readFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { UploadJournal } from '../../diag/upload-journal';

const identity = { blobName: 'node-1/20260310T120000Z-c-1.zip', size: 1000, sha256: 'a'.repeat(64), blockSize: 100 };
let work: string;
let file: string;

beforeEach(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'ars-journal-'));
  file = path.join(work, 'upload.journal.json');
});
afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const onDisk = () => JSON.parse(readFileSync(file, 'utf8')) as { acked: number[]; commitSent: boolean; committed: boolean };

describe('the upload journal', () => {
  it('is on disk before the first block, and a block counts only once a write holding it is on disk', async () => {
    const journal = await UploadJournal.open(file, identity);
    expect(onDisk()).toMatchObject({ acked: [], commitSent: false, committed: false });
    // Acknowledgements close together: each settles only when the file on disk has it.
    const seenAtSettle: boolean[] = [];
    await Promise.all(
      [3, 0, 7, 1].map((index) => journal.recordAcked(index).then(() => seenAtSettle.push(onDisk().acked.includes(index)))),
    );
    expect(seenAtSettle).toEqual([true, true, true, true]);
    // Recorded without waiting: durable() waits for the disk.
    for (const index of [4, 5]) void journal.recordAcked(index);
    await journal.durable();
    expect(onDisk().acked).toEqual([3, 0, 7, 1, 4, 5]);
    // No temporary file is left beside it.
    expect(await fs.readdir(work)).toEqual(['upload.journal.json']);
  });

  it('acknowledgements arriving while a write is under way go in one next write', async () => {
    const journal = await UploadJournal.open(file, identity);
    const renames: string[] = [];
    const realRename = fs.rename.bind(fs);
    const rename = jest.spyOn(fs, 'rename').mockImplementation(async (from, to) => {
      renames.push(String(to));
      return realRename(from, to);
    });
    try {
      // Together: one write.
      await Promise.all([0, 1, 2].map((index) => journal.recordAcked(index)));
      expect(renames).toHaveLength(1);
      // One starts; the four arriving while it is under way share the next.
      const first = journal.recordAcked(3);
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all([first, ...[4, 5, 6, 7].map((index) => journal.recordAcked(index))]);
      expect(renames).toHaveLength(3);
    } finally {
      rename.mockRestore();
    }
    expect(onDisk().acked).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('resumes the same upload, and starts afresh for another bundle or block size', async () => {
    const first = await UploadJournal.open(file, identity);
    await first.recordAcked(2);
    await first.markCommitSent();
    const again = await UploadJournal.open(file, identity);
    expect([again.ackedCount, again.isAcked(2), again.commitSent]).toEqual([1, true, true]);
    const otherBundle = await UploadJournal.open(file, { ...identity, sha256: 'b'.repeat(64) });
    expect([otherBundle.ackedCount, otherBundle.commitSent]).toEqual([0, false]);
    expect(onDisk()).toMatchObject({ acked: [], sha256: 'b'.repeat(64) });
    const otherBlocks = await UploadJournal.open(file, { ...identity, sha256: 'b'.repeat(64), blockSize: 200 });
    await otherBlocks.markCommitted();
    expect(onDisk()).toMatchObject({ blockSize: 200, committed: true });
  });

  it('a journal that cannot be read starts again (every block is sent again); a write that fails fails the block', async () => {
    await fs.writeFile(file, '{"schema":1,"acked":[0,1');
    const journal = await UploadJournal.open(file, identity);
    expect(journal.ackedCount).toBe(0);
    await fs.rm(work, { recursive: true, force: true });
    await expect(journal.recordAcked(0)).rejects.toMatchObject({ code: 'ENOENT' });
    await fs.mkdir(work);
    // The next write tries again and holds everything acknowledged, but the run still reports the failure.
    await journal.recordAcked(1);
    expect(onDisk().acked).toEqual([0, 1]);
    await expect(journal.durable()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(journal.failure).toMatchObject({ code: 'ENOENT' });
  });
});
