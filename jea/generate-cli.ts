/**
 * Writes the JEA module files into jea/generated/ (the package step ships that folder as jea/).
 *
 *   npx tsx jea/generate-cli.ts           regenerate (stale files are removed)
 *   npx tsx jea/generate-cli.ts --check   exit 1 if jea/generated/ differs from the role data
 */
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { GENERATED_DIR, compareWithFolder, generateJeaFiles, listFiles } from './generate';

export function writeGenerated(dir: string = GENERATED_DIR): string[] {
  const { files } = generateJeaFiles();
  const expected = new Set(files.map((f) => f.relativePath));
  for (const stale of listFiles(dir).filter((f) => !expected.has(f))) rmSync(path.join(dir, ...stale.split('/')));
  for (const file of files) {
    const target = path.join(dir, ...file.relativePath.split('/'));
    mkdirSync(path.dirname(target), { recursive: true });
    // ASCII is guaranteed by the writer, so these are the exact bytes the node gets.
    writeFileSync(target, Buffer.from(file.content, 'ascii'));
  }
  return files.map((f) => f.relativePath);
}

function main(argv: string[]): number {
  if (argv.includes('--check')) {
    const problems = compareWithFolder(generateJeaFiles().files, GENERATED_DIR);
    if (problems.length === 0) {
      console.log('jea/generated is up to date.');
      return 0;
    }
    console.error(`jea/generated is out of date (run npx tsx jea/generate-cli.ts):\n  ${problems.join('\n  ')}`);
    return 1;
  }
  for (const written of writeGenerated()) console.log(`wrote jea/generated/${written}`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 1;
  }
}
