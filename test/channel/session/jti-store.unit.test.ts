/**
 * The replay record: a ticket id is used once, the file-backed record keeps it across restarts (a
 * new store on the same folder), drops expired ids, survives a line cut short, and a full record
 * refuses rather than forgets.
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { FileJtiStore, JTI_FILE_NAME, MemoryJtiStore } from '../../../channel/session/jti-store';

const now = new Date('2030-01-01T00:00:00Z');
const inAnHour = new Date(now.getTime() + 3_600_000);
let folder: string;

beforeEach(async () => {
  folder = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'jti-')), 'Channel', 'tickets');
});

afterEach(() => fs.rm(path.dirname(path.dirname(folder)), { recursive: true, force: true }));

const lines = async () => (await fs.readFile(path.join(folder, JTI_FILE_NAME), 'utf8')).trim().split('\n');

describe('MemoryJtiStore', () => {
  it('accepts an id once, forgets it after its expiry, and refuses new ids when full', async () => {
    const store = new MemoryJtiStore({ maxEntries: 2 });
    expect(await store.use('a', inAnHour, now)).toBe('first-use');
    expect(await store.use('a', inAnHour, now)).toBe('reused');
    expect(await store.use('b', new Date(now.getTime() + 1000), now)).toBe('first-use');
    expect(await store.use('c', inAnHour, now)).toBe('full');
    const later = new Date(now.getTime() + 2000);
    expect(await store.use('c', inAnHour, later)).toBe('first-use');
    expect(await store.use('a', inAnHour, later)).toBe('reused');
    expect(() => new MemoryJtiStore({ maxEntries: 0 })).toThrow(/maxEntries: received 0/);
  });
});

describe('FileJtiStore', () => {
  it('refuses a reused id after a restart (a new store on the same folder)', async () => {
    expect(await new FileJtiStore(folder).use('ticket-1', inAnHour, now)).toBe('first-use');
    const restarted = new FileJtiStore(folder);
    expect(await restarted.use('ticket-1', inAnHour, now)).toBe('reused');
    expect(await restarted.use('ticket-2', inAnHour, now)).toBe('first-use');
    expect(await lines()).toHaveLength(2);
  });

  it('answers one of two simultaneous uses of the same id with reused', async () => {
    const store = new FileJtiStore(folder);
    const answers = await Promise.all([store.use('same', inAnHour, now), store.use('same', inAnHour, now)]);
    expect(answers.sort()).toEqual(['first-use', 'reused']);
  });

  it('drops expired ids from the file when it loads, and skips a line cut short by a crash', async () => {
    const first = new FileJtiStore(folder);
    await first.use('short-lived', new Date(now.getTime() + 1000), now);
    await first.use('long-lived', inAnHour, now);
    await fs.appendFile(path.join(folder, JTI_FILE_NAME), '{"jti":"cut-sh');
    const later = new Date(now.getTime() + 5000);
    const restarted = new FileJtiStore(folder);
    expect(await restarted.use('long-lived', inAnHour, later)).toBe('reused');
    expect((await lines()).map((line) => JSON.parse(line).jti)).toEqual(['long-lived']);
    expect(await restarted.use('short-lived', inAnHour, later)).toBe('first-use');
  });

  it('compacts the file once expired lines outnumber the live ones', async () => {
    const store = new FileJtiStore(folder);
    for (let index = 0; index < 70; index += 1) await store.use(`old-${index}`, new Date(now.getTime() + 1000), now);
    expect(await lines()).toHaveLength(70);
    await store.use('new', inAnHour, new Date(now.getTime() + 2000));
    expect((await lines()).map((line) => JSON.parse(line).jti)).toEqual(['new']);
  });

  it('refuses new ids when full rather than forgetting live ones', async () => {
    const store = new FileJtiStore(folder, { maxEntries: 1 });
    expect(await store.use('a', inAnHour, now)).toBe('first-use');
    expect(await store.use('b', inAnHour, now)).toBe('full');
    expect(await new FileJtiStore(folder, { maxEntries: 1 }).use('a', inAnHour, now)).toBe('reused');
  });

  it('rejects when the record cannot be written, and wants an absolute folder', async () => {
    await fs.mkdir(path.dirname(folder), { recursive: true });
    await fs.writeFile(folder, 'a file where the folder should be');
    await expect(new FileJtiStore(folder).use('a', inAnHour, now)).rejects.toThrow();
    expect(() => new FileJtiStore('relative/folder')).toThrow(/received 'relative\/folder'. Give an absolute path/);
  });
});
