import { promises as fs } from 'fs';
import path from 'path';
import { Logger } from '../../extension/logger';
import { Redactor, REDACTED } from '../../extension/redaction';
import { makeTempDir } from '../support/cms';

describe('logger', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await makeTempDir('ars-log');
  });
  afterEach(() => fs.rm(folder, { recursive: true, force: true }));

  it('hides registered secrets and secret-named fields in messages and details', async () => {
    const redactor = new Redactor();
    redactor.add({ sessionToken: 'hunter2-very-secret', nested: ['another-secret-value'] });
    const logger = new Logger(folder, redactor);
    logger.info('decrypted hunter2-very-secret and another-secret-value', { password: 'p@ss', note: 'uses hunter2-very-secret' });
    const text = await fs.readFile(path.join(folder, 'handler.log'), 'utf8');
    expect(text).not.toMatch(/hunter2|another-secret|p@ss/);
    expect(text).toContain(`decrypted ${REDACTED} and ${REDACTED}`);
    expect(text).toContain(`"password":"${REDACTED}"`);
  });

  it('rotates at the size limit and keeps the configured number of old files', async () => {
    const logger = new Logger(folder, new Redactor(), 'handler', { maxBytes: 1000, keep: 3 });
    for (let index = 0; index < 100; index++) logger.info(`line ${index} ${'x'.repeat(80)}`);
    const names = (await fs.readdir(folder)).sort();
    expect(names).toEqual(['handler.1.log', 'handler.2.log', 'handler.3.log', 'handler.log']);
    for (const name of names) expect((await fs.stat(path.join(folder, name))).size).toBeLessThanOrEqual(1000);
    expect(await fs.readFile(path.join(folder, 'handler.log'), 'utf8')).toContain('line 99 ');
  });
});
