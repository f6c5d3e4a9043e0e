import { generateValidatorSource, validatorFile } from '../../scripts/build/generate-validator';
import { promises as fs } from 'fs';

describe('settings schema', () => {
  it('ships a generated validator that matches the schema (run npm run generate after editing the schema)', async () => {
    expect(await fs.readFile(validatorFile, 'utf8')).toBe(await generateValidatorSource());
  });
});
