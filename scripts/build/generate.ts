/**
 * `npm run generate`: every generated file of the repository, made again from its source.
 *
 *   npm run generate              rewrite manifests/settings.validator.js and jea/generated/
 *   npm run generate -- --check   write nothing; exit 1 naming each stale file
 *
 * The generated files are committed (the package and the tests use them as they are), so a change
 * to a source (settings.schema.json, jea/roles/*.yaml, the generators) must be followed by this.
 * `npm run build` and `npm run package` run the check first and stop on a stale file.
 */
import { existsSync, promises as fs } from 'fs';
import path from 'path';
import { GENERATED_DIR, compareWithFolder, generateJeaFiles } from '../../jea/generate';
import { writeGenerated } from '../../jea/generate-cli';
import { REPO_ROOT } from '../../manifests/extension-identity';
import { generateValidatorSource, validatorFile } from './generate-validator';

/** Where the generated files live; tests point these at a copy. */
export interface GeneratedTargets {
  validatorFile: string;
  jeaDir: string;
}

export const REPOSITORY_TARGETS: GeneratedTargets = { validatorFile, jeaDir: GENERATED_DIR };

/** A path as the user knows it: relative to the repository when inside it. */
function shown(file: string): string {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative.split(path.sep).join('/');
}

/** One line per stale file: `<path>: changed|missing|extra`. Empty when everything is current. */
export async function staleGeneratedFiles(targets: GeneratedTargets = REPOSITORY_TARGETS): Promise<string[]> {
  const stale: string[] = [];
  const expected = await generateValidatorSource();
  if (!existsSync(targets.validatorFile)) stale.push(`${shown(targets.validatorFile)}: missing`);
  else if ((await fs.readFile(targets.validatorFile, 'utf8')) !== expected) stale.push(`${shown(targets.validatorFile)}: changed`);
  for (const problem of compareWithFolder(generateJeaFiles().files, targets.jeaDir)) {
    // compareWithFolder says `<kind>: <relative path>`.
    const [kind, relativePath] = problem.split(': ');
    stale.push(`${shown(path.join(targets.jeaDir, ...relativePath!.split('/')))}: ${kind}`);
  }
  return stale;
}

/** Writes every generated file; returns the paths written. */
export async function writeGeneratedFiles(targets: GeneratedTargets = REPOSITORY_TARGETS): Promise<string[]> {
  await fs.writeFile(targets.validatorFile, await generateValidatorSource());
  const jea = writeGenerated(targets.jeaDir).map((relativePath) => path.join(targets.jeaDir, ...relativePath.split('/')));
  return [targets.validatorFile, ...jea].map(shown);
}

function staleMessage(stale: readonly string[]): string {
  return `generated files are out of date (run npm run generate, then commit them):\n  ${stale.join('\n  ')}`;
}

/** Its message is the whole list of stale files with the fix, meant to be printed as it is. */
export class StaleGeneratedFilesError extends Error {
  constructor(readonly stale: readonly string[]) {
    super(staleMessage(stale));
    this.name = 'StaleGeneratedFilesError';
  }
}

/** Throws StaleGeneratedFilesError; `npm run build` and `npm run package` call it first. */
export async function assertGeneratedFilesCurrent(targets: GeneratedTargets = REPOSITORY_TARGETS): Promise<void> {
  const stale = await staleGeneratedFiles(targets);
  if (stale.length > 0) throw new StaleGeneratedFilesError(stale);
}

export interface GenerateOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The command line; returns the exit code. */
export async function runGenerate(
  argv: string[],
  targets: GeneratedTargets = REPOSITORY_TARGETS,
  output: GenerateOutput = { out: console.log, err: console.error },
): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--check');
  if (unknown.length > 0) {
    output.err(`usage: npm run generate [-- --check] (got ${unknown.join(' ')})`);
    return 2;
  }
  const stale = await staleGeneratedFiles(targets);
  if (argv.includes('--check')) {
    if (stale.length === 0) output.out('generated files are up to date');
    else output.err(staleMessage(stale));
    return stale.length === 0 ? 0 : 1;
  }
  const written = await writeGeneratedFiles(targets);
  if (stale.length === 0) output.out(`generated files were already up to date (${written.length} files)`);
  else output.out(`regenerated (${written.length} files written):\n  ${stale.join('\n  ')}`);
  return 0;
}

if (require.main === module) {
  runGenerate(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // A generator refuses bad sources (an unsafe JEA role, a schema ajv rejects) with its reason.
      console.error(`generate failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
