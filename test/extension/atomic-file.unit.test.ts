import { promises as fs } from 'fs';
import path from 'path';
import { writeFileAtomically } from '../../extension/atomic-file';
import { makeTempDir } from '../support/cms';

describe('atomic file write', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await makeTempDir('ars-atomic');
  });
  afterEach(() => fs.rm(folder, { recursive: true, force: true }));

  it('replaces the whole file by a rename, leaving nothing else in the folder', async () => {
    const file = path.join(folder, '3.status');
    await writeFileAtomically(file, 'first');
    const before = await fs.stat(file);
    await writeFileAtomically(file, 'second, longer than the first', { fsync: false });
    expect(await fs.readFile(file, 'utf8')).toBe('second, longer than the first');
    // A new file took the old one's place: a reader holding the old one never saw a mix.
    expect((await fs.stat(file)).ino).not.toBe(before.ino);
    expect(await fs.readdir(folder)).toEqual(['3.status']);
  });

  it('keeps the old content and removes its temporary file when the write fails', async () => {
    const target = path.join(folder, 'state.json');
    await fs.mkdir(target);
    await expect(writeFileAtomically(target, '{}')).rejects.toMatchObject({
      code: expect.stringMatching(/^(EISDIR|EEXIST|ENOTEMPTY|EPERM)$/),
    });
    expect(await fs.readdir(folder)).toEqual(['state.json']);
    expect((await fs.stat(target)).isDirectory()).toBe(true);
  });
});
