import { promises as fs } from 'fs';
import path from 'path';
import { withLock } from '../../extension/lock';
import { makeTempDir } from '../support/cms';

describe('handler lock', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await makeTempDir('ars-lock');
  });
  afterEach(() => fs.rm(folder, { recursive: true, force: true }));

  it('never lets two runs overlap', async () => {
    const lockPath = path.join(folder, 'data.lock');
    const events: string[] = [];
    const run = (name: string) =>
      withLock(lockPath, async () => {
        events.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve, 300));
        events.push(`${name} end`);
      });
    await Promise.all([run('a'), run('b')]);
    expect([events.slice(0, 2), events.slice(2)].map((pair) => pair[0]!.split(' ')[0] === pair[1]!.split(' ')[0])).toEqual([true, true]);
  });

  it('gives up with a clear message when another run holds the lock too long', async () => {
    const lockPath = path.join(folder, 'data.lock');
    let release!: () => void;
    const holder = withLock(lockPath, () => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(withLock(lockPath, async () => undefined, { waitMs: 1000 })).rejects.toThrow(
      /Another run of this extension's handler still holds/,
    );
    release();
    await holder;
  });

  it('keeps the lock it holds fresh, so a run longer than the stale time is not taken over', async () => {
    const lockPath = path.join(folder, 'data.lock');
    let release!: () => void;
    const holder = withLock(lockPath, () => new Promise<void>((resolve) => (release = resolve)), { staleMs: 400 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(withLock(lockPath, async () => 'ran', { waitMs: 600, staleMs: 400 })).rejects.toThrow(
      /Another run of this extension's handler still holds/,
    );
    release();
    await holder;
    await expect(fs.stat(`${lockPath}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock left by a killed run', async () => {
    const lockPath = path.join(folder, 'data.lock');
    await fs.mkdir(`${lockPath}.lock`);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(`${lockPath}.lock`, old, old);
    await expect(withLock(lockPath, async () => 'ran', { waitMs: 2000, staleMs: 5000 })).resolves.toBe('ran');
  });
});
