/**
 * `npm run generate [-- --check]` over a copy of the generated files: the check names each stale
 * file (one byte changed, one missing, one extra) and exits 1, writing repairs them, and the
 * repository's own copies are current (else `npm run build` and `npm run package` stop).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { GENERATED_DIR } from '../../jea/generate';
import {
  REPOSITORY_TARGETS,
  StaleGeneratedFilesError,
  assertGeneratedFilesCurrent,
  runGenerate,
  staleGeneratedFiles,
  type GeneratedTargets,
} from '../../scripts/build/generate';
import { validatorFile } from '../../scripts/build/generate-validator';
import { makeTempDir } from '../support/cms';

const PSRC = path.join('RoleCapabilities', 'ArcRemoteSupportDiagnostics.psrc');

let work: string;
let targets: GeneratedTargets;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runGenerate(argv, targets, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Flips one byte in the middle of a file, as a hand edit or a half-merged change would. */
async function changeOneByte(file: string): Promise<void> {
  const bytes = await fs.readFile(file);
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = bytes[middle] === 0x41 ? 0x42 : 0x41;
  await fs.writeFile(file, bytes);
}

beforeEach(async () => {
  work = await makeTempDir('ars-generate');
  targets = { validatorFile: path.join(work, 'settings.validator.js'), jeaDir: path.join(work, 'jea') };
  await fs.copyFile(validatorFile, targets.validatorFile);
  await fs.cp(GENERATED_DIR, targets.jeaDir, { recursive: true });
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

describe('npm run generate', () => {
  it('finds the committed generated files current, so build and package go on', async () => {
    expect(await staleGeneratedFiles(REPOSITORY_TARGETS)).toEqual([]);
    await expect(assertGeneratedFilesCurrent()).resolves.toBeUndefined();
  });

  it('--check passes on an exact copy', async () => {
    expect(await run(['--check'])).toEqual({ code: 0, out: 'generated files are up to date', err: '' });
  });

  it('--check exits 1 naming the validator when one byte of it changed', async () => {
    await changeOneByte(targets.validatorFile);
    const result = await run(['--check']);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `generated files are out of date (run npm run generate, then commit them):\n  ${targets.validatorFile}: changed`,
    );
  });

  it('--check names each stale JEA file: changed, missing and extra', async () => {
    await changeOneByte(path.join(targets.jeaDir, PSRC));
    await fs.rm(path.join(targets.jeaDir, 'ArcRemoteSupportJea.psd1'));
    await fs.writeFile(path.join(targets.jeaDir, 'RoleCapabilities', 'Old.psrc'), '@{}');
    const result = await run(['--check']);
    expect(result.code).toBe(1);
    expect(result.err.split('\n').slice(1).sort()).toEqual(
      [
        `${path.join(targets.jeaDir, 'ArcRemoteSupportJea.psd1')}: missing`,
        `${path.join(targets.jeaDir, PSRC)}: changed`,
        `${path.join(targets.jeaDir, 'RoleCapabilities', 'Old.psrc')}: extra`,
      ]
        .map((line) => `  ${line}`)
        .sort(),
    );
    // --check writes nothing.
    expect(await fs.readdir(targets.jeaDir)).not.toContain('ArcRemoteSupportJea.psd1');
  });

  it('the build refuses stale files with the same list', async () => {
    await changeOneByte(targets.validatorFile);
    const error = await assertGeneratedFilesCurrent(targets).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StaleGeneratedFilesError);
    expect((error as StaleGeneratedFilesError).stale).toEqual([`${targets.validatorFile}: changed`]);
  });

  it('without --check rewrites what is stale, byte for byte as committed', async () => {
    await changeOneByte(targets.validatorFile);
    await changeOneByte(path.join(targets.jeaDir, PSRC));
    await fs.writeFile(path.join(targets.jeaDir, 'RoleCapabilities', 'Old.psrc'), '@{}');
    const result = await run([]);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toContain(`${targets.validatorFile}: changed`);
    expect(await run(['--check'])).toMatchObject({ code: 0 });
    expect(await fs.readFile(targets.validatorFile)).toEqual(await fs.readFile(validatorFile));
    expect(await fs.readFile(path.join(targets.jeaDir, PSRC))).toEqual(await fs.readFile(path.join(GENERATED_DIR, PSRC)));
    expect(await fs.readdir(path.join(targets.jeaDir, 'RoleCapabilities'))).not.toContain('Old.psrc');
  });

  it('refuses an unknown option and writes nothing', async () => {
    await changeOneByte(targets.validatorFile);
    expect(await run(['--chek'])).toEqual({ code: 2, out: '', err: 'usage: npm run generate [-- --check] (got --chek)' });
    expect(await fs.readFile(targets.validatorFile)).not.toEqual(await fs.readFile(validatorFile));
  });
});
