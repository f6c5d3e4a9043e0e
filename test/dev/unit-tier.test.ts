/**
 * The unit tier's config (jest.unit.config.js) run on probe test files: only *.unit.test.ts files
 * are picked, and one that starts a process or listens on a port fails, named with the fix, so a
 * slow test cannot hide in `npm run test:unit`.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { makeTempDir } from '../support/cms';

const REPO = path.resolve(__dirname, '..', '..');
const JEST = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');

const PROBES: Record<string, string> = {
  'pure.unit.test.ts': "it('adds', () => { expect(1 + 1).toBe(2); });\n",
  'spawns.unit.test.ts':
    "import { spawnSync } from 'child_process';\nit('runs a tool', () => { expect(spawnSync('true').status).toBe(0); });\n",
  'listens.unit.test.ts':
    "import http from 'http';\nit('serves', async () => { const server = http.createServer(); await new Promise<void>((resolve) => server.listen(0, resolve)); server.close(); });\n",
  'slow-tier.test.ts': "it('is not in the unit tier', () => { expect(true).toBe(true); });\n",
};

let probes: string;

beforeAll(async () => {
  probes = await makeTempDir('ars-unit-tier');
  for (const [name, source] of Object.entries(PROBES)) await fs.writeFile(path.join(probes, name), source);
});
afterAll(() => fs.rm(probes, { recursive: true, force: true }));

describe('npm run test:unit', () => {
  it('runs only *.unit.test.ts files and fails those that start a process or listen on a port', async () => {
    const run = await execa(process.execPath, [JEST, '--config', 'jest.unit.config.js', '--roots', probes, '--json', '--ci'], {
      cwd: REPO,
      reject: false,
    });
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout) as { testResults: Array<{ name: string; status: string; message: string }> };
    const byFile = Object.fromEntries(report.testResults.map((r) => [path.basename(r.name), r]));
    expect(Object.keys(byFile).sort()).toEqual(['listens.unit.test.ts', 'pure.unit.test.ts', 'spawns.unit.test.ts']);
    expect(byFile['pure.unit.test.ts']!.status).toBe('passed');
    expect(byFile['spawns.unit.test.ts']!.status).toBe('failed');
    expect(byFile['spawns.unit.test.ts']!.message).toContain('spawns.unit.test.ts started a process (spawnSync true)');
    expect(byFile['spawns.unit.test.ts']!.message).toContain('spawns.test.ts so it runs in npm test only');
    expect(byFile['listens.unit.test.ts']!.status).toBe('failed');
    expect(byFile['listens.unit.test.ts']!.message).toContain('listens.unit.test.ts listened on a port');
    // The time against the budget is printed at the end of every run.
    expect(run.stderr).toMatch(/unit tier: 3 files, 3 tests in \d+\.\d s \((within|OVER) the 60 s budget/);
  }, 120000);
});
