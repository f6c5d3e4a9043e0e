import { promises as fs } from 'fs';
import path from 'path';
import { MAX_STATUS_FILE_BYTES, StatusWriter, truncateUtf8 } from '../../extension/status';
import { makeTempDir } from '../support/cms';

describe('status writer', () => {
  let folder: string;
  const clock = () => new Date('2026-11-24T20:00:00.123Z');
  beforeEach(async () => {
    folder = await makeTempDir('ars-status');
  });
  afterEach(() => fs.rm(folder, { recursive: true, force: true }));

  const read = async (sequence: number) => JSON.parse(await fs.readFile(path.join(folder, `${sequence}.status`), 'utf8'));

  it('writes the array form with status, code, message and substatus, UTF-8 without BOM', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', clock);
    await writer.write(3, { operation: 'Enable', status: 'warning', code: 0, message: 'node B is down', substatus: [{ name: 'node NODE-B', status: 'error', code: 1, message: 'down' }] });
    const bytes = await fs.readFile(path.join(folder, '3.status'));
    expect(bytes[0]).toBe('['.charCodeAt(0));
    expect(await read(3)).toEqual([
      {
        version: '1.0',
        timestampUTC: '2026-11-24T20:00:00Z',
        status: {
          name: 'Pub.Type',
          operation: 'Enable',
          status: 'warning',
          code: 0,
          formattedMessage: { lang: 'en-US', message: 'node B is down' },
          substatus: [{ name: 'node NODE-B', status: 'error', code: 1, formattedMessage: { lang: 'en-US', message: 'down' } }],
        },
      },
    ]);
    expect((await fs.readdir(folder)).filter((name) => name !== '3.status')).toEqual([]);
  });

  it('never turns a finished status of the same sequence number back into transitioning', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', clock);
    expect(await writer.transitioning(1, 'Enable', 'working')).toBe(true);
    await writer.write(1, { operation: 'Enable', status: 'success', code: 0, message: 'done' });
    expect(await writer.transitioning(1, 'Enable', 'working again')).toBe(false);
    expect((await read(1))[0].status.status).toBe('success');
    // A new sequence number starts over.
    expect(await writer.transitioning(2, 'Enable', 'working')).toBe(true);
  });

  it('cuts messages to 1 KB and keeps the file under 128 KB', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', clock);
    const substatus = Array.from({ length: 400 }, (_, index) => ({ name: `node ${index}`, status: 'success' as const, code: 0, message: 'é'.repeat(600) }));
    await writer.write(5, { operation: 'Enable', status: 'success', code: 0, message: 'x'.repeat(5000), substatus });
    const size = (await fs.stat(path.join(folder, '5.status'))).size;
    expect(size).toBeLessThan(MAX_STATUS_FILE_BYTES);
    const status = (await read(5))[0].status;
    expect(Buffer.byteLength(status.formattedMessage.message)).toBeLessThanOrEqual(1024);
    expect(status.formattedMessage.message.endsWith('...')).toBe(true);
    const last = status.substatus[status.substatus.length - 1];
    expect(last.name).toBe('omitted');
    expect(last.formattedMessage.message).toMatch(/^\d+ more substatus entries were omitted/);
  });

  it('never splits a multi-byte character when cutting', () => {
    const cut = truncateUtf8('€'.repeat(500), 1024);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1024);
    expect(cut).toMatch(/^€+\.\.\.$/);
  });
});
