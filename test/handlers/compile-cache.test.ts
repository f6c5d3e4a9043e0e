/**
 * The bundled handler keeps its code caches in the data folder, and only there: runs on an
 * installed node reuse them, a run never creates the data folder for them, a data folder that
 * others may write to is not used, and uninstall leaves nothing of them behind. The handler's own
 * cache holds what a whole run compiled, and serves only the exact source it was made from.
 */
import execa from 'execa';
import { existsSync, promises as fs } from 'fs';
import path from 'path';
import { COMPILE_CACHE_FOLDER } from '../../handlers/compile-cache';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { bundleHandler, HANDLER_MAIN_FILE } from '../../scripts/build/bundle';
import { shippedNode } from '../../scripts/build/shipped-node';
import { layOutExtensionFolder } from '../../sim/arm/extension-folder';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { makeTempDir } from '../support/cms';

const identity = loadExtensionIdentity();

describe('the compile cache of the bundled handler', () => {
  let work: string;
  let handler: string;
  let node: string;
  let simulator: string;

  beforeAll(async () => {
    work = await makeTempDir('ars-compile-cache');
    handler = path.join(work, 'bin', 'handler.js');
    await bundleHandler({ identity, outFile: handler });
    [node, simulator] = await Promise.all([shippedNode(), simulatorBundle()]);
  }, 120_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  /** A simulated node with its extension folder; `run` runs one handler command as the manager does. */
  async function node1(name: string) {
    const base = path.join(work, name);
    const root = path.join(base, 'ext');
    await layOutExtensionFolder(root, `${identity.publisher}.${identity.type}`);
    await fs.writeFile(path.join(root, 'config', '0.settings'), '');
    const machinePath = path.join(base, 'machine.json');
    await writeMachine(machinePath, createDefaultMachine());
    const data = path.join(base, 'data');
    const options = {
      cwd: root,
      env: { ...simulatorEnvironment(machinePath, { simulator }), ARC_REMOTE_SUPPORT_DATA: data, ConfigSequenceNumber: '0' },
    };
    const run = Object.assign(
      (command: string, extraEnv: Record<string, string> = {}) =>
        execa(node, [handler, command], { ...options, reject: false, env: { ...options.env, ...extraEnv } }),
      { options, root },
    );
    return { data, cache: path.join(data, COMPILE_CACHE_FOLDER), run };
  }

  /** The handler's own cache (handlers/start.ts) in the cache folder, and what identifies one file version. */
  const handlerCache = (cache: string) => path.join(cache, `${path.basename(HANDLER_MAIN_FILE, '.js')}-${identity.version}.v8cache`);
  const version = async (file: string) => {
    const stats = await fs.stat(file);
    return `${stats.ino}:${stats.mtimeMs}`;
  };

  it('is filled by a run on an installed node, and used by the next run', async () => {
    const { data, cache, run } = await node1('installed');
    expect((await run('install')).exitCode).toBe(0);
    // Install made the data folder; the cache was not on yet, since the folder did not exist.
    expect(existsSync(data)).toBe(true);
    expect(existsSync(cache)).toBe(false);

    expect((await run('enable')).exitCode).toBe(0);
    // Node's compile cache (for the modules loaded later) and the handler's own, made from handler-main.js.
    const kept = await fs.readdir(cache);
    expect(kept).toHaveLength(2);
    expect(kept).toEqual(expect.arrayContaining([path.basename(handlerCache(cache)), expect.stringMatching(/^v22\./)]));
    const source = await fs.readFile(path.join(work, 'bin', HANDLER_MAIN_FILE));
    const saved = await fs.readFile(handlerCache(cache));
    expect(saved.readUInt32LE(0)).toBe(source.length);
    expect(saved.subarray(4, 4 + source.length).equals(source)).toBe(true);
    expect(saved.length).toBeGreaterThan(4 + source.length);

    // The simulated Windows (loaded from outside the package) keeps its own in Node's folder.
    const simulatorCache = path.join(
      cache,
      kept.find((name) => name.startsWith('v22'))!,
      'simulator.v8cache',
    );
    expect(existsSync(simulatorCache)).toBe(true);

    // A cache that cannot be used is replaced when the run ends: one left as it is was used.
    const before = [await version(handlerCache(cache)), await version(simulatorCache)];
    const next = await run('enable');
    expect(next.exitCode).toBe(0);
    expect([await version(handlerCache(cache)), await version(simulatorCache)]).toEqual(before);
  }, 60_000);

  it('serves only the source it was made from, and is made again for another source or another V8 configuration', async () => {
    const { cache, run } = await node1('changed');
    const main = path.join(work, 'changed-bin', HANDLER_MAIN_FILE);
    await fs.cp(path.join(work, 'bin'), path.dirname(main), { recursive: true });
    const runChanged = (extraArgs: string[] = []) =>
      execa(node, [...extraArgs, path.join(path.dirname(main), 'handler.js'), 'enable'], { ...run.options, reject: false });
    expect((await run('install')).exitCode).toBe(0);
    expect((await runChanged()).exitCode).toBe(0);
    expect((await runChanged()).exitCode).toBe(0);
    const statusMessage = async () =>
      JSON.parse(await fs.readFile(path.join(run.root, 'status', '0.status'), 'utf8'))[0].status.formattedMessage.message as string;
    expect(await statusMessage()).toContain('; no grant is in force.');

    // The same length, other text: V8 would take its cache for it; the handler must not.
    const source = await fs.readFile(main, 'utf8');
    expect(source.split('; no grant is in force.')).toHaveLength(2);
    await fs.writeFile(main, source.replace('; no grant is in force.', '; NO GRANT IS IN FORCE.'));
    const before = await version(handlerCache(cache));
    expect((await runChanged()).exitCode).toBe(0);
    expect(await statusMessage()).toContain('; NO GRANT IS IN FORCE.');
    expect(await version(handlerCache(cache))).not.toBe(before);
    const remade = await fs.readFile(handlerCache(cache));
    expect(remade.subarray(4, 4 + Buffer.byteLength(source)).toString('utf8')).toContain('; NO GRANT IS IN FORCE.');

    // Other V8 flags: V8 turns the cache down, and the run replaces it.
    const kept = await version(handlerCache(cache));
    expect((await runChanged(['--max-semi-space-size=8'])).exitCode).toBe(0);
    expect(await version(handlerCache(cache))).not.toBe(kept);
  }, 60_000);

  it('never creates the data folder', async () => {
    const { data, run } = await node1('not-installed');
    const usage = await run('no-such-command');
    expect(usage.exitCode).toBe(1);
    expect(usage.stderr).toContain('usage: handler');
    expect(existsSync(data)).toBe(false);
  });

  it.each([
    ['others', 0o757],
    ['its group', 0o775],
  ])(
    'is not kept in a data folder that %s may write to',
    async (_who, mode) => {
      const { data, cache, run } = await node1(`writable-${mode.toString(8)}`);
      expect((await run('install')).exitCode).toBe(0);
      await fs.chmod(data, mode);
      expect((await run('enable')).exitCode).toBe(0);
      expect(existsSync(cache)).toBe(false);
    },
    60_000,
  );

  it('is removed with the data folder by uninstall, and not written back when the run ends', async () => {
    const { data, cache, run } = await node1('uninstalled');
    expect((await run('install')).exitCode).toBe(0);
    expect((await run('enable')).exitCode).toBe(0);
    expect(existsSync(cache)).toBe(true);
    expect((await run('uninstall')).exitCode).toBe(0);
    expect(existsSync(data)).toBe(false);
  }, 60_000);
});
