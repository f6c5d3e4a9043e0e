import { promises as fs } from 'fs';
import path from 'path';
import { readHandlerEnvironment } from '../../extension/handler-environment';
import { resolveSequenceNumber } from '../../extension/sequence-number';
import { makeTempDir } from '../support/cms';

describe('HandlerEnvironment.json', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('ars-henv');
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  const environment = { logFolder: 'C:\\logs', configFolder: 'C:\\config', statusFolder: 'C:\\status', heartbeatFile: 'C:\\hb.json' };

  it('reads the array form with a UTF-8 BOM', async () => {
    await fs.writeFile(
      path.join(root, 'HandlerEnvironment.json'),
      `\ufeff${JSON.stringify([{ version: 1.0, handlerEnvironment: environment }])}`,
    );
    expect(await readHandlerEnvironment(root)).toEqual({ ...environment, eventsFolder: undefined });
  });

  it('waits for a file the manager is still writing', async () => {
    const file = path.join(root, 'HandlerEnvironment.json');
    await fs.writeFile(file, '[{"version": 1.0, "handlerEnv');
    setTimeout(() => void fs.writeFile(file, JSON.stringify({ handlerEnvironment: environment })), 150);
    expect((await readHandlerEnvironment(root, { attempts: 10, delayMs: 50 })).statusFolder).toBe('C:\\status');
  });

  it('names the missing folder when the file is incomplete', async () => {
    await fs.writeFile(
      path.join(root, 'HandlerEnvironment.json'),
      JSON.stringify([{ handlerEnvironment: { logFolder: 'x', configFolder: 'y' } }]),
    );
    await expect(readHandlerEnvironment(root, { attempts: 2, delayMs: 1 })).rejects.toThrow(/no 'statusFolder' folder/);
  });
});

describe('sequence number', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await makeTempDir('ars-seq');
  });
  afterEach(() => fs.rm(folder, { recursive: true, force: true }));

  const touch = async (name: string, secondsAgo: number) => {
    const file = path.join(folder, name);
    await fs.writeFile(file, '');
    const time = new Date(Date.now() - secondsAgo * 1000);
    await fs.utimes(file, time, time);
  };

  it('comes from ConfigSequenceNumber when the manager sets it', async () => {
    await touch('9.settings', 0);
    expect(await resolveSequenceNumber({ ConfigSequenceNumber: '4' }, folder)).toBe(4);
  });

  it('otherwise is the most recently modified settings file, even when its number is lower (a reset)', async () => {
    await touch('7.settings', 60);
    await touch('8.settings', 30);
    await touch('0.settings', 1);
    await touch('12.status', 0);
    expect(await resolveSequenceNumber({}, folder)).toBe(0);
  });

  it('is undefined when there are no settings yet', async () => {
    expect(await resolveSequenceNumber({}, folder)).toBeUndefined();
    expect(await resolveSequenceNumber({ ConfigSequenceNumber: 'abc' }, path.join(folder, 'missing'))).toBeUndefined();
  });
});
