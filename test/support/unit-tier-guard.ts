/**
 * Keeps `npm run test:unit` fast and honest: a *.unit.test.ts file runs in this process only. It
 * may not start a process (pwsh, waagent, openssl, xmllint, esbuild, node), listen on a port or
 * open a connection; the first attempt fails its test, naming the file and what it tried. Such a
 * test belongs in the full suite (`npm test`): name it *.test.ts.
 *
 * Loaded by jest.unit.config.js (setupFilesAfterEnv) only; the patches are undone after each file.
 */
import childProcess from 'child_process';
import net from 'net';
import path from 'path';

type Patchable = Record<string, unknown>;

const CHILD_PROCESS_FUNCTIONS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'];

function refuse(what: string): never {
  const testPath = expect.getState().testPath ?? 'this test file';
  const file = path.relative(process.cwd(), testPath);
  const full = file.replace(/\.unit\.test\.ts$/, '.test.ts');
  throw new Error(
    `${file} ${what}: the unit tier (npm run test:unit) runs no processes, servers or network. ` +
      `Rename it to ${full} so it runs in npm test only, or keep that part out of it.`,
  );
}

function describeCommand(args: unknown[]): string {
  const [command, rest] = args;
  const argv = Array.isArray(rest) ? rest.map(String) : [];
  return [String(command), ...argv].join(' ').slice(0, 120);
}

const restore: Array<() => void> = [];

function replace(target: Patchable, name: string, replacement: (...args: unknown[]) => never): void {
  const original = target[name];
  target[name] = replacement;
  restore.push(() => {
    target[name] = original;
  });
}

for (const name of CHILD_PROCESS_FUNCTIONS) {
  replace(childProcess as unknown as Patchable, name, (...args) => refuse(`started a process (${name} ${describeCommand(args)})`));
}
replace(net.Server.prototype as unknown as Patchable, 'listen', () => refuse('listened on a port'));
replace(net.Socket.prototype as unknown as Patchable, 'connect', (...args) => refuse(`opened a connection (${JSON.stringify(args[0])})`));

afterAll(() => {
  for (const undo of restore.splice(0).reverse()) undo();
});
