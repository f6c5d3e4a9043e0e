import { promises as fs } from 'fs';
import path from 'path';
import { MAX_STATUS_FILE_BYTES, StatusWriter, truncateUtf8 } from '../../extension/status';
import { makeTempDir } from '../support/cms';

describe('status writer', () => {
  let folder: string;
  let records: string;
  const clock = () => new Date('2026-11-24T20:00:00.123Z');
  beforeEach(async () => {
    folder = await makeTempDir('ars-status');
    records = await makeTempDir('ars-status-records');
  });
  afterEach(async () => {
    await fs.rm(folder, { recursive: true, force: true });
    await fs.rm(records, { recursive: true, force: true });
  });

  const read = async (sequence: number) => JSON.parse(await fs.readFile(path.join(folder, `${sequence}.status`), 'utf8'));

  it('writes the array form with status, code, message and substatus, UTF-8 without BOM', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    await writer.write(3, {
      operation: 'Enable',
      status: 'warning',
      code: 0,
      message: 'node B is down',
      substatus: [{ name: 'node NODE-B', status: 'error', code: 1, message: 'down' }],
    });
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

  it('never turns a finished status of the same sequence number and the same settings back into transitioning', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    expect(await writer.transitioning(1, 'Enable', 'working', 'sha256:aaaa')).toBe(true);
    await writer.write(1, { operation: 'Enable', status: 'success', code: 0, message: 'done' });
    expect(await writer.transitioning(1, 'Enable', 'working again', 'sha256:aaaa')).toBe(false);
    expect((await read(1))[0].status.status).toBe('success');
    // A new sequence number starts over.
    expect(await writer.transitioning(2, 'Enable', 'working', 'sha256:aaaa')).toBe(true);
  });

  it('reports transitioning before applying new content under the same sequence number', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    await writer.transitioning(1, 'Enable', 'working', 'sha256:aaaa');
    await writer.write(1, { operation: 'Enable', status: 'success', code: 0, message: 'Access: Diagnostics.' });
    // The manager rewrote 1.settings: the old success must not stand for the new content.
    expect(await writer.transitioning(1, 'Enable', 'working', 'sha256:bbbb')).toBe(true);
    expect((await read(1))[0].status).toMatchObject({ status: 'transitioning', formattedMessage: { message: 'working' } });
    expect(await writer.answers(1)).toBe('sha256:bbbb');
    // Run again (after a reboot, or after the run was killed) with that content: still not the old success.
    expect(await writer.transitioning(1, 'Enable', 'working', 'sha256:bbbb')).toBe(true);
    await writer.write(1, { operation: 'Enable', status: 'success', code: 0, message: 'Access: none.' });
    expect(await writer.transitioning(1, 'Enable', 'working', 'sha256:bbbb')).toBe(false);
  });

  it('reports transitioning over a finished status whose settings are not known (written before digests were kept)', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    await writer.write(4, { operation: 'Enable', status: 'success', code: 0, message: 'done' });
    expect(await writer.answers(4)).toBeUndefined();
    expect(await writer.transitioning(4, 'Enable', 'working', 'sha256:aaaa')).toBe(true);
    // A record that is unreadable, or names another sequence number, counts as unknown too.
    await writer.write(4, { operation: 'Enable', status: 'success', code: 0, message: 'done' });
    await fs.writeFile(path.join(records, '4.json'), '{"sequenceNumber": 5, "settings": "sha256:aaaa"}');
    expect(await writer.transitioning(4, 'Enable', 'working', 'sha256:aaaa')).toBe(true);
    await fs.writeFile(path.join(records, '4.json'), '{"sequenceNumber": 4, ');
    expect(await writer.transitioning(4, 'Enable', 'working', 'sha256:aaaa')).toBe(true);
  });

  it('leaves a status that already says exactly this alone, whatever its time, and rewrites it when anything else differs', async () => {
    let now = new Date('2026-11-24T20:00:00Z');
    const writer = new StatusWriter(folder, 'Pub.Type', records, () => now);
    const file = path.join(folder, '7.status');
    const report = {
      operation: 'Enable',
      status: 'success' as const,
      code: 0,
      message: 'Access: none.',
      substatus: [{ name: 'Node A', status: 'success' as const, code: 0, message: 'in place' }],
    };
    expect(await writer.write(7, report)).toBe(true);
    const first = await fs.stat(file);

    // The next run (a reboot later) finds nothing to change: the file, and its time, stay.
    now = new Date('2026-11-25T08:00:00Z');
    expect(await writer.write(7, report)).toBe(false);
    expect((await fs.stat(file)).ino).toBe(first.ino);
    expect((await read(7))[0].timestampUTC).toBe('2026-11-24T20:00:00Z');

    // Any difference but the time is written, with the time of this run.
    const changes = [
      { ...report, message: 'Access: Diagnostics.' },
      { ...report, status: 'warning' as const },
      { ...report, code: 1 },
      { ...report, operation: 'Install' },
      { ...report, substatus: [{ ...report.substatus[0]!, message: 'gone' }] },
      { ...report, substatus: [] },
      report,
    ];
    for (const [index, changed] of changes.entries()) {
      now = new Date(Date.UTC(2026, 10, 26, index));
      expect([index, await writer.write(7, changed)]).toEqual([index, true]);
      expect((await read(7))[0]).toMatchObject({ timestampUTC: now.toISOString().replace(/\.\d{3}Z$/, 'Z') });
    }
    expect((await read(7))[0].status.formattedMessage.message).toBe('Access: none.');

    // Another sequence number has its own file; a file that is not a status is written over.
    expect(await writer.write(8, report)).toBe(true);
    await fs.writeFile(file, '[{"version":"1.0"');
    expect(await writer.write(7, report)).toBe(true);
    expect((await read(7))[0].status.status).toBe('success');
    await fs.writeFile(file, JSON.stringify([...(await read(7)), ...(await read(7))]));
    expect(await writer.write(7, report)).toBe(true);
    expect(await read(7)).toHaveLength(1);
  });

  it('escapes control, NUL, separator, bidirectional and lone surrogate characters in every message', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    const hostile = 'by Eve\u202e\u2066txt.exe\u0000\u2028\u0085\ud800 end';
    await writer.write(6, {
      operation: 'Enable',
      status: 'error',
      code: 53,
      message: hostile,
      substatus: [{ name: 'n', status: 'error', code: 1, message: hostile }],
    });
    const text = await fs.readFile(path.join(folder, '6.status'), 'utf8');
    // eslint-disable-next-line no-control-regex -- the very characters a status must not hold raw
    expect(text).not.toMatch(/[\u0000-\u001f\u0085\u2028\u202e\u2066]/);
    const status = (await read(6))[0].status;
    const escaped = 'by Eve\\u202e\\u2066txt.exe\\u0000\\u2028\\u0085\\ud800 end';
    expect(status.formattedMessage.message).toBe(escaped);
    expect(status.substatus[0].formattedMessage.message).toBe(escaped);
  });

  it('cuts messages to 1 KB and keeps the file under 128 KB', async () => {
    const writer = new StatusWriter(folder, 'Pub.Type', records, clock);
    const substatus = Array.from({ length: 400 }, (_, index) => ({
      name: `node ${index}`,
      status: 'success' as const,
      code: 0,
      message: 'é'.repeat(600),
    }));
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
