/**
 * The bundled handler keeps Node's compile cache in the data folder, and only there: runs on an
 * installed node reuse it, a run never creates the data folder for it, a data folder that others
 * may write to is not used, and uninstall leaves nothing of it behind.
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
    const run = (command: string, extraEnv: Record<string, string> = {}) =>
      execa(node, [handler, command], {
        cwd: root,
        reject: false,
        env: { ...simulatorEnvironment(machinePath, { simulator }), ARC_REMOTE_SUPPORT_DATA: data, ConfigSequenceNumber: '0', ...extraEnv },
      });
    return { data, cache: path.join(data, COMPILE_CACHE_FOLDER), run };
  }

  it('is filled by a run on an installed node, and used by the next run', async () => {
    const { data, cache, run } = await node1('installed');
    expect((await run('install')).exitCode).toBe(0);
    // Install made the data folder; the cache was not on yet, since the folder did not exist.
    expect(existsSync(data)).toBe(true);
    expect(existsSync(cache)).toBe(false);

    expect((await run('enable')).exitCode).toBe(0);
    const [version] = await fs.readdir(cache);
    expect(version).toMatch(/^v22\./);
    expect((await fs.readdir(path.join(cache, version!))).length).toBeGreaterThan(0);

    const next = await run('enable', { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toContain(`cache for ${path.join(work, 'bin', HANDLER_MAIN_FILE)} was accepted`);
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
